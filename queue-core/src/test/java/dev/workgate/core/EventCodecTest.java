package dev.workgate.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.FloatNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ShortNode;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.internal.Text;
import dev.workgate.spi.EventCodec;
import dev.workgate.spi.EventCodecException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class EventCodecTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Instant NANOS = Instant.parse("2030-01-02T03:04:05.123456789Z");

  private static WorkOrderSpec fullSpec() {
    return WorkOrderSpec.builder("agent-run")
        .queue("agents")
        .payload(Map.of("repo", "acme/api", "n", List.of(1, 2.5, true)))
        .priority(-3)
        .resources(ResourceRequest.of(2, 4096))
        .maxAttempts(5)
        .timeout(Duration.ofSeconds(90, 1))
        .notBefore(NANOS)
        .idempotencyKey("req-7")
        .label("team", "core")
        .label("env", "prod")
        .build();
  }

  /** A spec that waits for two work orders and a batch, and runs even if they fail. */
  private static WorkOrderSpec waitingSpec() {
    return WorkOrderSpec.builder("report")
        .after(WorkOrderId.of("wo-1"), WorkOrderId.of("wo-2"))
        .afterBatch(BatchId.of("batch-7"))
        .onDependencyFailure(DependencyFailure.RUN)
        .build();
  }

  private static WorkOrderEvent.Submitted waitingSubmitted() {
    return new WorkOrderEvent.Submitted(
        waitingSpec(),
        WorkOrderId.of("wo-0"),
        BatchId.of("batch-9"),
        List.of(WorkOrderId.of("wo-2b"), WorkOrderId.of("wo-1"), WorkOrderId.of("wo-3")));
  }

  static Stream<WorkOrderEvent> oneOfEachType() {
    ErrorInfo error = ErrorInfo.retryable(ErrorCodes.TIMEOUT, "ran 30m");
    return Stream.of(
        WorkOrderEvent.Submitted.of(WorkOrderSpec.builder("build").build()),
        new WorkOrderEvent.Submitted(fullSpec(), WorkOrderId.of("wo-0")),
        new WorkOrderEvent.Claimed("node-1", NANOS),
        new WorkOrderEvent.Started("sb-1"),
        new WorkOrderEvent.Completed(JsonNodeFactory.instance.objectNode().put("ok", true)),
        new WorkOrderEvent.Completed(null),
        WorkOrderEvent.AttemptFailed.retryAt(error, NANOS, "1 of 3"),
        WorkOrderEvent.AttemptFailed.finalFailure(ErrorInfo.fatal("OWN_CODE", ""), ""),
        new WorkOrderEvent.RetryReleased(),
        new WorkOrderEvent.CancellationRequested("user"),
        new WorkOrderEvent.Cancelled(""),
        new WorkOrderEvent.Released(ErrorCodes.NODE_SHUTDOWN, "node-1 went away"),
        waitingSubmitted(),
        new WorkOrderEvent.Submitted(
            WorkOrderSpec.builder("in-batch").build(), null, BatchId.of("b"), List.of()),
        new WorkOrderEvent.DependenciesMet(),
        new WorkOrderEvent.DependencyFailed(WorkOrderId.of("wo-1"), WorkOrderState.FAILED),
        new WorkOrderEvent.DependencyFailed(WorkOrderId.of("wo-1"), null),
        new WorkOrderEvent.Checkpointed(
            3, JsonNodeFactory.instance.objectNode().put("offset", 1200).put("file", "part-2")));
  }

  @Test
  void oneOfEachType_has_every_event_type() {
    assertThat(oneOfEachType().map(WorkOrderEvent::type).distinct())
        .containsExactlyInAnyOrder(WorkOrderEvent.EventType.values());
  }

  @ParameterizedTest
  @MethodSource("oneOfEachType")
  void every_event_type_round_trips_through_encode_and_decode(WorkOrderEvent event) {
    EventCodec.EncodedEvent encoded = EventCodec.encode(event);

    assertThat(encoded.type()).isEqualTo(event.type().typeName());
    assertThat(encoded.schemaVersion()).isEqualTo(event.type().schemaVersion());
    assertThat(EventCodec.decode(encoded)).isEqualTo(event);
    assertThat(EventCodec.decode(encoded.type(), encoded.schemaVersion(), encoded.data()))
        .isEqualTo(event);
  }

  @ParameterizedTest
  @MethodSource("oneOfEachType")
  void toJson_writes_an_envelope_with_type_version_and_data_that_fromJson_reads(
      WorkOrderEvent event) throws Exception {
    String json = EventCodec.toJson(event);
    JsonNode envelope = MAPPER.readTree(json);

    assertThat(envelope.get("type").asText()).isEqualTo(event.type().typeName());
    assertThat(envelope.get("schemaVersion").asInt()).isEqualTo(event.type().schemaVersion());
    assertThat(envelope.get("data")).isEqualTo(MAPPER.readTree(EventCodec.encode(event).data()));
    assertThat(EventCodec.fromJson(json)).isEqualTo(event);
  }

  /** The stored form of version 1, written down so that a change to it cannot go unnoticed. */
  static Stream<Arguments> version1Documents() {
    return Stream.of(
        Arguments.of(
            "Submitted",
            "{\"spec\":{\"type\":\"agent-run\",\"queue\":\"agents\","
                + "\"payload\":{\"n\":[1,2.5,true],\"repo\":\"acme/api\"},\"priority\":-3,"
                + "\"resources\":{\"slots\":2,\"memoryMb\":4096},\"maxAttempts\":5,"
                + "\"timeout\":\"PT1M30.000000001S\",\"notBefore\":\"2030-01-02T03:04:05.123456789Z\","
                + "\"idempotencyKey\":\"req-7\",\"labels\":{\"env\":\"prod\",\"team\":\"core\"}},"
                + "\"resubmittedFrom\":\"wo-0\"}",
            new WorkOrderEvent.Submitted(fullSpec(), WorkOrderId.of("wo-0"))),
        Arguments.of(
            "Submitted",
            "{\"spec\":{\"type\":\"build\",\"queue\":\"default\",\"payload\":null,\"priority\":0,"
                + "\"labels\":{}}}",
            WorkOrderEvent.Submitted.of(WorkOrderSpec.builder("build").build())),
        Arguments.of(
            "Claimed",
            "{\"owner\":\"node-1\",\"leaseExpiresAt\":\"2030-01-02T03:04:05.123456789Z\"}",
            new WorkOrderEvent.Claimed("node-1", NANOS)),
        Arguments.of("Started", "{\"sandboxId\":\"sb-1\"}", new WorkOrderEvent.Started("sb-1")),
        Arguments.of(
            "Completed",
            "{\"result\":{\"ok\":true}}",
            new WorkOrderEvent.Completed(JsonNodeFactory.instance.objectNode().put("ok", true))),
        Arguments.of("Completed", "{}", new WorkOrderEvent.Completed(null)),
        Arguments.of(
            "AttemptFailed",
            "{\"error\":{\"code\":\"TIMEOUT\",\"message\":\"ran 30m\",\"retryable\":true},"
                + "\"retryAt\":\"2030-01-02T03:04:05.123456789Z\",\"decision\":\"1 of 3\"}",
            WorkOrderEvent.AttemptFailed.retryAt(
                ErrorInfo.retryable(ErrorCodes.TIMEOUT, "ran 30m"), NANOS, "1 of 3")),
        Arguments.of(
            "AttemptFailed",
            "{\"error\":{\"code\":\"X\",\"message\":\"\",\"retryable\":false},\"decision\":\"\"}",
            WorkOrderEvent.AttemptFailed.finalFailure(ErrorInfo.fatal("X", ""), "")),
        Arguments.of("RetryReleased", "{}", new WorkOrderEvent.RetryReleased()),
        Arguments.of(
            "CancellationRequested",
            "{\"reason\":\"user\"}",
            new WorkOrderEvent.CancellationRequested("user")),
        Arguments.of("Cancelled", "{\"reason\":\"\"}", new WorkOrderEvent.Cancelled("")));
  }

  @ParameterizedTest
  @MethodSource("version1Documents")
  void version_1_documents_decode_to_their_events_and_encode_back_to_the_same_json(
      String type, String data, WorkOrderEvent expected) throws Exception {
    assertThat(EventCodec.decode(type, 1, data)).isEqualTo(expected);
    assertThat(MAPPER.readTree(EventCodec.encode(expected).data()))
        .isEqualTo(MAPPER.readTree(data));
  }

  @Test
  void
      submitted_is_written_as_version_2_and_a_version_1_document_still_decodes_without_the_new_fields()
          throws Exception {
    String v1 =
        "{\"spec\":{\"type\":\"build\",\"queue\":\"default\",\"payload\":null,\"priority\":0,"
            + "\"labels\":{}},\"resubmittedFrom\":\"wo-0\"}";

    WorkOrderEvent.Submitted read =
        (WorkOrderEvent.Submitted) EventCodec.decode("Submitted", 1, v1);

    assertThat(WorkOrderEvent.EventType.SUBMITTED.schemaVersion()).isEqualTo(2);
    assertThat(read.batch()).isNull();
    assertThat(read.dependencies()).isEmpty();
    assertThat(read.spec().after()).isEmpty();
    assertThat(read.spec().afterBatches()).isEmpty();
    assertThat(read.spec().onDependencyFailure()).isEqualTo(DependencyFailure.CANCEL);
    assertThat(read.trigger()).isEqualTo(WorkOrderState.TransitionTable.Trigger.SUBMITTED);
    // Written again, it is a version 2 document with the same fields: nothing new is added.
    EventCodec.EncodedEvent again = EventCodec.encode(read);
    assertThat(again.schemaVersion()).isEqualTo(2);
    assertThat(MAPPER.readTree(again.data())).isEqualTo(MAPPER.readTree(v1));
    assertThat(EventCodec.decode("Submitted", 2, v1)).isEqualTo(read);
    assertThat(
            EventCodec.fromJson("{\"type\":\"Submitted\",\"schemaVersion\":1,\"data\":" + v1 + "}"))
        .isEqualTo(read);
  }

  /** The stored form of the events and fields added with dependencies, written down. */
  static Stream<Arguments> dependencyDocuments() {
    return Stream.of(
        Arguments.of(
            "Submitted",
            2,
            "{\"spec\":{\"type\":\"report\",\"queue\":\"default\",\"payload\":null,"
                + "\"priority\":0,\"labels\":{},\"after\":[\"wo-1\",\"wo-2\"],"
                + "\"afterBatches\":[\"batch-7\"],\"onDependencyFailure\":\"RUN\"},"
                + "\"resubmittedFrom\":\"wo-0\",\"batch\":\"batch-9\","
                + "\"dependencies\":[\"wo-2b\",\"wo-1\",\"wo-3\"]}",
            waitingSubmitted()),
        Arguments.of(
            "Submitted",
            2,
            "{\"spec\":{\"type\":\"in-batch\",\"queue\":\"default\",\"payload\":null,"
                + "\"priority\":0,\"labels\":{}},\"batch\":\"b\"}",
            new WorkOrderEvent.Submitted(
                WorkOrderSpec.builder("in-batch").build(), null, BatchId.of("b"), List.of())),
        Arguments.of("DependenciesMet", 1, "{}", new WorkOrderEvent.DependenciesMet()),
        Arguments.of(
            "DependencyFailed",
            1,
            "{\"dependency\":\"wo-1\",\"dependencyState\":\"CANCELLED\"}",
            new WorkOrderEvent.DependencyFailed(WorkOrderId.of("wo-1"), WorkOrderState.CANCELLED)),
        Arguments.of(
            "DependencyFailed",
            1,
            "{\"dependency\":\"wo-1\"}",
            new WorkOrderEvent.DependencyFailed(WorkOrderId.of("wo-1"), null)),
        Arguments.of(
            "Checkpointed",
            1,
            "{\"attempt\":2,\"state\":{\"offset\":7,\"files\":[\"a\",\"b\"]}}",
            new WorkOrderEvent.Checkpointed(
                2,
                JsonNodeFactory.instance
                    .objectNode()
                    .put("offset", 7)
                    .set("files", JsonNodeFactory.instance.arrayNode().add("a").add("b")))));
  }

  @ParameterizedTest(name = "{0} v{1} {2}")
  @MethodSource("dependencyDocuments")
  void the_new_events_and_fields_decode_from_their_stored_form_and_encode_back_to_it(
      String type, int version, String data, WorkOrderEvent expected) throws Exception {
    assertThat(EventCodec.decode(type, version, data)).isEqualTo(expected);
    EventCodec.EncodedEvent encoded = EventCodec.encode(expected);
    assertThat(encoded.schemaVersion()).isEqualTo(version);
    assertThat(MAPPER.readTree(encoded.data())).isEqualTo(MAPPER.readTree(data));
  }

  @Test
  void a_submitted_with_dependencies_keeps_their_order_and_the_specs_fields_through_the_codec() {
    WorkOrderEvent.Submitted back =
        (WorkOrderEvent.Submitted) EventCodec.fromJson(EventCodec.toJson(waitingSubmitted()));

    assertThat(back.dependencies())
        .containsExactly(WorkOrderId.of("wo-2b"), WorkOrderId.of("wo-1"), WorkOrderId.of("wo-3"));
    assertThat(back.batch()).isEqualTo(BatchId.of("batch-9"));
    assertThat(back.resubmittedFrom()).isEqualTo(WorkOrderId.of("wo-0"));
    assertThat(back.spec().after()).containsExactly(WorkOrderId.of("wo-1"), WorkOrderId.of("wo-2"));
    assertThat(back.spec().afterBatches()).containsExactly(BatchId.of("batch-7"));
    assertThat(back.spec().onDependencyFailure()).isEqualTo(DependencyFailure.RUN);
    assertThat(back.trigger()).isEqualTo(WorkOrderState.TransitionTable.Trigger.SUBMITTED_BLOCKED);
  }

  @Test
  void a_checkpoint_is_kept_as_a_private_copy_through_the_codec() {
    com.fasterxml.jackson.databind.node.ObjectNode state =
        JsonNodeFactory.instance.objectNode().put("n", 1);
    WorkOrderEvent.Checkpointed e = new WorkOrderEvent.Checkpointed(1, state);
    state.put("n", 2);
    e.state().withObject("/more").put("x", 1);

    WorkOrderEvent.Checkpointed back =
        (WorkOrderEvent.Checkpointed) EventCodec.decode(EventCodec.encode(e));

    assertThat(back.state()).isEqualTo(JsonNodeFactory.instance.objectNode().put("n", 1));
    assertThat(back).isEqualTo(e);
  }

  /** Broken documents of the events and fields added with dependencies, and what to name. */
  static Stream<Arguments> brokenNewFields() {
    String spec = "\"type\":\"t\",\"queue\":\"q\",\"payload\":null,\"priority\":0,\"labels\":{}";
    String submitted = "{\"spec\":{" + spec + "}";
    String state = "\"state\":{\"at\":1}";
    return Stream.of(
        Arguments.of("Submitted", 2, submitted + ",\"batch\":5}", "'batch'"),
        Arguments.of("Submitted", 2, submitted + ",\"batch\":\" \"}", "'batch'"),
        Arguments.of("Submitted", 2, submitted + ",\"batch\":\"a\\u0001b\"}", "'batch'"),
        Arguments.of("Submitted", 2, submitted + ",\"dependencies\":\"wo-1\"}", "'dependencies'"),
        Arguments.of("Submitted", 2, submitted + ",\"dependencies\":{}}", "'dependencies'"),
        Arguments.of("Submitted", 2, submitted + ",\"dependencies\":[1]}", "'dependencies'"),
        Arguments.of("Submitted", 2, submitted + ",\"dependencies\":[\"\"]}", "'dependencies'"),
        Arguments.of("Submitted", 2, submitted + ",\"dependencies\":[null]}", "'dependencies'"),
        Arguments.of(
            "Submitted", 2, submitted + ",\"dependencies\":[\"a\",\"b\",\"a\"]}", "dependencies"),
        Arguments.of(
            "Submitted", 2, "{\"spec\":{" + spec + ",\"after\":\"wo-1\"}}", "'spec.after'"),
        Arguments.of("Submitted", 2, "{\"spec\":{" + spec + ",\"after\":[7]}}", "'spec.after'"),
        Arguments.of("Submitted", 2, "{\"spec\":{" + spec + ",\"after\":[\" \"]}}", "'spec.after'"),
        Arguments.of(
            "Submitted",
            2,
            "{\"spec\":{" + spec + ",\"afterBatches\":[true]}}",
            "'spec.afterBatches'"),
        Arguments.of(
            "Submitted",
            2,
            "{\"spec\":{" + spec + ",\"afterBatches\":[\"\"]}}",
            "'spec.afterBatches'"),
        Arguments.of(
            "Submitted", 2, "{\"spec\":{" + spec + ",\"afterBatches\":{}}}", "'spec.afterBatches'"),
        Arguments.of(
            "Submitted",
            2,
            "{\"spec\":{" + spec + ",\"onDependencyFailure\":\"SKIP\"}}",
            "'spec.onDependencyFailure'"),
        Arguments.of(
            "Submitted",
            2,
            "{\"spec\":{" + spec + ",\"onDependencyFailure\":1}}",
            "'spec.onDependencyFailure'"),
        Arguments.of("DependencyFailed", 1, "{}", "'dependency'"),
        Arguments.of("DependencyFailed", 1, "{\"dependency\":3}", "'dependency'"),
        Arguments.of("DependencyFailed", 1, "{\"dependency\":\"\"}", "'dependency'"),
        Arguments.of(
            "DependencyFailed",
            1,
            "{\"dependency\":\"wo-1\",\"dependencyState\":\"DONE\"}",
            "'dependencyState'"),
        Arguments.of(
            "DependencyFailed",
            1,
            "{\"dependency\":\"wo-1\",\"dependencyState\":2}",
            "'dependencyState'"),
        Arguments.of(
            "DependencyFailed",
            1,
            "{\"dependency\":\"wo-1\",\"dependencyState\":\"COMPLETED\"}",
            "dependencyState"),
        Arguments.of("Checkpointed", 1, "{" + state + "}", "'attempt'"),
        Arguments.of("Checkpointed", 1, "{\"attempt\":\"1\"," + state + "}", "'attempt'"),
        Arguments.of("Checkpointed", 1, "{\"attempt\":0," + state + "}", "attempt"),
        Arguments.of("Checkpointed", 1, "{\"attempt\":1}", "'state'"),
        Arguments.of("Checkpointed", 1, "{\"attempt\":1,\"state\":null}", "'state'"),
        Arguments.of(
            "Checkpointed",
            1,
            "{\"attempt\":1,\"state\":\""
                + "x".repeat(WorkOrderEvent.Checkpointed.MAX_BYTES)
                + "\"}",
            "'state'"));
  }

  @ParameterizedTest(name = "{0} v{1} {3}")
  @MethodSource("brokenNewFields")
  void a_malformed_new_field_is_rejected_naming_the_field(
      String type, int version, String data, String field) {
    assertThatThrownBy(() -> EventCodec.decode(type, version, data))
        .isInstanceOf(EventCodecException.class)
        .hasMessageContaining(type + " v" + version)
        .hasMessageContaining(field);
  }

  @Test
  void instants_and_durations_keep_nanoseconds() {
    WorkOrderSpec spec =
        WorkOrderSpec.builder("t").notBefore(NANOS).timeout(Duration.ofNanos(1)).build();
    WorkOrderEvent.Submitted back =
        (WorkOrderEvent.Submitted)
            EventCodec.fromJson(EventCodec.toJson(WorkOrderEvent.Submitted.of(spec)));
    assertThat(back.spec().notBefore()).contains(NANOS);
    assertThat(back.spec().timeout()).contains(Duration.ofNanos(1));
  }

  @Test
  void extreme_instants_round_trip() {
    for (Instant t :
        List.of(Instant.MIN, Instant.MAX, Instant.EPOCH, Instant.ofEpochSecond(-1, 1))) {
      WorkOrderEvent e = new WorkOrderEvent.Claimed("n", t);
      assertThat(EventCodec.decode(EventCodec.encode(e))).isEqualTo(e);
    }
  }

  @Test
  void a_completed_result_reads_back_equal_whatever_node_types_it_was_built_from() {
    for (JsonNode result :
        List.of(
            LongNode.valueOf(5),
            ShortNode.valueOf((short) 7),
            FloatNode.valueOf(1.5f),
            DecimalNode.valueOf(new BigDecimal("4.0E+6")),
            JsonNodeFactory.instance.arrayNode().add(LongNode.valueOf(1)))) {
      WorkOrderEvent.Completed e = new WorkOrderEvent.Completed(result);
      assertThat(EventCodec.decode(EventCodec.encode(e))).as("%s", result).isEqualTo(e);
    }
  }

  @Test
  void a_completed_result_that_is_json_null_or_missing_means_no_result() {
    assertThat(new WorkOrderEvent.Completed(NullNode.getInstance()).result()).isNull();
    assertThat(new WorkOrderEvent.Completed(MissingNode.getInstance()).result()).isNull();
  }

  @Test
  void a_completed_result_with_a_number_too_large_for_a_double_is_rejected() {
    JsonNode huge = DecimalNode.valueOf(new BigDecimal("-1e400"));
    assertThatThrownBy(() -> new WorkOrderEvent.Completed(huge))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("result")
        .hasMessageContaining("double");
  }

  @Test
  void a_payload_at_the_deepest_nesting_a_spec_accepts_still_encodes_and_decodes() {
    WorkOrderSpec spec =
        WorkOrderSpec.builder("deep").payload(WorkOrderSpecTest.nested(1000)).build();
    WorkOrderEvent e = WorkOrderEvent.Submitted.of(spec);

    assertThat(EventCodec.decode(EventCodec.encode(e))).isEqualTo(e);
    assertThat(EventCodec.fromJson(EventCodec.toJson(e))).isEqualTo(e);
  }

  @Test
  void a_result_at_the_deepest_nesting_accepted_still_encodes_and_decodes() {
    WorkOrderEvent e = new WorkOrderEvent.Completed(WorkOrderSpecTest.nested(1000));
    assertThat(EventCodec.fromJson(EventCodec.toJson(e))).isEqualTo(e);
  }

  @Test
  void an_unknown_type_is_rejected_naming_it_and_the_types_this_code_reads() {
    assertThatThrownBy(() -> EventCodec.decode("Exploded", 1, "{}"))
        .isInstanceOf(EventCodecException.class)
        .hasMessageContaining("unknown event type 'Exploded'")
        .hasMessageContaining("Submitted")
        .hasMessageContaining("Cancelled");
  }

  @Test
  void a_null_type_is_rejected_with_a_codec_exception() {
    assertThatThrownBy(() -> EventCodec.decode(null, 1, "{}"))
        .isInstanceOf(EventCodecException.class)
        .hasMessageContaining("null");
  }

  @Test
  void a_null_data_is_rejected_with_a_codec_exception() {
    assertThatThrownBy(() -> EventCodec.decode("Started", 1, null))
        .isInstanceOf(EventCodecException.class)
        .hasMessageContaining("Started");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 2, 99, -1})
  void an_unknown_schema_version_is_rejected_naming_type_and_version(int version) {
    assertThatThrownBy(() -> EventCodec.decode("Claimed", version, "{}"))
        .isInstanceOf(EventCodecException.class)
        .hasMessageContaining("'Claimed'")
        .hasMessageContaining("schema version " + version)
        .hasMessageContaining("[1]");
  }

  @ParameterizedTest
  @ValueSource(strings = {"{", "{\"owner\":", "nope", "{\"owner\":\"n\",}", "{} extra", "{} {}"})
  void malformed_json_is_rejected_naming_the_event(String data) {
    assertThatThrownBy(() -> EventCodec.decode("Claimed", 1, data))
        .isInstanceOf(EventCodecException.class)
        .hasMessageContaining("Claimed v1");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"owner\": s3cr3t-t0ken}",
        "{\"owner\": \"n\" s3cr3t-t0ken}",
        "{\"owner\": 's3cr3t-t0ken'}",
        "{\"owner\": \"s3cr3t-t0ken",
        "s3cr3t-t0ken"
      })
  void a_malformed_json_message_says_what_and_where_but_never_quotes_the_data(String data) {
    assertThatThrownBy(() -> EventCodec.decode("Claimed", 1, data))
        .isInstanceOf(EventCodecException.class)
        .hasMessageContaining("Claimed v1: malformed JSON: ")
        .hasMessageContaining(" at line 1, column ")
        .hasMessageNotContaining("s3cr3t");
    assertThatThrownBy(() -> EventCodec.fromJson(data))
        .isInstanceOf(EventCodecException.class)
        .hasMessageNotContaining("s3cr3t");
  }

  @ParameterizedTest
  @ValueSource(strings = {"[]", "null", "\"text\"", "42", ""})
  void data_that_is_not_a_json_object_is_rejected(String data) {
    assertThatThrownBy(() -> EventCodec.decode("Started", 1, data))
        .isInstanceOf(EventCodecException.class)
        .hasMessageContaining("Started v1");
  }

  /** Broken documents and the field the error must name. */
  static Stream<Arguments> brokenFields() {
    String spec = "\"type\":\"t\",\"queue\":\"q\",\"payload\":null,\"priority\":0,\"labels\":{}";
    return Stream.of(
        Arguments.of("Claimed", "{\"leaseExpiresAt\":\"2030-01-01T00:00:00Z\"}", "owner"),
        Arguments.of(
            "Claimed", "{\"owner\":7,\"leaseExpiresAt\":\"2030-01-01T00:00:00Z\"}", "owner"),
        Arguments.of("Claimed", "{\"owner\":\"n\"}", "leaseExpiresAt"),
        Arguments.of(
            "Claimed", "{\"owner\":\"n\",\"leaseExpiresAt\":\"yesterday\"}", "leaseExpiresAt"),
        Arguments.of(
            "Claimed", "{\"owner\":\"n\",\"leaseExpiresAt\":1893456000}", "leaseExpiresAt"),
        Arguments.of(
            "Claimed", "{\"owner\":\" \",\"leaseExpiresAt\":\"2030-01-01T00:00:00Z\"}", "owner"),
        Arguments.of("Started", "{}", "sandboxId"),
        Arguments.of("Started", "{\"sandboxId\":[\"sb\"]}", "sandboxId"),
        Arguments.of("Started", "{\"sandboxId\":\"\"}", "sandboxId"),
        Arguments.of("Cancelled", "{}", "reason"),
        Arguments.of("Cancelled", "{\"reason\":null}", "reason"),
        Arguments.of("CancellationRequested", "{\"reason\":false}", "reason"),
        Arguments.of("AttemptFailed", "{\"decision\":\"d\"}", "error"),
        Arguments.of("AttemptFailed", "{\"error\":\"TIMEOUT\",\"decision\":\"d\"}", "error"),
        Arguments.of(
            "AttemptFailed",
            "{\"error\":{\"code\":\"X\",\"message\":\"m\"},\"decision\":\"d\"}",
            "error.retryable"),
        Arguments.of(
            "AttemptFailed",
            "{\"error\":{\"code\":\"X\",\"message\":\"m\",\"retryable\":\"yes\"},\"decision\":\"d\"}",
            "error.retryable"),
        Arguments.of(
            "AttemptFailed",
            "{\"error\":{\"message\":\"m\",\"retryable\":true},\"decision\":\"d\"}",
            "error.code"),
        Arguments.of(
            "AttemptFailed",
            "{\"error\":{\"code\":\"\",\"message\":\"m\",\"retryable\":true},\"decision\":\"d\"}",
            "error code must not be blank"),
        Arguments.of(
            "AttemptFailed",
            "{\"error\":{\"code\":\"X\",\"retryable\":true},\"decision\":\"d\"}",
            "error.message"),
        Arguments.of(
            "AttemptFailed",
            "{\"error\":{\"code\":\"X\",\"message\":\"m\",\"retryable\":true}}",
            "decision"),
        Arguments.of(
            "AttemptFailed",
            "{\"error\":{\"code\":\"X\",\"message\":\"m\",\"retryable\":true},\"decision\":\"d\","
                + "\"retryAt\":\"soon\"}",
            "retryAt"),
        Arguments.of("Submitted", "{}", "spec"),
        Arguments.of("Submitted", "{\"spec\":[]}", "spec"),
        Arguments.of(
            "Submitted", "{\"spec\":{" + spec.replace("\"type\":\"t\",", "") + "}}", "spec.type"),
        Arguments.of("Submitted", "{\"spec\":{" + spec.replace("\"t\"", "\" \"") + "}}", "type"),
        Arguments.of("Submitted", "{\"spec\":{" + spec.replace("\"q\"", "5") + "}}", "spec.queue"),
        Arguments.of(
            "Submitted",
            "{\"spec\":{" + spec.replace("\"priority\":0", "\"priority\":\"high\"") + "}}",
            "spec.priority"),
        Arguments.of(
            "Submitted",
            "{\"spec\":{" + spec.replace("\"priority\":0", "\"priority\":1.5") + "}}",
            "spec.priority"),
        Arguments.of(
            "Submitted",
            "{\"spec\":{" + spec.replace("\"priority\":0", "\"priority\":1099511627776") + "}}",
            "spec.priority"),
        Arguments.of(
            "Submitted",
            "{\"spec\":{" + spec.replace(",\"priority\":0", "") + "}}",
            "spec.priority"),
        Arguments.of("Submitted", "{\"spec\":{" + spec + ",\"resources\":5}}", "spec.resources"),
        Arguments.of(
            "Submitted",
            "{\"spec\":{" + spec + ",\"resources\":{\"slots\":\"two\",\"memoryMb\":0}}}",
            "spec.resources.slots"),
        Arguments.of(
            "Submitted",
            "{\"spec\":{" + spec + ",\"resources\":{\"slots\":1,\"memoryMb\":1.5}}}",
            "spec.resources.memoryMb"),
        Arguments.of(
            "Submitted",
            "{\"spec\":{" + spec + ",\"resources\":{\"slots\":0,\"memoryMb\":0}}}",
            "slots"),
        Arguments.of(
            "Submitted", "{\"spec\":{" + spec + ",\"maxAttempts\":\"3\"}}", "spec.maxAttempts"),
        Arguments.of("Submitted", "{\"spec\":{" + spec + ",\"maxAttempts\":0}}", "maxAttempts"),
        Arguments.of(
            "Submitted", "{\"spec\":{" + spec + ",\"timeout\":\"5 minutes\"}}", "spec.timeout"),
        Arguments.of("Submitted", "{\"spec\":{" + spec + ",\"timeout\":300}}", "spec.timeout"),
        Arguments.of("Submitted", "{\"spec\":{" + spec + ",\"timeout\":\"PT0S\"}}", "timeout"),
        Arguments.of(
            "Submitted", "{\"spec\":{" + spec + ",\"notBefore\":\"tomorrow\"}}", "spec.notBefore"),
        Arguments.of(
            "Submitted", "{\"spec\":{" + spec + ",\"idempotencyKey\":12}}", "spec.idempotencyKey"),
        Arguments.of(
            "Submitted", "{\"spec\":{" + spec + ",\"idempotencyKey\":\" \"}}", "idempotencyKey"),
        Arguments.of(
            "Submitted",
            "{\"spec\":{" + spec.replace("\"labels\":{}", "\"labels\":[\"a\"]") + "}}",
            "spec.labels"),
        Arguments.of(
            "Submitted",
            "{\"spec\":{" + spec.replace("\"labels\":{}", "\"labels\":{\"team\":5}") + "}}",
            "spec.labels.team"),
        Arguments.of(
            "Submitted",
            "{\"spec\":{" + spec.replace("\"labels\":{}", "\"labels\":{\"team\":null}") + "}}",
            "spec.labels.team"),
        Arguments.of(
            "Submitted",
            "{\"spec\":{" + spec.replace("\"labels\":{}", "\"labels\":{\" \":\"x\"}") + "}}",
            "label key"),
        Arguments.of(
            "Submitted", "{\"spec\":{" + spec + "},\"resubmittedFrom\":3}", "resubmittedFrom"),
        Arguments.of(
            "Submitted",
            "{\"spec\":{" + spec + "},\"resubmittedFrom\":\"\"}",
            "field 'resubmittedFrom': work order id"),
        Arguments.of("Released", "{\"reason\":\"x\"}", "code"),
        Arguments.of("Released", "{\"code\":\"\",\"reason\":\"x\"}", "Released.code"),
        Arguments.of("Released", "{\"code\":\"NODE_SHUTDOWN\"}", "reason"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("brokenFields")
  void a_missing_or_mistyped_field_is_rejected_naming_the_field(
      String type, String data, String field) {
    assertThatThrownBy(() -> EventCodec.decode(type, 1, data))
        .isInstanceOf(EventCodecException.class)
        .hasMessageContaining(type + " v1")
        .hasMessageContaining(field);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{",
        "[]",
        "null",
        "{\"schemaVersion\":1,\"data\":{}}",
        "{\"type\":7,\"schemaVersion\":1,\"data\":{}}",
        "{\"type\":\"RetryReleased\",\"data\":{}}",
        "{\"type\":\"RetryReleased\",\"schemaVersion\":\"1\",\"data\":{}}",
        "{\"type\":\"RetryReleased\",\"schemaVersion\":1.5,\"data\":{}}",
        "{\"type\":\"RetryReleased\",\"schemaVersion\":4294967297,\"data\":{}}",
        "{\"type\":\"RetryReleased\",\"schemaVersion\":1}",
        "{\"type\":\"RetryReleased\",\"schemaVersion\":1,\"data\":[]}",
        "{\"type\":\"RetryReleased\",\"schemaVersion\":1,\"data\":{}} []"
      })
  void fromJson_rejects_a_malformed_envelope(String json) {
    assertThatThrownBy(() -> EventCodec.fromJson(json)).isInstanceOf(EventCodecException.class);
  }

  @Test
  void fromJson_rejects_an_unknown_type_or_version_naming_it() {
    assertThatThrownBy(
            () -> EventCodec.fromJson("{\"type\":\"Paused\",\"schemaVersion\":1,\"data\":{}}"))
        .isInstanceOf(EventCodecException.class)
        .hasMessageContaining("'Paused'");
    assertThatThrownBy(
            () -> EventCodec.fromJson("{\"type\":\"Started\",\"schemaVersion\":3,\"data\":{}}"))
        .isInstanceOf(EventCodecException.class)
        .hasMessageContaining("'Started'")
        .hasMessageContaining("schema version 3");
  }

  @Test
  void fromJson_names_the_field_of_a_bad_data_object() {
    assertThatThrownBy(
            () ->
                EventCodec.fromJson(
                    "{\"type\":\"Started\",\"schemaVersion\":1,\"data\":{\"sandboxId\":1}}"))
        .isInstanceOf(EventCodecException.class)
        .hasMessageContaining("Started v1")
        .hasMessageContaining("sandboxId");
  }

  /**
   * Found by {@link EventCodecFuzzProperties}: a field holding a value nested between 1001 and 1008
   * deep parses (the event mapper has room for a payload plus the envelope), and the message then
   * printed it with {@code toString()}, which Jackson refuses past 1000 levels: a RuntimeException
   * escaped instead of a codec exception.
   */
  @ParameterizedTest
  @ValueSource(ints = {1001, 1005})
  void a_field_nested_deeper_than_jackson_prints_is_rejected_naming_the_field(int depth) {
    String deep = "[".repeat(depth) + "1" + "]".repeat(depth);
    assertThatThrownBy(() -> EventCodec.decode("Submitted", 1, "{\"spec\":" + deep + "}"))
        .isInstanceOf(EventCodecException.class)
        .hasMessageContaining("'spec'")
        .hasMessageContaining("a JSON array of 1 items");
    assertThatThrownBy(() -> EventCodec.decode("Started", 1, "{\"sandboxId\":" + deep + "}"))
        .isInstanceOf(EventCodecException.class)
        .hasMessageContaining("'sandboxId'");
  }

  @Test
  void a_bad_field_holding_a_long_string_is_shown_cut_short() {
    String huge = "x".repeat(100_000);
    assertThatThrownBy(
            () ->
                EventCodec.decode(
                    "Claimed", 1, "{\"owner\":\"n\",\"leaseExpiresAt\":\"" + huge + "\"}"))
        .isInstanceOf(EventCodecException.class)
        .hasMessageContaining("'leaseExpiresAt'")
        .hasMessageContaining("(100002 characters)")
        .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(400));
  }

  @Test
  void unknown_extra_fields_are_ignored_so_that_additive_changes_stay_readable() {
    assertThat(EventCodec.decode("Started", 1, "{\"sandboxId\":\"sb\",\"host\":\"h1\"}"))
        .isEqualTo(new WorkOrderEvent.Started("sb"));
  }

  @Test
  void events_stored_before_the_text_limits_are_read_whole() {
    // Written by a version without limits: past Jackson's default name and string limits, and
    // past Workgate's own. Reading never refuses what a writer accepted.
    String key = "k".repeat(50_001);
    String reason = "r".repeat(20_000_001);
    String submitted =
        "{\"spec\":{\"type\":\"t\",\"queue\":\"q\",\"payload\":null,\"priority\":0,"
            + "\"labels\":{\""
            + key
            + "\":\""
            + "v".repeat(5_000)
            + "\"}}}";

    WorkOrderEvent.Submitted read =
        (WorkOrderEvent.Submitted) EventCodec.decode("Submitted", 1, submitted);
    WorkOrderEvent.Cancelled cancelled =
        (WorkOrderEvent.Cancelled)
            EventCodec.decode("Cancelled", 1, "{\"reason\":\"" + reason + "\"}");
    WorkOrderEvent.AttemptFailed failed =
        (WorkOrderEvent.AttemptFailed)
            EventCodec.decode(
                "AttemptFailed",
                1,
                "{\"error\":{\"code\":\"E\",\"message\":\""
                    + reason
                    + "\",\"retryable\":false},\"decision\":\"d\"}");

    assertThat(read.spec().labels()).containsEntry(key, "v".repeat(5_000));
    assertThat(cancelled.reason()).isEqualTo(reason);
    assertThat(failed.error().message()).isEqualTo(reason);
    assertThat(EventCodec.decode(EventCodec.encode(cancelled))).isEqualTo(cancelled);
    // Built anew, outside a read, the limits apply.
    assertThatThrownBy(() -> new WorkOrderEvent.Cancelled(reason))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most 2000 characters, got 20000001");
    assertThat(ErrorInfo.fatal("E", reason).message()).hasSize(Text.MAX_ERROR_MESSAGE_LENGTH);
  }
}
