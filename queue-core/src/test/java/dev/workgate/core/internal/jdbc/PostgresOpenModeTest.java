package dev.workgate.core.internal.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.PostgresOptions;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.ExpectedVersion;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link OpenMode#EXISTING} and {@link OpenMode#READ_ONLY} on PostgreSQL: no DDL, a schema without
 * the tables is refused and left as it was, READ_ONLY refuses writes.
 */
class PostgresOpenModeTest {
  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  private PostgresOptions options(OpenMode mode) {
    return db.options(Clock.systemUTC()).openMode(mode).notifications(false).build();
  }

  private static void submit(WorkOrderStore store) {
    store.append(
        WorkOrderId.random(),
        ExpectedVersion.none(),
        List.of(
            WorkOrderEvent.Submitted.of(
                WorkOrderSpec.builder("agent-run").payload(Map.of("n", 1)).build())));
  }

  private List<String> tables() throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = db.adminConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = '"
                    + db.schema()
                    + "' ORDER BY table_name")) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  @ParameterizedTest
  @EnumSource(
      value = OpenMode.class,
      names = {"EXISTING", "READ_ONLY"})
  void a_schema_without_the_tables_is_refused_and_left_empty(OpenMode mode) throws Exception {
    assertThatThrownBy(() -> Stores.postgres(db.dataSource(), options(mode)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("the PostgreSQL schema " + db.schema())
        .hasMessageContaining("is not a Workgate store with table prefix 'workgate_'")
        .hasMessageContaining("it holds no tables");
    assertThat(tables()).isEmpty();
  }

  @Test
  void a_missing_schema_is_refused_and_not_created() throws Exception {
    PostgresOptions options =
        PostgresOptions.builder().schema("wgt_missing_schema").openMode(OpenMode.READ_ONLY).build();

    assertThatThrownBy(() -> Stores.postgres(db.dataSource(), options))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("the schema does not exist");
    try (Connection c = db.adminConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT count(*) FROM pg_namespace WHERE nspname = 'wgt_missing_schema'")) {
      rs.next();
      assertThat(rs.getInt(1)).isZero();
    }
  }

  @Test
  void a_wrong_prefix_is_refused_naming_the_prefix_there() throws Exception {
    db.openStore(Clock.systemUTC()).close();
    List<String> before = tables();

    assertThatThrownBy(
            () ->
                Stores.postgres(
                    db.dataSource(),
                    db.options(Clock.systemUTC())
                        .tablePrefix("wg_")
                        .openMode(OpenMode.EXISTING)
                        .build()))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("table prefix 'wg_'")
        .hasMessageContaining("under the table prefix 'workgate_'");
    assertThat(tables()).isEqualTo(before);
  }

  @ParameterizedTest
  @EnumSource(
      value = OpenMode.class,
      names = {"EXISTING", "READ_ONLY"})
  void a_newer_schema_version_is_refused_and_left_as_it_is(OpenMode mode) throws Exception {
    db.openStore(Clock.systemUTC()).close();
    try (Connection c = db.adminConnection();
        Statement st = c.createStatement()) {
      st.execute(
          "UPDATE "
              + db.table("workgate_meta")
              + " SET value = '999' WHERE key = 'schema_version'");
    }

    assertThatThrownBy(() -> Stores.postgres(db.dataSource(), options(mode)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("schema version 999");
    try (Connection c = db.adminConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT value FROM "
                    + db.table("workgate_meta")
                    + " WHERE key = 'schema_version'")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("999");
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = OpenMode.class,
      names = {"EXISTING", "READ_ONLY"})
  void an_older_schema_version_is_refused_without_ddl(OpenMode mode) throws Exception {
    try (WorkOrderStore store = db.openStore(Clock.systemUTC())) {
      submit(store);
    }
    // Every read of version 5 selects columns that a version-4 store lacks: no mode that does not
    // upgrade can use it as it is.
    db.execute(
        "UPDATE " + db.table("workgate_meta") + " SET value = '4' WHERE key = 'schema_version'");

    assertThatThrownBy(() -> Stores.postgres(db.dataSource(), options(mode)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("schema version 4")
        .hasMessageContaining("Start a node on it once")
        .hasMessageContaining("nothing was changed");

    try (Connection c = db.adminConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT value FROM "
                    + db.table("workgate_meta")
                    + " WHERE key = 'schema_version'")) {
      rs.next();
      assertThat(rs.getString(1)).as("schema version").isEqualTo("4");
    }
  }

  @Test
  void read_only_reads_and_refuses_writes() {
    try (WorkOrderStore store = db.openStore(Clock.systemUTC())) {
      submit(store);
    }

    try (WorkOrderStore store = Stores.postgres(db.dataSource(), options(OpenMode.READ_ONLY))) {
      assertThat(store.query(WorkOrderQuery.builder().build()).items()).hasSize(1);
      assertThat(store.rebuildProjection(RebuildMode.VERIFY).mismatches()).isEmpty();
      assertThatThrownBy(() -> submit(store))
          .isInstanceOf(StoreException.class)
          .hasMessageContaining("opened read-only (OpenMode.READ_ONLY)")
          .hasMessageContaining(db.schema());
      assertThatThrownBy(() -> store.rebuildProjection(RebuildMode.REPAIR))
          .isInstanceOf(StoreException.class)
          .hasMessageContaining("opened read-only");
    }
  }

  @Test
  void existing_writes_to_a_store_that_is_there() {
    try (WorkOrderStore store = db.openStore(Clock.systemUTC())) {
      submit(store);
    }

    try (WorkOrderStore store = Stores.postgres(db.dataSource(), options(OpenMode.EXISTING))) {
      submit(store);
      assertThat(store.query(WorkOrderQuery.builder().build()).items()).hasSize(2);
    }
  }
}
