package dev.workgate.scheduler.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.ResourceRequest;
import dev.workgate.core.Subscription;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.scheduler.MemoryProbe;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.scheduler.ResourceHealthReport;
import dev.workgate.scheduler.ResourceHealthReport.PressureLevel;
import dev.workgate.spi.Capacity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ResourceMonitorTest {
  private static final long MIB = MemoryReading.BYTES_PER_MIB;

  /** 10,000 MiB of memory, so that fractions are easy to read. */
  private static final long TOTAL_MB = 10_000;

  private final MutableClock clock = MutableClock.create();
  private final TestProbe probe = new TestProbe();
  private final RecordingListener events = new RecordingListener();

  /** A probe whose reading the test sets, or which fails when told to. */
  static final class TestProbe implements MemoryProbe {
    private volatile MemoryReading reading;
    private volatile RuntimeException failure;
    private final AtomicInteger reads = new AtomicInteger();

    TestProbe used(double fraction) {
      long available = Math.round(TOTAL_MB * (1 - fraction));
      return availableMb(available);
    }

    TestProbe availableMb(long mb) {
      this.reading = new MemoryReading(TOTAL_MB * MIB, mb * MIB, "test");
      this.failure = null;
      return this;
    }

    /** Refreshes the monitor with the reading just set. */
    PressureLevel refresh(ResourceMonitor m) {
      return m.refresh();
    }

    TestProbe failing(RuntimeException e) {
      this.failure = e;
      return this;
    }

    @Override
    public MemoryReading read() {
      reads.incrementAndGet();
      if (failure != null) {
        throw failure;
      }
      return reading;
    }
  }

  static final class RecordingListener implements ResourceListener {
    final List<String> pressure = new CopyOnWriteArrayList<>();
    final AtomicInteger slots = new AtomicInteger();

    @Override
    public void slotAvailable(ResourceMonitor monitor) {
      slots.incrementAndGet();
    }

    @Override
    public void pressureChanged(PressureLevel from, PressureLevel to, MemoryReading reading) {
      pressure.add(from + "->" + to);
    }
  }

  private ResourceMonitor monitor(ResourceConfig config) {
    ResourceMonitor m = new ResourceMonitor(config, probe, clock);
    m.addListener(events);
    return m;
  }

  private ResourceMonitor monitor(int maxConcurrent) {
    return monitor(ResourceConfig.builder().maxConcurrent(maxConcurrent).build());
  }

  private static WorkOrderId id(String s) {
    return WorkOrderId.of(s);
  }

  private static ResourceRequest req(int slots, long memoryMb) {
    return ResourceRequest.of(slots, memoryMb);
  }

  // --- pressure -------------------------------------------------------------------------------

  @Test
  void pressure_goes_none_warning_critical_none_with_one_listener_event_per_change() {
    ResourceMonitor m = monitor(4);

    assertThat(probe.used(0.50).refresh(m)).isEqualTo(PressureLevel.NONE);
    assertThat(probe.used(0.82).refresh(m)).isEqualTo(PressureLevel.WARNING);
    assertThat(probe.used(0.95).refresh(m)).isEqualTo(PressureLevel.CRITICAL);
    assertThat(probe.used(0.40).refresh(m)).isEqualTo(PressureLevel.NONE);

    assertThat(events.pressure)
        .containsExactly("NONE->WARNING", "WARNING->CRITICAL", "CRITICAL->NONE");
    assertThat(m.pressure()).isEqualTo(PressureLevel.NONE);
  }

  @Test
  void readings_oscillating_around_the_warning_threshold_change_the_level_once() {
    ResourceMonitor m = monitor(4);

    for (double used : new double[] {0.79, 0.81, 0.79, 0.81, 0.79, 0.81, 0.79}) {
      probe.used(used).refresh(m);
    }

    assertThat(events.pressure).containsExactly("NONE->WARNING");
    assertThat(m.pressure()).isEqualTo(PressureLevel.WARNING);
  }

  @Test
  void readings_oscillating_around_the_critical_threshold_change_the_level_once() {
    ResourceMonitor m = monitor(4);

    for (double used : new double[] {0.91, 0.89, 0.91, 0.88, 0.90, 0.86}) {
      probe.used(used).refresh(m);
    }

    assertThat(events.pressure).containsExactly("NONE->CRITICAL");
  }

  @Test
  void the_level_falls_only_below_threshold_minus_hysteresis() {
    ResourceMonitor m = monitor(4);
    probe.used(0.95).refresh(m);

    assertThat(probe.used(0.86).refresh(m))
        .as("0.86 ≥ 0.90 − 0.05")
        .isEqualTo(PressureLevel.CRITICAL);
    assertThat(probe.used(0.84).refresh(m)).as("0.84 < 0.85").isEqualTo(PressureLevel.WARNING);
    assertThat(probe.used(0.76).refresh(m))
        .as("0.76 ≥ 0.80 − 0.05")
        .isEqualTo(PressureLevel.WARNING);
    assertThat(probe.used(0.74).refresh(m)).as("0.74 < 0.75").isEqualTo(PressureLevel.NONE);
    assertThat(events.pressure)
        .containsExactly("NONE->CRITICAL", "CRITICAL->WARNING", "WARNING->NONE");
  }

  @Test
  void critical_falls_straight_to_none_when_usage_drops_below_both_bands() {
    ResourceMonitor m = monitor(4);
    probe.used(0.99).refresh(m);

    assertThat(probe.used(0.60).refresh(m)).isEqualTo(PressureLevel.NONE);
    assertThat(events.pressure).containsExactly("NONE->CRITICAL", "CRITICAL->NONE");
  }

  @Test
  void without_hysteresis_the_level_follows_the_thresholds_exactly() {
    ResourceMonitor m = monitor(ResourceConfig.builder().hysteresis(0).build());

    probe.used(0.81).refresh(m);
    probe.used(0.79).refresh(m);

    assertThat(events.pressure).containsExactly("NONE->WARNING", "WARNING->NONE");
  }

  @Test
  void the_listener_gets_the_reading_that_changed_the_level() {
    ResourceMonitor m = monitor(4);
    List<MemoryReading> readings = new ArrayList<>();
    m.addListener(
        new ResourceListener() {
          @Override
          public void pressureChanged(PressureLevel from, PressureLevel to, MemoryReading r) {
            readings.add(r);
          }
        });

    probe.availableMb(1_000).refresh(m);

    assertThat(readings).extracting(MemoryReading::availableMb).containsExactly(1_000L);
  }

  // --- claimable under pressure ---------------------------------------------------------------

  @Test
  void claimable_halves_slots_under_warning_is_zero_under_critical_and_recovers() {
    ResourceMonitor m = monitor(4);

    probe.used(0.5).refresh(m);
    assertThat(m.claimable().slots()).isEqualTo(4);
    probe.used(0.85).refresh(m);
    assertThat(m.claimable().slots()).isEqualTo(2);
    probe.used(0.95).refresh(m);
    assertThat(m.claimable()).isEqualTo(Capacity.of(0, 0));
    probe.used(0.5).refresh(m);
    assertThat(m.claimable().slots()).isEqualTo(4);
  }

  @Test
  void under_warning_the_halved_limit_counts_active_slots_and_never_goes_negative() {
    ResourceMonitor m = monitor(4);
    probe.used(0.5).refresh(m);
    m.tryAcquire(id("a"), req(3, 0)).orElseThrow();

    probe.used(0.85).refresh(m);

    assertThat(m.claimable().slots()).isZero();
    assertThat(m.tryAcquire(id("b"), req(1, 0))).isEmpty();
  }

  @Test
  void under_warning_a_node_with_one_slot_keeps_one() {
    ResourceMonitor m = monitor(1);

    probe.used(0.85).refresh(m);

    assertThat(m.claimable().slots()).isEqualTo(1);
    assertThat(m.tryAcquire(id("a"), req(1, 0))).isPresent();
  }

  @Test
  void under_critical_nothing_is_acquired_not_even_work_without_memory() {
    ResourceMonitor m = monitor(4);
    probe.used(0.95).refresh(m);

    assertThat(m.tryAcquire(id("a"), req(1, 0))).isEmpty();
    assertThat(m.activeSlots()).isZero();

    probe.used(0.2).refresh(m);
    assertThat(m.tryAcquire(id("a"), req(1, 0))).isPresent();
  }

  // --- memory admission ------------------------------------------------------------------------

  @Test
  void effective_memory_defaults_to_memory_per_slot_times_slots_and_declared_memory_wins() {
    ResourceMonitor m = monitor(ResourceConfig.builder().memoryPerSlotMb(1024).build());

    assertThat(m.effective(req(3, 0))).isEqualTo(req(3, 3072));
    assertThat(m.effective(req(3, 500))).isEqualTo(req(3, 500));
    assertThat(monitor(4).effective(req(2, 0))).isEqualTo(req(2, 0));
  }

  @Test
  void a_lease_holds_the_effective_request_not_the_declared_one() {
    ResourceMonitor m = monitor(ResourceConfig.agentSandboxes());

    SlotLease lease = m.tryAcquire(id("a"), ResourceRequest.DEFAULT).orElseThrow();

    assertThat(lease.resources()).isEqualTo(req(1, 4096));
    assertThat(m.reservedMemoryMb()).isEqualTo(4096);
  }

  @Test
  void the_budget_limits_the_memory_all_leases_reserve() {
    ResourceMonitor m =
        monitor(ResourceConfig.builder().maxConcurrent(10).memoryBudgetMb(10_000).build());

    SlotLease a = m.tryAcquire(id("a"), req(1, 4_000)).orElseThrow();
    m.tryAcquire(id("b"), req(1, 4_000)).orElseThrow();

    assertThat(m.claimable().memoryMb()).isEqualTo(2_000);
    assertThat(m.tryAcquire(id("c"), req(1, 4_000))).isEmpty();
    m.release(a);
    assertThat(m.tryAcquire(id("c"), req(1, 4_000))).isPresent();
    assertThat(m.reservedMemoryMb()).isEqualTo(8_000);
  }

  @Test
  void available_memory_minus_min_free_limits_admission() {
    ResourceMonitor m =
        monitor(ResourceConfig.builder().maxConcurrent(10).minFreeMemoryMb(1_000).build());
    probe.availableMb(5_000).refresh(m);

    assertThat(m.claimable().memoryMb()).isEqualTo(4_000);
    assertThat(m.tryAcquire(id("big"), req(1, 4_001))).isEmpty();
    assertThat(m.tryAcquire(id("fits"), req(1, 4_000))).isPresent();
  }

  @Test
  void the_smaller_of_budget_left_and_available_memory_limits_admission() {
    ResourceMonitor m =
        monitor(ResourceConfig.builder().maxConcurrent(10).memoryBudgetMb(3_000).build());

    probe.availableMb(5_000).refresh(m);
    assertThat(m.claimable().memoryMb()).isEqualTo(3_000);
    probe.availableMb(2_000).refresh(m);
    assertThat(m.claimable().memoryMb()).isEqualTo(2_000);
  }

  @Test
  void leases_granted_since_the_last_reading_count_against_its_available_memory() {
    ResourceMonitor m =
        monitor(ResourceConfig.builder().maxConcurrent(10).allocationGrace(Duration.ZERO).build());
    probe.availableMb(5_000).refresh(m);

    m.tryAcquire(id("a"), req(1, 2_000)).orElseThrow();
    assertThat(m.claimable().memoryMb()).isEqualTo(3_000);
    m.tryAcquire(id("b"), req(1, 2_000)).orElseThrow();
    assertThat(m.tryAcquire(id("c"), req(1, 2_000))).as("only 1,000 left").isEmpty();

    // The work orders have now allocated: the next reading shows it, and the leases stop counting.
    probe.availableMb(1_500).refresh(m);
    assertThat(m.claimable().memoryMb()).isEqualTo(1_500);
  }

  @Test
  void a_young_lease_counts_against_every_reading_until_its_allocation_grace_has_passed() {
    ResourceMonitor m = monitor(10); // default grace: a minute
    probe.availableMb(10_000).refresh(m);
    m.tryAcquire(id("a"), req(1, 4_000)).orElseThrow();

    // A reading a second later: the sandbox has not grown yet, so memory still looks free.
    clock.advance(Duration.ofSeconds(1));
    probe.availableMb(10_000).refresh(m);
    assertThat(m.claimable().memoryMb()).isEqualTo(6_000);

    // A minute on, the reading is trusted to show the lease's memory in use.
    clock.advance(Duration.ofMinutes(1));
    probe.availableMb(6_500).refresh(m);
    assertThat(m.claimable().memoryMb()).isEqualTo(6_500);
  }

  @Test
  void releasing_a_lease_granted_since_the_reading_returns_its_memory_at_once() {
    ResourceMonitor m = monitor(10);
    probe.availableMb(5_000).refresh(m);
    SlotLease a = m.tryAcquire(id("a"), req(1, 2_000)).orElseThrow();

    m.release(a);

    assertThat(m.claimable().memoryMb()).isEqualTo(5_000);
  }

  @Test
  void releasing_a_lease_older_than_the_reading_frees_memory_only_at_the_next_reading() {
    ResourceMonitor m = monitor(10);
    probe.availableMb(5_000).refresh(m);
    SlotLease a = m.tryAcquire(id("a"), req(1, 2_000)).orElseThrow();
    probe.availableMb(3_000).refresh(m);

    m.release(a);
    assertThat(m.claimable().memoryMb()).as("the reading still shows a's memory").isEqualTo(3_000);

    probe.availableMb(5_000).refresh(m);
    assertThat(m.claimable().memoryMb()).isEqualTo(5_000);
  }

  @Test
  void without_reading_or_budget_memory_is_unlimited_and_only_slots_limit() {
    ResourceMonitor m = monitor(ResourceConfig.builder().minFreeMemoryMb(500).build());

    assertThat(m.claimable()).isEqualTo(Capacity.of(2, Long.MAX_VALUE));
    assertThat(m.lastReading()).isEmpty();
  }

  @Test
  void without_reading_the_budget_still_limits() {
    ResourceMonitor m = monitor(ResourceConfig.builder().memoryBudgetMb(2_000).build());

    assertThat(m.claimable()).isEqualTo(Capacity.of(2, 2_000));
  }

  // --- probe failures -------------------------------------------------------------------------

  @Test
  void a_failing_probe_keeps_the_last_reading_and_level() {
    ResourceMonitor m = monitor(4);
    probe.used(0.85).refresh(m);
    MemoryReading before = m.lastReading().orElseThrow();

    probe.failing(new IllegalStateException("boom"));
    assertThat(m.refresh()).isEqualTo(PressureLevel.WARNING);
    assertThat(m.refresh()).isEqualTo(PressureLevel.WARNING);

    assertThat(m.lastReading()).containsSame(before);
    assertThat(m.claimable().slots()).isEqualTo(2);
    assertThat(events.pressure).containsExactly("NONE->WARNING");
    assertThat(probe.reads.get()).isEqualTo(3);
  }

  @Test
  void a_probe_that_fails_from_the_start_leaves_memory_unknown_so_only_the_budget_limits() {
    ResourceMonitor m = monitor(ResourceConfig.builder().memoryBudgetMb(1_000).build());
    probe.failing(new java.io.UncheckedIOException(new java.io.IOException("no /proc")));

    assertThat(m.refresh()).isEqualTo(PressureLevel.NONE);

    assertThat(m.lastReading()).isEmpty();
    assertThat(m.claimable()).isEqualTo(Capacity.of(2, 1_000));
  }

  @Test
  void a_probe_returning_null_counts_as_a_failure() {
    ResourceMonitor m = new ResourceMonitor(ResourceConfig.defaults(), () -> null, clock);

    assertThat(m.refresh()).isEqualTo(PressureLevel.NONE);
    assertThat(m.lastReading()).isEmpty();
  }

  @Test
  void a_probe_that_recovers_is_used_again() {
    ResourceMonitor m = monitor(4);
    probe.failing(new IllegalStateException("boom"));
    m.refresh();

    assertThat(probe.used(0.95).refresh(m)).isEqualTo(PressureLevel.CRITICAL);
    assertThat(m.lastReading()).isPresent();
  }

  // --- leases ----------------------------------------------------------------------------------

  @Test
  void release_is_idempotent_and_fires_slot_available_once() {
    ResourceMonitor m = monitor(2);
    SlotLease lease = m.tryAcquire(id("a"), req(2, 0)).orElseThrow();

    assertThat(lease.isReleased()).isFalse();
    assertThat(m.release(lease)).isTrue();
    assertThat(m.release(lease)).isFalse();

    assertThat(lease.isReleased()).isTrue();
    assertThat(events.slots.get()).isEqualTo(1);
    assertThat(m.activeSlots()).isZero();
  }

  @Test
  void slots_are_weighted_and_a_request_bigger_than_what_is_left_waits() {
    ResourceMonitor m = monitor(3);

    SlotLease two = m.tryAcquire(id("a"), req(2, 0)).orElseThrow();
    assertThat(m.tryAcquire(id("b"), req(2, 0))).isEmpty();
    assertThat(m.tryAcquire(id("c"), req(1, 0))).isPresent();
    assertThat(m.activeSlots()).isEqualTo(3);

    m.release(two);
    assertThat(m.claimable().slots()).isEqualTo(2);
  }

  @Test
  void releasing_a_lease_of_another_monitor_is_rejected() {
    ResourceMonitor m = monitor(2);
    ResourceMonitor other = new ResourceMonitor(ResourceConfig.defaults(), probe, clock);
    SlotLease lease = other.tryAcquire(id("a"), req(1, 0)).orElseThrow();

    assertThatThrownBy(() -> m.release(lease))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("another monitor");
    assertThat(other.activeSlots()).isEqualTo(1);
  }

  @Test
  void leases_lists_unreleased_leases_oldest_first_with_clock_times() {
    ResourceMonitor m = monitor(3);
    SlotLease a = m.tryAcquire(id("a"), req(1, 0)).orElseThrow();
    clock.advance(Duration.ofSeconds(5));
    SlotLease b = m.tryAcquire(id("b"), req(1, 0)).orElseThrow();
    SlotLease c = m.tryAcquire(id("c"), req(1, 0)).orElseThrow();

    m.release(b);
    List<SlotLease> snapshot = m.leases();
    m.release(c);

    assertThat(snapshot).containsExactly(a, c);
    assertThat(a.acquiredAt()).isEqualTo(MutableClock.DEFAULT_START);
    assertThat(c.acquiredAt()).isEqualTo(MutableClock.DEFAULT_START.plusSeconds(5));
    assertThat(c.workOrderId()).isEqualTo(id("c"));
    assertThat(m.leases()).containsExactly(a);
  }

  @Test
  void could_ever_fit_checks_slots_budget_and_total_memory_minus_min_free() {
    ResourceMonitor m =
        monitor(
            ResourceConfig.builder()
                .maxConcurrent(4)
                .memoryPerSlotMb(1_000)
                .memoryBudgetMb(6_000)
                .minFreeMemoryMb(5_000)
                .build());

    assertThat(m.couldEverFit(req(4, 0))).isTrue();
    assertThat(m.couldEverFit(req(5, 0))).as("more slots than the node has").isFalse();
    assertThat(m.couldEverFit(req(1, 6_000))).isTrue();
    assertThat(m.couldEverFit(req(1, 6_001))).as("over budget").isFalse();
    assertThat(m.couldEverFit(req(4, 0))).isTrue();

    probe.availableMb(100).refresh(m); // total 10,000 − minFree 5,000 = 5,000
    assertThat(m.couldEverFit(req(1, 5_000))).as("fits once memory is free").isTrue();
    assertThat(m.couldEverFit(req(1, 5_001))).isFalse();
    assertThat(m.couldEverFit(req(4, 0))).isTrue();
    assertThat(m.couldEverFit(req(3, 0))).isTrue();
  }

  @Test
  void could_ever_fit_is_true_under_pressure_and_while_slots_are_taken() {
    ResourceMonitor m = monitor(2);
    m.tryAcquire(id("a"), req(2, 0)).orElseThrow();
    probe.used(0.99).refresh(m);

    assertThat(m.couldEverFit(req(2, 0))).isTrue();
  }

  // --- listeners ------------------------------------------------------------------------------

  @Test
  void a_listener_that_throws_does_not_stop_release_or_other_listeners() {
    ResourceMonitor m = new ResourceMonitor(ResourceConfig.defaults(), probe, clock);
    m.addListener(
        new ResourceListener() {
          @Override
          public void slotAvailable(ResourceMonitor monitor) {
            throw new IllegalStateException("listener bug");
          }

          @Override
          public void pressureChanged(PressureLevel from, PressureLevel to, MemoryReading r) {
            throw new IllegalStateException("listener bug");
          }
        });
    m.addListener(events);
    SlotLease lease = m.tryAcquire(id("a"), req(1, 0)).orElseThrow();

    assertThat(m.release(lease)).isTrue();
    assertThat(probe.used(0.95).refresh(m)).isEqualTo(PressureLevel.CRITICAL);

    assertThat(events.slots.get()).isEqualTo(1);
    assertThat(events.pressure).containsExactly("NONE->CRITICAL");
  }

  @Test
  void a_closed_subscription_hears_nothing_more_and_closing_twice_is_harmless() {
    ResourceMonitor m = new ResourceMonitor(ResourceConfig.defaults(), probe, clock);
    RecordingListener l = new RecordingListener();
    Subscription s = m.addListener(l);
    m.release(m.tryAcquire(id("a"), req(1, 0)).orElseThrow());

    s.close();
    s.close();
    m.release(m.tryAcquire(id("b"), req(1, 0)).orElseThrow());
    probe.used(0.95).refresh(m);

    assertThat(l.slots.get()).isEqualTo(1);
    assertThat(l.pressure).isEmpty();
  }

  @Test
  void a_listener_may_acquire_from_slot_available_and_close_its_own_subscription() {
    ResourceMonitor m = new ResourceMonitor(ResourceConfig.defaults(), probe, clock);
    List<Optional<SlotLease>> acquired = new ArrayList<>();
    Subscription[] own = new Subscription[1];
    own[0] =
        m.addListener(
            new ResourceListener() {
              @Override
              public void slotAvailable(ResourceMonitor monitor) {
                acquired.add(monitor.tryAcquire(id("next"), req(2, 0)));
                own[0].close();
              }
            });
    SlotLease lease = m.tryAcquire(id("a"), req(2, 0)).orElseThrow();

    m.release(lease);
    m.release(acquired.get(0).orElseThrow());

    assertThat(acquired).hasSize(1);
    assertThat(m.activeSlots()).isZero();
  }

  // --- health ---------------------------------------------------------------------------------

  @Test
  void health_before_any_reading_reports_no_memory_and_no_source() {
    ResourceMonitor m = monitor(ResourceConfig.agentSandboxes());
    m.tryAcquire(id("a"), ResourceRequest.DEFAULT).orElseThrow();

    ResourceHealthReport h = m.health();

    assertThat(h.hasReading()).isFalse();
    assertThat(h.readAt()).isNull();
    assertThat(h.source()).isEqualTo(ResourceHealthReport.NO_READING);
    assertThat(h.memoryTotalMb()).isZero();
    assertThat(h.activeSlots()).isEqualTo(1);
    assertThat(h.maxSlots()).isEqualTo(2);
    assertThat(h.reservedMemoryMb()).isEqualTo(4096);
    assertThat(h.pressure()).isEqualTo(PressureLevel.NONE);
  }

  @Test
  void health_reports_the_last_reading_its_time_and_the_pressure() {
    ResourceMonitor m = monitor(4);
    clock.advance(Duration.ofMinutes(1));
    probe.used(0.85).refresh(m);
    clock.advance(Duration.ofMinutes(1));

    ResourceHealthReport h = m.health();

    assertThat(h.memoryTotalMb()).isEqualTo(10_000);
    assertThat(h.memoryAvailableMb()).isEqualTo(1_500);
    assertThat(h.memoryUsedMb()).isEqualTo(8_500);
    assertThat(h.pressure()).isEqualTo(PressureLevel.WARNING);
    assertThat(h.readAt()).isEqualTo(MutableClock.DEFAULT_START.plusSeconds(60));
    assertThat(h.source()).isEqualTo("test");
  }

  // --- real threads ---------------------------------------------------------------------------

  @Test
  void eight_threads_never_hold_more_slots_or_memory_than_allowed() throws Exception {
    int max = 5;
    long budget = 3_000;
    ResourceMonitor m =
        new ResourceMonitor(
            ResourceConfig.builder().maxConcurrent(max).memoryBudgetMb(budget).build(),
            probe.availableMb(TOTAL_MB),
            clock);
    m.refresh();
    AtomicInteger slotsInside = new AtomicInteger();
    AtomicLong memoryInside = new AtomicLong();
    AtomicInteger peakSlots = new AtomicInteger();
    AtomicInteger violations = new AtomicInteger();
    AtomicInteger acquired = new AtomicInteger();
    AtomicInteger released = new AtomicInteger();
    AtomicInteger slotEvents = new AtomicInteger();
    m.addListener(
        new ResourceListener() {
          @Override
          public void slotAvailable(ResourceMonitor monitor) {
            slotEvents.incrementAndGet();
          }
        });
    int threads = 8;
    int rounds = 5_000;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  ThreadLocalRandom random = ThreadLocalRandom.current();
                  for (int i = 0; i < rounds; i++) {
                    ResourceRequest r = req(1 + random.nextInt(2), random.nextInt(1_500));
                    Optional<SlotLease> lease = m.tryAcquire(id("t" + thread + "-" + i), r);
                    if (lease.isEmpty()) {
                      continue;
                    }
                    acquired.incrementAndGet();
                    int slots = slotsInside.addAndGet(r.slots());
                    long memory = memoryInside.addAndGet(r.memoryMb());
                    peakSlots.accumulateAndGet(slots, Math::max);
                    if (slots > max || memory > budget) {
                      violations.incrementAndGet();
                    }
                    if (random.nextInt(4) == 0) {
                      Thread.yield();
                    }
                    slotsInside.addAndGet(-r.slots());
                    memoryInside.addAndGet(-r.memoryMb());
                    if (m.release(lease.get())) {
                      released.incrementAndGet();
                    }
                    if (m.release(lease.get())) {
                      violations.incrementAndGet();
                    }
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(violations.get()).isZero();
    assertThat(acquired.get()).isPositive().isEqualTo(released.get());
    assertThat(slotEvents.get()).isEqualTo(released.get());
    assertThat(peakSlots.get()).isBetween(1, max);
    assertThat(m.activeSlots()).isZero();
    assertThat(m.reservedMemoryMb()).isZero();
    assertThat(m.leases()).isEmpty();
  }
}
