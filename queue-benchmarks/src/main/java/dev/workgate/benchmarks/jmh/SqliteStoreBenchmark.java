package dev.workgate.benchmarks.jmh;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.SqliteOptions.SqliteDurability;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ClaimRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
 * The SQLite store ({@link Stores#sqlite(Path, SqliteOptions)} with {@code synchronous=FULL}, its
 * default durability: every commit is on disk before the call returns) in batches of {@value
 * #BATCH} work orders: {@code appendAll} of {@value #BATCH} Submitted (one transaction), and {@code
 * claim} with a limit of {@value #BATCH} from a PENDING backlog. One call handles {@value #BATCH}
 * work orders and is declared as {@value #BATCH} operations, so every figure is work orders per
 * second.
 *
 * <p>Each trial gets a new database file in a new directory under {@code java.io.tmpdir} (pass
 * {@code -jvmArgsAppend -Djava.io.tmpdir=DIR} to JMH to measure another disk), deleted afterwards.
 * The append's ids are made in a per-invocation setup, outside the measured call. The claim's
 * backlog starts at {@value PendingBacklog#TOP_UP} work orders and a per-invocation setup adds as
 * many again whenever fewer than {@value #BATCH} are left, so a claim never comes back short; a
 * short claim would fail the benchmark. A call takes milliseconds (an fsync), so per-invocation
 * setup costs JMH nothing measurable. Work orders stay in the file after they are claimed: the
 * tables grow during a trial, as a store's do in service.
 *
 * <p>Thread safety: the states are {@link Scope#Thread}, each benchmark thread has its own file and
 * store (the store itself is thread-safe).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SqliteStoreBenchmark {

  /** Work orders per call. */
  public static final int BATCH = 100;

  /**
   * An empty store in a new file, and the next batch of submissions with fresh ids. {@link
   * Scope#Thread}: one per benchmark thread.
   */
  @State(Scope.Thread)
  public static class Append {
    SqliteFile db;
    List<AppendRequest> next;

    /** Creates the file and opens the store. */
    @Setup(Level.Trial)
    public void open() throws IOException {
      db = SqliteFile.create();
    }

    /** Makes the next batch. */
    @Setup(Level.Invocation)
    public void nextBatch() {
      next = WorkOrders.newSubmissions(BATCH, WorkOrders.QUEUE);
    }

    /** Closes the store and deletes the file. */
    @TearDown(Level.Trial)
    public void close() throws IOException {
      db.close();
    }
  }

  /**
   * A store in a new file with a PENDING backlog that never runs out, and the next claim request.
   * {@link Scope#Thread}: one per benchmark thread.
   */
  @State(Scope.Thread)
  public static class Claim {
    SqliteFile db;
    PendingBacklog backlog;
    ClaimRequest request;

    /** Creates the file, opens the store and fills the backlog. */
    @Setup(Level.Trial)
    public void open() throws IOException {
      db = SqliteFile.create();
      backlog = new PendingBacklog(db.store);
      backlog.ensure(BATCH);
    }

    /** Tops the backlog up if it is low and takes the claim's time. */
    @Setup(Level.Invocation)
    public void nextClaim() {
      backlog.ensure(BATCH);
      request = WorkOrders.claimNow(BATCH);
    }

    /** Closes the store and deletes the file. */
    @TearDown(Level.Trial)
    public void close() throws IOException {
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

  /** A store in a database file of its own, deleted on close. Not thread-safe to open or close. */
  static final class SqliteFile implements AutoCloseable {
    final Path dir;
    final WorkOrderStore store;

    private SqliteFile(Path dir, WorkOrderStore store) {
      this.dir = dir;
      this.store = store;
    }

    static SqliteFile create() throws IOException {
      Path dir = Files.createTempDirectory("workgate-jmh-");
      try {
        // FULL is the default; named here so that the figure cannot change with the default.
        SqliteOptions options = SqliteOptions.builder().durability(SqliteDurability.FULL).build();
        return new SqliteFile(dir, Stores.sqlite(dir.resolve("bench.db"), options));
      } catch (RuntimeException e) {
        deleteRecursively(dir);
        throw e;
      }
    }

    @Override
    public void close() throws IOException {
      try {
        store.close();
      } finally {
        deleteRecursively(dir);
      }
    }

    private static void deleteRecursively(Path dir) throws IOException {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }
}
