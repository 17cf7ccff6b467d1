package dev.workgate.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class WorkOrderSpecTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  @ParameterizedTest
  @NullSource
  @ValueSource(strings = {"", " ", "\t\n"})
  void build_rejects_a_blank_or_null_type_naming_the_field_and_value(String type) {
    assertThatThrownBy(() -> WorkOrderSpec.builder(type).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("type")
        .hasMessageContaining(type == null ? "null" : "'" + type + "'");
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(strings = {"", "  "})
  void build_rejects_a_blank_or_null_queue_naming_the_field_and_value(String queue) {
    assertThatThrownBy(() -> WorkOrderSpec.builder("build").queue(queue).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("queue")
        .hasMessageContaining(queue == null ? "null" : "'" + queue + "'");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
  void build_rejects_maxAttempts_below_one_naming_the_field_and_value(int attempts) {
    assertThatThrownBy(() -> WorkOrderSpec.builder("build").maxAttempts(attempts).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxAttempts")
        .hasMessageContaining(String.valueOf(attempts));
  }

  @Test
  void build_accepts_maxAttempts_of_one() {
    assertThat(WorkOrderSpec.builder("build").maxAttempts(1).build().maxAttempts()).hasValue(1);
  }

  @ParameterizedTest
  @ValueSource(longs = {0, -1, -3_600_000})
  void build_rejects_a_timeout_that_is_not_positive_naming_the_field_and_value(long millis) {
    Duration timeout = Duration.ofMillis(millis);
    assertThatThrownBy(() -> WorkOrderSpec.builder("build").timeout(timeout).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("timeout")
        .hasMessageContaining(timeout.toString());
  }

  @Test
  void build_accepts_a_timeout_of_one_nanosecond() {
    assertThat(WorkOrderSpec.builder("build").timeout(Duration.ofNanos(1)).build().timeout())
        .contains(Duration.ofNanos(1));
  }

  @Test
  void build_rejects_a_payload_without_properties_naming_the_payload() {
    Object opaque = new Object();
    assertThatThrownBy(() -> WorkOrderSpec.builder("build").payload(opaque).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("payload")
        .hasMessageContaining("java.lang.Object");
  }

  /** A bean whose only property is itself. */
  public static final class SelfReferencing {
    /**
     * The bean itself.
     *
     * @return this
     */
    public SelfReferencing getSelf() {
      return this;
    }
  }

  @Test
  void build_rejects_a_self_referencing_bean_naming_the_payload() {
    assertThatThrownBy(() -> WorkOrderSpec.builder("build").payload(new SelfReferencing()).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("payload")
        .hasMessageContaining(SelfReferencing.class.getName());
  }

  @Test
  void build_rejects_a_list_that_contains_itself_naming_the_payload() {
    List<Object> cycle = new ArrayList<>();
    cycle.add(cycle);
    assertThatThrownBy(() -> WorkOrderSpec.builder("build").payload(cycle).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("payload")
        .hasMessageContaining("java.util.ArrayList");
  }

  @Test
  void build_rejects_a_number_too_large_for_a_double_instead_of_turning_it_into_text() {
    JsonNode huge = DecimalNode.valueOf(new BigDecimal("1e400"));
    assertThatThrownBy(() -> WorkOrderSpec.builder("build").payload(huge).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("payload")
        .hasMessageContaining("double");
  }

  @Test
  void build_accepts_a_payload_nested_1000_deep_and_rejects_one_nested_deeper() {
    assertThat(WorkOrderSpec.builder("build").payload(nested(1000)).build().payload())
        .isEqualTo(nested(1000));
    assertThatThrownBy(() -> WorkOrderSpec.builder("build").payload(nested(1001)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("payload")
        .hasMessageContaining("depth");
  }

  /** Arrays nested {@code depth} deep around a null. */
  static JsonNode nested(int depth) {
    JsonNode node = NullNode.getInstance();
    for (int i = 0; i < depth; i++) {
      ArrayNode a = NODES.arrayNode();
      a.add(node);
      node = a;
    }
    return node;
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(strings = {"", " "})
  void build_rejects_a_blank_label_key_naming_the_key(String key) {
    assertThatThrownBy(() -> WorkOrderSpec.builder("build").label(key, "v").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("label key")
        .hasMessageContaining(key == null ? "null" : "'" + key + "'");
  }

  @Test
  void build_rejects_a_null_label_value_naming_the_label() {
    assertThatThrownBy(() -> WorkOrderSpec.builder("build").label("team", null).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("label 'team'")
        .hasMessageContaining("null");
  }

  @Test
  void build_reports_the_first_bad_label_even_when_later_labels_are_fine() {
    assertThatThrownBy(
            () ->
                WorkOrderSpec.builder("build")
                    .label("", "a")
                    .label("ok", "b")
                    .label("x", null)
                    .build())
        .hasMessageContaining("label key must not be blank, got: ''");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "\n"})
  void build_rejects_a_blank_idempotency_key_naming_the_field_and_value(String key) {
    assertThatThrownBy(() -> WorkOrderSpec.builder("build").idempotencyKey(key).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("idempotencyKey")
        .hasMessageContaining("'" + key + "'");
  }

  @Test
  void a_null_idempotency_key_means_none() {
    assertThat(WorkOrderSpec.builder("build").idempotencyKey(null).build().idempotencyKey())
        .isEmpty();
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
  void resource_request_rejects_slots_below_one_naming_slots_and_value(int slots) {
    assertThatThrownBy(() -> ResourceRequest.of(slots, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("slots")
        .hasMessageContaining(String.valueOf(slots));
  }

  @ParameterizedTest
  @ValueSource(longs = {-1, Long.MIN_VALUE})
  void resource_request_rejects_negative_memory_naming_memoryMb_and_value(long memoryMb) {
    assertThatThrownBy(() -> ResourceRequest.of(1, memoryMb))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("memoryMb")
        .hasMessageContaining(String.valueOf(memoryMb));
  }

  @Test
  void resource_request_accepts_one_slot_and_no_memory_which_is_the_default() {
    assertThat(ResourceRequest.of(1, 0)).isEqualTo(ResourceRequest.DEFAULT);
  }

  @Test
  void defaults_are_the_default_queue_priority_zero_a_json_null_payload_and_no_labels() {
    WorkOrderSpec spec = WorkOrderSpec.builder("build").build();

    assertThat(spec.type()).isEqualTo("build");
    assertThat(spec.queue()).isEqualTo("default").isEqualTo(WorkOrderSpec.DEFAULT_QUEUE);
    assertThat(spec.priority()).isZero();
    assertThat(spec.payload()).isEqualTo(NullNode.getInstance());
    assertThat(spec.labels()).isEmpty();
    assertThat(spec.resources()).isEmpty();
    assertThat(spec.maxAttempts()).isEmpty();
    assertThat(spec.timeout()).isEmpty();
    assertThat(spec.notBefore()).isEmpty();
    assertThat(spec.idempotencyKey()).isEmpty();
  }

  @Test
  void a_null_payload_is_a_json_null() {
    assertThat(WorkOrderSpec.builder("build").payload(null).build().payload())
        .isEqualTo(NullNode.getInstance());
  }

  @Test
  void the_spec_keeps_every_value_it_was_given() {
    Instant notBefore = Instant.parse("2030-05-06T07:08:09.123456789Z");
    WorkOrderSpec spec =
        WorkOrderSpec.builder("agent-run")
            .queue("agents")
            .payload(Map.of("repo", "acme/api"))
            .priority(-7)
            .resources(ResourceRequest.of(2, 4096))
            .maxAttempts(3)
            .timeout(Duration.ofMinutes(30))
            .notBefore(notBefore)
            .idempotencyKey("req-1")
            .label("team", "core")
            .label("env", "")
            .build();

    assertThat(spec.type()).isEqualTo("agent-run");
    assertThat(spec.queue()).isEqualTo("agents");
    assertThat(spec.payload()).isEqualTo(NODES.objectNode().put("repo", "acme/api"));
    assertThat(spec.priority()).isEqualTo(-7);
    assertThat(spec.resources()).contains(ResourceRequest.of(2, 4096));
    assertThat(spec.maxAttempts()).hasValue(3);
    assertThat(spec.timeout()).contains(Duration.ofMinutes(30));
    assertThat(spec.notBefore()).contains(notBefore);
    assertThat(spec.idempotencyKey()).contains("req-1");
    assertThat(spec.labels()).containsExactlyInAnyOrderEntriesOf(Map.of("team", "core", "env", ""));
  }

  @Test
  void mutating_the_original_map_after_build_does_not_change_the_spec() {
    Map<String, Object> payload = new HashMap<>();
    payload.put("n", 1);
    WorkOrderSpec spec = WorkOrderSpec.builder("build").payload(payload).build();

    payload.put("n", 2);
    payload.put("extra", true);

    assertThat(spec.payload()).isEqualTo(NODES.objectNode().put("n", 1));
  }

  @Test
  void mutating_the_original_object_node_after_build_does_not_change_the_spec() {
    ObjectNode payload = NODES.objectNode().put("n", 1);
    payload.putArray("list").add(1);
    WorkOrderSpec spec = WorkOrderSpec.builder("build").payload(payload).build();

    payload.put("n", 2);
    ((ArrayNode) payload.get("list")).add(2);

    ObjectNode expected = NODES.objectNode().put("n", 1);
    expected.putArray("list").add(1);
    assertThat(spec.payload()).isEqualTo(expected);
  }

  @Test
  void mutating_the_node_returned_by_payload_does_not_change_the_spec() {
    WorkOrderSpec spec =
        WorkOrderSpec.builder("build").payload(NODES.objectNode().put("n", 1)).build();

    ((ObjectNode) spec.payload()).put("n", 2).put("extra", true);

    assertThat(spec.payload()).isEqualTo(NODES.objectNode().put("n", 1));
  }

  @Test
  void labels_cannot_be_changed_through_the_spec() {
    WorkOrderSpec spec = WorkOrderSpec.builder("build").label("a", "b").build();
    assertThatThrownBy(() -> spec.labels().put("c", "d"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void a_payload_given_as_a_map_equals_the_same_payload_given_as_json() {
    ObjectNode json = NODES.objectNode().put("a", 1).put("b", 2.5);
    json.putArray("c").add("x").addNull();
    List<Object> list = new ArrayList<>();
    list.add("x");
    list.add(null);
    Map<String, Object> map = new HashMap<>();
    map.put("c", list);
    map.put("b", 2.5);
    map.put("a", 1L);

    WorkOrderSpec fromJson = WorkOrderSpec.builder("build").payload(json).build();
    WorkOrderSpec fromMap = WorkOrderSpec.builder("build").payload(map).build();

    assertThat(fromMap).isEqualTo(fromJson).hasSameHashCodeAs(fromJson);
  }

  @Test
  void toBuilder_round_trips_every_field() {
    WorkOrderSpec spec =
        WorkOrderSpec.builder("agent-run")
            .queue("agents")
            .payload(Map.of("k", List.of(1, 2)))
            .priority(5)
            .resources(ResourceRequest.of(3, 1024))
            .maxAttempts(4)
            .timeout(Duration.ofSeconds(90))
            .notBefore(Instant.parse("2030-01-01T00:00:00Z"))
            .idempotencyKey("k-1")
            .label("a", "1")
            .after(WorkOrderId.of("wo-1"), WorkOrderId.of("wo-2"))
            .afterBatch(BatchId.of("b-1"))
            .onDependencyFailure(DependencyFailure.RUN)
            .build();

    WorkOrderSpec copy = spec.toBuilder().build();

    assertThat(copy).isEqualTo(spec).hasSameHashCodeAs(spec).hasToString(spec.toString());
    assertThat(copy.payload()).isEqualTo(spec.payload());
  }

  @Test
  void toBuilder_changes_do_not_reach_the_original() {
    WorkOrderSpec spec = WorkOrderSpec.builder("build").label("a", "1").build();

    WorkOrderSpec changed = spec.toBuilder().queue("other").label("b", "2").priority(9).build();

    assertThat(spec.queue()).isEqualTo("default");
    assertThat(spec.labels()).containsOnlyKeys("a");
    assertThat(spec.priority()).isZero();
    assertThat(changed.labels()).containsOnlyKeys("a", "b");
    assertThat(changed).isNotEqualTo(spec);
  }

  @Test
  void specs_that_differ_in_one_field_are_not_equal() {
    WorkOrderSpec base = WorkOrderSpec.builder("build").build();
    assertThat(base.toBuilder().idempotencyKey("k").build()).isNotEqualTo(base);
    assertThat(base.toBuilder().label("a", "b").build()).isNotEqualTo(base);
    assertThat(base.toBuilder().payload(1).build()).isNotEqualTo(base);
    assertThat(base.toBuilder().notBefore(Instant.EPOCH).build()).isNotEqualTo(base);
    assertThat(base.toBuilder().timeout(Duration.ofSeconds(1)).build()).isNotEqualTo(base);
    assertThat(base.toBuilder().maxAttempts(2).build()).isNotEqualTo(base);
    assertThat(base.toBuilder().resources(ResourceRequest.DEFAULT).build()).isNotEqualTo(base);
    assertThat(base.toBuilder().priority(1).build()).isNotEqualTo(base);
    assertThat(base.toBuilder().queue("q").build()).isNotEqualTo(base);
    assertThat(base.toBuilder().after(WorkOrderId.of("wo-1")).build()).isNotEqualTo(base);
    assertThat(base.toBuilder().afterBatch(BatchId.of("b")).build()).isNotEqualTo(base);
    assertThat(base.toBuilder().onDependencyFailure(DependencyFailure.RUN).build())
        .isNotEqualTo(base);
    assertThat(WorkOrderSpec.builder("other").build()).isNotEqualTo(base);
  }

  // ---------------------------------------------------------------------------------------------
  // dependencies

  @Test
  void after_and_afterBatch_keep_the_order_given_count_repeats_once_and_add_up_over_calls() {
    WorkOrderId a = WorkOrderId.of("wo-a");
    WorkOrderId b = WorkOrderId.of("wo-b");
    BatchId x = BatchId.of("batch-x");

    WorkOrderSpec spec =
        WorkOrderSpec.builder("report")
            .after(b, a)
            .after(a)
            .afterBatch(x)
            .afterBatch(x)
            .afterBatch(BatchId.of("batch-y"))
            .build();

    assertThat(spec.after()).containsExactly(b, a);
    assertThat(spec.afterBatches()).containsExactly(x, BatchId.of("batch-y"));
    assertThat(spec.hasDependencies()).isTrue();
    assertThat(spec.onDependencyFailure()).isEqualTo(DependencyFailure.CANCEL);
    assertThat(WorkOrderSpec.builder("plain").build().hasDependencies()).isFalse();
    assertThatThrownBy(() -> spec.after().add(a)).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void build_rejects_a_null_dependency_a_null_batch_or_a_null_policy() {
    assertThatThrownBy(() -> WorkOrderSpec.builder("t").after(WorkOrderId.of("wo-1"), null).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dependency must not be null");
    assertThatThrownBy(() -> WorkOrderSpec.builder("t").after((WorkOrderId[]) null).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("after()");
    assertThatThrownBy(() -> WorkOrderSpec.builder("t").afterBatch(null).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("batch must not be null");
    assertThatThrownBy(() -> WorkOrderSpec.builder("t").onDependencyFailure(null).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("onDependencyFailure");
  }

  @Test
  void build_accepts_the_most_dependencies_and_batches_and_rejects_one_more() {
    WorkOrderId[] most = new WorkOrderId[WorkOrderSpec.MAX_DEPENDENCIES];
    for (int i = 0; i < most.length; i++) {
      most[i] = WorkOrderId.of("wo-" + i);
    }
    WorkOrderSpec.Builder builder = WorkOrderSpec.builder("fan-in").after(most);
    for (int i = 0; i < WorkOrderSpec.MAX_BATCH_DEPENDENCIES; i++) {
      builder.afterBatch(BatchId.of("batch-" + i));
    }
    WorkOrderSpec spec = builder.build();
    assertThat(spec.after()).hasSize(WorkOrderSpec.MAX_DEPENDENCIES);
    assertThat(spec.afterBatches()).hasSize(WorkOrderSpec.MAX_BATCH_DEPENDENCIES);

    assertThatThrownBy(() -> spec.toBuilder().after(WorkOrderId.of("one-more")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(String.valueOf(WorkOrderSpec.MAX_DEPENDENCIES))
        .hasMessageContaining("got " + (WorkOrderSpec.MAX_DEPENDENCIES + 1));
    assertThatThrownBy(() -> spec.toBuilder().afterBatch(BatchId.of("one-more")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("batches")
        .hasMessageContaining("got " + (WorkOrderSpec.MAX_BATCH_DEPENDENCIES + 1));
  }

  @Test
  void a_submitted_event_with_dependencies_is_blocked_and_refuses_repeats_and_too_many() {
    WorkOrderSpec spec = WorkOrderSpec.builder("t").build();
    WorkOrderId a = WorkOrderId.of("wo-a");

    assertThat(new WorkOrderEvent.Submitted(spec, null, null, null).dependencies()).isEmpty();
    assertThat(new WorkOrderEvent.Submitted(spec, null, null, List.of(a)).trigger())
        .isEqualTo(WorkOrderState.TransitionTable.Trigger.SUBMITTED_BLOCKED);
    assertThatThrownBy(() -> new WorkOrderEvent.Submitted(spec, null, null, List.of(a, a)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dependencies");
    List<WorkOrderId> tooMany = new ArrayList<>();
    for (int i = 0; i <= WorkOrderEvent.Submitted.MAX_DEPENDENCIES; i++) {
      tooMany.add(WorkOrderId.of("wo-" + i));
    }
    assertThatThrownBy(() -> new WorkOrderEvent.Submitted(spec, null, null, tooMany))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most " + WorkOrderEvent.Submitted.MAX_DEPENDENCIES);
  }
}
