package dev.workgate.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.core.BatchId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderQuery.Page;
import dev.workgate.core.store.WorkOrderStore;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code list}: work orders newest first, one line each, a page at a time. */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = {
      "Lists work orders, the newest submitted first, one line each: id, queue, type, state,"
          + " attempt, last update. At most --limit of them; when more match, the last line"
          + " gives the --cursor that lists the next page.",
      "States: PENDING, PREPARING, RUNNING, WAITING_RETRY, COMPLETED, FAILED, CANCELLED,"
          + " BLOCKED (waiting for their dependencies)."
    })
final class ListCommand implements Callable<Integer> {
  /** Marks cursors of newest-first pages. */
  private static final String CURSOR_PREFIX = "n";

  @ParentCommand WorkgateAdmin admin;
  @Spec CommandSpec spec;

  @Option(
      names = "--state",
      paramLabel = "<state>",
      description = "Only work orders in this state (repeat for several; case-insensitive).")
  List<WorkOrderState> states = new ArrayList<>();

  @Option(names = "--queue", paramLabel = "<queue>", description = "Only this queue.")
  String queue;

  @Option(
      names = "--batch",
      paramLabel = "<batch-id>",
      converter = Converters.Batch.class,
      description = "Only the work orders of this batch (its resubmitted ones included).")
  BatchId batch;

  @Option(
      names = "--limit",
      paramLabel = "<n>",
      defaultValue = "100",
      description = "At most this many (1 to 10000). Default: ${DEFAULT-VALUE}.")
  int limit;

  @Option(
      names = "--cursor",
      paramLabel = "<cursor>",
      description = "Continue after the previous page: the cursor that page printed.")
  String cursor;

  @Option(
      names = "--json",
      description = "Print JSON: workOrders and nextCursor (null at the end).")
  boolean json;

  @Override
  public Integer call() {
    if (limit < 1 || limit > WorkOrderQuery.MAX_LIMIT) {
      throw new ParameterException(
          spec.commandLine(),
          "--limit must be between 1 and " + WorkOrderQuery.MAX_LIMIT + ", got " + limit);
    }
    if (queue != null && queue.isBlank()) {
      throw new ParameterException(spec.commandLine(), "--queue must not be blank");
    }
    WorkOrderQuery.Builder query =
        WorkOrderQuery.builder().limit(limit).order(WorkOrderQuery.Order.NEWEST_FIRST);
    if (cursor != null) {
      query.after(parseCursor(cursor));
    }
    query.states(states.toArray(WorkOrderState[]::new));
    if (queue != null) {
      query.queue(queue);
    }
    if (batch != null) {
      query.batch(batch);
    }
    Page<WorkOrderView> page;
    try (WorkOrderStore store = admin.openStore(OpenMode.READ_ONLY)) {
      page = store.query(query.build());
    }
    PrintWriter out = spec.commandLine().getOut();
    String next =
        page.nextCursor().isPresent() ? formatCursor(page.nextCursor().getAsLong()) : null;
    if (json) {
      ObjectNode root = StatusCommand.JSON.createObjectNode();
      ArrayNode items = root.putArray("workOrders");
      page.items().forEach(v -> items.add(ShowCommand.view(v)));
      root.put("nextCursor", next);
      out.println(root.toPrettyString());
      return WorkgateAdmin.EXIT_OK;
    }
    if (page.items().isEmpty()) {
      out.println(cursor == null ? "no work orders match" : "no more work orders match");
      return WorkgateAdmin.EXIT_OK;
    }
    Formats.Table table =
        new Formats.Table(
            new boolean[] {false, false, false, false, true, false},
            "ID",
            "QUEUE",
            "TYPE",
            "STATE",
            "ATTEMPT",
            "UPDATED");
    for (WorkOrderView v : page.items()) {
      table.add(
          v.id(), v.queue(), v.type(), v.state(), v.attempt(), Formats.instant(v.updatedAt()));
    }
    table.lines().forEach(out::println);
    if (next != null) {
      out.println("more match: add --cursor " + next + " to this command for the next " + limit);
    }
    return WorkgateAdmin.EXIT_OK;
  }

  /**
   * The cursor as printed: opaque to the operator, it is the store's cursor (the submission
   * sequence of the page's last work order) with a prefix that names the order it belongs to.
   */
  static String formatCursor(long storeCursor) {
    return CURSOR_PREFIX + Long.toString(storeCursor, 36);
  }

  private long parseCursor(String text) {
    String t = text.trim();
    if (t.startsWith(CURSOR_PREFIX)) {
      try {
        long c = Long.parseLong(t.substring(CURSOR_PREFIX.length()), 36);
        if (c > 0) {
          return c;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
    }
    throw new ParameterException(
        spec.commandLine(), "--cursor " + text + " is not a cursor that list printed");
  }
}
