package dev.workgate.retry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.retry.internal.RetryDecision;
import dev.workgate.retry.internal.RetryManager;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A retry scheduled on a SQLite file survives a restart: a new manager on the reopened file
 * releases it at its due time, exactly once, and not before.
 */
class SqliteRetryRestartTest {

  @TempDir Path dir;

  private WorkOrderStore open(MutableClock clock) {
    return Stores.sqlite(dir.resolve("workgate.db"), SqliteOptions.builder().clock(clock).build());
  }

  @Test
  void a_retry_scheduled_before_a_restart_is_released_once_at_its_due_time_after_it() {
    MutableClock clock = MutableClock.create();
    WorkOrderId id;
    Instant due;
    try (WorkOrderStore store = open(clock)) {
      RetryManagerTestKit kit = new RetryManagerTestKit(store, clock);
      RetryManager before =
          RetryManager.builder(store).clock(clock).random(new SplittableRandom(7)).build();
      id = kit.submit("default");
      RetryDecision decision =
          before.recordFailure(
              kit.running(id), ErrorInfo.retryable(ErrorCodes.OOM_KILLED, "exit code 137"));
      due = decision.retryAt().orElseThrow();
    }

    clock.advance(Duration.ofSeconds(1));
    try (WorkOrderStore reopened = open(clock)) {
      RetryManagerContractTest.RecordingListener heard =
          new RetryManagerContractTest.RecordingListener();
      RetryManager after = RetryManager.builder(reopened).clock(clock).listener(heard).build();
      RetryManagerTestKit kit = new RetryManagerTestKit(reopened, clock);

      assertThat(after.nextDueTime()).contains(due);
      assertThat(after.stats().pendingRetries()).isEqualTo(1);
      clock.set(due.minusNanos(1_000));
      assertThat(after.releaseDue(clock.instant(), 100)).isZero();
      assertThat(kit.view(id).state()).isEqualTo(WorkOrderState.WAITING_RETRY);

      clock.set(due);
      assertThat(after.releaseDue(clock.instant(), 100)).isEqualTo(1);
      clock.advance(Duration.ofMinutes(10));
      assertThat(after.releaseDue(clock.instant(), 100)).isZero();

      assertThat(kit.view(id).state()).isEqualTo(WorkOrderState.PENDING);
      assertThat(kit.count(id, EventType.RETRY_RELEASED)).isEqualTo(1);
      assertThat(heard.released).extracting(v -> v.id()).containsExactly(id);
      assertThat(after.nextDueTime()).isEmpty();
    }
  }

  @Test
  void many_retries_with_spread_due_times_come_back_in_due_order_after_a_restart() {
    MutableClock clock = MutableClock.create();
    List<WorkOrderId> ids;
    List<Instant> dueTimes = new ArrayList<>();
    try (WorkOrderStore store = open(clock)) {
      RetryManagerTestKit kit = new RetryManagerTestKit(store, clock);
      RetryManager before =
          RetryManager.builder(store).clock(clock).random(new SplittableRandom(11)).build();
      ids = kit.submitMany("default", 50);
      for (WorkOrderId id : ids) {
        dueTimes.add(
            before
                .recordFailure(kit.running(id), ErrorInfo.retryable(ErrorCodes.TIMEOUT, "slow"))
                .retryAt()
                .orElseThrow());
      }
    }

    try (WorkOrderStore reopened = open(clock)) {
      RetryManager after = RetryManager.builder(reopened).clock(clock).build();
      RetryManagerTestKit kit = new RetryManagerTestKit(reopened, clock);
      List<Instant> sorted = dueTimes.stream().sorted().toList();
      int released = 0;
      for (Instant due : sorted) {
        assertThat(after.nextDueTime()).contains(due);
        clock.set(due);
        released += after.releaseDue(due, 1);
      }
      assertThat(released).isEqualTo(ids.size());
      for (WorkOrderId id : ids) {
        assertThat(kit.count(id, EventType.RETRY_RELEASED)).isEqualTo(1);
      }
    }
  }
}
