package dev.workgate.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.FloatNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.ShortNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderState.TransitionTable;
import dev.workgate.core.internal.Text;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/** Generators for the model's values: JSON trees, specs, ids, instants and every kind of event. */
final class EventArbitraries {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private EventArbitraries() {}

  /** Any string, including surrogates and control characters. */
  static Arbitrary<String> anyText() {
    return Arbitraries.strings().ofMaxLength(24);
  }

  /**
   * A name: not blank, no control characters, no unpaired surrogates (see {@link
   * Text#requireName}).
   */
  static Arbitrary<String> nonBlankText() {
    return Arbitraries.oneOf(
        Arbitraries.strings().alpha().numeric().withChars("-_.:/").ofMinLength(1).ofMaxLength(16),
        anyText()
            .filter(
                s ->
                    !s.isBlank()
                        && s.chars().noneMatch(Character::isISOControl)
                        && Text.firstUnpairedSurrogate(s) < 0));
  }

  /** Instants across the whole range, with nanosecond precision. */
  static Arbitrary<Instant> instants() {
    Arbitrary<Instant> near =
        Combinators.combine(
                Arbitraries.longs().between(-5_000_000_000L, 5_000_000_000L),
                Arbitraries.integers().between(0, 999_999_999))
            .as(Instant::ofEpochSecond);
    Arbitrary<Instant> far =
        Combinators.combine(
                Arbitraries.longs()
                    .between(Instant.MIN.getEpochSecond(), Instant.MAX.getEpochSecond()),
                Arbitraries.integers().between(0, 999_999_999))
            .as(Instant::ofEpochSecond);
    return Arbitraries.frequencyOf(
        Tuple.of(8, near), Tuple.of(2, far), Tuple.of(1, Arbitraries.of(Instant.MIN, Instant.MAX)));
  }

  /** Positive durations from a nanosecond to the largest a Duration holds. */
  static Arbitrary<Duration> positiveDurations() {
    Arbitrary<Duration> small =
        Arbitraries.longs().between(1, 10_000_000_000_000L).map(Duration::ofNanos);
    Arbitrary<Duration> large =
        Combinators.combine(
                Arbitraries.longs().between(0, Long.MAX_VALUE),
                Arbitraries.integers().between(1, 999_999_999))
            .as(Duration::ofSeconds);
    return Arbitraries.oneOf(small, large);
  }

  /**
   * JSON scalars of every node type Jackson has, numbers of every size a double can hold (larger
   * ones are rejected by the spec and by Completed, which other tests check).
   */
  static Arbitrary<JsonNode> jsonScalars() {
    return Arbitraries.oneOf(
        Arbitraries.just(NullNode.getInstance()),
        Arbitraries.of(BooleanNode.TRUE, BooleanNode.FALSE),
        anyText().map(TextNode::valueOf),
        Arbitraries.integers().map(IntNode::valueOf),
        Arbitraries.shorts().map(ShortNode::valueOf),
        Arbitraries.longs().map(LongNode::valueOf),
        Arbitraries.bigIntegers()
            .between(BigInteger.TEN.pow(30).negate(), BigInteger.TEN.pow(30))
            .map(BigIntegerNode::valueOf),
        Arbitraries.doubles().map(DoubleNode::valueOf),
        Arbitraries.floats().map(FloatNode::valueOf),
        Combinators.combine(Arbitraries.longs(), Arbitraries.integers().between(-289, 400))
            .as(
                (unscaled, scale) ->
                    (JsonNode) DecimalNode.valueOf(BigDecimal.valueOf(unscaled, scale))));
  }

  /** JSON trees: nested objects and arrays of scalars. */
  static Arbitrary<JsonNode> jsonTrees() {
    return Arbitraries.recursive(
        EventArbitraries::jsonScalars,
        inner ->
            Arbitraries.oneOf(
                inner,
                inner.list().ofMaxSize(4).map(EventArbitraries::arrayOf),
                Arbitraries.maps(anyText(), inner).ofMaxSize(4).map(EventArbitraries::objectOf)),
        0,
        4);
  }

  /** JSON trees without unpaired surrogates in strings or keys: what a payload may hold. */
  static Arbitrary<JsonNode> wellFormedTrees() {
    return jsonTrees().filter(n -> Text.firstUnpairedSurrogate(n.toString()) < 0);
  }

  /** A payload as a caller gives it: a JSON tree, plain Java values (maps, lists...) or null. */
  static Arbitrary<Object> payloads() {
    return Arbitraries.frequencyOf(
        Tuple.of(4, wellFormedTrees().map(n -> (Object) n)),
        Tuple.of(3, wellFormedTrees().map(n -> MAPPER.convertValue(n, Object.class))),
        Tuple.of(1, Arbitraries.just(null)));
  }

  private static JsonNode arrayOf(List<JsonNode> items) {
    ArrayNode a = NODES.arrayNode();
    items.forEach(a::add);
    return a;
  }

  private static JsonNode objectOf(Map<String, JsonNode> fields) {
    ObjectNode o = NODES.objectNode();
    o.setAll(fields);
    return o;
  }

  static Arbitrary<WorkOrderId> workOrderIds() {
    return Arbitraries.strings()
        .ofMinLength(1)
        .ofMaxLength(WorkOrderId.MAX_LENGTH)
        .filter(s -> !s.isBlank() && s.chars().noneMatch(Character::isISOControl))
        .map(WorkOrderId::of);
  }

  static Arbitrary<BatchId> batchIds() {
    return Arbitraries.oneOf(
        Arbitraries.create(BatchId::random),
        Arbitraries.strings()
            .ofMinLength(1)
            .ofMaxLength(BatchId.MAX_LENGTH)
            .filter(s -> !s.isBlank() && s.chars().noneMatch(Character::isISOControl))
            .map(BatchId::of));
  }

  /** Dependencies of a Submitted event: distinct ids, at least one. */
  static Arbitrary<List<WorkOrderId>> dependencyLists() {
    return workOrderIds().list().ofMinSize(1).ofMaxSize(5).uniqueElements();
  }

  static Arbitrary<ResourceRequest> resourceRequests() {
    return Combinators.combine(
            Arbitraries.integers().between(1, Integer.MAX_VALUE),
            Arbitraries.longs().between(0, Long.MAX_VALUE))
        .as(ResourceRequest::of);
  }

  /**
   * Specs with every optional field sometimes set, the dependencies ({@code after}, {@code
   * afterBatches}, {@code onDependencyFailure}) included.
   */
  static Arbitrary<WorkOrderSpec> specs() {
    return Combinators.combine(
            specsWithoutDependencies(),
            workOrderIds().list().ofMaxSize(4),
            batchIds().list().ofMaxSize(3),
            Arbitraries.of(DependencyFailure.class).injectNull(0.5))
        .as(
            (spec, after, batches, policy) -> {
              WorkOrderSpec.Builder b = spec.toBuilder().after(after.toArray(new WorkOrderId[0]));
              batches.forEach(b::afterBatch);
              if (policy != null) {
                b.onDependencyFailure(policy);
              }
              return b.build();
            });
  }

  /** Specs with every optional field but the dependencies sometimes set. */
  static Arbitrary<WorkOrderSpec> specsWithoutDependencies() {
    Arbitrary<WorkOrderSpec.Builder> base =
        Combinators.combine(nonBlankText(), nonBlankText(), payloads(), Arbitraries.integers())
            .as(
                (type, queue, payload, priority) ->
                    WorkOrderSpec.builder(type).queue(queue).payload(payload).priority(priority));
    return Combinators.combine(
            base,
            resourceRequests().injectNull(0.3),
            Arbitraries.integers().between(1, Integer.MAX_VALUE).injectNull(0.3),
            positiveDurations().injectNull(0.3),
            instants().injectNull(0.3),
            nonBlankText().injectNull(0.3),
            Arbitraries.maps(nonBlankText(), anyText()).ofMaxSize(4))
        .as(
            (b, resources, maxAttempts, timeout, notBefore, key, labels) -> {
              if (resources != null) {
                b.resources(resources);
              }
              if (maxAttempts != null) {
                b.maxAttempts(maxAttempts);
              }
              b.timeout(timeout).notBefore(notBefore).idempotencyKey(key);
              labels.forEach(b::label);
              return b.build();
            });
  }

  static Arbitrary<ErrorInfo> errors() {
    return Combinators.combine(
            Arbitraries.oneOf(
                Arbitraries.of(
                    ErrorCodes.TIMEOUT,
                    ErrorCodes.LEASE_EXPIRED,
                    ErrorCodes.OOM_KILLED,
                    ErrorCodes.AGENT_FATAL_ERROR),
                nonBlankText()),
            anyText(),
            Arbitraries.of(true, false))
        .as(ErrorInfo::new);
  }

  /** Submitted events, a third of them with dependencies (so leading to BLOCKED). */
  static Arbitrary<WorkOrderEvent.Submitted> submittedEvents() {
    return Arbitraries.frequencyOf(
        Tuple.of(2, submittedEvents(false)), Tuple.of(1, submittedEvents(true)));
  }

  /** Submitted events with or without dependencies, sometimes in a batch. */
  static Arbitrary<WorkOrderEvent.Submitted> submittedEvents(boolean withDependencies) {
    return Combinators.combine(
            specs(),
            workOrderIds().injectNull(0.5),
            batchIds().injectNull(0.5),
            withDependencies ? dependencyLists() : Arbitraries.just(List.<WorkOrderId>of()))
        .as(WorkOrderEvent.Submitted::new);
  }

  /** Checkpoints: any JSON tree but JSON null. */
  static Arbitrary<WorkOrderEvent.Checkpointed> checkpointedEvents() {
    return Combinators.combine(
            Arbitraries.integers().between(1, Integer.MAX_VALUE),
            jsonTrees().filter(n -> !n.isNull()))
        .as(WorkOrderEvent.Checkpointed::new);
  }

  /** A dependency that did not complete: any state but COMPLETED, or gone (null). */
  static Arbitrary<WorkOrderEvent.DependencyFailed> dependencyFailedEvents() {
    return Combinators.combine(
            workOrderIds(),
            Arbitraries.of(WorkOrderState.class)
                .filter(s -> s != WorkOrderState.COMPLETED)
                .injectNull(0.3))
        .as(WorkOrderEvent.DependencyFailed::new);
  }

  static Arbitrary<WorkOrderEvent.AttemptFailed> attemptFailedEvents() {
    return Combinators.combine(errors(), instants().injectNull(0.5), anyText())
        .as(WorkOrderEvent.AttemptFailed::new);
  }

  /** Events of one trigger, with random fields. */
  static Arbitrary<WorkOrderEvent> eventsOf(TransitionTable.Trigger trigger) {
    return switch (trigger) {
      case SUBMITTED -> submittedEvents(false).map(e -> e);
      case SUBMITTED_BLOCKED -> submittedEvents(true).map(e -> e);
      case DEPENDENCIES_MET -> Arbitraries.just(new WorkOrderEvent.DependenciesMet());
      case DEPENDENCY_FAILED -> dependencyFailedEvents().map(e -> e);
      case CHECKPOINTED -> checkpointedEvents().map(e -> e);
      case CLAIMED ->
          Combinators.combine(nonBlankText(), instants()).as(WorkOrderEvent.Claimed::new);
      case STARTED -> nonBlankText().map(WorkOrderEvent.Started::new);
      case COMPLETED -> jsonTrees().injectNull(0.2).map(WorkOrderEvent.Completed::new);
      case ATTEMPT_FAILED_WITH_RETRY ->
          Combinators.combine(errors(), instants(), anyText())
              .as(WorkOrderEvent.AttemptFailed::new);
      case ATTEMPT_FAILED_FINAL ->
          Combinators.combine(errors(), anyText())
              .as((error, decision) -> new WorkOrderEvent.AttemptFailed(error, null, decision));
      case RETRY_RELEASED -> Arbitraries.just(new WorkOrderEvent.RetryReleased());
      case CANCELLATION_REQUESTED -> anyText().map(WorkOrderEvent.CancellationRequested::new);
      case CANCELLED -> anyText().map(WorkOrderEvent.Cancelled::new);
      case RELEASED ->
          Combinators.combine(
                  Arbitraries.oneOf(
                      Arbitraries.of(
                          ErrorCodes.NODE_SHUTDOWN,
                          ErrorCodes.LEASE_EXPIRED,
                          ErrorCodes.LEASE_NOT_RENEWED),
                      nonBlankText()),
                  anyText())
              .as(WorkOrderEvent.Released::new);
    };
  }

  /** Every event type, with random fields. */
  static Arbitrary<WorkOrderEvent> events() {
    List<Arbitrary<? extends WorkOrderEvent>> all = new ArrayList<>();
    for (TransitionTable.Trigger trigger : TransitionTable.Trigger.values()) {
      all.add(eventsOf(trigger));
    }
    return Arbitraries.oneOf(all);
  }
}
