package dev.workgate.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadCommandsTest {
  @TempDir Path dir;
  Path db;
  WorkOrderId pending;
  WorkOrderId running;
  WorkOrderId completed;
  WorkOrderId failed;
  WorkOrderId cancelled;
  WorkOrderId bulk;

  @BeforeEach
  void prepare() {
    db = dir.resolve("workgate.db");
    Instant lease = Instant.now().plus(1, ChronoUnit.HOURS);
    try (WorkOrderStore store = Stores.sqlite(db)) {
      pending = Fixtures.pending(store, "builds", "compile");
      running = Fixtures.running(store, "builds", lease);
      completed = Fixtures.completed(store, "builds", lease);
      failed = Fixtures.failed(store, "agents", lease);
      cancelled = Fixtures.cancelled(store, "agents");
      bulk = Fixtures.pending(store, "bulk", "index");
    }
  }

  private CliRun cli(String... args) {
    String[] all = Arrays.copyOf(new String[] {"--store", db.toString()}, 2 + args.length);
    System.arraycopy(args, 0, all, 2, args.length);
    return CliRun.run(all);
  }

  @Test
  void status_counts_work_orders_by_queue_and_state_with_totals() {
    CliRun r = cli("status");
    assertThat(r.exit()).isZero();
    assertThat(r.err()).isEmpty();
    List<String> lines = r.out().lines().toList();
    assertThat(lines.get(0).split("\\s+"))
        .containsExactly(
            "QUEUE",
            "PENDING",
            "PREPARING",
            "RUNNING",
            "COMPLETED",
            "FAILED",
            "WAITING_RETRY",
            "CANCELLED",
            "BLOCKED",
            "TOTAL");
    assertThat(lines.get(1).split("\\s+"))
        .containsExactly("agents", "0", "0", "0", "0", "1", "0", "1", "0", "2");
    assertThat(lines.get(2).split("\\s+"))
        .containsExactly("builds", "1", "0", "1", "1", "0", "0", "0", "0", "3");
    assertThat(lines.get(3).split("\\s+"))
        .containsExactly("bulk", "1", "0", "0", "0", "0", "0", "0", "0", "1");
    assertThat(lines.get(4).split("\\s+"))
        .containsExactly("TOTAL", "2", "0", "1", "1", "1", "0", "1", "0", "6");
    assertThat(lines).hasSize(5);
  }

  @Test
  void status_json_has_every_state_per_queue_and_the_totals() throws Exception {
    CliRun r = cli("status", "--json");
    assertThat(r.exit()).isZero();
    JsonNode json = StatusCommand.JSON.readTree(r.out());
    assertThat(json.path("queues").path("builds").path("RUNNING").asLong()).isEqualTo(1);
    assertThat(json.path("queues").path("builds").path("total").asLong()).isEqualTo(3);
    assertThat(json.path("queues").path("agents").path("WAITING_RETRY").asLong()).isZero();
    assertThat(json.path("totals").path("PENDING").asLong()).isEqualTo(2);
    assertThat(json.path("total").asLong()).isEqualTo(6);
  }

  @Test
  void status_of_an_empty_store_says_so() {
    Path empty = dir.resolve("empty.db");
    Stores.sqlite(empty).close();
    CliRun r = CliRun.run("status", "--store", empty.toString());
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo("no work orders" + System.lineSeparator());
  }

  @Test
  void store_option_is_accepted_after_the_command_too() {
    CliRun r = CliRun.run("status", "--store", db.toString(), "--json");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("\"total\" : 6");
  }

  @Test
  void a_missing_sqlite_file_is_an_error_and_is_not_created() {
    Path missing = dir.resolve("nope").resolve("workgate.db");
    CliRun r = CliRun.run("--store", missing.toString(), "status");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err())
        .startsWith("workgate-admin: no SQLite store at " + missing.toAbsolutePath())
        .doesNotContain("Exception")
        .hasLineCount(1);
    assertThat(missing.getParent()).doesNotExist();
  }

  @Test
  void a_directory_is_not_a_store() {
    CliRun r = CliRun.run("--store", dir.toString(), "status");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("is not a file");
  }

  @Test
  void a_file_that_is_not_a_database_is_one_line_of_error_and_verbose_adds_the_trace()
      throws Exception {
    Path junk = dir.resolve("junk.db");
    Files.writeString(junk, "this is not a database, not even close, but long enough".repeat(20));
    CliRun r = CliRun.run("--store", junk.toString(), "status");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).startsWith("workgate-admin: ").hasLineCount(1);
    CliRun verbose = CliRun.run("--store", junk.toString(), "--verbose", "status");
    assertThat(verbose.exit()).isEqualTo(1);
    assertThat(verbose.err()).contains("\tat ").contains("workgate-admin: ");
  }

  @Test
  void other_jdbc_urls_and_schema_with_sqlite_are_refused() {
    CliRun mysql = CliRun.run("--store", "jdbc:mysql://localhost/x", "status");
    assertThat(mysql.exit()).isEqualTo(1);
    assertThat(mysql.err()).contains("unsupported store URL");
    CliRun schema = cli("--schema", "ops", "status");
    assertThat(schema.exit()).isEqualTo(1);
    assertThat(schema.err()).contains("--schema applies to PostgreSQL stores only");
  }

  @Test
  void an_unreachable_postgres_store_is_one_line_of_error() {
    CliRun r = CliRun.run("--store", "jdbc:postgresql://127.0.0.1:1/nothing?user=x", "status");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err())
        .startsWith("workgate-admin: cannot open the PostgreSQL schema public")
        .contains("127.0.0.1:1 refused");
    assertThat(r.err()).hasLineCount(1);
  }

  @Test
  void no_command_or_an_unknown_one_is_a_usage_error() {
    CliRun none = cli();
    assertThat(none.exit()).isEqualTo(2);
    assertThat(none.err()).contains("name a command: status, list, show");
    CliRun unknown = cli("stats");
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.err()).contains("Unmatched argument at index 2: 'stats'");
    CliRun option = cli("status", "--color");
    assertThat(option.exit()).isEqualTo(2);
    assertThat(option.err()).contains("Unknown option: '--color'").contains("status --help");
  }

  @Test
  void list_prints_one_line_per_work_order_newest_first() {
    CliRun r = cli("list");
    assertThat(r.exit()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines.get(0).split("\\s+"))
        .containsExactly("ID", "QUEUE", "TYPE", "STATE", "ATTEMPT", "UPDATED");
    assertThat(lines).hasSize(7);
    assertThat(lines.stream().skip(1).map(l -> l.split("\\s+")[0]))
        .containsExactly(
            bulk.value(),
            cancelled.value(),
            failed.value(),
            completed.value(),
            running.value(),
            pending.value());
    assertThat(lines.get(6).split("\\s+"))
        .containsExactly(
            pending.value(), "builds", "compile", "PENDING", "0", lines.get(6).split("\\s+")[5]);
    assertThat(lines.get(3).split("\\s+"))
        .startsWith(failed.value(), "agents", "agent-run", "FAILED", "1");
    assertThat(Instant.parse(lines.get(6).split("\\s+")[5])).isBefore(Instant.now().plusSeconds(1));
  }

  @Test
  void list_pages_with_the_cursor_it_prints_until_the_oldest() {
    List<String> seen = new java.util.ArrayList<>();
    List<String> args = List.of("list", "--limit", "4");
    CliRun first = cli(args.toArray(String[]::new));
    assertThat(first.exit()).isZero();
    assertThat(first.err()).isEmpty();
    List<String> lines = first.out().lines().toList();
    assertThat(lines).hasSize(6);
    String last = lines.get(5);
    assertThat(last).startsWith("more match: add --cursor ").endsWith(" for the next 4");
    String cursor = last.split("\\s+")[4];
    lines.subList(1, 5).forEach(l -> seen.add(l.split("\\s+")[0]));

    CliRun second = cli("list", "--limit", "4", "--cursor", cursor);
    assertThat(second.exit()).as(second.err()).isZero();
    List<String> rest = second.out().lines().toList();
    assertThat(rest).hasSize(3);
    rest.subList(1, 3).forEach(l -> seen.add(l.split("\\s+")[0]));

    assertThat(seen)
        .containsExactly(
            bulk.value(),
            cancelled.value(),
            failed.value(),
            completed.value(),
            running.value(),
            pending.value());
  }

  @Test
  void list_json_has_the_work_orders_and_the_next_cursor() throws Exception {
    JsonNode page = StatusCommand.JSON.readTree(cli("list", "--json", "--limit", "5").out());
    assertThat(page.path("workOrders")).hasSize(5);
    assertThat(page.path("workOrders").get(0).path("id").asText()).isEqualTo(bulk.value());
    String cursor = page.path("nextCursor").asText();
    assertThat(cursor).isNotBlank();

    JsonNode last =
        StatusCommand.JSON.readTree(
            cli("list", "--json", "--limit", "5", "--cursor", cursor).out());
    assertThat(last.path("workOrders")).hasSize(1);
    assertThat(last.path("workOrders").get(0).path("id").asText()).isEqualTo(pending.value());
    assertThat(last.get("nextCursor").isNull()).isTrue();
  }

  @Test
  void list_rejects_a_cursor_it_did_not_print() {
    CliRun r = cli("list", "--cursor", "12");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--cursor 12 is not a cursor that list printed");
  }

  @Test
  void list_filters_by_states_and_queue() {
    CliRun states = cli("list", "--state", "failed", "--state", "CANCELLED");
    assertThat(states.exit()).isZero();
    assertThat(states.out()).contains(failed.value()).contains(cancelled.value());
    assertThat(states.out().lines()).hasSize(3);
    CliRun queue = cli("list", "--queue", "builds", "--state", "PENDING");
    assertThat(queue.out().lines().skip(1).map(l -> l.split("\\s+")[0]))
        .containsExactly(pending.value());
    CliRun none = cli("list", "--queue", "nothing");
    assertThat(none.exit()).isZero();
    assertThat(none.out()).isEqualTo("no work orders match" + System.lineSeparator());
  }

  @Test
  void list_prints_no_cursor_when_the_page_holds_the_rest() {
    CliRun all = cli("list", "--limit", "6");
    assertThat(all.err()).isEmpty();
    assertThat(all.out()).doesNotContain("--cursor");
    assertThat(all.out().lines()).hasSize(7);
  }

  @Test
  void list_rejects_unknown_states_and_bad_limits() {
    CliRun state = cli("list", "--state", "DONE");
    assertThat(state.exit()).isEqualTo(2);
    assertThat(state.err()).contains("--state").contains("DONE").contains("PENDING");
    CliRun zero = cli("list", "--limit", "0");
    assertThat(zero.exit()).isEqualTo(2);
    assertThat(zero.err()).contains("--limit must be between 1 and 10000, got 0");
    CliRun text = cli("list", "--limit", "ten");
    assertThat(text.exit()).isEqualTo(2);
    CliRun blank = cli("list", "--queue", " ");
    assertThat(blank.exit()).isEqualTo(2);
  }

  @Test
  void show_prints_the_view_the_timeline_and_the_last_error() {
    CliRun r = cli("show", failed.value());
    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .contains("id                " + failed.value())
        .contains("queue             agents")
        .contains("state             FAILED")
        .contains("last error        TIMEOUT: ran past 1h (attempt 1)")
        .contains("timeline (");
    assertThat(r.out()).doesNotContain("acme/api");
    List<String> steps = r.out().lines().dropWhile(l -> !l.startsWith("timeline")).skip(2).toList();
    assertThat(steps).hasSize(4);
    assertThat(steps.get(0).trim().split("\\s+")).startsWith("1", "Submitted", "-", "PENDING", "0");
    assertThat(steps.get(1).trim().split("\\s+"))
        .startsWith("2", "Claimed", "PENDING", "PREPARING", "1")
        .contains("node-a");
    assertThat(steps.get(3).trim().split("\\s+"))
        .startsWith("4", "AttemptFailed", "RUNNING", "FAILED", "1")
        .contains("TIMEOUT");
  }

  @Test
  void show_of_a_completed_work_order_has_its_result_and_no_error() {
    CliRun r = cli("show", completed.value());
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("result            {\"summary\":\"fixed\"}");
    assertThat(r.out()).doesNotContain("error");
  }

  @Test
  void show_of_a_work_order_completed_after_a_retry_labels_the_earlier_error() throws Exception {
    WorkOrderId retried;
    try (WorkOrderStore store = Stores.sqlite(db)) {
      retried =
          Fixtures.completedAfterRetry(store, "agents", Instant.now().plus(1, ChronoUnit.HOURS));
    }

    CliRun r = cli("show", retried.value());

    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .contains("state             COMPLETED")
        .contains(
            "earlier error     NETWORK_ERROR (retryable): connection reset (attempt 1, before the"
                + " attempt that completed)")
        .doesNotContain("last error")
        // The retry decision's "20.000 s" reads as the CLI writes every duration.
        .contains("in 20.0s after NETWORK_ERROR")
        .doesNotContain("20.000 s");
    JsonNode json = StatusCommand.JSON.readTree(cli("show", "--json", retried.value()).out());
    assertThat(json.path("workOrder").path("lastError").path("attempt").asInt()).isEqualTo(1);
  }

  @Test
  void show_json_has_the_view_and_the_steps() throws Exception {
    CliRun r = cli("show", "--json", cancelled.value());
    assertThat(r.exit()).isZero();
    JsonNode json = StatusCommand.JSON.readTree(r.out());
    assertThat(json.path("workOrder").path("id").asText()).isEqualTo(cancelled.value());
    assertThat(json.path("workOrder").path("state").asText()).isEqualTo("CANCELLED");
    assertThat(json.path("workOrder").has("payload")).isFalse();
    JsonNode steps = json.path("timeline").path("steps");
    assertThat(steps).hasSize(2);
    assertThat(steps.get(1).path("type").asText()).isEqualTo("Cancelled");
    assertThat(steps.get(1).path("from").asText()).isEqualTo("PENDING");
    assertThat(steps.get(1).path("detail").asText()).isEqualTo("reason: not needed");
  }

  @Test
  void show_json_gives_durations_in_seconds_under_the_http_endpoints_names() throws Exception {
    JsonNode json = StatusCommand.JSON.readTree(cli("show", "--json", failed.value()).out());
    JsonNode timeline = json.path("timeline");
    assertThat(timeline.path("totalSeconds").isNumber()).isTrue();
    assertThat(timeline.has("totalMs")).isFalse();
    JsonNode step = timeline.path("steps").get(1);
    assertThat(step.path("sincePreviousSeconds").isNumber()).isTrue();
    assertThat(step.path("sinceSubmittedSeconds").isNumber()).isTrue();
    assertThat(step.has("sincePreviousMs")).isFalse();
    assertThat(Instant.parse(step.path("recordedAt").asText()))
        .isBefore(Instant.now().plusSeconds(1));
    assertThat(json.path("workOrder").path("availableAt").isTextual()).isTrue();
  }

  @Test
  void show_of_an_unknown_or_malformed_id_fails_clearly() {
    CliRun unknown = cli("show", "0193-not-there");
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err())
        .isEqualTo("workgate-admin: no work order 0193-not-there" + System.lineSeparator());
    CliRun tooLong = cli("show", "x".repeat(129));
    assertThat(tooLong.exit()).isEqualTo(2);
    assertThat(tooLong.err()).contains("work order id must be at most 128 characters");
    CliRun missing = cli("show");
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err()).contains("Missing required parameter: '<id>'");
  }
}
