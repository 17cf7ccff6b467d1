package dev.workgate.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.retry.RetryPolicy.Jitter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code docs/retry.md} says what the code does: its defaults, messages and classification. */
class RetryDocTest {
  private static String doc;

  @BeforeAll
  static void read() throws IOException {
    doc = Files.readString(Path.of("..", "docs", "retry.md"));
  }

  @Test
  void the_documented_rejections_are_the_messages_the_builder_gives() {
    assertDocumented(() -> RetryPolicy.builder().maxAttempts(0));
    assertDocumented(() -> RetryPolicy.builder().baseDelay(Duration.ofSeconds(-1)));
    assertDocumented(() -> RetryPolicy.builder().multiplier(0.5));
    assertDocumented(() -> Jitter.proportional(1.5));
    assertDocumented(
        () ->
            RetryPolicy.builder()
                .baseDelay(Duration.ofSeconds(5))
                .maxDelay(Duration.ofSeconds(1))
                .build());
    assertDocumented(() -> RetryPolicy.builder().retryOn("QUOTA").neverRetryOn("QUOTA").build());
    assertDocumented(
        () -> RetryPolicy.builder().baseDelay(Duration.ZERO).jitter(Jitter.decorrelated()).build());
  }

  @Test
  void the_documented_defaults_are_the_defaults() {
    RetryPolicy defaults = RetryPolicy.defaults();
    assertThat(defaults.maxAttempts()).isEqualTo(4);
    assertThat(doc).contains("| `maxAttempts` | 4 (the first execution and 3 retries) |");
    assertThat(defaults.baseDelay()).isEqualTo(Duration.ofSeconds(5));
    assertThat(doc).contains("| `baseDelay` | 5 s |");
    assertThat(defaults.multiplier()).isEqualTo(2.0);
    assertThat(doc).contains("| `multiplier` | 2 |");
    assertThat(defaults.maxDelay()).isEqualTo(Duration.ofMinutes(5));
    assertThat(doc).contains("| `maxDelay` | 5 min |");
    assertThat(defaults.jitter()).isEqualTo(Jitter.proportional(0.1));
    assertThat(doc).contains("| `jitter` | `Jitter.proportional(0.1)` (±10 %) |");
  }

  @Test
  void every_default_code_is_in_the_classification_table_with_its_retryability() {
    ErrorClassifier classifier = ErrorClassifier.defaults();
    String retryable = tableRow("| code `SANDBOX_CREATION_FAILED`");
    String fatal = tableRow("| code `INVALID_WORK_ORDER`");
    assertThat(retryable).endsWith("| itself | yes |");
    assertThat(fatal).endsWith("| itself | no |");
    for (String code : ErrorCodes.RETRYABLE_BY_DEFAULT) {
      assertThat(classifier.isRetryable(code)).as(code).isTrue();
      if (!code.equals(ErrorCodes.UNKNOWN_ERROR)) {
        assertThat(retryable).contains("`" + code + "`");
      }
    }
    for (String code : ErrorCodes.FATAL_BY_DEFAULT) {
      assertThat(classifier.isRetryable(code)).as(code).isFalse();
      assertThat(fatal).contains("`" + code + "`");
    }
  }

  private static String tableRow(String start) {
    int from = doc.indexOf(start);
    assertThat(from).as("row starting %s", start).isNotNegative();
    return doc.substring(from, doc.indexOf('\n', from));
  }

  private static void assertDocumented(ThrowingCallable call) {
    assertThatThrownBy(call)
        .isInstanceOf(IllegalArgumentException.class)
        .satisfies(e -> assertThat(doc).contains(e.getMessage()));
  }
}
