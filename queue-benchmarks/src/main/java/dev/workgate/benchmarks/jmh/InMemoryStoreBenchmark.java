package dev.workgate.benchmarks.jmh;

import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ClaimRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The in-memory store ({@link Stores#inMemory()}): {@code append} of one Submitted per call, {@code
 * appendAll} of 100 Submitted per call, and {@code claim} with a limit of 1 and of 32. Every figure
 * is work orders per second (appended or claimed), whatever the calls per second.
 *
 * <p><b>How the store is kept from running dry (or growing without bound).</b> An append needs a
 * new id and a claim a PENDING work order, and the store keeps every work order it was given, so a
 * benchmark that ran one call per invocation against one store would either run out of backlog
 * mid-iteration (claims) or fill the heap (appends, at a few hundred thousand work orders a second
 * and about 900 bytes each). Instead each invocation works on a store of its own: a {@link
 * Level#Invocation} setup opens a fresh store (for claims: already holding exactly {@value
 * #WORK_ORDERS} PENDING work orders), and the invocation appends or claims exactly {@value
 * #WORK_ORDERS} work orders in many calls, declared with {@link OperationsPerInvocation}. A claim
 * that returns fewer than its limit fails the benchmark instead of measuring an empty claim. An
 * invocation takes milliseconds, so the per-invocation setup costs JMH nothing measurable (its
 * documented caveat concerns invocations of microseconds). The ids and specs are built once per
 * trial, so the figures are the store's own and not the id generator's; the stores hold at most
 * {@value #WORK_ORDERS} work orders, so their indexes are shallow compared with a store of
 * millions.
 *
 * <p>Thread safety: every state is {@link Scope#Thread}, each benchmark thread has its own store.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class InMemoryStoreBenchmark {

  /** Work orders appended or claimed per invocation: a multiple of 100 and of 32. */
  public static final int WORK_ORDERS = 6_400;

  /** Work orders per {@code appendAll} call. */
  public static final int BATCH = 100;

  /**
   * A fresh, empty store per invocation and the submissions to put in it, made once per trial (the
   * same ids serve every store). {@link Scope#Thread}: one per benchmark thread.
   */
  @State(Scope.Thread)
  public static class Empty {
    List<AppendRequest> singles;
    List<List<AppendRequest>> batches;
    WorkOrderStore store;

    /** Builds the submissions and their ids. */
    @Setup(Level.Trial)
    public void buildSubmissions() {
      singles = WorkOrders.newSubmissions(WORK_ORDERS, WorkOrders.QUEUE);
      batches = new ArrayList<>();
      for (int i = 0; i < WORK_ORDERS; i += BATCH) {
        batches.add(List.copyOf(singles.subList(i, i + BATCH)));
      }
    }

    /** Opens an empty store. */
    @Setup(Level.Invocation)
    public void open() {
      store = Stores.inMemory();
    }

    /** Closes the store, so its work orders can be collected. */
    @TearDown(Level.Invocation)
    public void close() {
      store.close();
    }
  }

  /**
   * A fresh store per invocation holding exactly {@value #WORK_ORDERS} PENDING work orders, and a
   * claim request with the parameter's limit and the current time. {@link Scope#Thread}: one per
   * benchmark thread.
   */
  @State(Scope.Thread)
  public static class Backlog {
    /** Work orders per claim call. */
    @Param({"1", "32"})
    public int limit;

    List<List<AppendRequest>> batches;
    WorkOrderStore store;
    ClaimRequest claim;

    /** Builds the submissions and their ids. */
    @Setup(Level.Trial)
    public void buildSubmissions() {
      if (WORK_ORDERS % limit != 0) {
        throw new IllegalStateException(WORK_ORDERS + " is not a multiple of the limit " + limit);
      }
      List<AppendRequest> all = WorkOrders.newSubmissions(WORK_ORDERS, WorkOrders.QUEUE);
      batches = new ArrayList<>();
      for (int i = 0; i < WORK_ORDERS; i += BATCH) {
        batches.add(List.copyOf(all.subList(i, i + BATCH)));
      }
    }

    /** Opens a store and fills it; the claim's time is taken after the fill. */
    @Setup(Level.Invocation)
    public void fill() {
      store = Stores.inMemory();
      for (List<AppendRequest> batch : batches) {
        store.appendAll(batch);
      }
      claim = WorkOrders.claimNow(limit);
    }

    /** Closes the store, so its work orders can be collected. */
    @TearDown(Level.Invocation)
    public void close() {
      store.close();
    }
  }

  /**
   * {@value #WORK_ORDERS} calls of {@code append}, one new work order each.
   *
   * @param s the empty store and submissions
   * @param bh takes the recorded events
   */
  @Benchmark
  @OperationsPerInvocation(WORK_ORDERS)
  public void appendOne(Empty s, Blackhole bh) {
    WorkOrderStore store = s.store;
    for (AppendRequest r : s.singles) {
      bh.consume(store.append(r.workOrderId(), r.expected(), r.events()));
    }
  }

  /**
   * {@value #WORK_ORDERS} / {@value #BATCH} calls of {@code appendAll}, {@value #BATCH} new work
   * orders each.
   *
   * @param s the empty store and submissions
   * @param bh takes the recorded events
   */
  @Benchmark
  @OperationsPerInvocation(WORK_ORDERS)
  public void appendAll100(Empty s, Blackhole bh) {
    WorkOrderStore store = s.store;
    for (List<AppendRequest> batch : s.batches) {
      bh.consume(store.appendAll(batch));
    }
  }

  /**
   * {@value #WORK_ORDERS} / {@code limit} calls of {@code claim}, which take the whole backlog.
   *
   * @param s the filled store and the claim request
   * @param bh takes the claimed views
   */
  @Benchmark
  @OperationsPerInvocation(WORK_ORDERS)
  public void claim(Backlog s, Blackhole bh) {
    WorkOrderStore store = s.store;
    ClaimRequest claim = s.claim;
    for (int calls = WORK_ORDERS / s.limit; calls > 0; calls--) {
      List<WorkOrderView> got = store.claim(claim);
      if (got.size() != s.limit) {
        throw new IllegalStateException(
            "the backlog ran dry: a claim of " + s.limit + " got " + got.size());
      }
      bh.consume(got);
    }
  }
}
