package dev.workgate.core.internal.memory;

import static dev.workgate.core.testing.BenchmarkData.ids;
import static dev.workgate.core.testing.BenchmarkData.submissions;
import static dev.workgate.core.testing.BenchmarkData.submitInBatches;
import static dev.workgate.core.testing.BenchmarkData.summary;
import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Throughput and footprint of the in-memory store, printed as figures (never asserted as timings:
 * the machine is shared). Run with {@code mvn -Pbenchmarks -pl queue-core test}; size with {@code
 * -Dworkgate.bench.workOrders=N} (default 200,000) and {@code -Dworkgate.bench.rounds=R} (default
 * 7; the first round is a warm-up and the median of the others is reported).
 */
@Tag("benchmark")
class InMemoryStoreThroughputBenchmark {

  private static final int WORK_ORDERS = Integer.getInteger("workgate.bench.workOrders", 200_000);
  private static final int ROUNDS = Math.max(2, Integer.getInteger("workgate.bench.rounds", 7));
  private static final Duration LEASE = Duration.ofMinutes(5);

  @Test
  void append_and_claim_rates() {
    List<WorkOrderEvent.Submitted> submissions = submissions(WORK_ORDERS);
    List<WorkOrderId> ids = ids(WORK_ORDERS);
    report(
        "append, one Submitted per call",
        "events/s",
        ids,
        store -> {
          for (int i = 0; i < submissions.size(); i++) {
            store.append(ids.get(i), ExpectedVersion.none(), List.of(submissions.get(i)));
          }
          return submissions.size();
        });
    report(
        "append, batches of 100 work orders",
        "events/s",
        ids,
        store -> {
          submitInBatches(store, ids, submissions, 100);
          return submissions.size();
        });
    report(
        "append, full lifecycle (4 events per work order, one per call)",
        "events/s",
        ids,
        store -> {
          Instant lease = Instant.now().plus(LEASE);
          for (int i = 0; i < submissions.size(); i++) {
            WorkOrderId id = ids.get(i);
            store.append(id, ExpectedVersion.none(), List.of(submissions.get(i)));
            store.append(
                id, ExpectedVersion.exactly(1), List.of(new WorkOrderEvent.Claimed("node", lease)));
            store.append(id, ExpectedVersion.exactly(2), List.of(new WorkOrderEvent.Started("sb")));
            store.append(
                id, ExpectedVersion.exactly(3), List.of(new WorkOrderEvent.Completed(null)));
          }
          return 4L * submissions.size();
        });
    for (int limit : new int[] {1, 32}) {
      reportClaims(ids, submissions, limit);
    }
  }

  @Test
  void heap_per_pending_work_order() {
    List<WorkOrderEvent.Submitted> submissions = submissions(WORK_ORDERS);
    long before = usedHeapAfterGc();
    WorkOrderStore store = new InMemoryWorkOrderStore(Clock.systemUTC());
    submitInBatches(store, ids(WORK_ORDERS), submissions, 1_000);
    long after = usedHeapAfterGc();
    assertThat(store.counts().count("default", WorkOrderState.PENDING)).isEqualTo(WORK_ORDERS);
    // The specs existed before the store: count them too, as a submission carries its own spec.
    long specs = estimateSpecBytes(submissions);
    System.out.printf(
        Locale.ROOT,
        "[bench] heap per pending work order: %d bytes (store %d + spec and payload %d), %,d work"
            + " orders%n",
        (after - before) / WORK_ORDERS + specs / WORK_ORDERS,
        (after - before) / WORK_ORDERS,
        specs / WORK_ORDERS,
        WORK_ORDERS);
    store.close();
  }

  private static void reportClaims(
      List<WorkOrderId> ids, List<WorkOrderEvent.Submitted> submissions, int limit) {
    double[] rates = new double[ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
      WorkOrderStore store = new InMemoryWorkOrderStore(Clock.systemUTC());
      submitInBatches(store, ids, submissions, 1_000);
      Instant now = Instant.now().plusSeconds(1);
      long start = System.nanoTime();
      long claimed = 0;
      while (true) {
        List<WorkOrderView> got =
            store.claim(
                new ClaimRequest("default", "node-1", limit, Capacity.unlimited(), now, LEASE));
        if (got.isEmpty()) {
          break;
        }
        claimed += got.size();
      }
      long elapsed = System.nanoTime() - start;
      assertThat(claimed).isEqualTo(submissions.size());
      rates[round] = claimed * 1e9 / elapsed;
      store.close();
    }
    print("claim, limit " + limit + " per call", "work orders/s", rates);
  }

  /**
   * Runs {@code work} on a fresh store per round. Ids are made before the clock starts: the figures
   * are the store's, not the id generator's.
   */
  private static void report(
      String name,
      String unit,
      List<WorkOrderId> ids,
      ToLongFunction<WorkOrderStore> workReturningCount) {
    assertThat(ids).hasSize(WORK_ORDERS);
    double[] rates = new double[ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
      WorkOrderStore store = new InMemoryWorkOrderStore(Clock.systemUTC());
      long start = System.nanoTime();
      long count = workReturningCount.applyAsLong(store);
      long elapsed = System.nanoTime() - start;
      rates[round] = count * 1e9 / elapsed;
      store.close();
    }
    print(name, unit, rates);
  }

  private static long estimateSpecBytes(List<WorkOrderEvent.Submitted> submissions) {
    long before = usedHeapAfterGc();
    List<WorkOrderEvent.Submitted> copy = submissions(submissions.size());
    long after = usedHeapAfterGc();
    assertThat(copy).hasSameSizeAs(submissions);
    return after - before;
  }

  private static long usedHeapAfterGc() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return rt.totalMemory() - rt.freeMemory();
  }

  private static void print(String name, String unit, double[] rates) {
    System.out.printf(Locale.ROOT, "[bench] %-62s %s%n", name, summary(rates, unit, WORK_ORDERS));
  }
}
