package dev.workgate.core.internal.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * What differs between the SQL databases the JDBC store runs on: types, qualified names, row
 * locking, how to find a table, and which errors mean "try the transaction again". Immutable.
 */
abstract class SqlDialect {
  /**
   * Version of the tables this code creates and reads; recorded in the meta table. 1: the tables
   * and the indexes of claims, leases, retries, retention, idempotency and streams. 2: adds the
   * audit indexes ({@link #auditIndexes()}). 3: adds the release count and the node table ({@link
   * #nodesTable()}). 4: adds the index of resubmissions ({@link #resubmittedIndex()}).
   */
  static final int SCHEMA_VERSION = 5;

  final String prefix;
  final String events;
  final String workOrders;
  final String meta;
  final String nodes;
  final String dependencies;
  final String pausedQueues;
  final String queueActions;
  final String batchEnds;

  SqlDialect(String qualifier, String prefix) {
    this.prefix = prefix;
    this.events = qualifier + prefix + "events";
    this.workOrders = qualifier + prefix + "work_orders";
    this.meta = qualifier + prefix + "meta";
    this.nodes = qualifier + prefix + "nodes";
    this.dependencies = qualifier + prefix + "dependencies";
    this.pausedQueues = qualifier + prefix + "paused_queues";
    this.queueActions = qualifier + prefix + "queue_actions";
    this.batchEnds = qualifier + prefix + "batch_ends";
  }

  /** A name for messages: which database and where. */
  abstract String describe();

  abstract String bigint();

  abstract String bool();

  /** Whether a table of the store (unqualified name) exists. */
  abstract boolean tableExists(Connection c, String table) throws SQLException;

  /** The names of the tables where the store's tables would be (its file or schema), sorted. */
  abstract List<String> tableNames(Connection c) throws SQLException;

  /** Appended to a SELECT of projection rows (alias p) that the transaction will update. */
  abstract String lockRows();

  /** Appended to a SELECT of projection rows (alias p) that skips rows other writers hold. */
  abstract String skipLocked();

  /** Placed after the projection's alias in the claim query, to name the claim index if needed. */
  abstract String claimIndexHint();

  /**
   * Placed after the events table in an audit query, to name the index that serves it if needed.
   *
   * @param index the index name without prefix, e.g. {@code events_type}
   */
  abstract String eventIndexHint(String index);

  /** Whether the failed transaction may simply be run again (deadlock, serialization, race). */
  abstract boolean retryable(SQLException e);

  /** Statements run once before the schema is created or checked, in the same transaction. */
  abstract List<String> beforeSchema();

  /** Statements that create the dialect's extra objects (a sequence). */
  abstract List<String> extraSchema();

  /** The statements that create the tables and indexes. */
  List<String> schema() {
    String big = bigint();
    String p = prefix;
    return List.of(
        "CREATE TABLE " + meta + " (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE "
            + events
            + " (position "
            + big
            + " PRIMARY KEY, work_order_id TEXT NOT NULL, version "
            + big
            + " NOT NULL, type TEXT NOT NULL, schema_version INTEGER NOT NULL, data TEXT NOT NULL,"
            + " recorded_at "
            + big
            + " NOT NULL)",
        "CREATE UNIQUE INDEX " + p + "events_stream ON " + events + " (work_order_id, version)",
        "CREATE TABLE "
            + workOrders
            + " (id TEXT PRIMARY KEY, seq "
            + big
            + " NOT NULL, queue TEXT NOT NULL, type TEXT NOT NULL, state TEXT NOT NULL,"
            + " priority INTEGER NOT NULL, slots INTEGER NOT NULL, memory_mb "
            + big
            + " NOT NULL, attempt INTEGER NOT NULL, version "
            + big
            + " NOT NULL, submitted_at "
            + big
            + " NOT NULL, updated_at "
            + big
            + " NOT NULL, available_at "
            + big
            + " NOT NULL, lease_owner TEXT, lease_expires_at "
            + big
            + ", next_attempt_at "
            + big
            + ", idempotency_key TEXT, error_code TEXT, error_message TEXT, error_retryable "
            + bool()
            + ", result TEXT, cancellation_reason TEXT, resubmitted_from TEXT,"
            + " releases INTEGER NOT NULL DEFAULT 0, batch_id TEXT, checkpoint TEXT,"
            + " progress TEXT)",
        "CREATE UNIQUE INDEX " + p + "wo_seq ON " + workOrders + " (seq)",
        "CREATE INDEX "
            + p
            + "wo_claim ON "
            + workOrders
            + " (queue, priority DESC, seq) WHERE state = 'PENDING'",
        "CREATE INDEX "
            + p
            + "wo_available ON "
            + workOrders
            + " (queue, available_at) WHERE state = 'PENDING'",
        "CREATE INDEX " + p + "wo_queue_state ON " + workOrders + " (queue, state, seq)",
        "CREATE INDEX "
            + p
            + "wo_lease ON "
            + workOrders
            + " (lease_expires_at, seq) WHERE state IN ('PREPARING', 'RUNNING')",
        "CREATE INDEX "
            + p
            + "wo_retry ON "
            + workOrders
            + " (next_attempt_at, seq) WHERE state = 'WAITING_RETRY'",
        "CREATE INDEX "
            + p
            + "wo_terminal ON "
            + workOrders
            + " (updated_at, seq) WHERE state IN ('COMPLETED', 'FAILED', 'CANCELLED')",
        "CREATE UNIQUE INDEX "
            + p
            + "wo_idempotency ON "
            + workOrders
            + " (idempotency_key) WHERE idempotency_key IS NOT NULL",
        auditIndexes().get(0),
        auditIndexes().get(1),
        nodesTable(),
        resubmittedIndex(),
        version5().get(3),
        version5().get(4),
        version5().get(5),
        version5().get(6),
        version5().get(7),
        version5().get(8),
        version5().get(9));
  }

  /**
   * What schema version 5 adds: a work order's batch, latest checkpoint and progress (columns); the
   * indexes of batches and of blocked work orders; the dependency table (who waits for whom,
   * indexed both ways); the paused queues and the log of pauses and resumes; and the batch ends
   * already reported. The first three are the upgrade's {@code ALTER TABLE}s.
   */
  List<String> version5() {
    String big = bigint();
    return List.of(
        "ALTER TABLE " + workOrders + " ADD COLUMN batch_id TEXT",
        "ALTER TABLE " + workOrders + " ADD COLUMN checkpoint TEXT",
        "ALTER TABLE " + workOrders + " ADD COLUMN progress TEXT",
        "CREATE INDEX IF NOT EXISTS "
            + prefix
            + "wo_batch ON "
            + workOrders
            + " (batch_id, seq) WHERE batch_id IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS "
            + prefix
            + "wo_blocked ON "
            + workOrders
            + " (seq) WHERE state = 'BLOCKED'",
        "CREATE TABLE "
            + dependencies
            + " (dependent TEXT NOT NULL, dependency TEXT NOT NULL, cancel_on_failure "
            + bool()
            + " NOT NULL, PRIMARY KEY (dependent, dependency))",
        "CREATE INDEX IF NOT EXISTS "
            + prefix
            + "dependencies_of ON "
            + dependencies
            + " (dependency, dependent)",
        "CREATE TABLE "
            + pausedQueues
            + " (queue TEXT PRIMARY KEY, paused_at "
            + big
            + " NOT NULL, actor TEXT NOT NULL, reason TEXT NOT NULL)",
        // seq numbers a queue's actions in the order they were recorded (the pause or resume
        // holds the queue's lock), so that actions recorded at the same instant still list
        // newest first.
        "CREATE TABLE "
            + queueActions
            + " (queue TEXT NOT NULL, seq "
            + big
            + " NOT NULL, action TEXT NOT NULL, at "
            + big
            + " NOT NULL, actor TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (queue, seq))",
        "CREATE TABLE "
            + batchEnds
            + " (batch_id TEXT NOT NULL, members "
            + big
            + " NOT NULL, ended_at "
            + big
            + " NOT NULL, PRIMARY KEY (batch_id, members))");
  }

  /**
   * The index of resubmissions (schema version 4): the work orders resubmitted from a given one,
   * for {@code WorkOrderQuery.resubmittedFrom}. Partial: most work orders are no resubmission.
   * {@code IF NOT EXISTS}, as with {@link #auditIndexes()}: an operator may build it beforehand.
   */
  String resubmittedIndex() {
    return "CREATE INDEX IF NOT EXISTS "
        + prefix
        + "wo_resubmitted ON "
        + workOrders
        + " (resubmitted_from) WHERE resubmitted_from IS NOT NULL";
  }

  /**
   * The node table (schema version 3): one row per node that shares the store, with its capacity
   * and a heartbeat, for the fit check at submit, cluster health and the node list.
   */
  String nodesTable() {
    String big = bigint();
    return "CREATE TABLE "
        + nodes
        + " (id TEXT PRIMARY KEY, slots INTEGER NOT NULL, memory_mb "
        + big
        + " NOT NULL, slots_in_use INTEGER NOT NULL, memory_mb_in_use "
        + big
        + " NOT NULL, pressure TEXT NOT NULL, version TEXT NOT NULL, started_at "
        + big
        + " NOT NULL, heartbeat_at "
        + big
        + " NOT NULL)";
  }

  /**
   * The indexes of audit queries (schema version 2): the log by recorded time, and by type and
   * recorded time, each ending in the position so that one page continues exactly where the last
   * ended. {@code IF NOT EXISTS}: an operator may have built them beforehand (on PostgreSQL with
   * {@code CREATE INDEX CONCURRENTLY}) so that the upgrade from version 1 finds them done.
   */
  List<String> auditIndexes() {
    return List.of(
        "CREATE INDEX IF NOT EXISTS "
            + prefix
            + "events_recorded ON "
            + events
            + " (recorded_at, position)",
        "CREATE INDEX IF NOT EXISTS "
            + prefix
            + "events_type ON "
            + events
            + " (type, recorded_at, position)");
  }

  /**
   * The statements that bring tables of one schema version to the next; the caller records the new
   * version in the same transaction.
   *
   * @param version the version the tables are at, at least 1 and below {@link #SCHEMA_VERSION}
   */
  List<String> upgradeFrom(int version) {
    if (version == 1) {
      return auditIndexes();
    }
    if (version == 2) {
      return List.of(
          "ALTER TABLE " + workOrders + " ADD COLUMN releases INTEGER NOT NULL DEFAULT 0",
          nodesTable());
    }
    if (version == 3) {
      return List.of(resubmittedIndex());
    }
    if (version == 4) {
      return version5();
    }
    throw new IllegalArgumentException("no upgrade from schema version " + version);
  }

  /** Reads one text value, or null if there is no row. */
  static String queryString(Connection c, String sql, String param) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      if (param != null) {
        ps.setString(1, param);
      }
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  /** The first column of every row a query returns. */
  static List<String> names(Connection c, String sql, String param) throws SQLException {
    List<String> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      if (param != null) {
        ps.setString(1, param);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  /** SQLite: one file, one writer. */
  static final class Sqlite extends SqlDialect {
    final String file;

    Sqlite(String file, String prefix) {
      super("", prefix);
      this.file = file;
    }

    @Override
    String describe() {
      return "SQLite file " + file;
    }

    @Override
    String bigint() {
      return "INTEGER";
    }

    @Override
    String bool() {
      return "INTEGER";
    }

    @Override
    boolean tableExists(Connection c, String table) throws SQLException {
      return queryString(
              c, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", table)
          != null;
    }

    @Override
    List<String> tableNames(Connection c) throws SQLException {
      return names(
          c,
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
              + " ORDER BY name",
          null);
    }

    @Override
    String lockRows() {
      return "";
    }

    @Override
    String skipLocked() {
      return "";
    }

    @Override
    String claimIndexHint() {
      // Without statistics SQLite prefers wo_available and sorts every pending row of the queue
      // on each claim; the claim index yields rows already in claim order.
      return " INDEXED BY " + prefix + "wo_claim";
    }

    @Override
    String eventIndexHint(String index) {
      // Without statistics SQLite may take events_type for a query by work order and type, and
      // read every event of that type; named, the index cannot be passed over, and a missing one
      // fails the query instead of turning it into a scan.
      return " INDEXED BY " + prefix + index;
    }

    @Override
    boolean retryable(SQLException e) {
      return false;
    }

    @Override
    List<String> beforeSchema() {
      return List.of();
    }

    @Override
    List<String> extraSchema() {
      return List.of();
    }
  }

  /** PostgreSQL: many nodes, row locks, a sequence for positions. */
  static final class Postgres extends SqlDialect {
    final String schema;
    final String sequence;

    Postgres(String schema, String prefix) {
      super(schema + ".", prefix);
      this.schema = schema;
      this.sequence = schema + "." + prefix + "event_position";
    }

    @Override
    String describe() {
      return "PostgreSQL schema " + schema + " (table prefix '" + prefix + "')";
    }

    @Override
    String bigint() {
      return "BIGINT";
    }

    @Override
    String bool() {
      return "BOOLEAN";
    }

    @Override
    boolean tableExists(Connection c, String table) throws SQLException {
      return queryString(c, "SELECT to_regclass(?)::text", schema + "." + table) != null;
    }

    @Override
    List<String> tableNames(Connection c) throws SQLException {
      return names(
          c,
          "SELECT table_name FROM information_schema.tables WHERE table_schema = ?"
              + " ORDER BY table_name",
          schema);
    }

    boolean schemaExists(Connection c) throws SQLException {
      return queryString(c, "SELECT nspname::text FROM pg_namespace WHERE nspname = ?", schema)
          != null;
    }

    @Override
    String lockRows() {
      // Byte order (collation "C"), which is code-point order: the order JdbcWorkOrderStore
      // sorts ids in before it chunks them, so that every writer locks rows in one total order.
      return " ORDER BY p.id COLLATE \"C\" FOR UPDATE OF p";
    }

    @Override
    String skipLocked() {
      return " FOR UPDATE OF p SKIP LOCKED";
    }

    @Override
    String claimIndexHint() {
      return "";
    }

    @Override
    String eventIndexHint(String index) {
      return "";
    }

    @Override
    boolean retryable(SQLException e) {
      String state = e.getSQLState();
      // serialization failure, deadlock, unique violation (a concurrent insert won the race: the
      // next try sees it and reports a version or idempotency conflict)
      return "40001".equals(state) || "40P01".equals(state) || "23505".equals(state);
    }

    @Override
    List<String> beforeSchema() {
      // Lock first: two nodes starting at once must not both create or upgrade the store. The
      // schema itself is created only when missing (CREATE SCHEMA IF NOT EXISTS needs CREATE on the
      // database even when the schema exists), see JdbcWorkOrderStore.openPostgres.
      return List.of(
          "SELECT pg_advisory_xact_lock(hashtext('workgate schema "
              + schema
              + "."
              + prefix
              + "'))");
    }

    @Override
    List<String> extraSchema() {
      return List.of("CREATE SEQUENCE " + sequence);
    }

    /** The channel of this store's notifications: lower case, at most 63 bytes. */
    String channel() {
      String c = "workgate_" + schema + "_" + prefix;
      return c.length() > 63 ? c.substring(0, 63) : c;
    }
  }
}
