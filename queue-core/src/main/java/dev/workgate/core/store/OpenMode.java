package dev.workgate.core.store;

/**
 * How a durable store treats what it finds when it opens: whether it may create and upgrade a
 * store, and whether it may write at all. Set with {@code SqliteOptions.Builder.openMode} or {@code
 * PostgresOptions.Builder.openMode}; the in-memory store has no such choice.
 *
 * <p>In {@link #EXISTING} and {@link #READ_ONLY} the store checks, before it does anything else,
 * that the file or schema holds a Workgate store under the configured table prefix (its {@code
 * <prefix>meta} table records a schema version this version reads, beside its log and projection
 * tables), and throws {@link StoreException} naming the file or schema and the prefix when it does
 * not: another application's database, an empty file, a mistyped table prefix (the message lists
 * the prefixes of the Workgate stores it did find), a schema without the tables, a schema version
 * newer than this version reads. A store refused this way is left exactly as it was.
 */
public enum OpenMode {
  /**
   * Today's default for a host that owns its store: create what is missing (the SQLite file and its
   * directory, the PostgreSQL schema, the tables and indexes), upgrade an older schema version, put
   * SQLite in WAL mode, then read and write.
   */
  CREATE_IF_MISSING,

  /**
   * Open a store that is already there, to read and write it: never create a file, directory,
   * schema, table or index, never upgrade the schema, never change SQLite's journal mode. An older
   * schema version is used as it is (upgrades only add indexes); opening it once with {@link
   * #CREATE_IF_MISSING} upgrades it. Refuses (with {@link StoreException}) a store that is not
   * there.
   */
  EXISTING,

  /**
   * {@link #EXISTING}, and no write at all: every method of {@link WorkOrderStore} that writes
   * ({@code append}, {@code appendAll}, {@code claim}, {@code renewLease}, {@code
   * deleteTerminalBefore}, {@code rebuildProjection(REPAIR)}) throws {@link StoreException} saying
   * the store was opened read-only, before it touches the database; {@code
   * rebuildProjection(VERIFY)} reads. SQLite opens the file read-only ({@code mode=ro}, {@code
   * PRAGMA query_only}), so it works on a file and directory this process may not write; when the
   * file or its directory is read-only and no write-ahead log lies beside it, nothing can change
   * the file, and SQLite opens it as immutable, so that no {@code -wal} or {@code -shm} file is
   * created beside it. PostgreSQL connections are set read-only.
   */
  READ_ONLY
}
