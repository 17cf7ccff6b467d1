package dev.workgate.core.store;

import dev.workgate.core.internal.jdbc.DecodedSpecCache;
import dev.workgate.core.internal.jdbc.Names;
import dev.workgate.core.store.Stores.OpenMode;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the PostgreSQL store. Immutable and thread-safe; build with {@link #builder()}.
 *
 * <p>Defaults: schema {@code public}, table prefix {@code workgate_}, notifications on, the UTC
 * system clock, {@link OpenMode#CREATE_IF_MISSING}, a decoded-spec cache of {@value
 * #DEFAULT_SPEC_CACHE_BYTES} bytes, the session limits {@link #DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT}
 * and {@link #DEFAULT_LOCK_TIMEOUT}.
 *
 * <p><b>Session limits.</b> The store sets {@code idle_in_transaction_session_timeout} and {@code
 * lock_timeout} once on every physical connection it takes from the data source (the first time it
 * sees the connection, in one statement; never again per transaction), so that a node cut off in
 * the middle of a transaction does not hold row locks until TCP gives up: the server ends its
 * session and frees the locks. A pool that resets sessions ({@code DISCARD ALL}, {@code RESET ALL},
 * pgbouncer in transaction mode) undoes them; there set them on the role instead (see
 * docs/storage.md) and disable them here.
 */
public final class PostgresOptions {
  private final String schema;
  private final String tablePrefix;
  private final boolean notifications;
  private final Clock clock;
  private final OpenMode openMode;
  private final long specCacheBytes;
  private final Duration idleInTransactionTimeout;
  private final Duration lockTimeout;

  /**
   * The default budget of the decoded-spec cache: 32 MiB, by estimated heap. Every read of a work
   * order joins its Submitted event for the spec, and decoding it is the dearest part of a read; 32
   * MiB keeps the specs of a few thousand work orders with small payloads (or a few hundred with 10
   * KB ones) decoded, a small share of a typical node's heap whatever the payloads weigh.
   */
  public static final long DEFAULT_SPEC_CACHE_BYTES = DecodedSpecCache.DEFAULT_BUDGET;

  /**
   * The default {@code idle_in_transaction_session_timeout}: 5 s. The store's transactions never
   * wait on anything but the database between two statements (no handler code, no I/O), so a
   * session idle inside one for seconds belongs to a node that is cut off or stalled; the server
   * then ends it and its row locks are free well before the node's lease (30 s by default) could
   * expire and another node reap it. 5 s leaves room for a long garbage-collection pause.
   */
  public static final Duration DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT = Duration.ofSeconds(5);

  /**
   * The default {@code lock_timeout}: 10 s. A write that waits this long for a row lock fails with
   * {@link dev.workgate.core.store.StoreException} (nothing written) instead of hanging; longer
   * than {@link #DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT}, so that a writer queued behind a cut-off
   * node's transaction gets the row once the server has ended that session, and still well below
   * the 30 s default lease.
   */
  public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(10);

  private PostgresOptions(Builder b) {
    this.schema = b.schema;
    this.tablePrefix = b.tablePrefix;
    this.notifications = b.notifications;
    this.clock = b.clock;
    this.openMode = b.openMode;
    this.specCacheBytes = b.specCacheBytes;
    this.idleInTransactionTimeout = b.idleInTransactionTimeout;
    this.lockTimeout = b.lockTimeout;
  }

  /**
   * The defaults.
   *
   * @return options with every default
   */
  public static PostgresOptions defaults() {
    return builder().build();
  }

  /**
   * A builder holding the defaults.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The schema that holds the tables; created if absent unless the {@link #openMode()} forbids it.
   *
   * @return the schema
   */
  public String schema() {
    return schema;
  }

  /**
   * The prefix of the store's table names.
   *
   * @return the prefix, possibly empty
   */
  public String tablePrefix() {
    return tablePrefix;
  }

  /**
   * Whether the store listens for other nodes' {@code NOTIFY}s once a listener subscribes (which
   * holds one connection of the data source for as long as the store is open).
   *
   * @return true if it listens
   */
  public boolean notifications() {
    return notifications;
  }

  /**
   * The clock that stamps recorded events.
   *
   * @return the clock
   */
  public Clock clock() {
    return clock;
  }

  /**
   * What opening may create and whether the store may write.
   *
   * @return the open mode
   */
  public OpenMode openMode() {
    return openMode;
  }

  /**
   * The budget of the decoded-spec cache, in estimated bytes of heap.
   *
   * @return 0 (no caching) or more
   */
  public long specCacheBytes() {
    return specCacheBytes;
  }

  /**
   * The {@code idle_in_transaction_session_timeout} the store sets on its connections.
   *
   * @return the timeout, {@link Duration#ZERO} if the store leaves the server's setting alone
   */
  public Duration idleInTransactionTimeout() {
    return idleInTransactionTimeout;
  }

  /**
   * The {@code lock_timeout} the store sets on its connections.
   *
   * @return the timeout, {@link Duration#ZERO} if the store leaves the server's setting alone
   */
  public Duration lockTimeout() {
    return lockTimeout;
  }

  @Override
  public String toString() {
    return "PostgresOptions[schema="
        + schema
        + ", tablePrefix="
        + tablePrefix
        + ", notifications="
        + notifications
        + ", openMode="
        + openMode
        + ", specCacheBytes="
        + specCacheBytes
        + ", idleInTransactionTimeout="
        + idleInTransactionTimeout
        + ", lockTimeout="
        + lockTimeout
        + "]";
  }

  /** Builds {@link PostgresOptions}. Not thread-safe. */
  public static final class Builder {
    private String schema = "public";
    private String tablePrefix = "workgate_";
    private boolean notifications = true;
    private Clock clock = Clock.systemUTC();
    private OpenMode openMode = OpenMode.CREATE_IF_MISSING;
    private long specCacheBytes = DEFAULT_SPEC_CACHE_BYTES;
    private Duration idleInTransactionTimeout = DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT;
    private Duration lockTimeout = DEFAULT_LOCK_TIMEOUT;

    private Builder() {}

    /**
     * Sets the schema.
     *
     * @param schema 1 to 40 characters of a-z, 0-9 and _, not starting with a digit
     * @return this builder
     * @throws IllegalArgumentException if the name is not such a name
     */
    public Builder schema(String schema) {
      this.schema = Names.schema(schema);
      return this;
    }

    /**
     * Sets the table prefix.
     *
     * @param prefix at most 30 characters of a-z, 0-9 and _, not starting with a digit; may be
     *     empty
     * @return this builder
     * @throws IllegalArgumentException if the prefix is not such a name
     */
    public Builder tablePrefix(String prefix) {
      this.tablePrefix = Names.prefix(prefix);
      return this;
    }

    /**
     * Turns listening for other nodes' notifications on or off.
     *
     * @param on true to listen
     * @return this builder
     */
    public Builder notifications(boolean on) {
      this.notifications = on;
      return this;
    }

    /**
     * Sets the clock that stamps recorded events.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Sets what opening may create and whether the store may write; see {@link OpenMode}. An
     * operator's tool that inspects a store opens it {@link OpenMode#READ_ONLY}; one that changes
     * work orders opens it {@link OpenMode#EXISTING}, so that a mistyped path or prefix is refused
     * instead of becoming a new, empty store.
     *
     * @param mode the mode; default {@link OpenMode#CREATE_IF_MISSING}
     * @return this builder
     */
    public Builder openMode(OpenMode mode) {
      this.openMode = Objects.requireNonNull(mode, "openMode");
      return this;
    }

    /**
     * Sets the budget of the cache of decoded work-order specs, which every read of a view uses:
     * least recently used specs are evicted once their estimated heap (about 4 bytes per character
     * of their JSON, plus 512 per entry) passes it, and a spec larger than the budget is not
     * cached. Default {@link #DEFAULT_SPEC_CACHE_BYTES}.
     *
     * @param bytes 0 (decode on every read) to 2^40
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder specCacheBytes(long bytes) {
      this.specCacheBytes = DecodedSpecCache.requireBudget(bytes);
      return this;
    }

    /**
     * Sets the {@code idle_in_transaction_session_timeout} the store sets on every physical
     * connection it uses: the server ends a session that stays idle this long inside a transaction,
     * rolling it back and freeing its locks. Keep it well below the lease, so that a cut-off node's
     * locks are gone before its lease expires. Default {@link
     * #DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT}.
     *
     * @param timeout whole milliseconds, up to 2^31-1 ms; {@code null} or zero leaves the server's
     *     (or the role's) setting alone
     * @return this builder
     * @throws IllegalArgumentException if negative, finer than a millisecond or too long
     */
    public Builder idleInTransactionTimeout(Duration timeout) {
      this.idleInTransactionTimeout = sessionLimit("idleInTransactionTimeout", timeout);
      return this;
    }

    /**
     * Sets the {@code lock_timeout} the store sets on every physical connection it uses: a
     * statement that waits this long for a lock (a row another node's transaction holds) fails, and
     * the write with it, nothing written, instead of waiting until that node's connection dies.
     * Default {@link #DEFAULT_LOCK_TIMEOUT}.
     *
     * @param timeout whole milliseconds, up to 2^31-1 ms; {@code null} or zero leaves the server's
     *     (or the role's) setting alone
     * @return this builder
     * @throws IllegalArgumentException if negative, finer than a millisecond or too long
     */
    public Builder lockTimeout(Duration timeout) {
      this.lockTimeout = sessionLimit("lockTimeout", timeout);
      return this;
    }

    private static Duration sessionLimit(String setting, Duration timeout) {
      if (timeout == null) {
        return Duration.ZERO;
      }
      if (timeout.isNegative()
          || timeout.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) > 0
          || timeout.toNanos() % 1_000_000 != 0) {
        throw new IllegalArgumentException(
            setting
                + " must be zero (off) or whole milliseconds up to "
                + Integer.MAX_VALUE
                + " ms (the server's limit), got "
                + timeout);
      }
      return timeout;
    }

    /**
     * Builds the options.
     *
     * @return the options
     */
    public PostgresOptions build() {
      return new PostgresOptions(this);
    }
  }
}
