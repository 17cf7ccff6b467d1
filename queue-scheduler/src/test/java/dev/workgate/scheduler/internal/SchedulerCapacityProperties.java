package dev.workgate.scheduler.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.spi.ExpectedVersion;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Never more than capacity: threads submit work orders with random resource requests to a running
 * scheduler, an executor runs what it dispatches, and the slots and memory in use, counted by the
 * runners themselves, never exceed the node's slots or its memory budget.
 */
class SchedulerCapacityProperties {
  private static final long GB = 1L << 30;

  @Property(tries = 12)
  void slots_and_memory_in_use_never_exceed_the_capacity(
      @ForAll @IntRange(min = 1, max = 6) int slots,
      @ForAll("budgets") long budgetMb,
      @ForAll @Size(min = 1, max = 60) List<@net.jqwik.api.From("requests") ResourceRequest> raw,
      @ForAll @IntRange(min = 1, max = 4) int submitters)
      throws Exception {
    List<ResourceRequest> requests = new ArrayList<>();
    for (ResourceRequest r : raw) {
      requests.add(
          ResourceRequest.of(
              Math.min(r.slots(), slots),
              budgetMb == 0 ? r.memoryMb() : Math.min(r.memoryMb(), budgetMb)));
    }
    AtomicInteger slotsInUse = new AtomicInteger();
    AtomicLong memoryInUse = new AtomicLong();
    AtomicInteger maxSlotsSeen = new AtomicInteger();
    AtomicLong maxMemorySeen = new AtomicLong();
    AtomicInteger done = new AtomicInteger();
    // As many runner threads as work: only the scheduler limits concurrency.
    ExecutorService runners = Executors.newCachedThreadPool();
    try (WorkOrderStore store = Stores.inMemory()) {
      WorkDispatcher dispatcher =
          work ->
              runners.execute(
                  () -> {
                    ResourceRequest held = work.view().resources(); // what it really uses
                    maxSlotsSeen.accumulateAndGet(slotsInUse.addAndGet(held.slots()), Math::max);
                    maxMemorySeen.accumulateAndGet(
                        memoryInUse.addAndGet(held.memoryMb()), Math::max);
                    LockSupport.parkNanos(300_000); // the work itself: overlap with others
                    WorkOrderView claimed = work.view();
                    store.append(
                        claimed.id(),
                        ExpectedVersion.exactly(claimed.version()),
                        List.of(
                            new WorkOrderEvent.Started("sandbox"),
                            new WorkOrderEvent.Completed(null)));
                    slotsInUse.addAndGet(-held.slots());
                    memoryInUse.addAndGet(-held.memoryMb());
                    done.incrementAndGet();
                    work.release();
                  });
      Scheduler scheduler =
          Scheduler.builder(store, dispatcher)
              .config(
                  SchedulerConfig.builder()
                      .nodeId("node-1")
                      .pollInterval(Duration.ofMillis(200))
                      .build())
              .resources(
                  new ResourceMonitor(
                      ResourceConfig.builder()
                          .maxConcurrent(slots)
                          .memoryBudgetMb(budgetMb)
                          .build(),
                      () -> new MemoryReading(64 * GB, 60 * GB, "test"),
                      Clock.systemUTC()))
              .build();
      scheduler.start();
      try {
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < submitters; t++) {
          int first = t;
          Thread thread =
              new Thread(
                  () -> {
                    for (int i = first; i < requests.size(); i += submitters) {
                      scheduler.submit(
                          WorkOrderSpec.builder("job").resources(requests.get(i)).build());
                    }
                  });
          threads.add(thread);
          thread.start();
        }
        for (Thread thread : threads) {
          thread.join(30_000);
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> done.get() == requests.size());
      } finally {
        scheduler.close();
      }
      assertThat(maxSlotsSeen.get()).isLessThanOrEqualTo(slots);
      if (budgetMb > 0) {
        assertThat(maxMemorySeen.get()).isLessThanOrEqualTo(budgetMb);
      }
      assertThat(store.counts().byState("default"))
          .containsEntry(WorkOrderState.COMPLETED, (long) requests.size());
      assertThat(scheduler.resources().activeSlots()).isZero();
    } finally {
      runners.shutdownNow();
    }
  }

  @Provide
  Arbitrary<Long> budgets() {
    return Arbitraries.oneOf(Arbitraries.just(0L), Arbitraries.longs().between(512, 8_192));
  }

  @Provide
  Arbitrary<ResourceRequest> requests() {
    return net.jqwik.api.Combinators.combine(
            Arbitraries.integers().between(1, 3), Arbitraries.longs().between(0, 4_096))
        .as(ResourceRequest::of);
  }
}
