package dev.workgate.retry;

import dev.workgate.core.internal.Text;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * How often and how soon a failed work order runs again: the number of attempts, exponential
 * backoff with a cap, {@link Jitter}, and error codes that a queue always or never retries.
 * Immutable and thread-safe.
 *
 * <p>Attempt numbers start at 1 for the first execution. The delay before attempt {@code n ≥ 2} is
 * {@code baseDelay × multiplier^(n−2)}, at most {@code maxDelay}, then spread by the jitter
 * strategy. {@code delayBeforeAttempt(2, …)} is the delay before the first retry.
 *
 * <pre>{@code
 * RetryPolicy policy = RetryPolicy.builder()
 *     .maxAttempts(6)
 *     .baseDelay(Duration.ofSeconds(10))
 *     .jitter(Jitter.full())
 *     .neverRetryOn("QUOTA_EXCEEDED")
 *     .build();
 * }</pre>
 */
public final class RetryPolicy {

  /** Four attempts: the first execution and three retries, AgentGate's default. */
  public static final int DEFAULT_MAX_ATTEMPTS = 4;

  /**
   * Five seconds before the first retry: long enough for a sandbox host or a network to recover
   * from a blip, short enough that a person waiting on the result barely notices.
   */
  public static final Duration DEFAULT_BASE_DELAY = Duration.ofSeconds(5);

  /** Each retry waits twice as long as the one before. */
  public static final double DEFAULT_MULTIPLIER = 2.0;

  /** No retry waits longer than five minutes, so work does not stall for hours after an outage. */
  public static final Duration DEFAULT_MAX_DELAY = Duration.ofMinutes(5);

  /**
   * ±10 % of each delay: enough to spread work orders that failed together (after an outage) so
   * they do not retry in one stampede, small enough that delays stay predictable.
   */
  public static final Jitter DEFAULT_JITTER = Jitter.proportional(0.1);

  /** The most attempts a policy may allow. */
  public static final int MAX_ATTEMPTS_LIMIT = 1_000;

  /** The longest delay a policy may set: a year. */
  public static final Duration DELAY_LIMIT = Duration.ofDays(365);

  /** The largest multiplier a policy may set. */
  public static final double MULTIPLIER_LIMIT = 1_000;

  /**
   * How many steps of the decorrelated chain are replayed at most. Beyond this the chain is long
   * past the cap and its distribution no longer changes with the attempt.
   */
  static final int DECORRELATED_STEPS_LIMIT = 64;

  private static final MathContext MATH = MathContext.DECIMAL128;
  private static final BigDecimal TWO = BigDecimal.valueOf(2);
  private static final BigDecimal THREE = BigDecimal.valueOf(3);

  /** The largest exponent {@link BigDecimal#pow(int, MathContext)} takes. */
  private static final int MAX_POW_EXPONENT = 999_999_999;

  private static final RetryPolicy DEFAULTS = builder().build();
  private static final RetryPolicy NONE = builder().maxAttempts(1).build();

  private final int maxAttempts;
  private final Duration baseDelay;
  private final double multiplier;
  private final Duration maxDelay;
  private final Jitter jitter;
  private final Set<String> retryOn;
  private final Set<String> neverRetryOn;

  private RetryPolicy(Builder b) {
    this.maxAttempts = b.maxAttempts;
    this.baseDelay = b.baseDelay;
    this.multiplier = b.multiplier;
    this.maxDelay = b.maxDelay;
    this.jitter = b.jitter;
    this.retryOn = Set.copyOf(b.retryOn);
    this.neverRetryOn = Set.copyOf(b.neverRetryOn);
  }

  /**
   * Four attempts, 5 s base delay, ×2, at most 5 min, ±10 % proportional jitter.
   *
   * @return the default policy
   */
  public static RetryPolicy defaults() {
    return DEFAULTS;
  }

  /**
   * One attempt and no retries.
   *
   * @return the policy
   */
  public static RetryPolicy none() {
    return NONE;
  }

  /**
   * A builder that starts from {@link #defaults()}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder that starts from this policy.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.maxAttempts = maxAttempts;
    b.baseDelay = baseDelay;
    b.multiplier = multiplier;
    b.maxDelay = maxDelay;
    b.jitter = jitter;
    b.retryOn.addAll(retryOn);
    b.neverRetryOn.addAll(neverRetryOn);
    return b;
  }

  /**
   * Attempts in all, the first execution included.
   *
   * @return at least 1
   */
  public int maxAttempts() {
    return maxAttempts;
  }

  /**
   * The delay before the first retry, before jitter.
   *
   * @return zero or positive
   */
  public Duration baseDelay() {
    return baseDelay;
  }

  /**
   * How much longer each retry waits than the one before.
   *
   * @return at least 1
   */
  public double multiplier() {
    return multiplier;
  }

  /**
   * The longest delay, jitter included.
   *
   * @return at least the base delay
   */
  public Duration maxDelay() {
    return maxDelay;
  }

  /**
   * How delays are spread.
   *
   * @return the strategy
   */
  public Jitter jitter() {
    return jitter;
  }

  /**
   * Error codes this policy retries even when the error says it is not retryable.
   *
   * @return an immutable set
   */
  public Set<String> retryOn() {
    return retryOn;
  }

  /**
   * Error codes this policy never retries, even when the error says it is retryable.
   *
   * @return an immutable set, disjoint from {@link #retryOn()}
   */
  public Set<String> neverRetryOn() {
    return neverRetryOn;
  }

  /**
   * Whether an error is worth another attempt under this policy: never for a code in {@link
   * #neverRetryOn()}, always for one in {@link #retryOn()}, otherwise as the error says.
   *
   * @param code the error code
   * @param errorSaysRetryable the error's own retryability
   * @return whether to retry (attempts left permitting)
   */
  public boolean retries(String code, boolean errorSaysRetryable) {
    if (neverRetryOn.contains(code)) {
      return false;
    }
    return retryOn.contains(code) || errorSaysRetryable;
  }

  /**
   * The delay before an attempt without jitter: zero for attempt 1, {@code baseDelay ×
   * multiplier^(attempt−2)} after it, at most {@link #maxDelay()}. Never decreases with the
   * attempt.
   *
   * @param attempt the attempt, at least 1
   * @return the delay
   * @throws IllegalArgumentException if the attempt is below 1
   */
  public Duration backoffBeforeAttempt(int attempt) {
    return toDuration(backoffNanos(requireAttempt(attempt)));
  }

  /**
   * The delay before an attempt, jitter included: zero for attempt 1, and within the bounds that
   * {@link Jitter} documents after it. Pure: the result depends only on the arguments and the
   * values drawn from {@code random}. For {@link Jitter#decorrelated()} the chain of earlier delays
   * is replayed from the base delay with values drawn from {@code random}, which gives each
   * attempt's delay the distribution of the chain without keeping state between calls.
   *
   * @param attempt the attempt, at least 1
   * @param random where jitter draws from; not used for attempt 1 or {@link Jitter#none()}
   * @return the delay, never negative and never above {@link #maxDelay()}
   * @throws IllegalArgumentException if the attempt is below 1
   */
  public Duration delayBeforeAttempt(int attempt, RandomGenerator random) {
    requireAttempt(attempt);
    Objects.requireNonNull(random, "random");
    if (attempt == 1) {
      return Duration.ZERO;
    }
    BigDecimal cap = BigDecimal.valueOf(maxDelay.toNanos());
    BigDecimal d = backoffNanos(attempt);
    BigDecimal nanos;
    switch (jitter.kind()) {
      case NONE:
        nanos = d;
        break;
      case PROPORTIONAL:
        BigDecimal spread = d.multiply(new BigDecimal(jitter.factor()), MATH);
        nanos = between(d.subtract(spread, MATH), cap.min(d.add(spread, MATH)), random);
        break;
      case FULL:
        nanos = between(BigDecimal.ZERO, d, random);
        break;
      case EQUAL:
        nanos = between(d.divide(TWO, MATH), d, random);
        break;
      case DECORRELATED:
        nanos = decorrelated(attempt, cap, random);
        break;
      default:
        throw new IllegalStateException("unknown jitter " + jitter);
    }
    return toDuration(nanos);
  }

  /** Rounds to the nearest whole nanosecond within [0, maxDelay]. */
  private Duration toDuration(BigDecimal nanos) {
    long rounded = nanos.setScale(0, RoundingMode.HALF_UP).longValueExact();
    return Duration.ofNanos(Math.max(0, Math.min(maxDelay.toNanos(), rounded)));
  }

  private BigDecimal decorrelated(int attempt, BigDecimal cap, RandomGenerator random) {
    BigDecimal base = BigDecimal.valueOf(baseDelay.toNanos());
    int steps = Math.min(attempt - 1, DECORRELATED_STEPS_LIMIT);
    BigDecimal s = base;
    for (int i = 0; i < steps; i++) {
      s = between(base, cap.min(s.multiply(THREE)), random);
    }
    return s;
  }

  private static BigDecimal between(BigDecimal low, BigDecimal high, RandomGenerator random) {
    if (high.compareTo(low) <= 0) {
      return low;
    }
    BigDecimal u = new BigDecimal(random.nextDouble());
    return low.add(u.multiply(high.subtract(low), MATH), MATH);
  }

  /**
   * {@code baseDelay × multiplier^(attempt−2)} in nanoseconds, at most the cap. Decimal arithmetic
   * with 34 digits, so that delays beyond 2^53 ns (about 104 days) stay exact to the nanosecond,
   * which doubles cannot promise.
   */
  private BigDecimal backoffNanos(int attempt) {
    if (attempt == 1 || baseDelay.isZero()) {
      return BigDecimal.ZERO;
    }
    BigDecimal cap = BigDecimal.valueOf(maxDelay.toNanos());
    BigDecimal d = BigDecimal.valueOf(baseDelay.toNanos());
    if (multiplier == 1) {
      return d.min(cap);
    }
    // Past the attempt where base × m^k reaches the cap, the delay is the cap: stop there, so that
    // huge attempt numbers never raise m to a power BigDecimal cannot hold.
    double capped =
        Math.log((double) maxDelay.toNanos() / baseDelay.toNanos()) / Math.log(multiplier);
    if (attempt - 2 > capped + 2) {
      return cap;
    }
    BigDecimal m = new BigDecimal(multiplier);
    int exponent = attempt - 2;
    while (exponent > 0 && d.compareTo(cap) < 0) {
      int step = Math.min(exponent, MAX_POW_EXPONENT);
      d = d.multiply(m.pow(step, MATH), MATH);
      exponent -= step;
    }
    return d.min(cap);
  }

  private static int requireAttempt(int attempt) {
    if (attempt < 1) {
      throw new IllegalArgumentException(
          "attempt must be at least 1 (the first execution), got " + attempt);
    }
    return attempt;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RetryPolicy p
        && p.maxAttempts == maxAttempts
        && p.baseDelay.equals(baseDelay)
        && Double.compare(p.multiplier, multiplier) == 0
        && p.maxDelay.equals(maxDelay)
        && p.jitter.equals(jitter)
        && p.retryOn.equals(retryOn)
        && p.neverRetryOn.equals(neverRetryOn);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        maxAttempts, baseDelay, multiplier, maxDelay, jitter, retryOn, neverRetryOn);
  }

  @Override
  public String toString() {
    return "RetryPolicy{maxAttempts="
        + maxAttempts
        + ", baseDelay="
        + baseDelay
        + ", multiplier="
        + multiplier
        + ", maxDelay="
        + maxDelay
        + ", jitter="
        + jitter
        + ", retryOn="
        + retryOn
        + ", neverRetryOn="
        + neverRetryOn
        + "}";
  }

  /**
   * Builds a {@link RetryPolicy}. Each setter rejects a bad value at once with an {@link
   * IllegalArgumentException} that names the setting and the value; {@link #build()} rejects
   * settings that contradict each other. Not thread-safe.
   */
  public static final class Builder {
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Duration baseDelay = DEFAULT_BASE_DELAY;
    private double multiplier = DEFAULT_MULTIPLIER;
    private Duration maxDelay = DEFAULT_MAX_DELAY;
    private Jitter jitter = DEFAULT_JITTER;
    private final Set<String> retryOn = new LinkedHashSet<>();
    private final Set<String> neverRetryOn = new LinkedHashSet<>();

    private Builder() {}

    /**
     * Attempts in all, the first execution included; 1 means no retries.
     *
     * @param attempts from 1 to {@link #MAX_ATTEMPTS_LIMIT}
     * @return this builder
     */
    public Builder maxAttempts(int attempts) {
      if (attempts < 1 || attempts > MAX_ATTEMPTS_LIMIT) {
        throw new IllegalArgumentException(
            "maxAttempts must be between 1 and " + MAX_ATTEMPTS_LIMIT + ", got " + attempts);
      }
      this.maxAttempts = attempts;
      return this;
    }

    /**
     * The delay before the first retry, before jitter.
     *
     * @param delay zero or positive, at most {@link #DELAY_LIMIT}
     * @return this builder
     */
    public Builder baseDelay(Duration delay) {
      this.baseDelay = requireDelay(delay, "baseDelay");
      return this;
    }

    /**
     * How much longer each retry waits than the one before; 1 gives a fixed delay.
     *
     * @param multiplier from 1 to {@link #MULTIPLIER_LIMIT}
     * @return this builder
     */
    public Builder multiplier(double multiplier) {
      if (!(multiplier >= 1 && multiplier <= MULTIPLIER_LIMIT)) {
        throw new IllegalArgumentException(
            "multiplier must be between 1 and " + MULTIPLIER_LIMIT + ", got " + multiplier);
      }
      this.multiplier = multiplier;
      return this;
    }

    /**
     * The longest delay, jitter included.
     *
     * @param delay zero or positive, at most {@link #DELAY_LIMIT}, at least the base delay
     * @return this builder
     */
    public Builder maxDelay(Duration delay) {
      this.maxDelay = requireDelay(delay, "maxDelay");
      return this;
    }

    /**
     * How delays are spread.
     *
     * @param jitter the strategy, e.g. {@link Jitter#full()}
     * @return this builder
     */
    public Builder jitter(Jitter jitter) {
      if (jitter == null) {
        throw new IllegalArgumentException("jitter must not be null");
      }
      this.jitter = jitter;
      return this;
    }

    /**
     * Error codes to retry even when the error says it is not retryable. Adds to earlier calls.
     *
     * @param errorCodes the codes
     * @return this builder
     */
    public Builder retryOn(String... errorCodes) {
      addCodes(retryOn, errorCodes, "retryOn");
      return this;
    }

    /**
     * Error codes never to retry, even when the error says it is retryable. Adds to earlier calls.
     *
     * @param errorCodes the codes
     * @return this builder
     */
    public Builder neverRetryOn(String... errorCodes) {
      addCodes(neverRetryOn, errorCodes, "neverRetryOn");
      return this;
    }

    /**
     * Builds the policy.
     *
     * @return the policy
     * @throws IllegalArgumentException if the max delay is below the base delay, a code is in both
     *     {@code retryOn} and {@code neverRetryOn}, or decorrelated jitter has a zero base delay
     */
    public RetryPolicy build() {
      if (maxDelay.compareTo(baseDelay) < 0) {
        throw new IllegalArgumentException(
            "maxDelay must be at least baseDelay, got maxDelay "
                + Text.duration(maxDelay)
                + " and baseDelay "
                + Text.duration(baseDelay));
      }
      for (String code : retryOn) {
        if (neverRetryOn.contains(code)) {
          throw new IllegalArgumentException(
              "error code " + code + " is in both retryOn and neverRetryOn");
        }
      }
      if (jitter.kind() == Jitter.Kind.DECORRELATED && baseDelay.isZero()) {
        throw new IllegalArgumentException(
            "decorrelated jitter needs a positive baseDelay, got " + Text.duration(baseDelay));
      }
      return new RetryPolicy(this);
    }

    private static Duration requireDelay(Duration delay, String setting) {
      if (delay == null || delay.isNegative() || delay.compareTo(DELAY_LIMIT) > 0) {
        throw new IllegalArgumentException(
            setting
                + " must be between 0 and "
                + Text.duration(DELAY_LIMIT)
                + ", got "
                + (delay == null ? "null" : Text.duration(delay)));
      }
      return delay;
    }

    private static void addCodes(Set<String> target, String[] codes, String setting) {
      if (codes == null) {
        throw new IllegalArgumentException(setting + " error codes must not be null");
      }
      Set<String> checked = new LinkedHashSet<>();
      for (String code : codes) {
        checked.add(Text.requireName(code, setting + " error code"));
      }
      target.addAll(checked);
    }
  }

  /**
   * How a {@link RetryPolicy} spreads retry delays so that work orders that failed together do not
   * all retry at the same instant. Immutable and thread-safe.
   *
   * <p>With {@code d} the exponential delay before an attempt ({@code baseDelay ×
   * multiplier^(n−2)}, at most {@code maxDelay}), {@code base} the base delay and {@code cap} the
   * maximum delay, a delay drawn with each strategy lies within these bounds:
   *
   * <table>
   *   <caption>Jitter bounds</caption>
   *   <tr><th>strategy</th><th>delay</th></tr>
   *   <tr><td>{@link #none()}</td><td>exactly {@code d}</td></tr>
   *   <tr><td>{@link #proportional(double) proportional(f)}</td>
   *       <td>uniform in [{@code d(1−f)}, {@code min(cap, d(1+f))}]</td></tr>
   *   <tr><td>{@link #full()}</td><td>uniform in [0, {@code d}]</td></tr>
   *   <tr><td>{@link #equal()}</td><td>uniform in [{@code d/2}, {@code d}]</td></tr>
   *   <tr><td>{@link #decorrelated()}</td>
   *       <td>{@code s₂} uniform in [{@code base}, {@code min(cap, 3·base)}], then {@code sₙ} uniform
   *       in [{@code base}, {@code min(cap, 3·sₙ₋₁)}]; the multiplier is not used</td></tr>
   * </table>
   *
   * <p>Proportional jitter is drawn over the interval cut at the cap rather than clamped to it, so
   * work orders whose delay has reached the cap still spread out instead of piling up at exactly
   * {@code maxDelay}.
   */
  public static final class Jitter {

    /** The strategies. */
    public enum Kind {
      /** No jitter: the exponential delay itself. */
      NONE,
      /** The exponential delay, plus or minus a fraction of it. */
      PROPORTIONAL,
      /** Anywhere between zero and the exponential delay ("full jitter"). */
      FULL,
      /** Half the exponential delay plus up to the other half ("equal jitter"). */
      EQUAL,
      /** Between the base delay and three times the previous delay ("decorrelated jitter"). */
      DECORRELATED
    }

    private static final Jitter NONE = new Jitter(Kind.NONE, 0);
    private static final Jitter FULL = new Jitter(Kind.FULL, 0);
    private static final Jitter EQUAL = new Jitter(Kind.EQUAL, 0);
    private static final Jitter DECORRELATED = new Jitter(Kind.DECORRELATED, 0);

    private final Kind kind;
    private final double factor;

    private Jitter(Kind kind, double factor) {
      this.kind = kind;
      this.factor = factor;
    }

    /**
     * No jitter.
     *
     * @return the strategy
     */
    public static Jitter none() {
      return NONE;
    }

    /**
     * The delay, plus or minus {@code factor} of it (AgentGate's {@code jitterFactor}): with 0.1 a
     * 10 s delay becomes 9 to 11 s.
     *
     * @param factor the fraction, within [0, 1]
     * @return the strategy
     * @throws IllegalArgumentException if the factor is outside [0, 1] or not a number
     */
    public static Jitter proportional(double factor) {
      if (!(factor >= 0 && factor <= 1)) {
        throw new IllegalArgumentException("jitter factor must be within [0, 1], got " + factor);
      }
      return new Jitter(Kind.PROPORTIONAL, factor + 0.0); // -0.0 becomes 0.0
    }

    /**
     * Uniform between zero and the delay: spreads retries the most.
     *
     * @return the strategy
     */
    public static Jitter full() {
      return FULL;
    }

    /**
     * Half the delay plus a uniform share of the other half: never retries sooner than half the
     * delay.
     *
     * @return the strategy
     */
    public static Jitter equal() {
      return EQUAL;
    }

    /**
     * Each delay uniform between the base delay and three times the one before, at most the maximum
     * delay. It needs a positive base delay.
     *
     * @return the strategy
     */
    public static Jitter decorrelated() {
      return DECORRELATED;
    }

    /**
     * The strategy.
     *
     * @return its kind
     */
    public Kind kind() {
      return kind;
    }

    /**
     * The fraction of a {@link Kind#PROPORTIONAL} strategy.
     *
     * @return the factor, 0 for the other kinds
     */
    public double factor() {
      return factor;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Jitter j && j.kind == kind && Double.compare(j.factor, factor) == 0;
    }

    @Override
    public int hashCode() {
      return Objects.hash(kind, factor);
    }

    @Override
    public String toString() {
      return kind == Kind.PROPORTIONAL
          ? "proportional(" + factor + ")"
          : kind.name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
