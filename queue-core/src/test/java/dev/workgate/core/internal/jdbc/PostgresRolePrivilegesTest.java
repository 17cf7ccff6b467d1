package dev.workgate.core.internal.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.PostgresOptions;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Opening PostgreSQL as roles with only the privileges docs/security.md gives them: a node role
 * (USAGE on the schema, DML on the tables, USAGE on the sequence) and a read-only role (USAGE,
 * SELECT) open a current store without CREATE and work; when opening must create or upgrade and the
 * role may not, the refusal names what is missing and what to do, and nothing changes.
 */
class PostgresRolePrivilegesTest {
  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  private final List<String> roles = new ArrayList<>();

  @AfterEach
  void dropRoles() {
    for (String role : roles) {
      db.execute("DROP OWNED BY " + role);
      db.execute("DROP ROLE " + role);
    }
  }

  /** A login role with no privileges beyond PUBLIC's, dropped after the test. */
  private String role(String kind) {
    byte[] random = new byte[4];
    ThreadLocalRandom.current().nextBytes(random);
    String role = "wgt_" + kind + "_" + HexFormat.of().formatHex(random);
    db.execute("CREATE ROLE " + role + " LOGIN");
    roles.add(role);
    return role;
  }

  /** Connections as the role, one per call, no pool. */
  private static DataSource as(String role) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(PostgresTestDatabase.url());
    ds.setUser(role);
    return ds;
  }

  private String nodeRole() {
    String role = role("node");
    db.execute("GRANT USAGE ON SCHEMA " + db.schema() + " TO " + role);
    db.execute(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "
            + db.schema()
            + " TO "
            + role);
    db.execute("GRANT USAGE ON ALL SEQUENCES IN SCHEMA " + db.schema() + " TO " + role);
    return role;
  }

  private String readerRole() {
    String role = role("reader");
    db.execute("GRANT USAGE ON SCHEMA " + db.schema() + " TO " + role);
    db.execute("GRANT SELECT ON ALL TABLES IN SCHEMA " + db.schema() + " TO " + role);
    return role;
  }

  private PostgresOptions options(OpenMode mode) {
    return db.options(Clock.systemUTC()).openMode(mode).notifications(false).build();
  }

  private void createStoreAsOwner() {
    db.openStore(Clock.systemUTC()).close();
  }

  private boolean ask(String sql, String role) throws SQLException {
    try (Connection c = db.adminConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, role);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  private void assertNoCreate(String role) throws SQLException {
    assertThat(ask("SELECT has_database_privilege(?, current_database(), 'CREATE')", role))
        .as("the test role may not create schemas")
        .isFalse();
    assertThat(ask("SELECT has_schema_privilege(?, '" + db.schema() + "', 'CREATE')", role))
        .as("the test role may not create tables")
        .isFalse();
  }

  private String recordedVersion() throws SQLException {
    try (Connection c = db.adminConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT value FROM "
                    + db.table("workgate_meta")
                    + " WHERE key = 'schema_version'");
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  private List<String> tables() throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = db.adminConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?")) {
      ps.setString(1, db.schema());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
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

  @ParameterizedTest
  @EnumSource(
      value = OpenMode.class,
      names = {"CREATE_IF_MISSING", "EXISTING"})
  void a_node_role_without_create_opens_a_current_store_and_works(OpenMode mode) throws Exception {
    createStoreAsOwner();
    String role = nodeRole();
    assertNoCreate(role);

    try (WorkOrderStore store = Stores.postgres(as(role), options(mode))) {
      WorkOrderId id = submit(store);
      List<WorkOrderView> claimed =
          store.claim(
              new ClaimRequest(
                  WorkOrderSpec.DEFAULT_QUEUE,
                  "node-a",
                  1,
                  Capacity.unlimited(),
                  Clock.systemUTC().instant(),
                  Duration.ofSeconds(30)));
      assertThat(claimed).extracting(v -> v.id()).containsExactly(id);
      store.append(
          id,
          ExpectedVersion.exactly(claimed.get(0).version()),
          List.of(new WorkOrderEvent.Started("sandbox-1")));
      assertThat(store.find(id)).map(WorkOrderView::state).contains(WorkOrderState.RUNNING);
    }
  }

  @Test
  void a_read_only_role_opens_read_only_and_reads() throws Exception {
    WorkOrderId id;
    try (WorkOrderStore owner = db.openStore(Clock.systemUTC())) {
      id = submit(owner);
    }
    String role = readerRole();
    assertNoCreate(role);

    try (WorkOrderStore store = Stores.postgres(as(role), options(OpenMode.READ_ONLY))) {
      assertThat(store.counts().byState(WorkOrderSpec.DEFAULT_QUEUE))
          .containsEntry(WorkOrderState.PENDING, 1L);
      assertThat(store.query(WorkOrderQuery.builder().build()).items())
          .extracting(v -> v.id())
          .containsExactly(id);
      assertThat(store.readLog(0, 10).events())
          .extracting(RecordedEvent::workOrderId)
          .containsExactly(id);
      assertThat(store.find(id)).isPresent();
      assertThatThrownBy(() -> submit(store))
          .isInstanceOf(StoreException.class)
          .hasMessageContaining("read-only");
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = OpenMode.class,
      names = {"CREATE_IF_MISSING", "EXISTING"})
  void a_read_only_role_opening_to_write_is_told_which_grants_are_missing(OpenMode mode)
      throws Exception {
    createStoreAsOwner();
    String role = readerRole();

    assertThatThrownBy(() -> Stores.postgres(as(role), options(mode)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("the role " + role + " lacks INSERT ON " + db.schema())
        .hasMessageContaining("USAGE ON SEQUENCE " + db.schema() + ".workgate_event_position")
        .hasMessageContaining("OpenMode.READ_ONLY")
        .hasMessageContaining("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA");
  }

  @Test
  void a_role_without_usage_on_the_schema_is_told_so() throws Exception {
    createStoreAsOwner();
    String role = role("stranger");

    assertThatThrownBy(() -> Stores.postgres(as(role), options(OpenMode.READ_ONLY)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("lacks USAGE on the schema " + db.schema())
        .hasMessageContaining("GRANT USAGE ON SCHEMA " + db.schema() + " TO " + role);
  }

  @Test
  void creating_the_tables_without_create_on_the_schema_says_what_to_do_and_creates_nothing()
      throws Exception {
    String role = role("node");
    db.execute("GRANT USAGE ON SCHEMA " + db.schema() + " TO " + role);

    assertThatThrownBy(() -> Stores.postgres(as(role), options(OpenMode.CREATE_IF_MISSING)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("must create the store's tables in the schema " + db.schema())
        .hasMessageContaining("the role " + role + " may not")
        .hasMessageContaining("lacks CREATE on the schema " + db.schema())
        .hasMessageContaining("Open the store once with a role that owns the schema");
    assertThat(tables()).isEmpty();
  }

  @Test
  void creating_the_schema_without_create_on_the_database_says_what_to_do() throws Exception {
    String role = role("node");
    String missing = db.schema() + "_absent";
    PostgresOptions options =
        PostgresOptions.builder().schema(missing).notifications(false).build();

    try {
      assertThatThrownBy(() -> Stores.postgres(as(role), options))
          .isInstanceOf(StoreException.class)
          .hasMessageContaining("must create the schema " + missing)
          .hasMessageContaining("lacks CREATE on the database");
      try (Connection c = db.adminConnection();
          PreparedStatement ps =
              c.prepareStatement("SELECT count(*) FROM pg_namespace WHERE nspname = ?")) {
        ps.setString(1, missing);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          assertThat(rs.getInt(1)).isZero();
        }
      }
    } finally {
      db.execute("DROP SCHEMA IF EXISTS " + missing + " CASCADE");
    }
  }

  @Test
  void an_upgrade_the_role_may_not_run_is_refused_and_the_version_left_as_it_is() throws Exception {
    createStoreAsOwner();
    String older = Integer.toString(SqlDialect.SCHEMA_VERSION - 1);
    db.execute(
        "UPDATE "
            + db.table("workgate_meta")
            + " SET value = '"
            + older
            + "' WHERE key = 'schema_version'");
    String role = nodeRole();

    assertThatThrownBy(() -> Stores.postgres(as(role), options(OpenMode.CREATE_IF_MISSING)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining(
            "must upgrade the store from schema version "
                + older
                + " to "
                + SqlDialect.SCHEMA_VERSION)
        .hasMessageContaining("ownership of the table " + db.schema() + ".workgate_")
        .hasMessageContaining("Open the store once with a role that owns the schema");
    assertThat(recordedVersion()).isEqualTo(older);
  }

  @Test
  void the_owner_opening_an_older_version_upgrades_it() throws Exception {
    createStoreAsOwner();
    // What version 2 left: no releases column, no node table, nothing version 5 adds.
    JdbcTestKit.postgres(db).makeVersion4();
    db.execute("ALTER TABLE " + db.table("workgate_work_orders") + " DROP COLUMN releases");
    db.execute("DROP TABLE " + db.table("workgate_nodes"));
    db.execute(
        "UPDATE "
            + db.table("workgate_meta")
            + " SET value = '"
            + 2
            + "' WHERE key = 'schema_version'");

    db.openStore(Clock.systemUTC()).close();

    assertThat(recordedVersion()).isEqualTo(Integer.toString(SqlDialect.SCHEMA_VERSION));
  }

  @Test
  void opening_a_current_store_runs_no_ddl_and_takes_no_schema_lock() throws Exception {
    createStoreAsOwner();
    String role = nodeRole();
    try (Connection blocker = db.adminConnection()) {
      blocker.setAutoCommit(false);
      try (var st = blocker.createStatement()) {
        // Holding the store's creation lock: an opening that wanted it would wait here.
        st.execute(
            "SELECT pg_advisory_xact_lock(hashtext('workgate schema "
                + db.schema()
                + ".workgate_'))");
        PostgresOptions options =
            db.options(Clock.systemUTC())
                .notifications(false)
                .lockTimeout(Duration.ofSeconds(2))
                .build();
        try (WorkOrderStore store = Stores.postgres(as(role), options)) {
          assertThat(store.counts().queues()).isEmpty();
        }
      } finally {
        blocker.rollback();
      }
    }
  }

  @Test
  void nodes_opening_a_missing_schema_together_create_it_once() throws Exception {
    String fresh = db.schema() + "_new";
    PostgresOptions options = PostgresOptions.builder().schema(fresh).notifications(false).build();
    int nodes = 4;
    ExecutorService pool = Executors.newFixedThreadPool(nodes);
    CyclicBarrier start = new CyclicBarrier(nodes);
    List<WorkOrderStore> stores = new ArrayList<>();
    try {
      List<Future<WorkOrderStore>> opening = new ArrayList<>();
      for (int i = 0; i < nodes; i++) {
        opening.add(
            pool.submit(
                () -> {
                  start.await();
                  return Stores.postgres(db.dataSource(), options);
                }));
      }
      for (Future<WorkOrderStore> f : opening) {
        stores.add(f.get(60, TimeUnit.SECONDS));
      }
      WorkOrderId id = submit(stores.get(0));
      for (WorkOrderStore store : stores) {
        assertThat(store.find(id)).isPresent();
      }
    } finally {
      stores.forEach(WorkOrderStore::close);
      pool.shutdownNow();
      db.execute("DROP SCHEMA IF EXISTS " + fresh + " CASCADE");
    }
  }
}
