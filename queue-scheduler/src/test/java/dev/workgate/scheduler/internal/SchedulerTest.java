package dev.workgate.scheduler.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.QueueFullException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.retry.internal.RetryManager;
import dev.workgate.scheduler.MemoryProbe;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.scheduler.ResourceHealthReport.PressureLevel;
import dev.workgate.scheduler.SchedulerStats;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The scheduler loop, one turn at a time ({@link Scheduler#runOnce()}) on a fake clock: what it
 * claims, in what order, within which limits, and how it recovers work.
 */
class SchedulerTest {
  static final long GB = 1L << 30;

  MutableClock clock;
  WorkOrderStore store;
  RecordingDispatcher dispatched;
  AtomicReference<MemoryReading> memory;

  @BeforeEach
  void open() {
    clock = MutableClock.create();
    store = Stores.inMemory(clock);
    dispatched = new RecordingDispatcher();
    memory = new AtomicReference<>(new MemoryReading(16 * GB, 12 * GB, "test"));
  }

  @AfterEach
  void close() {
    store.close();
  }

  Scheduler scheduler(ResourceConfig resources, SchedulerConfig.Builder config) {
    MemoryProbe probe = () -> memory.get();
    return Scheduler.builder(store, dispatched)
        .config(config.nodeId("node-1").build())
        .resources(new ResourceMonitor(resources, probe, clock))
        .retries(
            RetryManager.builder(store)
                .clock(clock)
                .defaultPolicy(
                    RetryPolicy.builder()
                        .baseDelay(Duration.ofSeconds(5))
                        .jitter(Jitter.none())
                        .build())
                .build())
        .clock(clock)
        .build();
  }

  Scheduler scheduler(int slots) {
    return scheduler(
        ResourceConfig.builder().maxConcurrent(slots).build(), SchedulerConfig.builder());
  }

  static WorkOrderSpec spec(String queue) {
    return WorkOrderSpec.builder("job").queue(queue).build();
  }

  WorkOrderView view(WorkOrderId id) {
    return store.find(id).orElseThrow();
  }

  @Test
  void submitted_work_orders_take_their_ids_from_the_supplier() {
    java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
    Scheduler s =
        Scheduler.builder(store, dispatched)
            .clock(clock)
            .ids(() -> WorkOrderId.of("order-" + n.incrementAndGet()))
            .build();

    WorkOrderId first = s.submit(WorkOrderSpec.builder("agent").build());
    WorkOrderId second = s.submit(WorkOrderSpec.builder("agent").build());

    assertThat(List.of(first, second))
        .containsExactly(WorkOrderId.of("order-1"), WorkOrderId.of("order-2"));
    assertThat(store.find(second)).isPresent();
  }

  @Test
  void a_supplier_that_returns_no_id_is_refused_and_nothing_is_written() {
    Scheduler s = Scheduler.builder(store, dispatched).clock(clock).ids(() -> null).build();

    assertThatThrownBy(() -> s.submit(WorkOrderSpec.builder("agent").build()))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("id supplier");
    assertThat(store.counts().queues()).isEmpty();
  }

  @Test
  void a_turn_claims_only_as_many_as_there_are_free_slots() {
    Scheduler s = scheduler(2);
    for (int i = 0; i < 5; i++) {
      s.submit(spec("default"));
    }

    s.runOnce();

    assertThat(dispatched.ids()).hasSize(2);
    assertThat(s.resources().activeSlots()).isEqualTo(2);
    s.runOnce();
    assertThat(dispatched.ids()).hasSize(2);
    dispatched.work.get(0).release();
    s.runOnce();
    assertThat(dispatched.ids()).hasSize(3);
    for (ClaimedWork work : dispatched.work) {
      assertThat(view(work.id()).state()).isEqualTo(WorkOrderState.PREPARING);
      assertThat(view(work.id()).leaseOwner()).contains("node-1");
    }
  }

  @Test
  void work_that_asks_for_several_slots_takes_them_all() {
    Scheduler s = scheduler(3);
    WorkOrderId big =
        s.submit(WorkOrderSpec.builder("job").resources(ResourceRequest.of(2, 0)).build());
    WorkOrderId small = s.submit(spec("default"));
    WorkOrderId another = s.submit(spec("default"));

    s.runOnce();

    assertThat(dispatched.ids()).containsExactly(big, small);
    assertThat(s.resources().activeSlots()).isEqualTo(3);
    assertThat(view(another).state()).isEqualTo(WorkOrderState.PENDING);
  }

  @Test
  void higher_priority_goes_first_then_the_oldest() {
    Scheduler s = scheduler(1);
    WorkOrderId low = s.submit(WorkOrderSpec.builder("job").priority(0).build());
    clock.advance(Duration.ofMillis(1));
    WorkOrderId highOld = s.submit(WorkOrderSpec.builder("job").priority(5).build());
    clock.advance(Duration.ofMillis(1));
    WorkOrderId highNew = s.submit(WorkOrderSpec.builder("job").priority(5).build());

    for (int i = 0; i < 3; i++) {
      s.runOnce();
      dispatched.work.get(i).release();
    }

    assertThat(dispatched.ids()).containsExactly(highOld, highNew, low);
  }

  @Test
  void memory_declared_by_work_orders_is_admitted_only_within_what_is_available() {
    memory.set(new MemoryReading(16 * GB, 5 * GB, "test"));
    Scheduler s =
        scheduler(
            ResourceConfig.builder().maxConcurrent(8).memoryPerSlotMb(2048).build(),
            SchedulerConfig.builder());
    List<WorkOrderId> ids = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      ids.add(s.submit(spec("default")));
    }

    s.runOnce();

    assertThat(view(ids.get(0)).resources()).isEqualTo(ResourceRequest.of(1, 2048));
    assertThat(dispatched.ids()).hasSize(2); // 5 GB available: two of 2 GB, not three
    assertThat(s.resources().reservedMemoryMb()).isEqualTo(4096);
  }

  @Test
  void a_queue_limit_caps_how_many_of_its_work_orders_run_at_once() {
    Scheduler s =
        scheduler(
            ResourceConfig.builder().maxConcurrent(10).build(),
            SchedulerConfig.builder().queues("agents", "builds").queueConcurrency("agents", 2));
    for (int i = 0; i < 5; i++) {
      s.submit(spec("agents"));
      s.submit(spec("builds"));
    }

    s.runOnce();

    assertThat(dispatched.queues()).filteredOn("agents"::equals).hasSize(2);
    assertThat(dispatched.queues()).filteredOn("builds"::equals).hasSize(5);
    assertThat(s.stats().activeByQueue()).containsEntry("agents", 2).containsEntry("builds", 5);
  }

  @Test
  void the_stagger_delay_spaces_starts_and_the_loop_sleeps_exactly_until_the_next() {
    Scheduler s =
        scheduler(
            ResourceConfig.builder().maxConcurrent(10).build(),
            SchedulerConfig.builder()
                .staggerDelay(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMinutes(1)));
    for (int i = 0; i < 3; i++) {
      s.submit(spec("default"));
    }
    Instant start = clock.instant();

    Instant next = s.runOnce();
    assertThat(dispatched.ids()).hasSize(1);
    assertThat(next).isEqualTo(start.plusSeconds(5));
    clock.advance(Duration.ofSeconds(4));
    s.runOnce();
    assertThat(dispatched.ids()).hasSize(1);
    clock.set(start.plusSeconds(5));
    s.runOnce();
    assertThat(dispatched.ids()).hasSize(2);
    assertThat(dispatched.work.get(1).claimedAt()).isEqualTo(start.plusSeconds(5));
  }

  @Test
  void the_start_rate_allows_a_burst_of_one_second_then_spreads_starts() {
    Scheduler s =
        scheduler(
            ResourceConfig.builder().maxConcurrent(100).build(),
            SchedulerConfig.builder().maxStartsPerSecond(2).pollInterval(Duration.ofMinutes(1)));
    for (int i = 0; i < 10; i++) {
      s.submit(spec("default"));
    }

    Instant next = s.runOnce();
    assertThat(dispatched.ids()).hasSize(2);
    assertThat(next).isEqualTo(clock.instant().plusMillis(500));
    clock.advance(Duration.ofMillis(500));
    s.runOnce();
    assertThat(dispatched.ids()).hasSize(3);
    clock.advance(Duration.ofSeconds(10));
    s.runOnce();
    assertThat(dispatched.ids()).hasSize(5); // refilled to the one-second burst, not to ten
  }

  @Test
  void a_full_queue_refuses_submits_naming_queue_depth_and_limit_and_writes_nothing() {
    Scheduler s =
        scheduler(
            ResourceConfig.builder().maxConcurrent(1).build(),
            SchedulerConfig.builder().maxQueueDepth("default", 3));
    for (int i = 0; i < 3; i++) {
      s.submit(spec("default"));
    }
    long eventsBefore = store.readLog(0, 1_000).events().size();

    assertThatThrownBy(() -> s.submit(spec("default")))
        .isInstanceOfSatisfying(
            QueueFullException.class,
            e -> {
              assertThat(e.queue()).isEqualTo("default");
              assertThat(e.depth()).isEqualTo(3);
              assertThat(e.limit()).isEqualTo(3);
            })
        .hasMessageContaining("'default'")
        .hasMessageContaining("limit 3");
    assertThat(store.readLog(0, 1_000).events()).hasSize((int) eventsBefore);

    s.runOnce(); // one leaves the queue to run: there is room again
    s.submit(spec("default"));
    assertThat(s.stats().queueDepth()).containsEntry("default", 3L);
  }

  @Test
  void a_second_submit_with_the_same_idempotency_key_returns_the_first_id() {
    Scheduler s = scheduler(1);
    WorkOrderId first = s.submit(WorkOrderSpec.builder("job").idempotencyKey("order-7").build());

    WorkOrderId second = s.submit(WorkOrderSpec.builder("job").idempotencyKey("order-7").build());

    assertThat(second).isEqualTo(first);
    assertThat(store.counts().byState("default")).containsEntry(WorkOrderState.PENDING, 1L);
  }

  @Test
  void submit_all_appends_a_batch_in_one_step_in_order_and_claims_it_like_single_submits() {
    Scheduler s = scheduler(8);
    long logBefore = store.readLog(0, 1_000).events().size();

    List<WorkOrderId> ids = s.submitAll(List.of(spec("default"), spec("default"), spec("default")));

    assertThat(ids).hasSize(3).doesNotHaveDuplicates();
    List<RecordedEvent> log = store.readLog(0, 1_000).events();
    assertThat(log).hasSize((int) logBefore + 3);
    assertThat(log.subList((int) logBefore, log.size()))
        .extracting(RecordedEvent::workOrderId)
        .containsExactlyElementsOf(ids);
    // Each gets the resources a single submit writes (the monitor's defaults).
    WorkOrderId single = s.submit(spec("default"));
    assertThat(store.find(ids.get(0)).orElseThrow().resources())
        .isEqualTo(store.find(single).orElseThrow().resources());
    s.runOnce();
    assertThat(dispatched.ids()).containsAll(ids).hasSize(4);
    assertThat(s.submitAll(List.of())).isEmpty();
  }

  @Test
  void submit_all_refuses_a_batch_that_would_overfill_a_queue_and_writes_none_of_it() {
    Scheduler s =
        scheduler(
            ResourceConfig.builder().maxConcurrent(1).build(),
            SchedulerConfig.builder().maxQueueDepth("default", 3));
    s.submit(spec("default"));
    long eventsBefore = store.readLog(0, 1_000).events().size();

    assertThatThrownBy(
            () -> s.submitAll(List.of(spec("default"), spec("default"), spec("default"))))
        .isInstanceOf(QueueFullException.class)
        .hasMessageContaining("'default'");
    assertThat(store.readLog(0, 1_000).events()).hasSize((int) eventsBefore);

    assertThat(s.submitAll(List.of(spec("default"), spec("default")))).hasSize(2); // exactly full
  }

  @Test
  void submit_all_with_a_taken_or_repeated_idempotency_key_returns_the_first_ids() {
    Scheduler s = scheduler(1);
    WorkOrderId first = s.submit(WorkOrderSpec.builder("job").idempotencyKey("order-7").build());

    List<WorkOrderId> ids =
        s.submitAll(
            List.of(
                WorkOrderSpec.builder("job").idempotencyKey("order-7").build(),
                WorkOrderSpec.builder("job").idempotencyKey("order-8").build(),
                WorkOrderSpec.builder("job").idempotencyKey("order-8").build()));

    assertThat(ids.get(0)).isEqualTo(first);
    assertThat(ids.get(2)).isEqualTo(ids.get(1));
    assertThat(store.counts().byState("default")).containsEntry(WorkOrderState.PENDING, 2L);
  }

  @Test
  void warning_pressure_halves_the_slot_limit_critical_stops_claims_and_recovery_resumes() {
    Scheduler s = scheduler(4);
    for (int i = 0; i < 12; i++) {
      s.submit(spec("default"));
    }

    memory.set(new MemoryReading(16 * GB, (long) (16 * GB * 0.15), "test")); // 85 % used
    s.runOnce();
    assertThat(s.resources().pressure()).isEqualTo(PressureLevel.WARNING);
    assertThat(dispatched.ids()).hasSize(2);

    memory.set(new MemoryReading(16 * GB, (long) (16 * GB * 0.05), "test")); // 95 % used
    dispatched.releaseAll();
    s.runOnce();
    assertThat(s.resources().pressure()).isEqualTo(PressureLevel.CRITICAL);
    assertThat(dispatched.ids()).hasSize(2);
    assertThat(s.resources().activeSlots()).isZero();

    memory.set(new MemoryReading(16 * GB, 12 * GB, "test")); // 25 % used
    s.runOnce();
    assertThat(s.resources().pressure()).isEqualTo(PressureLevel.NONE);
    assertThat(dispatched.ids()).hasSize(6);
  }

  /** Two slots, a starvation threshold of a minute, leases that do not run out while work waits. */
  private Scheduler starvationScheduler() {
    return scheduler(
        ResourceConfig.builder().maxConcurrent(2).build(),
        SchedulerConfig.builder()
            .starvationThreshold(Duration.ofMinutes(1))
            .leaseDuration(Duration.ofMinutes(10)));
  }

  /**
   * Two small work orders run and fill both slots; then a large one (two slots) and ten small ones
   * wait behind them.
   *
   * @return the large one
   */
  private WorkOrderId twoSmallRunningThenOneBigAndTenSmall(Scheduler s) {
    s.submit(spec("default"));
    s.submit(spec("default"));
    s.runOnce();
    WorkOrderId big =
        s.submit(WorkOrderSpec.builder("job").resources(ResourceRequest.of(2, 0)).build());
    for (int i = 0; i < 10; i++) {
      s.submit(spec("default"));
    }
    return big;
  }

  @Test
  void a_large_work_order_that_starved_past_the_threshold_holds_back_small_ones_until_it_fits() {
    Scheduler s = starvationScheduler();
    WorkOrderId big = twoSmallRunningThenOneBigAndTenSmall(s);

    dispatched.work.get(0).release();
    s.runOnce();
    assertThat(dispatched.ids()).hasSize(3).doesNotContain(big); // not starved yet: a small one
    clock.advance(Duration.ofMinutes(1));
    dispatched.work.get(1).release();
    s.runOnce();
    assertThat(dispatched.ids()).hasSize(3); // one slot free, but it is held for the big one
    assertThat(s.stats().reservingFor()).contains(big.value());
    dispatched.work.get(2).release();
    s.runOnce();

    assertThat(dispatched.ids()).hasSize(4).endsWith(big);
    assertThat(s.stats().reservingFor()).isEmpty();
  }

  @Test
  void a_busy_node_looks_for_starving_work_at_most_once_per_check_interval() {
    Scheduler s = starvationScheduler();
    WorkOrderId big = twoSmallRunningThenOneBigAndTenSmall(s);
    clock.advance(Duration.ofMinutes(1).minusMillis(200));
    dispatched.work.get(0).release();
    s.runOnce(); // looks: the big one has waited 59.8 s, not starved; a small one runs
    assertThat(dispatched.ids()).hasSize(3).doesNotContain(big);

    clock.advance(Duration.ofMillis(500)); // starved now, but the last look was 0.5 s ago
    dispatched.work.get(1).release();
    s.runOnce();
    assertThat(dispatched.ids()).hasSize(4).doesNotContain(big);
    assertThat(s.stats().reservingFor()).isEmpty();

    clock.advance(StarvationGuard.CHECK_INTERVAL); // the next look is due and finds it
    dispatched.work.get(2).release();
    s.runOnce();
    assertThat(dispatched.ids()).hasSize(4);
    assertThat(s.stats().reservingFor()).contains(big.value());
  }

  @Test
  void a_starved_work_order_goes_first_even_when_another_queue_comes_first_in_the_rotation() {
    for (int phase = 0; phase < 2; phase++) {
      store.close();
      store = Stores.inMemory(clock);
      dispatched = new RecordingDispatcher();
      Scheduler s =
          scheduler(
              ResourceConfig.builder().maxConcurrent(2).build(),
              SchedulerConfig.builder()
                  .queues("a", "b")
                  .starvationThreshold(Duration.ofMinutes(1)));
      for (int i = 0; i < phase; i++) {
        s.runOnce(); // shifts which queue the rotation visits first
      }
      s.submit(spec("b"));
      s.submit(spec("b"));
      s.runOnce();
      WorkOrderId big =
          s.submit(
              WorkOrderSpec.builder("job").queue("a").resources(ResourceRequest.of(2, 0)).build());
      for (int i = 0; i < 20; i++) {
        s.submit(spec("b"));
      }
      clock.advance(Duration.ofMinutes(2));

      dispatched.work.get(0).release();
      s.runOnce();
      assertThat(dispatched.ids()).as("phase %d: the free slot is held", phase).hasSize(2);
      dispatched.work.get(1).release();
      s.runOnce();

      assertThat(dispatched.ids()).as("phase %d", phase).hasSize(3).endsWith(big);
    }
  }

  @Test
  void work_that_could_never_fit_this_node_does_not_hold_anything_back() {
    Scheduler s =
        scheduler(
            ResourceConfig.builder().maxConcurrent(2).build(),
            SchedulerConfig.builder().starvationThreshold(Duration.ofSeconds(1)));
    s.submit(spec("default"));
    s.runOnce();
    Instant now = clock.instant();
    store.recordNode( // a larger node shares the store: the work is accepted, for it
        new dev.workgate.core.store.StoreView.NodeStatus(
            "node-big", 8, 0, 0, 0, "NORMAL", "1.0", now, now));
    s.submit(WorkOrderSpec.builder("job").resources(ResourceRequest.of(3, 0)).build());
    s.submit(spec("default"));
    clock.advance(Duration.ofMinutes(5));

    s.runOnce();

    assertThat(dispatched.ids()).hasSize(2);
    assertThat(s.stats().reservingFor()).isEmpty();
  }

  @Test
  void due_retries_and_delayed_work_start_at_their_time_and_the_loop_sleeps_until_then() {
    Scheduler s =
        scheduler(
            ResourceConfig.builder().maxConcurrent(4).build(),
            SchedulerConfig.builder()
                .pollInterval(Duration.ofMinutes(1))
                .leaseDuration(Duration.ofMinutes(2))
                .renewInterval(Duration.ofSeconds(50)));
    Instant start = clock.instant();
    WorkOrderId delayed =
        s.submit(WorkOrderSpec.builder("job").notBefore(start.plusSeconds(20)).build());
    WorkOrderId failing = s.submit(spec("default"));

    s.runOnce();
    ClaimedWork first = dispatched.work.get(0);
    assertThat(first.id()).isEqualTo(failing);
    s.retries().recordFailure(first.view(), timeout());
    first.release();

    assertThat(s.runOnce()).isEqualTo(start.plusSeconds(5)); // the retry, before the delayed one
    clock.set(start.plusSeconds(5));
    assertThat(s.runOnce()).isEqualTo(start.plusSeconds(20));
    assertThat(dispatched.ids()).containsExactly(failing, failing);
    assertThat(dispatched.work.get(1).attempt()).isEqualTo(2);
    clock.set(start.plusSeconds(20));
    s.runOnce();
    assertThat(dispatched.ids()).containsExactly(failing, failing, delayed);
  }

  @Test
  void
      an_expired_lease_of_another_node_is_released_without_costing_an_attempt_and_a_late_write_is_refused() {
    Scheduler s = scheduler(2);
    WorkOrderId id = s.submit(spec("other"));
    WorkOrderView held =
        store
            .claim(
                new ClaimRequest(
                    "other",
                    "dead-node",
                    1,
                    Capacity.unlimited(),
                    clock.instant(),
                    Duration.ofSeconds(30)))
            .get(0);
    clock.advance(Duration.ofSeconds(31));

    s.runOnce();

    WorkOrderView reaped = view(id);
    assertThat(reaped.state()).isEqualTo(WorkOrderState.PENDING);
    assertThat(reaped.lastError().orElseThrow().code()).isEqualTo(ErrorCodes.LEASE_EXPIRED);
    assertThat(reaped.lastError().orElseThrow().message()).contains("dead-node");
    assertThat(reaped.releases()).isEqualTo(1);
    assertThat(reaped.chargedAttempts()).isZero();
    assertThat(s.stats().reaped()).isEqualTo(1);
    assertThatThrownBy(
            () ->
                store.append(
                    id,
                    ExpectedVersion.exactly(held.version()),
                    List.of(new WorkOrderEvent.Started("late"))))
        .isInstanceOf(ConcurrencyException.class);
  }

  @Test
  void a_work_order_on_its_only_attempt_whose_node_died_runs_again_on_another_node_and_completes() {
    Scheduler dead = scheduler(1);
    WorkOrderId id = dead.submit(WorkOrderSpec.builder("job").maxAttempts(1).build());
    dead.runOnce();
    WorkOrderView held = view(id);
    store.append(
        id, ExpectedVersion.exactly(held.version()), List.of(new WorkOrderEvent.Started("sb-1")));
    // The node dies: no more turns. Another node on the same store takes over after expiry.
    RecordingDispatcher survivorRuns = new RecordingDispatcher();
    Scheduler survivor =
        Scheduler.builder(store, survivorRuns)
            .config(SchedulerConfig.builder().nodeId("node-2").build())
            .clock(clock)
            .build();
    clock.advance(SchedulerConfig.DEFAULT_LEASE_DURATION.plusMillis(1));

    survivor.runOnce();

    assertThat(survivorRuns.ids()).containsExactly(id);
    ClaimedWork again = survivorRuns.work.get(0);
    assertThat(again.attempt()).isEqualTo(2);
    assertThat(again.view().chargedAttempts()).isEqualTo(1);
    List<RecordedEvent> started =
        store.append(
            id,
            ExpectedVersion.exactly(again.view().version()),
            List.of(new WorkOrderEvent.Started("sb-2")));
    store.append(
        id,
        ExpectedVersion.exactly(started.get(0).version()),
        List.of(new WorkOrderEvent.Completed(null)));
    WorkOrderView done = view(id);
    assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(done.releases()).isEqualTo(1);
    assertThat(done.lastError().orElseThrow().code()).isEqualTo(ErrorCodes.LEASE_EXPIRED);
  }

  @Test
  void the_lease_keeper_renews_running_work_and_reports_leases_it_lost() {
    Scheduler s = scheduler(2);
    WorkOrderId kept = s.submit(spec("default"));
    WorkOrderId lost = s.submit(spec("default"));
    s.runOnce();
    ClaimedWork stolen = dispatched.work.get(1);

    clock.advance(Duration.ofSeconds(10));
    // Someone else fails the second work order's attempt behind this node's back.
    s.retries().recordFailure(view(lost), timeout());
    s.runOnce();

    assertThat(view(kept).leaseExpiresAt()).contains(clock.instant().plusSeconds(30));
    assertThat(dispatched.leaseLost).containsExactly(stolen.id());
    clock.advance(Duration.ofSeconds(10));
    s.runOnce();
    assertThat(dispatched.leaseLost).containsExactly(stolen.id()); // told once
  }

  @Test
  void a_cancellation_requested_elsewhere_is_passed_on_once_while_renewing() {
    Scheduler s = scheduler(1);
    WorkOrderId id = s.submit(spec("default"));
    s.runOnce();
    WorkOrderView claimed = view(id);
    store.append(
        id,
        ExpectedVersion.exactly(claimed.version()),
        List.of(new WorkOrderEvent.CancellationRequested("user pressed stop")));

    clock.advance(Duration.ofSeconds(10));
    s.runOnce();
    clock.advance(Duration.ofSeconds(10));
    s.runOnce();

    assertThat(dispatched.cancelled).containsExactly(id + ": user pressed stop");
  }

  @Test
  void own_work_whose_lease_ran_out_during_a_pause_is_stopped_and_reaped_not_renewed() {
    Scheduler s = scheduler(1);
    WorkOrderId id = s.submit(spec("default"));
    s.runOnce();
    clock.advance(Duration.ofSeconds(31)); // a long pause: another node may have reaped it

    s.runOnce();

    assertThat(dispatched.leaseLost).containsExactly(id);
    assertThat(dispatched.work.get(0).isSelfFenced()).isTrue();
    WorkOrderView reaped = view(id);
    assertThat(reaped.state()).isEqualTo(WorkOrderState.PENDING); // the only slot is still held
    assertThat(reaped.releases()).isEqualTo(1);
    assertThat(reaped.lastError().orElseThrow().code()).isEqualTo(ErrorCodes.LEASE_NOT_RENEWED);
    assertThat(s.stats().reaped()).isEqualTo(1);
    assertThat(s.selfFencedCount()).isEqualTo(1);
  }

  /**
   * A store that throws from the methods named in {@code failing} (a claim of a queue named in it
   * too), as a store with an unreadable row or a lost connection would, and works otherwise.
   */
  WorkOrderStore failingStore(Set<String> failing) {
    return (WorkOrderStore)
        Proxy.newProxyInstance(
            WorkOrderStore.class.getClassLoader(),
            new Class<?>[] {WorkOrderStore.class},
            (proxy, method, args) -> {
              boolean fails =
                  failing.contains(method.getName())
                      || (method.getName().equals("claim")
                          && failing.contains("claim:" + ((ClaimRequest) args[0]).queue()));
              if (fails) {
                throw new StoreException(method.getName() + " failed (test)");
              }
              try {
                return method.invoke(store, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  Scheduler schedulerOn(WorkOrderStore on, String... queues) {
    return Scheduler.builder(on, dispatched)
        .config(SchedulerConfig.builder().nodeId("node-1").queues(queues).build())
        .resources(
            new ResourceMonitor(
                ResourceConfig.builder().maxConcurrent(4).build(), () -> memory.get(), clock))
        .clock(clock)
        .build();
  }

  @Test
  void a_claim_that_throws_does_not_stop_reaping_or_renewing_in_that_turn() {
    Set<String> failing = ConcurrentHashMap.newKeySet();
    Scheduler s = schedulerOn(failingStore(failing), "default");
    WorkOrderId mine = s.submit(spec("default"));
    s.runOnce();
    assertThat(dispatched.ids()).containsExactly(mine);
    WorkOrderId orphan = s.submit(spec("default"));
    store.claim(
        new ClaimRequest(
            "default",
            "dead-node",
            1,
            Capacity.unlimited(),
            clock.instant(),
            Duration.ofSeconds(5)));
    WorkOrderId third = s.submit(spec("default"));
    failing.add("claim");
    clock.advance(Duration.ofSeconds(10));

    Instant next = s.runOnce();

    assertThat(view(orphan).state()).as("reaped").isEqualTo(WorkOrderState.PENDING);
    assertThat(view(orphan).releases()).isEqualTo(1);
    assertThat(view(mine).leaseExpiresAt()).as("renewed").contains(clock.instant().plusSeconds(30));
    assertThat(next).isAfter(clock.instant());
    assertThat(s.stepFailureCount()).isEqualTo(1);
    assertThat(dispatched.ids()).containsExactly(mine);

    failing.clear();
    s.runOnce();
    assertThat(dispatched.ids()).contains(mine, third);
  }

  @Test
  void a_queue_whose_claim_throws_does_not_keep_the_other_queues_from_being_claimed() {
    Scheduler s = schedulerOn(failingStore(Set.of("claim:poisoned")), "poisoned", "healthy");
    s.submit(spec("poisoned"));
    WorkOrderId healthy = s.submit(spec("healthy"));

    s.runOnce();
    s.runOnce();

    assertThat(dispatched.ids()).containsExactly(healthy);
    assertThat(s.stepFailureCount()).isEqualTo(2);
  }

  @Test
  void every_failing_step_is_counted_and_the_turn_still_returns_its_next_time() {
    Scheduler s =
        schedulerOn(
            failingStore(
                Set.of("claim", "expiredLeases", "dueRetries", "nextAvailableAt", "nextRetryAt")),
            "default");
    s.submit(spec("default"));

    Instant next = s.runOnce();

    assertThat(next).isAfter(clock.instant());
    assertThat(s.stepFailureCount()).isGreaterThanOrEqualTo(4);
    assertThat(dispatched.ids()).isEmpty();
  }

  /** A scheduler on the store whose reap query takes as long on the fake clock as is set. */
  Scheduler schedulerWithSlowReapQuery(AtomicReference<Duration> reapQueryTakes) {
    WorkOrderStore slow =
        (WorkOrderStore)
            Proxy.newProxyInstance(
                WorkOrderStore.class.getClassLoader(),
                new Class<?>[] {WorkOrderStore.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("expiredLeases")) {
                    clock.advance(reapQueryTakes.get());
                  }
                  try {
                    return method.invoke(store, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    return Scheduler.builder(slow, dispatched)
        .config(SchedulerConfig.builder().nodeId("node-1").build())
        .clock(clock)
        .build();
  }

  @Test
  void a_claim_made_late_in_a_slow_turn_gets_a_whole_lease_from_the_time_it_is_made() {
    Scheduler s = schedulerWithSlowReapQuery(new AtomicReference<>(Duration.ofSeconds(25)));
    WorkOrderId id = s.submit(spec("default"));

    s.runOnce(); // the reap query before the claim takes 25 s of the 30 s lease

    assertThat(view(id).state()).isEqualTo(WorkOrderState.PREPARING);
    assertThat(view(id).leaseExpiresAt()).contains(clock.instant().plusSeconds(30));
  }

  @Test
  void a_renewal_made_late_in_a_slow_turn_extends_the_lease_from_the_time_it_is_made() {
    AtomicReference<Duration> reapQueryTakes = new AtomicReference<>(Duration.ZERO);
    Scheduler s = schedulerWithSlowReapQuery(reapQueryTakes);
    WorkOrderId id = s.submit(spec("default"));
    s.runOnce();
    clock.advance(SchedulerConfig.DEFAULT_LEASE_DURATION.dividedBy(3)); // renewal due
    // Slow, but the renewal still comes before the self-fence deadline (15 s before expiry).
    reapQueryTakes.set(Duration.ofSeconds(4));

    s.runOnce();

    assertThat(view(id).leaseExpiresAt()).contains(clock.instant().plusSeconds(30));
    assertThat(dispatched.leaseLost).isEmpty();
  }

  @Test
  void a_dispatcher_that_refuses_work_gets_its_slot_back_and_the_attempt_is_failed() {
    RecordingDispatcher refusing = dispatched;
    refusing.refuse = true;
    Scheduler s = scheduler(1);
    WorkOrderId id = s.submit(spec("default"));

    s.runOnce();

    assertThat(s.resources().activeSlots()).isZero();
    assertThat(s.activeWork()).isEmpty();
    WorkOrderView failed = view(id);
    assertThat(failed.state()).isEqualTo(WorkOrderState.WAITING_RETRY);
    assertThat(failed.lastError().orElseThrow().code())
        .isEqualTo(ErrorCodes.SANDBOX_CREATION_FAILED);
    assertThat(failed.lastError().orElseThrow().message()).contains("no executor");
  }

  @Test
  void stats_show_depth_active_work_heartbeat_and_counters() {
    Scheduler s = scheduler(1);
    s.submit(spec("default"));
    s.submit(spec("default"));
    assertThat(s.stats().lastHeartbeat()).isEmpty();

    Instant turn = clock.instant();
    s.runOnce();
    clock.advance(Duration.ofSeconds(42));
    SchedulerStats stats = s.stats();

    assertThat(stats.nodeId()).isEqualTo("node-1");
    assertThat(stats.running()).isFalse();
    assertThat(stats.queueDepth()).containsEntry("default", 1L);
    assertThat(stats.activeWork()).isEqualTo(1);
    assertThat(stats.lastClaimAt()).contains(turn);
    assertThat(stats.lastHeartbeat()).contains(turn);
    assertThat(stats.heartbeatAge()).isEqualTo(Duration.ofSeconds(42));
    assertThat(stats.turns()).isEqualTo(1);
    assertThat(stats.claimed()).isEqualTo(1);
    assertThat(stats.resources().activeSlots()).isEqualTo(1);
  }

  @Test
  void the_heartbeat_is_read_without_a_store_query() {
    AtomicReference<Boolean> storeTouched = new AtomicReference<>(false);
    WorkOrderStore counting =
        (WorkOrderStore)
            Proxy.newProxyInstance(
                WorkOrderStore.class.getClassLoader(),
                new Class<?>[] {WorkOrderStore.class},
                (proxy, method, args) -> {
                  storeTouched.set(true);
                  try {
                    return method.invoke(store, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    Scheduler s = Scheduler.builder(counting, dispatched).clock(clock).build();
    assertThat(s.lastHeartbeat()).isEmpty();
    Instant turn = clock.instant();
    s.runOnce();
    clock.advance(Duration.ofSeconds(5));
    storeTouched.set(false);

    assertThat(s.lastHeartbeat()).contains(turn);
    assertThat(storeTouched.get()).isFalse();
  }

  @Test
  void a_closed_scheduler_refuses_submits() {
    Scheduler s = scheduler(1);
    s.close();

    assertThatThrownBy(() -> s.submit(spec("default")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("node-1");
    assertThat(store.counts().queues()).isEmpty();
  }

  @Test
  void renewing_a_lease_appends_no_event_and_extends_the_lease() {
    Scheduler s = scheduler(1);
    WorkOrderId id = s.submit(spec("default"));
    s.runOnce();
    clock.advance(Duration.ofSeconds(10));
    s.runOnce(); // renews
    s.stop();

    List<EventType> types = new ArrayList<>();
    for (RecordedEvent e : store.readStream(id)) {
      types.add(e.event().type());
    }
    assertThat(types).containsExactly(EventType.SUBMITTED, EventType.CLAIMED);
    assertThat(view(id).leaseExpiresAt()).contains(clock.instant().plusSeconds(30));
  }

  static dev.workgate.core.ErrorInfo timeout() {
    return dev.workgate.core.ErrorInfo.retryable(ErrorCodes.TIMEOUT, "slow");
  }

  /** Records what the scheduler hands over; runs nothing. Thread-safe. */
  static final class RecordingDispatcher implements WorkDispatcher {
    final List<ClaimedWork> work = Collections.synchronizedList(new ArrayList<>());
    final List<WorkOrderId> leaseLost = Collections.synchronizedList(new ArrayList<>());
    final List<String> cancelled = Collections.synchronizedList(new ArrayList<>());
    volatile boolean refuse;

    @Override
    public void dispatch(ClaimedWork claimed) {
      if (refuse) {
        throw new IllegalStateException("no executor");
      }
      work.add(claimed);
    }

    @Override
    public void cancellationRequested(ClaimedWork claimed, String reason) {
      cancelled.add(claimed.id() + ": " + reason);
    }

    @Override
    public void leaseLost(ClaimedWork claimed) {
      leaseLost.add(claimed.id());
    }

    List<WorkOrderId> ids() {
      List<WorkOrderId> ids = new ArrayList<>();
      for (ClaimedWork w : work) {
        ids.add(w.id());
      }
      return ids;
    }

    List<String> queues() {
      List<String> queues = new ArrayList<>();
      for (ClaimedWork w : work) {
        queues.add(w.view().queue());
      }
      return queues;
    }

    void releaseAll() {
      for (ClaimedWork w : work) {
        w.release();
      }
    }
  }
}
