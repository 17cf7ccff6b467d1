package dev.workgate.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.jdbc.PostgresTestDatabase;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A network partition on PostgreSQL: two nodes share one schema, and every JDBC call on one node's
 * connections (connection, statements, result sets) blocks while a switch is on, flipped at random
 * moments, in the middle of transactions too; the server ends a transaction frozen that way after
 * {@code idle_in_transaction_session_timeout} (1 s), so that its locks do not stall the other node.
 * The cut-off node must stop its work by itself (self-fencing) before the other node reaps the
 * lease and runs the work order again. Handlers record when they ran, by {@link System#nanoTime()};
 * after each run no two executions of one work order may overlap, and every work order must have
 * completed with exactly one terminal event.
 *
 * <p>The default build runs {@value #DEFAULT_RUNS} runs ({@value #RUNS_PROPERTY}); the slow profile
 * {@value #DEFAULT_SLOW_RUNS} ({@value #SLOW_RUNS_PROPERTY}). The seed is random and printed;
 * {@code -D}{@value #SEED_PROPERTY} replays its plan (the partitions' real-time interleaving with
 * the nodes still varies).
 */
class PartitionTest {
  static final String RUNS_PROPERTY = "workgate.partition.runs";
  static final String SLOW_RUNS_PROPERTY = "workgate.partition.slowRuns";
  static final String SEED_PROPERTY = "workgate.partition.seed";
  static final int DEFAULT_RUNS = 4;
  static final int DEFAULT_SLOW_RUNS = 60;
  static final String TYPE = "partitioned";
  static final Duration LEASE = Duration.ofSeconds(2); // renewed every third, fenced 1 s early
  static final Duration KILL_GRACE = Duration.ofMillis(200);
  static final Duration POLL = Duration.ofMillis(100);
  static final long GB = 1L << 30;

  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();
  @TempDir Path dir;

  @Test
  void the_executions_of_a_work_order_never_overlap_while_a_node_is_cut_off_at_random_moments()
      throws Exception {
    runs(Integer.getInteger(RUNS_PROPERTY, DEFAULT_RUNS), 16);
  }

  @Test
  @Tag("slow")
  void many_partitions_at_random_moments_never_make_two_executions_of_a_work_order_overlap()
      throws Exception {
    runs(Integer.getInteger(SLOW_RUNS_PROPERTY, DEFAULT_SLOW_RUNS), 24);
  }

  /** One handler execution, by the monotonic clock. */
  record Execution(WorkOrderId id, int attempt, String node, long startNanos, long endNanos) {}

  /** What the runs added up to. */
  static final class Figures {
    int runs;
    int workOrders;
    int executions;
    long partitions;
    long frozenCalls;
    long frozenMidTransaction;
    long selfFenced;
    int released;
    int mostReleases;
    int overlaps;

    @Override
    public String toString() {
      return runs
          + " runs, "
          + workOrders
          + " work orders, "
          + executions
          + " handler executions, "
          + partitions
          + " partitions, "
          + frozenCalls
          + " JDBC calls frozen ("
          + frozenMidTransaction
          + " mid-transaction), "
          + selfFenced
          + " self-fenced attempts, "
          + released
          + " attempts released (at most "
          + mostReleases
          + " for one work order), "
          + overlaps
          + " overlaps found";
    }
  }

  private void runs(int runs, int workOrdersPerRun) throws Exception {
    long seed = Long.getLong(SEED_PROPERTY, System.nanoTime());
    System.out.println("partition test: seed " + seed + " (-D" + SEED_PROPERTY + "=" + seed + ")");
    Random random = new Random(seed);
    Figures figures = new Figures();
    for (int run = 1; run <= runs; run++) {
      run(run, workOrdersPerRun, random, seed, figures);
    }
    System.out.println("partition test, seed " + seed + ": " + figures);
    assertThat(figures.overlaps).isZero();
    assertThat(figures.partitions).as("seed %d: partitions made", seed).isPositive();
    assertThat(figures.frozenCalls).as("seed %d: calls frozen", seed).isPositive();
  }

  private void run(int run, int workOrders, Random random, long seed, Figures figures)
      throws Exception {
    String context = "seed " + seed + ", run " + run;
    Partition partition = new Partition();
    List<Execution> executions = new CopyOnWriteArrayList<>();
    HikariDataSource poolA = db.dataSource(c -> c.setMaximumPoolSize(6));
    HikariDataSource poolB = db.dataSource(c -> c.setMaximumPoolSize(6));
    ExecutorService driver = Executors.newSingleThreadExecutor();
    CountDownLatch done = new CountDownLatch(1);
    // A transaction frozen by the partition is ended by the server after 1 s, freeing its locks;
    // a write waiting for such a lock gives up after 1.5 s instead of hanging.
    WorkOrderStore storeA =
        Stores.postgres(
            poolA, db.options(Clock.systemUTC()).lockTimeout(Duration.ofMillis(1500)).build());
    WorkOrderStore storeB =
        Stores.postgres(
            partition.wrap(poolB),
            db.options(Clock.systemUTC())
                .idleInTransactionTimeout(Duration.ofSeconds(1))
                .lockTimeout(Duration.ofMillis(1500))
                .build());
    Workgate a = node("node-a", storeA, executions);
    Workgate b = node("node-b", storeB, executions);
    List<WorkOrderId> ids = new ArrayList<>();
    long selfFenced = 0;
    try {
      a.start();
      b.start();
      List<WorkOrderSpec> specs = new ArrayList<>();
      for (int i = 0; i < workOrders; i++) {
        // Most work is short; a quarter outlasts the lease, which only self-fencing can stop in
        // time when its node is cut off.
        int millis =
            random.nextInt(4) == 0 ? 1500 + random.nextInt(2501) : 100 + random.nextInt(701);
        specs.add(WorkOrderSpec.builder(TYPE).payload(Map.of("millis", millis)).build());
      }
      List<Long> plan = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        plan.add(50L + random.nextInt(600)); // connected for
        plan.add(300L + random.nextInt(3700)); // cut off for
      }
      ids.addAll(a.submitAll(specs));
      Future<?> partitions =
          driver.submit(
              () -> {
                for (int i = 0; i < plan.size(); i += 2) {
                  if (waitFor(done, plan.get(i))) {
                    return null;
                  }
                  if (i % 4 == 0) {
                    partition.cut(); // wherever the node's threads are
                  } else if (!partition.cutMidTransaction(Duration.ofSeconds(2))) {
                    partition.cut(); // no transaction came along
                  }
                  boolean stop = waitFor(done, plan.get(i + 1));
                  partition.heal();
                  if (stop) {
                    return null;
                  }
                }
                return null;
              });
      await(context + ": every work order ends")
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(50))
          .failFast(context + ": the partition driver failed", () -> failed(partitions))
          .until(
              () ->
                  ids.stream().allMatch(id -> storeA.find(id).orElseThrow().state().isTerminal()));
      done.countDown();
      partitions.get(10, TimeUnit.SECONDS);
    } finally {
      done.countDown();
      partition.heal(); // the cut-off node must be able to shut down
      driver.shutdownNow();
      selfFenced += b.node().selfFencedCount() + a.node().selfFencedCount();
      b.shutdown(Duration.ofSeconds(5));
      a.shutdown(Duration.ofSeconds(5));
      b.close();
      a.close();
      storeB.close();
      storeA.close();
      poolB.close();
      poolA.close();
    }

    Map<WorkOrderId, List<Execution>> byWorkOrder = new HashMap<>();
    for (Execution e : executions) {
      byWorkOrder.computeIfAbsent(e.id(), k -> new ArrayList<>()).add(e);
    }
    List<String> overlaps = new ArrayList<>();
    for (List<Execution> list : byWorkOrder.values()) {
      list.sort(Comparator.comparingLong(Execution::startNanos));
      for (int i = 1; i < list.size(); i++) {
        Execution before = list.get(i - 1);
        Execution after = list.get(i);
        if (after.startNanos() < before.endNanos()) {
          overlaps.add(
              before
                  + " and "
                  + after
                  + " overlap by "
                  + (before.endNanos() - after.startNanos()) / 1_000_000
                  + " ms");
        }
      }
    }
    figures.runs++;
    figures.workOrders += ids.size();
    figures.executions += executions.size();
    figures.partitions += partition.partitions.get();
    figures.frozenCalls += partition.frozenCalls.get();
    figures.frozenMidTransaction += partition.frozenMidTransaction.get();
    figures.selfFenced += selfFenced;
    figures.overlaps += overlaps.size();
    assertThat(overlaps).as("%s: overlapping executions", context).isEmpty();

    try (WorkOrderStore reader = db.openStore(Clock.systemUTC())) {
      for (WorkOrderId id : ids) {
        WorkOrderView view = reader.find(id).orElseThrow();
        figures.released += view.releases();
        figures.mostReleases = Math.max(figures.mostReleases, view.releases());
        assertThat(view.state())
            .as("%s: %s (%s)", context, id, view.lastError())
            .isEqualTo(WorkOrderState.COMPLETED);
        int terminal = 0;
        for (RecordedEvent e : reader.readStream(id)) {
          WorkOrderEvent event = e.event();
          if (event instanceof WorkOrderEvent.Completed
              || event instanceof WorkOrderEvent.Cancelled
              || (event instanceof WorkOrderEvent.AttemptFailed failed
                  && failed.retryAt() == null)) {
            terminal++;
          }
        }
        assertThat(terminal).as("%s: terminal events of %s", context, id).isEqualTo(1);
        assertThat(byWorkOrder.get(id)).as("%s: executions of %s", context, id).isNotEmpty();
      }
    }
  }

  /** Whether a task ended with an exception. */
  private static boolean failed(Future<?> task) {
    if (!task.isDone()) {
      return false;
    }
    try {
      task.get();
      return false;
    } catch (ExecutionException | CancellationException e) {
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    }
  }

  /** Waits up to {@code millis} for the latch; true if it opened. */
  private static boolean waitFor(CountDownLatch latch, long millis) throws InterruptedException {
    return latch.await(millis, TimeUnit.MILLISECONDS);
  }

  private Workgate node(String id, WorkOrderStore store, List<Execution> executions) {
    return Workgate.builder()
        .store(store)
        .nodeId(id)
        .sandboxRoot(dir.resolve(id))
        .maxConcurrent(2)
        .memoryPerSlotMb(0)
        .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "partition test"))
        .leaseDuration(LEASE)
        .pollInterval(POLL)
        .killGrace(KILL_GRACE)
        .retryPolicy(
            RetryPolicy.builder()
                .maxAttempts(RetryPolicy.MAX_ATTEMPTS_LIMIT)
                .baseDelay(Duration.ofMillis(50))
                .maxDelay(Duration.ofMillis(200))
                .jitter(Jitter.none())
                .build())
        .handler(
            TYPE,
            ctx -> {
              long start = System.nanoTime();
              try {
                Thread.sleep(ctx.payload().get("millis").asLong()); // stops when interrupted
                return WorkResult.ok();
              } finally {
                executions.add(
                    new Execution(ctx.id(), ctx.attempt(), id, start, System.nanoTime()));
              }
            })
        .build();
  }

  /**
   * The switch that cuts one node off: while it is on, every JDBC call on the connections of the
   * data source it wraps blocks, before reaching the driver or after returning from it (so that a
   * commit that happened can go unseen, as when the network drops the answer).
   */
  static final class Partition {
    private static final Set<Class<?>> WRAPPED =
        Set.of(
            Connection.class,
            Statement.class,
            PreparedStatement.class,
            CallableStatement.class,
            ResultSet.class,
            DatabaseMetaData.class);

    final AtomicLong partitions = new AtomicLong();
    final AtomicLong frozenCalls = new AtomicLong();
    final AtomicLong frozenMidTransaction = new AtomicLong();
    private boolean on; // guarded by this

    private boolean armed; // guarded by this

    synchronized void cut() {
      armed = false;
      on = true;
      partitions.incrementAndGet();
    }

    /**
     * Cuts the node off as soon as one of its threads is inside a transaction that has run a
     * statement; true if that happened within {@code wait}.
     */
    synchronized boolean cutMidTransaction(Duration wait) throws InterruptedException {
      armed = true;
      long deadline = System.nanoTime() + wait.toNanos();
      while (!on) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          armed = false;
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return true;
    }

    synchronized void heal() {
      armed = false;
      on = false;
      notifyAll();
    }

    /** Blocks while the partition is on. */
    void pass(TransactionState state) throws SQLException {
      synchronized (this) {
        if (!on && armed && state != null && state.open) {
          armed = false;
          on = true;
          partitions.incrementAndGet();
          notifyAll(); // tells cutMidTransaction that the cut began
        }
        if (!on) {
          return;
        }
        frozenCalls.incrementAndGet();
        if (state != null && state.open) {
          frozenMidTransaction.incrementAndGet();
        }
        while (on) {
          try {
            wait();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while cut off from the database");
          }
        }
      }
    }

    DataSource wrap(DataSource pool) {
      return (DataSource)
          Proxy.newProxyInstance(
              PartitionTest.class.getClassLoader(),
              new Class<?>[] {DataSource.class},
              (proxy, method, args) -> {
                pass(null);
                Object result = invoke(pool, method, args);
                if (result instanceof Connection c) {
                  return wrap(c, Connection.class, new TransactionState());
                }
                return result;
              });
    }

    private Object wrap(Object target, Class<?> type, TransactionState state) {
      InvocationHandler handler =
          (proxy, method, args) -> {
            pass(state);
            Object result = invoke(target, method, args);
            track(target, method, args, state);
            pass(state);
            Class<?> returned = method.getReturnType();
            if (result != null && returned.isInterface() && WRAPPED.contains(returned)) {
              return wrap(result, returned, state);
            }
            return result;
          };
      return Proxy.newProxyInstance(
          PartitionTest.class.getClassLoader(), new Class<?>[] {type}, handler);
    }

    /** Keeps whether the connection is inside a transaction that has run a statement. */
    private static void track(Object target, Method method, Object[] args, TransactionState s) {
      String name = method.getName();
      if (target instanceof Connection) {
        if (name.equals("setAutoCommit")) {
          s.manual = !((Boolean) args[0]);
          s.open = false;
        } else if (name.equals("commit") || name.equals("rollback") || name.equals("close")) {
          s.open = false;
        }
      } else if (target instanceof Statement && name.startsWith("execute") && s.manual) {
        s.open = true;
      }
    }

    private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
      try {
        return method.invoke(target, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    }
  }

  /** Whether a connection is in a transaction; one thread at a time uses a connection. */
  static final class TransactionState {
    volatile boolean manual;
    volatile boolean open;
  }
}
