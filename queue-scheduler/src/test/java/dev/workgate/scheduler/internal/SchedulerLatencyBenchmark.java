package dev.workgate.scheduler.internal;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.internal.jdbc.PostgresTestDatabase;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.BenchmarkData;
import dev.workgate.scheduler.MemoryProbe;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.spi.ExpectedVersion;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What the scheduler loop costs, printed as figures (never asserted: the machine is shared).
 *
 * <ul>
 *   <li>Submit → dispatch latency with the real loop thread and a 1 s poll interval, so a latency
 *       far below a second shows that a submit wakes the loop. Work orders are submitted one at a
 *       time, about 2 ms apart, so that each is its own wake-up; the dispatcher notes the time and
 *       completes the work on another thread at once, so nothing waits for a slot. In-memory and
 *       PostgreSQL (tables analyzed after the warm-up, as a database in service would have them).
 *   <li>The CPU an idle node's loop thread uses in its once-per-poll turns, in-memory and
 *       PostgreSQL (each idle turn runs a few queries): first just after the start, then after
 *       2,000 more turns (run directly, and timed) have compiled the turn's code, as on a node that
 *       has idled for a while.
 * </ul>
 *
 * <p>Run with {@code mvn -Pbenchmarks -pl queue-core,queue-retry,queue-scheduler test
 * -Dtest=SchedulerLatencyBenchmark}; size with {@code -Dworkgate.bench.scheduler.submits=N}
 * (default 2,000, after a warm-up of 200 that is not counted) and {@code
 * -Dworkgate.bench.scheduler.idleSeconds=S} (default 10).
 */
@Tag("benchmark")
class SchedulerLatencyBenchmark {
  private static final int SUBMITS = Integer.getInteger("workgate.bench.scheduler.submits", 2_000);
  private static final int WARM_UP = 200;
  private static final int IDLE_SECONDS =
      Integer.getInteger("workgate.bench.scheduler.idleSeconds", 10);
  private static final int IDLE_WARM_UP_TURNS = 2_000;
  private static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
  private static final Duration POLL = Duration.ofSeconds(1);
  private static final MemoryProbe PLENTY =
      () -> new MemoryReading(64L << 30, 48L << 30, "fixed benchmark probe");

  @Test
  void in_memory_submit_to_dispatch_latency() throws Exception {
    try (WorkOrderStore store = Stores.inMemory()) {
      latency("in-memory", store, () -> {});
    }
  }

  @Test
  void postgres_submit_to_dispatch_latency() throws Exception {
    PostgresTestDatabase db = new PostgresTestDatabase().start();
    try (WorkOrderStore store = db.openStore(Clock.systemUTC())) {
      latency(
          "PostgreSQL",
          store,
          () -> {
            db.execute("ANALYZE " + db.table("workgate_work_orders"));
            db.execute("ANALYZE " + db.table("workgate_events"));
          });
    } finally {
      db.close();
    }
  }

  @Test
  void in_memory_idle_node() {
    try (WorkOrderStore store = Stores.inMemory()) {
      idle("in-memory", store);
    }
  }

  @Test
  void postgres_idle_node() {
    PostgresTestDatabase db = new PostgresTestDatabase().start();
    try (WorkOrderStore store = db.openStore(Clock.systemUTC())) {
      idle("PostgreSQL", store);
    } finally {
      db.close();
    }
  }

  private static void latency(String name, WorkOrderStore store, Runnable afterWarmUp)
      throws InterruptedException {
    ExecutorService runners = Executors.newFixedThreadPool(4);
    CompletingDispatcher dispatcher = new CompletingDispatcher(store, runners);
    Scheduler scheduler =
        Scheduler.builder(store, dispatcher)
            .config(SchedulerConfig.builder().nodeId("bench-latency").pollInterval(POLL).build())
            .resources(
                new ResourceMonitor(
                    ResourceConfig.builder().maxConcurrent(1_000).build(),
                    PLENTY,
                    Clock.systemUTC()))
            .build();
    scheduler.start();
    try {
      submitOneByOne(scheduler, dispatcher, WARM_UP);
      afterWarmUp.run();
      long[] nanos = submitOneByOne(scheduler, dispatcher, SUBMITS);
      Arrays.sort(nanos);
      System.out.printf(
          Locale.ROOT,
          "%-10s submit\u2192dispatch latency  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms"
              + "  (%,d submits ~2 ms apart after %d warm-up, poll %d s)%n",
          name,
          millis(percentile(nanos, 50)),
          millis(percentile(nanos, 90)),
          millis(percentile(nanos, 99)),
          millis(nanos[nanos.length - 1]),
          SUBMITS,
          WARM_UP,
          POLL.toSeconds());
    } finally {
      scheduler.close();
      runners.shutdown();
      if (!runners.awaitTermination(30, TimeUnit.SECONDS)) {
        throw new AssertionError("the runners did not finish");
      }
    }
  }

  /**
   * Submits work orders one at a time, ~2 ms apart, waits until all ran; returns each one's submit
   * → dispatch latency in nanoseconds.
   */
  private static long[] submitOneByOne(
      Scheduler scheduler, CompletingDispatcher dispatcher, int n) {
    List<WorkOrderSpec> specs = new ArrayList<>(n);
    for (WorkOrderEvent.Submitted submitted : BenchmarkData.submissions(n)) {
      specs.add(submitted.spec());
    }
    WorkOrderId[] ids = new WorkOrderId[n];
    long[] submittedAt = new long[n];
    int completedBefore = dispatcher.completed.get();
    for (int i = 0; i < n; i++) {
      submittedAt[i] = System.nanoTime();
      ids[i] = scheduler.submit(specs.get(i));
      LockSupport.parkNanos(PAUSE_NANOS);
    }
    Awaitility.await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(10))
        .until(() -> dispatcher.completed.get() - completedBefore >= n);
    if (dispatcher.failures.get() > 0) {
      throw new AssertionError(dispatcher.failures.get() + " runs failed; see the log");
    }
    long[] latencies = new long[n];
    for (int i = 0; i < n; i++) {
      latencies[i] = dispatcher.dispatchedAt.get(ids[i]) - submittedAt[i];
    }
    return latencies;
  }

  private static void idle(String name, WorkOrderStore store) {
    AtomicReference<Thread> loop = new AtomicReference<>();
    ThreadFactory remembering =
        runnable -> {
          Thread thread = new Thread(runnable, "workgate-bench-idle");
          thread.setDaemon(true);
          loop.set(thread);
          return thread;
        };
    Scheduler scheduler =
        Scheduler.builder(store, work -> work.release())
            .config(SchedulerConfig.builder().nodeId("bench-idle").pollInterval(POLL).build())
            .resources(new ResourceMonitor(ResourceConfig.defaults(), PLENTY, Clock.systemUTC()))
            .threadFactory(remembering)
            .build();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    if (!threads.isThreadCpuTimeEnabled()) {
      threads.setThreadCpuTimeEnabled(true);
    }
    scheduler.start();
    try {
      // Measure from the end of the first turn, which loads classes and opens connections.
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> turns(scheduler) >= 1);
      long threadId = loop.get().getId();
      idlePeriod(name + " idle node, cold:", scheduler, threads, threadId);
      // A node idles for hours: its turns run compiled code. Compile it with extra turns.
      long start = System.nanoTime();
      for (int i = 0; i < IDLE_WARM_UP_TURNS; i++) {
        scheduler.runOnce();
      }
      double perTurn = millis(System.nanoTime() - start) / IDLE_WARM_UP_TURNS;
      idlePeriod(
          String.format(
              Locale.ROOT,
              "%s idle node after %,d turns (%.2f ms each):",
              name,
              IDLE_WARM_UP_TURNS,
              perTurn),
          scheduler,
          threads,
          threadId);
    } finally {
      scheduler.close();
    }
  }

  private static void idlePeriod(
      String what, Scheduler scheduler, ThreadMXBean threads, long threadId) {
    long turnsBefore = turns(scheduler);
    long cpuBefore = threads.getThreadCpuTime(threadId);
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(IDLE_SECONDS);
    for (long left = end - System.nanoTime(); left > 0; left = end - System.nanoTime()) {
      LockSupport.parkNanos(left);
    }
    long cpu = threads.getThreadCpuTime(threadId) - cpuBefore;
    long turns = turns(scheduler) - turnsBefore;
    long wall = System.nanoTime() - start;
    System.out.printf(
        Locale.ROOT,
        "%-56s %d turns in %.1f s, loop thread CPU %.1f ms (%.3f %%), %.2f ms per turn%n",
        what,
        turns,
        wall / 1e9,
        millis(cpu),
        100.0 * cpu / wall,
        turns == 0 ? 0.0 : millis(cpu) / turns);
  }

  private static long turns(Scheduler scheduler) {
    return scheduler.stats().turns();
  }

  /** The nearest-rank percentile of sorted values. */
  private static long percentile(long[] sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, rank - 1)];
  }

  private static double millis(long nanos) {
    return nanos / 1e6;
  }

  /**
   * Notes when each claim arrives, then on a runner appends {@code Started} and {@code Completed}
   * under the claim's version and releases the slot.
   */
  private static final class CompletingDispatcher implements WorkDispatcher {
    final Map<WorkOrderId, Long> dispatchedAt = new ConcurrentHashMap<>();
    final AtomicInteger completed = new AtomicInteger();
    final AtomicInteger failures = new AtomicInteger();
    private final WorkOrderStore store;
    private final ExecutorService runners;

    CompletingDispatcher(WorkOrderStore store, ExecutorService runners) {
      this.store = store;
      this.runners = runners;
    }

    @Override
    public void dispatch(ClaimedWork work) {
      dispatchedAt.put(work.id(), System.nanoTime());
      runners.execute(
          () -> {
            try {
              List<RecordedEvent> started =
                  store.append(
                      work.id(),
                      ExpectedVersion.exactly(work.view().version()),
                      List.of(new WorkOrderEvent.Started("bench-sandbox")));
              store.append(
                  work.id(),
                  ExpectedVersion.exactly(started.get(0).version()),
                  List.of(new WorkOrderEvent.Completed(null)));
            } catch (RuntimeException e) {
              failures.incrementAndGet();
              e.printStackTrace();
            } finally {
              work.release();
              completed.incrementAndGet();
            }
          });
    }
  }
}
