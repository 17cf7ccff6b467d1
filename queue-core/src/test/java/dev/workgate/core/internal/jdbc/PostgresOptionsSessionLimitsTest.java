package dev.workgate.core.internal.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.store.PostgresOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The session-limit settings of {@link PostgresOptions}: defaults, off, and refused values. */
class PostgresOptionsSessionLimitsTest {

  @Test
  void the_defaults_are_well_below_the_default_lease() {
    PostgresOptions o = PostgresOptions.defaults();
    assertThat(o.idleInTransactionTimeout())
        .isEqualTo(PostgresOptions.DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT)
        .isLessThan(Duration.ofSeconds(30).dividedBy(3));
    assertThat(o.lockTimeout())
        .isEqualTo(PostgresOptions.DEFAULT_LOCK_TIMEOUT)
        .isGreaterThan(o.idleInTransactionTimeout())
        .isLessThan(Duration.ofSeconds(30).dividedBy(2));
  }

  @Test
  void null_and_zero_turn_a_limit_off() {
    PostgresOptions o =
        PostgresOptions.builder().idleInTransactionTimeout(null).lockTimeout(Duration.ZERO).build();
    assertThat(o.idleInTransactionTimeout()).isZero();
    assertThat(o.lockTimeout()).isZero();
    assertThat(o.toString()).contains("idleInTransactionTimeout=PT0S", "lockTimeout=PT0S");
  }

  @Test
  void negative_sub_millisecond_and_too_long_limits_are_refused_naming_the_setting() {
    PostgresOptions.Builder b = PostgresOptions.builder();
    assertThatThrownBy(() -> b.idleInTransactionTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("idleInTransactionTimeout")
        .hasMessageContaining("PT-1S");
    assertThatThrownBy(() -> b.lockTimeout(Duration.ofNanos(1_500_000)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lockTimeout")
        .hasMessageContaining("whole milliseconds");
    assertThatThrownBy(() -> b.lockTimeout(Duration.ofMillis(Integer.MAX_VALUE + 1L)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lockTimeout");
    assertThat(b.lockTimeout(Duration.ofMillis(Integer.MAX_VALUE)).build().lockTimeout())
        .isEqualTo(Duration.ofMillis(Integer.MAX_VALUE));
  }
}
