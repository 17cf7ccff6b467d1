package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.NodeParts;
import dev.workgate.TransitionListener.StateChange;
import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.execution.Sandbox;
import dev.workgate.execution.SandboxProvider;
import dev.workgate.execution.SandboxProvider.SandboxRecord;
import dev.workgate.execution.SandboxProvider.SandboxRequest;
import dev.workgate.observability.WorkgateMetrics.WorkgateMeter;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Timers and ages measured on a {@link MutableClock}: through a real node whose clock the test
 * moves, and by feeding state changes straight into the binder's listener.
 */
@Timeout(60)
class WorkgateMetricsTimingTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final long GB = 1L << 30;

  @TempDir Path dir;
  final MutableClock clock = MutableClock.create();
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final List<AutoCloseable> opened = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = opened.size() - 1; i >= 0; i--) {
      opened.get(i).close();
    }
  }

  Workgate.Builder node() {
    return Workgate.builder()
        .nodeId("node-1")
        .clock(clock)
        .sandboxRoot(dir.resolve("sandboxes"))
        .pollInterval(Duration.ofMillis(50))
        .retryPolicy(RetryPolicy.none())
        .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"));
  }

  WorkgateMetrics bind(Workgate w) {
    opened.add(w);
    WorkgateMetrics m = new WorkgateMetrics(w);
    opened.add(m);
    m.bindTo(registry);
    return m;
  }

  Timer timer(WorkgateMeter meter, String... tags) {
    return registry.get(meter.meterName()).tags(tags).timer();
  }

  double gauge(WorkgateMeter meter, String... tags) {
    Gauge g = registry.get(meter.meterName()).tags(tags).gauge();
    return g.value();
  }

  @Test
  void a_node_measures_wait_execution_and_end_to_end_by_its_clock() throws Exception {
    Workgate w =
        node()
            .handler(
                "five-seconds",
                ctx -> {
                  clock.advance(Duration.ofSeconds(5));
                  return WorkResult.ok();
                })
            .build();
    bind(w);
    WorkOrderId id = w.submit(WorkOrderSpec.builder("five-seconds").build());
    clock.advance(Duration.ofSeconds(3)); // claimable at t, claimed at t + 3 s
    w.start();
    assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    await()
        .atMost(WAIT)
        .until(() -> registry.find("workgate.work.orders.end.to.end").timer() != null);

    Timer wait = timer(WorkgateMeter.WORK_ORDERS_WAIT, "queue", "default");
    assertThat(wait.count()).isEqualTo(1);
    assertThat(wait.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(3000.0);
    Timer execution =
        timer(WorkgateMeter.WORK_ORDERS_EXECUTION, "queue", "default", "outcome", "completed");
    assertThat(execution.count()).isEqualTo(1);
    assertThat(execution.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(5000.0);
    Timer endToEnd =
        timer(WorkgateMeter.WORK_ORDERS_END_TO_END, "queue", "default", "outcome", "completed");
    assertThat(endToEnd.count()).isEqualTo(1);
    assertThat(endToEnd.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(8000.0);
  }

  @Test
  void an_execution_stuck_preparing_shows_its_age_and_a_failed_creation_times_no_execution()
      throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Workgate w = node().sandboxProvider("stuck", new StuckProvider(release)).build();
    bind(w);
    WorkOrderId id = w.submit(WorkOrderSpec.builder("stuck").build());
    w.start();
    await()
        .atMost(WAIT)
        .until(() -> gauge(WorkgateMeter.EXECUTIONS_ACTIVE, "status", "PREPARING") == 1.0);
    assertThat(gauge(WorkgateMeter.EXECUTIONS_PREPARING_OLDEST_AGE)).isZero();
    assertThat(gauge(WorkgateMeter.SLOTS_ACTIVE)).isEqualTo(1.0);
    clock.advance(Duration.ofSeconds(42));
    assertThat(gauge(WorkgateMeter.EXECUTIONS_PREPARING_OLDEST_AGE)).isEqualTo(42.0);
    assertThat(gauge(WorkgateMeter.EXECUTIONS_ACTIVE, "status", "RUNNING")).isZero();

    release.countDown();
    assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.FAILED);
    await()
        .atMost(WAIT)
        .until(
            () ->
                registry
                        .find(WorkgateMeter.ATTEMPTS_FAILED.meterName())
                        .tags("error.code", ErrorCodes.SANDBOX_CREATION_FAILED, "outcome", "final")
                        .counter()
                    != null);
    assertThat(registry.find(WorkgateMeter.WORK_ORDERS_EXECUTION.meterName()).timers()).isEmpty();
    assertThat(
            timer(WorkgateMeter.WORK_ORDERS_END_TO_END, "queue", "default", "outcome", "failed")
                .totalTime(TimeUnit.SECONDS))
        .isEqualTo(42.0);
    await()
        .atMost(WAIT)
        .until(() -> gauge(WorkgateMeter.EXECUTIONS_ACTIVE, "status", "PREPARING") == 0.0);
    assertThat(gauge(WorkgateMeter.EXECUTIONS_PREPARING_OLDEST_AGE)).isZero();
  }

  @Test
  void the_heartbeat_age_is_the_time_since_the_loop_last_began_a_turn() {
    Workgate w = node().handler("ok", ctx -> WorkResult.ok()).build();
    bind(w);
    assertThat(gauge(WorkgateMeter.SCHEDULER_HEARTBEAT_AGE)).isZero(); // no turn yet
    NodeParts.runOnce(w);
    clock.advance(Duration.ofSeconds(10));
    assertThat(gauge(WorkgateMeter.SCHEDULER_HEARTBEAT_AGE)).isEqualTo(10.0);
    clock.advance(Duration.ofMillis(500)); // within the cache's TTL the age still moves
    assertThat(gauge(WorkgateMeter.SCHEDULER_HEARTBEAT_AGE)).isEqualTo(10.5);
    NodeParts.runOnce(w);
    clock.advance(Duration.ofSeconds(2));
    assertThat(gauge(WorkgateMeter.SCHEDULER_HEARTBEAT_AGE)).isEqualTo(2.0);
  }

  @Test
  void memory_pressure_is_the_level_ordinal_and_slots_are_the_monitor_s() {
    AtomicLong available = new AtomicLong(60 * GB);
    Workgate w =
        node()
            .maxConcurrent(3)
            .memoryProbe(() -> new MemoryReading(64 * GB, available.get(), "test"))
            .handler("ok", ctx -> WorkResult.ok())
            .build();
    bind(w);
    NodeParts.runOnce(w); // a turn refreshes the memory reading
    assertThat(gauge(WorkgateMeter.MEMORY_PRESSURE)).isZero();
    assertThat(gauge(WorkgateMeter.SLOTS_MAX)).isEqualTo(3.0);
    assertThat(gauge(WorkgateMeter.SLOTS_ACTIVE)).isZero();
    available.set(8 * GB); // 87.5 % used: warning
    NodeParts.runOnce(w);
    assertThat(gauge(WorkgateMeter.MEMORY_PRESSURE)).isEqualTo(1.0);
    available.set(GB); // 98 % used: critical
    NodeParts.runOnce(w);
    assertThat(gauge(WorkgateMeter.MEMORY_PRESSURE)).isEqualTo(2.0);
  }

  @Test
  void the_oldest_pending_age_is_the_longest_claimable_wait_not_a_delayed_one() {
    Workgate w = node().handler("ok", ctx -> WorkResult.ok()).build();
    bind(w);
    Instant t = clock.instant();
    // First in submission order, but not claimable for an hour: it has not waited at all.
    w.submit(WorkOrderSpec.builder("ok").notBefore(t.plus(Duration.ofHours(1))).build());
    clock.advance(Duration.ofSeconds(20));
    w.submit(WorkOrderSpec.builder("ok").build()); // claimable at t + 20 s
    clock.advance(Duration.ofSeconds(30));
    w.submit(WorkOrderSpec.builder("ok").build()); // claimable at t + 50 s
    clock.advance(Duration.ofSeconds(10));
    assertThat(gauge(WorkgateMeter.WORK_ORDERS_OLDEST_PENDING_AGE, "queue", "default"))
        .isEqualTo(40.0);
    assertThat(gauge(WorkgateMeter.WORK_ORDERS, "queue", "default", "state", "PENDING"))
        .isEqualTo(3.0);
  }

  // ---- state changes fed straight into the listener ----

  static final WorkOrderId ID = WorkOrderId.of("wo-1");
  static final Instant T = MutableClock.DEFAULT_START;

  static StateChange change(
      long version,
      Instant at,
      WorkOrderEvent event,
      int attempt,
      WorkOrderState from,
      WorkOrderState to,
      Instant availableAt) {
    return new StateChange(
        new RecordedEvent(version, ID, version, at, event),
        "fed",
        attempt,
        Optional.ofNullable(from),
        to,
        T,
        availableAt);
  }

  @Test
  void fed_changes_time_a_retry_and_a_completion_from_their_own_times() {
    Workgate w = node().handler("ok", ctx -> WorkResult.ok()).build();
    WorkgateMetrics m = bind(w);
    Instant released = T.plusSeconds(60);
    m.record(
        change(
            1,
            T,
            WorkOrderEvent.Submitted.of(WorkOrderSpec.builder("ok").queue("fed").build()),
            0,
            null,
            WorkOrderState.PENDING,
            T));
    m.record(
        change(
            2,
            T.plusSeconds(3),
            new WorkOrderEvent.Claimed("node-1", T.plusSeconds(33)),
            1,
            WorkOrderState.PENDING,
            WorkOrderState.PREPARING,
            T));
    m.record(
        change(
            3,
            T.plusSeconds(4),
            new WorkOrderEvent.Started("sb-1"),
            1,
            WorkOrderState.PREPARING,
            WorkOrderState.RUNNING,
            T));
    m.record(
        change(
            4,
            T.plusSeconds(11),
            WorkOrderEvent.AttemptFailed.retryAt(
                ErrorInfo.retryable(ErrorCodes.TIMEOUT, "slow"), released, "retry 2 of 3"),
            1,
            WorkOrderState.RUNNING,
            WorkOrderState.WAITING_RETRY,
            T));
    m.record(
        change(
            5,
            released,
            new WorkOrderEvent.RetryReleased(),
            1,
            WorkOrderState.WAITING_RETRY,
            WorkOrderState.PENDING,
            released));
    m.record(
        change(
            6,
            released.plusSeconds(2),
            new WorkOrderEvent.Claimed("node-1", released.plusSeconds(32)),
            2,
            WorkOrderState.PENDING,
            WorkOrderState.PREPARING,
            released));
    m.record(
        change(
            7,
            released.plusSeconds(2),
            new WorkOrderEvent.Started("sb-2"),
            2,
            WorkOrderState.PREPARING,
            WorkOrderState.RUNNING,
            released));
    m.record(
        change(
            8,
            released.plusSeconds(9),
            new WorkOrderEvent.Completed(null),
            2,
            WorkOrderState.RUNNING,
            WorkOrderState.COMPLETED,
            released));

    Timer wait = timer(WorkgateMeter.WORK_ORDERS_WAIT, "queue", "fed");
    assertThat(wait.count()).isEqualTo(2);
    assertThat(wait.totalTime(TimeUnit.SECONDS)).isEqualTo(5.0); // 3 s, then 2 s after release
    assertThat(wait.max(TimeUnit.SECONDS)).isEqualTo(3.0);
    assertThat(
            timer(WorkgateMeter.WORK_ORDERS_EXECUTION, "queue", "fed", "outcome", "retry")
                .totalTime(TimeUnit.SECONDS))
        .isEqualTo(7.0);
    assertThat(
            timer(WorkgateMeter.WORK_ORDERS_EXECUTION, "queue", "fed", "outcome", "completed")
                .totalTime(TimeUnit.SECONDS))
        .isEqualTo(7.0);
    assertThat(
            timer(WorkgateMeter.WORK_ORDERS_END_TO_END, "queue", "fed", "outcome", "completed")
                .totalTime(TimeUnit.SECONDS))
        .isEqualTo(69.0);
    Counter retry =
        registry
            .get(WorkgateMeter.ATTEMPTS_FAILED.meterName())
            .tags("queue", "fed", "error.code", "TIMEOUT", "outcome", "retry")
            .counter();
    assertThat(retry.count()).isEqualTo(1);
    assertThat(registry.find(WorkgateMeter.WORK_ORDERS_FAILED.meterName()).counters()).isEmpty();
    assertThat(
            registry.get(WorkgateMeter.WORK_ORDERS_TRANSITIONS.meterName()).counters().stream()
                .mapToDouble(Counter::count)
                .sum())
        .isEqualTo(8);
    assertThat(m.rememberedStarts()).isZero();
  }

  @Test
  void an_outcome_of_another_attempt_than_the_remembered_start_times_nothing() {
    Workgate w = node().handler("ok", ctx -> WorkResult.ok()).build();
    WorkgateMetrics m = bind(w);
    m.record(
        change(
            3,
            T.plusSeconds(4),
            new WorkOrderEvent.Started("sb-1"),
            1,
            WorkOrderState.PREPARING,
            WorkOrderState.RUNNING,
            T));
    // Attempt 1's outcome was stored elsewhere (its lease was reaped); attempt 2 ends here.
    m.record(
        change(
            9,
            T.plusSeconds(100),
            new WorkOrderEvent.Cancelled("stop"),
            2,
            WorkOrderState.RUNNING,
            WorkOrderState.CANCELLED,
            T));
    assertThat(registry.find(WorkgateMeter.WORK_ORDERS_EXECUTION.meterName()).timers()).isEmpty();
    assertThat(
            timer(WorkgateMeter.WORK_ORDERS_END_TO_END, "queue", "fed", "outcome", "cancelled")
                .totalTime(TimeUnit.SECONDS))
        .isEqualTo(100.0);
    assertThat(m.rememberedStarts()).isZero();
  }

  @Test
  void start_times_without_an_outcome_are_pruned_once_they_pass_the_bound() {
    Workgate w = node().handler("ok", ctx -> WorkResult.ok()).build();
    WorkgateMetrics m = bind(w);
    int bound =
        Math.max(
            WorkgateMetrics.MIN_STARTS_BOUND,
            WorkgateMetrics.STARTS_PER_SLOT * w.node().maxSlots());
    for (int i = 0; i < bound; i++) {
      m.record(
          new StateChange(
              new RecordedEvent(
                  i + 1, WorkOrderId.of("lost-" + i), 3, T, new WorkOrderEvent.Started("sb")),
              "fed",
              1,
              Optional.of(WorkOrderState.PREPARING),
              WorkOrderState.RUNNING,
              T,
              T));
    }
    assertThat(m.rememberedStarts()).isEqualTo(bound);
    m.record(
        new StateChange(
            new RecordedEvent(bound + 1, ID, 3, T, new WorkOrderEvent.Started("sb")),
            "fed",
            1,
            Optional.of(WorkOrderState.PREPARING),
            WorkOrderState.RUNNING,
            T,
            T));
    // None of them executes on this node, so none is kept.
    assertThat(m.rememberedStarts()).isZero();
  }

  /** Blocks in {@code create} until released, then fails the creation. */
  private static final class StuckProvider implements SandboxProvider {
    private final CountDownLatch release;

    StuckProvider(CountDownLatch release) {
      this.release = release;
    }

    @Override
    public Sandbox create(SandboxRequest request) throws Exception {
      if (!release.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("never released");
      }
      throw new IllegalStateException("no sandbox today");
    }

    @Override
    public List<SandboxRecord> list() {
      return List.of();
    }

    @Override
    public void destroyOrphan(SandboxRecord orphan) {}
  }
}
