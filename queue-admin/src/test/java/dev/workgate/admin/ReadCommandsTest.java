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
            "TOTAL");
    assertThat(lines.get(1).split("\\s+"))
        .containsExactly("agents", "0", "0", "0", "0", "1", "0", "1", "2");
    assertThat(lines.get(2).split("\\s+"))
        .containsExactly("builds", "1", "0", "1", "1", "0", "0", "0", "3");
    assertThat(lines.get(3).split("\\s+"))
        .containsExactly("bulk", "1", "0", "0", "0", "0", "0", "0", "1");
    assertThat(lines.get(4).split("\\s+"))
        .containsExactly("TOTAL", "2", "0", "1", "1", "1", "0", "1", "6");
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
    assertThat(r.err()).startsWith("workgate-admin: cannot reach the PostgreSQL store: ");
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
  void list_prints_one_line_per_work_order_in_submission_order() {
    CliRun r = cli("list");
    assertThat(r.exit()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines.get(0).split("\\s+"))
        .containsExactly("ID", "QUEUE", "TYPE", "STATE", "ATTEMPT", "UPDATED");
    assertThat(lines).hasSize(7);
    assertThat(lines.get(1).split("\\s+"))
        .containsExactly(
            pending.value(), "builds", "compile", "PENDING", "0", lines.get(1).split("\\s+")[5]);
    assertThat(lines.get(2).split("\\s+"))
        .startsWith(running.value(), "builds", "agent-run", "RUNNING", "1");
    assertThat(lines.get(4).split("\\s+"))
        .startsWith(failed.value(), "agents", "agent-run", "FAILED", "1");
    assertThat(Instant.parse(lines.get(1).split("\\s+")[5])).isBefore(Instant.now().plusSeconds(1));
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
  void list_says_on_stderr_when_the_limit_cut_the_list() {
    CliRun r = cli("list", "--limit", "2");
    assertThat(r.exit()).isZero();
    assertThat(r.out().lines()).hasSize(3);
    assertThat(r.err()).startsWith("more than 2 work orders match");
    CliRun all = cli("list", "--limit", "6");
    assertThat(all.err()).isEmpty();
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
        .contains("last error        TIMEOUT: ran past 1h")
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
    assertThat(r.out()).contains("last error        none");
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
