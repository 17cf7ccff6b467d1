package dev.workgate.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ErrorClassifierTest {

  private final ErrorClassifier classifier = ErrorClassifier.defaults();

  // --- codes --------------------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(
      strings = {
        ErrorCodes.SANDBOX_CREATION_FAILED,
        ErrorCodes.TIMEOUT,
        ErrorCodes.OOM_KILLED,
        ErrorCodes.NETWORK_ERROR,
        ErrorCodes.LEASE_EXPIRED,
        ErrorCodes.UNKNOWN_ERROR
      })
  void default_retryable_codes_are_retryable(String code) {
    assertThat(classifier.isRetryable(code)).isTrue();
    assertThat(classifier.classify(code, "boom")).isEqualTo(new ErrorInfo(code, "boom", true));
    assertThat(classifier.knownCodes()).containsEntry(code, true);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {ErrorCodes.INVALID_WORK_ORDER, ErrorCodes.AGENT_FATAL_ERROR, ErrorCodes.CANCELLED})
  void default_fatal_codes_are_not_retryable(String code) {
    assertThat(classifier.isRetryable(code)).isFalse();
    assertThat(classifier.classify(code, "boom")).isEqualTo(new ErrorInfo(code, "boom", false));
    assertThat(classifier.knownCodes()).containsEntry(code, false);
  }

  @Test
  void an_unknown_code_is_retryable_by_default() {
    assertThat(classifier.isRetryable("QUOTA_EXCEEDED")).isTrue();
    assertThat(classifier.classify("QUOTA_EXCEEDED", "").retryable()).isTrue();
  }

  @Test
  void an_unknown_code_is_not_retryable_when_unknown_codes_are_not() {
    ErrorClassifier strict = ErrorClassifier.builder().unknownCodesRetryable(false).build();

    assertThat(strict.isRetryable("QUOTA_EXCEEDED")).isFalse();
    assertThat(strict.classify("QUOTA_EXCEEDED", "").retryable()).isFalse();
    assertThat(strict.isRetryable(ErrorCodes.UNKNOWN_ERROR)).isTrue();
    assertThat(strict.isRetryable(ErrorCodes.TIMEOUT)).isTrue();
  }

  @Test
  void a_host_code_mapping_adds_a_code_and_can_override_a_default() {
    ErrorClassifier custom =
        ErrorClassifier.builder()
            .code("QUOTA_EXCEEDED", false)
            .code(ErrorCodes.TIMEOUT, false)
            .code(ErrorCodes.CANCELLED, true)
            .build();

    assertThat(custom.classify("QUOTA_EXCEEDED", "over quota").retryable()).isFalse();
    assertThat(custom.isRetryable(ErrorCodes.TIMEOUT)).isFalse();
    assertThat(custom.isRetryable(ErrorCodes.CANCELLED)).isTrue();
    assertThat(ErrorClassifier.defaults().isRetryable(ErrorCodes.TIMEOUT)).isTrue();
  }

  @Test
  void classifying_an_invalid_code_is_rejected() {
    assertThatIllegalArgumentException().isThrownBy(() -> classifier.classify(" ", "m"));
    assertThatIllegalArgumentException().isThrownBy(() -> classifier.classify("A\u0007B", "m"));
    assertThatIllegalArgumentException().isThrownBy(() -> classifier.classify((String) null, "m"));
  }

  @Test
  void invalid_host_mappings_are_rejected_naming_the_setting() {
    ErrorClassifier.Builder builder = ErrorClassifier.builder();

    assertThatIllegalArgumentException()
        .isThrownBy(() -> builder.code("", true))
        .withMessageContaining("classifier code");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> builder.exception(IllegalStateException.class, "BAD\nCODE"))
        .withMessageContaining("classifier exception code");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> builder.exitCode(3, " "))
        .withMessageContaining("classifier exit-code code");
  }

  // --- exit codes ---------------------------------------------------------------------------

  @Test
  void exit_code_137_is_oom_killed_and_retryable() {
    ErrorInfo info = classifier.classifyExitCode(137, "");

    assertThat(info).isEqualTo(new ErrorInfo(ErrorCodes.OOM_KILLED, "exit code 137", true));
    assertThat(classifier.classifyExitCode(137, "Killed").message())
        .isEqualTo("exit code 137: Killed");
  }

  @Test
  void other_exit_codes_are_unknown_errors_whose_message_names_the_exit_code() {
    assertThat(classifier.classifyExitCode(1, ""))
        .isEqualTo(new ErrorInfo(ErrorCodes.UNKNOWN_ERROR, "exit code 1", true));
    assertThat(classifier.classifyExitCode(2, "segfault in worker"))
        .isEqualTo(
            new ErrorInfo(ErrorCodes.UNKNOWN_ERROR, "exit code 2: segfault in worker", true));
    assertThat(classifier.classifyExitCode(-9, "").message()).isEqualTo("exit code -9");
    assertThat(classifier.classifyExitCode(0, "").code()).isEqualTo(ErrorCodes.UNKNOWN_ERROR);
  }

  @Test
  void a_host_exit_code_mapping_adds_one_and_can_override_137() {
    ErrorClassifier custom =
        ErrorClassifier.builder()
            .exitCode(2, ErrorCodes.INVALID_WORK_ORDER)
            .exitCode(137, "SIGKILLED")
            .code("SIGKILLED", false)
            .build();

    assertThat(custom.classifyExitCode(2, "usage: agent [options]"))
        .isEqualTo(
            new ErrorInfo(
                ErrorCodes.INVALID_WORK_ORDER, "exit code 2: usage: agent [options]", false));
    assertThat(custom.classifyExitCode(137, ""))
        .isEqualTo(new ErrorInfo("SIGKILLED", "exit code 137", false));
    assertThat(custom.classifyExitCode(3, "").code()).isEqualTo(ErrorCodes.UNKNOWN_ERROR);
  }

  @Test
  void exit_code_zero_cannot_be_mapped() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> ErrorClassifier.builder().exitCode(0, ErrorCodes.TIMEOUT))
        .withMessageContaining("exitCode 0");
  }

  @Test
  void a_huge_exit_detail_is_truncated_to_the_maximum_message_length() {
    ErrorInfo info = classifier.classifyExitCode(1, "e".repeat(10_000));

    assertThat(info.message())
        .hasSize(ErrorClassifier.MAX_MESSAGE_LENGTH)
        .startsWith("exit code 1: eee")
        .endsWith("…");
  }

  // --- exceptions ---------------------------------------------------------------------------

  @Test
  void io_exceptions_and_their_subclasses_are_network_errors() {
    for (Throwable failure :
        new Throwable[] {
          new IOException("broken pipe"),
          new ConnectException("Connection refused"),
          new SocketTimeoutException("Read timed out"),
          new FileNotFoundException("/tmp/x")
        }) {
      ErrorInfo info = classifier.classify(failure);

      assertThat(info.code()).as("%s", failure).isEqualTo(ErrorCodes.NETWORK_ERROR);
      assertThat(info.retryable()).as("%s", failure).isTrue();
    }
  }

  @Test
  void unchecked_io_exception_is_a_network_error() {
    ErrorInfo info =
        classifier.classify(new UncheckedIOException("read failed", new IOException("reset")));

    assertThat(info.code()).isEqualTo(ErrorCodes.NETWORK_ERROR);
    assertThat(info.retryable()).isTrue();
  }

  @Test
  void jackson_parse_failure_is_an_invalid_work_order_and_not_retryable() {
    ErrorInfo info =
        classifier.classify(new JsonParseException((JsonParser) null, "Unexpected character"));

    assertThat(info.code()).isEqualTo(ErrorCodes.INVALID_WORK_ORDER);
    assertThat(info.retryable()).isFalse();
    assertThat(info.message())
        .startsWith(JsonParseException.class.getName())
        .contains("Unexpected character");
  }

  @Test
  void timeout_exception_is_a_timeout() {
    ErrorInfo info = classifier.classify(new TimeoutException("no answer within 30 s"));

    assertThat(info)
        .isEqualTo(
            new ErrorInfo(
                ErrorCodes.TIMEOUT,
                "java.util.concurrent.TimeoutException: no answer within 30 s",
                true));
  }

  @Test
  void out_of_memory_error_is_oom_killed() {
    ErrorInfo info = classifier.classify(new OutOfMemoryError("Java heap space"));

    assertThat(info)
        .isEqualTo(
            new ErrorInfo(
                ErrorCodes.OOM_KILLED, "java.lang.OutOfMemoryError: Java heap space", true));
  }

  @Test
  void a_runtime_exception_wrapping_an_io_exception_is_a_network_error_through_its_cause() {
    ErrorInfo info =
        classifier.classify(
            new IllegalStateException(
                "could not fetch", new RuntimeException(new ConnectException("refused"))));

    assertThat(info.code()).isEqualTo(ErrorCodes.NETWORK_ERROR);
    assertThat(info.message()).isEqualTo("java.lang.IllegalStateException: could not fetch");
  }

  @Test
  void a_plain_runtime_exception_is_an_unknown_error() {
    ErrorInfo info = classifier.classify(new IllegalStateException("bug"));

    assertThat(info)
        .isEqualTo(
            new ErrorInfo(ErrorCodes.UNKNOWN_ERROR, "java.lang.IllegalStateException: bug", true));
    assertThat(classifier.classify(new Error("bad")).code()).isEqualTo(ErrorCodes.UNKNOWN_ERROR);
  }

  @Test
  @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void a_cause_beyond_the_maximum_depth_is_not_looked_at() {
    assertThat(
            classifier
                .classify(wrapped(new IOException("deep"), ErrorClassifier.MAX_CAUSE_DEPTH - 1))
                .code())
        .isEqualTo(ErrorCodes.NETWORK_ERROR);
    assertThat(
            classifier
                .classify(wrapped(new IOException("deep"), ErrorClassifier.MAX_CAUSE_DEPTH))
                .code())
        .isEqualTo(ErrorCodes.UNKNOWN_ERROR);
  }

  @Test
  @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void a_cause_cycle_made_with_init_cause_ends_as_an_unknown_error() {
    RuntimeException first = new RuntimeException("first");
    RuntimeException second = new RuntimeException("second", first);
    first.initCause(second);

    ErrorInfo info = classifier.classify(first);

    assertThat(info)
        .isEqualTo(
            new ErrorInfo(ErrorCodes.UNKNOWN_ERROR, "java.lang.RuntimeException: first", true));
  }

  @Test
  @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void a_cause_cycle_still_finds_a_mapped_exception_inside_it() {
    RuntimeException outer = new RuntimeException("outer");
    IOException inner = new IOException("inner", outer);
    outer.initCause(inner);

    assertThat(classifier.classify(outer).code()).isEqualTo(ErrorCodes.NETWORK_ERROR);
  }

  @Test
  @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void a_throwable_that_is_its_own_cause_ends_as_an_unknown_error() {
    ErrorInfo info = classifier.classify(new OwnCause("again and again"));

    assertThat(info)
        .isEqualTo(
            new ErrorInfo(
                ErrorCodes.UNKNOWN_ERROR, OwnCause.class.getName() + ": again and again", true));
  }

  @Test
  void a_host_mapping_for_a_subclass_beats_the_mapping_of_its_superclass() {
    ErrorClassifier custom =
        ErrorClassifier.builder()
            .exception(ConnectException.class, "CONNECTION_REFUSED")
            .code("CONNECTION_REFUSED", false)
            .build();

    assertThat(custom.classify(new ConnectException("refused")))
        .isEqualTo(
            new ErrorInfo("CONNECTION_REFUSED", "java.net.ConnectException: refused", false));
    assertThat(custom.classify(new SocketTimeoutException("slow")).code())
        .isEqualTo(ErrorCodes.NETWORK_ERROR);
    assertThat(custom.classify(new IOException("other")).code())
        .isEqualTo(ErrorCodes.NETWORK_ERROR);
  }

  @Test
  void a_host_mapping_for_the_thrown_class_beats_a_mapped_cause() {
    ErrorClassifier custom =
        ErrorClassifier.builder().exception(IllegalStateException.class, "HOST_BUG").build();

    ErrorInfo info =
        custom.classify(new IllegalStateException("wrapped", new IOException("network")));

    assertThat(info.code()).isEqualTo("HOST_BUG");
    assertThat(info.retryable()).isTrue();
    assertThat(custom.classify(new RuntimeException("other")).code())
        .isEqualTo(ErrorCodes.UNKNOWN_ERROR);
  }

  @Test
  void a_host_mapping_for_a_superclass_covers_its_unmapped_subclasses() {
    ErrorClassifier custom =
        ErrorClassifier.builder()
            .exception(RuntimeException.class, "HOST_RUNTIME")
            .code("HOST_RUNTIME", false)
            .build();

    assertThat(custom.classify(new IllegalArgumentException("x")))
        .isEqualTo(new ErrorInfo("HOST_RUNTIME", "java.lang.IllegalArgumentException: x", false));
    assertThat(custom.classify(new UncheckedIOException(new IOException("y"))).code())
        .isEqualTo(ErrorCodes.NETWORK_ERROR);
  }

  @Test
  void a_later_host_mapping_replaces_an_earlier_one() {
    ErrorClassifier custom =
        ErrorClassifier.builder()
            .exception(IOException.class, "FIRST")
            .exception(IOException.class, "SECOND")
            .exitCode(5, "FIRST")
            .exitCode(5, "SECOND")
            .build();

    assertThat(custom.classify(new IOException("x")).code()).isEqualTo("SECOND");
    assertThat(custom.classifyExitCode(5, "").code()).isEqualTo("SECOND");
  }

  @Test
  void the_message_has_the_class_name_and_message_but_never_a_stack_trace() {
    Exception failure =
        new IllegalStateException("outer failure", new IOException("inner failure"));

    String message = classifier.classify(failure).message();

    assertThat(message)
        .isEqualTo("java.lang.IllegalStateException: outer failure")
        .doesNotContain("\tat ")
        .doesNotContain("Caused by");
  }

  @Test
  void a_null_or_empty_exception_message_gives_just_the_class_name() {
    assertThat(classifier.classify(new IllegalStateException()).message())
        .isEqualTo("java.lang.IllegalStateException");
    assertThat(classifier.classify(new IllegalStateException("")).message())
        .isEqualTo("java.lang.IllegalStateException");
  }

  @Test
  void a_message_that_throws_still_classifies() {
    ErrorInfo info = classifier.classify(new MessageThrows());

    assertThat(info.code()).isEqualTo(ErrorCodes.NETWORK_ERROR);
    assertThat(info.message())
        .startsWith(MessageThrows.class.getName())
        .contains("message unavailable");
  }

  @Test
  void a_nul_in_an_exception_message_is_replaced() {
    ErrorInfo info = classifier.classify(new RuntimeException("a\u0000b"));

    assertThat(info.message()).isEqualTo("java.lang.RuntimeException: a\uFFFDb");
  }

  @Test
  void a_ten_thousand_char_message_is_truncated_to_the_maximum_length_ending_with_an_ellipsis() {
    ErrorInfo info = classifier.classify(new RuntimeException("x".repeat(10_000)));

    assertThat(info.message())
        .hasSize(ErrorClassifier.MAX_MESSAGE_LENGTH)
        .startsWith("java.lang.RuntimeException: xxx")
        .endsWith("x…");
  }

  @Test
  void a_message_of_exactly_the_maximum_length_is_kept_whole() {
    String prefix = "java.lang.RuntimeException: ";
    String text = "y".repeat(ErrorClassifier.MAX_MESSAGE_LENGTH - prefix.length());

    assertThat(classifier.classify(new RuntimeException(text)).message()).isEqualTo(prefix + text);
  }

  private static Throwable wrapped(Throwable innermost, int wrappers) {
    Throwable t = innermost;
    for (int i = 0; i < wrappers; i++) {
      t = new RuntimeException("wrapper " + i, t);
    }
    return t;
  }

  @Test
  void truncation_never_splits_a_surrogate_pair() {
    String emoji = "\uD83D\uDE00";
    String prefix = "x".repeat(ErrorClassifier.MAX_MESSAGE_LENGTH - 2 - "exit code 1: ".length());
    ErrorInfo error = ErrorClassifier.defaults().classifyExitCode(1, prefix + emoji + "tail");

    String message = error.message();
    assertThat(message).endsWith("…").hasSizeLessThanOrEqualTo(ErrorClassifier.MAX_MESSAGE_LENGTH);
    char beforeEllipsis = message.charAt(message.length() - 2);
    assertThat(Character.isHighSurrogate(beforeEllipsis)).isFalse();
  }

  @Test
  void a_cause_that_cannot_be_read_ends_the_walk_with_what_was_found() {
    RuntimeException broken =
        new RuntimeException("outer") {
          private static final long serialVersionUID = 1L;

          @Override
          public synchronized Throwable getCause() {
            throw new IllegalStateException("no cause for you");
          }
        };

    assertThat(ErrorClassifier.defaults().classify(broken).code())
        .isEqualTo(ErrorCodes.UNKNOWN_ERROR);
  }

  @Test
  void a_wrapped_json_error_is_an_invalid_work_order_not_a_network_error() {
    ErrorInfo error =
        ErrorClassifier.defaults()
            .classify(
                new UncheckedIOException(
                    new JsonParseException((JsonParser) null, "unexpected character")));

    assertThat(error.code()).isEqualTo(ErrorCodes.INVALID_WORK_ORDER);
    assertThat(error.retryable()).isFalse();
  }

  /** A failure whose {@link #getCause()} is itself, which {@link Throwable#initCause} forbids. */
  private static final class OwnCause extends RuntimeException {
    private static final long serialVersionUID = 1L;

    OwnCause(String message) {
      super(message);
    }

    @Override
    public synchronized Throwable getCause() {
      return this;
    }
  }

  /** An I/O failure whose message cannot be computed. */
  private static final class MessageThrows extends IOException {
    private static final long serialVersionUID = 1L;

    @Override
    public String getMessage() {
      throw new IllegalStateException("no message for you");
    }

    @Override
    public String toString() {
      return getClass().getName();
    }
  }
}
