package dev.workgate.scheduler.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.core.testing.WorkOrderFixtures;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.retry.internal.RetryManager;
import dev.workgate.scheduler.MemoryProbe;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.spi.ExpectedVersion;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's process is killed while it runs work on a SQLite file: nothing is released, completed or
 * failed. The restarted process, under the same node id or another, leaves the work alone while the
 * dead process's leases last, reaps it when they run out (it holds none of it in memory, so it must
 * not take the dead process's claims for its own and renew them) by releasing the attempts without
 * charging them, and runs them again at once. Driven by {@link Scheduler#runOnce()} on a {@link
 * MutableClock}: no threads, no sleeps.
 */
class SqliteRestartRecoveryTest {
  private static final Duration LEASE = Duration.ofSeconds(30);
  private static final Duration RENEW = Duration.ofSeconds(10);
  private static final Duration RETRY_DELAY = Duration.ofSeconds(1);
  private static final String DEAD_NODE = "node-1";
  private static final MemoryProbe PLENTY =
      () -> new MemoryReading(64L << 30, 48L << 30, "fixed test probe");

  @TempDir Path dir;

  private final MutableClock clock = MutableClock.create();

  @Test
  void
      restarted_under_the_same_node_id_it_reaps_the_dead_processes_claims_and_does_not_renew_them() {
    killedAndRestartedAs(DEAD_NODE);
  }

  @Test
  void restarted_under_another_node_id_it_reaps_the_dead_processes_claims_and_runs_them_again() {
    killedAndRestartedAs("node-2");
  }

  private void killedAndRestartedAs(String restartedNode) {
    List<WorkOrderId> ids = new ArrayList<>();
    Instant expiry;
    WorkOrderStore first = open();
    try {
      StartingDispatcher dispatcher = new StartingDispatcher(first);
      Scheduler dead = scheduler(first, dispatcher, DEAD_NODE);
      for (int i = 0; i < 3; i++) {
        ids.add(dead.submit(WorkOrderFixtures.spec("default").payload(i).build()));
      }
      expiry = clock.instant().plus(LEASE);
      dead.runOnce();
      assertThat(dispatched(dispatcher)).containsExactlyInAnyOrderElementsOf(ids);
      assertThat(dead.activeWork()).hasSize(3);
      for (WorkOrderId id : ids) {
        WorkOrderView view = first.find(id).orElseThrow();
        assertThat(view.state()).isEqualTo(WorkOrderState.RUNNING);
        assertThat(view.leaseOwner()).contains(DEAD_NODE);
        assertThat(view.leaseExpiresAt()).contains(expiry);
      }
    } finally {
      first.close(); // killed: nothing released, completed or failed; the scheduler just stops
    }

    clock.advance(Duration.ofSeconds(5));
    try (WorkOrderStore store = open()) {
      StartingDispatcher dispatcher = new StartingDispatcher(store);
      Scheduler restarted = scheduler(store, dispatcher, restartedNode);

      // Within the dead process's leases: nothing to reap, nothing to claim, nothing renewed.
      restarted.runOnce();
      clock.set(expiry.minusMillis(1));
      restarted.runOnce();
      assertThat(restarted.stats().reaped()).isZero();
      assertThat(restarted.stats().claimed()).isZero();
      assertThat(restarted.activeWork()).isEmpty();
      assertThat(dispatcher.dispatched).isEmpty();
      for (WorkOrderId id : ids) {
        WorkOrderView view = store.find(id).orElseThrow();
        assertThat(view.state()).isEqualTo(WorkOrderState.RUNNING);
        assertThat(view.attempt()).isEqualTo(1);
        assertThat(view.leaseOwner()).contains(DEAD_NODE);
        assertThat(view.leaseExpiresAt()).as("lease of %s", id).contains(expiry);
      }

      // The leases run out: all three are released without costing an attempt, none renewed, and
      // claimed again in the same turn as attempt 2 (the first one charged after the dead one's).
      clock.set(expiry);
      Instant claimedAt = clock.instant();
      restarted.runOnce();
      assertThat(restarted.stats().reaped()).isEqualTo(3);
      assertThat(dispatched(dispatcher)).containsExactlyInAnyOrderElementsOf(ids);
      assertThat(dispatcher.dispatched).extracting(ClaimedWork::attempt).containsOnly(2);
      assertThat(restarted.activeWork()).hasSize(3);
      assertThat(restarted.resources().activeSlots()).isEqualTo(3);
      for (WorkOrderId id : ids) {
        WorkOrderView view = store.find(id).orElseThrow();
        assertThat(view.state()).isEqualTo(WorkOrderState.RUNNING);
        assertThat(view.attempt()).isEqualTo(2);
        assertThat(view.releases()).isEqualTo(1);
        assertThat(view.chargedAttempts()).isEqualTo(1);
        assertThat(view.leaseOwner()).contains(restartedNode);
        assertThat(view.leaseExpiresAt()).contains(claimedAt.plus(LEASE));
        List<RecordedEvent> stream = store.readStream(id);
        assertThat(stream)
            .extracting(e -> e.event().type())
            .containsExactly(
                EventType.SUBMITTED,
                EventType.CLAIMED,
                EventType.STARTED,
                EventType.RELEASED,
                EventType.CLAIMED,
                EventType.STARTED);
        WorkOrderEvent.Released released = (WorkOrderEvent.Released) stream.get(3).event();
        assertThat(released.code()).isEqualTo(ErrorCodes.LEASE_EXPIRED);
        assertThat(released.reason()).contains(DEAD_NODE);
        assertThat(((WorkOrderEvent.Claimed) stream.get(4).event()).owner())
            .isEqualTo(restartedNode);
      }
    }
  }

  private WorkOrderStore open() {
    return Stores.sqlite(dir.resolve("workgate.db"), SqliteOptions.builder().clock(clock).build());
  }

  private Scheduler scheduler(WorkOrderStore store, WorkDispatcher dispatcher, String nodeId) {
    RetryManager retries =
        RetryManager.builder(store)
            .clock(clock)
            .defaultPolicy(
                RetryPolicy.builder().baseDelay(RETRY_DELAY).jitter(Jitter.none()).build())
            .build();
    return Scheduler.builder(store, dispatcher)
        .config(
            SchedulerConfig.builder()
                .nodeId(nodeId)
                .leaseDuration(LEASE)
                .renewInterval(RENEW)
                .build())
        .resources(
            new ResourceMonitor(ResourceConfig.builder().maxConcurrent(8).build(), PLENTY, clock))
        .retries(retries)
        .clock(clock)
        .build();
  }

  private static List<WorkOrderId> dispatched(StartingDispatcher dispatcher) {
    List<WorkOrderId> ids = new ArrayList<>();
    for (ClaimedWork work : dispatcher.dispatched) {
      ids.add(work.id());
    }
    return ids;
  }

  /**
   * Records each claim and starts it at once: appends {@code Started} under the claim's version.
   */
  private static final class StartingDispatcher implements WorkDispatcher {
    final List<ClaimedWork> dispatched = new CopyOnWriteArrayList<>();
    private final WorkOrderStore store;

    StartingDispatcher(WorkOrderStore store) {
      this.store = store;
    }

    @Override
    public void dispatch(ClaimedWork work) {
      dispatched.add(work);
      store.append(
          work.id(),
          ExpectedVersion.exactly(work.view().version()),
          List.of(new WorkOrderEvent.Started("sandbox-" + work.attempt())));
    }
  }
}
