package dev.workgate.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TextTest {

  @Test
  void a_name_is_printable_and_short() {
    assertThat(Text.requireName("agents.gpu-1", "queue")).isEqualTo("agents.gpu-1");
    assertThat(Text.requireName("x".repeat(Text.MAX_NAME_LENGTH), "queue")).hasSize(200);
    assertThatThrownBy(() -> Text.requireName("x".repeat(201), "queue"))
        .hasMessageContaining("queue must be at most 200 characters, got 201");
    assertThatThrownBy(() -> Text.requireName("a\tb", "type"))
        .hasMessage("type must not contain control characters, found U+0009 at index 1");
    assertThatThrownBy(() -> Text.requireName(" ", "owner"))
        .hasMessage("owner must not be blank, got: ' '");
    assertThatThrownBy(() -> Text.requireName(null, "owner"))
        .hasMessage("owner must not be blank, got: null");
  }

  @Test
  void free_text_keeps_everything_but_nul() {
    assertThat(Text.storable("line 1\nline 2\ttab")).isEqualTo("line 1\nline 2\ttab");
    assertThat(Text.storable("a\u0000b")).isEqualTo("a\uFFFDb");
    assertThat(ErrorInfo.fatal("AGENT_FATAL_ERROR", "stderr: \u0000").message())
        .isEqualTo("stderr: \uFFFD");
    assertThat(new WorkOrderEvent.Cancelled("\u0000").reason()).isEqualTo("\uFFFD");
  }

  @Test
  void a_duration_reads_as_the_rest_of_the_product_writes_it() {
    assertThat(Text.duration(Duration.ZERO)).isEqualTo("0ms");
    assertThat(Text.duration(Duration.ofMillis(850))).isEqualTo("850ms");
    assertThat(Text.duration(Duration.ofSeconds(20))).isEqualTo("20.0s");
    assertThat(Text.duration(Duration.ofMillis(12_480))).isEqualTo("12.4s");
    assertThat(Text.duration(Duration.ofSeconds(185))).isEqualTo("3m05s");
    assertThat(Text.duration(Duration.ofMinutes(127))).isEqualTo("2h07m");
    assertThat(Text.duration(Duration.ofHours(76))).isEqualTo("3d04h");
    assertThat(Text.duration(Duration.ofSeconds(-2))).isEqualTo("-2.0s");
    assertThat(Text.duration(Duration.ofSeconds(Long.MAX_VALUE))).endsWith("h");
    assertThat(Text.duration(Duration.ofSeconds(Long.MIN_VALUE))).startsWith("-").endsWith("h");
  }
}
