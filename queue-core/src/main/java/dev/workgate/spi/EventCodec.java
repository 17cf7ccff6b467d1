package dev.workgate.spi;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.core.BatchId;
import dev.workgate.core.DependencyFailure;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.internal.Json;
import dev.workgate.core.internal.Text;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Writes events as JSON and reads them back, under a stable type name and a schema version per
 * event type ({@link EventType}). Stores keep the type and version beside the JSON data; {@link
 * #toJson}/{@link #fromJson} pack all three into one self-describing document.
 *
 * <p>Times are ISO-8601 instants and durations, so they round-trip exactly to the nanosecond.
 * Reading checks everything a constructor or builder checks; malformed input is an {@link
 * EventCodecException} naming the type, version and field. Readers for older schema versions stay
 * registered when an event type's schema changes, so old logs stay readable. The write limits of
 * {@link Text} (lengths, label counts, value sizes) are not applied when reading: a stored event
 * was accepted by the code that wrote it, and a reader never refuses it for a limit added since.
 *
 * <p>Stateless and thread-safe.
 */
public final class EventCodec {

  /**
   * An event in its stored form.
   *
   * @param type the type name, e.g. {@code "Claimed"}
   * @param schemaVersion the schema version of {@code data}
   * @param data the event's fields as a JSON object
   */
  public record EncodedEvent(String type, int schemaVersion, String data) {}

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** How much of a bad field's value a message shows. */
  private static final int MAX_SHOWN_CHARS = 100;

  /** Readers by type name, then schema version. */
  private static final Map<String, Map<Integer, Function<JsonNode, WorkOrderEvent>>> READERS =
      Map.ofEntries(
          // Version 2 adds the optional batch, dependencies and the spec's after, afterBatches and
          // onDependencyFailure; a version 1 document is a version 2 one without them.
          reader(
              EventType.SUBMITTED,
              Map.of(1, EventCodec::readSubmitted, 2, EventCodec::readSubmitted)),
          reader(
              EventType.CLAIMED,
              Map.of(
                  1,
                  d ->
                      new WorkOrderEvent.Claimed(
                          text(d, "", "owner"), instant(d, "", "leaseExpiresAt", true)))),
          reader(
              EventType.STARTED,
              Map.of(1, d -> new WorkOrderEvent.Started(text(d, "", "sandboxId")))),
          reader(
              EventType.COMPLETED, Map.of(1, d -> new WorkOrderEvent.Completed(d.get("result")))),
          reader(EventType.ATTEMPT_FAILED, Map.of(1, EventCodec::readAttemptFailedV1)),
          reader(EventType.RETRY_RELEASED, Map.of(1, d -> new WorkOrderEvent.RetryReleased())),
          reader(
              EventType.CANCELLATION_REQUESTED,
              Map.of(1, d -> new WorkOrderEvent.CancellationRequested(text(d, "", "reason")))),
          reader(
              EventType.CANCELLED,
              Map.of(1, d -> new WorkOrderEvent.Cancelled(text(d, "", "reason")))),
          reader(
              EventType.RELEASED,
              Map.of(
                  1, d -> new WorkOrderEvent.Released(text(d, "", "code"), text(d, "", "reason")))),
          reader(EventType.DEPENDENCIES_MET, Map.of(1, d -> new WorkOrderEvent.DependenciesMet())),
          reader(EventType.DEPENDENCY_FAILED, Map.of(1, EventCodec::readDependencyFailedV1)),
          reader(EventType.CHECKPOINTED, Map.of(1, EventCodec::readCheckpointedV1)));

  private static Map.Entry<String, Map<Integer, Function<JsonNode, WorkOrderEvent>>> reader(
      EventType type, Map<Integer, Function<JsonNode, WorkOrderEvent>> byVersion) {
    return Map.entry(type.typeName(), byVersion);
  }

  private EventCodec() {}

  /**
   * Encodes an event under its current schema version.
   *
   * @param event the event
   * @return type name, schema version and JSON data
   */
  public static EncodedEvent encode(WorkOrderEvent event) {
    return new EncodedEvent(
        event.type().typeName(), event.type().schemaVersion(), write(dataOf(event)));
  }

  /**
   * Decodes an event.
   *
   * @param type the type name
   * @param schemaVersion the schema version the data was written with
   * @param data the JSON data
   * @return the event
   * @throws EventCodecException for an unknown type or version, malformed JSON or a bad field
   */
  public static WorkOrderEvent decode(String type, int schemaVersion, String data) {
    if (type == null) {
      throw new EventCodecException(
          "event type is null; this code reads " + new TreeMap<>(READERS).keySet());
    }
    Map<Integer, Function<JsonNode, WorkOrderEvent>> byVersion = READERS.get(type);
    if (byVersion == null) {
      throw new EventCodecException(
          "unknown event type '"
              + type
              + "'; this code reads "
              + new TreeMap<>(READERS).keySet()
              + " (was the log written by a newer Workgate?)");
    }
    Function<JsonNode, WorkOrderEvent> reader = byVersion.get(schemaVersion);
    if (reader == null) {
      throw new EventCodecException(
          "event type '"
              + type
              + "' has schema version "
              + schemaVersion
              + "; this code reads versions "
              + new TreeMap<>(byVersion).keySet()
              + " (was the log written by a newer Workgate?)");
    }
    if (data == null) {
      throw new EventCodecException("event " + type + " v" + schemaVersion + ": data is null");
    }
    JsonNode node;
    try {
      node = Json.EVENTS.readTree(data);
    } catch (JsonProcessingException e) {
      throw new EventCodecException(
          "event " + type + " v" + schemaVersion + ": malformed JSON: " + syntaxError(e), e);
    }
    if (node == null || !node.isObject()) {
      throw new EventCodecException(
          "event "
              + type
              + " v"
              + schemaVersion
              + ": data must be a JSON object, got "
              + (node == null
                  ? "nothing"
                  : "a JSON " + node.getNodeType().name().toLowerCase(Locale.ROOT))
              + " ("
              + data.length()
              + " characters; the content is not shown, it may hold payload data)");
    }
    try {
      return Text.readingStored(() -> reader.apply(node));
    } catch (EventCodecException e) {
      throw new EventCodecException(
          "event " + type + " v" + schemaVersion + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new EventCodecException(
          "event " + type + " v" + schemaVersion + ": invalid field: " + e.getMessage(), e);
    }
  }

  /**
   * Decodes an event in its stored form.
   *
   * @param encoded type, version and data
   * @return the event
   * @throws EventCodecException as {@link #decode(String, int, String)}
   */
  public static WorkOrderEvent decode(EncodedEvent encoded) {
    return decode(encoded.type(), encoded.schemaVersion(), encoded.data());
  }

  /**
   * A payload or result as JSON text, for stores that keep values in columns.
   *
   * @param value the value
   * @return its JSON text
   */
  public static String writeValue(JsonNode value) {
    return write(value);
  }

  /**
   * Reads a value written by {@link #writeValue}, with the same limits as event documents.
   *
   * @param json the text
   * @return the value
   * @throws EventCodecException if the text is not JSON
   */
  public static JsonNode readValue(String json) {
    try {
      return Json.VALUES.readTree(json);
    } catch (JsonProcessingException e) {
      throw new EventCodecException("malformed JSON value: " + syntaxError(e), e);
    }
  }

  /**
   * One self-describing JSON document: {@code {"type":…,"schemaVersion":…,"data":{…}}}.
   *
   * @param event the event
   * @return the document
   */
  public static String toJson(WorkOrderEvent event) {
    ObjectNode envelope = NODES.objectNode();
    envelope.put("type", event.type().typeName());
    envelope.put("schemaVersion", event.type().schemaVersion());
    envelope.set("data", dataOf(event));
    return write(envelope);
  }

  /**
   * Reads a document written by {@link #toJson}.
   *
   * @param json the document
   * @return the event
   * @throws EventCodecException if the document is malformed or names an unknown type or version
   */
  public static WorkOrderEvent fromJson(String json) {
    JsonNode envelope;
    try {
      envelope = Json.EVENTS.readTree(json);
    } catch (JsonProcessingException e) {
      throw new EventCodecException("malformed event JSON: " + syntaxError(e), e);
    }
    if (envelope == null
        || !envelope.path("type").isTextual()
        || !envelope.path("schemaVersion").isIntegralNumber()
        || !envelope.path("schemaVersion").canConvertToInt()
        || !envelope.path("data").isObject()) {
      throw new EventCodecException(
          "event JSON must have a text 'type', an int 'schemaVersion' and an object 'data'; got "
              + json.length()
              + " characters without them (the content is not shown, it may hold payload data)");
    }
    return decode(
        envelope.get("type").asText(),
        envelope.get("schemaVersion").asInt(),
        write(envelope.get("data")));
  }

  private static ObjectNode dataOf(WorkOrderEvent event) {
    ObjectNode d = NODES.objectNode();
    switch (event.type()) {
      case SUBMITTED -> {
        WorkOrderEvent.Submitted s = (WorkOrderEvent.Submitted) event;
        d.set("spec", specNode(s.spec()));
        if (s.resubmittedFrom() != null) {
          d.put("resubmittedFrom", s.resubmittedFrom().value());
        }
        if (s.batch() != null) {
          d.put("batch", s.batch().value());
        }
        if (!s.dependencies().isEmpty()) {
          s.dependencies().forEach(id -> d.withArray("dependencies").add(id.value()));
        }
      }
      case DEPENDENCIES_MET -> {
        // no fields
      }
      case DEPENDENCY_FAILED -> {
        WorkOrderEvent.DependencyFailed f = (WorkOrderEvent.DependencyFailed) event;
        d.put("dependency", f.dependency().value());
        if (f.dependencyState() != null) {
          d.put("dependencyState", f.dependencyState().name());
        }
      }
      case CHECKPOINTED -> {
        WorkOrderEvent.Checkpointed c = (WorkOrderEvent.Checkpointed) event;
        d.put("attempt", c.attempt());
        d.set("state", c.state());
      }
      case CLAIMED -> {
        WorkOrderEvent.Claimed c = (WorkOrderEvent.Claimed) event;
        d.put("owner", c.owner());
        d.put("leaseExpiresAt", c.leaseExpiresAt().toString());
      }
      case STARTED -> d.put("sandboxId", ((WorkOrderEvent.Started) event).sandboxId());
      case COMPLETED -> {
        JsonNode result = ((WorkOrderEvent.Completed) event).result();
        if (result != null) {
          d.set("result", result);
        }
      }
      case ATTEMPT_FAILED -> {
        WorkOrderEvent.AttemptFailed f = (WorkOrderEvent.AttemptFailed) event;
        ObjectNode error = d.putObject("error");
        error.put("code", f.error().code());
        error.put("message", f.error().message());
        error.put("retryable", f.error().retryable());
        if (f.retryAt() != null) {
          d.put("retryAt", f.retryAt().toString());
        }
        d.put("decision", f.decision());
      }
      case RETRY_RELEASED -> {
        // no fields
      }
      case CANCELLATION_REQUESTED ->
          d.put("reason", ((WorkOrderEvent.CancellationRequested) event).reason());
      case CANCELLED -> d.put("reason", ((WorkOrderEvent.Cancelled) event).reason());
      case RELEASED -> {
        WorkOrderEvent.Released r = (WorkOrderEvent.Released) event;
        d.put("code", r.code());
        d.put("reason", r.reason());
      }
    }
    return d;
  }

  private static ObjectNode specNode(WorkOrderSpec spec) {
    ObjectNode n = NODES.objectNode();
    n.put("type", spec.type());
    n.put("queue", spec.queue());
    n.set("payload", spec.payload());
    n.put("priority", spec.priority());
    spec.resources()
        .ifPresent(
            r -> {
              ObjectNode res = n.putObject("resources");
              res.put("slots", r.slots());
              res.put("memoryMb", r.memoryMb());
            });
    spec.maxAttempts().ifPresent(a -> n.put("maxAttempts", a));
    spec.timeout().ifPresent(t -> n.put("timeout", t.toString()));
    spec.notBefore().ifPresent(t -> n.put("notBefore", t.toString()));
    spec.idempotencyKey().ifPresent(k -> n.put("idempotencyKey", k));
    ObjectNode labels = n.putObject("labels");
    new TreeMap<>(spec.labels()).forEach(labels::put);
    spec.after().forEach(id -> n.withArray("after").add(id.value()));
    spec.afterBatches().forEach(id -> n.withArray("afterBatches").add(id.value()));
    if (spec.onDependencyFailure() != DependencyFailure.CANCEL) {
      n.put("onDependencyFailure", spec.onDependencyFailure().name());
    }
    return n;
  }

  private static WorkOrderEvent readSubmitted(JsonNode d) {
    JsonNode s = object(d, "", "spec");
    WorkOrderSpec.Builder b =
        WorkOrderSpec.builder(text(s, "spec.", "type"))
            .queue(text(s, "spec.", "queue"))
            .payload(s.get("payload"))
            .priority(integer(s, "spec.", "priority"));
    if (s.hasNonNull("resources")) {
      JsonNode res = object(s, "spec.", "resources");
      b.resources(
          ResourceRequest.of(
              integer(res, "spec.resources.", "slots"),
              longValue(res, "spec.resources.", "memoryMb")));
    }
    if (s.hasNonNull("maxAttempts")) {
      b.maxAttempts(integer(s, "spec.", "maxAttempts"));
    }
    if (s.hasNonNull("timeout")) {
      b.timeout(duration(s, "spec.", "timeout"));
    }
    b.notBefore(instant(s, "spec.", "notBefore", false));
    if (s.hasNonNull("idempotencyKey")) {
      b.idempotencyKey(text(s, "spec.", "idempotencyKey"));
    }
    if (s.hasNonNull("labels")) {
      JsonNode labels = object(s, "spec.", "labels");
      labels
          .properties()
          .forEach(e -> b.label(e.getKey(), text(labels, "spec.labels.", e.getKey())));
    }
    for (String id : texts(s, "spec.", "after")) {
      b.after(workOrderId(id, "spec.after"));
    }
    for (String id : texts(s, "spec.", "afterBatches")) {
      b.afterBatch(batchId(id, "spec.afterBatches"));
    }
    if (s.hasNonNull("onDependencyFailure")) {
      String policy = text(s, "spec.", "onDependencyFailure");
      try {
        b.onDependencyFailure(DependencyFailure.valueOf(policy));
      } catch (IllegalArgumentException e) {
        throw new EventCodecException(
            "field 'spec.onDependencyFailure' must be one of "
                + java.util.Arrays.toString(DependencyFailure.values())
                + ", got: "
                + shown(s.get("onDependencyFailure")),
            e);
      }
    }
    BatchId batch = d.hasNonNull("batch") ? batchId(text(d, "", "batch"), "batch") : null;
    java.util.List<WorkOrderId> dependencies = new java.util.ArrayList<>();
    for (String id : texts(d, "", "dependencies")) {
      dependencies.add(workOrderId(id, "dependencies"));
    }
    String from = d.hasNonNull("resubmittedFrom") ? text(d, "", "resubmittedFrom") : null;
    WorkOrderId resubmittedFrom;
    try {
      resubmittedFrom = from == null ? null : WorkOrderId.of(from);
    } catch (IllegalArgumentException e) {
      throw new EventCodecException("field 'resubmittedFrom': " + e.getMessage(), e);
    }
    return new WorkOrderEvent.Submitted(b.build(), resubmittedFrom, batch, dependencies);
  }

  private static WorkOrderEvent readDependencyFailedV1(JsonNode d) {
    WorkOrderState state = null;
    if (d.hasNonNull("dependencyState")) {
      String name = text(d, "", "dependencyState");
      try {
        state = WorkOrderState.valueOf(name);
      } catch (IllegalArgumentException e) {
        throw new EventCodecException(
            "field 'dependencyState' must be a state, got: " + shown(d.get("dependencyState")), e);
      }
    }
    return new WorkOrderEvent.DependencyFailed(
        workOrderId(text(d, "", "dependency"), "dependency"), state);
  }

  private static WorkOrderEvent readCheckpointedV1(JsonNode d) {
    int attempt = integer(d, "", "attempt");
    if (attempt < 1) {
      throw new EventCodecException("field 'attempt' must be at least 1, got: " + attempt);
    }
    JsonNode state = d.get("state");
    if (state == null || state.isNull()) {
      throw new EventCodecException("field 'state' is missing");
    }
    try {
      return new WorkOrderEvent.Checkpointed(attempt, state);
    } catch (IllegalArgumentException e) {
      throw new EventCodecException("field 'state': " + e.getMessage(), e);
    }
  }

  /** A work order id a field holds, or an error naming the field. */
  private static WorkOrderId workOrderId(String value, String field) {
    try {
      return WorkOrderId.of(value);
    } catch (IllegalArgumentException e) {
      throw new EventCodecException("field '" + field + "': " + e.getMessage(), e);
    }
  }

  /** A batch id a field holds, or an error naming the field. */
  private static BatchId batchId(String value, String field) {
    try {
      return BatchId.of(value);
    } catch (IllegalArgumentException e) {
      throw new EventCodecException("field '" + field + "': " + e.getMessage(), e);
    }
  }

  /** An optional array of strings; empty when absent. */
  private static java.util.List<String> texts(JsonNode node, String path, String field) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return java.util.List.of();
    }
    if (!v.isArray()) {
      throw new EventCodecException(
          "field '" + path + field + "' must be an array of strings, got: " + shown(v));
    }
    java.util.List<String> out = new java.util.ArrayList<>(v.size());
    for (JsonNode item : v) {
      if (!item.isTextual()) {
        throw new EventCodecException(
            "field '" + path + field + "' must hold strings only, got: " + shown(item));
      }
      out.add(item.asText());
    }
    return out;
  }

  private static WorkOrderEvent readAttemptFailedV1(JsonNode d) {
    JsonNode e = object(d, "", "error");
    JsonNode retryable = e.get("retryable");
    if (retryable == null || !retryable.isBoolean()) {
      throw new EventCodecException(
          "field 'error.retryable' must be a boolean, got: " + shown(retryable));
    }
    ErrorInfo error =
        new ErrorInfo(
            text(e, "error.", "code"), text(e, "error.", "message"), retryable.booleanValue());
    return new WorkOrderEvent.AttemptFailed(
        error, instant(d, "", "retryAt", false), text(d, "", "decision"));
  }

  // Field readers: `path` is the field's parent path for messages, e.g. "spec." or "".

  private static JsonNode object(JsonNode node, String path, String field) {
    JsonNode v = node.get(field);
    if (v == null || !v.isObject()) {
      throw new EventCodecException(
          "field '" + path + field + "' must be an object, got: " + shown(v));
    }
    return v;
  }

  private static String text(JsonNode node, String path, String field) {
    JsonNode v = node.get(field);
    if (v == null || !v.isTextual()) {
      throw new EventCodecException(
          "field '" + path + field + "' must be a string, got: " + shown(v));
    }
    return v.asText();
  }

  private static int integer(JsonNode node, String path, String field) {
    JsonNode v = node.get(field);
    if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
      throw new EventCodecException(
          "field '" + path + field + "' must be an int, got: " + shown(v));
    }
    return v.asInt();
  }

  private static long longValue(JsonNode node, String path, String field) {
    JsonNode v = node.get(field);
    if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new EventCodecException(
          "field '" + path + field + "' must be a long, got: " + shown(v));
    }
    return v.asLong();
  }

  private static Instant instant(JsonNode node, String path, String field, boolean required) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw new EventCodecException("field '" + path + field + "' is missing");
      }
      return null;
    }
    try {
      if (v.isTextual()) {
        return Instant.parse(v.asText());
      }
    } catch (DateTimeParseException e) {
      throw new EventCodecException(
          "field '" + path + field + "' must be an ISO-8601 instant, got: " + shown(v), e);
    }
    throw new EventCodecException(
        "field '" + path + field + "' must be an ISO-8601 instant, got: " + shown(v));
  }

  private static Duration duration(JsonNode node, String path, String field) {
    JsonNode v = node.get(field);
    try {
      if (v.isTextual()) {
        return Duration.parse(v.asText());
      }
    } catch (DateTimeParseException e) {
      throw new EventCodecException(
          "field '" + path + field + "' must be an ISO-8601 duration, got: " + shown(v), e);
    }
    throw new EventCodecException(
        "field '" + path + field + "' must be an ISO-8601 duration, got: " + shown(v));
  }

  /**
   * A field's value for a message: scalars as JSON, cut short; containers by kind only. A node's
   * own {@code toString()} would print a value of any size and fails past Jackson's default nesting
   * depth, which a document read here may exceed.
   */
  private static String shown(JsonNode v) {
    if (v == null) {
      return "nothing";
    }
    if (v.isContainerNode()) {
      return "a JSON "
          + v.getNodeType().name().toLowerCase(Locale.ROOT)
          + " of "
          + v.size()
          + (v.isArray() ? " items" : " fields");
    }
    String json = v.isTextual() ? quoted(v.textValue()) : v.toString();
    return json.length() <= MAX_SHOWN_CHARS
        ? json
        : json.substring(0, MAX_SHOWN_CHARS) + "… (" + json.length() + " characters)";
  }

  private static String quoted(String text) {
    return NODES.textNode(text).toString();
  }

  private static String write(JsonNode node) {
    try {
      return Json.EVENTS.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new EventCodecException("cannot write event JSON: " + e.getOriginalMessage(), e);
    }
  }

  /**
   * What is wrong with a document and where, never what it holds: the parser's message up to the
   * first quoted token or parenthesis (Jackson quotes the text it stumbled on, which may be part of
   * a payload or a secret), then the line and column. These messages reach logs, health details and
   * the store's quarantine line.
   */
  static String syntaxError(JsonProcessingException e) {
    String m = String.valueOf(e.getOriginalMessage());
    int cut = m.length();
    for (char c : new char[] {'\'', '"', '(', '\n'}) {
      int at = m.indexOf(c);
      if (at >= 0 && at < cut) {
        cut = at;
      }
    }
    String kind = m.substring(0, cut).strip();
    while (kind.endsWith(":") || kind.endsWith(",")) {
      kind = kind.substring(0, kind.length() - 1).strip();
    }
    if (kind.isEmpty()) {
      kind = "syntax error";
    }
    JsonLocation at = e.getLocation();
    return at == null || at.getLineNr() < 0
        ? kind
        : kind + " at line " + at.getLineNr() + ", column " + at.getColumnNr();
  }
}
