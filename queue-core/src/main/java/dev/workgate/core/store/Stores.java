package dev.workgate.core.store;

import dev.workgate.core.store.jdbc.JdbcWorkOrderStore;
import dev.workgate.core.store.jdbc.PostgresOptions;
import dev.workgate.core.store.jdbc.SqliteOptions;
import dev.workgate.core.store.memory.InMemoryWorkOrderStore;
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
   * @param file the database file; its directory is created if absent
   * @return the open store; close it to stop its writer and release the file
   * @throws StoreException if the file cannot be opened or written, or holds a schema this version
   *     does not know or a damaged one
   */
  public static WorkOrderStore sqlite(Path file) {
    return sqlite(file, SqliteOptions.defaults());
  }

  /**
   * A SQLite store with settings.
   *
   * @param file the database file; its directory is created if absent
   * @param options the settings
   * @return the open store
   * @throws StoreException as {@link #sqlite(Path)}
   */
  public static WorkOrderStore sqlite(Path file, SqliteOptions options) {
    return JdbcWorkOrderStore.openSqlite(file, options);
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
   * A PostgreSQL store with settings.
   *
   * @param dataSource connections to the database; the store does not close it
   * @param options the settings
   * @return the open store
   * @throws StoreException as {@link #postgres(DataSource)}
   */
  public static WorkOrderStore postgres(DataSource dataSource, PostgresOptions options) {
    return JdbcWorkOrderStore.openPostgres(dataSource, options);
  }
}
