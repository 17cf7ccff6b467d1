package dev.workgate.scheduler.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.scheduler.internal.SchedulerTest.RecordingDispatcher;
import dev.workgate.spi.ExpectedVersion;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Self-fencing: a node that cannot renew a lease stops the work itself by the lease's expiry minus
 * the margin, never later, whether the store throws or hangs, and whether or not the loop thread is
 * stuck in the store.
 */
class SelfFencingTest {
  static final long GB = 1L << 30;
  static final Duration LEASE = Duration.ofSeconds(30);
  static final Duration RENEW = Duration.ofSeconds(10);
  static final Duration MARGIN = Duration.ofSeconds(12);

  MutableClock clock;
  WorkOrderStore store;
  RecordingDispatcher dispatched;

  /** What renewLease does: answer as the store does, throw, or block until released. */
  enum Renewal {
    WORKS,
    THROWS,
    HANGS
  }

  final AtomicReference<Renewal> renewal = new AtomicReference<>(Renewal.WORKS);
  final AtomicInteger renewCalls = new AtomicInteger();
  final CountDownLatch hangEntered = new CountDownLatch(1);
  final CountDownLatch unhang = new CountDownLatch(1);
  Scheduler scheduler;

  @BeforeEach
  void open() {
    clock = MutableClock.create();
    store = Stores.inMemory(clock);
    dispatched = new RecordingDispatcher();
  }

  @AfterEach
  void close() throws Exception {
    unhang.countDown();
    if (scheduler != null) {
      scheduler.close();
    }
    store.close();
  }

  /** The store, with renewLease doing what {@link #renewal} says. */
  WorkOrderStore partitionable() {
    return (WorkOrderStore)
        Proxy.newProxyInstance(
            WorkOrderStore.class.getClassLoader(),
            new Class<?>[] {WorkOrderStore.class},
            (proxy, method, args) -> {
              if (method.getName().equals("renewLease")) {
                renewCalls.incrementAndGet();
                switch (renewal.get()) {
                  case THROWS:
                    throw new StoreException("renewLease failed (test: the store is unreachable)");
                  case HANGS:
                    hangEntered.countDown();
                    unhang.await();
                    throw new StoreException("renewLease timed out (test)");
                  default:
                    break;
                }
              }
              try {
                return method.invoke(store, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  Scheduler scheduler(SchedulerConfig.Builder config) {
    scheduler =
        Scheduler.builder(partitionable(), dispatched)
            .config(config.nodeId("node-1").build())
            .resources(
                new ResourceMonitor(
                    ResourceConfig.builder().maxConcurrent(2).build(),
                    () -> new MemoryReading(16 * GB, 12 * GB, "test"),
                    clock))
            .clock(clock)
            .build();
    return scheduler;
  }

  Scheduler scheduler() {
    return scheduler(
        SchedulerConfig.builder()
            .leaseDuration(LEASE)
            .renewInterval(RENEW)
            .selfFenceMargin(MARGIN));
  }

  WorkOrderView view(WorkOrderId id) {
    return store.find(id).orElseThrow();
  }

  static WorkOrderSpec spec() {
    return WorkOrderSpec.builder("job").build();
  }

  @Test
  void work_whose_renewals_throw_is_stopped_at_expiry_minus_the_margin_and_not_before() {
    Scheduler s = scheduler();
    WorkOrderId id = s.submit(spec());
    Instant claimedAt = clock.instant();
    s.runOnce();
    ClaimedWork work = dispatched.work.get(0);
    assertThat(work.leaseExpiresAt()).isEqualTo(claimedAt.plus(LEASE));
    Instant deadline = claimedAt.plus(LEASE).minus(MARGIN);
    renewal.set(Renewal.THROWS);

    clock.advance(RENEW);
    Instant next = s.runOnce(); // the renewal throws
    assertThat(renewCalls.get()).isEqualTo(1);
    assertThat(next).isBeforeOrEqualTo(deadline); // the loop wakes by the deadline at the latest
    clock.advance(Duration.ofSeconds(1));
    s.runOnce(); // tried again at the next turn, not a renew interval later
    assertThat(renewCalls.get()).isEqualTo(2);
    clock.set(deadline.minusMillis(1));
    s.runOnce();
    assertThat(dispatched.leaseLost).isEmpty();
    assertThat(work.isSelfFenced()).isFalse();

    clock.set(deadline);
    s.runOnce();

    assertThat(dispatched.leaseLost).containsExactly(id);
    assertThat(work.isSelfFenced()).isTrue();
    assertThat(s.selfFencedCount()).isEqualTo(1);
    assertThat(s.stats().selfFenced()).isEqualTo(1);
    int callsWhenFenced = renewCalls.get();
    clock.advance(Duration.ofSeconds(1));
    s.runOnce();
    assertThat(renewCalls.get()).as("a fenced lease is not renewed").isEqualTo(callsWhenFenced);
    assertThat(dispatched.leaseLost).containsExactly(id); // told once
    assertThat(s.selfFencedCount()).isEqualTo(1);
  }

  @Test
  void a_successful_renewal_moves_the_deadline_by_the_expiry_it_wrote() {
    Scheduler s = scheduler();
    WorkOrderId id = s.submit(spec());
    s.runOnce();
    ClaimedWork work = dispatched.work.get(0);
    clock.advance(RENEW);
    Instant renewedAt = clock.instant();
    s.runOnce(); // renewed
    assertThat(work.leaseExpiresAt()).isEqualTo(renewedAt.plus(LEASE));
    Instant deadline = renewedAt.plus(LEASE).minus(MARGIN);
    renewal.set(Renewal.THROWS);

    clock.set(deadline.minusMillis(1));
    s.runOnce();
    assertThat(dispatched.leaseLost).isEmpty();
    clock.set(deadline);
    s.runOnce();

    assertThat(dispatched.leaseLost).containsExactly(id);
    assertThat(s.selfFencedCount()).isEqualTo(1);
  }

  @Test
  void a_renewal_that_throws_for_one_claim_does_not_keep_the_others_from_being_renewed() {
    AtomicReference<WorkOrderId> poisoned = new AtomicReference<>();
    WorkOrderStore oneFails =
        (WorkOrderStore)
            Proxy.newProxyInstance(
                WorkOrderStore.class.getClassLoader(),
                new Class<?>[] {WorkOrderStore.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("renewLease") && args[0].equals(poisoned.get())) {
                    throw new StoreException("renewLease failed for one row (test)");
                  }
                  try {
                    return method.invoke(store, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    scheduler =
        Scheduler.builder(oneFails, dispatched)
            .config(
                SchedulerConfig.builder()
                    .nodeId("node-1")
                    .leaseDuration(LEASE)
                    .renewInterval(RENEW)
                    .selfFenceMargin(MARGIN)
                    .build())
            .clock(clock)
            .build();
    WorkOrderId first = scheduler.submit(spec());
    WorkOrderId second = scheduler.submit(spec());
    scheduler.runOnce();
    poisoned.set(first);
    clock.advance(RENEW);
    Instant renewedAt = clock.instant();

    scheduler.runOnce();

    assertThat(view(second).leaseExpiresAt()).contains(renewedAt.plus(LEASE));
    assertThat(view(first).leaseExpiresAt()).contains(renewedAt.minus(RENEW).plus(LEASE));
    assertThat(scheduler.stepFailureCount()).isEqualTo(1);
  }

  @Test
  void the_expiry_kept_is_the_one_computed_before_a_renewal_that_answered_late() {
    // A renewal that takes 5 s to answer true: the store holds the expiry sent, from before.
    WorkOrderStore slow =
        (WorkOrderStore)
            Proxy.newProxyInstance(
                WorkOrderStore.class.getClassLoader(),
                new Class<?>[] {WorkOrderStore.class},
                (proxy, method, args) -> {
                  try {
                    return method.invoke(store, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  } finally {
                    if (method.getName().equals("renewLease")) {
                      clock.advance(Duration.ofSeconds(5));
                    }
                  }
                });
    scheduler =
        Scheduler.builder(slow, dispatched)
            .config(SchedulerConfig.builder().nodeId("node-1").leaseDuration(LEASE).build())
            .clock(clock)
            .build();
    WorkOrderId id = scheduler.submit(spec());
    scheduler.runOnce();
    clock.advance(LEASE.dividedBy(3));
    Instant sent = clock.instant();

    scheduler.runOnce();

    assertThat(dispatched.work.get(0).leaseExpiresAt()).isEqualTo(sent.plus(LEASE));
    assertThat(view(id).leaseExpiresAt()).contains(sent.plus(LEASE));
  }

  @Test
  void a_claim_that_answers_after_its_self_fence_deadline_is_not_started() {
    // The claim commits, then its answer takes 20 s: past the deadline 12 s before the expiry.
    WorkOrderStore late =
        (WorkOrderStore)
            Proxy.newProxyInstance(
                WorkOrderStore.class.getClassLoader(),
                new Class<?>[] {WorkOrderStore.class},
                (proxy, method, args) -> {
                  try {
                    return method.invoke(store, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  } finally {
                    if (method.getName().equals("claim")) {
                      clock.advance(Duration.ofSeconds(20));
                    }
                  }
                });
    scheduler =
        Scheduler.builder(late, dispatched)
            .config(
                SchedulerConfig.builder()
                    .nodeId("node-1")
                    .leaseDuration(LEASE)
                    .renewInterval(RENEW)
                    .selfFenceMargin(MARGIN)
                    .build())
            .clock(clock)
            .build();
    WorkOrderId id = scheduler.submit(spec());

    scheduler.runOnce();

    assertThat(dispatched.work).isEmpty();
    assertThat(scheduler.activeWork()).isEmpty();
    assertThat(scheduler.resources().activeSlots()).isZero();
    assertThat(scheduler.selfFencedCount()).isEqualTo(1);
    assertThat(view(id).state()).as("left to expire").isEqualTo(WorkOrderState.PREPARING);
  }

  @Test
  void a_renewal_that_answers_false_signals_a_lost_lease_that_is_not_counted_as_self_fenced() {
    Scheduler s = scheduler();
    WorkOrderId id = s.submit(spec());
    s.runOnce();
    ClaimedWork work = dispatched.work.get(0);
    WorkOrderView claimed = view(id);
    // Someone else moves the work order on behind this node's back.
    store.append(
        id,
        ExpectedVersion.exactly(claimed.version()),
        List.of(
            WorkOrderEvent.AttemptFailed.retryAt(
                dev.workgate.core.ErrorInfo.retryable(ErrorCodes.TIMEOUT, "elsewhere"),
                clock.instant().plusSeconds(60),
                "test")));

    clock.advance(RENEW);
    s.runOnce();

    assertThat(dispatched.leaseLost).containsExactly(id);
    assertThat(work.isSelfFenced()).isFalse();
    assertThat(s.selfFencedCount()).isZero();
  }

  @Test
  void a_self_fenced_attempt_is_reaped_by_its_own_node_once_the_store_answers_again() {
    Scheduler s = scheduler();
    WorkOrderId id = s.submit(spec());
    Instant claimedAt = clock.instant();
    s.runOnce();
    renewal.set(Renewal.THROWS);
    clock.set(claimedAt.plus(LEASE).minus(MARGIN));
    s.runOnce();
    assertThat(dispatched.leaseLost).containsExactly(id);
    assertThat(view(id).state()).as("nothing recorded yet").isEqualTo(WorkOrderState.PREPARING);

    renewal.set(Renewal.WORKS);
    clock.set(claimedAt.plus(LEASE).plusMillis(1));
    s.runOnce();

    // Released without costing an attempt, and claimed again (a slot is free) as attempt 2.
    WorkOrderEvent.Released released =
        store.readStream(id).stream()
            .map(RecordedEvent::event)
            .filter(WorkOrderEvent.Released.class::isInstance)
            .map(WorkOrderEvent.Released.class::cast)
            .findFirst()
            .orElseThrow();
    assertThat(released.code()).isEqualTo(ErrorCodes.LEASE_NOT_RENEWED);
    assertThat(released.reason()).contains("node-1");
    assertThat(view(id).releases()).isEqualTo(1);
    assertThat(view(id).chargedAttempts()).isEqualTo(1);
    assertThat(dispatched.work).extracting(ClaimedWork::attempt).containsExactly(1, 2);
  }

  @Test
  void the_watchdog_stops_work_while_the_loop_thread_hangs_in_a_renewal() throws Exception {
    Scheduler s =
        scheduler(
            SchedulerConfig.builder()
                .leaseDuration(LEASE)
                .renewInterval(RENEW)
                .selfFenceMargin(MARGIN)
                .pollInterval(Duration.ofMillis(10)));
    WorkOrderId id = s.submit(spec());
    Instant claimedAt = clock.instant();
    s.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> dispatched.work.size() == 1);
    renewal.set(Renewal.HANGS);
    clock.advance(RENEW);
    assertThat(hangEntered.await(10, TimeUnit.SECONDS)).as("the loop renews and hangs").isTrue();
    Instant deadline = claimedAt.plus(LEASE).minus(MARGIN);

    clock.set(deadline.minusMillis(1));
    await()
        .during(Duration.ofMillis(200))
        .atMost(Duration.ofSeconds(2))
        .until(() -> dispatched.leaseLost.isEmpty());
    clock.set(deadline);

    await().atMost(Duration.ofSeconds(10)).until(() -> dispatched.leaseLost.contains(id));
    assertThat(s.selfFencedCount()).isEqualTo(1);
    assertThat(dispatched.work.get(0).isSelfFenced()).isTrue();
    assertThat(unhang.getCount()).as("the loop is still stuck in the store").isEqualTo(1);
    unhang.countDown();
    s.stop();
    assertThat(s.isRunning()).isFalse();
  }

  @Test
  void the_watchdog_thread_comes_from_the_thread_factory_and_ends_with_the_loop() {
    List<Thread> made = new java.util.concurrent.CopyOnWriteArrayList<>();
    scheduler =
        Scheduler.builder(store, dispatched)
            .config(SchedulerConfig.builder().nodeId("node-1").build())
            .clock(clock)
            .threadFactory(
                r -> {
                  Thread t = new Thread(r, "test-scheduler-" + made.size());
                  t.setDaemon(true);
                  made.add(t);
                  return t;
                })
            .build();

    scheduler.start();
    assertThat(made).hasSize(2).allMatch(Thread::isAlive);
    scheduler.stop();

    assertThat(made).noneMatch(Thread::isAlive);
    scheduler.start(); // started again: a new loop and a new watchdog
    assertThat(made).hasSize(4);
    scheduler.close();
    assertThat(made).noneMatch(Thread::isAlive);
  }

  @Test
  void the_margin_is_exposed_defaults_to_half_the_lease_and_is_checked_against_lease_and_renewal() {
    assertThat(SchedulerConfig.defaults().selfFenceMargin())
        .isEqualTo(SchedulerConfig.DEFAULT_SELF_FENCE_MARGIN)
        .isEqualTo(SchedulerConfig.DEFAULT_LEASE_DURATION.dividedBy(2));
    assertThat(
            SchedulerConfig.builder()
                .leaseDuration(Duration.ofSeconds(2))
                .build()
                .selfFenceMargin())
        .isEqualTo(Duration.ofSeconds(1));
    assertThat(scheduler().selfFenceMargin()).isEqualTo(MARGIN);

    assertThatThrownBy(() -> SchedulerConfig.builder().selfFenceMargin(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("selfFenceMargin")
        .hasMessageContaining("0");
    assertThatThrownBy(
            () ->
                SchedulerConfig.builder()
                    .leaseDuration(Duration.ofSeconds(30))
                    .renewInterval(Duration.ofSeconds(10))
                    .selfFenceMargin(Duration.ofSeconds(20))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("selfFenceMargin 20.0s")
        .hasMessageContaining("renewInterval 10.0s")
        .hasMessageContaining("leaseDuration 30.0s");
    assertThatThrownBy(
            () ->
                SchedulerConfig.builder()
                    .leaseDuration(Duration.ofSeconds(30))
                    .renewInterval(Duration.ofSeconds(20))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the default, half the lease");
  }
}
