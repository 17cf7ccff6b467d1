package dev.workgate.reliability;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.PostgresOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * One node of {@link ManyNodesTest}: a Workgate runtime in its own JVM on the shared PostgreSQL
 * schema, with an in-process handler that does a little hashing and records its execution in the
 * {@code executions} table, keyed by work order and attempt. When this node stores a work order's
 * {@code Completed}, it marks that row {@code completed}; a partial unique index allows one such
 * row per work order. A duplicate key on either write is a double execution or a double completion:
 * it is logged to stderr with the marker {@value #DUPLICATE} and counted, and the work goes on so
 * that the parent sees every one.
 *
 * <p>Arguments: JDBC URL, schema, node id, sandbox root. The node runs until a line {@code stop}
 * (or end of input) on stdin, then shuts down with a grace period, prints {@value #SUMMARY} with
 * its counts on stdout and returns from {@code main}, so that the JVM exits only if the runtime
 * left no thread behind.
 */
public final class NodeChild {
  static final String DUPLICATE = "DUPLICATE";
  static final String MISSING = "MISSING";
  static final String SUMMARY = "SUMMARY";
  static final String READY = "READY";
  static final String TYPE = "tick";
  static final Duration LEASE = Duration.ofSeconds(8);
  static final int SLOTS = 16;

  /**
   * A connection for each execution and its handler's insert (not held at once), the scheduler
   * loop, the notification listener and the completion watcher.
   */
  static final int POOL = SLOTS + 6;

  private static final long GB = 1L << 30;

  private NodeChild() {}

  /**
   * Runs the node until told to stop.
   *
   * @param args JDBC URL, schema, node id, sandbox root
   * @throws Exception if the node cannot start
   */
  public static void main(String[] args) throws Exception {
    String url = args[0];
    String schema = args[1];
    String nodeId = args[2];
    Path sandboxRoot = Path.of(args[3]);
    String executions = schema + ".executions";
    AtomicLong executed = new AtomicLong();
    AtomicLong completed = new AtomicLong();
    AtomicLong duplicates = new AtomicLong();
    AtomicLong missing = new AtomicLong();

    try (HikariDataSource pool = pool(url, nodeId);
        WorkOrderStore store =
            Stores.postgres(pool, PostgresOptions.builder().schema(schema).build())) {
      Workgate workgate =
          Workgate.builder()
              .store(store)
              .nodeId(nodeId)
              .sandboxRoot(sandboxRoot)
              .maxConcurrent(SLOTS)
              .memoryPerSlotMb(0)
              .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "many-nodes test"))
              .leaseDuration(LEASE)
              .pollInterval(Duration.ofMillis(250))
              .retryPolicy(
                  RetryPolicy.builder()
                      .maxAttempts(5)
                      .baseDelay(Duration.ofMillis(100))
                      .maxDelay(Duration.ofMillis(500))
                      .jitter(Jitter.none())
                      .build())
              .handler(
                  TYPE,
                  ctx -> {
                    String id = ctx.id().value();
                    work(id);
                    insert(pool, executions, id, ctx.attempt(), nodeId, duplicates);
                    executed.incrementAndGet();
                    return WorkResult.ok();
                  })
              .build();
      workgate.onTransition(
          change -> {
            if (change.to() == WorkOrderState.COMPLETED) {
              markCompleted(
                  pool,
                  executions,
                  change.workOrderId().value(),
                  change.attempt(),
                  nodeId,
                  duplicates,
                  missing);
              completed.incrementAndGet();
            }
          });
      fill(pool);
      workgate.start();
      System.out.println(READY + " " + nodeId);
      System.out.flush();

      awaitStop();
      workgate.shutdown(Duration.ofSeconds(10));
      workgate.close();
    }
    System.out.printf(
        "%s node=%s executed=%d completed=%d duplicates=%d missing=%d%n",
        SUMMARY, nodeId, executed.get(), completed.get(), duplicates.get(), missing.get());
    System.out.flush();
  }

  private static HikariDataSource pool(String url, String nodeId) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setPoolName("node-" + nodeId);
    config.setMaximumPoolSize(POOL);
    // Every connection up front: a pool that grows under load makes the scheduler's lease
    // renewals wait behind the executions for new connections.
    config.setMinimumIdle(POOL);
    config.setConnectionTimeout(30_000);
    // The parent finds this node's backends in pg_stat_activity by this name.
    config.addDataSourceProperty("ApplicationName", nodeId);
    return new HikariDataSource(config);
  }

  /** Borrows every connection once, so that the pool is full before the node starts. */
  private static void fill(DataSource pool) throws SQLException {
    List<Connection> borrowed = new ArrayList<>(POOL);
    try {
      for (int i = 0; i < POOL; i++) {
        borrowed.add(pool.getConnection());
      }
    } finally {
      for (Connection c : borrowed) {
        c.close();
      }
    }
  }

  /** A tiny bit of CPU work, so that a handler is not free. */
  private static void work(String id) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    byte[] bytes = id.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < 100; i++) {
      bytes = sha.digest(bytes);
    }
  }

  private static void insert(
      DataSource pool,
      String table,
      String workOrderId,
      int attempt,
      String nodeId,
      AtomicLong duplicates)
      throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO " + table + " (work_order_id, attempt, node_id) VALUES (?, ?, ?)")) {
      ps.setString(1, workOrderId);
      ps.setInt(2, attempt);
      ps.setString(3, nodeId);
      ps.executeUpdate();
    } catch (SQLException e) {
      if (!isUniqueViolation(e)) {
        throw e;
      }
      duplicates.incrementAndGet();
      System.err.printf(
          "%s execution of %s attempt %d on %s: %s%n",
          DUPLICATE, workOrderId, attempt, nodeId, e.getMessage());
    }
  }

  private static void markCompleted(
      DataSource pool,
      String table,
      String workOrderId,
      int attempt,
      String nodeId,
      AtomicLong duplicates,
      AtomicLong missing) {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE "
                    + table
                    + " SET completed = true WHERE work_order_id = ? AND attempt = ?"
                    + " AND node_id = ?")) {
      ps.setString(1, workOrderId);
      ps.setInt(2, attempt);
      ps.setString(3, nodeId);
      if (ps.executeUpdate() != 1) {
        missing.incrementAndGet();
        System.err.printf(
            "%s execution row for the completion of %s attempt %d on %s%n",
            MISSING, workOrderId, attempt, nodeId);
      }
    } catch (SQLException e) {
      if (isUniqueViolation(e)) {
        duplicates.incrementAndGet();
        System.err.printf(
            "%s completion of %s attempt %d on %s: %s%n",
            DUPLICATE, workOrderId, attempt, nodeId, e.getMessage());
      } else {
        throw new IllegalStateException("could not mark " + workOrderId + " completed", e);
      }
    }
  }

  private static boolean isUniqueViolation(SQLException e) {
    return "23505".equals(e.getSQLState());
  }

  private static void awaitStop() throws Exception {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.trim().equals("stop")) {
        return;
      }
    }
  }
}
