package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.cancelled;
import static dev.workgate.core.testing.WorkOrderFixtures.claimed;
import static dev.workgate.core.testing.WorkOrderFixtures.spec;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.nio.file.Path;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Edge cases of the JDBC store: lock order of large batches, claims that collide, the notification
 * connection, text PostgreSQL cannot store, safe failure messages, names in notifications, reads
 * racing close, and claims larger than a statement's parameter limit.
 */
class JdbcStoreEdgeCaseTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  @TempDir Path dir;

  private final MutableClock clock = MutableClock.create();
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final List<WorkOrderStore> stores = new ArrayList<>();

  @AfterEach
  void tearDown() throws InterruptedException {
    executor.shutdownNow();
    executor.awaitTermination(10, TimeUnit.SECONDS);
    for (WorkOrderStore s : stores) {
      s.close();
    }
  }

  private WorkOrderStore pg(HikariDataSource ds) {
    WorkOrderStore s = Stores.postgres(ds, db.options(clock).build());
    stores.add(s);
    return s;
  }

  private WorkOrderStore sqlite() {
    WorkOrderStore s =
        Stores.sqlite(dir.resolve("review.db"), SqliteOptions.builder().clock(clock).build());
    stores.add(s);
    return s;
  }

  private void awaitWaitingOnLock(String applicationName) {
    awaitBackend(
        applicationName, (c, app) -> !PostgresTestDatabase.waitingOnLock(c, app).isEmpty());
  }

  /** A condition on the backends of one application, asked on an admin connection. */
  private interface BackendCondition {
    boolean holds(Connection watcher, String applicationName) throws SQLException;
  }

  private void awaitBackend(String applicationName, BackendCondition condition) {
    await()
        .atMost(WAIT)
        .until(
            () -> {
              try (Connection watcher = db.adminConnection()) {
                return condition.holds(watcher, applicationName);
              }
            });
  }

  // -------------------------------------------------------------------------------------------
  // appendAll locks rows in id order only within chunks of 500, so a large batch takes
  // row locks out of id order and can deadlock with a transaction that locks in id order.

  @Test
  void postgres_large_append_locks_rows_in_id_order_across_chunks() throws Exception {
    WorkOrderStore store = pg(db.dataSource("wg-edge-lockorder"));
    List<AppendRequest> submits = new ArrayList<>();
    List<WorkOrderId> ids = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      ids.add(WorkOrderId.of(String.format("z-%03d", i)));
    }
    ids.add(WorkOrderId.of("a-000")); // sorts first, but lands in the second chunk of 500
    for (WorkOrderId id : ids) {
      submits.add(AppendRequest.of(id, ExpectedVersion.none(), submitted("q")));
    }
    store.appendAll(submits);

    String table = db.table(JdbcTestKit.PREFIX + "work_orders");
    try (Connection admin = db.adminConnection()) {
      admin.setAutoCommit(false);
      try (Statement st = admin.createStatement()) {
        st.execute("SET deadlock_timeout = '50ms'");
        st.executeQuery("SELECT id FROM " + table + " WHERE id = 'a-000' FOR UPDATE").close();
      }
      List<AppendRequest> cancels = new ArrayList<>();
      for (WorkOrderId id : ids) {
        cancels.add(AppendRequest.of(id, ExpectedVersion.exactly(1), cancelled()));
      }
      Future<?> append = executor.submit(() -> store.appendAll(cancels));
      awaitWaitingOnLock("wg-edge-lockorder");
      // This session locks in id order too (a-000, then z-000): with id-ordered locking in the
      // store it cannot deadlock, the store holds nothing while it waits for a-000.
      try {
        assertThatCode(
                () -> {
                  try (Statement st = admin.createStatement()) {
                    st.executeQuery("SELECT id FROM " + table + " WHERE id = 'z-000' FOR UPDATE")
                        .close();
                  }
                })
            .as("a second transaction locking in id order must not deadlock with appendAll")
            .doesNotThrowAnyException();
      } finally {
        admin.rollback();
      }
      append.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  // -------------------------------------------------------------------------------------------
  // when a pick is locked by another claimer, claim() resumes after the last pick, so
  // work orders between the picks that were skipped only because the lost pick took their
  // capacity are never reconsidered: lower priorities are claimed before a higher one that fits.

  @Test
  void postgres_claim_that_loses_a_pick_still_claims_in_priority_order() throws Exception {
    WorkOrderStore store = pg(db.dataSource());
    WorkOrderId a = WorkOrderId.of("a");
    WorkOrderId b = WorkOrderId.of("b");
    WorkOrderId c = WorkOrderId.of("c");
    WorkOrderId d = WorkOrderId.of("d");
    store.append(a, ExpectedVersion.none(), List.of(submitted(spec("q", 10, res(1)))));
    store.append(b, ExpectedVersion.none(), List.of(submitted(spec("q", 9, res(2)))));
    store.append(c, ExpectedVersion.none(), List.of(submitted(spec("q", 8, res(1)))));
    store.append(d, ExpectedVersion.none(), List.of(submitted(spec("q", 7, res(1)))));

    String table = db.table(JdbcTestKit.PREFIX + "work_orders");
    try (Connection other = db.adminConnection()) {
      other.setAutoCommit(false);
      try (Statement st = other.createStatement()) {
        // another claimer holds A
        st.executeQuery("SELECT id FROM " + table + " WHERE id = 'a' FOR UPDATE").close();
      }
      List<WorkOrderView> got =
          store.claim(
              new ClaimRequest(
                  "q",
                  "node-1",
                  10,
                  Capacity.of(2, Long.MAX_VALUE),
                  clock.instant(),
                  Duration.ofMinutes(1)));
      other.rollback();
      // Without A, claim order is B (9), C (8), D (7); with 2 slots, B (2 slots) fits first.
      assertThat(got).extracting(WorkOrderView::id).containsExactly(b);
    }
  }

  private static ResourceRequest res(int slots) {
    return ResourceRequest.of(slots, 0);
  }

  // -------------------------------------------------------------------------------------------
  // the notifier returns its connection to the host's pool still LISTENing.

  @Test
  void postgres_notifier_does_not_return_a_listening_connection_to_the_pool() throws Exception {
    HikariDataSource pool =
        db.dataSource(
            config -> {
              config.setMaximumPoolSize(2);
              config.setMinimumIdle(0);
              config.addDataSourceProperty("ApplicationName", "wg-edge-listen");
            });
    WorkOrderStore store = pg(pool);
    store.subscribe(queues -> {});
    awaitBackend("wg-edge-listen", PostgresTestDatabase::listening);
    store.close();
    // Every connection the pool now hands out must be clean.
    List<Connection> borrowed = new ArrayList<>();
    List<String> channels = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        Connection c = pool.getConnection();
        borrowed.add(c);
        try (Statement st = c.createStatement();
            ResultSet rs = st.executeQuery("SELECT pg_listening_channels()")) {
          while (rs.next()) {
            channels.add(rs.getString(1));
          }
        }
      }
    } finally {
      for (Connection c : borrowed) {
        c.close();
      }
    }
    assertThat(channels).as("channels still listened on by pooled connections").isEmpty();
  }

  // -------------------------------------------------------------------------------------------
  // text columns of the projection cannot hold U+0000 on PostgreSQL, so an event whose
  // error message (or owner, reason, queue, key) has one cannot be appended there, although the
  // in-memory and SQLite stores accept it.

  @Test
  void an_error_message_with_a_nul_character_is_stored_on_every_backend() {
    for (WorkOrderStore store : List.of(sqlite(), pg(db.dataSource()))) {
      WorkOrderId id = WorkOrderId.of("nul-" + store.getClass().getSimpleName() + stores.size());
      store.append(id, ExpectedVersion.none(), List.of(submitted("q")));
      store.append(
          id,
          ExpectedVersion.exactly(1),
          List.of(claimed("node-1", clock.instant().plusSeconds(60))));
      WorkOrderEvent.AttemptFailed failed =
          WorkOrderEvent.AttemptFailed.finalFailure(
              ErrorInfo.fatal("AGENT_FATAL_ERROR", "stderr: \u0000garbage"), "gave up");
      assertThatCode(() -> store.append(id, ExpectedVersion.exactly(2), List.of(failed)))
          .as("append of a failure with U+0000 in its message on %s", store)
          .doesNotThrowAnyException();
    }
  }

  // -------------------------------------------------------------------------------------------
  // a failed batch statement on PostgreSQL puts every bound value of the row (error
  // message, result, idempotency key, ...) into the StoreException's message, and so into logs.

  @Test
  void failure_messages_keep_the_database_message_and_drop_the_rows_values() {
    SQLException server =
        new SQLException(
            "ERROR: duplicate key value violates unique constraint \"k\"\n"
                + "  Detail: Key (idempotency_key)=(Authorization: Bearer s3cr3t-token) exists.",
            "23505");
    BatchUpdateException batch =
        new BatchUpdateException(
            "Batch entry 0 UPDATE t SET error_message = ('Authorization: Bearer s3cr3t-token')"
                + " was aborted",
            "23505",
            new int[0]);
    batch.setNextException(server);
    assertThat(SqlErrors.describe(batch))
        .isEqualTo("ERROR: duplicate key value violates unique constraint \"k\" (SQLState 23505)")
        .doesNotContain("s3cr3t");
    assertThat(SqlErrors.describe(new BatchUpdateException("UPDATE ... 's3cr3t'", "XX000", null)))
        .doesNotContain("s3cr3t");
  }

  // -------------------------------------------------------------------------------------------
  // queue names are unbounded; on PostgreSQL a submission to a queue whose name does not
  // fit a NOTIFY payload (8000 bytes) fails, though it is only a hint.

  @Test
  void queue_names_that_cannot_travel_in_a_notification_are_refused_when_built() {
    assertThatThrownBy(() -> WorkOrderSpec.builder("t").queue("q".repeat(8000)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("queue must be at most 200 characters");
    assertThatThrownBy(() -> WorkOrderSpec.builder("t").queue("left\nright").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("queue must not contain control characters");
  }

  // -------------------------------------------------------------------------------------------
  // a queue name with spaces, punctuation and non-ASCII letters reaches another node intact.

  @Test
  void postgres_other_node_hears_a_queue_name_intact() {
    WorkOrderStore a = pg(db.dataSource());
    WorkOrderStore b = pg(db.dataSource("wg-edge-nl"));
    List<Set<String>> heard = new CopyOnWriteArrayList<>();
    b.subscribe(heard::add);
    awaitBackend("wg-edge-nl", PostgresTestDatabase::listening);
    a.append(
        WorkOrderId.of("nl"), ExpectedVersion.none(), List.of(submitted("left, right; ünïcode")));
    await().atMost(WAIT).until(() -> !heard.isEmpty());
    assertThat(heard.get(0)).containsExactly("left, right; ünïcode");
  }

  // -------------------------------------------------------------------------------------------
  // a SQLite read that passed the store's open check when close() starts waits forever
  // for a read connection that close() has taken and closed.

  @Test
  void sqlite_reads_racing_close_all_return() throws Exception {
    for (int trial = 0; trial < 30; trial++) {
      WorkOrderStore store =
          Stores.sqlite(
              dir.resolve("race-" + trial + ".db"),
              SqliteOptions.builder().clock(clock).readConnections(1).build());
      WorkOrderId id = WorkOrderId.of("r");
      store.append(id, ExpectedVersion.none(), List.of(submitted("q")));
      AtomicInteger reads = new AtomicInteger();
      List<Future<?>> readers = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        readers.add(
            executor.submit(
                () -> {
                  try {
                    while (true) {
                      store.find(id);
                      reads.incrementAndGet();
                    }
                  } catch (IllegalStateException closed) {
                    return null;
                  }
                }));
      }
      await().atMost(WAIT).until(() -> reads.get() > 200); // readers contend for one connection
      store.close();
      for (Future<?> f : readers) {
        assertThatCode(() -> f.get(5, TimeUnit.SECONDS))
            .as("trial %d: a find() racing close() must return", trial)
            .doesNotThrowAnyException();
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Check (expected to pass): a claim of 5000 stays under the parameter limits on both databases.

  @Test
  void a_claim_of_5000_takes_5000_on_both_backends() throws SQLException {
    for (WorkOrderStore store : List.of(sqlite(), pg(db.dataSource()))) {
      JdbcTestKit.submitMany(store, "big", 5200, 500);
      List<WorkOrderView> got =
          store.claim(
              new ClaimRequest(
                  "big",
                  "node",
                  5000,
                  Capacity.unlimited(),
                  clock.instant(),
                  Duration.ofMinutes(5)));
      assertThat(got).hasSize(5000);
      Set<WorkOrderId> distinct = new HashSet<>();
      got.forEach(v -> distinct.add(v.id()));
      assertThat(distinct).hasSize(5000);
    }
    try (Connection c = db.adminConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT count(*) FROM "
                    + db.table(JdbcTestKit.PREFIX + "work_orders")
                    + " WHERE state = 'PREPARING'");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      assertThat(rs.getLong(1)).isEqualTo(5000);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Views reuse decoded Submitted events by log position; a work order purged by retention and
  // submitted again under the same id has a new position, so its new spec is read.

  @Test
  void a_purged_work_order_submitted_again_under_its_id_shows_its_new_spec() {
    for (WorkOrderStore store : List.of(sqlite(), pg(db.dataSource()))) {
      WorkOrderId id = WorkOrderId.of("reused-id");
      store.append(id, ExpectedVersion.none(), List.of(submitted("first-queue")));
      assertThat(store.find(id).orElseThrow().queue()).isEqualTo("first-queue");
      store.append(id, ExpectedVersion.exactly(1), List.of(cancelled()));
      clock.advance(Duration.ofDays(2));
      assertThat(store.deleteTerminalBefore(clock.instant().minus(Duration.ofDays(1)), 10))
          .isEqualTo(1);

      store.append(id, ExpectedVersion.none(), List.of(submitted("second-queue")));

      assertThat(store.find(id).orElseThrow().queue()).isEqualTo("second-queue");
      assertThat(store.find(id).orElseThrow().version()).isEqualTo(1);
    }
  }
}
