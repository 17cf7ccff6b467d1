package dev.workgate.admin;

import dev.workgate.WorkgateClient;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderStore;
import java.io.PrintWriter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code resubmit}: {@code Workgate.resubmit} through a {@link WorkgateClient} over the store.
 *
 * <p>The CLI has no {@code Workgate} (one cannot be built without handlers), so it resubmits as a
 * producer-only service does: the old spec without its idempotency key, with {@code
 * resubmittedFrom}, as a new work order. A node's {@code maxQueueDepth} is that node's setting and
 * is not checked here; whether a node serves the type is not checked either: the work order waits
 * until one does. Work that no node in the node table could ever run is refused, as every submit
 * is.
 */
@Command(
    name = "resubmit",
    mixinStandardHelpOptions = true,
    description = {
      "Submits a new work order with the spec of a FAILED or CANCELLED one (without its"
          + " idempotency key), recording where it came from, as Workgate.resubmit does. The old"
          + " one is never revived. Prints the new id.",
      "The work orders its failure cancelled (DEPENDENCY_FAILED), and in turn theirs, are"
          + " resubmitted once each too, waiting for the new one: the chain goes on. They are"
          + " listed on stderr.",
      "The CLI runs no Workgate: it submits through a WorkgateClient. A node's maxQueueDepth is"
          + " not checked, and the new work order waits for a node that serves its type."
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
    try (WorkOrderStore store = admin.openStore(OpenMode.EXISTING);
        WorkgateClient client = WorkgateClient.over(store)) {
      WorkOrderId fresh;
      try {
        fresh = client.resubmit(id);
      } catch (IllegalArgumentException | IllegalStateException notResubmittable) {
        throw new CliException(notResubmittable.getMessage());
      }
      String queue = client.find(fresh).map(WorkOrderView::queue).orElse("?");
      this.spec.commandLine().getOut().println(fresh);
      this.spec
          .commandLine()
          .getErr()
          .println("resubmitted " + id + " as " + fresh + " (PENDING in queue " + queue + ")");
      List<WorkOrderView> chain = resubmittedDependents(client, fresh);
      if (!chain.isEmpty()) {
        PrintWriter err = this.spec.commandLine().getErr();
        err.println(
            "and "
                + Formats.plural(chain.size(), "work order")
                + " its failure had cancelled, each resubmitted once and waiting again:");
        for (WorkOrderView v : chain) {
          err.println(
              "  "
                  + v.id()
                  + " (from "
                  + v.resubmittedFrom().map(WorkOrderId::value).orElse("?")
                  + ", "
                  + v.state()
                  + " in queue "
                  + v.queue()
                  + ")");
        }
      }
    }
    return WorkgateAdmin.EXIT_OK;
  }

  /**
   * The resubmissions of the dependents that the resubmit went on with: the work orders that wait
   * for the new one (and, in turn, for those) and were themselves resubmitted from another.
   */
  private static List<WorkOrderView> resubmittedDependents(
      WorkgateClient client, WorkOrderId fresh) {
    List<WorkOrderView> found = new ArrayList<>();
    Set<WorkOrderId> seen = new HashSet<>();
    ArrayDeque<WorkOrderId> todo = new ArrayDeque<>(List.of(fresh));
    while (!todo.isEmpty()) {
      for (WorkOrderId d : client.dependents(todo.poll())) {
        Optional<WorkOrderView> v = client.find(d);
        if (seen.add(d) && v.isPresent() && v.get().resubmittedFrom().isPresent()) {
          found.add(v.get());
          todo.add(d);
        }
      }
    }
    return found;
  }
}
