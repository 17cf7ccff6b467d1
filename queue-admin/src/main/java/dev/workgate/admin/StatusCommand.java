package dev.workgate.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderStore;
import java.io.PrintWriter;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code status}: work orders counted by queue and state, with totals. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = "Counts work orders by queue and state, with totals per queue and per state.")
final class StatusCommand implements Callable<Integer> {
  static final ObjectMapper JSON = new ObjectMapper();

  @ParentCommand WorkgateAdmin admin;
  @Spec CommandSpec spec;

  @Option(names = "--json", description = "Print JSON instead of a table.")
  boolean json;

  @Override
  public Integer call() {
    QueueCounts counts;
    try (WorkOrderStore store = admin.openStore(OpenMode.READ_ONLY)) {
      counts = store.counts();
    }
    Map<WorkOrderState, Long> totals = new EnumMap<>(WorkOrderState.class);
    for (WorkOrderState s : WorkOrderState.values()) {
      totals.put(s, counts.count(s));
    }
    long total = counts.total();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectNode root = JSON.createObjectNode();
      ObjectNode queues = root.putObject("queues");
      for (String queue : counts.queues()) {
        ObjectNode q = queues.putObject(queue);
        for (WorkOrderState s : WorkOrderState.values()) {
          q.put(s.name(), counts.count(queue, s));
        }
        q.put("total", counts.total(queue));
      }
      ObjectNode t = root.putObject("totals");
      totals.forEach((s, n) -> t.put(s.name(), n));
      root.put("total", total);
      out.println(root.toPrettyString());
      return WorkgateAdmin.EXIT_OK;
    }
    if (counts.isEmpty()) {
      out.println("no work orders");
      return WorkgateAdmin.EXIT_OK;
    }
    WorkOrderState[] states = WorkOrderState.values();
    String[] header = new String[states.length + 2];
    boolean[] numeric = new boolean[header.length];
    header[0] = "QUEUE";
    for (int i = 0; i < states.length; i++) {
      header[i + 1] = states[i].name();
      numeric[i + 1] = true;
    }
    header[header.length - 1] = "TOTAL";
    numeric[header.length - 1] = true;
    Formats.Table table = new Formats.Table(numeric, header);
    for (String queue : counts.queues()) {
      table.add(row(queue, counts.byState(queue)));
    }
    table.add(row("TOTAL", totals));
    table.lines().forEach(out::println);
    return WorkgateAdmin.EXIT_OK;
  }

  private static Object[] row(String name, Map<WorkOrderState, Long> byState) {
    WorkOrderState[] states = WorkOrderState.values();
    Object[] row = new Object[states.length + 2];
    row[0] = name;
    long sum = 0;
    for (int i = 0; i < states.length; i++) {
      long n = byState.getOrDefault(states[i], 0L);
      row[i + 1] = n;
      sum += n;
    }
    row[row.length - 1] = sum;
    return row;
  }
}
