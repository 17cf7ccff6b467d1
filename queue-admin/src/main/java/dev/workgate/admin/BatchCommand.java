package dev.workgate.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.BatchStatus;
import dev.workgate.core.BatchId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderStore;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code batch}: where a batch stands, as {@code WorkgateClient.batch} tells it. */
@Command(
    name = "batch",
    mixinStandardHelpOptions = true,
    description = {
      "Shows where a batch stands: its work orders by state (a resubmitted one replaced by its"
          + " resubmission), how many were resubmitted, and whether it has ended (every work"
          + " order COMPLETED, FAILED or CANCELLED) and completed.",
      "List its work orders with: workgate-admin list --batch <batch-id>."
    })
final class BatchCommand implements Callable<Integer> {
  @ParentCommand WorkgateAdmin admin;
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "<batch-id>",
      converter = Converters.Batch.class,
      description = "The batch, as submitBatch returned it.")
  BatchId id;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Override
  public Integer call() {
    BatchStatus status;
    try (WorkOrderStore store = admin.openStore(OpenMode.READ_ONLY)) {
      status = BatchStatus.read(store, id);
    }
    if (status.submitted() == 0) {
      throw new CliException("no batch " + id);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectNode root = StatusCommand.JSON.createObjectNode();
      root.put("batch", id.value());
      root.put("workOrders", status.workOrders());
      root.put("resubmitted", status.resubmitted());
      root.put("ended", status.ended());
      root.put("completed", status.completed());
      ObjectNode counts = root.putObject("counts");
      status.counts().forEach((s, n) -> counts.put(s.name(), n));
      out.println(root.toPrettyString());
      return WorkgateAdmin.EXIT_OK;
    }
    out.printf("%-12s %s%n", "batch", id);
    out.printf("%-12s %s%n", "status", summary(status));
    out.printf(
        "%-12s %s%n",
        "work orders",
        status.workOrders()
            + (status.resubmitted() == 0
                ? ""
                : " (and "
                    + status.resubmitted()
                    + " resubmitted, each replaced by its"
                    + " resubmission)"));
    out.println();
    Formats.Table table = new Formats.Table(new boolean[] {false, true}, "STATE", "COUNT");
    for (WorkOrderState s : WorkOrderState.values()) {
      long n = status.counts().get(s);
      if (n > 0) {
        table.add(s.name(), n);
      }
    }
    table.lines().forEach(out::println);
    return WorkgateAdmin.EXIT_OK;
  }

  /**
   * {@code completed: all 5 completed}, {@code ended: 5 of 5 ended, 1 failed}, {@code running…}.
   */
  static String summary(BatchStatus status) {
    long ended =
        status.counts().get(WorkOrderState.COMPLETED)
            + status.counts().get(WorkOrderState.FAILED)
            + status.counts().get(WorkOrderState.CANCELLED);
    if (status.completed()) {
      return "completed: all " + status.workOrders() + " completed";
    }
    List<String> how = new ArrayList<>();
    for (WorkOrderState s :
        List.of(WorkOrderState.COMPLETED, WorkOrderState.FAILED, WorkOrderState.CANCELLED)) {
      long n = status.counts().get(s);
      if (n > 0) {
        how.add(n + " " + s.name().toLowerCase(Locale.ROOT));
      }
    }
    String detail = how.isEmpty() ? "" : " (" + String.join(", ", how) + ")";
    return (status.ended() ? "ended: " : "not ended: ")
        + ended
        + " of "
        + status.workOrders()
        + " ended"
        + detail;
  }
}
