package dev.workgate;

/**
 * Why a store write failed, as far as the database's error tells: the classes an operator acts on
 * differently. Read from the exception and its causes (SQLState, vendor result codes, the operating
 * system's fixed error phrases), never from row content.
 *
 * <p>Immutable and thread-safe.
 */
public enum WriteFailureCause {
  /**
   * No room to write: SQLite {@code SQLITE_FULL} ("database or disk is full"), PostgreSQL SQLState
   * {@code 53100} ({@code disk_full}), or an I/O error "No space left on device" ({@code ENOSPC}).
   */
  DISK_FULL("disk_full", "disk full"),

  /**
   * The database refuses writes: SQLite {@code SQLITE_READONLY} (a file or directory the process
   * cannot write, a read-only mount), PostgreSQL SQLState {@code 25006} ({@code
   * read_only_sql_transaction}: a hot standby, {@code default_transaction_read_only}), a read-only
   * file system, or a store opened {@code OpenMode.READ_ONLY}.
   */
  READ_ONLY("read_only", "database is read-only"),

  /**
   * The database cannot be reached: SQLState class {@code 08} (connection exception), a server
   * shutting down ({@code 57P01}..{@code 57P03}), a connection pool that gave none, a refused or
   * timed-out socket.
   */
  UNREACHABLE("unreachable", "database unreachable"),

  /** Any other failure of the store: see the node's log for the error. */
  OTHER("other", "store error");

  private final String tagValue;
  private final String label;

  WriteFailureCause(String tagValue, String label) {
    this.tagValue = tagValue;
    this.label = label;
  }

  /**
   * The value of the {@code cause} tag on meters, one of a fixed set.
   *
   * @return e.g. {@code disk_full}
   */
  public String tagValue() {
    return tagValue;
  }

  /**
   * A short phrase for a person.
   *
   * @return e.g. {@code disk full}
   */
  public String label() {
    return label;
  }
}
