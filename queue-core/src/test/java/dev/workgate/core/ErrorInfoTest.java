package dev.workgate.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.ErrorInfo.ErrorCodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class ErrorInfoTest {

  @Test
  void retryable_and_fatal_set_the_flag() {
    assertThat(ErrorInfo.retryable(ErrorCodes.TIMEOUT, "m"))
        .isEqualTo(new ErrorInfo("TIMEOUT", "m", true));
    assertThat(ErrorInfo.fatal(ErrorCodes.CANCELLED, ""))
        .isEqualTo(new ErrorInfo("CANCELLED", "", false));
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(strings = {"", " "})
  void a_blank_code_is_rejected(String code) {
    assertThatThrownBy(() -> new ErrorInfo(code, "m", true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("error code must not be blank");
  }

  @Test
  void a_null_message_is_rejected_with_an_illegal_argument_as_documented() {
    assertThatThrownBy(() -> new ErrorInfo("X", null, true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("message")
        .hasMessageContaining("X");
  }

  @Test
  void the_default_code_sets_are_disjoint_and_cover_the_design_codes() {
    assertThat(ErrorCodes.RETRYABLE_BY_DEFAULT)
        .doesNotContainAnyElementsOf(ErrorCodes.FATAL_BY_DEFAULT);
    assertThat(ErrorCodes.RETRYABLE_BY_DEFAULT)
        .contains("SANDBOX_CREATION_FAILED", "TIMEOUT", "OOM_KILLED", "NETWORK_ERROR");
    assertThat(ErrorCodes.FATAL_BY_DEFAULT)
        .contains("INVALID_WORK_ORDER", "AGENT_FATAL_ERROR", "CANCELLED");
  }
}
