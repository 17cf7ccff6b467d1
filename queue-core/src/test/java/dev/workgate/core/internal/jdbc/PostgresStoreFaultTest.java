package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkgateException;
import dev.workgate.core.internal.jdbc.JdbcTestKit.RawTables;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The JDBC fault suite on PostgreSQL, and the faults of a server connection: a backend terminated
 * in the middle of a write transaction, and a data source that hands out closed connections.
 *
 * <p>To terminate a backend in the middle of its transaction without racing it, the test holds a
 * {@code SHARE} lock on the projection table: the store reads and writes the log as usual and then
 * waits for the lock on its first projection write. The test sees it waiting in {@code
 * pg_stat_activity} (its pool has an application name of its own), terminates it, and releases the
 * lock.
 */
class PostgresStoreFaultTest extends JdbcStoreFaultTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  private final ExecutorService executor = Executors.newSingleThreadExecutor();

  @AfterEach
  void stopExecutor() throws InterruptedException {
    executor.shutdownNow();
    assertThat(executor.awaitTermination(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
  }

  @Override
  WorkOrderStore openStore() {
    return db.openStore(clock);
  }

  @Override
  RawTables raw() {
    return JdbcTestKit.postgres(db);
  }

  @Test
  void a_backend_terminated_in_the_middle_of_a_large_appendAll_writes_none_of_it()
      throws Exception {
    String app = "wgt-victim-" + db.schema();
    WorkOrderStore store = track(Stores.postgres(db.dataSource(app), db.options(clock).build()));
    List<WorkOrderId> earlier = JdbcTestKit.submitMany(store, QUEUE, 20, 20);
    List<AppendRequest> batch = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      batch.add(AppendRequest.of(newId(), ExpectedVersion.none(), submitted(QUEUE)));
    }

    Throwable thrown = terminateWhileBlocked(app, () -> store.appendAll(batch));

    assertClearFailure(thrown);
    for (AppendRequest r : batch) {
      assertThat(store.readStream(r.workOrderId())).as("stream of %s", r.workOrderId()).isEmpty();
      assertThat(store.find(r.workOrderId())).isEmpty();
    }
    assertThat(JdbcTestKit.wholeLog(store))
        .extracting(RecordedEvent::workOrderId)
        .containsExactlyElementsOf(earlier);
    assertStillConsistentAndWorking(store);
  }

  @Test
  void a_backend_terminated_in_the_middle_of_a_claim_claims_nothing() throws Exception {
    String app = "wgt-victim-" + db.schema();
    WorkOrderStore store = track(Stores.postgres(db.dataSource(app), db.options(clock).build()));
    List<WorkOrderId> ids = JdbcTestKit.submitMany(store, QUEUE, 3_000, 500);

    Throwable thrown =
        terminateWhileBlocked(
            app,
            () ->
                store.claim(
                    new ClaimRequest(
                        QUEUE,
                        "node-a",
                        2_000,
                        Capacity.unlimited(),
                        clock.instant(),
                        Duration.ofMinutes(1))));

    assertClearFailure(thrown);
    assertThat(JdbcTestKit.wholeLog(store))
        .extracting(r -> r.event().type())
        .containsOnly(EventType.SUBMITTED)
        .hasSize(ids.size());
    assertThat(store.counts().count(QUEUE, WorkOrderState.PENDING)).isEqualTo(ids.size());
    assertThat(store.counts().count(QUEUE, WorkOrderState.PREPARING)).isZero();
    assertStillConsistentAndWorking(store);
  }

  @Test
  void connections_that_are_already_closed_fail_calls_clearly_and_write_nothing() {
    SwitchableDataSource source = new SwitchableDataSource(db.dataSource());
    WorkOrderStore store = track(Stores.postgres(source, db.options(clock).build()));
    WorkOrderId first = submit(store);
    WorkOrderId second = newId();
    source.closed = true;

    StoreException append =
        catchThrowableOfType(
            StoreException.class,
            () -> store.append(second, ExpectedVersion.none(), List.of(submitted(QUEUE))));
    StoreException read = catchThrowableOfType(StoreException.class, () -> store.find(first));

    assertThat(append).as("StoreException of append").isNotNull();
    assertThat(append.getMessage().toLowerCase(Locale.ROOT)).contains("closed");
    assertThat(read).as("StoreException of find").isNotNull();
    assertThat(read.getMessage().toLowerCase(Locale.ROOT)).contains("closed");
    source.closed = false;
    assertThat(store.readStream(second)).isEmpty();
    assertThat(JdbcTestKit.wholeLog(store))
        .extracting(RecordedEvent::workOrderId)
        .containsExactly(first);
    assertStillConsistentAndWorking(store);
  }

  @Test
  void opening_on_connections_that_are_already_closed_fails_clearly_and_creates_nothing() {
    SwitchableDataSource source = new SwitchableDataSource(db.dataSource());
    source.closed = true;

    StoreException e =
        catchThrowableOfType(
            StoreException.class, () -> track(Stores.postgres(source, db.options(clock).build())));

    assertThat(e).as("StoreException").isNotNull();
    assertThat(e.getMessage().toLowerCase(Locale.ROOT)).contains("closed");
    assertThat(raw().tableExists("events")).isFalse();
  }

  /**
   * Runs a write on another thread while this test holds a SHARE lock on the projection table,
   * terminates the writer's backend once it waits for that lock, and returns what the write threw.
   */
  private Throwable terminateWhileBlocked(String applicationName, Runnable write) throws Exception {
    Future<?> call;
    // pg_stat_activity is read once per transaction: watch it from an autocommit connection.
    try (Connection admin = db.adminConnection();
        Connection watcher = db.adminConnection()) {
      admin.setAutoCommit(false);
      try (Statement s = admin.createStatement()) {
        s.execute("LOCK TABLE " + db.table("workgate_work_orders") + " IN SHARE MODE");
      }
      call = executor.submit(write);
      try {
        List<Integer> blocked =
            await("a backend of " + applicationName + " waiting for the projection lock")
                .atMost(WAIT)
                .pollInterval(Duration.ofMillis(5))
                .until(
                    () -> PostgresTestDatabase.waitingOnLock(watcher, applicationName),
                    pids -> !pids.isEmpty());
        try (PreparedStatement ps = watcher.prepareStatement("SELECT pg_terminate_backend(?)")) {
          for (int pid : blocked) {
            ps.setInt(1, pid);
            try (ResultSet rs = ps.executeQuery()) {
              assertThat(rs.next() && rs.getBoolean(1)).as("terminated %s", pid).isTrue();
            }
          }
        }
      } finally {
        admin.rollback();
      }
    }
    try {
      call.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  private static void assertClearFailure(Throwable thrown) {
    assertThat(thrown)
        .as("what the write threw when its backend was terminated")
        .isInstanceOf(WorkgateException.class);
    assertThat(thrown.getMessage()).isNotBlank();
    assertThat(thrown).isInstanceOf(StoreException.class);
  }

  private void assertStillConsistentAndWorking(WorkOrderStore store) {
    assertThat(store.rebuildProjection(RebuildMode.VERIFY).mismatches()).isEmpty();
    WorkOrderId fresh = submit(store);
    assertThat(store.find(fresh)).isPresent();
    assertThat(
            store.claim(
                new ClaimRequest(
                    QUEUE,
                    "node-b",
                    1,
                    Capacity.unlimited(),
                    clock.instant(),
                    Duration.ofMinutes(1))))
        .hasSize(1);
  }

  /** Hands out the pool's connections, or (when {@link #closed}) connections already closed. */
  private static final class SwitchableDataSource implements DataSource {
    private final DataSource pool;
    volatile boolean closed;

    SwitchableDataSource(DataSource pool) {
      this.pool = pool;
    }

    @Override
    public Connection getConnection() throws SQLException {
      return handOut(pool.getConnection());
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
      return handOut(pool.getConnection(user, password));
    }

    private Connection handOut(Connection c) throws SQLException {
      if (closed) {
        c.close();
      }
      return c;
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
      return pool.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
      pool.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
      pool.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
      return pool.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
      return pool.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
      throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
      return false;
    }
  }
}
