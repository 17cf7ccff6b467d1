package dev.workgate.retry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.retry.RetryPolicy.Jitter;
import java.math.BigDecimal;
import java.math.MathContext;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

/**
 * Properties of the retry arithmetic: backoff without jitter is monotone and capped, every jitter
 * strategy stays within the bounds {@link Jitter} documents, and delays are a pure function of the
 * attempt and the values drawn. The expected bounds are computed here, written separately from
 * {@link RetryPolicy}'s own arithmetic.
 */
class RetryPolicyProperties {

  /**
   * The attempts the properties look at; beyond {@link RetryPolicy#MAX_ATTEMPTS_LIMIT} on purpose.
   */
  private static final int MAX_ATTEMPT = 2_000;

  /** Rounding to whole nanoseconds is the only slack the bounds get. */
  private static final BigDecimal SLACK = BigDecimal.ONE;

  private static final MathContext EXACT_ENOUGH = MathContext.DECIMAL128;
  private static final BigDecimal TWO = BigDecimal.valueOf(2);
  private static final BigDecimal THREE = BigDecimal.valueOf(3);

  /** Each try walks 2,000 attempts, so fewer tries cover plenty. */
  @Property(tries = 100)
  void without_jitter_the_delay_never_decreases_and_never_exceeds_max_delay(
      @ForAll("policiesWithoutJitter") RetryPolicy policy) {
    Duration previous = Duration.ZERO;
    for (int attempt = 1; attempt <= MAX_ATTEMPT; attempt++) {
      Duration delay = policy.delayBeforeAttempt(attempt, NO_DRAWS);

      assertThat(delay)
          .as("%s: delay before attempt %d", policy, attempt)
          .isGreaterThanOrEqualTo(previous)
          .isLessThanOrEqualTo(policy.maxDelay())
          .isEqualTo(policy.backoffBeforeAttempt(attempt));
      previous = delay;
    }
  }

  @Property(tries = 1000)
  void every_jitter_strategy_stays_within_its_documented_bounds(
      @ForAll("policies") RetryPolicy policy,
      @ForAll @IntRange(min = 1, max = MAX_ATTEMPT) int attempt,
      @ForAll long seed) {
    Statistics.label("jitter").collect(policy.jitter().kind());
    Bounds bounds = Bounds.of(policy, attempt);
    List<RandomGenerator> sources =
        List.of(
            new SplittableRandom(seed),
            new ExtremeDoubles(0.0),
            new ExtremeDoubles(Math.nextDown(1.0)),
            new ExtremeDoubles(0.0, Math.nextDown(1.0)),
            new ExtremeDoubles(Math.nextDown(1.0), 0.0));

    for (RandomGenerator random : sources) {
      Duration delay = policy.delayBeforeAttempt(attempt, random);

      assertThat(delay)
          .as("%s: delay before attempt %d drawn from %s", policy, attempt, random)
          .isLessThanOrEqualTo(policy.maxDelay())
          .isGreaterThanOrEqualTo(Duration.ZERO);
      assertThat(BigDecimal.valueOf(delay.toNanos()))
          .as(
              "%s: delay before attempt %d drawn from %s, in nanoseconds, within %s",
              policy, attempt, random, bounds)
          .isBetween(bounds.low().subtract(SLACK), bounds.high().add(SLACK));
    }
  }

  @Property(tries = 1000)
  void the_delay_depends_only_on_the_attempt_and_the_values_drawn(
      @ForAll("policies") RetryPolicy policy,
      @ForAll @IntRange(min = 1, max = MAX_ATTEMPT) int attempt,
      @ForAll long seed,
      @ForAll long otherSeed) {
    Duration first = policy.delayBeforeAttempt(attempt, new SplittableRandom(seed));
    policy.delayBeforeAttempt(attempt + 1, new SplittableRandom(otherSeed));
    policy.delayBeforeAttempt(2, new SplittableRandom(otherSeed));
    Duration again = policy.delayBeforeAttempt(attempt, new SplittableRandom(seed));
    Duration onACopy =
        policy.toBuilder().build().delayBeforeAttempt(attempt, new SplittableRandom(seed));

    assertThat(again).as("%s, attempt %d, seed %d", policy, attempt, seed).isEqualTo(first);
    assertThat(onACopy).as("%s, attempt %d, seed %d", policy, attempt, seed).isEqualTo(first);
  }

  @Property(tries = 1000)
  void attempt_one_is_always_immediate_and_draws_nothing(@ForAll("policies") RetryPolicy policy) {
    assertThat(policy.delayBeforeAttempt(1, NO_DRAWS)).as("%s", policy).isEqualTo(Duration.ZERO);
    assertThat(policy.backoffBeforeAttempt(1)).as("%s", policy).isEqualTo(Duration.ZERO);
  }

  // ---------------------------------------------------------------------------------------------
  // Expected bounds, in exact decimal arithmetic

  /**
   * The interval a delay must fall in, in nanoseconds, following the table in {@link Jitter}.
   *
   * @param low the shortest delay allowed
   * @param high the longest delay allowed
   */
  record Bounds(BigDecimal low, BigDecimal high) {

    static Bounds of(RetryPolicy policy, int attempt) {
      if (attempt == 1) {
        return new Bounds(BigDecimal.ZERO, BigDecimal.ZERO);
      }
      BigDecimal base = nanos(policy.baseDelay());
      BigDecimal cap = nanos(policy.maxDelay());
      BigDecimal d = grow(base, new BigDecimal(policy.multiplier()), attempt - 2, cap);
      Jitter jitter = policy.jitter();
      switch (jitter.kind()) {
        case NONE:
          return new Bounds(d, d);
        case PROPORTIONAL:
          BigDecimal f = new BigDecimal(jitter.factor());
          return new Bounds(
              d.multiply(BigDecimal.ONE.subtract(f)), cap.min(d.multiply(BigDecimal.ONE.add(f))));
        case FULL:
          return new Bounds(BigDecimal.ZERO, d);
        case EQUAL:
          return new Bounds(d.divide(TWO), d);
        case DECORRELATED:
          return new Bounds(base, grow(base, THREE, attempt - 1, cap));
        default:
          throw new AssertionError("a jitter kind the test does not know: " + jitter);
      }
    }

    /** {@code min(cap, start × factor^times)}, stopping early once the cap is reached. */
    private static BigDecimal grow(BigDecimal start, BigDecimal factor, int times, BigDecimal cap) {
      BigDecimal value = start;
      for (int i = 0; i < times && value.compareTo(cap) < 0; i++) {
        value = value.multiply(factor, EXACT_ENOUGH);
      }
      return value.min(cap);
    }

    private static BigDecimal nanos(Duration duration) {
      return BigDecimal.valueOf(duration.toNanos());
    }

    @Override
    public String toString() {
      return "[" + low.toPlainString() + ", " + high.toPlainString() + "] ns";
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Random sources

  /** A source that fails the test if anything is drawn from it. */
  private static final RandomGenerator NO_DRAWS =
      new RandomGenerator() {
        @Override
        public long nextLong() {
          throw new AssertionError("nothing should be drawn here");
        }

        @Override
        public double nextDouble() {
          throw new AssertionError("nothing should be drawn here");
        }

        @Override
        public String toString() {
          return "no draws";
        }
      };

  /** An adversarial source: its doubles cycle through the given extremes of [0, 1). */
  private static final class ExtremeDoubles implements RandomGenerator {
    private final double[] values;
    private int next;

    ExtremeDoubles(double... values) {
      this.values = values.clone();
    }

    @Override
    public double nextDouble() {
      double value = values[next];
      next = (next + 1) % values.length;
      return value;
    }

    @Override
    public long nextLong() {
      return nextDouble() == 0.0 ? 0L : -1L;
    }

    @Override
    public String toString() {
      return "extremes " + java.util.Arrays.toString(values);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Generators

  @Provide
  Arbitrary<RetryPolicy> policies() {
    return policies(jitters());
  }

  @Provide
  Arbitrary<RetryPolicy> policiesWithoutJitter() {
    return policies(Arbitraries.just(Jitter.none()));
  }

  private static Arbitrary<RetryPolicy> policies(Arbitrary<Jitter> jitters) {
    return Combinators.combine(
            Arbitraries.integers().between(1, RetryPolicy.MAX_ATTEMPTS_LIMIT),
            delayNanos(),
            delayNanos(),
            Arbitraries.integers().between(0, 9),
            multipliers(),
            jitters)
        .as(
            (attempts, one, other, sameDelays, multiplier, jitter) -> {
              long base = Math.min(one, other);
              if (base == 0 && jitter.kind() == Jitter.Kind.DECORRELATED) {
                base = 1;
              }
              long max = sameDelays == 0 ? base : Math.max(base, Math.max(one, other));
              return RetryPolicy.builder()
                  .maxAttempts(attempts)
                  .baseDelay(Duration.ofNanos(base))
                  .maxDelay(Duration.ofNanos(max))
                  .multiplier(multiplier)
                  .jitter(jitter)
                  .build();
            });
  }

  /** Delays of every magnitude, from 0 to {@link RetryPolicy#DELAY_LIMIT}, in nanoseconds. */
  private static Arbitrary<Long> delayNanos() {
    long limit = RetryPolicy.DELAY_LIMIT.toNanos();
    return Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.longs().between(0, limit)),
        Tuple.of(2, Arbitraries.longs().between(0, 10_000)),
        Tuple.of(
            2,
            Arbitraries.longs()
                .between(0, RetryPolicy.DELAY_LIMIT.toMillis())
                .map(ms -> ms * 1_000_000)),
        Tuple.of(2, Arbitraries.longs().between(0, 3_600).map(s -> s * 1_000_000_000)),
        Tuple.of(1, Arbitraries.of(0L, 1L, limit - 1, limit)));
  }

  /** Multipliers from 1 (a fixed delay) to {@link RetryPolicy#MULTIPLIER_LIMIT}. */
  private static Arbitrary<Double> multipliers() {
    return Arbitraries.frequencyOf(
        Tuple.of(
            2,
            Arbitraries.of(
                1.0, Math.nextUp(1.0), 1.5, 2.0, 3.0, 10.0, RetryPolicy.MULTIPLIER_LIMIT)),
        Tuple.of(2, Arbitraries.doubles().between(1.0, 1.01).ofScale(12)),
        Tuple.of(2, Arbitraries.doubles().between(1.0, 4.0).ofScale(12)),
        Tuple.of(1, Arbitraries.doubles().between(1.0, RetryPolicy.MULTIPLIER_LIMIT).ofScale(9)),
        Tuple.of(
            1,
            Arbitraries.randomValue(
                r -> 1.0 + r.nextDouble() * (RetryPolicy.MULTIPLIER_LIMIT - 1.0))));
  }

  private static Arbitrary<Jitter> jitters() {
    Arbitrary<Jitter> proportional =
        Arbitraries.oneOf(
                Arbitraries.of(0.0, 1.0, 0.1, 0.5),
                Arbitraries.doubles().between(0.0, 1.0).ofScale(12),
                Arbitraries.randomValue(RandomGenerator::nextDouble))
            .map(Jitter::proportional);
    return Arbitraries.oneOf(
        Arbitraries.just(Jitter.none()),
        Arbitraries.just(Jitter.full()),
        Arbitraries.just(Jitter.equal()),
        Arbitraries.just(Jitter.decorrelated()),
        proportional);
  }
}
