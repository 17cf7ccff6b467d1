package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** How health messages write durations and failures. */
class HealthTextTest {

  @Test
  void durations_read_as_everywhere_else_in_the_product() {
    assertThat(HealthText.duration(Duration.ofMillis(250))).isEqualTo("250ms");
    assertThat(HealthText.duration(Duration.ofMillis(1_500))).isEqualTo("1.5s");
    assertThat(HealthText.duration(Duration.ofSeconds(42))).isEqualTo("42.0s");
    assertThat(HealthText.duration(Duration.ofSeconds(119))).isEqualTo("1m59s");
    assertThat(HealthText.duration(Duration.ofMinutes(5))).isEqualTo("5m00s");
    assertThat(HealthText.duration(Duration.ofSeconds(725))).isEqualTo("12m05s");
    assertThat(HealthText.duration(Duration.ofMinutes(184))).isEqualTo("3h04m");
    assertThat(HealthText.duration(Duration.ofHours(2))).isEqualTo("2h00m");
  }

  @Test
  void store_failures_name_at_most_three_classes_and_survive_a_cause_cycle() {
    SQLException root = new SQLException("password=secret");
    IOException middle = new IOException("url", root);
    IllegalStateException top = new IllegalStateException("x", middle);
    root.initCause(top);

    assertThat(HealthText.classesOnly(top))
        .isEqualTo("IllegalStateException (caused by IOException, caused by SQLException)");
    assertThat(HealthText.classesOnly(new SQLException("a", new SQLException("b"))))
        .isEqualTo("SQLException");
  }

  @Test
  void other_failures_quote_the_start_of_their_message() {
    assertThat(HealthText.failure(new IllegalStateException("x".repeat(300))))
        .hasSize("IllegalStateException: ".length() + HealthText.MAX_QUOTED_MESSAGE)
        .endsWith("x…");
    assertThat(HealthText.failure(new NullPointerException())).isEqualTo("NullPointerException");
  }
}
