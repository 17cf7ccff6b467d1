package dev.workgate.admin;

import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.ExpectedVersion;
import dev.workgate.core.store.OpenMode;
import dev.workgate.core.store.WorkOrderStore;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code resubmit}: what {@code Workgate.resubmit} does, as a store append.
 *
 * <p>The CLI has no {@code Workgate} (one cannot be built without handlers), so it appends the
 * {@code Submitted} event the scheduler appends: the old spec without its idempotency key, with
 * {@code resubmittedFrom}, as a new stream ({@code ExpectedVersion.none()}). A node's {@code
 * maxQueueDepth} is that node's setting and is not checked here; whether a node serves the type is
 * not checked either: the work order waits until one does.
 */
@Command(
    name = "resubmit",
    mixinStandardHelpOptions = true,
    description = {
      "Submits a new work order with the spec of a FAILED or CANCELLED one (without its"
          + " idempotency key), recording where it came from, as Workgate.resubmit does. The old"
          + " one is never revived. Prints the new id.",
      "The CLI runs no Workgate: it appends the Submitted event the scheduler appends. A node's"
          + " maxQueueDepth is not checked, and the new work order waits for a node that serves"
          + " its type."
    })
final class ResubmitCommand implements Callable<Integer> {
  @ParentCommand WorkgateAdmin admin;
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "<id>",
      converter = Converters.Id.class,
      description = "The FAILED or CANCELLED work order.")
  WorkOrderId id;

  @Override
  public Integer call() {
    try (WorkOrderStore store = admin.openStore(OpenMode.EXISTING)) {
      WorkOrderView old = store.find(id).orElseThrow(() -> new CliException("no work order " + id));
      if (old.state() != WorkOrderState.FAILED && old.state() != WorkOrderState.CANCELLED) {
        throw new CliException(
            "only a FAILED or CANCELLED work order can be resubmitted; "
                + id
                + " is "
                + old.state());
      }
      WorkOrderSpec spec = old.spec().toBuilder().idempotencyKey(null).build();
      WorkOrderId fresh = WorkOrderId.random();
      store.append(fresh, ExpectedVersion.none(), List.of(new WorkOrderEvent.Submitted(spec, id)));
      this.spec.commandLine().getOut().println(fresh);
      this.spec
          .commandLine()
          .getErr()
          .println(
              "resubmitted " + id + " as " + fresh + " (PENDING in queue " + spec.queue() + ")");
    }
    return WorkgateAdmin.EXIT_OK;
  }
}
