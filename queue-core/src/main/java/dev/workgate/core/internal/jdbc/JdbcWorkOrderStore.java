package dev.workgate.core.internal.jdbc;

import dev.workgate.core.BatchId;
import dev.workgate.core.Progress;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.Subscription;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.jdbc.SqliteFiles.SqliteAccess;
import dev.workgate.core.store.EndedCount;
import dev.workgate.core.store.EventQuery;
import dev.workgate.core.store.EventQuery.EventPage;
import dev.workgate.core.store.PostgresOptions;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.RebuildReport;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.StoreView.LogPage;
import dev.workgate.core.store.StoreView.NodeStatus;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderQuery.Page;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Claim;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ListenerRegistry;
import dev.workgate.spi.WorkAvailableListener;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.UUID;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable {@link WorkOrderStore}: one JDBC implementation over SQLite (the embedded default)
 * and PostgreSQL (many nodes), with a {@link SqlDialect} for what differs. Obtain through {@link
 * dev.workgate.core.store.Stores#sqlite} or {@link dev.workgate.core.store.Stores#postgres}.
 *
 * <p><b>Tables.</b> {@code <prefix>events} is the log: global position, work-order id, version
 * (unique per work order), type, schema version, JSON data, time; indexed by stream, and for audit
 * queries by (time, position) and (type, time, position) (see {@link EventQuerySql}). {@code
 * <prefix>work_orders} is the projection, one row per work order, with partial indexes for claims
 * (queue, priority, submission), delayed work, leases, retries, retention and ended work,
 * idempotency keys, resubmissions and queries (see {@link WorkOrderQuerySql}). {@code <prefix>meta}
 * records the schema version; opening tables of an older version upgrades them in the opening
 * transaction. Every write changes the log and the projection in one transaction. Times are kept to
 * the microsecond.
 *
 * <p><b>SQLite</b> runs every write on one writer thread that commits concurrent writes in groups
 * (see {@link SqliteWriter}); reads use their own connections and, in WAL mode, never wait for the
 * writer. <b>PostgreSQL</b> writes on the host's pooled connections: appends lock the rows they
 * change in id order, claims take rows with {@code FOR UPDATE SKIP LOCKED}, so concurrent claimers
 * on any number of nodes never take the same work order, and a claim's events are written in one
 * statement.
 *
 * <p><b>Parts.</b> This class opens and wires the store, and hands each call to the part whose one
 * job it is: {@link SqliteFiles} and {@link Schema} for opening, {@link Appends}, {@link Claims},
 * {@link Reads}, {@link NodeTable}, {@link Retention} and {@link Rebuild}, over the state they
 * share in {@link Tables} (dialect, statements, decoded-spec cache, quarantine, open and read-only
 * checks).
 *
 * <p>Thread-safe; for PostgreSQL also safe across processes sharing the database.
 */
public final class JdbcWorkOrderStore implements WorkOrderStore {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcWorkOrderStore.class);

  static final String LAST_POSITION = "last_position";
  static final String SCHEMA_VERSION_KEY = "schema_version";

  static final String EVENT_COLUMNS =
      "position, work_order_id, version, type, schema_version, data, recorded_at";

  private final Tables tables;
  private final Work.Writer writer;
  private final Work.Reader reader;
  private final ListenerRegistry listeners;
  private final Runnable startNotifications;
  private final Runnable stopNotifications;
  private final Flow flow;
  private final Appends appends;
  private final Claims claims;
  private final Reads reads;
  private final NodeTable nodeTable;
  private final Retention retention;
  private final Rebuild rebuild;

  /**
   * @param snapshots connections for {@link #rebuildProjection}'s snapshot reads: neither the
   *     writer's nor a reader's
   */
  private JdbcWorkOrderStore(
      SqlDialect dialect,
      boolean readOnly,
      Work.Writer writer,
      Work.Reader reader,
      Work.Reader snapshots,
      long specCacheBytes,
      ListenerRegistry listeners,
      Runnable startNotifications,
      Runnable stopNotifications) {
    this.tables = new Tables(dialect, readOnly, specCacheBytes);
    this.writer = writer;
    this.reader = reader;
    this.listeners = listeners;
    this.startNotifications = startNotifications;
    this.stopNotifications = stopNotifications;
    this.flow = new Flow(tables, writer, reader);
    this.appends = new Appends(tables, writer, flow);
    this.claims = new Claims(tables, writer, flow);
    this.reads = new Reads(tables, reader);
    this.nodeTable = new NodeTable(tables, writer);
    this.retention = new Retention(tables, writer);
    this.rebuild = new Rebuild(tables, writer, snapshots);
  }

  /** The writer, for tests. */
  Work.Writer writer() {
    return writer;
  }

  /** The decoded-spec cache, for tests. */
  DecodedSpecCache specCache() {
    return tables.submittedEvents;
  }

  // ---------------------------------------------------------------------------------------------
  // opening

  /**
   * Opens a SQLite store as its {@link SqliteOptions#openMode()} says: creating it if absent, or
   * only an existing one, or read-only. Use {@link dev.workgate.core.store.Stores#sqlite(Path,
   * SqliteOptions)}.
   *
   * @param file the database file
   * @param options the settings
   * @return the store
   * @throws StoreException if the file cannot be opened or written, or its schema is unknown or
   *     damaged, or (unless creating) it holds no Workgate store under the table prefix
   */
  public static WorkOrderStore openSqlite(Path file, SqliteOptions options) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(options, "options");
    Path path = file.toAbsolutePath().normalize();
    OpenMode mode = options.openMode();
    if (mode == OpenMode.CREATE_IF_MISSING) {
      SqliteFiles.checkSqliteFile(path);
    } else {
      SqliteFiles.checkExistingSqliteFile(path, mode, options.tablePrefix());
    }
    SqliteFiles.warnIfShared(path);
    SqlDialect.Sqlite dialect = new SqlDialect.Sqlite(path.toString(), options.tablePrefix());
    List<Connection> opened = new ArrayList<>();
    try {
      if (mode != OpenMode.CREATE_IF_MISSING) {
        // A read-only look first: a file that holds no Workgate store is refused before any
        // connection that could write, or create a -wal or -shm beside it, is opened.
        try (Connection probe = SqliteFiles.sqliteConnection(path, options, SqliteAccess.PROBE)) {
          Schema.checkExisting(probe, dialect);
        }
      }
      if (mode == OpenMode.READ_ONLY) {
        SqliteAccess access =
            SqliteFiles.cannotChange(path) ? SqliteAccess.READ_IMMUTABLE : SqliteAccess.READ_ONLY;
        List<Connection> reads = new ArrayList<>();
        for (int i = 0; i < options.readConnections(); i++) {
          Connection r = SqliteFiles.sqliteConnection(path, options, access);
          opened.add(r);
          reads.add(StatementCache.wrap(r, 32));
        }
        return new JdbcWorkOrderStore(
            dialect,
            true,
            new ReadOnlyWriter(dialect),
            new Readers.Sqlite(reads, dialect),
            new Readers.Opening(() -> SqliteFiles.sqliteConnection(path, options, access), dialect),
            options.specCacheBytes(),
            new ListenerRegistry(),
            () -> {},
            () -> {});
      }
      Connection w =
          SqliteFiles.sqliteConnection(
              path,
              options,
              mode == OpenMode.EXISTING ? SqliteAccess.WRITE_EXISTING : SqliteAccess.WRITE);
      opened.add(w);
      if (mode == OpenMode.CREATE_IF_MISSING) {
        try (Statement st = w.createStatement()) {
          try (ResultSet rs = st.executeQuery("PRAGMA journal_mode = WAL")) {
            String journal = rs.next() ? rs.getString(1) : "?";
            if (!"wal".equalsIgnoreCase(journal)) {
              throw new StoreException(
                  "the "
                      + dialect.describe()
                      + " could not be put in WAL mode (it is in "
                      + journal
                      + ")");
            }
          }
          st.execute("BEGIN IMMEDIATE");
          try {
            Schema.ensureSchema(w, dialect);
            st.execute("COMMIT");
          } catch (SQLException | RuntimeException e) {
            st.execute("ROLLBACK");
            throw e;
          }
        }
      }
      List<Connection> reads = new ArrayList<>();
      for (int i = 0; i < options.readConnections(); i++) {
        Connection r = SqliteFiles.sqliteConnection(path, options, SqliteAccess.READ);
        opened.add(r);
        reads.add(StatementCache.wrap(r, 32));
      }
      ListenerRegistry listeners = new ListenerRegistry();
      SqliteWriter writer =
          new SqliteWriter(
              StatementCache.wrap(w, 64),
              dialect,
              path,
              options.clock(),
              options.maxGroupSize(),
              listeners);
      return new JdbcWorkOrderStore(
          dialect,
          false,
          writer,
          new Readers.Sqlite(reads, dialect),
          new Readers.Opening(
              () -> SqliteFiles.sqliteConnection(path, options, SqliteAccess.READ), dialect),
          options.specCacheBytes(),
          listeners,
          () -> {},
          () -> {});
    } catch (SQLException | RuntimeException e) {
      for (Connection c : opened) {
        try {
          c.close();
        } catch (SQLException closing) {
          e.addSuppressed(closing);
        }
      }
      if (e instanceof StoreException s) {
        throw s;
      }
      throw new StoreException(
          "cannot open the " + dialect.describe() + ": " + SqlErrors.describe(e), e);
    }
  }

  /**
   * Copies a SQLite store into a new file with {@code VACUUM INTO}. Use {@link
   * dev.workgate.core.store.Stores#backupSqlite(Path, Path, SqliteOptions)}.
   *
   * @param file the store's file
   * @param target the new file, which must not exist
   * @param options the store's table prefix and busy timeout; the open mode is always {@link
   *     OpenMode#READ_ONLY}
   * @throws StoreException if the file holds no Workgate store, the target exists, or the copy
   *     fails
   */
  public static void backupSqlite(Path file, Path target, SqliteOptions options) {
    SqliteFiles.backup(file, target, options);
  }

  /**
   * Opens a PostgreSQL store as its {@link PostgresOptions#openMode()} says: creating the schema
   * and tables if absent, or only an existing store, or read-only. Use {@link
   * dev.workgate.core.store.Stores#postgres(DataSource, PostgresOptions)}.
   *
   * <p>Opening first looks, in a read-only transaction, at what is there: a store at the current
   * schema version opens with nothing but USAGE on the schema and the table privileges the mode
   * needs (SELECT for {@link OpenMode#READ_ONLY}; SELECT, INSERT, UPDATE, DELETE and the sequence's
   * USAGE otherwise), and no DDL runs. Only {@link OpenMode#CREATE_IF_MISSING} facing a missing
   * schema, missing tables or an older schema version takes the advisory lock, looks again (another
   * node may have done it meanwhile) and creates or upgrades what is still needed.
   *
   * @param dataSource the host's connections
   * @param options the settings
   * @return the store
   * @throws StoreException if the database cannot be reached or its schema is unknown or damaged,
   *     or (unless creating) the schema holds no Workgate store under the table prefix, or the role
   *     lacks a privilege that opening or the mode needs (the message names it and what to do)
   */
  public static WorkOrderStore openPostgres(DataSource dataSource, PostgresOptions options) {
    Objects.requireNonNull(dataSource, "dataSource");
    Objects.requireNonNull(options, "options");
    SqlDialect.Postgres dialect = new SqlDialect.Postgres(options.schema(), options.tablePrefix());
    OpenMode mode = options.openMode();
    PostgresSessions sessions = PostgresSessions.of(options);
    try (Connection c = dataSource.getConnection()) {
      sessions.prepare(c);
      int version = Schema.inReadOnlyTransaction(c, () -> Schema.inspectPostgres(c, dialect, mode));
      if (mode != OpenMode.CREATE_IF_MISSING && version < SqlDialect.SCHEMA_VERSION) {
        // Version 5 added columns that every read of a work order selects: an older store cannot
        // be used as it is.
        throw Schema.olderVersion(dialect, version);
      }
      if (mode == OpenMode.CREATE_IF_MISSING && version < SqlDialect.SCHEMA_VERSION) {
        Schema.createOrUpgradePostgres(c, dialect);
        Schema.inReadOnlyTransaction(
            c,
            () -> {
              Schema.requireTablePrivileges(c, dialect, true);
              return null;
            });
      }
    } catch (SQLException e) {
      throw new StoreException(
          "cannot open the "
              + dialect.describe()
              + ": "
              + SqlErrors.describe(e)
              + (PostgresWriter.LOCK_NOT_AVAILABLE.equals(e.getSQLState())
                  ? ". It waited longer than lock_timeout: another node is creating or upgrading"
                      + " the store, or a long transaction holds its tables; open it again"
                  : ""),
          e);
    }
    if (mode == OpenMode.READ_ONLY) {
      return new JdbcWorkOrderStore(
          dialect,
          true,
          new ReadOnlyWriter(dialect),
          new Readers.Pooled(dataSource, sessions, dialect, true),
          new Readers.Pooled(dataSource, sessions, dialect, true),
          options.specCacheBytes(),
          new ListenerRegistry(),
          () -> {},
          () -> {});
    }
    ListenerRegistry listeners = new ListenerRegistry();
    String instanceId = UUID.randomUUID().toString();
    PostgresWriter writer =
        new PostgresWriter(dataSource, sessions, dialect, options.clock(), listeners, instanceId);
    PostgresNotifier[] notifier = {null};
    boolean[] stopped = {false};
    Runnable start =
        () -> {
          synchronized (notifier) {
            if (notifier[0] == null && !stopped[0] && options.notifications()) {
              notifier[0] =
                  new PostgresNotifier(
                      dataSource, sessions, dialect.channel(), instanceId, listeners);
            }
          }
        };
    Runnable stop =
        () -> {
          synchronized (notifier) {
            stopped[0] = true;
            if (notifier[0] != null) {
              notifier[0].close();
            }
          }
        };
    return new JdbcWorkOrderStore(
        dialect,
        false,
        writer,
        new Readers.Pooled(dataSource, sessions, dialect, false),
        new Readers.Pooled(dataSource, sessions, dialect, false),
        options.specCacheBytes(),
        listeners,
        start,
        stop);
  }

  // ---------------------------------------------------------------------------------------------
  // appends

  @Override
  public List<RecordedEvent> appendAll(List<AppendRequest> requests) {
    return appends.appendAll(requests);
  }

  // ---------------------------------------------------------------------------------------------
  // claims and leases

  @Override
  public List<WorkOrderView> claim(ClaimRequest request) {
    return claims.claim(request);
  }

  @Override
  public List<Claim> claimRecorded(ClaimRequest request) {
    return claims.claimRecorded(request);
  }

  @Override
  public boolean renewLease(
      WorkOrderId workOrderId, String owner, int attempt, Instant expiresAt, Progress progress) {
    return claims.renewLease(workOrderId, owner, attempt, expiresAt, progress);
  }

  // ---------------------------------------------------------------------------------------------
  // dependencies, pauses, batches

  @Override
  public List<WorkOrderView> resolvableBlocked(int limit) {
    return reads.resolvableBlocked(flow.resolvable(), limit);
  }

  @Override
  public List<WorkOrderId> dependents(WorkOrderId workOrderId) {
    return flow.dependents(workOrderId);
  }

  @Override
  public boolean recordQueueAction(QueueAction action) {
    return flow.recordQueueAction(action);
  }

  @Override
  public List<QueueAction> pausedQueues() {
    return flow.pausedQueues();
  }

  @Override
  public List<QueueAction> queueActions(String queue, int limit) {
    return flow.queueActions(queue, limit);
  }

  @Override
  public boolean markBatchEnded(BatchId batch, long members, Instant at) {
    return flow.markBatchEnded(batch, members, at);
  }

  @Override
  public List<BatchId> batchesEndedSince(Instant since, int limit) {
    return flow.batchesEndedSince(since, limit);
  }

  // ---------------------------------------------------------------------------------------------
  // reads

  @Override
  public List<RecordedEvent> readStream(WorkOrderId workOrderId) {
    return reads.readStream(workOrderId);
  }

  @Override
  public LogPage readLog(long afterPosition, int limit) {
    return reads.readLog(afterPosition, limit);
  }

  @Override
  public EventPage queryEvents(EventQuery query) {
    return reads.queryEvents(query);
  }

  @Override
  public Optional<WorkOrderView> find(WorkOrderId workOrderId) {
    return reads.find(workOrderId);
  }

  @Override
  public Page<WorkOrderView> query(WorkOrderQuery query) {
    return reads.query(query);
  }

  @Override
  public SortedMap<String, Long> count(WorkOrderQuery query, WorkOrderQuery.CountBy by) {
    return reads.count(query, by);
  }

  @Override
  public List<EndedCount> endedPerInterval(Instant from, Instant to, Duration interval) {
    return reads.endedPerInterval(from, to, interval);
  }

  @Override
  public QueueCounts counts() {
    return reads.counts();
  }

  @Override
  public Optional<WorkOrderId> findByIdempotencyKey(String idempotencyKey) {
    return reads.findByIdempotencyKey(idempotencyKey);
  }

  @Override
  public List<WorkOrderView> expiredLeases(Instant now, int limit) {
    return reads.expiredLeases(now, limit);
  }

  @Override
  public List<WorkOrderView> dueRetries(Instant now, int limit) {
    return reads.dueRetries(now, limit);
  }

  @Override
  public Optional<Instant> nextRetryAt() {
    return reads.nextRetryAt();
  }

  @Override
  public Optional<Instant> nextAvailableAt(String queue, Instant now) {
    return reads.nextAvailableAt(queue, now);
  }

  @Override
  public List<NodeStatus> nodes() {
    return reads.nodes();
  }

  // ---------------------------------------------------------------------------------------------
  // nodes and retention

  @Override
  public void recordNode(NodeStatus node) {
    nodeTable.recordNode(node);
  }

  @Override
  public int removeNodes(String nodeId, Instant silentSince) {
    return nodeTable.removeNodes(nodeId, silentSince);
  }

  @Override
  public int deleteTerminalBefore(Instant cutoff, int limit) {
    return retention.deleteTerminalBefore(cutoff, limit);
  }

  // ---------------------------------------------------------------------------------------------
  // projection rebuild

  /**
   * Checks the projection against a snapshot of the log read on a connection of its own, in one
   * read transaction (SQLite: a deferred transaction in WAL mode; PostgreSQL: repeatable read, read
   * only), so the check takes no write lock and writers go on while it runs. A repair then takes
   * the write lock only to check again and rewrite the work orders the snapshot found wrong: a work
   * order that changed since the snapshot is compared as it is then.
   */
  @Override
  public RebuildReport rebuildProjection(RebuildMode mode) {
    return rebuild.rebuildProjection(mode);
  }

  // ---------------------------------------------------------------------------------------------
  // lifecycle

  @Override
  public long quarantinedRows() {
    return tables.quarantine.count();
  }

  @Override
  public Optional<Path> localFile() {
    return tables.d instanceof SqlDialect.Sqlite s
        ? Optional.of(Path.of(s.file).toAbsolutePath().normalize())
        : Optional.empty();
  }

  @Override
  public Subscription subscribe(WorkAvailableListener listener) {
    Objects.requireNonNull(listener, "listener");
    tables.ensureOpen();
    Subscription s = listeners.add(listener);
    startNotifications.run();
    return s;
  }

  @Override
  public void close() {
    if (!tables.close()) {
      return;
    }
    stopNotifications.run();
    writer.close();
    reader.close();
  }

  @Override
  public String toString() {
    return "JdbcWorkOrderStore[" + tables.d.describe() + "]";
  }
}
