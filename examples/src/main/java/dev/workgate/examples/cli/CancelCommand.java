package dev.workgate.examples.cli;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.ExpectedVersion;
import dev.workgate.core.store.WorkOrderStore;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code cancel}: what {@code Workgate.cancel} does, as store appends.
 *
 * <p>A {@code Workgate} cannot be built without a handler, and the CLI has none, so the command
 * appends the same events under the same expected version: {@code Cancelled} for a waiting work
 * order, {@code CancellationRequested} for one that runs (its owner node stops it), nothing for an
 * ended one. A concurrent change makes the append fail its version check; the command then reads
 * the work order again, ten times at most, as {@code Workgate.cancel} does.
 */
@Command(
    name = "cancel",
    mixinStandardHelpOptions = true,
    description = {
      "Cancels a work order through the state machine, as Workgate.cancel does: a PENDING or"
          + " WAITING_RETRY one is cancelled at once; for a PREPARING or RUNNING one a"
          + " cancellation request is recorded, and the node that owns it stops the work and"
          + " records Cancelled (at once if it watches, at the latest at its next lease renewal);"
          + " an ended one is left alone.",
      "The CLI runs no Workgate (it has no handlers): it appends the events Workgate.cancel"
          + " appends, under the version it read, and reads again if the work order changed."
    })
final class CancelCommand implements Callable<Integer> {
  /** As the HTTP endpoint's cancel route: a reason is for a person, not a document. */
  static final int MAX_REASON_CHARS = 500;

  static final int ATTEMPTS = 10;

  @ParentCommand WorkgateAdmin admin;
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "<id>",
      converter = Converters.Id.class,
      description = "The work order.")
  WorkOrderId id;

  @Option(
      names = "--reason",
      paramLabel = "<reason>",
      defaultValue = "cancelled with workgate-admin",
      description = "Why, for a person (at most 500 characters). Default: ${DEFAULT-VALUE}.")
  String reason;

  @Override
  public Integer call() {
    if (reason.isBlank() || reason.length() > MAX_REASON_CHARS) {
      throw new ParameterException(
          spec.commandLine(),
          "--reason must be 1 to " + MAX_REASON_CHARS + " characters, got " + reason.length());
    }
    PrintWriter out = spec.commandLine().getOut();
    try (WorkOrderStore store = admin.openStore()) {
      for (int i = 0; i < ATTEMPTS; i++) {
        WorkOrderView view =
            store.find(id).orElseThrow(() -> new CliException("no work order " + id));
        if (view.state().isTerminal()) {
          out.println(id + " had already ended (" + view.state() + "); nothing was changed");
          return WorkgateAdmin.EXIT_OK;
        }
        try {
          if (!view.state().isActive()) {
            store.append(
                id,
                ExpectedVersion.exactly(view.version()),
                List.of(new WorkOrderEvent.Cancelled(reason)));
            out.println(id + " cancelled (it was " + view.state() + ")");
            return WorkgateAdmin.EXIT_OK;
          }
          String owner = view.leaseOwner().map(o -> "node " + o).orElse("its owner node");
          if (view.cancellationRequested().isPresent()) {
            out.println(
                id
                    + " is "
                    + view.state()
                    + " and its cancellation was already requested ("
                    + view.cancellationRequested().get()
                    + "); "
                    + owner
                    + " stops it and records Cancelled");
            return WorkgateAdmin.EXIT_OK;
          }
          store.append(
              id,
              ExpectedVersion.exactly(view.version()),
              List.of(new WorkOrderEvent.CancellationRequested(reason)));
          out.println(
              "cancellation requested: "
                  + id
                  + " is "
                  + view.state()
                  + "; "
                  + owner
                  + " stops it and records Cancelled, at the latest at its next lease renewal");
          return WorkgateAdmin.EXIT_OK;
        } catch (ConcurrencyException raced) {
          // It changed between the read and the append: read it again.
        }
      }
    }
    throw new CliException(
        "work order " + id + " kept changing under " + ATTEMPTS + " attempts to cancel it");
  }
}
