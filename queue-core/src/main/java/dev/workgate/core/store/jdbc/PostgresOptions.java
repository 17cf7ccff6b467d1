package dev.workgate.core.store.jdbc;

import dev.workgate.core.store.OpenMode;
import java.time.Clock;
import java.util.Objects;

/**
 * Settings of the PostgreSQL store. Immutable and thread-safe; build with {@link #builder()}.
 *
 * <p>Defaults: schema {@code public}, table prefix {@code workgate_}, notifications on, the UTC
 * system clock, {@link OpenMode#CREATE_IF_MISSING}, a decoded-spec cache of {@value
 * #DEFAULT_SPEC_CACHE_BYTES} bytes.
 */
public final class PostgresOptions {
  private final String schema;
  private final String tablePrefix;
  private final boolean notifications;
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

  private PostgresOptions(Builder b) {
    this.schema = b.schema;
    this.tablePrefix = b.tablePrefix;
    this.notifications = b.notifications;
    this.clock = b.clock;
    this.openMode = b.openMode;
    this.specCacheBytes = b.specCacheBytes;
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
     * Builds the options.
     *
     * @return the options
     */
    public PostgresOptions build() {
      return new PostgresOptions(this);
    }
  }
}
