package dev.workgate.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.WorkgateClient;
import dev.workgate.core.BatchId;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.Progress;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.ExpectedVersion;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pause}, {@code resume}, {@code queues}, {@code batch}, and what {@code show} tells of
 * progress, checkpoints, batches and dependencies, on a SQLite file.
 */
class QueueAndChainCommandsTest {
  static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");
  static final Instant REPORTED = Instant.parse("2026-11-23T09:59:30Z");
  static final String NL = System.lineSeparator();

  @TempDir Path dir;
  Path db;
  WorkOrderId pending;
  WorkOrderId running;
  WorkOrderId blocked;
  BatchId batch;
  List<WorkOrderId> members;

  /**
   * builds: one pending, a batch of two pending, one running with progress and a checkpoint;
   * reports: one BLOCKED work order waiting for the pending one.
   */
  @BeforeEach
  void prepare() {
    db = dir.resolve("workgate.db");
    Instant lease = Instant.now().plus(1, ChronoUnit.HOURS);
    try (WorkOrderStore store = Stores.sqlite(db);
        WorkgateClient client = WorkgateClient.over(store)) {
      pending = client.submit(WorkOrderSpec.builder("compile").queue("builds").build());
      WorkgateClient.Batch b =
          client.submitBatch(
              List.of(
                  WorkOrderSpec.builder("compile").queue("builds").build(),
                  WorkOrderSpec.builder("compile").queue("builds").build()));
      batch = b.id();
      members = b.workOrders();
      blocked =
          client.submit(WorkOrderSpec.builder("report").queue("reports").after(pending).build());
      running = Fixtures.running(store, "builds", lease);
      assertThat(
              store.renewLease(
                  running, "node-a", 1, lease, new Progress(0.456, "shard 3 of 7", REPORTED)))
          .isTrue();
      store.append(
          running,
          ExpectedVersion.exactly(3),
          List.of(
              new WorkOrderEvent.Checkpointed(
                  1, StatusCommand.JSON.valueToTree(Map.of("shard", 3)))));
    }
  }

  private CliRun cli(String... args) {
    return cliAt(NOW, args);
  }

  /** A run whose clock stands at {@code at}: pauses and resumes are recorded then. */
  private CliRun cliAt(Instant at, String... args) {
    String[] all = Arrays.copyOf(new String[] {"--store", db.toString()}, 2 + args.length);
    System.arraycopy(args, 0, all, 2, args.length);
    return CliRun.run(Clock.fixed(at, ZoneOffset.UTC), all);
  }

  private List<QueueAction> paused() {
    try (WorkOrderStore store = Stores.sqlite(db)) {
      return store.pausedQueues();
    }
  }

  private List<QueueAction> actions() {
    try (WorkOrderStore store = Stores.sqlite(db)) {
      return store.queueActions(null, 100);
    }
  }

  @Test
  void pause_records_who_and_why_and_a_second_pause_says_it_already_was() {
    CliRun r = cli("pause", "builds", "--reason", "registry down", "--by", "ops-alice");

    assertThat(r.exit()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(r.out())
        .isEqualTo(
            "paused queue 'builds' by ops-alice since 2026-11-23T10:00:00Z (reason: registry"
                + " down)"
                + NL
                + "no node claims from it until it is resumed (workgate-admin resume builds); 3"
                + " work orders wait in it, 1 running"
                + NL);
    assertThat(paused())
        .containsExactly(
            new QueueAction("builds", QueueAction.Kind.PAUSE, NOW, "ops-alice", "registry down"));

    CliRun again = cli("pause", "builds", "--reason", "still down", "--by", "ops-bob");
    assertThat(again.exit()).isZero();
    assertThat(again.out())
        .isEqualTo(
            "queue 'builds' was already paused by ops-alice since 2026-11-23T10:00:00Z (reason:"
                + " registry down); nothing was changed"
                + NL);
    assertThat(actions()).hasSize(1);
  }

  @Test
  void pause_is_by_the_os_user_unless_given_and_notes_a_queue_the_store_does_not_know() {
    CliRun r = cli("pause", "nightly", "--reason", "paused ahead of the import");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("0 work orders wait in it" + NL);
    assertThat(r.err())
        .startsWith("note: the store holds no work order of queue 'nightly' (yet): check the name");
    assertThat(paused())
        .singleElement()
        .extracting(QueueAction::actor)
        .isEqualTo(QueueActionCommands.defaultActor())
        .isEqualTo(System.getProperty("user.name").strip());
  }

  @Test
  void pause_refuses_bad_input_as_usage_errors_and_changes_nothing() {
    CliRun blankQueue = cli("pause", " ", "--reason", "x");
    assertThat(blankQueue.exit()).isEqualTo(2);
    assertThat(blankQueue.err())
        .isEqualTo("workgate-admin: queue must not be blank, got: ' '" + NL);
    CliRun longQueue = cli("pause", "q".repeat(201), "--reason", "x");
    assertThat(longQueue.exit()).isEqualTo(2);
    assertThat(longQueue.err()).contains("queue must be at most 200 characters, got 201");
    CliRun noReason = cli("pause", "builds");
    assertThat(noReason.exit()).isEqualTo(2);
    assertThat(noReason.err()).contains("Missing required option: '--reason=<reason>'");
    CliRun blankReason = cli("pause", "builds", "--reason", "  ");
    assertThat(blankReason.exit()).isEqualTo(2);
    assertThat(blankReason.err()).contains("--reason must not be blank");
    CliRun blankActor = cli("pause", "builds", "--reason", "x", "--by", " ");
    assertThat(blankActor.exit()).isEqualTo(2);
    assertThat(blankActor.err()).contains("the actor of a queue PAUSE must not be blank");
    CliRun longReason = cli("pause", "builds", "--reason", "r".repeat(2001));
    assertThat(longReason.exit()).isEqualTo(2);
    assertThat(longReason.err()).contains("reason must be at most 2000 characters");
    assertThat(paused()).isEmpty();
    assertThat(actions()).isEmpty();
  }

  @Test
  void resume_resumes_a_paused_queue_and_says_when_it_was_not_paused() {
    CliRun notPaused = cli("resume", "builds");
    assertThat(notPaused.exit()).isZero();
    assertThat(notPaused.out())
        .isEqualTo("queue 'builds' was not paused; nothing was changed" + NL);
    assertThat(actions()).isEmpty();

    cli("pause", "builds", "--reason", "registry down", "--by", "ops-alice");
    Instant later = NOW.plusSeconds(60);
    CliRun r = cliAt(later, "resume", "builds", "--by", "ops-bob", "--reason", "registry is back");
    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .isEqualTo(
            "resumed queue 'builds' by ops-bob: nodes claim from it again; 3 work orders wait in"
                + " it, 1 running"
                + NL);
    assertThat(paused()).isEmpty();
    assertThat(actions().get(0))
        .isEqualTo(
            new QueueAction(
                "builds", QueueAction.Kind.RESUME, later, "ops-bob", "registry is back"));
    assertThat(cli("resume", "").exit()).isEqualTo(2);
  }

  @Test
  void queues_lists_depth_blocked_running_and_the_pauses() throws Exception {
    cli("pause", "builds", "--reason", "registry\ndown", "--by", "ops-alice");
    cli("pause", "nightly", "--reason", "ahead", "--by", "ops-bob");

    CliRun r = cli("queues");

    assertThat(r.exit()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(4);
    assertThat(lines.get(0).split("\\s+"))
        .containsExactly("QUEUE", "DEPTH", "BLOCKED", "RUNNING", "PAUSED", "SINCE", "BY", "REASON");
    assertThat(lines.get(1).split("\\s+"))
        .containsExactly(
            "builds", "3", "0", "1", "2026-11-23T10:00:00Z", "ops-alice", "registry", "down");
    assertThat(lines.get(2).split("\\s+"))
        .containsExactly("nightly", "0", "0", "0", "2026-11-23T10:00:00Z", "ops-bob", "ahead");
    assertThat(lines.get(3).split("\\s+")).containsExactly("reports", "1", "1", "0", "-");

    JsonNode json = StatusCommand.JSON.readTree(cli("queues", "--json").out());
    JsonNode builds = json.path("queues").get(0);
    assertThat(builds.path("queue").asText()).isEqualTo("builds");
    assertThat(builds.path("depth").asLong()).isEqualTo(3);
    assertThat(builds.path("running").asLong()).isEqualTo(1);
    assertThat(builds.path("paused").path("by").asText()).isEqualTo("ops-alice");
    assertThat(builds.path("paused").path("reason").asText()).isEqualTo("registry\ndown");
    assertThat(builds.path("paused").path("at").asText()).isEqualTo("2026-11-23T10:00:00Z");
    JsonNode reports = json.path("queues").get(2);
    assertThat(reports.path("blocked").asLong()).isEqualTo(1);
    assertThat(reports.get("paused").isNull()).isTrue();
    assertThat(json.has("history")).isFalse();
  }

  @Test
  void queues_history_lists_pauses_and_resumes_newest_first() {
    cli("pause", "builds", "--reason", "registry down", "--by", "ops-alice");
    cliAt(NOW.plusSeconds(60), "resume", "builds", "--by", "ops-bob");

    CliRun r = cli("queues", "--history", "5");

    assertThat(r.exit()).isZero();
    List<String> history = r.out().lines().dropWhile(l -> !l.startsWith("AT")).toList();
    assertThat(history).hasSize(3);
    assertThat(history.get(1).split("\\s+"))
        .containsExactly("2026-11-23T10:01:00Z", "builds", "resume", "ops-bob");
    assertThat(history.get(2).split("\\s+"))
        .containsExactly(
            "2026-11-23T10:00:00Z", "builds", "pause", "ops-alice", "registry", "down");
    assertThat(cli("queues", "--history", "0").exit()).isEqualTo(2);
  }

  @Test
  void queues_of_an_empty_store_says_so() {
    Path empty = dir.resolve("empty.db");
    Stores.sqlite(empty).close();
    CliRun r = CliRun.run("queues", "--store", empty.toString());
    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .isEqualTo("no queues: the store holds no work orders and no queue is paused" + NL);
  }

  @Test
  void show_prints_progress_checkpoint_and_batch() throws Exception {
    CliRun r = cli("show", running.value());
    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .contains("progress          45.6% (reported 2026-11-23T09:59:30Z): shard 3 of 7" + NL)
        .contains("checkpoint        11 bytes (recorded by attempt 1)" + NL)
        .doesNotContain("\"shard\"")
        .doesNotContain("dependencies")
        .doesNotContain("dependents");
    List<String> steps = r.out().lines().dropWhile(l -> !l.startsWith("timeline")).skip(2).toList();
    assertThat(steps.get(3).trim().split("\\s+"))
        .startsWith("4", "Checkpointed", "RUNNING", "RUNNING", "1")
        .contains("11", "bytes");

    JsonNode json = StatusCommand.JSON.readTree(cli("show", "--json", running.value()).out());
    JsonNode view = json.path("workOrder");
    assertThat(view.path("progress").path("fraction").asDouble()).isEqualTo(0.456);
    assertThat(view.path("progress").path("message").asText()).isEqualTo("shard 3 of 7");
    assertThat(view.path("progress").path("reportedAt").asText()).isEqualTo("2026-11-23T09:59:30Z");
    assertThat(view.path("checkpoint").path("bytes").asInt()).isEqualTo(11);
    assertThat(view.path("checkpoint").path("attempt").asInt()).isEqualTo(1);
    assertThat(view.path("checkpoint").has("state")).isFalse();

    CliRun member = cli("show", members.get(0).value());
    assertThat(member.out())
        .contains("batch             " + batch + NL)
        .contains("checkpoint        none" + NL)
        .doesNotContain("progress");
    JsonNode memberJson =
        StatusCommand.JSON.readTree(cli("show", "--json", members.get(0).value()).out());
    assertThat(memberJson.path("workOrder").path("batch").asText()).isEqualTo(batch.value());
    assertThat(memberJson.path("dependencies").path("total").asInt()).isZero();
  }

  @Test
  void show_says_when_the_work_orders_queue_is_paused() throws Exception {
    assertThat(cli("show", pending.value()).out()).contains("queue             builds" + NL);
    assertThat(
            StatusCommand.JSON
                .readTree(cli("show", "--json", pending.value()).out())
                .get("queuePaused")
                .isNull())
        .isTrue();

    cli("pause", "builds", "--reason", "registry down", "--by", "ops-alice");

    assertThat(cli("show", pending.value()).out())
        .contains(
            "queue             builds (paused by ops-alice since 2026-11-23T10:00:00Z (reason:"
                + " registry down))"
                + NL);
    JsonNode paused =
        StatusCommand.JSON
            .readTree(cli("show", "--json", pending.value()).out())
            .get("queuePaused");
    assertThat(paused.path("by").asText()).isEqualTo("ops-alice");
    assertThat(paused.path("reason").asText()).isEqualTo("registry down");
  }

  @Test
  void show_prints_dependencies_and_dependents_with_their_states() throws Exception {
    CliRun r = cli("show", blocked.value());
    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .contains("state             BLOCKED" + NL)
        .contains("dependencies      waits for 1 work order (on failure: CANCEL)" + NL)
        .contains("  " + pending + "  PENDING" + NL);

    CliRun dependency = cli("show", pending.value());
    assertThat(dependency.out())
        .contains("dependents        1 work order waits (or waited) for it" + NL)
        .contains("  " + blocked + "  BLOCKED" + NL);

    JsonNode json = StatusCommand.JSON.readTree(cli("show", "--json", blocked.value()).out());
    assertThat(json.path("workOrder").path("onDependencyFailure").asText()).isEqualTo("CANCEL");
    assertThat(json.path("dependencies").path("total").asInt()).isEqualTo(1);
    assertThat(json.path("dependencies").path("listed").get(0).path("id").asText())
        .isEqualTo(pending.value());
    assertThat(json.path("dependencies").path("listed").get(0).path("state").asText())
        .isEqualTo("PENDING");
    JsonNode dependents =
        StatusCommand.JSON
            .readTree(cli("show", "--json", pending.value()).out())
            .path("dependents");
    assertThat(dependents.path("total").asInt()).isEqualTo(1);
    assertThat(dependents.path("listed").get(0).path("state").asText()).isEqualTo("BLOCKED");
  }

  @Test
  void cancel_of_a_blocked_work_order_cancels_it_and_list_finds_blocked_work() {
    CliRun list = cli("list", "--state", "blocked");
    assertThat(list.out().lines().skip(1).map(l -> l.split("\\s+")[0]))
        .containsExactly(blocked.value());

    CliRun r = cli("cancel", blocked.value(), "--reason", "report not wanted");

    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo(blocked + " cancelled (it was BLOCKED)" + NL);
    assertThat(cli("show", blocked.value()).out()).contains("state             CANCELLED" + NL);
  }

  @Test
  void a_broken_chain_shows_why_and_resubmitting_its_failure_resubmits_the_chain() {
    WorkOrderId root;
    WorkOrderId middle;
    WorkOrderId leaf;
    try (WorkOrderStore store = Stores.sqlite(db);
        WorkgateClient client = WorkgateClient.over(store)) {
      root = client.submit(WorkOrderSpec.builder("compile").queue("builds").build());
      middle = client.submit(WorkOrderSpec.builder("test").queue("builds").after(root).build());
      leaf = client.submit(WorkOrderSpec.builder("deploy").queue("builds").after(middle).build());
      store.append(
          root,
          ExpectedVersion.exactly(1),
          List.of(
              new WorkOrderEvent.Claimed("node-a", Instant.now().plusSeconds(3600)),
              new WorkOrderEvent.Started("sbx-r"),
              WorkOrderEvent.AttemptFailed.finalFailure(
                  new ErrorInfo("BAD_INPUT", "no such branch", false), "not retryable")));
      store.append(
          middle,
          ExpectedVersion.exactly(1),
          List.of(new WorkOrderEvent.DependencyFailed(root, WorkOrderState.FAILED)));
      store.append(
          leaf,
          ExpectedVersion.exactly(1),
          List.of(new WorkOrderEvent.DependencyFailed(middle, WorkOrderState.CANCELLED)));
    }
    CliRun show = cli("show", middle.value());
    assertThat(show.out())
        .contains("state             CANCELLED" + NL)
        .contains("last error        DEPENDENCY_FAILED: dependency " + root + " ended FAILED" + NL)
        .contains("dependency " + root + " ended FAILED")
        .contains("  " + root + "  FAILED" + NL)
        .contains("  " + leaf + "  CANCELLED" + NL);

    CliRun r = cli("resubmit", root.value());

    assertThat(r.exit()).as(r.err()).isZero();
    WorkOrderId fresh = WorkOrderId.of(r.out().strip());
    List<String> err = r.err().lines().toList();
    assertThat(err).hasSize(4);
    assertThat(err.get(1))
        .isEqualTo(
            "and 2 work orders its failure had cancelled, each resubmitted once and waiting"
                + " again:");
    assertThat(err.get(2)).endsWith(" (from " + middle + ", BLOCKED in queue builds)");
    assertThat(err.get(3)).endsWith(" (from " + leaf + ", BLOCKED in queue builds)");
    WorkOrderId middleAgain = WorkOrderId.of(err.get(2).strip().split(" ")[0]);
    assertThat(cli("show", middleAgain.value()).out())
        .contains("dependencies      waits for 1 work order (on failure: CANCEL)" + NL)
        .contains("  " + fresh + "  PENDING" + NL);
  }

  @Test
  void batch_prints_where_a_batch_stands_and_list_filters_by_it() throws Exception {
    CliRun r = cli("batch", batch.value());

    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .isEqualTo(
            "batch        "
                + batch
                + NL
                + "status       not ended: 0 of 2 ended"
                + NL
                + "work orders  2"
                + NL
                + NL
                + "STATE    COUNT"
                + NL
                + "PENDING      2"
                + NL);
    JsonNode json = StatusCommand.JSON.readTree(cli("batch", "--json", batch.value()).out());
    assertThat(json.path("workOrders").asLong()).isEqualTo(2);
    assertThat(json.path("ended").asBoolean()).isFalse();
    assertThat(json.path("completed").asBoolean()).isFalse();
    assertThat(json.path("counts").path("PENDING").asLong()).isEqualTo(2);
    assertThat(json.path("counts").path("BLOCKED").asLong()).isZero();

    CliRun list = cli("list", "--batch", batch.value());
    assertThat(list.out().lines().skip(1).map(l -> l.split("\\s+")[0]))
        .containsExactlyInAnyOrderElementsOf(members.stream().map(WorkOrderId::value).toList());
  }

  @Test
  void batch_of_an_ended_batch_says_how_it_ended_and_an_unknown_one_fails() {
    try (WorkOrderStore store = Stores.sqlite(db);
        WorkgateClient client = WorkgateClient.over(store)) {
      assertThat(client.requestCancel(members.get(0), "not needed").result())
          .isEqualTo(WorkgateClient.CancelOutcome.Result.CANCELLED);
      store.append(
          members.get(1),
          ExpectedVersion.exactly(1),
          List.of(
              new WorkOrderEvent.Claimed("node-a", Instant.now().plusSeconds(3600)),
              new WorkOrderEvent.Started("sbx-b"),
              new WorkOrderEvent.Completed(StatusCommand.JSON.valueToTree("done"))));
    }
    CliRun r = cli("batch", batch.value());
    assertThat(r.out())
        .contains("status       ended: 2 of 2 ended (1 completed, 1 cancelled)" + NL)
        .contains("CANCELLED")
        .contains("COMPLETED");

    CliRun unknown = cli("batch", "nope");
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err()).isEqualTo("workgate-admin: no batch nope" + NL);
    CliRun malformed = cli("batch", "x".repeat(129));
    assertThat(malformed.exit()).isEqualTo(2);
    assertThat(malformed.err()).contains("batch id must be at most 128 characters");
  }
}
