package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.BenchmarkData.ids;
import static dev.workgate.core.testing.BenchmarkData.submissions;
import static dev.workgate.core.testing.BenchmarkData.submitInBatches;
import static dev.workgate.core.testing.BenchmarkData.summary;
import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.SqliteOptions.SqliteDurability;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Throughput of the SQLite (durability FULL) and PostgreSQL stores, printed as figures (never
 * asserted as timings: the machine is shared): single-event appends from 1 and from 8 threads (the
 * 8-thread figure shows what group commit gains), appends in batches of 100, and claims of 100.
 *
 * <p>Run with {@code mvn -Pbenchmarks -pl queue-core test}; size with {@code
 * -Dworkgate.bench.jdbc.workOrders=N} (default 20,000) and {@code -Dworkgate.bench.rounds=R}
 * (default 3; the first round is a warm-up and the median of the others is reported). Every round
 * starts from a new, empty database: a new file, or a new PostgreSQL schema. The PostgreSQL figures
 * need the server of {@link PostgresTestDatabase}; without it they are skipped (failed under CI).
 */
@Tag("benchmark")
class JdbcStoreThroughputBenchmark {

  private static final int WORK_ORDERS =
      Integer.getInteger("workgate.bench.jdbc.workOrders", 20_000);
  private static final int ROUNDS = Math.max(2, Integer.getInteger("workgate.bench.rounds", 3));
  private static final int THREADS = 8;
  private static final Duration LEASE = Duration.ofMinutes(5);
  private static final String QUEUE = "default";

  /** A fresh, empty database for one round. */
  private interface Database extends AutoCloseable {
    WorkOrderStore open();

    @Override
    void close();
  }

  @Test
  void sqlite_full_rates() {
    rates("SQLite FULL", sqliteDatabases(256));
    // The same 8 threads with every write in its own transaction: what group commit gains.
    List<WorkOrderEvent.Submitted> submissions = submissions(WORK_ORDERS);
    List<WorkOrderId> ids = ids(WORK_ORDERS);
    report(
        "SQLite FULL",
        "same, " + THREADS + " threads, group commit off",
        sqliteDatabases(1),
        store -> inThreads(store, ids, submissions));
  }

  private static Supplier<Database> sqliteDatabases(int maxGroupSize) {
    return () -> {
      Path dir;
      try {
        dir = Files.createTempDirectory("workgate-bench-");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return new Database() {
        @Override
        public WorkOrderStore open() {
          return Stores.sqlite(
              dir.resolve("bench.db"),
              SqliteOptions.builder()
                  .durability(SqliteDurability.FULL)
                  .maxGroupSize(maxGroupSize)
                  .build());
        }

        @Override
        public void close() {
          deleteRecursively(dir);
        }
      };
    };
  }

  @Test
  void postgres_rates() {
    PostgresTestDatabase.requireReachable();
    rates(
        "PostgreSQL",
        () -> {
          PostgresTestDatabase db = new PostgresTestDatabase().start();
          return new Database() {
            @Override
            public WorkOrderStore open() {
              WorkOrderStore store =
                  Stores.postgres(
                      db.dataSource(c -> c.setMaximumPoolSize(THREADS + 2)),
                      db.options(Clock.systemUTC()).build());
              analyzeAsInService(db, store);
              return store;
            }

            @Override
            public void close() {
              db.close();
            }
          };
        });
  }

  /**
   * Gives the new schema what a database in service has: some rows (in another queue) and planner
   * statistics. Without them PostgreSQL plans the store's prepared statements for empty tables and
   * keeps those plans until autovacuum first analyzes the tables, about a minute later, which no
   * round lasts.
   */
  private static void analyzeAsInService(PostgresTestDatabase db, WorkOrderStore store) {
    List<AppendRequest> baseline = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      baseline.add(
          AppendRequest.of(
              WorkOrderId.random(),
              ExpectedVersion.none(),
              WorkOrderEvent.Submitted.of(
                  WorkOrderSpec.builder("baseline").queue("baseline").build())));
      if (baseline.size() == 500) {
        store.appendAll(baseline);
        baseline.clear();
      }
    }
    try (Connection c = db.adminConnection();
        Statement st = c.createStatement()) {
      st.execute("ANALYZE " + db.table("workgate_events"));
      st.execute("ANALYZE " + db.table("workgate_work_orders"));
    } catch (SQLException e) {
      throw new IllegalStateException("ANALYZE failed", e);
    }
  }

  private static void rates(String backend, Supplier<Database> databases) {
    List<WorkOrderEvent.Submitted> submissions = submissions(WORK_ORDERS);
    List<WorkOrderId> ids = ids(WORK_ORDERS);
    report(
        backend,
        "append, one Submitted per call, 1 thread",
        databases,
        store -> {
          for (int i = 0; i < submissions.size(); i++) {
            store.append(ids.get(i), ExpectedVersion.none(), List.of(submissions.get(i)));
          }
          return submissions.size();
        });
    report(
        backend,
        "append, one Submitted per call, " + THREADS + " threads",
        databases,
        store -> inThreads(store, ids, submissions));
    report(
        backend,
        "append, batches of 100 work orders",
        databases,
        store -> {
          submitInBatches(store, ids, submissions, 100);
          return submissions.size();
        });
    reportClaims(backend, databases, ids, submissions, 100);
  }

  /** Each thread appends its share, one Submitted per call; returns the events appended. */
  private static long inThreads(
      WorkOrderStore store, List<WorkOrderId> ids, List<WorkOrderEvent.Submitted> submissions) {
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    CyclicBarrier start = new CyclicBarrier(THREADS);
    AtomicLong appended = new AtomicLong();
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int first = t;
        futures.add(
            pool.submit(
                () -> {
                  start.await(60, TimeUnit.SECONDS);
                  for (int i = first; i < submissions.size(); i += THREADS) {
                    store.append(ids.get(i), ExpectedVersion.none(), List.of(submissions.get(i)));
                    appended.incrementAndGet();
                  }
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        f.get(30, TimeUnit.MINUTES);
      }
    } catch (Exception e) {
      throw new IllegalStateException("an appending thread failed", e);
    } finally {
      pool.shutdownNow();
    }
    return appended.get();
  }

  private static void reportClaims(
      String backend,
      Supplier<Database> databases,
      List<WorkOrderId> ids,
      List<WorkOrderEvent.Submitted> submissions,
      int limit) {
    double[] rates = new double[ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
      try (Database db = databases.get()) {
        WorkOrderStore store = db.open();
        try {
          submitInBatches(store, ids, submissions, 500);
          Instant now = Clock.systemUTC().instant().plusSeconds(1);
          long start = System.nanoTime();
          long claimed = 0;
          while (true) {
            List<WorkOrderView> got =
                store.claim(
                    new ClaimRequest(QUEUE, "node-1", limit, Capacity.unlimited(), now, LEASE));
            if (got.isEmpty()) {
              break;
            }
            claimed += got.size();
          }
          long elapsed = System.nanoTime() - start;
          assertThat(claimed).isEqualTo(submissions.size());
          rates[round] = claimed * 1e9 / elapsed;
        } finally {
          store.close();
        }
      }
    }
    print(backend, "claim, limit " + limit + " per call", "work orders/s", rates);
  }

  /**
   * Runs {@code work} on a new database per round; ids and specs are made before the clock runs.
   */
  private static void report(
      String backend,
      String name,
      Supplier<Database> databases,
      ToLongFunction<WorkOrderStore> workReturningCount) {
    double[] rates = new double[ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
      try (Database db = databases.get()) {
        WorkOrderStore store = db.open();
        try {
          long start = System.nanoTime();
          long count = workReturningCount.applyAsLong(store);
          long elapsed = System.nanoTime() - start;
          assertThat(count).isEqualTo(WORK_ORDERS);
          rates[round] = count * 1e9 / elapsed;
        } finally {
          store.close();
        }
      }
    }
    print(backend, name, "events/s", rates);
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void print(String backend, String name, String unit, double[] rates) {
    System.out.printf(
        Locale.ROOT, "[bench] %-12s %-48s %s%n", backend, name, summary(rates, unit, WORK_ORDERS));
  }
}
