package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.StoreView.LogPage;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Helpers of the JDBC store tests: whole logs, bulk submissions, and SQL on the store's tables. */
final class JdbcTestKit {

  /** The table prefix of the stores under test (the default). */
  static final String PREFIX = "workgate_";

  private JdbcTestKit() {}

  /**
   * Every event of the log, a page of 1000 at a time.
   *
   * @param store the store
   * @return the events in position order
   */
  static List<RecordedEvent> wholeLog(WorkOrderStore store) {
    List<RecordedEvent> all = new ArrayList<>();
    long after = 0;
    while (true) {
      LogPage page = store.readLog(after, 1000);
      if (page.events().isEmpty()) {
        return all;
      }
      all.addAll(page.events());
      after = page.lastPosition();
    }
  }

  /**
   * Submits plain work orders to a queue in batches.
   *
   * @param store the store
   * @param queue the queue
   * @param count how many
   * @param batch how many per {@code appendAll}
   * @return their ids, in submission order
   */
  static List<WorkOrderId> submitMany(WorkOrderStore store, String queue, int count, int batch) {
    List<WorkOrderId> ids = new ArrayList<>(count);
    List<AppendRequest> requests = new ArrayList<>(batch);
    for (int i = 0; i < count; i++) {
      WorkOrderId id = newId();
      ids.add(id);
      requests.add(AppendRequest.of(id, ExpectedVersion.none(), submitted(queue)));
      if (requests.size() == batch || i == count - 1) {
        store.appendAll(requests);
        requests.clear();
      }
    }
    return ids;
  }

  /**
   * SQL access to a store's tables from outside the store, to damage or inspect them. In {@code
   * sql}, {@code {events}}, {@code {work_orders}} and {@code {meta}} stand for the qualified table
   * names, and {@code {prefix}} for the qualifier and table prefix (for index names).
   */
  abstract static class RawTables {
    private final String qualifier;

    RawTables(String qualifier) {
      this.qualifier = qualifier;
    }

    /** A new autocommit connection to the store's database. */
    abstract Connection connect() throws SQLException;

    /** The statement with the table names filled in. */
    String sql(String sql) {
      String q = qualifier + PREFIX;
      return sql.replace("{events}", q + "events")
          .replace("{work_orders}", q + "work_orders")
          .replace("{meta}", q + "meta")
          .replace("{prefix}", q);
    }

    /** Runs an update and returns its count. */
    int update(String sql, Object... params) {
      try (Connection c = connect();
          PreparedStatement ps = c.prepareStatement(sql(sql))) {
        bind(ps, params);
        return ps.executeUpdate();
      } catch (SQLException e) {
        throw new IllegalStateException("could not run: " + sql(sql), e);
      }
    }

    /** Runs a query and returns its rows, each a map from lower-case column name to value. */
    List<Map<String, Object>> query(String sql, Object... params) {
      try (Connection c = connect();
          PreparedStatement ps = c.prepareStatement(sql(sql))) {
        bind(ps, params);
        try (ResultSet rs = ps.executeQuery()) {
          List<Map<String, Object>> rows = new ArrayList<>();
          int columns = rs.getMetaData().getColumnCount();
          while (rs.next()) {
            Map<String, Object> row = new LinkedHashMap<>();
            for (int i = 1; i <= columns; i++) {
              row.put(rs.getMetaData().getColumnLabel(i).toLowerCase(Locale.ROOT), rs.getObject(i));
            }
            rows.add(row);
          }
          return rows;
        }
      } catch (SQLException e) {
        throw new IllegalStateException("could not run: " + sql(sql), e);
      }
    }

    /** The single value of a one-row, one-column query, or null if there is no row. */
    Object value(String sql, Object... params) {
      List<Map<String, Object>> rows = query(sql, params);
      if (rows.isEmpty()) {
        return null;
      }
      if (rows.size() > 1 || rows.get(0).size() != 1) {
        throw new IllegalStateException("not a single value: " + rows);
      }
      return rows.get(0).values().iterator().next();
    }

    /**
     * Makes the tables what schema version 4 left, as the upgrade tests of older versions do: the
     * work orders without the batch, checkpoint and progress columns, and none of the indexes and
     * tables version 5 adds (dependencies, paused queues, queue actions, batch ends).
     */
    void makeVersion4() {
      for (String index : List.of("wo_batch", "wo_blocked", "dependencies_of")) {
        update("DROP INDEX {prefix}" + index);
      }
      for (String table : List.of("dependencies", "paused_queues", "queue_actions", "batch_ends")) {
        update("DROP TABLE {prefix}" + table);
      }
      for (String column : List.of("batch_id", "checkpoint", "progress")) {
        update("ALTER TABLE {work_orders} DROP COLUMN " + column);
      }
      update("UPDATE {meta} SET value = '4' WHERE key = 'schema_version'");
    }

    /** The columns of the work order table, lower case, in table order. */
    List<String> workOrderColumns() {
      return columnsOf("{work_orders}");
    }

    /** The columns of a table ({@code {events}}, {@code {prefix}nodes}...), lower case. */
    List<String> columnsOf(String table) {
      try (Connection c = connect();
          PreparedStatement ps =
              c.prepareStatement(sql("SELECT * FROM " + table + " WHERE 1 = 0"));
          ResultSet rs = ps.executeQuery()) {
        List<String> out = new ArrayList<>();
        for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
          out.add(rs.getMetaData().getColumnLabel(i).toLowerCase(Locale.ROOT));
        }
        return out;
      } catch (SQLException e) {
        throw new IllegalStateException("could not read the columns of " + sql(table), e);
      }
    }

    /** Whether a table of the store exists (unprefixed name, e.g. {@code meta}). */
    abstract boolean tableExists(String table);

    /** Whether an index of the store exists (unprefixed name, e.g. {@code events_type}). */
    abstract boolean indexExists(String index);

    private static void bind(PreparedStatement ps, Object... params) throws SQLException {
      for (int i = 0; i < params.length; i++) {
        ps.setObject(i + 1, params[i]);
      }
    }
  }

  /**
   * The tables of a SQLite store file.
   *
   * @param file the file
   * @return SQL access
   */
  static RawTables sqlite(Path file) {
    return new RawTables("") {
      @Override
      Connection connect() throws SQLException {
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        try (var s = c.createStatement()) {
          s.execute("PRAGMA busy_timeout = 10000");
        }
        return c;
      }

      @Override
      boolean tableExists(String table) {
        return value(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", PREFIX + table)
            != null;
      }

      @Override
      boolean indexExists(String index) {
        return value(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name = ?", PREFIX + index)
            != null;
      }
    };
  }

  /**
   * The tables of a PostgreSQL store in a test's schema.
   *
   * @param db the test database
   * @return SQL access
   */
  static RawTables postgres(PostgresTestDatabase db) {
    String schema = db.schema();
    return new RawTables(schema + ".") {
      @Override
      Connection connect() throws SQLException {
        return db.adminConnection();
      }

      @Override
      boolean tableExists(String table) {
        return value("SELECT to_regclass(?)::text", schema + "." + PREFIX + table) != null;
      }

      @Override
      boolean indexExists(String index) {
        return value(
                "SELECT indexname FROM pg_indexes WHERE schemaname = ? AND indexname = ?",
                schema,
                PREFIX + index)
            != null;
      }
    };
  }
}
