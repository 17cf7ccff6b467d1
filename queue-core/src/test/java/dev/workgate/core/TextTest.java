package dev.workgate.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.internal.Text;
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

  @Test
  void a_name_must_be_well_formed_utf_16() {
    assertThat(Text.requireName("rocket-🚀", "label key")).isEqualTo("rocket-🚀");
    assertThatThrownBy(() -> Text.requireName("key-\uD800", "idempotencyKey"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "idempotencyKey must be well-formed UTF-16, found an unpaired surrogate U+D800 at"
                + " index 4");
    assertThatThrownBy(() -> Text.requireName("\uDC00🚀", "type"))
        .hasMessageEndingWith("unpaired surrogate U+DC00 at index 0");
    assertThatThrownBy(() -> Text.requireName("🚀".repeat(101), "queue"))
        .hasMessageContaining(
            "queue must be at most 200 characters, got 202 starting '" + "🚀".repeat(10) + "…'");
  }

  @Test
  void free_text_replaces_unpaired_surrogates_as_it_replaces_nul() {
    assertThat(Text.storable("a\uD800b\uDC00c🚀\uD83D")).isEqualTo("a\uFFFDb\uFFFDc🚀\uFFFD");
    assertThat(new WorkOrderEvent.CancellationRequested("x\uDBFF").reason()).isEqualTo("x\uFFFD");
  }

  @Test
  void caller_text_over_its_limit_is_refused_naming_field_limit_and_length() {
    assertThat(Text.requireFreeText("r".repeat(2000), "reason", 2000)).hasSize(2000);
    assertThatThrownBy(() -> Text.requireFreeText("r".repeat(2001), "reason", 2000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "reason must be at most 2000 characters, got 2001 starting 'rrrrrrrrrrrrrrrrrrrr…'");
  }

  @Test
  void handler_text_over_its_limit_is_cut_with_a_marker_and_cutting_again_changes_nothing() {
    assertThat(Text.truncate("m".repeat(8192), 8192)).isEqualTo("m".repeat(8192));
    String cut = Text.truncate("m".repeat(10_000), 8192);
    assertThat(cut).hasSize(8192).endsWith("… [truncated, 10000 characters in all]");
    assertThat(Text.truncate(cut, 8192)).isEqualTo(cut);
    // never inside a surrogate pair: the pair is dropped whole
    String marker = "… [truncated, 300 characters in all]";
    String pairs = "a" + "🚀".repeat(150);
    String cutPairs = Text.truncate(pairs.substring(0, 300), 200);
    assertThat(cutPairs).endsWith(marker);
    assertThat(Text.firstUnpairedSurrogate(cutPairs)).isEqualTo(-1);
    assertThat(cutPairs.length()).isBetween(199, 200);
  }

  @Test
  void durations_in_health_messages_read_as_everywhere_else() {
    assertThat(Text.duration(Duration.ofMillis(250))).isEqualTo("250ms");
    assertThat(Text.duration(Duration.ofMillis(1_500))).isEqualTo("1.5s");
    assertThat(Text.duration(Duration.ofSeconds(42))).isEqualTo("42.0s");
    assertThat(Text.duration(Duration.ofSeconds(119))).isEqualTo("1m59s");
    assertThat(Text.duration(Duration.ofMinutes(5))).isEqualTo("5m00s");
    assertThat(Text.duration(Duration.ofSeconds(725))).isEqualTo("12m05s");
    assertThat(Text.duration(Duration.ofMinutes(184))).isEqualTo("3h04m");
    assertThat(Text.duration(Duration.ofHours(2))).isEqualTo("2h00m");
  }

  @Test
  void truncate_to_a_limit_shorter_than_its_marker_cuts_without_the_marker() {
    String text = "x".repeat(100);

    assertThat(Text.truncate(text, 10)).isEqualTo("x".repeat(10));
    assertThat(Text.truncate(text, 0)).isEmpty();
    assertThat(Text.truncate("\uD83D\uDE00" + text, 1)).isEmpty();
  }
}
