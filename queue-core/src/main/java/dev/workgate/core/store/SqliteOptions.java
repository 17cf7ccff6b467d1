package dev.workgate.core.store;

import dev.workgate.core.internal.jdbc.DecodedSpecCache;
import dev.workgate.core.internal.jdbc.Names;
import dev.workgate.core.store.Stores.OpenMode;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the SQLite store. Immutable and thread-safe; build with {@link #builder()}.
 *
 * <p>Defaults: table prefix {@code workgate_}, {@link SqliteDurability#FULL}, a busy timeout of 5
 * s, 4 read connections, groups of at most 256 writes per transaction, the UTC system clock, {@link
 * OpenMode#CREATE_IF_MISSING}, a decoded-spec cache of {@value #DEFAULT_SPEC_CACHE_BYTES} bytes.
 */
public final class SqliteOptions {
  private final String tablePrefix;
  private final SqliteDurability durability;
  private final Duration busyTimeout;
  private final int readConnections;
  private final int maxGroupSize;
  private final Clock clock;
  private final OpenMode openMode;
  private final long specCacheBytes;

  /**
   * The default budget of the decoded-spec cache: 32 MiB, by estimated heap. Every read of a work
   * order joins its Submitted event for the spec, and decoding it is the dearest part of a read; 32
   * MiB keeps the specs of a few thousand work orders with small payloads (or a few hundred with 10
   * KB ones) decoded, a small share of a typical node's heap whatever the payloads weigh.
   */
  public static final long DEFAULT_SPEC_CACHE_BYTES = DecodedSpecCache.DEFAULT_BUDGET;

  private SqliteOptions(Builder b) {
    this.tablePrefix = b.tablePrefix;
    this.durability = b.durability;
    this.busyTimeout = b.busyTimeout;
    this.readConnections = b.readConnections;
    this.maxGroupSize = b.maxGroupSize;
    this.clock = b.clock;
    this.openMode = b.openMode;
    this.specCacheBytes = b.specCacheBytes;
  }

  /**
   * The defaults.
   *
   * @return options with every default
   */
  public static SqliteOptions defaults() {
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
   * The prefix of the store's table names.
   *
   * @return the prefix, possibly empty
   */
  public String tablePrefix() {
    return tablePrefix;
  }

  /**
   * How hard commits are pushed to disk.
   *
   * @return the durability
   */
  public SqliteDurability durability() {
    return durability;
  }

  /**
   * How long a connection waits for another process's lock before failing.
   *
   * @return the timeout
   */
  public Duration busyTimeout() {
    return busyTimeout;
  }

  /**
   * How many connections serve reads at once.
   *
   * @return at least 1
   */
  public int readConnections() {
    return readConnections;
  }

  /**
   * The most writes the writer commits in one transaction.
   *
   * @return at least 1
   */
  public int maxGroupSize() {
    return maxGroupSize;
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

  @Override
  public String toString() {
    return "SqliteOptions[tablePrefix="
        + tablePrefix
        + ", durability="
        + durability
        + ", busyTimeout="
        + busyTimeout
        + ", readConnections="
        + readConnections
        + ", maxGroupSize="
        + maxGroupSize
        + ", openMode="
        + openMode
        + ", specCacheBytes="
        + specCacheBytes
        + "]";
  }

  /** Builds {@link SqliteOptions}. Not thread-safe. */
  public static final class Builder {
    private String tablePrefix = "workgate_";
    private SqliteDurability durability = SqliteDurability.FULL;
    private Duration busyTimeout = Duration.ofSeconds(5);
    private int readConnections = 4;
    private int maxGroupSize = 256;
    private Clock clock = Clock.systemUTC();
    private OpenMode openMode = OpenMode.CREATE_IF_MISSING;
    private long specCacheBytes = DEFAULT_SPEC_CACHE_BYTES;

    private Builder() {}

    /**
     * Sets the table prefix, so that several stores can share one file.
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
     * Sets the durability.
     *
     * @param durability the durability
     * @return this builder
     */
    public Builder durability(SqliteDurability durability) {
      this.durability = Objects.requireNonNull(durability, "durability");
      return this;
    }

    /**
     * Sets how long to wait for a lock held by another process.
     *
     * @param timeout zero or positive, at most {@link Integer#MAX_VALUE} ms
     * @return this builder
     * @throws IllegalArgumentException if negative or too large
     */
    public Builder busyTimeout(Duration timeout) {
      if (timeout == null
          || timeout.isNegative()
          || timeout.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) > 0) {
        throw new IllegalArgumentException(
            "busyTimeout must be between 0 and " + Integer.MAX_VALUE + " ms, got " + timeout);
      }
      this.busyTimeout = timeout;
      return this;
    }

    /**
     * Sets how many connections serve reads.
     *
     * @param connections 1 to 64
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder readConnections(int connections) {
      if (connections < 1 || connections > 64) {
        throw new IllegalArgumentException(
            "readConnections must be between 1 and 64, got " + connections);
      }
      this.readConnections = connections;
      return this;
    }

    /**
     * Sets the most writes grouped into one transaction.
     *
     * @param size 1 to 10,000; 1 turns group commit off
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder maxGroupSize(int size) {
      if (size < 1 || size > 10_000) {
        throw new IllegalArgumentException("maxGroupSize must be between 1 and 10000, got " + size);
      }
      this.maxGroupSize = size;
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
     * Builds the options.
     *
     * @return the options
     */
    public SqliteOptions build() {
      return new SqliteOptions(this);
    }
  }

  /**
   * How hard the SQLite store pushes each commit to disk (SQLite's {@code synchronous} setting).
   */
  public enum SqliteDurability {
    /**
     * Every commit is on disk before the call returns ({@code synchronous=FULL}): survives a crash
     * of the process and of the machine. The default.
     */
    FULL,
    /**
     * Commits survive a crash of the process; a power loss or kernel crash may lose the last
     * commits, never corrupting the file ({@code synchronous=NORMAL} in WAL mode). Faster.
     */
    NORMAL
  }
}
