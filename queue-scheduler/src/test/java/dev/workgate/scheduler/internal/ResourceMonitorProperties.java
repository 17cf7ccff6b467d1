package dev.workgate.scheduler.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.scheduler.MemoryProbe;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.scheduler.ResourceHealthReport.PressureLevel;
import dev.workgate.spi.Capacity;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Random sequences of acquire, release (of any lease granted so far, released or not) and refresh
 * (with a new reading or a failing probe) on random configurations. After every step the monitor's
 * counters match the leases it granted and the limits hold; pressure follows an independent
 * statement of the hysteresis rule.
 */
class ResourceMonitorProperties {
  private static final long TOTAL_MB = 16_000;

  /** One step. {@code kind}: 0 acquire, 1 release, 2 refresh. */
  record Op(int kind, int slots, long memoryMb, int index, int usedPermille, boolean fail) {
    @Override
    public String toString() {
      switch (kind) {
        case 0:
          return "acquire(" + slots + ", " + memoryMb + ")";
        case 1:
          return "release(#" + index + ")";
        default:
          return fail ? "refresh(fails)" : "refresh(" + usedPermille + "‰)";
      }
    }
  }

  /** A probe that gives the reading the step sets, or fails. */
  static final class StepProbe implements MemoryProbe {
    MemoryReading next;
    boolean fail;

    @Override
    public MemoryReading read() {
      if (fail) {
        throw new IllegalStateException("probe failure for the test");
      }
      return next;
    }
  }

  @Property(tries = 500)
  void limits_hold_and_counters_match_the_leases_after_every_step(
      @ForAll("configs") ResourceConfig config, @ForAll("ops") List<Op> ops) {
    StepProbe probe = new StepProbe();
    ResourceMonitor m = new ResourceMonitor(config, probe, MutableClock.create());
    AtomicInteger slotEvents = new AtomicInteger();
    List<String> pressureEvents = new ArrayList<>();
    m.addListener(
        new ResourceListener() {
          @Override
          public void slotAvailable(ResourceMonitor monitor) {
            slotEvents.incrementAndGet();
          }

          @Override
          public void pressureChanged(PressureLevel from, PressureLevel to, MemoryReading r) {
            pressureEvents.add(from + "->" + to);
          }
        });

    List<SlotLease> granted = new ArrayList<>();
    Set<SlotLease> released = new HashSet<>();
    Set<SlotLease> sinceReading = new HashSet<>();
    int realReleases = 0;
    int expectedPressureEvents = 0;
    PressureLevel expectedLevel = PressureLevel.NONE;
    MemoryReading reading = null;

    for (Op op : ops) {
      Capacity before = m.claimable();
      PressureLevel levelBefore = m.pressure();
      if (op.kind() == 0) {
        ResourceRequest declared = ResourceRequest.of(op.slots(), op.memoryMb());
        ResourceRequest need = m.effective(declared);
        assertThat(need.slots()).isEqualTo(declared.slots());
        assertThat(need.memoryMb())
            .isEqualTo(
                declared.memoryMb() > 0
                    ? declared.memoryMb()
                    : config.memoryPerSlotMb() * declared.slots());
        Optional<SlotLease> lease = m.tryAcquire(WorkOrderId.of("w" + granted.size()), declared);
        assertThat(lease.isPresent())
            .as("acquire succeeds iff %s fits %s", need, before)
            .isEqualTo(before.fits(need));
        if (lease.isPresent()) {
          assertThat(levelBefore).isNotEqualTo(PressureLevel.CRITICAL);
          assertThat(lease.get().resources()).isEqualTo(need);
          granted.add(lease.get());
          sinceReading.add(lease.get());
          if (levelBefore == PressureLevel.WARNING) {
            assertThat(m.activeSlots())
                .isLessThanOrEqualTo(Math.max(1, config.maxConcurrent() / 2));
          }
          if (reading != null) {
            long since = sinceReading.stream().mapToLong(l -> l.resources().memoryMb()).sum();
            assertThat(since)
                .isLessThanOrEqualTo(Math.max(0, reading.availableMb() - config.minFreeMemoryMb()));
          }
        }
      } else if (op.kind() == 1) {
        if (granted.isEmpty()) {
          continue;
        }
        SlotLease lease = granted.get(op.index() % granted.size());
        boolean first = released.add(lease);
        assertThat(m.release(lease)).isEqualTo(first);
        assertThat(lease.isReleased()).isTrue();
        sinceReading.remove(lease);
        if (first) {
          realReleases++;
        }
      } else {
        probe.fail = op.fail();
        probe.next =
            new MemoryReading(
                TOTAL_MB * MemoryReading.BYTES_PER_MIB,
                (TOTAL_MB * (1000 - op.usedPermille()) / 1000) * MemoryReading.BYTES_PER_MIB,
                "step");
        PressureLevel level = m.refresh();
        if (!op.fail()) {
          reading = probe.next;
          sinceReading.clear();
          PressureLevel expected = expectedLevel(expectedLevel, reading.usedFraction(), config);
          if (expected != expectedLevel) {
            expectedPressureEvents++;
          }
          expectedLevel = expected;
        }
        assertThat(level).isEqualTo(expectedLevel);
      }

      List<SlotLease> active = new ArrayList<>(granted);
      active.removeAll(released);
      int slots = active.stream().mapToInt(l -> l.resources().slots()).sum();
      long memory = active.stream().mapToLong(l -> l.resources().memoryMb()).sum();
      assertThat(m.activeSlots()).isEqualTo(slots).isLessThanOrEqualTo(config.maxConcurrent());
      assertThat(m.reservedMemoryMb()).isEqualTo(memory);
      if (config.memoryBudgetMb() > 0) {
        assertThat(memory).isLessThanOrEqualTo(config.memoryBudgetMb());
      }
      assertThat(m.leases()).containsExactlyElementsOf(active);
      assertThat(m.pressure()).isEqualTo(expectedLevel);
      assertThat(m.lastReading()).isEqualTo(Optional.ofNullable(reading));
      assertThat(slotEvents.get()).isEqualTo(realReleases);
      assertThat(pressureEvents).hasSize(expectedPressureEvents);
      Capacity now = m.claimable();
      if (expectedLevel == PressureLevel.CRITICAL) {
        assertThat(now).isEqualTo(Capacity.of(0, 0));
      }
    }
  }

  /** The hysteresis rule as the API states it, written independently of the monitor. */
  private static PressureLevel expectedLevel(PressureLevel current, double used, ResourceConfig c) {
    double h = c.hysteresis();
    if (used >= c.criticalThreshold()) {
      return PressureLevel.CRITICAL;
    }
    if (current == PressureLevel.CRITICAL && used >= c.criticalThreshold() - h) {
      return PressureLevel.CRITICAL;
    }
    if (used >= c.warningThreshold()) {
      return PressureLevel.WARNING;
    }
    if (current != PressureLevel.NONE && used >= c.warningThreshold() - h) {
      return PressureLevel.WARNING;
    }
    return PressureLevel.NONE;
  }

  @Provide
  Arbitrary<ResourceConfig> configs() {
    Arbitrary<Integer> warning = Arbitraries.integers().between(10, 95);
    return warning.flatMap(
        w ->
            Combinators.combine(
                    Arbitraries.integers().between(1, 8),
                    Arbitraries.of(0L, 500L, 1_000L, 2_000L),
                    Arbitraries.of(0L, 0L, 2_000L, 5_000L, 12_000L),
                    Arbitraries.of(0L, 0L, 1_000L, 4_000L),
                    Arbitraries.integers().between(w + 1, 100),
                    Arbitraries.integers().between(0, Math.min(w - 1, 20)))
                .as(
                    (max, perSlot, budget, minFree, critical, hysteresis) ->
                        ResourceConfig.builder()
                            .maxConcurrent(max)
                            .memoryPerSlotMb(budget > 0 ? Math.min(perSlot, budget) : perSlot)
                            .memoryBudgetMb(budget)
                            .minFreeMemoryMb(minFree)
                            .warningThreshold(w / 100.0)
                            .criticalThreshold(critical / 100.0)
                            .hysteresis(hysteresis / 100.0)
                            .build()));
  }

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Op> acquire =
        Combinators.combine(
                Arbitraries.integers().between(1, 4),
                Arbitraries.frequencyOf(
                    Tuple.of(2, Arbitraries.just(0L)),
                    Tuple.of(3, Arbitraries.longs().between(1, 6_000))))
            .as((slots, memory) -> new Op(0, slots, memory, 0, 0, false));
    Arbitrary<Op> release =
        Arbitraries.integers().between(0, 1_000).map(i -> new Op(1, 0, 0, i, 0, false));
    Arbitrary<Op> refresh =
        Combinators.combine(
                Arbitraries.integers().between(0, 1000),
                Arbitraries.integers().between(0, 9).map(i -> i == 0))
            .as((used, fail) -> new Op(2, 0, 0, 0, used, fail));
    return Arbitraries.frequencyOf(Tuple.of(5, acquire), Tuple.of(4, release), Tuple.of(2, refresh))
        .list()
        .ofMinSize(1)
        .ofMaxSize(60);
  }
}
