package dev.workgate.spi;

/**
 * What an append expects of a work order's stream: that it does not exist yet ({@link #none()}),
 * that it is at exactly one version ({@link #exactly(long)}), or nothing ({@link #any()}).
 * Immutable and thread-safe.
 */
public final class ExpectedVersion {
  private static final long NONE = 0;
  private static final long ANY = -1;
  private static final ExpectedVersion NONE_INSTANCE = new ExpectedVersion(NONE);
  private static final ExpectedVersion ANY_INSTANCE = new ExpectedVersion(ANY);

  private final long value;

  private ExpectedVersion(long value) {
    this.value = value;
  }

  /**
   * The stream must have no events: for the Submitted event of a new work order.
   *
   * @return the expectation
   */
  public static ExpectedVersion none() {
    return NONE_INSTANCE;
  }

  /**
   * The stream must be at exactly this version (0 is the same as {@link #none()}).
   *
   * @param version the version read before deciding to append
   * @return the expectation
   * @throws IllegalArgumentException if the version is negative
   */
  public static ExpectedVersion exactly(long version) {
    if (version < 0) {
      throw new IllegalArgumentException("expected version must not be negative, got " + version);
    }
    return version == NONE ? NONE_INSTANCE : new ExpectedVersion(version);
  }

  /**
   * No expectation: the append goes after whatever is there (the transition table still checks the
   * state).
   *
   * @return the expectation
   */
  public static ExpectedVersion any() {
    return ANY_INSTANCE;
  }

  /**
   * Whether a stream at the given version meets this expectation.
   *
   * @param actualVersion the stream's version, 0 when it has no events
   * @return true if an append may proceed
   */
  public boolean matches(long actualVersion) {
    return value == ANY || value == actualVersion;
  }

  /**
   * Whether this is {@link #any()}.
   *
   * @return true for any
   */
  public boolean isAny() {
    return value == ANY;
  }

  /**
   * The exact version expected.
   *
   * @return the version, 0 for {@link #none()}
   * @throws IllegalStateException for {@link #any()}
   */
  public long version() {
    if (value == ANY) {
      throw new IllegalStateException("ExpectedVersion.any() has no version");
    }
    return value;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ExpectedVersion e && e.value == value;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(value);
  }

  /**
   * A short description for messages.
   *
   * @return {@code "none"}, {@code "any"} or {@code "exactly N"}
   */
  @Override
  public String toString() {
    return value == NONE ? "none" : value == ANY ? "any" : "exactly " + value;
  }
}
