package dev.workgate.benchmarks.jmh;

import dev.workgate.benchmarks.harness.PostgresSchema;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.PostgresOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ClaimRequest;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The PostgreSQL store ({@link Stores#postgres(javax.sql.DataSource, PostgresOptions)} on a
 * HikariCP pool of {@value PostgresSchema#POOL_SIZE} connections) in batches of {@value #BATCH}
 * work orders: {@code appendAll} of {@value #BATCH} Submitted (one transaction), and {@code claim}
 * with a limit of {@value #BATCH} from a PENDING backlog. One call handles {@value #BATCH} work
 * orders and is declared as {@value #BATCH} operations, so every figure is work orders per second.
 *
 * <p>The server is {@link PostgresSchema#URL} ({@code 127.0.0.1:5432}, database {@code test}, user
 * {@code postgres}, trust authentication, unless the system properties {@code
 * workgate.bench.pg.url} and {@code workgate.bench.pg.user} say otherwise; JMH passes them to its
 * forks with {@code -jvmArgsAppend -Dworkgate.bench.pg.url=...}). JMH cannot skip a benchmark, so
 * these live in a class of their own: when the server is not reachable, the trial setup fails with
 * a message saying so and JMH goes on with the next benchmark (or, with {@code -foe true}, stops
 * and exits non-zero); leave them out with {@code -e PostgresStoreBenchmark}.
 *
 * <p>Each trial gets a new schema, dropped in its tear-down. Like a database in service, the schema
 * first holds 5,000 work orders of another queue and the tables are analyzed: on never-analyzed
 * tables PostgreSQL keeps the plans it made for empty tables for the whole trial. The append's ids
 * are made in a per-invocation setup, outside the measured call. The claim's backlog starts at
 * {@value PendingBacklog#TOP_UP} work orders and a per-invocation setup adds as many again whenever
 * fewer than {@value #BATCH} are left, so a claim never comes back short; a short claim would fail
 * the benchmark. A call takes milliseconds (a commit), so per-invocation setup costs JMH nothing
 * measurable.
 *
 * <p>Thread safety: the states are {@link Scope#Thread}, each benchmark thread has its own schema,
 * pool and store (the store and the pool are thread-safe).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PostgresStoreBenchmark {

  /** Work orders per call. */
  public static final int BATCH = 100;

  /** Work orders of another queue that every new schema gets before it is analyzed. */
  public static final int IN_SERVICE_ROWS = 5_000;

  static {
    // Every trial opens pools: keep HikariCP's start and stop lines out of JMH's output.
    System.setProperty("org.slf4j.simpleLogger.log.com.zaxxer.hikari", "warn");
  }

  /**
   * A store in a new schema, and the next batch of submissions with fresh ids. {@link
   * Scope#Thread}: one per benchmark thread.
   */
  @State(Scope.Thread)
  public static class Append {
    PostgresStore db;
    List<AppendRequest> next;

    /**
     * Creates the schema and opens the store.
     *
     * @throws SQLException if the server is not reachable or refuses
     */
    @Setup(Level.Trial)
    public void open() throws SQLException {
      db = PostgresStore.create();
    }

    /** Makes the next batch. */
    @Setup(Level.Invocation)
    public void nextBatch() {
      next = WorkOrders.newSubmissions(BATCH, WorkOrders.QUEUE);
    }

    /**
     * Closes the store and drops the schema.
     *
     * @throws SQLException if the schema cannot be dropped
     */
    @TearDown(Level.Trial)
    public void close() throws SQLException {
      db.close();
    }
  }

  /**
   * A store in a new schema with a PENDING backlog that never runs out, and the next claim request.
   * {@link Scope#Thread}: one per benchmark thread.
   */
  @State(Scope.Thread)
  public static class Claim {
    PostgresStore db;
    PendingBacklog backlog;
    ClaimRequest request;

    /**
     * Creates the schema, opens the store and fills the backlog.
     *
     * @throws SQLException if the server is not reachable or refuses
     */
    @Setup(Level.Trial)
    public void open() throws SQLException {
      db = PostgresStore.create();
      try {
        backlog = new PendingBacklog(db.store);
        backlog.ensure(BATCH);
      } catch (RuntimeException e) {
        db.close();
        throw e;
      }
    }

    /** Tops the backlog up if it is low and takes the claim's time. */
    @Setup(Level.Invocation)
    public void nextClaim() {
      backlog.ensure(BATCH);
      request = WorkOrders.claimNow(BATCH);
    }

    /**
     * Closes the store and drops the schema.
     *
     * @throws SQLException if the schema cannot be dropped
     */
    @TearDown(Level.Trial)
    public void close() throws SQLException {
      db.close();
    }
  }

  /**
   * One {@code appendAll} of {@value #BATCH} new work orders: one transaction.
   *
   * @param s the store and the batch
   * @return the recorded events
   */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public List<RecordedEvent> appendAll100(Append s) {
    return s.db.store.appendAll(s.next);
  }

  /**
   * One {@code claim} of {@value #BATCH} PENDING work orders: one transaction.
   *
   * @param s the store, its backlog and the request
   * @return the claimed views
   */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public List<WorkOrderView> claim100(Claim s) {
    return s.backlog.claim(s.request);
  }

  /**
   * A store in a schema of its own, analyzed as in service; closing drops the schema. Not
   * thread-safe to create or close.
   */
  static final class PostgresStore implements AutoCloseable {
    final PostgresSchema schema;
    final WorkOrderStore store;

    private PostgresStore(PostgresSchema schema, WorkOrderStore store) {
      this.schema = schema;
      this.store = store;
    }

    static PostgresStore create() throws SQLException {
      if (!PostgresSchema.reachable()) {
        throw new IllegalStateException(
            "PostgreSQL at "
                + PostgresSchema.URL
                + " is not reachable, so the PostgreSQL benchmarks cannot run; start the server"
                + " (or name another with -jvmArgsAppend -Dworkgate.bench.pg.url=...), or leave"
                + " them out with -e PostgresStoreBenchmark");
      }
      PostgresSchema schema = PostgresSchema.create("jmh", PostgresSchema.POOL_SIZE);
      WorkOrderStore store = null;
      try {
        store =
            Stores.postgres(
                schema.dataSource(), PostgresOptions.builder().schema(schema.name()).build());
        WorkOrders.submit(store, IN_SERVICE_ROWS, "baseline", PendingBacklog.SUBMIT_BATCH);
        try (Connection c = schema.dataSource().getConnection();
            Statement st = c.createStatement()) {
          st.execute("ANALYZE " + schema.name() + ".workgate_events");
          st.execute("ANALYZE " + schema.name() + ".workgate_work_orders");
        }
        return new PostgresStore(schema, store);
      } catch (SQLException | RuntimeException e) {
        if (store != null) {
          store.close();
        }
        schema.close();
        throw e;
      }
    }

    @Override
    public void close() throws SQLException {
      try {
        store.close();
      } finally {
        schema.close();
      }
    }
  }
}
