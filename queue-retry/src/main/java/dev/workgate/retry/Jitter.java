package dev.workgate.retry;

import java.util.Objects;

/**
 * How a {@link RetryPolicy} spreads retry delays so that work orders that failed together do not
 * all retry at the same instant. Immutable and thread-safe.
 *
 * <p>With {@code d} the exponential delay before an attempt ({@code baseDelay × multiplier^(n−2)},
 * at most {@code maxDelay}), {@code base} the base delay and {@code cap} the maximum delay, a delay
 * drawn with each strategy lies within these bounds:
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
public final class Jitter {

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
   * The delay, plus or minus {@code factor} of it (AgentGate's {@code jitterFactor}): with 0.1 a 10
   * s delay becomes 9 to 11 s.
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
