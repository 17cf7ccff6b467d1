package dev.workgate.core.internal.jdbc;

import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores.OpenMode;
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
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SQLite file as the store opens it: checks of the file and its directory before SQLite touches
 * them (existence, header, permissions), files created private, the connections in each access
 * mode, and the {@code VACUUM INTO} backup. Opening itself is {@link
 * JdbcWorkOrderStore#openSqlite}.
 *
 * <p>Static and stateless: safe from any thread.
 */
final class SqliteFiles {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcWorkOrderStore.class);

  private SqliteFiles() {}

  /** The first 16 bytes of every SQLite database file. */
  private static final byte[] SQLITE_HEADER =
      "SQLite format 3\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /**
   * What {@link OpenMode#EXISTING} and {@link OpenMode#READ_ONLY} need before SQLite opens the
   * file: it is there, it is a SQLite database (an empty file is not one), and for {@code EXISTING}
   * it may be written. Reads the file's first bytes only.
   */
  static void checkExistingSqliteFile(Path path, OpenMode mode, String prefix) {
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

  static void backup(Path file, Path target, SqliteOptions options) {
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
    JdbcWorkOrderStore.openSqlite(path, readOnly).close();
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
  static boolean cannotChange(Path path) {
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
  static void warnIfShared(Path path) {
    if (!posix(path)) {
      return;
    }
    Set<PosixFilePermission> perms;
    try {
      perms = Files.getPosixFilePermissions(path);
    } catch (IOException e) {
      return; // unreadable attributes: the open that follows reports what is wrong with the file
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

  static void checkSqliteFile(Path path) {
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
    if (!posix(path)) {
      return false; // no POSIX permissions: Files.isWritable alone decides
    }
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(path);
      return !perms.contains(PosixFilePermission.OWNER_WRITE)
          && !perms.contains(PosixFilePermission.GROUP_WRITE)
          && !perms.contains(PosixFilePermission.OTHERS_WRITE);
    } catch (IOException e) {
      return false; // unreadable attributes: Files.isWritable alone decides
    }
  }

  /** How a SQLite connection opens the file. */
  enum SqliteAccess {
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

  static Connection sqliteConnection(Path path, SqliteOptions o, SqliteAccess access)
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
}
