package dev.workgate.core.internal.memory;

import static dev.workgate.core.testing.WorkOrderFixtures.claimed;
import static dev.workgate.core.testing.WorkOrderFixtures.completedWith;
import static dev.workgate.core.testing.WorkOrderFixtures.failedForGood;
import static dev.workgate.core.testing.WorkOrderFixtures.failedWithRetry;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.started;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.workgate.core.BatchId;
import dev.workgate.core.Progress;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.RebuildReport;
import dev.workgate.core.store.RebuildReport.ProjectionMismatch;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.core.testing.ViewSnapshot;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import dev.workgate.spi.WorkOrder;
import dev.workgate.spi.WorkOrderSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link InMemoryWorkOrderStore#rebuildProjection}: its projection can differ from its log only
 * through {@link InMemoryWorkOrderStore#corruptForTesting}, which these tests use to put damaged
 * views (a real fold with one field changed) in place.
 */
class InMemoryRebuildProjectionTest {

  private static final String QUEUE = "jobs";
  private static final Duration LEASE = Duration.ofSeconds(30);

  private final MutableClock clock = MutableClock.create();
  private InMemoryWorkOrderStore store;
  private World w;

  @BeforeEach
  void openStore() {
    store = new InMemoryWorkOrderStore(clock);
    w = world();
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  @Test
  void verify_of_a_store_that_matches_its_log_reports_nothing() {
    RebuildReport verify = store.rebuildProjection(RebuildMode.VERIFY);
    RebuildReport repair = store.rebuildProjection(RebuildMode.REPAIR);

    for (RebuildReport r : List.of(verify, repair)) {
      assertThat(r.consistent()).isTrue();
      assertThat(r.mismatches()).isEmpty();
      assertThat(r.repaired()).isFalse();
      assertThat(r.workOrders()).isEqualTo(w.all().size());
      assertThat(r.events()).isEqualTo(16);
    }
  }

  @Test
  void verify_reports_exactly_the_damaged_work_orders_and_changes_nothing() {
    Map<WorkOrderId, ViewSnapshot> before = views();
    damage(w.pending, s -> with(s, WorkOrderState.CANCELLED, s.version(), s.leaseExpiresAt()));
    damage(w.running, s -> with(s, s.state(), s.version() + 5, s.leaseExpiresAt()));
    damage(w.preparing, s -> with(s, s.state(), s.version(), s.leaseExpiresAt().minusSeconds(1)));
    Map<WorkOrderId, ViewSnapshot> damaged = views();

    RebuildReport verify = store.rebuildProjection(RebuildMode.VERIFY);

    assertThat(verify.repaired()).isFalse();
    assertThat(differences(verify))
        .containsOnlyKeys(w.pending, w.running, w.preparing)
        .hasEntrySatisfying(w.pending, d -> assertThat(d).contains("state"))
        .hasEntrySatisfying(w.running, d -> assertThat(d).contains("version"))
        .hasEntrySatisfying(w.preparing, d -> assertThat(d).contains("leaseExpiresAt"));
    assertThat(views()).isEqualTo(damaged).isNotEqualTo(before);
  }

  @Test
  void repair_rewrites_the_damaged_views_from_the_log_and_their_indexes_with_them() {
    Map<WorkOrderId, ViewSnapshot> before = views();
    QueueCounts counts = store.counts();
    damage(w.pending, s -> with(s, WorkOrderState.CANCELLED, s.version(), s.leaseExpiresAt()));
    damage(w.failed, s -> with(s, WorkOrderState.PENDING, s.version(), s.leaseExpiresAt()));
    damage(w.completed, s -> with(s, s.state(), s.version() - 1, s.leaseExpiresAt()));
    assertThat(store.counts()).isNotEqualTo(counts);

    RebuildReport repair = store.rebuildProjection(RebuildMode.REPAIR);

    assertThat(repair.repaired()).isTrue();
    assertThat(differences(repair).keySet())
        .containsExactlyInAnyOrder(w.pending, w.failed, w.completed);
    assertThat(store.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
    assertThat(views()).isEqualTo(before);
    assertThat(store.counts()).isEqualTo(counts);
    // The damaged FAILED work order, which the damage made claimable, is not claimed; the
    // PENDING one, which the damage hid, is.
    assertThat(store.claim(claim(10))).extracting(WorkOrderView::id).containsExactly(w.pending);
  }

  @Test
  void a_renewed_lease_is_not_a_mismatch_and_repair_keeps_it() {
    Instant renewedTo = clock.instant().plus(Duration.ofMinutes(10));
    WorkOrderView running = store.find(w.running).orElseThrow();
    assertThat(store.renewLease(w.running, "node-a", running.attempt(), renewedTo)).isTrue();
    // Later than the log's expiry, as a renewal makes it: not a difference.
    damage(w.preparing, s -> with(s, s.state(), s.version(), s.leaseExpiresAt().plusSeconds(5)));
    assertThat(store.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();

    damage(w.running, s -> with(s, s.state(), s.version() + 1, renewedTo));
    RebuildReport repair = store.rebuildProjection(RebuildMode.REPAIR);

    assertThat(differences(repair)).containsOnlyKeys(w.running);
    WorkOrderView repaired = store.find(w.running).orElseThrow();
    assertThat(repaired.version()).isEqualTo(running.version());
    assertThat(repaired.leaseExpiresAt()).contains(renewedTo);
    assertThat(store.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
  }

  @Test
  void progress_is_not_a_mismatch_and_repair_keeps_it_with_a_renewed_lease() {
    WorkOrderView running = store.find(w.running).orElseThrow();
    Instant renewedTo = clock.instant().plus(Duration.ofMinutes(10));
    Progress progress = new Progress(0.4, "forty percent", clock.instant());
    assertThat(store.renewLease(w.running, "node-a", running.attempt(), renewedTo, progress))
        .isTrue();
    // Progress on a work order whose lease the log still shows as granted, too.
    Progress other = new Progress(0.1, "ten percent", clock.instant());
    assertThat(
            store.renewLease(
                w.preparing,
                "node-a",
                1,
                store.find(w.preparing).orElseThrow().leaseExpiresAt().orElseThrow(),
                other))
        .isTrue();

    assertThat(store.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();

    // The damaged view keeps the renewal and the progress: only its version is wrong.
    WorkOrderSnapshot current = ((WorkOrder) store.find(w.running).orElseThrow()).snapshot();
    store.corruptForTesting(
        WorkOrder.restore(
            with(current, current.state(), current.version() + 1, current.leaseExpiresAt())));
    assertThat(store.find(w.running).orElseThrow().progress()).contains(progress);
    RebuildReport repair = store.rebuildProjection(RebuildMode.REPAIR);

    assertThat(differences(repair)).containsOnlyKeys(w.running);
    WorkOrderView repaired = store.find(w.running).orElseThrow();
    assertThat(repaired.version()).isEqualTo(running.version());
    assertThat(repaired.leaseExpiresAt()).contains(renewedTo);
    assertThat(repaired.progress()).contains(progress);
    assertThat(store.find(w.preparing).orElseThrow().progress()).contains(other);
    assertThat(store.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
  }

  @Test
  void
      a_damaged_checkpoint_batch_or_dependency_list_is_reported_by_name_and_repaired_from_the_log() {
    BatchId batch = BatchId.of("batch-1");
    WorkOrderId blocked =
        workOrder(
            new WorkOrderEvent.Submitted(
                WorkOrderSpec.builder("t").queue(QUEUE).after(w.pending, w.failed).build(),
                null,
                batch,
                List.of(w.pending, w.failed)));
    JsonNode state = JsonNodeFactory.instance.objectNode().put("offset", 10);
    store.append(
        w.running, ExpectedVersion.exactly(3), List.of(new WorkOrderEvent.Checkpointed(1, state)));
    Map<WorkOrderId, ViewSnapshot> before = views();
    before.put(blocked, ViewSnapshot.of(store.find(blocked).orElseThrow()));

    damage(w.running, s -> withNew(s, s.batch(), s.dependencies(), null));
    damage(blocked, s -> withNew(s, BatchId.of("other"), List.of(w.pending), s.checkpoint()));
    damage(w.completed, s -> withNew(s, batch, s.dependencies(), state));
    RebuildReport verify = store.rebuildProjection(RebuildMode.VERIFY);

    assertThat(differences(verify))
        .containsOnlyKeys(w.running, blocked, w.completed)
        .hasEntrySatisfying(w.running, d -> assertThat(d).startsWith("checkpoint"))
        .hasEntrySatisfying(blocked, d -> assertThat(d).contains("batch").contains("dependencies"))
        .hasEntrySatisfying(
            w.completed, d -> assertThat(d).contains("batch").contains("checkpoint"));

    RebuildReport repair = store.rebuildProjection(RebuildMode.REPAIR);

    assertThat(differences(repair)).containsOnlyKeys(w.running, blocked, w.completed);
    Map<WorkOrderId, ViewSnapshot> after = views();
    after.put(blocked, ViewSnapshot.of(store.find(blocked).orElseThrow()));
    assertThat(after).isEqualTo(before);
    assertThat(store.find(w.running).orElseThrow().checkpoint()).contains(state);
    assertThat(store.find(blocked).orElseThrow().batch()).contains(batch);
    assertThat(store.find(blocked).orElseThrow().dependencies())
        .containsExactly(w.pending, w.failed);
    assertThat(store.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
  }

  @Test
  void repair_of_a_blocked_work_order_with_a_damaged_state_restores_it_and_its_indexes() {
    WorkOrderId blocked =
        workOrder(
            new WorkOrderEvent.Submitted(
                WorkOrderSpec.builder("t").queue(QUEUE).after(w.completed).build(),
                null,
                null,
                List.of(w.completed)));
    assertThat(store.resolvableBlocked(10)).extracting(WorkOrderView::id).containsExactly(blocked);
    damage(blocked, s -> with(s, WorkOrderState.PENDING, s.version(), s.leaseExpiresAt()));
    assertThat(store.resolvableBlocked(10)).isEmpty();

    RebuildReport repair = store.rebuildProjection(RebuildMode.REPAIR);

    assertThat(differences(repair)).containsOnlyKeys(blocked);
    assertThat(store.find(blocked).orElseThrow().state()).isEqualTo(WorkOrderState.BLOCKED);
    assertThat(store.resolvableBlocked(10)).extracting(WorkOrderView::id).containsExactly(blocked);
    assertThat(store.claim(claim(10))).extracting(WorkOrderView::id).containsExactly(w.pending);
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  private record World(
      WorkOrderId pending,
      WorkOrderId preparing,
      WorkOrderId running,
      WorkOrderId waiting,
      WorkOrderId completed,
      WorkOrderId failed) {
    List<WorkOrderId> all() {
      return List.of(pending, preparing, running, waiting, completed, failed);
    }
  }

  /** One work order in each of six states: 16 events. */
  private World world() {
    Instant lease = clock.instant().plus(LEASE);
    WorkOrderId failed = workOrder(submitted(QUEUE), claimed("node-a", lease), failedForGood());
    WorkOrderId preparing = workOrder(submitted(QUEUE), claimed("node-a", lease));
    WorkOrderId running = workOrder(submitted(QUEUE), claimed("node-a", lease), started());
    WorkOrderId waiting =
        workOrder(
            submitted(QUEUE),
            claimed("node-a", lease),
            failedWithRetry(clock.instant().plusSeconds(60)));
    WorkOrderId completed =
        workOrder(submitted(QUEUE), claimed("node-a", lease), started(), completedWith(7));
    clock.advance(Duration.ofMillis(5));
    WorkOrderId pending = workOrder(submitted(QUEUE));
    clock.advance(Duration.ofMillis(5));
    return new World(pending, preparing, running, waiting, completed, failed);
  }

  private WorkOrderId workOrder(WorkOrderEvent... events) {
    WorkOrderId id = newId();
    store.append(id, ExpectedVersion.none(), List.of(events));
    return id;
  }

  private ClaimRequest claim(int limit) {
    return new ClaimRequest(QUEUE, "node-b", limit, Capacity.unlimited(), clock.instant(), LEASE);
  }

  /** Puts the fold of the work order's log, changed by {@code change}, in place of its view. */
  private void damage(WorkOrderId id, UnaryOperator<WorkOrderSnapshot> change) {
    WorkOrderSnapshot real = WorkOrder.fold(store.readStream(id)).snapshot();
    store.corruptForTesting(WorkOrder.restore(change.apply(real)));
  }

  private static WorkOrderSnapshot with(
      WorkOrderSnapshot s, WorkOrderState state, long version, Instant leaseExpiresAt) {
    return new WorkOrderSnapshot(
        s.id(),
        s.spec(),
        s.resubmittedFrom(),
        state,
        s.attempt(),
        version,
        s.submittedAt(),
        s.updatedAt(),
        s.availableAt(),
        s.leaseOwner(),
        leaseExpiresAt,
        s.lastError(),
        s.nextAttemptAt(),
        s.result(),
        s.cancellationReason(),
        s.releases(),
        s.batch(),
        s.dependencies(),
        s.checkpoint(),
        s.progress());
  }

  private static WorkOrderSnapshot withNew(
      WorkOrderSnapshot s, BatchId batch, List<WorkOrderId> dependencies, JsonNode checkpoint) {
    return new WorkOrderSnapshot(
        s.id(),
        s.spec(),
        s.resubmittedFrom(),
        s.state(),
        s.attempt(),
        s.version(),
        s.submittedAt(),
        s.updatedAt(),
        s.availableAt(),
        s.leaseOwner(),
        s.leaseExpiresAt(),
        s.lastError(),
        s.nextAttemptAt(),
        s.result(),
        s.cancellationReason(),
        s.releases(),
        batch,
        dependencies,
        checkpoint,
        s.progress());
  }

  private Map<WorkOrderId, ViewSnapshot> views() {
    Map<WorkOrderId, ViewSnapshot> out = new LinkedHashMap<>();
    for (WorkOrderId id : w.all()) {
      out.put(id, ViewSnapshot.of(store.find(id).orElseThrow()));
    }
    return out;
  }

  private static Map<WorkOrderId, String> differences(RebuildReport report) {
    Map<WorkOrderId, String> out = new LinkedHashMap<>();
    for (ProjectionMismatch m : report.mismatches()) {
      assertThat(out.put(m.workOrderId(), m.difference()))
          .as("%s reported twice", m.workOrderId())
          .isNull();
    }
    return out;
  }
}
