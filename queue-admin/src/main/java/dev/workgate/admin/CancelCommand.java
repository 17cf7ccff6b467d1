package dev.workgate.admin;

import dev.workgate.WorkgateClient;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderStore;
import java.io.PrintWriter;
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
 * cancels through a {@link WorkgateClient} over the store, whose cancel {@code Workgate.cancel}
 * uses too ({@link WorkgateClient#requestCancel}): {@code Cancelled} for a waiting work order,
 * {@code CancellationRequested} for one that runs (its owner node stops it), nothing for an ended
 * one, read again if the work order changed meanwhile.
 */
@Command(
    name = "cancel",
    mixinStandardHelpOptions = true,
    description = {
      "Cancels a work order through the state machine, as Workgate.cancel does: a PENDING,"
          + " WAITING_RETRY or BLOCKED one is cancelled at once; for a PREPARING or RUNNING one a"
          + " cancellation request is recorded, and the node that owns it stops the work and"
          + " records Cancelled (at once if it watches, at the latest at its next lease renewal);"
          + " an ended one is left alone.",
      "The CLI runs no Workgate (it has no handlers): it appends the events Workgate.cancel"
          + " appends, under the version it read, and reads again if the work order changed."
    })
final class CancelCommand implements Callable<Integer> {
  /** As the HTTP endpoint's cancel route: a reason is for a person, not a document. */
  static final int MAX_REASON_CHARS = 500;

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
    WorkgateClient.CancelOutcome outcome;
    try (WorkOrderStore store = admin.openStore(OpenMode.EXISTING);
        WorkgateClient client = WorkgateClient.over(store)) {
      outcome = client.requestCancel(id, reason);
    }
    WorkOrderView view = outcome.view();
    String owner = view.leaseOwner().map(o -> "node " + o).orElse("its owner node");
    out.println(
        switch (outcome.result()) {
          case ALREADY_ENDED ->
              id + " had already ended (" + view.state() + "); nothing was changed";
          case CANCELLED -> id + " cancelled (it was " + view.state() + ")";
          case ALREADY_REQUESTED ->
              id
                  + " is "
                  + view.state()
                  + " and its cancellation was already requested ("
                  + view.cancellationRequested().orElse("")
                  + "); "
                  + owner
                  + " stops it and records Cancelled";
          case CANCELLATION_REQUESTED ->
              "cancellation requested: "
                  + id
                  + " is "
                  + view.state()
                  + "; "
                  + owner
                  + " stops it and records Cancelled, at the latest at its next lease renewal";
        });
    return WorkgateAdmin.EXIT_OK;
  }
}
