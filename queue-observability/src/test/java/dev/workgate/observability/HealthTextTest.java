package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** How health messages write failures. */
class HealthTextTest {

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
