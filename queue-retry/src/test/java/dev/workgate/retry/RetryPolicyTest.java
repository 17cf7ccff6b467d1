package dev.workgate.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.retry.RetryPolicy.Jitter;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

  private static final RandomGenerator RANDOM = new SplittableRandom(42);

  private static RetryPolicy defaultsWithoutJitter() {
    return RetryPolicy.defaults().toBuilder().jitter(Jitter.none()).build();
  }

  // --- defaults -----------------------------------------------------------------------------

  @Test
  void
      defaults_are_four_attempts_five_seconds_doubling_up_to_five_minutes_with_ten_percent_jitter() {
    RetryPolicy policy = RetryPolicy.defaults();

    assertThat(policy.maxAttempts()).isEqualTo(4);
    assertThat(policy.baseDelay()).isEqualTo(Duration.ofSeconds(5));
    assertThat(policy.multiplier()).isEqualTo(2.0);
    assertThat(policy.maxDelay()).isEqualTo(Duration.ofMinutes(5));
    assertThat(policy.jitter()).isEqualTo(Jitter.proportional(0.1));
    assertThat(policy.retryOn()).isEmpty();
    assertThat(policy.neverRetryOn()).isEmpty();
    assertThat(RetryPolicy.builder().build()).isEqualTo(policy);
  }

  @Test
  void none_allows_a_single_attempt() {
    assertThat(RetryPolicy.none().maxAttempts()).isEqualTo(1);
  }

  @Test
  void without_jitter_the_default_delays_double_from_five_seconds_up_to_five_minutes() {
    RetryPolicy policy = defaultsWithoutJitter();

    assertThat(policy.delayBeforeAttempt(1, RANDOM)).isEqualTo(Duration.ZERO);
    assertThat(policy.delayBeforeAttempt(2, RANDOM)).isEqualTo(Duration.ofSeconds(5));
    assertThat(policy.delayBeforeAttempt(3, RANDOM)).isEqualTo(Duration.ofSeconds(10));
    assertThat(policy.delayBeforeAttempt(4, RANDOM)).isEqualTo(Duration.ofSeconds(20));
    assertThat(policy.delayBeforeAttempt(7, RANDOM)).isEqualTo(Duration.ofSeconds(160));
    assertThat(policy.delayBeforeAttempt(8, RANDOM)).isEqualTo(Duration.ofMinutes(5));
    assertThat(policy.delayBeforeAttempt(1_000, RANDOM)).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void backoff_before_attempt_is_the_delay_before_jitter() {
    RetryPolicy policy = RetryPolicy.defaults();

    assertThat(policy.backoffBeforeAttempt(1)).isEqualTo(Duration.ZERO);
    assertThat(policy.backoffBeforeAttempt(2)).isEqualTo(Duration.ofSeconds(5));
    assertThat(policy.backoffBeforeAttempt(4)).isEqualTo(Duration.ofSeconds(20));
    assertThat(policy.backoffBeforeAttempt(8)).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void default_jitter_keeps_the_first_retry_within_ten_percent_of_five_seconds() {
    RetryPolicy policy = RetryPolicy.defaults();
    RandomGenerator random = new SplittableRandom(7);

    for (int i = 0; i < 1_000; i++) {
      assertThat(policy.delayBeforeAttempt(2, random))
          .isBetween(Duration.ofMillis(4_500), Duration.ofMillis(5_500));
    }
  }

  @Test
  void proportional_jitter_at_the_cap_spreads_below_it_instead_of_piling_up_on_it() {
    RetryPolicy policy = RetryPolicy.defaults();
    RandomGenerator random = new SplittableRandom(11);
    int atTheCap = 0;
    Duration shortest = policy.maxDelay();

    for (int i = 0; i < 1_000; i++) {
      Duration delay = policy.delayBeforeAttempt(50, random);
      assertThat(delay).isBetween(Duration.ofSeconds(270), Duration.ofMinutes(5));
      atTheCap += delay.equals(policy.maxDelay()) ? 1 : 0;
      shortest = delay.compareTo(shortest) < 0 ? delay : shortest;
    }

    assertThat(atTheCap).as("draws of exactly maxDelay").isLessThanOrEqualTo(10);
    assertThat(shortest).isLessThan(Duration.ofSeconds(280));
  }

  @Test
  void a_fixed_delay_stays_the_same_at_every_attempt() {
    RetryPolicy policy =
        RetryPolicy.builder()
            .baseDelay(Duration.ofSeconds(3))
            .maxDelay(Duration.ofSeconds(3))
            .multiplier(1.0)
            .jitter(Jitter.none())
            .build();

    for (int attempt = 2; attempt <= 1_000; attempt++) {
      assertThat(policy.delayBeforeAttempt(attempt, RANDOM)).isEqualTo(Duration.ofSeconds(3));
    }
  }

  @Test
  void
      a_zero_base_delay_retries_at_once_at_every_attempt_even_when_the_multiplier_power_overflows() {
    // 1000^103 overflows a double, and 0 × infinity must still be a zero delay, not maxDelay.
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(RetryPolicy.MAX_ATTEMPTS_LIMIT)
            .baseDelay(Duration.ZERO)
            .multiplier(RetryPolicy.MULTIPLIER_LIMIT)
            .maxDelay(Duration.ofMinutes(1))
            .jitter(Jitter.none())
            .build();

    for (int attempt = 1; attempt <= RetryPolicy.MAX_ATTEMPTS_LIMIT; attempt++) {
      assertThat(policy.delayBeforeAttempt(attempt, RANDOM))
          .as("delay before attempt %d", attempt)
          .isEqualTo(Duration.ZERO);
      assertThat(policy.backoffBeforeAttempt(attempt))
          .as("backoff before attempt %d", attempt)
          .isEqualTo(Duration.ZERO);
    }
  }

  @Test
  void a_capped_delay_never_exceeds_a_max_delay_that_a_double_cannot_represent() {
    // 2^54 + 6 ns (about 208 days) is not a double; the nearest one is 2 ns longer.
    Duration maxDelay = Duration.ofNanos((1L << 54) + 6);
    RetryPolicy policy =
        RetryPolicy.builder()
            .baseDelay(Duration.ofSeconds(1))
            .maxDelay(maxDelay)
            .jitter(Jitter.none())
            .build();

    assertThat(policy.delayBeforeAttempt(100, RANDOM)).isEqualTo(maxDelay);
    assertThat(policy.backoffBeforeAttempt(100)).isEqualTo(maxDelay);
    for (Jitter jitter :
        new Jitter[] {
          Jitter.full(), Jitter.equal(), Jitter.decorrelated(), Jitter.proportional(1)
        }) {
      RetryPolicy jittered = policy.toBuilder().jitter(jitter).build();
      assertThat(jittered.delayBeforeAttempt(100, new AlmostOne()))
          .as("%s", jitter)
          .isLessThanOrEqualTo(maxDelay);
    }
  }

  @Test
  void without_jitter_the_first_retry_waits_exactly_the_base_delay_even_beyond_2_to_the_53_ns() {
    // 2^54 + 6 ns (about 208 days, within DELAY_LIMIT) is not a double; exactly d means no drift.
    Duration baseDelay = Duration.ofNanos((1L << 54) + 6);
    RetryPolicy policy =
        RetryPolicy.builder()
            .baseDelay(baseDelay)
            .maxDelay(RetryPolicy.DELAY_LIMIT)
            .jitter(Jitter.none())
            .build();

    assertThat(policy.delayBeforeAttempt(2, RANDOM)).isEqualTo(baseDelay);
    assertThat(policy.backoffBeforeAttempt(2)).isEqualTo(baseDelay);
  }

  @Test
  void attempts_below_one_are_rejected_naming_the_attempt() {
    RetryPolicy policy = RetryPolicy.defaults();

    assertThatIllegalArgumentException()
        .isThrownBy(() -> policy.delayBeforeAttempt(0, RANDOM))
        .withMessageContaining("attempt")
        .withMessageContaining("0");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> policy.backoffBeforeAttempt(-3))
        .withMessageContaining("attempt")
        .withMessageContaining("-3");
  }

  // --- builder validation -------------------------------------------------------------------

  @Test
  void negative_base_delay_is_rejected_naming_setting_and_value() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().baseDelay(Duration.ofMillis(-1)))
        .withMessageContaining("baseDelay")
        .withMessageContaining("-1ms");
  }

  @Test
  void negative_max_delay_is_rejected_naming_setting_and_value() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().maxDelay(Duration.ofSeconds(-2)))
        .withMessageContaining("maxDelay")
        .withMessageContaining("-2.0s");
  }

  @Test
  void null_delays_are_rejected_naming_the_setting() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().baseDelay(null))
        .withMessageContaining("baseDelay")
        .withMessageContaining("null");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().maxDelay(null))
        .withMessageContaining("maxDelay")
        .withMessageContaining("null");
  }

  @Test
  void delays_beyond_the_limit_are_rejected_and_the_limit_itself_is_accepted() {
    Duration tooLong = RetryPolicy.DELAY_LIMIT.plusNanos(1);

    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().baseDelay(tooLong))
        .withMessageContaining("baseDelay")
        .withMessageContaining(dev.workgate.core.internal.Text.duration(tooLong));
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().maxDelay(tooLong))
        .withMessageContaining("maxDelay")
        .withMessageContaining(dev.workgate.core.internal.Text.duration(tooLong));
    RetryPolicy atTheLimit =
        RetryPolicy.builder()
            .baseDelay(RetryPolicy.DELAY_LIMIT)
            .maxDelay(RetryPolicy.DELAY_LIMIT)
            .build();
    assertThat(atTheLimit.maxDelay()).isEqualTo(RetryPolicy.DELAY_LIMIT);
  }

  @Test
  void multiplier_below_one_is_rejected_naming_setting_and_value() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().multiplier(0.5))
        .withMessageContaining("multiplier")
        .withMessageContaining("0.5");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().multiplier(Math.nextDown(1.0)))
        .withMessageContaining("multiplier");
  }

  @Test
  void multiplier_that_is_not_a_finite_number_is_rejected_naming_setting_and_value() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().multiplier(Double.NaN))
        .withMessageContaining("multiplier")
        .withMessageContaining("NaN");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().multiplier(Double.POSITIVE_INFINITY))
        .withMessageContaining("multiplier")
        .withMessageContaining("Infinity");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().multiplier(Double.NEGATIVE_INFINITY))
        .withMessageContaining("multiplier")
        .withMessageContaining("-Infinity");
  }

  @Test
  void multiplier_above_the_limit_is_rejected_and_the_limit_itself_is_accepted() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().multiplier(1_000.5))
        .withMessageContaining("multiplier")
        .withMessageContaining("1000.5");
    assertThat(RetryPolicy.builder().multiplier(RetryPolicy.MULTIPLIER_LIMIT).build().multiplier())
        .isEqualTo(RetryPolicy.MULTIPLIER_LIMIT);
    assertThat(RetryPolicy.builder().multiplier(1.0).build().multiplier()).isEqualTo(1.0);
  }

  @Test
  void max_attempts_of_zero_or_above_the_limit_is_rejected_naming_setting_and_value() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().maxAttempts(0))
        .withMessageContaining("maxAttempts")
        .withMessageContaining("got 0");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().maxAttempts(-1))
        .withMessageContaining("maxAttempts")
        .withMessageContaining("-1");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().maxAttempts(RetryPolicy.MAX_ATTEMPTS_LIMIT + 1))
        .withMessageContaining("maxAttempts")
        .withMessageContaining("1001");
    assertThat(
            RetryPolicy.builder().maxAttempts(RetryPolicy.MAX_ATTEMPTS_LIMIT).build().maxAttempts())
        .isEqualTo(RetryPolicy.MAX_ATTEMPTS_LIMIT);
  }

  @Test
  void max_delay_below_base_delay_is_rejected_at_build_naming_both() {
    RetryPolicy.Builder builder =
        RetryPolicy.builder().baseDelay(Duration.ofSeconds(10)).maxDelay(Duration.ofSeconds(9));

    assertThatIllegalArgumentException()
        .isThrownBy(builder::build)
        .withMessageContaining("maxDelay")
        .withMessageContaining("9.0s")
        .withMessageContaining("baseDelay")
        .withMessageContaining("10.0s");
  }

  @Test
  void max_delay_equal_to_base_delay_is_accepted() {
    RetryPolicy policy =
        RetryPolicy.builder()
            .baseDelay(Duration.ofSeconds(10))
            .maxDelay(Duration.ofSeconds(10))
            .build();

    assertThat(policy.maxDelay()).isEqualTo(policy.baseDelay());
  }

  @Test
  void jitter_factor_outside_zero_to_one_or_not_a_number_is_rejected_naming_the_factor() {
    for (double factor :
        new double[] {-0.01, 1.01, 2, Double.NaN, Double.POSITIVE_INFINITY, -1e-300}) {
      assertThatIllegalArgumentException()
          .as("factor %s", factor)
          .isThrownBy(() -> Jitter.proportional(factor))
          .withMessageContaining("jitter factor")
          .withMessageContaining(String.valueOf(factor));
    }
    assertThat(Jitter.proportional(0).factor()).isEqualTo(0.0);
    assertThat(Jitter.proportional(1).factor()).isEqualTo(1.0);
  }

  @Test
  void a_code_in_both_retry_on_and_never_retry_on_is_rejected_at_build_naming_the_code() {
    RetryPolicy.Builder builder =
        RetryPolicy.builder().retryOn("TIMEOUT", "QUOTA_EXCEEDED").neverRetryOn("QUOTA_EXCEEDED");

    assertThatIllegalArgumentException()
        .isThrownBy(builder::build)
        .withMessageContaining("QUOTA_EXCEEDED")
        .withMessageContaining("retryOn")
        .withMessageContaining("neverRetryOn");
  }

  @Test
  void decorrelated_jitter_with_a_zero_base_delay_is_rejected_at_build() {
    RetryPolicy.Builder builder =
        RetryPolicy.builder().baseDelay(Duration.ZERO).jitter(Jitter.decorrelated());

    assertThatIllegalArgumentException()
        .isThrownBy(builder::build)
        .withMessageContaining("decorrelated")
        .withMessageContaining("baseDelay")
        .withMessageContaining("0ms");
    assertThat(builder.baseDelay(Duration.ofNanos(1)).build().jitter())
        .isEqualTo(Jitter.decorrelated());
  }

  @Test
  void invalid_error_code_names_are_rejected_naming_the_setting() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().retryOn(""))
        .withMessageContaining("retryOn");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().retryOn("   "))
        .withMessageContaining("retryOn")
        .withMessageContaining("'   '");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().neverRetryOn("BAD\nCODE"))
        .withMessageContaining("neverRetryOn")
        .withMessageContaining("U+000A");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().neverRetryOn("NUL\u0000"))
        .withMessageContaining("neverRetryOn")
        .withMessageContaining("U+0000");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().retryOn("OK", null))
        .withMessageContaining("retryOn")
        .withMessageContaining("null");
  }

  // --- builder state ------------------------------------------------------------------------

  @Test
  void to_builder_round_trip_gives_an_equal_policy() {
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(7)
            .baseDelay(Duration.ofMillis(250))
            .multiplier(1.5)
            .maxDelay(Duration.ofSeconds(90))
            .jitter(Jitter.equal())
            .retryOn(ErrorCodes.INVALID_WORK_ORDER)
            .neverRetryOn("QUOTA_EXCEEDED", ErrorCodes.TIMEOUT)
            .build();

    RetryPolicy copy = policy.toBuilder().build();

    assertThat(copy).isEqualTo(policy).hasSameHashCodeAs(policy).isNotSameAs(policy);
    assertThat(copy.toString()).isEqualTo(policy.toString());
    assertThat(policy.toBuilder().maxAttempts(8).build()).isNotEqualTo(policy);
    assertThat(policy.toBuilder().retryOn("OTHER").build()).isNotEqualTo(policy);
  }

  @Test
  void a_setter_that_threw_leaves_the_builder_as_it_was_and_usable() {
    RetryPolicy.Builder builder =
        RetryPolicy.builder()
            .maxAttempts(6)
            .baseDelay(Duration.ofSeconds(1))
            .multiplier(3)
            .maxDelay(Duration.ofMinutes(2))
            .retryOn("KEEP_ME");

    assertThatThrownBy(() -> builder.maxAttempts(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder.baseDelay(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder.multiplier(Double.NaN))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder.maxDelay(RetryPolicy.DELAY_LIMIT.plusDays(1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder.retryOn("VALID_BUT_IN_A_BAD_CALL", " "))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder.neverRetryOn("ALSO_VALID", "BAD\tCODE"))
        .isInstanceOf(IllegalArgumentException.class);
    RetryPolicy policy = builder.build();

    assertThat(policy.maxAttempts()).isEqualTo(6);
    assertThat(policy.baseDelay()).isEqualTo(Duration.ofSeconds(1));
    assertThat(policy.multiplier()).isEqualTo(3.0);
    assertThat(policy.maxDelay()).isEqualTo(Duration.ofMinutes(2));
    assertThat(policy.retryOn()).containsExactly("KEEP_ME");
    assertThat(policy.neverRetryOn()).isEmpty();
  }

  @Test
  void a_build_that_threw_leaves_the_builder_usable_once_the_conflict_is_fixed() {
    RetryPolicy.Builder builder =
        RetryPolicy.builder().baseDelay(Duration.ofMinutes(10)).maxDelay(Duration.ofMinutes(1));
    assertThatThrownBy(builder::build).isInstanceOf(IllegalArgumentException.class);

    RetryPolicy policy = builder.maxDelay(Duration.ofMinutes(10)).build();

    assertThat(policy.baseDelay()).isEqualTo(Duration.ofMinutes(10));
    assertThat(policy.maxDelay()).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void building_does_not_tie_the_policy_to_later_builder_changes() {
    RetryPolicy.Builder builder = RetryPolicy.builder().retryOn("FIRST");
    RetryPolicy policy = builder.build();

    builder.retryOn("SECOND").neverRetryOn("THIRD").maxAttempts(9);

    assertThat(policy.retryOn()).containsExactly("FIRST");
    assertThat(policy.neverRetryOn()).isEmpty();
    assertThat(policy.maxAttempts()).isEqualTo(RetryPolicy.DEFAULT_MAX_ATTEMPTS);
  }

  // --- retries(code, flag) ------------------------------------------------------------------

  @Test
  void never_retry_on_wins_over_an_error_that_says_it_is_retryable() {
    RetryPolicy policy = RetryPolicy.builder().neverRetryOn(ErrorCodes.TIMEOUT).build();

    assertThat(policy.retries(ErrorCodes.TIMEOUT, true)).isFalse();
    assertThat(policy.retries(ErrorCodes.TIMEOUT, false)).isFalse();
  }

  @Test
  void retry_on_makes_a_fatal_error_retry() {
    RetryPolicy policy = RetryPolicy.builder().retryOn(ErrorCodes.INVALID_WORK_ORDER).build();

    assertThat(policy.retries(ErrorCodes.INVALID_WORK_ORDER, false)).isTrue();
    assertThat(policy.retries(ErrorCodes.INVALID_WORK_ORDER, true)).isTrue();
  }

  @Test
  void codes_in_neither_set_follow_what_the_error_says() {
    RetryPolicy policy =
        RetryPolicy.builder()
            .retryOn(ErrorCodes.INVALID_WORK_ORDER)
            .neverRetryOn(ErrorCodes.TIMEOUT)
            .build();

    assertThat(policy.retries(ErrorCodes.NETWORK_ERROR, true)).isTrue();
    assertThat(policy.retries(ErrorCodes.NETWORK_ERROR, false)).isFalse();
    assertThat(policy.retries("HOST_SPECIFIC", true)).isTrue();
    assertThat(policy.retries("HOST_SPECIFIC", false)).isFalse();
  }

  /** Always draws the largest double below 1, the far end of every jitter interval. */
  private static final class AlmostOne implements RandomGenerator {
    @Override
    public long nextLong() {
      return -1L;
    }

    @Override
    public double nextDouble() {
      return Math.nextDown(1.0);
    }
  }

  @Test
  void a_null_jitter_or_code_list_is_rejected_like_any_other_bad_setting() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().jitter(null))
        .withMessageContaining("jitter");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().retryOn((String[]) null))
        .withMessageContaining("retryOn");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> RetryPolicy.builder().neverRetryOn((String[]) null))
        .withMessageContaining("neverRetryOn");
  }

  @Test
  void proportional_jitter_of_negative_zero_is_the_same_as_of_zero() {
    assertThat(Jitter.proportional(-0.0)).isEqualTo(Jitter.proportional(0.0));
    assertThat(Jitter.proportional(-0.0).hashCode()).isEqualTo(Jitter.proportional(0.0).hashCode());
  }

  @Test
  void huge_attempt_numbers_give_the_cap_without_overflowing() {
    RetryPolicy steep = RetryPolicy.builder().multiplier(1000).jitter(Jitter.none()).build();
    RetryPolicy flat = RetryPolicy.builder().multiplier(1).jitter(Jitter.none()).build();

    assertThat(steep.delayBeforeAttempt(Integer.MAX_VALUE, new SplittableRandom(1)))
        .isEqualTo(steep.maxDelay());
    assertThat(steep.backoffBeforeAttempt(Integer.MAX_VALUE)).isEqualTo(steep.maxDelay());
    assertThat(flat.backoffBeforeAttempt(Integer.MAX_VALUE)).isEqualTo(flat.baseDelay());
  }
}
