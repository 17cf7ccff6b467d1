package dev.workgate.core.store;

import dev.workgate.core.internal.jdbc.JdbcWorkOrderStore;
import dev.workgate.core.internal.memory.InMemoryWorkOrderStore;
import java.nio.file.Path;
import java.time.Clock;
import javax.sql.DataSource;

/** Factory for {@link WorkOrderStore} backends. */
public final class Stores {
  private Stores() {}

  /**
   * A store that lives in this process's heap: fast, and lost on exit. For tests and throw-away
   * queues. Records event times with the UTC system clock.
   *
   * @return a new, empty store
   */
  public static WorkOrderStore inMemory() {
    return new InMemoryWorkOrderStore(Clock.systemUTC());
  }

  /**
   * A store that lives in this process's heap and records event times with the given clock.
   *
   * @param clock the clock that stamps recorded events
   * @return a new, empty store
   */
  public static WorkOrderStore inMemory(Clock clock) {
    return new InMemoryWorkOrderStore(clock);
  }

  /**
   * The embedded, durable default: a SQLite file in WAL mode with {@code synchronous=FULL}, created
   * with its tables if absent. One writer thread commits concurrent writes in groups. Needs the
   * {@code org.xerial:sqlite-jdbc} driver on the class path.
   *
   * <p>On a POSIX file system what the store creates is private from its first moment, whatever the
   * umask: the directories it creates get mode 700, the database file 600 (created empty before
   * SQLite opens it; SQLite gives its {@code -wal}, {@code -shm} and {@code -journal} files the
   * same mode). An existing file or directory keeps its mode; when the database file is readable by
   * its group or others, each open logs one warning naming the file and its mode.
   *
   * @param file the database file; its directory is created if absent
   * @return the open store; close it to stop its writer and release the file
   * @throws StoreException if the file cannot be opened or written, or holds a schema this version
   *     does not know or a damaged one
   */
  public static WorkOrderStore sqlite(Path file) {
    return sqlite(file, SqliteOptions.defaults());
  }

  /**
   * A SQLite store with settings. {@link SqliteOptions#openMode()} decides what opening may do:
   * {@link OpenMode#CREATE_IF_MISSING} (the default) as {@link #sqlite(Path)}; {@link
   * OpenMode#EXISTING} opens only a Workgate store that is already in the file, creating, upgrading
   * and switching nothing; {@link OpenMode#READ_ONLY} does the same and never writes, so that it
   * reads a read-only copy. In both, a file that holds no Workgate store under the table prefix is
   * refused and left byte for byte as it was.
   *
   * <p>For example, an inspection tool: {@code Stores.sqlite(file,
   * SqliteOptions.builder().openMode(OpenMode.READ_ONLY).build())}.
   *
   * @param file the database file; its directory is created if absent and the mode allows it
   * @param options the settings
   * @return the open store
   * @throws StoreException as {@link #sqlite(Path)}, and, unless creating, if the file is missing,
   *     empty, not a SQLite database or holds no Workgate store under the table prefix
   */
  public static WorkOrderStore sqlite(Path file, SqliteOptions options) {
    return JdbcWorkOrderStore.openSqlite(file, options);
  }

  /**
   * Copies the SQLite store in {@code file} into the new file {@code target} with {@code VACUUM
   * INTO}: one consistent snapshot, compacted, holding every transaction committed before it, taken
   * while nodes go on writing (in WAL mode a reader never blocks them). The copy is itself a store.
   * The source is only read, as {@link OpenMode#READ_ONLY} reads it: a file that holds no Workgate
   * store under the table prefix is refused and left as it was, and a read-only copy can be backed
   * up. Back up a PostgreSQL store with {@code pg_dump}. The target is created with mode 600 on a
   * POSIX file system (by the call that creates it, before anything is written), since it holds
   * every payload and result; a backup that fails removes it.
   *
   * @param file the store's file
   * @param target the new file; must not exist
   * @param options the table prefix and busy timeout of the store (its open mode is not used)
   * @throws StoreException if the file holds no Workgate store, the target exists or the copy fails
   */
  public static void backupSqlite(Path file, Path target, SqliteOptions options) {
    JdbcWorkOrderStore.backupSqlite(file, target, options);
  }

  /**
   * A store in a PostgreSQL database that many nodes may share, its tables created in the {@code
   * public} schema if absent. Give it a pooled data source.
   *
   * @param dataSource connections to the database; the store does not close it
   * @return the open store
   * @throws StoreException if the database cannot be reached or holds a schema this version does
   *     not know or a damaged one
   */
  public static WorkOrderStore postgres(DataSource dataSource) {
    return postgres(dataSource, PostgresOptions.defaults());
  }

  /**
   * A PostgreSQL store with settings. {@link PostgresOptions#openMode()} decides what opening may
   * do, as for {@link #sqlite(Path, SqliteOptions)}: {@link OpenMode#EXISTING} and {@link
   * OpenMode#READ_ONLY} run no DDL and refuse a schema without the store's tables; {@code
   * READ_ONLY} reads in read-only transactions and refuses every write.
   *
   * <p>Opening a store that is at the current schema version runs no DDL in any mode: the role
   * needs {@code USAGE} on the schema and {@code SELECT} on the tables, and to write also {@code
   * INSERT, UPDATE, DELETE} and {@code USAGE} on the store's sequence. Only {@link
   * OpenMode#CREATE_IF_MISSING} facing a missing schema, missing tables or an older schema version
   * creates or upgrades them, which needs {@code CREATE} on the database (for the schema), {@code
   * CREATE} on the schema (for the tables) or ownership of the tables (for an upgrade); a role
   * without the privilege is refused with a message naming it. The store sets {@link
   * PostgresOptions#idleInTransactionTimeout()} and {@link PostgresOptions#lockTimeout()} on every
   * physical connection it uses.
   *
   * @param dataSource connections to the database; the store does not close it
   * @param options the settings
   * @return the open store
   * @throws StoreException as {@link #postgres(DataSource)}, and, unless creating, if the schema
   *     holds no Workgate store under the table prefix, or if the role lacks a privilege opening or
   *     the mode needs
   */
  public static WorkOrderStore postgres(DataSource dataSource, PostgresOptions options) {
    return JdbcWorkOrderStore.openPostgres(dataSource, options);
  }

  /**
   * How a durable store treats what it finds when it opens: whether it may create and upgrade a
   * store, and whether it may write at all. Set with {@code SqliteOptions.Builder.openMode} or
   * {@code PostgresOptions.Builder.openMode}; the in-memory store has no such choice.
   *
   * <p>In {@link #EXISTING} and {@link #READ_ONLY} the store checks, before it does anything else,
   * that the file or schema holds a Workgate store under the configured table prefix (its {@code
   * <prefix>meta} table records a schema version this version reads, beside its log and projection
   * tables), and throws {@link StoreException} naming the file or schema and the prefix when it
   * does not: another application's database, an empty file, a mistyped table prefix (the message
   * lists the prefixes of the Workgate stores it did find), a schema without the tables, a schema
   * version newer than this version reads. A store refused this way is left exactly as it was.
   */
  public enum OpenMode {
    /**
     * Today's default for a host that owns its store: create what is missing (the SQLite file and
     * its directory, the PostgreSQL schema, the tables and indexes), upgrade an older schema
     * version, put SQLite in WAL mode, then read and write.
     */
    CREATE_IF_MISSING,

    /**
     * Open a store that is already there, to read and write it: never create a file, directory,
     * schema, table or index, never upgrade the schema, never change SQLite's journal mode. An
     * older schema version is used as it is (upgrades only add indexes); opening it once with
     * {@link #CREATE_IF_MISSING} upgrades it. Refuses (with {@link StoreException}) a store that is
     * not there.
     */
    EXISTING,

    /**
     * {@link #EXISTING}, and no write at all: every method of {@link WorkOrderStore} that writes
     * ({@code append}, {@code appendAll}, {@code claim}, {@code renewLease}, {@code
     * deleteTerminalBefore}, {@code rebuildProjection(REPAIR)}) throws {@link StoreException}
     * saying the store was opened read-only, before it touches the database; {@code
     * rebuildProjection(VERIFY)} reads. SQLite opens the file read-only ({@code mode=ro}, {@code
     * PRAGMA query_only}), so it works on a file and directory this process may not write; when the
     * file or its directory is read-only and no write-ahead log lies beside it, nothing can change
     * the file, and SQLite opens it as immutable, so that no {@code -wal} or {@code -shm} file is
     * created beside it. PostgreSQL connections are set read-only.
     */
    READ_ONLY
  }
}
