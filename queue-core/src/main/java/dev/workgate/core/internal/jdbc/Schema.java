package dev.workgate.core.internal.jdbc;

import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores.OpenMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Creation, checking and upgrading of the store's tables, and for PostgreSQL the look at what
 * exists and the privilege checks that come before any of it: a role that lacks a privilege is told
 * which and what to grant, and a file or schema that holds no Workgate store is refused naming what
 * it holds instead. Every method runs in the caller's connection and transaction.
 *
 * <p>Static and stateless: safe from any thread.
 */
final class Schema {
  private Schema() {}

  /** A step of opening that runs SQL. */
  interface SqlCall<T> {
    T call() throws SQLException;
  }

  /**
   * Runs a look at the database in a read-only transaction that is rolled back, and hands the
   * connection back in autocommit as it came; a failure while restoring never hides the look's own.
   */
  static <T> T inReadOnlyTransaction(Connection c, SqlCall<T> call) throws SQLException {
    c.setAutoCommit(false);
    c.setReadOnly(true);
    Throwable failed = null;
    try {
      return call.call();
    } catch (SQLException | RuntimeException e) {
      failed = e;
      throw e;
    } finally {
      try {
        c.rollback();
        c.setReadOnly(false);
        c.setAutoCommit(true);
      } catch (SQLException e) {
        if (failed == null) {
          throw e;
        }
        failed.addSuppressed(e);
      }
    }
  }

  /**
   * What a PostgreSQL store's opening finds, reading only: the schema version, or -1 when the
   * schema or the tables are missing (which only {@link OpenMode#CREATE_IF_MISSING} accepts).
   * Checks the privileges the mode needs on what exists before reading the tables, so that a
   * missing grant is named as such instead of looking like damage.
   */
  static int inspectPostgres(Connection c, SqlDialect.Postgres d, OpenMode mode)
      throws SQLException {
    if (!d.schemaExists(c)) {
      if (mode == OpenMode.CREATE_IF_MISSING) {
        return -1;
      }
      throw notAStore(c, d);
    }
    if (!Boolean.parseBoolean(
        SqlDialect.queryString(c, "SELECT has_schema_privilege(?, 'USAGE')::text", d.schema))) {
      String role = currentRole(c);
      throw new StoreException(
          "cannot open the "
              + d.describe()
              + ": the role "
              + role
              + " lacks USAGE on the schema "
              + d.schema
              + ", which every use of the store needs. Nothing was changed; as the schema's owner"
              + " run: GRANT USAGE ON SCHEMA "
              + d.schema
              + " TO "
              + role
              + " (docs/security.md, \"Database roles\")");
    }
    requireTablePrivileges(c, d, mode != OpenMode.READ_ONLY);
    int version = checkSchema(c, d);
    if (version < 0 && mode != OpenMode.CREATE_IF_MISSING) {
      throw notAStore(c, d);
    }
    return version;
  }

  /**
   * The store's tables, qualified, as its schema creates them: read from the DDL, so that a table a
   * later schema version adds is checked too.
   */
  private static List<String> storeTables(SqlDialect d) {
    List<String> tables = new ArrayList<>();
    for (String sql : d.schema()) {
      if (sql.startsWith("CREATE TABLE ")) {
        String rest = sql.substring("CREATE TABLE ".length());
        if (rest.startsWith("IF NOT EXISTS ")) {
          rest = rest.substring("IF NOT EXISTS ".length());
        }
        int end = rest.indexOf(' ');
        int paren = rest.indexOf('(');
        if (paren >= 0 && (end < 0 || paren < end)) {
          end = paren;
        }
        tables.add(end < 0 ? rest : rest.substring(0, end));
      }
    }
    return tables;
  }

  /**
   * Refuses to open when the role lacks a table privilege the store needs on its tables that exist
   * (one query): SELECT for reading; for writing also INSERT, UPDATE and DELETE (the meta table is
   * only read), and USAGE on the position sequence.
   */
  static void requireTablePrivileges(Connection c, SqlDialect.Postgres d, boolean write)
      throws SQLException {
    List<String> tables = new ArrayList<>();
    List<String> privileges = new ArrayList<>();
    for (String table : storeTables(d)) {
      List<String> needed =
          write && !table.equals(d.meta)
              ? List.of("SELECT", "INSERT", "UPDATE", "DELETE")
              : List.of("SELECT");
      for (String p : needed) {
        tables.add(table);
        privileges.add(p);
      }
    }
    List<String> missing = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT p || ' ON ' || t FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS x(t, p, n)"
                + " WHERE CASE WHEN to_regclass(t) IS NULL THEN false"
                + " ELSE NOT has_table_privilege(to_regclass(t), p) END ORDER BY n")) {
      ps.setArray(1, c.createArrayOf("text", tables.toArray()));
      ps.setArray(2, c.createArrayOf("text", privileges.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          missing.add(rs.getString(1));
        }
      }
    }
    if (write
        && "false"
            .equals(
                SqlDialect.queryString(
                    c,
                    "SELECT CASE WHEN r IS NULL THEN NULL ELSE (has_sequence_privilege(r, 'USAGE')"
                        + " OR has_sequence_privilege(r, 'UPDATE'))::text END"
                        + " FROM (SELECT to_regclass(?) AS r) x",
                    d.sequence))) {
      missing.add("USAGE ON SEQUENCE " + d.sequence);
    }
    if (missing.isEmpty()) {
      return;
    }
    String role = currentRole(c);
    throw new StoreException(
        "cannot open the "
            + d.describe()
            + (write ? " to read and write" : " read-only")
            + ": the role "
            + role
            + " lacks "
            + String.join(", ", missing)
            + ". Nothing was changed. A node's role needs USAGE on the schema, SELECT, INSERT,"
            + " UPDATE and DELETE on the store's tables and USAGE on its sequence; a read-only"
            + " role (OpenMode.READ_ONLY) needs USAGE on the schema and SELECT on the tables. As"
            + " the schema's owner grant them, e.g. GRANT "
            + (write ? "SELECT, INSERT, UPDATE, DELETE" : "SELECT")
            + " ON ALL TABLES IN SCHEMA "
            + d.schema
            + " TO "
            + role
            + (write ? "; GRANT USAGE ON ALL SEQUENCES IN SCHEMA " + d.schema + " TO " + role : "")
            + " (docs/security.md, \"Database roles\")");
  }

  private static String currentRole(Connection c) throws SQLException {
    return SqlDialect.queryString(c, "SELECT current_user::text", null);
  }

  /**
   * Creates or upgrades what is missing, in one transaction under the store's advisory lock, after
   * looking again under the lock: a node that started at the same time may have done it already.
   * Checks the privilege each step needs before it runs, so that a role without it is told what is
   * missing and what to do; a refusal by the server (SQLState 42501) is reported the same way.
   */
  static void createOrUpgradePostgres(Connection c, SqlDialect.Postgres d) throws SQLException {
    String step = "create or upgrade the store";
    c.setAutoCommit(false);
    try {
      try (Statement st = c.createStatement()) {
        for (String sql : d.beforeSchema()) {
          st.execute(sql);
        }
        if (!d.schemaExists(c)) {
          step = "create the schema " + d.schema;
          requireDdl(
              c,
              d,
              step,
              "SELECT has_database_privilege(current_database(), 'CREATE')::text",
              null,
              "CREATE on the database");
          st.execute("CREATE SCHEMA IF NOT EXISTS " + d.schema);
        }
      }
      int version = checkSchema(c, d);
      if (version < 0) {
        step = "create the store's tables in the schema " + d.schema;
        requireDdl(
            c,
            d,
            step,
            "SELECT has_schema_privilege(?, 'CREATE')::text",
            d.schema,
            "CREATE on the schema " + d.schema);
        createTables(c, d);
      } else if (version < SqlDialect.SCHEMA_VERSION) {
        step =
            "upgrade the store from schema version "
                + version
                + " to "
                + SqlDialect.SCHEMA_VERSION
                + " (OpenMode.EXISTING and READ_ONLY refuse an older version)";
        for (String table : storeTables(d)) {
          requireDdl(
              c,
              d,
              step,
              "SELECT CASE WHEN r IS NULL THEN NULL ELSE pg_has_role((SELECT relowner FROM"
                  + " pg_class WHERE oid = r), 'USAGE')::text END FROM (SELECT to_regclass(?) AS r) x",
              table,
              "ownership of the table " + table);
        }
        upgrade(c, d, version);
      }
      c.commit();
    } catch (SQLException | RuntimeException e) {
      try {
        c.rollback();
      } catch (SQLException rollback) {
        e.addSuppressed(rollback);
      }
      if (e instanceof SQLException sql && INSUFFICIENT_PRIVILEGE.equals(sql.getSQLState())) {
        throw ddlRefused(c, d, step, SqlErrors.describe(sql), sql);
      }
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }

  /** SQLState of a privilege the role lacks. */
  private static final String INSUFFICIENT_PRIVILEGE = "42501";

  /** Refuses a step of creation or upgrade when {@code check} answers false. */
  private static void requireDdl(
      Connection c, SqlDialect.Postgres d, String step, String check, String param, String lacks)
      throws SQLException {
    if ("false".equals(SqlDialect.queryString(c, check, param))) {
      throw ddlRefused(c, d, step, "it lacks " + lacks, null);
    }
  }

  private static StoreException ddlRefused(
      Connection c, SqlDialect.Postgres d, String step, String why, SQLException cause)
      throws SQLException {
    String role;
    try {
      c.rollback();
      role = currentRole(c);
    } catch (SQLException e) {
      role = "of this connection";
    }
    return new StoreException(
        "cannot open the "
            + d.describe()
            + ": opening it must "
            + step
            + ", and the role "
            + role
            + " may not ("
            + why
            + "). Nothing was changed. Open the store once with a role that owns the schema (to"
            + " create the schema: one with CREATE on the database), e.g. at deploy time; after"
            + " that, a role with USAGE on the schema and SELECT, INSERT, UPDATE, DELETE on its"
            + " tables opens it (docs/security.md, \"Database roles\")",
        cause);
  }

  /**
   * Creates the tables if absent, or checks them and upgrades an older schema version; runs inside
   * the caller's transaction.
   */
  static void ensureSchema(Connection c, SqlDialect d) throws SQLException {
    int version = checkSchema(c, d);
    if (version < 0) {
      createTables(c, d);
      return;
    }
    if (version < SqlDialect.SCHEMA_VERSION) {
      upgrade(c, d, version);
    }
  }

  /** Creates the tables, indexes and the dialect's extra objects, and records the version. */
  private static void createTables(Connection c, SqlDialect d) throws SQLException {
    try (Statement st = c.createStatement()) {
      for (String sql : d.extraSchema()) {
        st.execute(sql);
      }
      for (String sql : d.schema()) {
        st.execute(sql);
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO " + d.meta + " (key, value) VALUES (?, ?)")) {
      ps.setString(1, JdbcWorkOrderStore.SCHEMA_VERSION_KEY);
      ps.setString(2, Integer.toString(SqlDialect.SCHEMA_VERSION));
      ps.addBatch();
      ps.setString(1, JdbcWorkOrderStore.LAST_POSITION);
      ps.setString(2, "0");
      ps.addBatch();
      ps.executeBatch();
    }
  }

  /**
   * Checks, reading only, that the tables hold a Workgate store this version can use as it is, for
   * {@link OpenMode#EXISTING} and {@link OpenMode#READ_ONLY}: refuses what holds none.
   */
  static void checkExisting(Connection c, SqlDialect d) throws SQLException {
    int version = checkSchema(c, d);
    if (version < 0) {
      throw notAStore(c, d);
    }
    if (version < SqlDialect.SCHEMA_VERSION) {
      throw olderVersion(d, version);
    }
  }

  /** The refusal of a store of an older schema version by a mode that does not upgrade. */
  static StoreException olderVersion(SqlDialect d, int version) {
    return new StoreException(
        "the "
            + d.describe()
            + " holds Workgate schema version "
            + version
            + "; this version of Workgate reads version "
            + SqlDialect.SCHEMA_VERSION
            + ". Start a node on it once (it upgrades the schema), then run this again;"
            + " nothing was changed");
  }

  /**
   * Reads the schema version the tables record and checks the tables, changing nothing.
   *
   * @return the version, or -1 if there are no Workgate tables under the prefix at all
   * @throws StoreException if the tables are damaged, partial or of a newer version
   */
  private static int checkSchema(Connection c, SqlDialect d) throws SQLException {
    String metaName = d.prefix + "meta";
    String eventsName = d.prefix + "events";
    String ordersName = d.prefix + "work_orders";
    boolean meta = d.tableExists(c, metaName);
    boolean events = d.tableExists(c, eventsName);
    boolean orders = d.tableExists(c, ordersName);
    if (!meta) {
      if (events || orders) {
        throw damaged(
            d,
            "found table "
                + (events ? eventsName : ordersName)
                + " but no "
                + metaName
                + " recording its schema version: the tables were not created by Workgate, or"
                + " the meta table was dropped");
      }
      return -1;
    }
    String recorded =
        SqlDialect.queryString(
            c,
            "SELECT value FROM " + d.meta + " WHERE key = ?",
            JdbcWorkOrderStore.SCHEMA_VERSION_KEY);
    int version;
    try {
      version = recorded == null ? -1 : Integer.parseInt(recorded.trim());
    } catch (NumberFormatException e) {
      version = -1;
    }
    if (version > SqlDialect.SCHEMA_VERSION) {
      throw new StoreException(
          "the "
              + d.describe()
              + " holds Workgate schema version "
              + version
              + ", newer than this version of Workgate reads (schema version "
              + SqlDialect.SCHEMA_VERSION
              + "). Run the Workgate version that wrote it, or a newer one; nothing was changed");
    }
    if (version < 1) {
      throw damaged(
          d,
          recorded == null
              ? "its " + metaName + " table records no schema version"
              : "its " + metaName + " table records schema version '" + recorded + "'");
    }
    if (!events || !orders) {
      throw damaged(
          d,
          "schema version "
              + version
              + " is recorded but table "
              + (events ? ordersName : eventsName)
              + " is missing");
    }
    checkColumns(c, d, d.events, JdbcWorkOrderStore.EVENT_COLUMNS);
    // A table of an older version lacks the columns the upgrade adds; the upgrade checks again.
    checkColumns(
        c,
        d,
        d.workOrders,
        String.join(
            ", ",
            version >= 5
                ? Row.COLUMNS
                : Row.COLUMNS.subList(
                    0, Row.COLUMNS.indexOf(version >= 3 ? "batch_id" : "releases"))));
    for (String table : List.of("dependencies", "paused_queues", "queue_actions", "batch_ends")) {
      if (version >= 5 && !d.tableExists(c, d.prefix + table)) {
        throw damaged(
            d,
            "schema version "
                + version
                + " is recorded but table "
                + d.prefix
                + table
                + " is missing");
      }
    }
    if (version >= 3 && !d.tableExists(c, d.prefix + "nodes")) {
      throw damaged(
          d,
          "schema version " + version + " is recorded but table " + d.prefix + "nodes is missing");
    }
    if (SqlDialect.queryString(
            c, "SELECT value FROM " + d.meta + " WHERE key = ?", JdbcWorkOrderStore.LAST_POSITION)
        == null) {
      throw damaged(d, "its " + metaName + " table has no " + JdbcWorkOrderStore.LAST_POSITION);
    }
    if (d instanceof SqlDialect.Postgres pg
        && SqlDialect.queryString(c, "SELECT to_regclass(?)::text", pg.sequence) == null) {
      throw damaged(d, "the sequence " + pg.sequence + " is missing");
    }
    return version;
  }

  /**
   * The refusal of a file or schema without Workgate tables under the prefix, naming what is there
   * instead: nothing, another application's tables, or Workgate stores under other prefixes.
   */
  private static StoreException notAStore(Connection c, SqlDialect d) throws SQLException {
    List<String> tables = d.tableNames(c);
    Set<String> names = new HashSet<>(tables);
    List<String> prefixes = new ArrayList<>();
    for (String t : tables) {
      if (t.endsWith("meta")) {
        String p = t.substring(0, t.length() - "meta".length());
        if (names.contains(p + "events") && names.contains(p + "work_orders")) {
          prefixes.add(p);
        }
      }
    }
    String where =
        d instanceof SqlDialect.Postgres pg
            ? "the PostgreSQL schema " + pg.schema
            : "the " + d.describe();
    String what;
    if (!prefixes.isEmpty()) {
      what =
          "it holds Workgate tables under "
              + (prefixes.size() == 1 ? "the table prefix " : "the table prefixes ")
              + prefixes.stream().map(p -> "'" + p + "'").collect(Collectors.joining(", "))
              + ": give "
              + (prefixes.size() == 1 ? "that prefix" : "one of those prefixes");
    } else if (tables.isEmpty()) {
      what =
          d instanceof SqlDialect.Postgres && !((SqlDialect.Postgres) d).schemaExists(c)
              ? "the schema does not exist"
              : "it holds no tables";
    } else {
      what =
          "it holds other tables ("
              + tables.stream().limit(8).collect(Collectors.joining(", "))
              + (tables.size() > 8 ? ", …" : "")
              + "), another application's";
    }
    return new StoreException(
        where
            + " is not a Workgate store with table prefix '"
            + d.prefix
            + "': there is no table "
            + d.prefix
            + "meta; "
            + what
            + ". Nothing was changed");
  }

  /**
   * Brings checked tables of an older schema version to this one, in the caller's transaction: the
   * tables change and the new version is recorded together, or neither happens. Each step only adds
   * (indexes), so the data is never rewritten.
   */
  private static void upgrade(Connection c, SqlDialect d, int from) throws SQLException {
    try (Statement st = c.createStatement()) {
      for (int v = from; v < SqlDialect.SCHEMA_VERSION; v++) {
        for (String sql : d.upgradeFrom(v)) {
          st.execute(sql);
        }
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement("UPDATE " + d.meta + " SET value = ? WHERE key = ?")) {
      ps.setString(1, Integer.toString(SqlDialect.SCHEMA_VERSION));
      ps.setString(2, JdbcWorkOrderStore.SCHEMA_VERSION_KEY);
      ps.executeUpdate();
    }
  }

  private static void checkColumns(Connection c, SqlDialect d, String table, String columns)
      throws SQLException {
    try (Statement st = c.createStatement()) {
      st.executeQuery("SELECT " + columns + " FROM " + table + " WHERE 1 = 0").close();
    } catch (SQLException e) {
      throw damaged(
          d, "table " + table + " lacks columns this version needs: " + SqlErrors.describe(e));
    }
  }

  private static StoreException damaged(SqlDialect d, String what) {
    return new StoreException(
        "the "
            + d.describe()
            + " does not hold a usable Workgate schema: "
            + what
            + ". Nothing was changed; restore the database from a backup, or point the store at"
            + " another "
            + (d instanceof SqlDialect.Postgres
                ? "schema or table prefix"
                : "file or table prefix"));
  }
}
