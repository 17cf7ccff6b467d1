package dev.workgate.core.store.jdbc;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.EventCodec;
import dev.workgate.core.EventCodecException;
import dev.workgate.core.IdempotencyKeyConflictException;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrder;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.AppendRequest;
import dev.workgate.core.store.Capacity;
import dev.workgate.core.store.Claim;
import dev.workgate.core.store.ClaimRequest;
import dev.workgate.core.store.EventPage;
import dev.workgate.core.store.EventQuery;
import dev.workgate.core.store.ListenerRegistry;
import dev.workgate.core.store.LogPage;
import dev.workgate.core.store.NodeStatus;
import dev.workgate.core.store.OpenMode;
import dev.workgate.core.store.Page;
import dev.workgate.core.store.ProjectionMismatch;
import dev.workgate.core.store.RebuildMode;
import dev.workgate.core.store.RebuildReport;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Subscription;
import dev.workgate.core.store.UnreadableRowException;
import dev.workgate.core.store.WorkAvailableListener;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.store.jdbc.SqliteFiles.SqliteAccess;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;
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
 * (queue, priority, submission), delayed work, leases, retries, retention, idempotency keys and
 * queries. {@code <prefix>meta} records the schema version; opening tables of an older version
 * upgrades them in the opening transaction. Every write changes the log and the projection in one
 * transaction. Times are kept to the microsecond.
 *
 * <p><b>SQLite</b> runs every write on one writer thread that commits concurrent writes in groups
 * (see {@link SqliteWriter}); reads use their own connections and, in WAL mode, never wait for the
 * writer. <b>PostgreSQL</b> writes on the host's pooled connections: appends lock the rows they
 * change in id order, claims take rows with {@code FOR UPDATE SKIP LOCKED}, so concurrent claimers
 * on any number of nodes never take the same work order, and a claim's events are written in one
 * statement.
 *
 * <p>Thread-safe; for PostgreSQL also safe across processes sharing the database.
 */
public final class JdbcWorkOrderStore implements WorkOrderStore {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcWorkOrderStore.class);

  /**
   * Decoded Submitted events by log position, for the spec every view joins; bounded by bytes, see
   * {@link DecodedSpecCache}.
   */
  private final DecodedSpecCache submittedEvents;

  static final String LAST_POSITION = "last_position";
  static final String SCHEMA_VERSION_KEY = "schema_version";

  /** Rows per multi-row statement: well under both databases' parameter limits. */
  private static final int CHUNK = 500;

  static final String EVENT_COLUMNS =
      "position, work_order_id, version, type, schema_version, data, recorded_at";

  private final SqlDialect d;
  private final Work.Writer writer;
  private final Work.Reader reader;

  /**
   * Connections for {@link #rebuildProjection}'s snapshot reads: neither the writer's nor a
   * reader's.
   */
  private final Work.Reader snapshots;

  private final ListenerRegistry listeners;
  private final Runnable startNotifications;
  private final Runnable stopNotifications;
  private final String viewSelect;
  private final String claimSelect;
  private final String insertRow;
  private final String updateRow;
  private final boolean readOnly;
  private final Quarantine quarantine = new Quarantine();
  private volatile boolean closed;

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
    this.submittedEvents = new DecodedSpecCache(specCacheBytes);
    this.d = dialect;
    this.readOnly = readOnly;
    this.writer = writer;
    this.reader = reader;
    this.snapshots = snapshots;
    this.listeners = listeners;
    this.startNotifications = startNotifications;
    this.stopNotifications = stopNotifications;
    this.viewSelect =
        "SELECT p."
            + String.join(", p.", Row.COLUMNS)
            + ", e.position, e.type, e.schema_version, e.data FROM "
            + d.workOrders
            + " p JOIN "
            + d.events
            + " e ON e.work_order_id = p.id AND e.version = 1";
    this.claimSelect =
        viewSelect.replace(" p JOIN ", " p" + d.claimIndexHint() + " JOIN ")
            + " WHERE p.queue = ? AND p.state = 'PENDING' AND p.available_at <= ?"
            + " AND p.slots <= ? AND p.memory_mb <= ?"
            + " AND (p.priority < ? OR (p.priority = ? AND p.seq > ?))"
            + " ORDER BY p.priority DESC, p.seq LIMIT ?";
    this.insertRow =
        "INSERT INTO "
            + d.workOrders
            + " ("
            + String.join(", ", Row.COLUMNS)
            + ") VALUES ("
            + marks(Row.COLUMNS.size())
            + ")";
    this.updateRow =
        "UPDATE "
            + d.workOrders
            + " SET "
            + Row.MUTABLE_COLUMNS.stream()
                .map(col -> col + " = ?")
                .collect(Collectors.joining(", "))
            + " WHERE id = ? AND version = ?";
  }

  /** The decoded-spec cache, for tests. */
  DecodedSpecCache specCache() {
    return submittedEvents;
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

  /** A stream as it will be after the append being staged. */
  private static final class Staged {
    final Current before; // null for a new work order
    WorkOrder current;
    final List<Integer> pending = new ArrayList<>(2); // indexes into the append's events

    Staged(Current before) {
      this.before = before;
      this.current = before == null ? null : before.view;
    }
  }

  /** A projection row and its view. */
  private record Current(Row row, WorkOrder view) {}

  /** An event of an append, before it has its position. */
  private record Pending(
      WorkOrderId id, long version, WorkOrderEvent event, EventCodec.EncodedEvent encoded) {}

  @Override
  public List<RecordedEvent> appendAll(List<AppendRequest> requests) {
    Objects.requireNonNull(requests, "requests");
    for (AppendRequest r : requests) {
      Objects.requireNonNull(r, "request");
    }
    ensureOpen();
    ensureWritable("append");
    if (requests.isEmpty()) {
      return List.of();
    }
    // Encode on the caller's thread: JSON work stays off the single SQLite writer.
    Map<WorkOrderEvent, EventCodec.EncodedEvent> encoded = new IdentityHashMap<>();
    for (AppendRequest r : requests) {
      for (WorkOrderEvent e : r.events()) {
        encoded.computeIfAbsent(e, EventCodec::encode);
      }
    }
    return writer.write("append", (c, ctx) -> append(c, ctx, requests, encoded));
  }

  private List<RecordedEvent> append(
      Connection c,
      Work.Context ctx,
      List<AppendRequest> requests,
      Map<WorkOrderEvent, EventCodec.EncodedEvent> encoded)
      throws SQLException {
    Set<WorkOrderId> ids = new LinkedHashSet<>();
    Set<String> keys = new LinkedHashSet<>();
    for (AppendRequest r : requests) {
      ids.add(r.workOrderId());
      for (WorkOrderEvent e : r.events()) {
        if (e instanceof WorkOrderEvent.Submitted s) {
          s.spec().idempotencyKey().ifPresent(keys::add);
        }
      }
    }
    Map<WorkOrderId, Current> current = load(c, ids, d.lockRows());
    Map<String, WorkOrderId> holders = keyHolders(c, keys);
    Map<WorkOrderId, Staged> staged = new LinkedHashMap<>();
    Map<String, WorkOrderId> newKeys = new HashMap<>();
    List<Pending> pending = new ArrayList<>();
    for (AppendRequest request : requests) {
      WorkOrderId id = request.workOrderId();
      Staged s = staged.computeIfAbsent(id, k -> new Staged(current.get(k)));
      long actual = s.current == null ? 0 : s.current.version();
      if (!request.expected().matches(actual)) {
        throw new ConcurrencyException(id, request.expected().toString(), actual);
      }
      for (WorkOrderEvent event : request.events()) {
        long version = actual + 1;
        s.current =
            s.current == null
                ? WorkOrder.start(id, event, version, ctx.now)
                : s.current.apply(event, version, ctx.now);
        if (event instanceof WorkOrderEvent.Submitted submitted) {
          String key = submitted.spec().idempotencyKey().orElse(null);
          if (key != null) {
            WorkOrderId holder = holders.getOrDefault(key, newKeys.get(key));
            if (holder != null) {
              throw new IdempotencyKeyConflictException(key, holder);
            }
            newKeys.put(key, id);
          }
        }
        s.pending.add(pending.size());
        pending.add(new Pending(id, version, event, encoded.get(event)));
        actual = version;
      }
    }
    long[] positions = ctx.positions(c, pending.size());
    List<RecordedEvent> recorded = new ArrayList<>(pending.size());
    for (int i = 0; i < pending.size(); i++) {
      Pending p = pending.get(i);
      recorded.add(new RecordedEvent(positions[i], p.id, p.version, ctx.now, p.event));
    }
    insertEvents(c, recorded, i -> pending.get(i).encoded);
    List<Row> inserts = new ArrayList<>();
    List<Row> updates = new ArrayList<>();
    List<Long> expectedVersions = new ArrayList<>();
    for (Staged s : staged.values()) {
      List<RecordedEvent> added = new ArrayList<>(s.pending.size());
      for (int i : s.pending) {
        added.add(recorded.get(i));
      }
      if (s.before == null) {
        inserts.add(Row.of(s.current, added.get(0).position()));
      } else {
        updates.add(Row.of(s.current, s.before.row.seq()));
        expectedVersions.add(s.before.row.version());
      }
      if (ListenerRegistry.becameClaimable(s.current, added)) {
        ctx.claimable.add(s.current.queue());
      }
    }
    insertRows(c, inserts);
    updateRows(c, updates, expectedVersions);
    return Collections.unmodifiableList(recorded);
  }

  private Map<String, WorkOrderId> keyHolders(Connection c, Set<String> keys) throws SQLException {
    Map<String, WorkOrderId> holders = new HashMap<>();
    for (List<String> chunk : chunks(new ArrayList<>(keys))) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT idempotency_key, id FROM "
                  + d.workOrders
                  + " WHERE idempotency_key IN ("
                  + marks(chunk.size())
                  + ")")) {
        for (int i = 0; i < chunk.size(); i++) {
          ps.setString(i + 1, chunk.get(i));
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            holders.put(rs.getString(1), WorkOrderId.of(rs.getString(2)));
          }
        }
      }
    }
    return holders;
  }

  /** Loads projection rows and views by id, with a locking suffix. */
  private Map<WorkOrderId, Current> load(Connection c, Set<WorkOrderId> ids, String suffix)
      throws SQLException {
    Map<WorkOrderId, Current> out = new HashMap<>();
    // Chunks in code-point order, each locked in the same order by the database: one total lock
    // order for every writer, so batches larger than a chunk cannot deadlock each other.
    List<WorkOrderId> all = new ArrayList<>(ids);
    all.sort((x, y) -> compareCodePoints(x.value(), y.value()));
    for (List<WorkOrderId> chunk : chunks(all)) {
      try (PreparedStatement ps =
          c.prepareStatement(
              viewSelect + " WHERE p.id IN (" + marks(chunk.size()) + ")" + suffix)) {
        for (int i = 0; i < chunk.size(); i++) {
          ps.setString(i + 1, chunk.get(i).value());
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Current cur;
            try {
              cur = current(rs);
            } catch (UnreadableRowException e) {
              quarantine.add(e); // counted and logged; the append to that work order fails
              throw e;
            }
            out.put(cur.view.id(), cur);
          }
        }
      }
    }
    return out;
  }

  /** Reads a row of {@link #viewSelect}. */
  private Current current(ResultSet rs) throws SQLException {
    return current(Row.read(rs, 1), rs);
  }

  /** Reads the rest of a row of {@link #viewSelect} whose projection columns were read. */
  private Current current(Row row, ResultSet rs) throws SQLException {
    int e = Row.COLUMNS.size() + 1;
    long position = rs.getLong(e);
    WorkOrderEvent first = submittedEvents.get(position);
    if (first == null) {
      String data = rs.getString(e + 3);
      first = decode(position, row.id(), rs.getString(e + 1), rs.getInt(e + 2), data);
      if (first instanceof WorkOrderEvent.Submitted) {
        submittedEvents.put(position, first, data == null ? 0 : data.length());
      }
    }
    if (!(first instanceof WorkOrderEvent.Submitted submitted)) {
      throw new UnreadableRowException(
          "work order "
              + row.id()
              + ": the event at position "
              + position
              + " (version 1) is "
              + first.type()
              + ", not Submitted; the log was changed outside Workgate",
          row.id(),
          position,
          null);
    }
    try {
      return new Current(row, row.toView(submitted.spec()));
    } catch (IllegalArgumentException | EventCodecException e2) {
      throw new UnreadableRowException(
          "work order "
              + row.id()
              + ": its projection row in "
              + d.workOrders
              + " is damaged ("
              + e2.getMessage()
              + "); run rebuildProjection(REPAIR) to rewrite it from the log",
          row.id(),
          0,
          e2);
    }
  }

  private WorkOrderEvent decode(
      long position, String workOrderId, String type, int schemaVersion, String data) {
    try {
      return EventCodec.decode(type, schemaVersion, data);
    } catch (EventCodecException | IllegalArgumentException e) {
      throw new UnreadableRowException(
          "the event at position "
              + position
              + " of work order "
              + workOrderId
              + " in "
              + d.events
              + " cannot be read: "
              + e.getMessage(),
          workOrderId,
          position,
          e);
    }
  }

  private interface EncodedAt {
    EventCodec.EncodedEvent at(int index);
  }

  private void insertEvents(Connection c, List<RecordedEvent> events, EncodedAt encoded)
      throws SQLException {
    for (int from = 0; from < events.size(); from += CHUNK) {
      int to = Math.min(events.size(), from + CHUNK);
      StringBuilder sql =
          new StringBuilder("INSERT INTO " + d.events + " (" + EVENT_COLUMNS + ") VALUES ");
      for (int i = from; i < to; i++) {
        sql.append(i == from ? "" : ", ").append("(?, ?, ?, ?, ?, ?, ?)");
      }
      try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
        int n = 1;
        for (int i = from; i < to; i++) {
          RecordedEvent r = events.get(i);
          EventCodec.EncodedEvent e = encoded.at(i);
          ps.setLong(n++, r.position());
          ps.setString(n++, r.workOrderId().value());
          ps.setLong(n++, r.version());
          ps.setString(n++, e.type());
          ps.setInt(n++, e.schemaVersion());
          ps.setString(n++, e.data());
          ps.setLong(n++, Row.micros(r.recordedAt()));
        }
        ps.executeUpdate();
      }
    }
  }

  private void insertRows(Connection c, List<Row> rows) throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(insertRow)) {
      for (Row row : rows) {
        row.bind(ps, 1);
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  private void updateRows(Connection c, List<Row> rows, List<Long> expectedVersions)
      throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(updateRow)) {
      int n = Row.MUTABLE_COLUMNS.size();
      for (int i = 0; i < rows.size(); i++) {
        Row row = rows.get(i);
        row.bindMutable(ps, 1);
        ps.setString(n + 1, row.id());
        ps.setLong(n + 2, expectedVersions.get(i));
        ps.addBatch();
      }
      int[] counts = ps.executeBatch();
      for (int i = 0; i < counts.length; i++) {
        if (counts[i] == 0) {
          // Another writer changed the row between our read and this update: the row locks
          // (PostgreSQL) and the single writer (SQLite) rule this out, so the database was
          // changed outside the store.
          throw new ConcurrencyException(
              WorkOrderId.of(rows.get(i).id()), "exactly(" + expectedVersions.get(i) + ")", -1);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // claims and leases

  @Override
  public List<WorkOrderView> claim(ClaimRequest request) {
    List<Claim> claims = claimRecorded(request);
    List<WorkOrderView> views = new ArrayList<>(claims.size());
    for (Claim claim : claims) {
      views.add(claim.view());
    }
    return Collections.unmodifiableList(views);
  }

  @Override
  public List<Claim> claimRecorded(ClaimRequest request) {
    Objects.requireNonNull(request, "request");
    ensureOpen();
    ensureWritable("claim");
    WorkOrderEvent.Claimed claimed =
        new WorkOrderEvent.Claimed(request.owner(), request.leaseExpiresAt());
    EventCodec.EncodedEvent encoded = EventCodec.encode(claimed);
    return writer.write("claim", (c, ctx) -> claim(c, ctx, request, claimed, encoded));
  }

  private List<Claim> claim(
      Connection c,
      Work.Context ctx,
      ClaimRequest request,
      WorkOrderEvent.Claimed claimed,
      EventCodec.EncodedEvent encoded)
      throws SQLException {
    // Read candidates in claim order without locking, pick greedily what fits, then lock only
    // the picks (skipping any another claimer holds): rows this claim does not take stay
    // claimable by others while it runs.
    Capacity left = request.capacity();
    List<Current> chosen = new ArrayList<>(Math.min(request.limit(), 256));
    int pageSize = Math.min(Math.max(request.limit(), 16), 1000);
    long afterPriority = Integer.MAX_VALUE + 1L;
    long afterSeq = -1;
    Set<String> lockedByUs = new HashSet<>();
    Set<String> lost = new HashSet<>(); // held by another claimer, or changed since read
    while (chosen.size() < request.limit() && left.slots() > 0) {
      List<Current> page = new ArrayList<>(pageSize);
      int scanned = 0;
      long lastPriority = 0;
      long lastSeq = 0;
      try (PreparedStatement ps = c.prepareStatement(claimSelect)) {
        ps.setString(1, request.queue());
        ps.setLong(2, Row.micros(request.now()));
        ps.setInt(3, left.slots());
        ps.setLong(4, left.memoryMb());
        ps.setLong(5, afterPriority);
        ps.setLong(6, afterPriority);
        ps.setLong(7, afterSeq);
        ps.setInt(8, pageSize);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Row row = Row.read(rs, 1);
            scanned++;
            lastPriority = row.priority();
            lastSeq = row.seq();
            // An unreadable work order is quarantined and skipped, not a failed claim: the others
            // must still run, on this node and on every node sharing the store.
            if (quarantine.holds(row.id())) {
              continue;
            }
            try {
              page.add(current(row, rs));
            } catch (UnreadableRowException e) {
              quarantine.add(e);
            }
          }
        }
      }
      // Pick greedily in claim order among the rows not lost to another claimer, lock the new
      // picks, and pick again while some were lost: the result is the claim order of the rows
      // this claim can have. Rows locked in an earlier round but not picked in the last stay
      // locked until commit (only when claimers collide).
      List<Current> picks;
      while (true) {
        picks = new ArrayList<>();
        Capacity tentative = left;
        for (Current cur : page) {
          if (chosen.size() + picks.size() == request.limit()) {
            break;
          }
          if (!lost.contains(cur.row.id()) && tentative.fits(cur.view.resources())) {
            picks.add(cur);
            tentative = tentative.minus(cur.view.resources());
          }
        }
        List<Current> toLock = new ArrayList<>();
        for (Current cur : picks) {
          if (!lockedByUs.contains(cur.row.id())) {
            toLock.add(cur);
          }
        }
        List<Current> locked = lockUnchanged(c, toLock);
        locked.forEach(cur -> lockedByUs.add(cur.row.id()));
        if (locked.size() == toLock.size()) {
          break;
        }
        for (Current cur : toLock) {
          if (!lockedByUs.contains(cur.row.id())) {
            lost.add(cur.row.id());
          }
        }
      }
      for (Current cur : picks) {
        chosen.add(cur);
        left = left.minus(cur.view.resources());
      }
      if (scanned < pageSize) {
        break;
      }
      afterPriority = lastPriority;
      afterSeq = lastSeq;
    }
    if (chosen.isEmpty()) {
      return List.of();
    }
    long[] positions = ctx.positions(c, chosen.size());
    List<RecordedEvent> events = new ArrayList<>(chosen.size());
    List<Row> rows = new ArrayList<>(chosen.size());
    List<Long> versions = new ArrayList<>(chosen.size());
    List<Claim> claims = new ArrayList<>(chosen.size());
    for (int i = 0; i < chosen.size(); i++) {
      Current cur = chosen.get(i);
      long version = cur.view.version() + 1;
      RecordedEvent event =
          new RecordedEvent(positions[i], cur.view.id(), version, ctx.now, claimed);
      events.add(event);
      WorkOrder after = cur.view.apply(claimed, version, ctx.now);
      Row row = Row.of(after, cur.row.seq());
      rows.add(row);
      versions.add(cur.row.version());
      claims.add(new Claim(row.toView(after.spec()), event));
    }
    insertEvents(c, events, i -> encoded);
    updateRows(c, rows, versions);
    return Collections.unmodifiableList(claims);
  }

  /**
   * Locks the picked rows that are still PENDING at the version read, skipping rows another writer
   * holds; returns those, in pick order.
   */
  private List<Current> lockUnchanged(Connection c, List<Current> picks) throws SQLException {
    if (picks.isEmpty()) {
      return List.of();
    }
    Map<String, Long> locked = new HashMap<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT p.id, p.version FROM "
                + d.workOrders
                + " p WHERE p.state = 'PENDING' AND p.id IN ("
                + marks(picks.size())
                + ")"
                + d.skipLocked())) {
      for (int i = 0; i < picks.size(); i++) {
        ps.setString(i + 1, picks.get(i).row.id());
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          locked.put(rs.getString(1), rs.getLong(2));
        }
      }
    }
    List<Current> out = new ArrayList<>(picks.size());
    for (Current cur : picks) {
      Long version = locked.get(cur.row.id());
      if (version != null && version == cur.row.version()) {
        out.add(cur);
      }
    }
    return out;
  }

  @Override
  public boolean renewLease(WorkOrderId workOrderId, String owner, int attempt, Instant expiresAt) {
    Objects.requireNonNull(workOrderId, "workOrderId");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(expiresAt, "expiresAt");
    ensureOpen();
    ensureWritable("renew lease");
    return writer.write(
        "renew lease",
        (c, ctx) -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE "
                      + d.workOrders
                      + " SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND attempt = ?"
                      + " AND state IN ('PREPARING', 'RUNNING')")) {
            ps.setLong(1, Row.micros(expiresAt));
            ps.setString(2, workOrderId.value());
            ps.setString(3, owner);
            ps.setInt(4, attempt);
            return ps.executeUpdate() == 1;
          }
        });
  }

  // ---------------------------------------------------------------------------------------------
  // reads

  @Override
  public List<RecordedEvent> readStream(WorkOrderId workOrderId) {
    Objects.requireNonNull(workOrderId, "workOrderId");
    ensureOpen();
    return reader.read(
        "read stream",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT "
                      + EVENT_COLUMNS
                      + " FROM "
                      + d.events
                      + " WHERE work_order_id = ? ORDER BY version")) {
            ps.setString(1, workOrderId.value());
            // One work order's history: an unreadable event fails this read (after quarantining
            // it), since a history with a hole would be taken for the whole story.
            return Collections.unmodifiableList(scan(ps, false).events);
          }
        });
  }

  @Override
  public LogPage readLog(long afterPosition, int limit) {
    requireLimit(limit);
    ensureOpen();
    return reader.read(
        "read log",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT "
                      + EVENT_COLUMNS
                      + " FROM "
                      + d.events
                      + " WHERE position > ? ORDER BY position LIMIT ?")) {
            ps.setLong(1, afterPosition);
            ps.setInt(2, limit);
            Scan scan = scan(ps, true);
            // Continue after the last row read, readable or not, so a reader passes a skipped one.
            return new LogPage(scan.events, scan.rows == 0 ? afterPosition : scan.lastPosition);
          }
        });
  }

  @Override
  public EventPage queryEvents(EventQuery query) {
    Objects.requireNonNull(query, "query");
    ensureOpen();
    EventQuerySql.Sql sql = EventQuerySql.of(d, query);
    return reader.read(
        "query events",
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql.sql())) {
            bind(ps, sql.params());
            // Rows, not events, make the page: unreadable events are skipped (quarantined), so a
            // page may hold fewer events than the limit, and its cursor continues after its last
            // row, readable or not.
            Scan scan = scan(ps, true, query.limit());
            if (scan.rows <= query.limit()) {
              return new EventPage(scan.events, Optional.empty());
            }
            return new EventPage(
                scan.events,
                Optional.of(
                    EventQuery.cursorOf(Row.instant(scan.lastRecordedAt), scan.lastPosition)));
          }
        });
  }

  /** Events read by a statement, and where the rows read ended. */
  private static final class Scan {
    final List<RecordedEvent> events = new ArrayList<>();
    int rows;
    long lastPosition;
    long lastRecordedAt;
  }

  private Scan scan(PreparedStatement ps, boolean skipUnreadable) throws SQLException {
    return scan(ps, skipUnreadable, Integer.MAX_VALUE);
  }

  /**
   * Reads the events of a statement selecting {@link #EVENT_COLUMNS}: of its first {@code rows}
   * rows, with the row after them counted but not kept. An unreadable event is quarantined, then
   * skipped or thrown.
   */
  private Scan scan(PreparedStatement ps, boolean skipUnreadable, int rows) throws SQLException {
    Scan scan = new Scan();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        scan.rows++;
        if (scan.rows > rows) {
          continue;
        }
        scan.lastPosition = rs.getLong(1);
        scan.lastRecordedAt = rs.getLong(7);
        try {
          scan.events.add(recorded(rs));
        } catch (UnreadableRowException e) {
          quarantine.add(e);
          if (!skipUnreadable) {
            throw e;
          }
        }
      }
    }
    return scan;
  }

  private RecordedEvent recorded(ResultSet rs) throws SQLException {
    long position = rs.getLong(1);
    String id = rs.getString(2);
    WorkOrderEvent event = decode(position, id, rs.getString(4), rs.getInt(5), rs.getString(6));
    return new RecordedEvent(
        position, WorkOrderId.of(id), rs.getLong(3), Row.instant(rs.getLong(7)), event);
  }

  @Override
  public Optional<WorkOrderView> find(WorkOrderId workOrderId) {
    Objects.requireNonNull(workOrderId, "workOrderId");
    ensureOpen();
    return reader.read(
        "find",
        c -> {
          try (PreparedStatement ps = c.prepareStatement(viewSelect + " WHERE p.id = ?")) {
            ps.setString(1, workOrderId.value());
            List<WorkOrderView> views = views(ps, false);
            return views.isEmpty() ? Optional.empty() : Optional.of(views.get(0));
          }
        });
  }

  /** Views of a statement; an unreadable work order is quarantined, then skipped or thrown. */
  private List<WorkOrderView> views(PreparedStatement ps, boolean skipUnreadable)
      throws SQLException {
    List<WorkOrderView> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        try {
          out.add(current(rs).view);
        } catch (UnreadableRowException e) {
          quarantine.add(e);
          if (!skipUnreadable) {
            throw e;
          }
        }
      }
    }
    return out;
  }

  @Override
  public Page<WorkOrderView> query(WorkOrderQuery query) {
    Objects.requireNonNull(query, "query");
    ensureOpen();
    List<Object> params = new ArrayList<>();
    boolean newestFirst = query.order() == WorkOrderQuery.Order.NEWEST_FIRST;
    StringBuilder sql = new StringBuilder(viewSelect);
    if (!newestFirst) {
      sql.append(" WHERE p.seq > ?");
      params.add(query.after());
    } else if (query.after() > 0) {
      sql.append(" WHERE p.seq < ?");
      params.add(query.after());
    } else {
      sql.append(" WHERE p.seq > ?");
      params.add(0L);
    }
    query
        .queue()
        .ifPresent(
            q -> {
              sql.append(" AND p.queue = ?");
              params.add(q);
            });
    if (!query.states().isEmpty() && query.states().size() < WorkOrderState.values().length) {
      sql.append(" AND p.state IN (").append(marks(query.states().size())).append(")");
      query.states().forEach(s -> params.add(s.name()));
    }
    query
        .submittedFrom()
        .ifPresent(
            t -> {
              sql.append(" AND p.submitted_at >= ?");
              params.add(Row.ceilMicros(t));
            });
    query
        .submittedBefore()
        .ifPresent(
            t -> {
              sql.append(" AND p.submitted_at < ?");
              params.add(Row.ceilMicros(t));
            });
    sql.append(newestFirst ? " ORDER BY p.seq DESC LIMIT ?" : " ORDER BY p.seq LIMIT ?");
    params.add(query.limit() + 1);
    return reader.read(
        "query",
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            bind(ps, params);
            // Rows, not views, make the page: an unreadable work order is quarantined and
            // skipped, so a page may hold fewer views than the limit.
            List<WorkOrderView> items = new ArrayList<>();
            int rows = 0;
            long lastSeq = 0;
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                rows++;
                if (rows > query.limit()) {
                  continue;
                }
                Row row = Row.read(rs, 1);
                lastSeq = row.seq();
                try {
                  items.add(current(row, rs).view);
                } catch (UnreadableRowException e) {
                  quarantine.add(e);
                }
              }
            }
            return new Page<>(
                items, rows > query.limit() ? OptionalLong.of(lastSeq) : OptionalLong.empty());
          }
        });
  }

  @Override
  public Map<String, Map<WorkOrderState, Long>> counts() {
    ensureOpen();
    return reader.read(
        "counts",
        c -> {
          Map<String, EnumMap<WorkOrderState, Long>> counts = new TreeMap<>();
          try (Statement st = c.createStatement();
              ResultSet rs =
                  st.executeQuery(
                      "SELECT queue, state, COUNT(*) FROM "
                          + d.workOrders
                          + " GROUP BY queue, state")) {
            while (rs.next()) {
              EnumMap<WorkOrderState, Long> byState =
                  counts.computeIfAbsent(
                      rs.getString(1),
                      q -> {
                        EnumMap<WorkOrderState, Long> m = new EnumMap<>(WorkOrderState.class);
                        for (WorkOrderState s : WorkOrderState.values()) {
                          m.put(s, 0L);
                        }
                        return m;
                      });
              byState.put(WorkOrderState.valueOf(rs.getString(2)), rs.getLong(3));
            }
          }
          Map<String, Map<WorkOrderState, Long>> out = new TreeMap<>();
          counts.forEach((q, m) -> out.put(q, Collections.unmodifiableMap(m)));
          return Collections.unmodifiableMap(out);
        });
  }

  @Override
  public Optional<WorkOrderId> findByIdempotencyKey(String idempotencyKey) {
    Objects.requireNonNull(idempotencyKey, "idempotencyKey");
    ensureOpen();
    return reader.read(
        "find by idempotency key",
        c ->
            Optional.ofNullable(
                    SqlDialect.queryString(
                        c,
                        "SELECT id FROM " + d.workOrders + " WHERE idempotency_key = ?",
                        idempotencyKey))
                .map(WorkOrderId::of));
  }

  @Override
  public List<WorkOrderView> expiredLeases(Instant now, int limit) {
    return dueBy(
        "expired leases",
        "p.state IN ('PREPARING', 'RUNNING') AND p.lease_expires_at <= ?"
            + " ORDER BY p.lease_expires_at, p.seq",
        now,
        limit);
  }

  @Override
  public List<WorkOrderView> dueRetries(Instant now, int limit) {
    return dueBy(
        "due retries",
        "p.state = 'WAITING_RETRY' AND p.next_attempt_at <= ? ORDER BY p.next_attempt_at, p.seq",
        now,
        limit);
  }

  private List<WorkOrderView> dueBy(String what, String where, Instant now, int limit) {
    Objects.requireNonNull(now, "now");
    requireLimit(limit);
    ensureOpen();
    return reader.read(
        what,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(viewSelect + " WHERE " + where + " LIMIT ?")) {
            ps.setLong(1, Row.micros(now));
            ps.setInt(2, limit);
            return Collections.unmodifiableList(views(ps, true));
          }
        });
  }

  @Override
  public Optional<Instant> nextRetryAt() {
    ensureOpen();
    return reader.read(
        "next retry time",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT next_attempt_at FROM "
                      + d.workOrders
                      + " WHERE state = 'WAITING_RETRY' ORDER BY next_attempt_at LIMIT 1")) {
            return firstInstant(ps);
          }
        });
  }

  @Override
  public Optional<Instant> nextAvailableAt(String queue, Instant now) {
    Objects.requireNonNull(queue, "queue");
    Objects.requireNonNull(now, "now");
    ensureOpen();
    return reader.read(
        "next available time",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT available_at FROM "
                      + d.workOrders
                      + " WHERE queue = ? AND state = 'PENDING' AND available_at > ?"
                      + " ORDER BY available_at LIMIT 1")) {
            ps.setString(1, queue);
            ps.setLong(2, Row.micros(now));
            return firstInstant(ps);
          }
        });
  }

  private static Optional<Instant> firstInstant(PreparedStatement ps) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? Optional.of(Row.instant(rs.getLong(1))) : Optional.empty();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // retention

  @Override
  public void recordNode(NodeStatus node) {
    Objects.requireNonNull(node, "node");
    ensureOpen();
    ensureWritable("record a node");
    writer.write(
        "record node",
        (c, ctx) -> {
          // Delete and insert rather than a dialect's upsert: one row per node, written by that
          // node only, every few seconds; both dialects run this as one transaction.
          try (PreparedStatement del =
              c.prepareStatement("DELETE FROM " + d.nodes + " WHERE id = ?")) {
            del.setString(1, node.id());
            del.executeUpdate();
          }
          try (PreparedStatement ins =
              c.prepareStatement(
                  "INSERT INTO "
                      + d.nodes
                      + " (id, slots, memory_mb, slots_in_use, memory_mb_in_use, pressure, version,"
                      + " started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ins.setString(1, node.id());
            ins.setInt(2, node.slots());
            ins.setLong(3, node.memoryMb());
            ins.setInt(4, node.slotsInUse());
            ins.setLong(5, node.memoryMbInUse());
            ins.setString(6, node.pressure());
            ins.setString(7, node.version());
            ins.setLong(8, Row.micros(node.startedAt()));
            ins.setLong(9, Row.micros(node.lastHeartbeat()));
            ins.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public List<NodeStatus> nodes() {
    ensureOpen();
    return reader.read(
        "nodes",
        c -> {
          List<NodeStatus> out = new ArrayList<>();
          try (Statement st = c.createStatement();
              ResultSet rs =
                  st.executeQuery(
                      "SELECT id, slots, memory_mb, slots_in_use, memory_mb_in_use, pressure,"
                          + " version, started_at, heartbeat_at FROM "
                          + d.nodes
                          + " ORDER BY id")) {
            while (rs.next()) {
              try {
                out.add(
                    new NodeStatus(
                        rs.getString(1),
                        rs.getInt(2),
                        rs.getLong(3),
                        rs.getInt(4),
                        rs.getLong(5),
                        rs.getString(6),
                        rs.getString(7),
                        Row.instant(rs.getLong(8)),
                        Row.instant(rs.getLong(9))));
              } catch (RuntimeException bad) {
                // A row no node of this version wrote: skipped, so one bad row never hides the
                // others (nor fails the reader).
                LOG.warn(
                    "skipping an unreadable row of {}: {}",
                    d.nodes,
                    bad.getClass().getSimpleName());
              }
            }
          }
          return List.copyOf(out);
        });
  }

  @Override
  public int removeNodes(String nodeId, Instant silentSince) {
    ensureOpen();
    ensureWritable("remove nodes");
    if (nodeId == null && silentSince == null) {
      return 0;
    }
    return writer.write(
        "remove nodes",
        (c, ctx) -> {
          int removed = 0;
          if (nodeId != null) {
            try (PreparedStatement ps =
                c.prepareStatement("DELETE FROM " + d.nodes + " WHERE id = ?")) {
              ps.setString(1, nodeId);
              removed += ps.executeUpdate();
            }
          }
          if (silentSince != null) {
            try (PreparedStatement ps =
                c.prepareStatement("DELETE FROM " + d.nodes + " WHERE heartbeat_at < ?")) {
              ps.setLong(1, Row.micros(silentSince));
              removed += ps.executeUpdate();
            }
          }
          return removed;
        });
  }

  @Override
  public int deleteTerminalBefore(Instant cutoff, int limit) {
    Objects.requireNonNull(cutoff, "cutoff");
    requireLimit(limit);
    ensureOpen();
    ensureWritable("delete terminal work orders");
    return writer.write(
        "delete terminal work orders",
        (c, ctx) -> {
          List<String> ids = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT p.id FROM "
                      + d.workOrders
                      + " p WHERE p.state IN ('COMPLETED', 'FAILED', 'CANCELLED')"
                      + " AND p.updated_at < ? ORDER BY p.updated_at, p.seq LIMIT ?"
                      + d.skipLocked())) {
            ps.setLong(1, Row.ceilMicros(cutoff));
            ps.setInt(2, limit);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                ids.add(rs.getString(1));
              }
            }
          }
          deleteStreams(c, ids);
          return ids.size();
        });
  }

  private void deleteStreams(Connection c, List<String> ids) throws SQLException {
    for (List<String> chunk : chunks(ids)) {
      for (String sql :
          List.of(
              "DELETE FROM " + d.events + " WHERE work_order_id IN (",
              "DELETE FROM " + d.workOrders + " WHERE id IN (")) {
        try (PreparedStatement ps = c.prepareStatement(sql + marks(chunk.size()) + ")")) {
          for (int i = 0; i < chunk.size(); i++) {
            ps.setString(i + 1, chunk.get(i));
          }
          ps.executeUpdate();
        }
      }
    }
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
    Objects.requireNonNull(mode, "mode");
    ensureOpen();
    ensureWritable(mode == RebuildMode.REPAIR ? "rebuild projection (repair)" : null);
    RebuildReport seen = snapshots.read("verify projection", c -> verifyReading(c));
    if (mode == RebuildMode.VERIFY || seen.consistent()) {
      return seen;
    }
    List<String> ids =
        seen.mismatches().stream().map(m -> m.workOrderId().value()).distinct().toList();
    RebuildReport fixed =
        writer.write("rebuild projection", (c, ctx) -> rebuild(c, RebuildMode.REPAIR, ids));
    return new RebuildReport(
        seen.workOrders(), seen.events(), fixed.mismatches(), fixed.repaired());
  }

  /**
   * Folds the log into the rows it should give and compares them with the projection; for {@code
   * REPAIR} rewrites what differs. {@code only} null checks every work order, else those ids.
   */
  private RebuildReport rebuild(Connection c, RebuildMode mode, List<String> only)
      throws SQLException {
    if (d instanceof SqlDialect.Postgres) {
      try (Statement st = c.createStatement()) {
        st.execute(
            mode == RebuildMode.REPAIR
                ? "LOCK TABLE " + d.events + ", " + d.workOrders + " IN SHARE ROW EXCLUSIVE MODE"
                : "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        if (mode == RebuildMode.VERIFY && only == null) {
          // A full check folds the whole log between two statements, which may take longer than
          // the session's idle_in_transaction_session_timeout; it holds no row lock, so this
          // transaction alone goes without it. A repair folds one chunk at a time and keeps it.
          st.execute("SET LOCAL " + PostgresSessions.IDLE_IN_TRANSACTION + " = 0");
        }
      }
    }
    List<ProjectionMismatch> mismatches = new ArrayList<>();
    List<Row> rewrite = new ArrayList<>();
    List<String> remove = new ArrayList<>();
    long[] counts = new long[2];
    Map<String, Row> expected = new LinkedHashMap<>();
    String eventSelect = "SELECT " + EVENT_COLUMNS + " FROM " + d.events;
    String order = " ORDER BY work_order_id, version";
    String orphanSelect =
        "SELECT p.id FROM "
            + d.workOrders
            + " p WHERE NOT EXISTS (SELECT 1 FROM "
            + d.events
            + " e WHERE e.work_order_id = p.id)";
    for (List<String> chunk : only == null ? List.of(List.<String>of()) : chunks(only)) {
      String where = only == null ? "" : " WHERE work_order_id IN (" + marks(chunk.size()) + ")";
      try (PreparedStatement ps = c.prepareStatement(eventSelect + where + order)) {
        for (int i = 0; i < chunk.size(); i++) {
          ps.setString(i + 1, chunk.get(i));
        }
        ps.setFetchSize(1000);
        try (ResultSet rs = ps.executeQuery()) {
          foldAll(c, rs, expected, mismatches, rewrite, counts);
        }
      }
      compare(c, expected, mismatches, rewrite);
      expected.clear();
      String orphans = only == null ? "" : " AND p.id IN (" + marks(chunk.size()) + ")";
      try (PreparedStatement ps = c.prepareStatement(orphanSelect + orphans)) {
        for (int i = 0; i < chunk.size(); i++) {
          ps.setString(i + 1, chunk.get(i));
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String id = rs.getString(1);
            mismatches.add(new ProjectionMismatch(WorkOrderId.of(id), "row without events"));
            remove.add(id);
          }
        }
      }
    }
    long workOrders = counts[0];
    long events = counts[1];
    boolean repair = mode == RebuildMode.REPAIR && (!rewrite.isEmpty() || !remove.isEmpty());
    if (repair) {
      List<String> replaced = new ArrayList<>(remove);
      rewrite.forEach(r -> replaced.add(r.id()));
      for (List<String> chunk : chunks(replaced)) {
        try (PreparedStatement ps =
            c.prepareStatement(
                "DELETE FROM " + d.workOrders + " WHERE id IN (" + marks(chunk.size()) + ")")) {
          for (int i = 0; i < chunk.size(); i++) {
            ps.setString(i + 1, chunk.get(i));
          }
          ps.executeUpdate();
        }
      }
      insertRows(c, rewrite);
      quarantine.released(replaced);
    }
    return new RebuildReport(workOrders, events, mismatches, repair);
  }

  /**
   * Folds the events of {@code rs}, ordered by work order and version, stream by stream, comparing
   * a chunk of rows at a time; counts work orders and events into {@code counts}.
   */
  private void foldAll(
      Connection c,
      ResultSet rs,
      Map<String, Row> expected,
      List<ProjectionMismatch> mismatches,
      List<Row> rewrite,
      long[] counts)
      throws SQLException {
    List<RecordedEvent> stream = new ArrayList<>();
    String streamId = null;
    boolean unreadable = false; // the stream has an event this code cannot read
    while (true) {
      boolean more = rs.next();
      String id = more ? rs.getString(2) : null;
      if (streamId != null && !streamId.equals(id)) {
        counts[0]++;
        if (!unreadable) {
          fold(stream, expected, mismatches);
        }
        stream.clear();
        unreadable = false;
        if (expected.size() >= CHUNK) {
          compare(c, expected, mismatches, rewrite);
          expected.clear();
        }
      }
      if (!more) {
        return;
      }
      streamId = id;
      counts[1]++;
      if (unreadable) {
        continue;
      }
      try {
        stream.add(recorded(rs));
      } catch (UnreadableRowException e) {
        // A finding, not a failed verification: the rest of the store is still checked. The
        // stream is neither folded nor repaired.
        quarantine.add(e);
        unreadable = true;
        mismatches.add(
            new ProjectionMismatch(
                WorkOrderId.of(id),
                "event at position "
                    + e.position()
                    + " cannot be read (quarantined, not repairable; see docs/operations.md): "
                    + e.getMessage()));
      }
    }
  }

  /** Folds one stream into the row it should have; a stream that does not fold is reported. */
  private static void fold(
      List<RecordedEvent> stream, Map<String, Row> expected, List<ProjectionMismatch> mismatches) {
    WorkOrderId id = stream.get(0).workOrderId();
    try {
      WorkOrder w = WorkOrder.fold(stream);
      expected.put(id.value(), Row.of(w, stream.get(0).position()));
    } catch (InvalidTransitionException | IllegalArgumentException | ClassCastException e) {
      mismatches.add(
          new ProjectionMismatch(id, "log cannot be folded (not repairable): " + e.getMessage()));
    }
  }

  private void compare(
      Connection c,
      Map<String, Row> expected,
      List<ProjectionMismatch> mismatches,
      List<Row> rewrite)
      throws SQLException {
    if (expected.isEmpty()) {
      return;
    }
    Map<String, Row> actual = new HashMap<>();
    List<String> ids = new ArrayList<>(expected.keySet());
    for (List<String> chunk : chunks(ids)) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT "
                  + String.join(", ", Row.COLUMNS)
                  + " FROM "
                  + d.workOrders
                  + " WHERE id IN ("
                  + marks(chunk.size())
                  + ")")) {
        for (int i = 0; i < chunk.size(); i++) {
          ps.setString(i + 1, chunk.get(i));
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Row row = Row.read(rs, 1);
            actual.put(row.id(), row);
          }
        }
      }
    }
    for (Map.Entry<String, Row> e : expected.entrySet()) {
      Row want = e.getValue();
      Row have = actual.get(e.getKey());
      if (have == null) {
        mismatches.add(new ProjectionMismatch(WorkOrderId.of(e.getKey()), "row missing"));
        rewrite.add(want);
        continue;
      }
      List<String> diffs = have.differencesFrom(want);
      if (!diffs.isEmpty()) {
        mismatches.add(
            new ProjectionMismatch(WorkOrderId.of(e.getKey()), String.join("; ", diffs)));
        rewrite.add(have.repairedFrom(want));
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // lifecycle

  @Override
  public long quarantinedRows() {
    return quarantine.count();
  }

  @Override
  public Optional<Path> localFile() {
    return d instanceof SqlDialect.Sqlite s
        ? Optional.of(Path.of(s.file).toAbsolutePath().normalize())
        : Optional.empty();
  }

  @Override
  public Subscription subscribe(WorkAvailableListener listener) {
    Objects.requireNonNull(listener, "listener");
    ensureOpen();
    Subscription s = listeners.add(listener);
    startNotifications.run();
    return s;
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    stopNotifications.run();
    writer.close();
    reader.close();
  }

  /**
   * A projection check in one read transaction: on SQLite a deferred {@code BEGIN} that only
   * selects, which in WAL mode reads one snapshot and never takes the write lock.
   */
  private RebuildReport verifyReading(Connection c) throws SQLException {
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      return rebuild(c, RebuildMode.VERIFY, null);
    } finally {
      c.rollback();
      c.setAutoCommit(auto);
    }
  }

  /**
   * Refuses a write of a store opened {@link OpenMode#READ_ONLY}; {@code what} null lets it pass.
   */
  private void ensureWritable(String what) {
    if (readOnly && what != null) {
      throw ReadOnlyWriter.refusal(d, what);
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("the work-order store on the " + d.describe() + " is closed");
    }
  }

  private static void requireLimit(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, got " + limit);
    }
  }

  /** Code-point order: the byte order of UTF-8, which PostgreSQL's collation "C" uses. */
  static int compareCodePoints(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  private static String marks(int n) {
    return String.join(", ", Collections.nCopies(n, "?"));
  }

  private static <T> List<List<T>> chunks(List<T> all) {
    List<List<T>> out = new ArrayList<>();
    for (int i = 0; i < all.size(); i += CHUNK) {
      out.add(all.subList(i, Math.min(all.size(), i + CHUNK)));
    }
    return out;
  }

  private static void bind(PreparedStatement ps, List<Object> params) throws SQLException {
    for (int i = 0; i < params.size(); i++) {
      Object p = params.get(i);
      if (p instanceof String s) {
        ps.setString(i + 1, s);
      } else if (p instanceof Integer n) {
        ps.setInt(i + 1, n);
      } else {
        ps.setLong(i + 1, (Long) p);
      }
    }
  }

  @Override
  public String toString() {
    return "JdbcWorkOrderStore[" + d.describe() + "]";
  }
}
