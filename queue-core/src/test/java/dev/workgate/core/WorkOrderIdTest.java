package dev.workgate.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class WorkOrderIdTest {

  @Test
  void of_keeps_the_text_and_toString_returns_it() {
    WorkOrderId id = WorkOrderId.of("wo-1");
    assertThat(id.value()).isEqualTo("wo-1");
    assertThat(id).hasToString("wo-1").isEqualTo(new WorkOrderId("wo-1"));
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(strings = {"", " ", "\t"})
  void a_blank_or_null_id_is_rejected_naming_the_value(String value) {
    assertThatThrownBy(() -> WorkOrderId.of(value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("work order id must not be blank")
        .hasMessageContaining(value == null ? "null" : "'" + value + "'");
  }

  @Test
  void an_id_of_128_characters_is_accepted_and_one_of_129_rejected_naming_the_length() {
    assertThat(WorkOrderId.of("x".repeat(WorkOrderId.MAX_LENGTH)).value()).hasSize(128);
    assertThatThrownBy(() -> WorkOrderId.of("x".repeat(129)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most 128")
        .hasMessageContaining("129");
  }

  @ParameterizedTest
  @ValueSource(strings = {"a\nb", "a\u0000", "\u007fx", "x\u0085"})
  void an_id_with_control_characters_is_rejected(String value) {
    assertThatThrownBy(() -> WorkOrderId.of(value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("control characters");
  }

  @Test
  void ids_may_hold_any_printable_text_including_non_ascii() {
    assertThat(WorkOrderId.of("tenant/α β:01HZX").value()).isEqualTo("tenant/α β:01HZX");
  }

  @Test
  void random_ids_are_time_ordered_v7_uuids_and_distinct() {
    Set<WorkOrderId> ids = new HashSet<>();
    long before = System.currentTimeMillis();
    for (int i = 0; i < 10_000; i++) {
      WorkOrderId id = WorkOrderId.random();
      UUID uuid = UUID.fromString(id.value());
      assertThat(uuid.version()).isEqualTo(7);
      assertThat(uuid.variant()).isEqualTo(2);
      assertThat(uuid.getMostSignificantBits() >>> 16)
          .as("48-bit millisecond prefix")
          .isBetween(before, System.currentTimeMillis());
      ids.add(id);
    }
    assertThat(ids).hasSize(10_000);
  }

  @Test
  void ids_compare_by_their_text() {
    assertThat(WorkOrderId.of("a")).isLessThan(WorkOrderId.of("b"));
    assertThat(WorkOrderId.of("b").compareTo(WorkOrderId.of("b"))).isZero();
    assertThat(WorkOrderId.of("b")).isGreaterThan(WorkOrderId.of("a1"));
  }

  @Test
  void equal_ids_have_equal_hash_codes() {
    assertThat(WorkOrderId.of("same")).hasSameHashCodeAs(WorkOrderId.of("same"));
    assertThat(WorkOrderId.of("same")).isNotEqualTo(WorkOrderId.of("Same"));
  }
}
