package dev.workgate.admin;

import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Page;
import dev.workgate.core.store.WorkOrderQuery;
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

/** {@code list}: work orders in submission order, one line each. */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = {
      "Lists work orders in submission order, one line each: id, queue, type, state, attempt,"
          + " last update.",
      "States: PENDING, PREPARING, RUNNING, WAITING_RETRY, COMPLETED, FAILED, CANCELLED."
    })
final class ListCommand implements Callable<Integer> {
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
      names = "--limit",
      paramLabel = "<n>",
      defaultValue = "100",
      description = "At most this many (1 to 10000). Default: ${DEFAULT-VALUE}.")
  int limit;

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
    WorkOrderQuery.Builder query = WorkOrderQuery.builder().limit(limit);
    query.states(states.toArray(WorkOrderState[]::new));
    if (queue != null) {
      query.queue(queue);
    }
    Page<WorkOrderView> page;
    try (WorkOrderStore store = admin.openStore()) {
      page = store.query(query.build());
    }
    PrintWriter out = spec.commandLine().getOut();
    if (page.items().isEmpty()) {
      out.println("no work orders match");
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
    if (page.hasNext()) {
      PrintWriter err = spec.commandLine().getErr();
      err.println(
          "more than "
              + limit
              + " work orders match; raise --limit (at most "
              + WorkOrderQuery.MAX_LIMIT
              + ") or narrow with --state and --queue");
    }
    return WorkgateAdmin.EXIT_OK;
  }
}
