package dev.workgate.core.internal.jdbc;

import static org.junit.jupiter.api.Assertions.fail;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.workgate.core.store.PostgresOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.SkipExecutionHook;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A PostgreSQL database for one test: a fresh schema ({@code wgt_} and random hex) that is dropped
 * with everything in it afterwards, and small HikariCP pools over it, one per store instance.
 *
 * <p>The server is the machine's PostgreSQL at {@code 127.0.0.1:5432} (user {@code postgres},
 * database {@code test}, trust authentication), or the JDBC URL in the system property {@value
 * #URL_PROPERTY}. When it is not reachable, a test is skipped, except under CI ({@code CI=true}),
 * where it fails: CI must run the PostgreSQL tests.
 *
 * <p>In a Jupiter class register it on an instance field, so that each test gets its own schema:
 *
 * <pre>{@code
 * @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();
 * }</pre>
 *
 * <p>jqwik does not run Jupiter extensions: a property class adds
 * {@code @AddLifecycleHook(PostgresTestDatabase.SkipUnlessReachable.class)} and, per try, calls
 * {@link #start()} and {@link #close()} itself. Not thread-safe, except {@link #dataSource} and the
 * pools it returns.
 */
public final class PostgresTestDatabase implements BeforeEachCallback, AfterEachCallback {

  /** The system property that overrides the JDBC URL (it must name the user). */
  public static final String URL_PROPERTY = "workgate.test.postgresUrl";

  /** The server the tests use unless {@value #URL_PROPERTY} names another. */
  public static final String DEFAULT_URL = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";

  static final String NOT_REACHABLE =
      "PostgreSQL at 127.0.0.1:5432 is not reachable; start it with: pg_ctlcluster"
          + " --skip-systemctl-redirect $(ls /etc/postgresql) main start";

  private static final AtomicInteger POOLS = new AtomicInteger();
  private static volatile Optional<String> unreachableBecause;

  static {
    // Every test opens pools: keep HikariCP's start and stop lines out of the build output.
    System.setProperty("org.slf4j.simpleLogger.log.com.zaxxer.hikari", "warn");
  }

  private final List<HikariDataSource> pools = new ArrayList<>();
  private String schema;

  /** A database that {@link #start()} (or the extension's before-each) sets up. */
  public PostgresTestDatabase() {}

  /**
   * The JDBC URL of the test server.
   *
   * @return the URL
   */
  public static String url() {
    String url = System.getProperty(URL_PROPERTY);
    return url == null || url.isBlank() ? DEFAULT_URL : url;
  }

  /**
   * Whether the server answers; the first answer is kept for the rest of the run.
   *
   * @return empty if it answers, else why not
   */
  static Optional<String> unreachableBecause() {
    Optional<String> known = unreachableBecause;
    if (known == null) {
      synchronized (PostgresTestDatabase.class) {
        known = unreachableBecause;
        if (known == null) {
          known = probe();
          unreachableBecause = known;
        }
      }
    }
    return known;
  }

  private static Optional<String> probe() {
    DriverManager.setLoginTimeout(5);
    try (Connection c = DriverManager.getConnection(url());
        Statement s = c.createStatement()) {
      s.execute("SELECT 1");
      return Optional.empty();
    } catch (SQLException e) {
      String where = url().equals(DEFAULT_URL) ? NOT_REACHABLE : notReachable(url());
      return Optional.of(where + " (" + e.getMessage() + ")");
    }
  }

  private static String notReachable(String url) {
    return "PostgreSQL at " + url + " (system property " + URL_PROPERTY + ") is not reachable";
  }

  private static boolean underCi() {
    return "true".equals(System.getenv("CI"));
  }

  /**
   * Skips the calling test when the server is not reachable, or fails it under CI.
   *
   * @throws org.opentest4j.TestAbortedException to skip
   * @throws AssertionError under CI
   */
  public static void requireReachable() {
    Optional<String> why = unreachableBecause();
    if (why.isPresent()) {
      if (underCi()) {
        fail("CI=true, so the PostgreSQL tests must run, but " + why.get());
      }
      Assumptions.abort(why.get());
    }
  }

  /**
   * Creates this test's schema.
   *
   * @return this database
   */
  public PostgresTestDatabase start() {
    requireReachable();
    if (schema != null) {
      throw new IllegalStateException("already started, schema " + schema);
    }
    byte[] random = new byte[6];
    ThreadLocalRandom.current().nextBytes(random);
    schema = "wgt_" + HexFormat.of().formatHex(random);
    execute("CREATE SCHEMA " + schema);
    return this;
  }

  /** Closes every pool and drops the schema with everything in it. Idempotent. */
  public void close() {
    List<HikariDataSource> open;
    synchronized (pools) {
      open = new ArrayList<>(pools);
      pools.clear();
    }
    RuntimeException failure = null;
    for (HikariDataSource pool : open) {
      try {
        pool.close();
      } catch (RuntimeException e) {
        failure = e;
      }
    }
    if (schema != null) {
      String dropped = schema;
      schema = null;
      try (Connection c = adminConnection();
          Statement s = c.createStatement()) {
        // A connection that a store leaked outside its pool would block the drop: end them.
        s.execute("SET lock_timeout = '20s'");
        s.execute("DROP SCHEMA IF EXISTS " + dropped + " CASCADE");
      } catch (SQLException e) {
        throw new IllegalStateException("could not drop test schema " + dropped, e);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    start();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    close();
  }

  /**
   * This test's schema.
   *
   * @return its name
   */
  public String schema() {
    if (schema == null) {
      throw new IllegalStateException("the test database is not started");
    }
    return schema;
  }

  /**
   * A qualified table name in this test's schema.
   *
   * @param table the table, e.g. {@code workgate_events}
   * @return {@code schema.table}
   */
  public String table(String table) {
    return schema() + "." + table;
  }

  /**
   * A new pool of at most 10 connections, closed after the test.
   *
   * @return the pool
   */
  public HikariDataSource dataSource() {
    return dataSource(config -> {});
  }

  /**
   * A new pool whose connections carry an application name, so that a test can find them in {@code
   * pg_stat_activity}.
   *
   * @param applicationName the name
   * @return the pool
   */
  public HikariDataSource dataSource(String applicationName) {
    return dataSource(config -> config.addDataSourceProperty("ApplicationName", applicationName));
  }

  /**
   * A new pool with settings of the test's own.
   *
   * @param customizer changes the defaults (at most 10 connections, 1 kept idle, 10 s to connect)
   * @return the pool, closed after the test
   */
  public HikariDataSource dataSource(Consumer<HikariConfig> customizer) {
    schema();
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url());
    config.setPoolName("wgt-test-" + POOLS.incrementAndGet());
    config.setMaximumPoolSize(10);
    config.setMinimumIdle(1);
    config.setConnectionTimeout(10_000);
    customizer.accept(config);
    HikariDataSource pool = new HikariDataSource(config);
    synchronized (pools) {
      pools.add(pool);
    }
    return pool;
  }

  /**
   * Store settings for this test's schema.
   *
   * @param clock the clock that stamps events
   * @return a builder with the schema and clock set
   */
  public PostgresOptions.Builder options(Clock clock) {
    return PostgresOptions.builder().schema(schema()).clock(clock);
  }

  /**
   * A store on a new pool in this test's schema. The caller closes the store; the pool is closed
   * after the test.
   *
   * @param clock the clock that stamps events
   * @return the store
   */
  public WorkOrderStore openStore(Clock clock) {
    return Stores.postgres(dataSource(), options(clock).build());
  }

  /**
   * A plain connection outside every pool, in autocommit mode, for damaging or inspecting tables.
   *
   * @return the connection; the caller closes it
   * @throws SQLException if the server does not answer
   */
  public Connection adminConnection() throws SQLException {
    return DriverManager.getConnection(url());
  }

  /**
   * The backends of an application (its pool's {@code ApplicationName}) that wait for a lock.
   *
   * @param watcher a connection to ask on
   * @param applicationName the application
   * @return their process ids
   * @throws SQLException if the server does not answer
   */
  public static List<Integer> waitingOnLock(Connection watcher, String applicationName)
      throws SQLException {
    return backends(watcher, applicationName, "wait_event_type = 'Lock'");
  }

  /**
   * Whether a backend of an application has run {@code LISTEN} (and still holds its connection).
   *
   * @param watcher a connection to ask on
   * @param applicationName the application
   * @return true if one has
   * @throws SQLException if the server does not answer
   */
  public static boolean listening(Connection watcher, String applicationName) throws SQLException {
    return !backends(watcher, applicationName, "query LIKE 'LISTEN%'").isEmpty();
  }

  private static List<Integer> backends(Connection watcher, String applicationName, String where)
      throws SQLException {
    try (PreparedStatement ps =
        watcher.prepareStatement(
            "SELECT pid FROM pg_stat_activity WHERE application_name = ? AND " + where)) {
      ps.setString(1, applicationName);
      try (ResultSet rs = ps.executeQuery()) {
        List<Integer> pids = new ArrayList<>();
        while (rs.next()) {
          pids.add(rs.getInt(1));
        }
        return pids;
      }
    }
  }

  /**
   * Runs one statement on an admin connection.
   *
   * @param sql the statement
   * @return the update count, or -1 for a statement without one
   */
  public int execute(String sql) {
    try (Connection c = adminConnection();
        Statement s = c.createStatement()) {
      return s.execute(sql) ? -1 : s.getUpdateCount();
    } catch (SQLException e) {
      throw new IllegalStateException("could not run: " + sql, e);
    }
  }

  /**
   * Skips a jqwik container or property when the server is not reachable, except under CI, where
   * the property runs and fails in {@link #start()}.
   */
  public static final class SkipUnlessReachable implements SkipExecutionHook {
    /** Created by jqwik. */
    public SkipUnlessReachable() {}

    @Override
    public SkipResult shouldBeSkipped(LifecycleContext context) {
      Optional<String> why = unreachableBecause();
      return why.isPresent() && !underCi() ? SkipResult.skip(why.get()) : SkipResult.doNotSkip();
    }
  }
}
