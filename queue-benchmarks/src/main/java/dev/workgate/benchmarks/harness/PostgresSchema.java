package dev.workgate.benchmarks.harness;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;

/**
 * A PostgreSQL schema of one contender's own, reached through a pool of {@link #POOL_SIZE}
 * connections whose search path is that schema; closing drops the schema. Every PostgreSQL
 * contender gets the same pool size. A schema made here and not closed (the harness stopped by
 * Ctrl-C or a failure) is dropped by a shutdown hook, so no run leaves one behind on the server.
 * Not thread-safe to open or close; the pool is.
 */
public final class PostgresSchema implements AutoCloseable {
  /** Connections per contender, the same for every system. */
  public static final int POOL_SIZE = 10;

  /** Where the database is: {@code workgate.bench.pg.url}, default the machine's local server. */
  public static final String URL =
      System.getProperty("workgate.bench.pg.url", "jdbc:postgresql://127.0.0.1:5432/test");

  private static final String USER = System.getProperty("workgate.bench.pg.user", "postgres");

  /** Schemas {@link #create} made that are not closed yet: what the shutdown hook drops. */
  private static final Set<String> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(PostgresSchema::dropLeftovers, "drop-benchmark-schemas"));
  }

  private final String schema;
  private final HikariDataSource pool;

  /** Whether {@link #close()} drops the schema: true for one {@link #create} made. */
  private final boolean owned;

  private PostgresSchema(String schema, HikariDataSource pool, boolean owned) {
    this.schema = schema;
    this.pool = pool;
    this.owned = owned;
  }

  /**
   * Creates a new, empty schema named after {@code label} plus a random suffix.
   *
   * @param label a short lower-case word
   * @param poolSize connections in the pool
   * @return the schema
   * @throws SQLException if the server cannot be reached
   */
  public static PostgresSchema create(String label, int poolSize) throws SQLException {
    String schema =
        "bench_" + label + "_" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 8);
    HikariConfig admin = config(1, null);
    try (HikariDataSource ds = new HikariDataSource(admin);
        Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    }
    LIVE.add(schema);
    return new PostgresSchema(schema, new HikariDataSource(config(poolSize, schema)), true);
  }

  /**
   * A pool on a schema that another process created (a node of the multi-node shape, in its own
   * JVM, on the harness's schema); closing it closes the pool and leaves the schema.
   *
   * @param schema the schema's name, as {@link #name()} gave it
   * @param poolSize connections in the pool
   * @return the pool on it
   */
  public static PostgresSchema attach(String schema, int poolSize) {
    if (!schema.matches("bench_[a-z]+_[0-9a-f]+")) {
      throw new IllegalArgumentException("not a benchmark schema: '" + schema + "'");
    }
    return new PostgresSchema(schema, new HikariDataSource(config(poolSize, schema)), false);
  }

  private static HikariConfig config(int size, String schema) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(URL);
    c.setUsername(USER);
    c.setMaximumPoolSize(size);
    c.setMinimumIdle(size);
    c.setPoolName("bench-" + (schema == null ? "admin" : schema));
    if (schema != null) {
      c.setSchema(schema);
      c.addDataSourceProperty("currentSchema", schema);
    }
    return c;
  }

  /**
   * Whether the server answers.
   *
   * @return true if a connection could be made
   */
  public static boolean reachable() {
    try (HikariDataSource ds = new HikariDataSource(config(1, null));
        Connection c = ds.getConnection()) {
      return c.isValid(2);
    } catch (RuntimeException | SQLException e) {
      return false;
    }
  }

  /**
   * The schema's name.
   *
   * @return it
   */
  public String name() {
    return schema;
  }

  /**
   * The pool, whose connections use this schema.
   *
   * @return it
   */
  public DataSource dataSource() {
    return pool;
  }

  /**
   * Runs {@code ANALYZE} on every table of the schema.
   *
   * @throws SQLException if it fails
   */
  public void analyze() throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute("ANALYZE");
    }
  }

  @Override
  public void close() throws SQLException {
    pool.close();
    if (owned) {
      drop(List.of(schema));
    }
  }

  /**
   * Drops the schemas {@link #create} made that are still open; what the shutdown hook runs. A lock
   * held by a transaction still open stops the drop after 5 s, reported and not waited for.
   */
  static void dropLeftovers() {
    List<String> left = List.copyOf(LIVE);
    if (left.isEmpty()) {
      return;
    }
    try {
      drop(left);
    } catch (SQLException | RuntimeException e) {
      System.err.println("could not drop benchmark schemas " + left + ": " + e.getMessage());
    }
  }

  /** Whether {@link #create} made this schema and it has not been dropped yet; for tests. */
  static boolean isLive(String schema) {
    return LIVE.contains(schema);
  }

  private static void drop(List<String> schemas) throws SQLException {
    try (HikariDataSource ds = new HikariDataSource(config(1, null));
        Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("SET lock_timeout = '5s'");
      for (String schema : schemas) {
        s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        LIVE.remove(schema);
      }
    }
  }
}
