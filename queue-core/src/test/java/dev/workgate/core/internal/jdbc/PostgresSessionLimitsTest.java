package dev.workgate.core.internal.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.PostgresOptions;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.ExpectedVersion;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The store's session limits on PostgreSQL: set on its connections once per physical connection,
 * and doing their job: a connection frozen inside a transaction that holds a row lock is ended by
 * the server after {@code idle_in_transaction_session_timeout}, so that another node's writer gets
 * the row; a writer that waits longer than {@code lock_timeout} fails cleanly, nothing written.
 */
class PostgresSessionLimitsTest {
  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  private final ExecutorService executor = Executors.newCachedThreadPool();

  @AfterEach
  void stopThreads() {
    executor.shutdownNow();
  }

  private PostgresOptions.Builder options() {
    return db.options(Clock.systemUTC()).notifications(false);
  }

  private static WorkOrderId submit(WorkOrderStore store) {
    WorkOrderId id = WorkOrderId.random();
    store.append(
        id,
        ExpectedVersion.none(),
        List.of(
            WorkOrderEvent.Submitted.of(
                WorkOrderSpec.builder("agent-run").payload(Map.of("n", 1)).build())));
    return id;
  }

  private static List<RecordedEvent> cancel(WorkOrderStore store, WorkOrderId id, String why) {
    return store.append(id, ExpectedVersion.exactly(1), List.of(new WorkOrderEvent.Cancelled(why)));
  }

  private static String setting(Connection c, String name) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT setting FROM pg_settings WHERE name = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  private static String state(Connection watcher, int pid) throws SQLException {
    try (PreparedStatement ps =
        watcher.prepareStatement("SELECT state FROM pg_stat_activity WHERE pid = ?")) {
      ps.setInt(1, pid);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : "gone";
      }
    }
  }

  private static int backendOf(Connection watcher, String applicationName) throws SQLException {
    try (PreparedStatement ps =
        watcher.prepareStatement(
            "SELECT pid FROM pg_stat_activity WHERE application_name = ?"
                + " AND state = 'idle in transaction'")) {
      ps.setString(1, applicationName);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getInt(1) : -1;
      }
    }
  }

  @Test
  void the_limits_are_in_effect_on_the_stores_connections() throws Exception {
    DataSource pool = db.dataSource(config -> config.setMaximumPoolSize(1));
    try (WorkOrderStore store =
        Stores.postgres(
            pool,
            options()
                .idleInTransactionTimeout(Duration.ofMillis(1500))
                .lockTimeout(Duration.ofMillis(2500))
                .build())) {
      submit(store);
      try (Connection c = pool.getConnection()) {
        assertThat(setting(c, PostgresSessions.IDLE_IN_TRANSACTION)).isEqualTo("1500");
        assertThat(setting(c, PostgresSessions.LOCK_TIMEOUT)).isEqualTo("2500");
      }
    }
  }

  @Test
  void the_defaults_are_set_unless_disabled() throws Exception {
    DataSource pool = db.dataSource(config -> config.setMaximumPoolSize(1));
    try (WorkOrderStore store = Stores.postgres(pool, options().build())) {
      store.counts();
      try (Connection c = pool.getConnection()) {
        assertThat(setting(c, PostgresSessions.IDLE_IN_TRANSACTION))
            .isEqualTo(
                Long.toString(PostgresOptions.DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT.toMillis()));
        assertThat(setting(c, PostgresSessions.LOCK_TIMEOUT))
            .isEqualTo(Long.toString(PostgresOptions.DEFAULT_LOCK_TIMEOUT.toMillis()));
      }
    }
    DataSource untouched = db.dataSource(config -> config.setMaximumPoolSize(1));
    try (WorkOrderStore store =
        Stores.postgres(
            untouched,
            options().idleInTransactionTimeout(null).lockTimeout(Duration.ZERO).build())) {
      submit(store);
      try (Connection c = untouched.getConnection()) {
        assertThat(setting(c, PostgresSessions.IDLE_IN_TRANSACTION)).isEqualTo("0");
        assertThat(setting(c, PostgresSessions.LOCK_TIMEOUT)).isEqualTo("0");
      }
    }
  }

  @Test
  void the_limits_are_set_once_per_physical_connection_not_per_transaction() {
    Hooked hooked = new Hooked(db.dataSource(config -> config.setMaximumPoolSize(2)));
    try (WorkOrderStore store = Stores.postgres(hooked.dataSource(), options().build())) {
      for (int i = 0; i < 20; i++) {
        WorkOrderId id = submit(store);
        store.find(id);
        cancel(store, id, "done " + i);
      }
    }
    assertThat(hooked.checkouts.get()).isGreaterThan(40);
    assertThat(hooked.settingStatements.get()).isBetween(1, 2);
  }

  @Test
  void a_connection_frozen_in_a_transaction_is_ended_by_the_server_and_its_row_freed()
      throws Exception {
    PostgresOptions limits =
        options()
            .idleInTransactionTimeout(Duration.ofSeconds(1))
            .lockTimeout(Duration.ofSeconds(20))
            .build();
    Hooked cutOff = new Hooked(db.dataSource("wgt-cut-off"));
    WorkOrderStore a = Stores.postgres(cutOff.dataSource(), limits);
    WorkOrderStore b = Stores.postgres(db.dataSource("wgt-other"), limits);
    try (Connection watcher = db.adminConnection()) {
      WorkOrderId id = submit(b);

      cutOff.freezeNextCommit();
      Future<List<RecordedEvent>> frozen = executor.submit(() -> cancel(a, id, "from a"));
      int pid =
          await()
              .atMost(Duration.ofSeconds(10))
              .until(() -> backendOf(watcher, "wgt-cut-off"), p -> p > 0);

      // The other node's write needs the same row: it waits until the server ends a's session.
      Future<List<RecordedEvent>> other = executor.submit(() -> cancel(b, id, "from b"));
      List<RecordedEvent> written = other.get(15, TimeUnit.SECONDS);
      assertThat(written).extracting(RecordedEvent::version).containsExactly(2L);
      assertThat(state(watcher, pid)).isEqualTo("gone");

      cutOff.thaw();
      assertThatThrownBy(() -> frozen.get(10, TimeUnit.SECONDS))
          .cause()
          .isInstanceOf(StoreException.class)
          // The driver usually reads the server's farewell (SQLState 25P03) and the message says
          // nothing was written; if the reset reaches it first, only that the commit failed.
          .hasMessageContaining("append on the PostgreSQL schema " + db.schema());
      assertThat(b.readStream(id)).hasSize(2);
      assertThat(b.readStream(id).get(1).event()).isEqualTo(new WorkOrderEvent.Cancelled("from b"));
    } finally {
      cutOff.thaw();
      a.close();
      b.close();
    }
  }

  @Test
  void a_writer_waiting_longer_than_the_lock_timeout_fails_and_writes_nothing() throws Exception {
    Hooked holder = new Hooked(db.dataSource("wgt-holder"));
    WorkOrderStore a =
        Stores.postgres(holder.dataSource(), options().idleInTransactionTimeout(null).build());
    WorkOrderStore b =
        Stores.postgres(db.dataSource(), options().lockTimeout(Duration.ofSeconds(1)).build());
    try (Connection watcher = db.adminConnection()) {
      WorkOrderId id = submit(b);
      holder.freezeNextCommit();
      Future<List<RecordedEvent>> held = executor.submit(() -> cancel(a, id, "from a"));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> backendOf(watcher, "wgt-holder"), p -> p > 0);

      Future<List<RecordedEvent>> waiting = executor.submit(() -> cancel(b, id, "from b"));
      assertThatThrownBy(() -> waiting.get(15, TimeUnit.SECONDS))
          .cause()
          .isInstanceOf(StoreException.class)
          .hasMessageContaining("nothing was written")
          .hasMessageContaining("lock_timeout");

      holder.thaw();
      assertThat(held.get(10, TimeUnit.SECONDS))
          .extracting(RecordedEvent::version)
          .containsExactly(2L);
      assertThat(b.readStream(id)).hasSize(2);
      assertThat(b.readStream(id).get(1).event()).isEqualTo(new WorkOrderEvent.Cancelled("from a"));
    } finally {
      holder.thaw();
      a.close();
      b.close();
    }
  }

  @Test
  void an_opening_that_waits_longer_than_the_lock_timeout_for_a_creation_fails_cleanly()
      throws Exception {
    try (Connection creator = db.adminConnection()) {
      creator.setAutoCommit(false);
      try (PreparedStatement ps =
          creator.prepareStatement(
              "SELECT pg_advisory_xact_lock(hashtext('workgate schema "
                  + db.schema()
                  + ".workgate_'))")) {
        // Another node holds the store's creation lock and does not finish.
        ps.executeQuery().close();
        assertThatThrownBy(
                () ->
                    Stores.postgres(
                        db.dataSource(), options().lockTimeout(Duration.ofSeconds(1)).build()))
            .isInstanceOf(StoreException.class)
            .hasMessageContaining("waited longer than lock_timeout")
            .hasMessageContaining("open it again");
      } finally {
        creator.rollback();
      }
      try (PreparedStatement ps =
          creator.prepareStatement(
              "SELECT count(*) FROM information_schema.tables WHERE table_schema = ?")) {
        ps.setString(1, db.schema());
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          assertThat(rs.getInt(1)).isZero();
        }
      }
    }
  }

  /**
   * A data source whose connections count the store's session-setting statements and can freeze one
   * commit (the node stops talking to the database with its transaction open, as when cut off).
   */
  private static final class Hooked {
    private final DataSource delegate;
    final AtomicInteger checkouts = new AtomicInteger();
    final AtomicInteger settingStatements = new AtomicInteger();
    private final AtomicBoolean freeze = new AtomicBoolean();
    private final CountDownLatch thawed = new CountDownLatch(1);

    Hooked(DataSource delegate) {
      this.delegate = delegate;
    }

    void freezeNextCommit() {
      freeze.set(true);
    }

    void thaw() {
      thawed.countDown();
    }

    DataSource dataSource() {
      ConnectionHook hook =
          (c, method, args) -> {
            if (method.equals("prepareStatement")
                && String.valueOf(args[0])
                    .contains("set_config('" + PostgresSessions.LOCK_TIMEOUT)) {
              settingStatements.incrementAndGet();
            }
            if (method.equals("commit") && freeze.compareAndSet(true, false)) {
              if (!thawed.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test never thawed the connection");
              }
            }
          };
      DataSource hooked = hook.on(delegate);
      return (DataSource)
          Proxy.newProxyInstance(
              getClass().getClassLoader(),
              new Class<?>[] {DataSource.class},
              (proxy, method, args) -> {
                if (method.getName().equals("getConnection")) {
                  checkouts.incrementAndGet();
                }
                return ConnectionHook.invoke(hooked, method, args);
              });
    }
  }
}
