package dev.workgate.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderStore;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code queues}: every queue with its backlog, its blocked work and whether it is paused. */
@Command(
    name = "queues",
    mixinStandardHelpOptions = true,
    description = {
      "Lists the queues of the store (those with work orders and those paused), one line each:"
          + " its depth (PENDING, WAITING_RETRY and BLOCKED work orders, as maxQueueDepth counts"
          + " it), the BLOCKED ones among them (waiting for their dependencies), the work that"
          + " runs (PREPARING and RUNNING), and for a paused queue since when, by whom and why.",
      "--history adds the latest pauses and resumes, newest first."
    })
final class QueuesCommand implements Callable<Integer> {
  /** The most pauses and resumes --history prints. */
  static final int MAX_HISTORY = 1_000;

  @ParentCommand WorkgateAdmin admin;
  @Spec CommandSpec spec;

  @Option(names = "--json", description = "Print JSON instead of a table.")
  boolean json;

  @Option(
      names = "--history",
      paramLabel = "<n>",
      description = "Also print the latest n pauses and resumes (1 to 1000), newest first.")
  Integer history;

  @Override
  public Integer call() {
    if (history != null && (history < 1 || history > MAX_HISTORY)) {
      throw new ParameterException(
          spec.commandLine(),
          "--history must be between 1 and " + MAX_HISTORY + ", got " + history);
    }
    QueueCounts counts;
    List<QueueAction> paused;
    List<QueueAction> actions = List.of();
    try (WorkOrderStore store = admin.openStore(OpenMode.READ_ONLY)) {
      counts = store.counts();
      paused = store.pausedQueues();
      if (history != null) {
        actions = store.queueActions(null, history);
      }
    }
    Map<String, QueueAction> pauses = new TreeMap<>();
    paused.forEach(p -> pauses.put(p.queue(), p));
    TreeSet<String> queues = new TreeSet<>(counts.queues());
    queues.addAll(pauses.keySet());
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectNode root = StatusCommand.JSON.createObjectNode();
      ArrayNode list = root.putArray("queues");
      for (String queue : queues) {
        ObjectNode q = list.addObject();
        q.put("queue", queue);
        q.put("depth", counts.depth(queue));
        q.put("blocked", counts.count(queue, WorkOrderState.BLOCKED));
        q.put("running", running(counts, queue));
        QueueAction pause = pauses.get(queue);
        if (pause == null) {
          q.putNull("paused");
        } else {
          q.set("paused", action(pause));
        }
      }
      if (history != null) {
        ArrayNode h = root.putArray("history");
        actions.forEach(a -> h.add(action(a).put("queue", a.queue()).put("kind", a.kind().name())));
      }
      out.println(root.toPrettyString());
      return WorkgateAdmin.EXIT_OK;
    }
    if (queues.isEmpty()) {
      out.println("no queues: the store holds no work orders and no queue is paused");
    } else {
      Formats.Table table =
          new Formats.Table(
              new boolean[] {false, true, true, true, false, false, false},
              "QUEUE",
              "DEPTH",
              "BLOCKED",
              "RUNNING",
              "PAUSED SINCE",
              "BY",
              "REASON");
      for (String queue : queues) {
        QueueAction pause = pauses.get(queue);
        table.add(
            queue,
            counts.depth(queue),
            counts.count(queue, WorkOrderState.BLOCKED),
            running(counts, queue),
            pause == null ? "-" : Formats.instant(pause.at()),
            pause == null ? "" : Formats.oneLine(pause.actor()),
            pause == null ? "" : Formats.oneLine(pause.reason()));
      }
      table.lines().forEach(line -> out.println(line.stripTrailing()));
    }
    if (history != null) {
      out.println();
      if (actions.isEmpty()) {
        out.println("no queue was ever paused");
      } else {
        Formats.Table table =
            new Formats.Table(
                new boolean[] {false, false, false, false, false},
                "AT",
                "QUEUE",
                "ACTION",
                "BY",
                "REASON");
        for (QueueAction a : actions) {
          table.add(
              Formats.instant(a.at()),
              a.queue(),
              a.kind().name().toLowerCase(java.util.Locale.ROOT),
              Formats.oneLine(a.actor()),
              Formats.oneLine(a.reason()));
        }
        table.lines().forEach(line -> out.println(line.stripTrailing()));
      }
    }
    return WorkgateAdmin.EXIT_OK;
  }

  private static long running(QueueCounts counts, String queue) {
    return counts.count(queue, WorkOrderState.PREPARING)
        + counts.count(queue, WorkOrderState.RUNNING);
  }

  private static ObjectNode action(QueueAction a) {
    ObjectNode n = StatusCommand.JSON.createObjectNode();
    n.put("at", a.at().toString());
    n.put("by", a.actor());
    n.put("reason", a.reason());
    return n;
  }
}
