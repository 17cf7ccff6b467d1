package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.internal.jdbc.PostgresTestDatabase;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.StoreView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A paused queue: no node claims from it until it is resumed, while the other queues run on and
 * submits to it still succeed; the pause and the resume are recorded with who did them and why. On
 * one node over SQLite and on two nodes sharing PostgreSQL (paused through one node, claimed from
 * by neither).
 */
@Timeout(120)
class PauseTest {
  static final Duration WAIT = Duration.ofSeconds(60);
  static final String PAUSED = "deploys";
  static final String OTHER = "reports";
  static final int N = 5;

  @TempDir Path dir;
  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  static Workgate.Builder node(String id, WorkOrderStore store, Path root) {
    return ChainTest.node(id, store, root)
        .queues(PAUSED, OTHER)
        .maxConcurrent(2)
        .handler("job", ctx -> WorkResult.ok("done"));
  }

  /**
   * Pauses through {@code pauser}, submits through {@code submitter}, checks that nothing of the
   * paused queue is claimed while other work runs, resumes, and checks the record.
   */
  static void pauseAndResume(Workgate pauser, Workgate submitter, StoreView log) throws Exception {
    assertThat(pauser.pauseQueue(PAUSED, "ops-anna", "database maintenance")).isTrue();
    long pausedAt = FlowLog.head(log);
    assertThat(submitter.pauseQueue(PAUSED, "ops-ben", "again"))
        .as("pausing a paused queue")
        .isFalse();
    assertThat(submitter.client().pausedQueues())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.queue()).isEqualTo(PAUSED);
              assertThat(p.kind()).isEqualTo(QueueAction.Kind.PAUSE);
              assertThat(p.actor()).isEqualTo("ops-anna");
              assertThat(p.reason()).isEqualTo("database maintenance");
            });

    List<WorkOrderId> waiting = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      waiting.add(submitter.submit(WorkOrderSpec.builder("job").queue(PAUSED).build()));
    }
    WorkOrderId other = submitter.submit(WorkOrderSpec.builder("job").queue(OTHER).build());

    assertThat(submitter.await(other, WAIT).state())
        .as("another queue runs on")
        .isEqualTo(WorkOrderState.COMPLETED);
    // Many poll intervals of both nodes: nothing of the paused queue is claimed.
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                waiting.stream()
                    .allMatch(
                        id -> submitter.find(id).orElseThrow().state() == WorkOrderState.PENDING));
    assertThat(claims(log, waiting)).as("Claimed events of the paused queue").isEmpty();
    assertThat(submitter.stats().counts().depth(PAUSED))
        .as("submits to a paused queue count toward its depth")
        .isEqualTo(N);

    long resumedFrom = FlowLog.head(log);
    assertThat(submitter.resumeQueue(PAUSED, "ops-ben", "maintenance done")).isTrue();
    assertThat(pauser.resumeQueue(PAUSED, "ops-anna", "again")).as("resuming twice").isFalse();
    assertThat(pauser.client().pausedQueues()).isEmpty();

    for (WorkOrderId id : waiting) {
      assertThat(submitter.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    }
    List<RecordedEvent> claimed = claims(log, waiting);
    assertThat(claimed).hasSize(N);
    assertThat(claimed)
        .as("every claim of the paused queue came after the resume began")
        .allSatisfy(e -> assertThat(e.position()).isGreaterThan(resumedFrom));
    assertThat(resumedFrom).isGreaterThan(pausedAt);

    List<QueueAction> actions = pauser.client().queueActions(PAUSED, 10);
    assertThat(actions)
        .extracting(QueueAction::kind)
        .containsExactly(QueueAction.Kind.RESUME, QueueAction.Kind.PAUSE);
    assertThat(actions).extracting(QueueAction::actor).containsExactly("ops-ben", "ops-anna");
    assertThat(actions)
        .extracting(QueueAction::reason)
        .containsExactly("maintenance done", "database maintenance");
    assertThat(pauser.client().queueActions(OTHER, 10)).isEmpty();
    assertThat(pauser.client().queueActions(null, 10)).hasSize(2);
  }

  static List<RecordedEvent> claims(StoreView log, List<WorkOrderId> ids) {
    Set<WorkOrderId> of = new HashSet<>(ids);
    return FlowLog.read(log).events().stream()
        .filter(e -> of.contains(e.workOrderId()) && e.event() instanceof WorkOrderEvent.Claimed)
        .toList();
  }

  @Test
  void a_paused_queue_claims_nothing_until_resumed_on_sqlite() throws Exception {
    try (WorkOrderStore store = Stores.sqlite(dir.resolve("workgate.db"));
        Workgate node = node("node-1", store, dir.resolve("sandboxes")).build()) {
      node.start();

      pauseAndResume(node, node, node.store());
    }
  }

  @Test
  void a_pause_survives_a_restart_on_sqlite() throws Exception {
    Path file = dir.resolve("workgate.db");
    WorkOrderId id;
    try (WorkOrderStore store = Stores.sqlite(file);
        Workgate node = node("node-1", store, dir.resolve("sandboxes")).build()) {
      node.start();
      assertThat(node.pauseQueue(PAUSED, "ops-anna", "")).isTrue();
      id = node.submit(WorkOrderSpec.builder("job").queue(PAUSED).build());
    }
    try (WorkOrderStore store = Stores.sqlite(file);
        Workgate node = node("node-1", store, dir.resolve("sandboxes")).build()) {
      node.start();
      assertThat(node.client().pausedQueues())
          .extracting(QueueAction::queue)
          .containsExactly(PAUSED);
      await()
          .during(Duration.ofMillis(700))
          .atMost(Duration.ofSeconds(5))
          .until(() -> node.find(id).orElseThrow().state() == WorkOrderState.PENDING);

      assertThat(node.resumeQueue(PAUSED, "ops-anna", "")).isTrue();
      assertThat(node.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    }
  }

  @Test
  void a_paused_queue_claims_nothing_until_resumed_on_two_postgres_nodes() throws Exception {
    try (WorkOrderStore storeA = db.openStore(Clock.systemUTC());
        WorkOrderStore storeB = db.openStore(Clock.systemUTC());
        Workgate a = node("node-a", storeA, dir.resolve("a")).build();
        Workgate b = node("node-b", storeB, dir.resolve("b")).build()) {
      a.start();
      b.start();

      // Paused through one node, submitted and resumed through the other.
      pauseAndResume(a, b, a.store());
    }
  }
}
