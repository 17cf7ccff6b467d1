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
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
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
import java.util.Properties;
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
      checkSqliteFile(path);
    } else {
      checkExistingSqliteFile(path, mode, options.tablePrefix());
    }
    warnIfShared(path);
    SqlDialect.Sqlite dialect = new SqlDialect.Sqlite(path.toString(), options.tablePrefix());
    List<Connection> opened = new ArrayList<>();
    try {
      if (mode != OpenMode.CREATE_IF_MISSING) {
        // A read-only look first: a file that holds no Workgate store is refused before any
        // connection that could write, or create a -wal or -shm beside it, is opened.
        try (Connection probe = sqliteConnection(path, options, SqliteAccess.PROBE)) {
          checkExisting(probe, dialect);
        }
      }
      if (mode == OpenMode.READ_ONLY) {
        SqliteAccess access =
            cannotChange(path) ? SqliteAccess.READ_IMMUTABLE : SqliteAccess.READ_ONLY;
        List<Connection> reads = new ArrayList<>();
        for (int i = 0; i < options.readConnections(); i++) {
          Connection r = sqliteConnection(path, options, access);
          opened.add(r);
          reads.add(StatementCache.wrap(r, 32));
        }
        return new JdbcWorkOrderStore(
            dialect,
            true,
            new ReadOnlyWriter(dialect),
            new Readers.Sqlite(reads, dialect),
            new Readers.Opening(() -> sqliteConnection(path, options, access), dialect),
            options.specCacheBytes(),
            new ListenerRegistry(),
            () -> {},
            () -> {});
      }
      Connection w =
          sqliteConnection(
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
            ensureSchema(w, dialect);
            st.execute("COMMIT");
          } catch (SQLException | RuntimeException e) {
            st.execute("ROLLBACK");
            throw e;
          }
        }
      }
      List<Connection> reads = new ArrayList<>();
      for (int i = 0; i < options.readConnections(); i++) {
        Connection r = sqliteConnection(path, options, SqliteAccess.READ);
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
          new Readers.Opening(() -> sqliteConnection(path, options, SqliteAccess.READ), dialect),
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

  /** The first 16 bytes of every SQLite database file. */
  private static final byte[] SQLITE_HEADER =
      "SQLite format 3\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /**
   * What {@link OpenMode#EXISTING} and {@link OpenMode#READ_ONLY} need before SQLite opens the
   * file: it is there, it is a SQLite database (an empty file is not one), and for {@code EXISTING}
   * it may be written. Reads the file's first bytes only.
   */
  private static void checkExistingSqliteFile(Path path, OpenMode mode, String prefix) {
    String notAStore = " Nothing was changed: OpenMode." + mode + " never creates a store.";
    if (!Files.exists(path)) {
      throw new StoreException(
          "no SQLite file at " + path + ", so no Workgate store there." + notAStore);
    }
    if (!Files.isRegularFile(path)) {
      throw new StoreException("the SQLite path " + path + " exists but is not a regular file");
    }
    byte[] head = new byte[SQLITE_HEADER.length];
    int n;
    try (InputStream in = Files.newInputStream(path)) {
      n = in.readNBytes(head, 0, head.length);
    } catch (IOException e) {
      throw new StoreException("cannot read the SQLite file " + path + ": " + e, e);
    }
    if (n == 0) {
      throw new StoreException(
          "the file "
              + path
              + " is empty (0 bytes): it is not a Workgate store (table prefix '"
              + prefix
              + "')."
              + notAStore);
    }
    if (n < head.length || !Arrays.equals(head, SQLITE_HEADER)) {
      throw new StoreException(
          "the file "
              + path
              + " is not a SQLite database, so not a Workgate store (table prefix '"
              + prefix
              + "')."
              + notAStore);
    }
    if (mode == OpenMode.EXISTING) {
      if (!Files.isWritable(path) || posixReadOnly(path)) {
        throw new StoreException(
            "the SQLite file "
                + path
                + " is read-only; OpenMode.EXISTING writes to it. Open it OpenMode.READ_ONLY to"
                + " read it, or make it writable for this process");
      }
      Path dir = path.getParent();
      if (!Files.isWritable(dir) || posixReadOnly(dir)) {
        throw new StoreException(
            "the directory "
                + dir
                + " is read-only; OpenMode.EXISTING needs it writable for SQLite's write-ahead"
                + " log beside "
                + path.getFileName()
                + ". Open it OpenMode.READ_ONLY to read it");
      }
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
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(options, "options");
    Path path = file.toAbsolutePath().normalize();
    Path to = target.toAbsolutePath().normalize();
    if (Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
      throw new StoreException("refusing to overwrite " + to + ": give a new file");
    }
    SqliteOptions readOnly =
        SqliteOptions.builder()
            .tablePrefix(options.tablePrefix())
            .busyTimeout(options.busyTimeout())
            .readConnections(1)
            .openMode(OpenMode.READ_ONLY)
            .build();
    // Opening read-only refuses a file that holds no Workgate store, and leaves it as it was.
    openSqlite(path, readOnly).close();
    SqliteAccess access = cannotChange(path) ? SqliteAccess.READ_IMMUTABLE : SqliteAccess.READ_ONLY;
    try {
      // The copy holds every work order: created private and empty, which VACUUM INTO accepts.
      if (!createPrivateFile(to)) {
        throw new StoreException("refusing to overwrite " + to + ": give a new file");
      }
    } catch (IOException e) {
      throw new StoreException("cannot create the backup file " + to + ": " + e, e);
    }
    boolean done = false;
    try (Connection c = sqliteConnection(path, readOnly, access)) {
      // query_only would refuse VACUUM INTO, which writes the new file only: the source stays
      // opened read-only (SQLITE_OPEN_READONLY), so nothing can write to it.
      try (Statement st = c.createStatement()) {
        st.execute("PRAGMA query_only = OFF");
      }
      try (PreparedStatement ps = c.prepareStatement("VACUUM INTO ?")) {
        ps.setString(1, to.toString());
        ps.execute();
      }
      done = true;
    } catch (SQLException e) {
      throw new StoreException(
          "backup of " + path + " to " + to + " failed: " + SqlErrors.describe(e), e);
    } finally {
      if (!done) {
        // The file was created above for this backup: a failed one leaves nothing behind.
        try {
          Files.deleteIfExists(to);
        } catch (IOException e) {
          LOG.warn("could not remove the unfinished backup {}: {}", to, e.toString());
        }
      }
    }
  }

  /**
   * True if nothing can change the file while it is read: no write-ahead log lies beside it (so the
   * file holds every committed transaction), and the file or its directory is read-only, so no
   * writer can open it or create the log a WAL-mode writer needs.
   */
  private static boolean cannotChange(Path path) {
    Path dir = path.getParent();
    if (Files.exists(sibling(path, "-wal")) || Files.exists(sibling(path, "-shm"))) {
      return false;
    }
    return !Files.isWritable(path)
        || posixReadOnly(path)
        || !Files.isWritable(dir)
        || posixReadOnly(dir);
  }

  private static Path sibling(Path path, String suffix) {
    return path.resolveSibling(path.getFileName() + suffix);
  }

  /** Owner only: the data directory the store creates. */
  private static final Set<PosixFilePermission> PRIVATE_DIRECTORY =
      PosixFilePermissions.fromString("rwx------");

  /** Owner only: the database file and backups the store creates. */
  private static final Set<PosixFilePermission> PRIVATE_FILE =
      PosixFilePermissions.fromString("rw-------");

  private static boolean posix(Path path) {
    return path.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  /** The attributes of a file or directory created private; none on a non-POSIX file system. */
  private static FileAttribute<?>[] privately(Path path, Set<PosixFilePermission> permissions) {
    return posix(path)
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(permissions)}
        : new FileAttribute<?>[0];
  }

  /**
   * Creates a file that does not exist yet, private from its first moment (the permissions are
   * given to the system call that creates it, so there is no window in which others may open it).
   *
   * @return false if it existed already
   */
  private static boolean createPrivateFile(Path path) throws IOException {
    try {
      Files.createFile(path, privately(path, PRIVATE_FILE));
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    }
  }

  /**
   * Logs one warning when an existing database file may be read by its group or by others: the
   * store does not change permissions it did not set, but the log holds payloads and results.
   */
  private static void warnIfShared(Path path) {
    if (!posix(path)) {
      return;
    }
    Set<PosixFilePermission> perms;
    try {
      perms = Files.getPosixFilePermissions(path);
    } catch (IOException | UnsupportedOperationException e) {
      return;
    }
    if (perms.contains(PosixFilePermission.GROUP_READ)
        || perms.contains(PosixFilePermission.OTHERS_READ)) {
      LOG.warn(
          "the SQLite file {} has mode {}: its group or other users can read the work orders it"
              + " holds (payloads, results, errors), and SQLite gives its -wal, -shm and -journal"
              + " files the same mode. The store leaves it as it is; make it private with: chmod"
              + " 600 {}",
          path,
          PosixFilePermissions.toString(perms),
          path);
    }
  }

  private static void checkSqliteFile(Path path) {
    Path dir = path.getParent();
    try {
      if (!Files.isDirectory(dir)) {
        // Only the directories created here are made private; an existing one is left as it is.
        Files.createDirectories(dir, privately(dir, PRIVATE_DIRECTORY));
      }
    } catch (IOException e) {
      throw new StoreException(
          "cannot create the directory " + dir + " for the SQLite file " + path + ": " + e, e);
    }
    if (Files.exists(path)) {
      if (!Files.isRegularFile(path)) {
        throw new StoreException("the SQLite path " + path + " exists but is not a regular file");
      }
      if (!Files.isWritable(path) || posixReadOnly(path)) {
        throw new StoreException(
            "the SQLite file "
                + path
                + " is read-only; the store must write to it. Make it writable for this process,"
                + " or open a writable copy");
      }
    }
    if (!Files.isWritable(dir) || posixReadOnly(dir)) {
      throw new StoreException(
          "the directory "
              + dir
              + " is read-only; SQLite must create the file "
              + path.getFileName()
              + " and its write-ahead log there");
    }
    try {
      // Created empty and private before SQLite opens it: SQLite takes an empty file for a new
      // database, and gives the -wal, -shm and -journal files it creates the database file's mode.
      createPrivateFile(path);
    } catch (IOException e) {
      throw new StoreException("cannot create the SQLite file " + path + ": " + e, e);
    }
  }

  /**
   * True if POSIX permissions give no one write access (root ignores them, the operator's intent is
   * clear).
   */
  private static boolean posixReadOnly(Path path) {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(path);
      return !perms.contains(PosixFilePermission.OWNER_WRITE)
          && !perms.contains(PosixFilePermission.GROUP_WRITE)
          && !perms.contains(PosixFilePermission.OTHERS_WRITE);
    } catch (UnsupportedOperationException | IOException e) {
      // getPosixFilePermissions throws UnsupportedOperationException on a file system without
      // POSIX attributes: there Files.isWritable alone decides.
      return false;
    }
  }

  /** How a SQLite connection opens the file. */
  private enum SqliteAccess {
    /** Read and write, creating the file if absent. */
    WRITE,
    /** Read and write a file that must exist. */
    WRITE_EXISTING,
    /** Reads beside a writer of this store ({@code query_only}). */
    READ,
    /** Reads of a file opened read-only. */
    READ_ONLY,
    /** Reads of a file that nothing can change: no locks, no -wal or -shm. */
    READ_IMMUTABLE,
    /**
     * A first look at a file that may not be a Workgate store: read-only, and immutable unless a
     * write-ahead log beside it says a writer has it open, so that it creates nothing.
     */
    PROBE
  }

  /** sqlite-jdbc's open flags (SQLITE_OPEN_READONLY, _READWRITE, _URI). */
  private static final int OPEN_READONLY = 0x01;

  private static final int OPEN_READWRITE = 0x02;
  private static final int OPEN_URI = 0x40;

  private static Connection sqliteConnection(Path path, SqliteOptions o, SqliteAccess access)
      throws SQLException {
    String url;
    Properties props = new Properties();
    switch (access) {
      case WRITE, READ -> url = "jdbc:sqlite:" + path;
      case WRITE_EXISTING -> {
        url = "jdbc:sqlite:" + path.toUri();
        props.setProperty("open_mode", Integer.toString(OPEN_READWRITE | OPEN_URI));
      }
      default -> {
        boolean immutable =
            access == SqliteAccess.READ_IMMUTABLE
                || (access == SqliteAccess.PROBE && !Files.exists(sibling(path, "-wal")));
        url = "jdbc:sqlite:" + path.toUri() + (immutable ? "?immutable=1" : "?mode=ro");
        props.setProperty("open_mode", Integer.toString(OPEN_READONLY | OPEN_URI));
      }
    }
    Connection c;
    try {
      c = DriverManager.getConnection(url, props);
    } catch (SQLException e) {
      if ("08001".equals(e.getSQLState()) || e.getMessage().contains("No suitable driver")) {
        throw new StoreException(
            "no SQLite JDBC driver on the class path: add org.xerial:sqlite-jdbc to the"
                + " application's dependencies",
            e);
      }
      throw e;
    }
    try (Statement st = c.createStatement()) {
      st.execute("PRAGMA busy_timeout = " + o.busyTimeout().toMillis());
      if (access == SqliteAccess.WRITE
          || access == SqliteAccess.WRITE_EXISTING
          || access == SqliteAccess.READ) {
        st.execute("PRAGMA synchronous = " + o.durability().name());
      }
      if (access != SqliteAccess.WRITE && access != SqliteAccess.WRITE_EXISTING) {
        st.execute("PRAGMA query_only = ON");
      }
    } catch (SQLException e) {
      c.close();
      throw e;
    }
    return c;
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
      int version = inReadOnlyTransaction(c, () -> inspectPostgres(c, dialect, mode));
      if (mode == OpenMode.CREATE_IF_MISSING && version < SqlDialect.SCHEMA_VERSION) {
        createOrUpgradePostgres(c, dialect);
        inReadOnlyTransaction(
            c,
            () -> {
              requireTablePrivileges(c, dialect, true);
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

  /** A step of opening that runs SQL. */
  private interface SqlCall<T> {
    T call() throws SQLException;
  }

  /**
   * Runs a look at the database in a read-only transaction that is rolled back, and hands the
   * connection back in autocommit as it came; a failure while restoring never hides the look's own.
   */
  private static <T> T inReadOnlyTransaction(Connection c, SqlCall<T> call) throws SQLException {
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
  private static int inspectPostgres(Connection c, SqlDialect.Postgres d, OpenMode mode)
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
  private static void requireTablePrivileges(Connection c, SqlDialect.Postgres d, boolean write)
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
  private static void createOrUpgradePostgres(Connection c, SqlDialect.Postgres d)
      throws SQLException {
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
                + " (OpenMode.EXISTING would use version "
                + version
                + " as it is)";
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
  private static void ensureSchema(Connection c, SqlDialect d) throws SQLException {
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
      ps.setString(1, SCHEMA_VERSION_KEY);
      ps.setString(2, Integer.toString(SqlDialect.SCHEMA_VERSION));
      ps.addBatch();
      ps.setString(1, LAST_POSITION);
      ps.setString(2, "0");
      ps.addBatch();
      ps.executeBatch();
    }
  }

  /**
   * Checks, reading only, that the tables hold a Workgate store this version can use as it is, for
   * {@link OpenMode#EXISTING} and {@link OpenMode#READ_ONLY}: refuses what holds none.
   */
  private static void checkExisting(Connection c, SqlDialect d) throws SQLException {
    int version = checkSchema(c, d);
    if (version < 0) {
      throw notAStore(c, d);
    }
    if (version < SqlDialect.SCHEMA_VERSION) {
      throw new StoreException(
          "the "
              + d.describe()
              + " holds Workgate schema version "
              + version
              + "; this version of Workgate reads version "
              + SqlDialect.SCHEMA_VERSION
              + ". Start a node on it once (it upgrades the schema), then run this again;"
              + " nothing was changed");
    }
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
            c, "SELECT value FROM " + d.meta + " WHERE key = ?", SCHEMA_VERSION_KEY);
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
    checkColumns(c, d, d.events, EVENT_COLUMNS);
    // A table of an older version lacks the columns the upgrade adds; the upgrade checks again.
    checkColumns(
        c,
        d,
        d.workOrders,
        String.join(
            ", ",
            version >= 3 ? Row.COLUMNS : Row.COLUMNS.subList(0, Row.COLUMNS.indexOf("releases"))));
    if (version >= 3 && !d.tableExists(c, d.prefix + "nodes")) {
      throw damaged(
          d,
          "schema version " + version + " is recorded but table " + d.prefix + "nodes is missing");
    }
    if (SqlDialect.queryString(c, "SELECT value FROM " + d.meta + " WHERE key = ?", LAST_POSITION)
        == null) {
      throw damaged(d, "its " + metaName + " table has no " + LAST_POSITION);
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
      ps.setString(2, SCHEMA_VERSION_KEY);
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
