package dev.workgate.core.internal.jdbc;

import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores.OpenMode;

/**
 * The writer of a store opened {@link OpenMode#READ_ONLY}: it refuses every write without touching
 * the database, so that no read-only store holds a connection that could write.
 */
final class ReadOnlyWriter implements Work.Writer {
  private final SqlDialect dialect;

  ReadOnlyWriter(SqlDialect dialect) {
    this.dialect = dialect;
  }

  static StoreException refusal(SqlDialect dialect, String what) {
    return new StoreException(
        what
            + " refused: the "
            + dialect.describe()
            + " was opened read-only (OpenMode.READ_ONLY); open it OpenMode.EXISTING to change"
            + " it");
  }

  @Override
  public <T> T write(String what, Work.Write<T> work) {
    throw refusal(dialect, what);
  }

  @Override
  public <Q, R> java.util.List<R> writeShared(
      String what, Work.Shared<Q, R> work, java.util.List<Q> requests) {
    throw refusal(dialect, what);
  }

  @Override
  public void close() {
    // nothing to release
  }
}
