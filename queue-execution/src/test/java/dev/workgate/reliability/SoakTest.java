package dev.workgate.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.TransitionListener.StateChange;
import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Soak: pushes {@code workgate.soak.workOrders} work orders (1,000,000 by default; CI runs 100,000)
 * through a node on the in-memory store, run as a long-lived host runs it: a bounded backlog, a
 * transition listener (as the metrics binder registers one), a small share of attempts failing once
 * with a retryable error, and retention purging ended work orders in batches of 500 every quarter
 * second once they are a second old ({@code WorkOrderStore.deleteTerminalBefore}, what {@code
 * workgate-admin purge} calls, scaled down from the nightly run that docs/operations.md suggests).
 *
 * <p>Every tenth of the total the submitter stops, lets the backlog drain, purges every ended work
 * order, and reads the heap after full collections: the engine at rest, with an empty store, so
 * that what a sample holds is what the engine keeps across work orders. After a warm-up of half the
 * samples the heap must not trend upwards: the least-squares slope over the later samples stays
 * under {@value #MAX_SLOPE_MB_PER_100K} MB per 100,000 work orders (a leak of 100 bytes per work
 * order makes 10), and the last sample is within {@value #MAX_LAST_ABOVE_MIN_MB} MB of the later
 * samples' minimum. Every work order must end exactly once, completed, its handler having succeeded
 * exactly once.
 */
@Tag("slow")
@Timeout(value = 60, unit = TimeUnit.MINUTES)
class SoakTest {
  static final int TOTAL = Integer.getInteger("workgate.soak.workOrders", 1_000_000);
  static final int SAMPLES = 10;

  /** Submitted but not ended; keeps the backlog, not the engine, from dominating the heap. */
  static final int MAX_BACKLOG = 2_000;

  /** Every 50th work order's first attempt fails with a retryable error (2 %). */
  static final int FAIL_ONCE_EVERY = 50;

  /**
   * Long enough for the failed attempt's execution to finish its clean-up before the retry is
   * claimed: a retry claimed while the previous attempt's sandbox is still being destroyed is
   * refused by the execution manager and costs an attempt (SANDBOX_CREATION_FAILED).
   */
  static final Duration RETRY_DELAY = Duration.ofMillis(200);

  static final Duration RETENTION_AGE = Duration.ofSeconds(1);
  static final Duration RETENTION_EVERY = Duration.ofMillis(250);

  /** {@code workgate-admin purge}'s default batch. */
  static final int PURGE_BATCH = 500;

  static final double MAX_SLOPE_MB_PER_100K = 5.0;
  static final double MAX_LAST_ABOVE_MIN_MB = 4.0;

  /** Waiting for a permit or for the backlog to drain; far beyond any pause of a healthy node. */
  static final Duration STALL = Duration.ofMinutes(2);

  static final long GB = 1L << 30;
  static final double MB = 1024.0 * 1024.0;

  @TempDir Path dir;

  record Sample(long ended, double heapMb, double oldGenAfterGcMb) {}

  @Test
  void a_long_run_ends_every_work_order_and_the_heap_does_not_grow() throws Exception {
    int perSample = Math.max(1, TOTAL / SAMPLES);
    Clock clock = Clock.systemUTC();
    BitSet succeeded = new BitSet(TOTAL);
    AtomicLong duplicateSuccesses = new AtomicLong();
    AtomicLong firstAttemptFailures = new AtomicLong();
    Map<WorkOrderState, AtomicLong> ended = new EnumMap<>(WorkOrderState.class);
    for (WorkOrderState s : WorkOrderState.values()) {
      ended.put(s, new AtomicLong());
    }
    AtomicLong retriesScheduled = new AtomicLong();
    AtomicLong purged = new AtomicLong();
    Semaphore backlog = new Semaphore(MAX_BACKLOG);

    List<Sample> samples = new ArrayList<>();
    Path sandboxRoot = sandboxRoot();
    long submitted = 0;
    long runNanos = 0;
    long started = System.nanoTime();
    try (WorkOrderStore store = Stores.inMemory(clock);
        Workgate node =
            Workgate.builder()
                .store(store)
                .nodeId("soak")
                .sandboxRoot(sandboxRoot)
                .maxConcurrent(8)
                .pollInterval(Duration.ofMillis(50))
                .retryPolicy(
                    RetryPolicy.builder()
                        .maxAttempts(3)
                        .baseDelay(RETRY_DELAY)
                        .maxDelay(RETRY_DELAY)
                        .jitter(Jitter.none())
                        .build())
                .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
                .clock(clock)
                .handler(
                    "noop",
                    ctx -> {
                      int n = ctx.payload(Integer.class);
                      if (n % FAIL_ONCE_EVERY == 0 && ctx.attempt() == 1) {
                        firstAttemptFailures.incrementAndGet();
                        return WorkResult.retryableFailure(
                            ErrorCodes.NETWORK_ERROR, "soak: the first attempt fails");
                      }
                      synchronized (succeeded) {
                        if (succeeded.get(n)) {
                          duplicateSuccesses.incrementAndGet();
                        }
                        succeeded.set(n);
                      }
                      return WorkResult.ok();
                    })
                .build();
        ScheduledExecutorServiceCloser retention =
            new ScheduledExecutorServiceCloser(
                Executors.newSingleThreadScheduledExecutor(
                    r -> {
                      Thread t = new Thread(r, "soak-retention");
                      t.setDaemon(true);
                      return t;
                    }))) {
      node.onTransition(
          (StateChange c) -> {
            if (c.from().isEmpty() || c.from().get() == c.to()) {
              return;
            }
            if (c.to().isTerminal()) {
              ended.get(c.to()).incrementAndGet();
              backlog.release();
            } else if (c.to() == WorkOrderState.WAITING_RETRY) {
              retriesScheduled.incrementAndGet();
            }
          });
      node.start();
      retention.executor.scheduleWithFixedDelay(
          () -> purged.addAndGet(purge(store, clock.instant().minus(RETENTION_AGE))),
          RETENTION_EVERY.toMillis(),
          RETENTION_EVERY.toMillis(),
          TimeUnit.MILLISECONDS);

      samples.add(sample(0));
      for (int round = 1; round <= SAMPLES; round++) {
        long until = round == SAMPLES ? TOTAL : (long) round * perSample;
        long roundStarted = System.nanoTime();
        while (submitted < until) {
          assertThat(backlog.tryAcquire(STALL.toMillis(), TimeUnit.MILLISECONDS))
              .as(
                  "a backlog permit within %s (ended %d of %d)",
                  STALL, endedCount(ended), submitted)
              .isTrue();
          node.submit(WorkOrderSpec.builder("noop").payload((int) submitted).build());
          submitted++;
        }
        long target = submitted;
        await()
            .atMost(STALL)
            .pollInterval(Duration.ofMillis(5))
            .until(() -> endedCount(ended) == target);
        runNanos += System.nanoTime() - roundStarted;
        // The engine at rest with an empty store: what is left is what it keeps.
        purged.addAndGet(purge(store, clock.instant().plusMillis(1)));
        assertThat(active(store)).as("work orders not ended after %d", target).isZero();
        Sample taken = sample(target);
        samples.add(taken);
        System.out.printf(
            "soak: %,d ended, heap %.1f MB after GC, %.0f s%n",
            taken.ended(), taken.heapMb(), (System.nanoTime() - started) / 1e9);
      }
      retention.executor.shutdownNow();
      assertThat(retention.executor.awaitTermination(1, TimeUnit.MINUTES)).isTrue();
      assertThat(node.stats().executions()).isEmpty();
      assertThat(node.stats().activeSlots()).isZero();
    }
    long wallNanos = System.nanoTime() - started;

    long retried = TOTAL / FAIL_ONCE_EVERY + (TOTAL % FAIL_ONCE_EVERY == 0 ? 0 : 1);
    printReport(samples, submitted, wallNanos, runNanos, purged.get(), retried);

    // Every work order ended exactly once, completed; none lost, none ran twice.
    assertThat(submitted).isEqualTo(TOTAL);
    assertThat(ended.get(WorkOrderState.COMPLETED).get()).isEqualTo(TOTAL);
    assertThat(ended.get(WorkOrderState.FAILED).get()).isZero();
    assertThat(ended.get(WorkOrderState.CANCELLED).get()).isZero();
    assertThat(endedCount(ended)).isEqualTo(submitted);
    assertThat(succeeded.cardinality()).isEqualTo(TOTAL);
    assertThat(duplicateSuccesses.get()).isZero();
    assertThat(firstAttemptFailures.get()).isEqualTo(retried);
    assertThat(retriesScheduled.get()).isEqualTo(retried);
    assertThat(purged.get()).as("retention deleted every ended work order").isEqualTo(TOTAL);

    // No upward trend once warm.
    List<Sample> later = samples.subList(samples.size() - SAMPLES / 2, samples.size());
    double slope = slopeMbPer100k(later);
    double laterMin = later.stream().mapToDouble(Sample::heapMb).min().orElseThrow();
    double last = later.get(later.size() - 1).heapMb();
    assertThat(slope)
        .as("heap slope over the later samples, MB per 100,000 work orders")
        .isLessThan(MAX_SLOPE_MB_PER_100K);
    assertThat(last - laterMin)
        .as("last sample above the later samples' minimum, MB")
        .isLessThan(MAX_LAST_ABOVE_MIN_MB);
  }

  /**
   * In-process sandboxes are a directory each, created and deleted per attempt: on a tmpfs where
   * there is one, so that the run measures the engine rather than the disk's metadata writes.
   */
  Path sandboxRoot() throws java.io.IOException {
    Path shm = Path.of("/dev/shm");
    if (Files.isDirectory(shm) && Files.isWritable(shm)) {
      Path root = Files.createTempDirectory(shm, "workgate-soak-");
      shmRoot = root;
      return root;
    }
    return dir.resolve("sandboxes");
  }

  private Path shmRoot;

  @AfterEach
  void deleteShmRoot() throws java.io.IOException {
    if (shmRoot != null) {
      try (Stream<Path> paths = Files.walk(shmRoot)) {
        for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** Retention as {@code workgate-admin purge} runs it: batches until one comes back short. */
  static int purge(WorkOrderStore store, Instant cutoff) {
    int total = 0;
    int n;
    do {
      n = store.deleteTerminalBefore(cutoff, PURGE_BATCH);
      total += n;
    } while (n == PURGE_BATCH);
    return total;
  }

  static long active(WorkOrderStore store) {
    QueueCounts counts = store.counts();
    long n = 0;
    for (String queue : counts.queues()) {
      for (WorkOrderState state : WorkOrderState.values()) {
        n += state.isTerminal() ? 0 : counts.count(queue, state);
      }
    }
    return n;
  }

  static long endedCount(Map<WorkOrderState, AtomicLong> ended) {
    return ended.get(WorkOrderState.COMPLETED).get()
        + ended.get(WorkOrderState.FAILED).get()
        + ended.get(WorkOrderState.CANCELLED).get();
  }

  /** Heap after full collections: used heap, and the old generation's usage after the last GC. */
  static Sample sample(long endedSoFar) {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    double heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / MB;
    double oldGen =
        oldGenPool()
            .map(MemoryPoolMXBean::getCollectionUsage)
            .map(MemoryUsage::getUsed)
            .map(b -> b / MB)
            .orElse(Double.NaN);
    return new Sample(endedSoFar, heap, oldGen);
  }

  static Optional<MemoryPoolMXBean> oldGenPool() {
    return ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(p -> p.getType() == MemoryType.HEAP)
        .filter(p -> p.isCollectionUsageThresholdSupported() || p.getCollectionUsage() != null)
        .filter(p -> p.getName().contains("Old") || p.getName().contains("Tenured"))
        .findFirst();
  }

  /** Least-squares slope of heap against work orders ended, in MB per 100,000 work orders. */
  static double slopeMbPer100k(List<Sample> samples) {
    int n = samples.size();
    double mx = samples.stream().mapToDouble(s -> s.ended() / 100_000.0).average().orElseThrow();
    double my = samples.stream().mapToDouble(Sample::heapMb).average().orElseThrow();
    double sxy = 0;
    double sxx = 0;
    for (Sample s : samples) {
      double dx = s.ended() / 100_000.0 - mx;
      sxy += dx * (s.heapMb() - my);
      sxx += dx * dx;
    }
    return n < 2 || sxx == 0 ? 0 : sxy / sxx;
  }

  static void printReport(
      List<Sample> samples,
      long submitted,
      long wallNanos,
      long runNanos,
      long purged,
      long retried) {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            "%nSoak: %,d work orders (%,d failed once and retried), %,d purged by retention%n",
            submitted, retried, purged));
    out.append(String.format("%12s %12s %18s%n", "ended", "heap MB", "old gen after GC"));
    for (Sample s : samples) {
      out.append(
          String.format("%,12d %12.1f %18.1f%n", s.ended(), s.heapMb(), s.oldGenAfterGcMb()));
    }
    List<Sample> later = samples.subList(samples.size() - SAMPLES / 2, samples.size());
    out.append(
        String.format(
            "slope over the last %d samples: %.2f MB per 100,000 work orders (bound %.1f)%n",
            later.size(), slopeMbPer100k(later), MAX_SLOPE_MB_PER_100K));
    double wall = wallNanos / 1e9;
    double run = runNanos / 1e9;
    out.append(
        String.format(
            "wall %.1f s, %.0f work orders/s; without the sampling pauses %.1f s, %.0f/s; max heap"
                + " %.0f MB%n",
            wall, submitted / wall, run, submitted / run, Runtime.getRuntime().maxMemory() / MB));
    System.out.print(out);
  }

  /** Lets try-with-resources stop the retention thread however the test ends. */
  record ScheduledExecutorServiceCloser(ScheduledExecutorService executor)
      implements AutoCloseable {
    @Override
    public void close() {
      executor.shutdownNow();
    }
  }
}
