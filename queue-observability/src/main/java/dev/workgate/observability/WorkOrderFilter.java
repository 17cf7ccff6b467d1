package dev.workgate.observability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.core.BatchId;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.observability.Routes.BadParameter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The filter of the work-order routes, read from a query string ({@code GET /api/work-orders},
 * {@code /counts}, {@code /api/failures}) or from the {@code filter} object of a bulk action's
 * body, and checked the same way: each parameter at most once except the lists, each value of its
 * form, a bad one a {@link BadParameter} naming it.
 *
 * <p>Parameters: {@code queue}; {@code state} and {@code type} (lists: repeated, comma-separated,
 * or a JSON array); {@code label} ({@code key:value}, repeatable, all must match; a JSON object in
 * a body); {@code errorCode}; {@code from} and {@code to} (ISO-8601 instants bounding the
 * submission time, {@code [from, to)}); {@code resubmittedFrom} (a work-order id); {@code
 * notResubmitted} ({@code true} or {@code false}); {@code batch} (a batch id).
 *
 * @param queue the queue, or null for all
 * @param states the states; empty for all
 * @param types the types; empty for all
 * @param labels labels that must all match
 * @param errorCode the last error's code, or null
 * @param from inclusive lower bound of the submission time, or null
 * @param to exclusive upper bound of the submission time, or null
 * @param resubmittedFrom the work order these were resubmitted from, or null
 * @param notResubmitted only work orders that no work order was resubmitted from
 * @param batch the batch the work orders belong to, or null
 */
record WorkOrderFilter(
    String queue,
    Set<WorkOrderState> states,
    Set<String> types,
    Map<String, String> labels,
    String errorCode,
    Instant from,
    Instant to,
    WorkOrderId resubmittedFrom,
    boolean notResubmitted,
    BatchId batch) {

  /** The names a filter reads. */
  static final Set<String> PARAMETERS =
      Set.of(
          "queue",
          "state",
          "type",
          "label",
          "errorCode",
          "from",
          "to",
          "resubmittedFrom",
          "notResubmitted",
          "batch");

  /** Copies the collections. */
  WorkOrderFilter {
    states = states.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(states));
    types = Set.copyOf(types);
    labels = Map.copyOf(labels);
  }

  /** The same filter with other states. */
  WorkOrderFilter withStates(Set<WorkOrderState> newStates) {
    return new WorkOrderFilter(
        queue,
        newStates,
        types,
        labels,
        errorCode,
        from,
        to,
        resubmittedFrom,
        notResubmitted,
        batch);
  }

  /** The same filter, narrowed to work orders that nothing was resubmitted from yet. */
  WorkOrderFilter notYetResubmitted() {
    return new WorkOrderFilter(
        queue, states, types, labels, errorCode, from, to, resubmittedFrom, true, batch);
  }

  /**
   * A query builder with this filter set; the caller adds order, cursor and limit.
   *
   * @throws BadParameter if the store's query refuses a value (too long, not printable)
   */
  WorkOrderQuery.Builder query() throws BadParameter {
    WorkOrderQuery.Builder q = WorkOrderQuery.builder();
    set("queue", () -> q.queue(queue), queue != null);
    set("state", () -> q.states(states.toArray(new WorkOrderState[0])), !states.isEmpty());
    set("type", () -> q.types(types.toArray(new String[0])), !types.isEmpty());
    for (Map.Entry<String, String> l : labels.entrySet()) {
      set("label", () -> q.label(l.getKey(), l.getValue()), true);
    }
    set("errorCode", () -> q.errorCode(errorCode), errorCode != null);
    set("from", () -> q.submittedBetween(from, to), from != null || to != null);
    set("resubmittedFrom", () -> q.resubmittedFrom(resubmittedFrom), resubmittedFrom != null);
    if (notResubmitted) {
      q.notResubmitted();
    }
    set("batch", () -> q.batch(batch), batch != null);
    return q;
  }

  private static void set(String parameter, Runnable setter, boolean given) throws BadParameter {
    if (!given) {
      return;
    }
    try {
      setter.run();
    } catch (IllegalArgumentException e) {
      throw new BadParameter(parameter, Routes.shorten(e.getMessage(), 300));
    }
  }

  /**
   * Reads a filter from a query string's parameters; other parameters are the caller's.
   *
   * @param query the parameters
   * @return the filter
   * @throws BadParameter naming the first bad parameter
   */
  static WorkOrderFilter fromQuery(Map<String, List<String>> query) throws BadParameter {
    for (String single :
        List.of("queue", "errorCode", "from", "to", "resubmittedFrom", "notResubmitted", "batch")) {
      List<String> values = query.get(single);
      if (values != null && values.size() > 1) {
        throw new BadParameter(single, "parameter '" + single + "' given twice");
      }
    }
    Set<WorkOrderState> states = EnumSet.noneOf(WorkOrderState.class);
    for (String value : query.getOrDefault("state", List.of())) {
      for (String name : value.split(",", -1)) {
        states.add(state(name.trim()));
      }
    }
    Set<String> types = new LinkedHashSet<>();
    for (String value : query.getOrDefault("type", List.of())) {
      for (String name : value.split(",", -1)) {
        types.add(nonBlank("type", name.trim()));
      }
    }
    Map<String, String> labels = new LinkedHashMap<>();
    for (String value : query.getOrDefault("label", List.of())) {
      int colon = value.indexOf(':');
      if (colon <= 0) {
        throw new BadParameter(
            "label", "label must be key:value, got '" + Routes.shorten(value) + "'");
      }
      String key = value.substring(0, colon);
      if (labels.put(key, value.substring(colon + 1)) != null) {
        throw new BadParameter("label", "label '" + Routes.shorten(key) + "' given twice");
      }
    }
    return build(
        nonBlankOrNull("queue", Routes.single(query, "queue")),
        states,
        types,
        labels,
        nonBlankOrNull("errorCode", Routes.single(query, "errorCode")),
        Routes.instant(query, "from"),
        Routes.instant(query, "to"),
        id(Routes.single(query, "resubmittedFrom")),
        bool(Routes.single(query, "notResubmitted")),
        batch(Routes.single(query, "batch")));
  }

  /**
   * Reads a filter from a JSON object (a bulk action's {@code filter}).
   *
   * @param json the object, or null for no filter
   * @return the filter
   * @throws BadParameter naming the first bad field
   */
  static WorkOrderFilter fromJson(JsonNode json) throws BadParameter {
    if (json == null || json.isNull()) {
      return build(null, Set.of(), Set.of(), Map.of(), null, null, null, null, false, null);
    }
    if (!json.isObject()) {
      throw new BadParameter("filter", "filter must be a JSON object");
    }
    for (var it = json.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!PARAMETERS.contains(field)) {
        throw new BadParameter(
            field,
            "unknown filter field '"
                + Routes.shorten(field)
                + "'; known: "
                + String.join(", ", new java.util.TreeSet<>(PARAMETERS)));
      }
    }
    Set<WorkOrderState> states = EnumSet.noneOf(WorkOrderState.class);
    for (String name : strings(json, "state")) {
      states.add(state(name));
    }
    Set<String> types = new LinkedHashSet<>();
    for (String name : strings(json, "type")) {
      types.add(nonBlank("type", name));
    }
    Map<String, String> labels = new LinkedHashMap<>();
    JsonNode l = json.get("label");
    if (l != null && !l.isNull()) {
      if (!l.isObject()) {
        throw new BadParameter("label", "label must be an object of key to value");
      }
      for (Map.Entry<String, JsonNode> e : l.properties()) {
        if (!e.getValue().isTextual()) {
          throw new BadParameter(
              "label", "label '" + Routes.shorten(e.getKey()) + "' must have a string value");
        }
        labels.put(e.getKey(), e.getValue().asText());
      }
    }
    return build(
        nonBlankOrNull("queue", text(json, "queue")),
        states,
        types,
        labels,
        nonBlankOrNull("errorCode", text(json, "errorCode")),
        Routes.instant("from", text(json, "from")),
        Routes.instant("to", text(json, "to")),
        id(text(json, "resubmittedFrom")),
        bool(json.get("notResubmitted")),
        batch(text(json, "batch")));
  }

  private static WorkOrderFilter build(
      String queue,
      Set<WorkOrderState> states,
      Set<String> types,
      Map<String, String> labels,
      String errorCode,
      Instant from,
      Instant to,
      WorkOrderId resubmittedFrom,
      boolean notResubmitted,
      BatchId batch)
      throws BadParameter {
    if (from != null && to != null && !from.isBefore(to)) {
      throw new BadParameter("to", "to must be after from");
    }
    WorkOrderFilter f =
        new WorkOrderFilter(
            queue,
            states,
            types,
            labels,
            errorCode,
            from,
            to,
            resubmittedFrom,
            notResubmitted,
            batch);
    f.query(); // the store's own checks, now, so that a bad value is a 400 before any work
    return f;
  }

  private static boolean bool(String value) throws BadParameter {
    if (value == null || value.equals("false")) {
      return false;
    }
    if (value.equals("true")) {
      return true;
    }
    throw new BadParameter("notResubmitted", "notResubmitted must be true or false");
  }

  private static boolean bool(JsonNode value) throws BadParameter {
    if (value == null || value.isNull()) {
      return false;
    }
    if (!value.isBoolean()) {
      throw new BadParameter("notResubmitted", "notResubmitted must be true or false");
    }
    return value.asBoolean();
  }

  private static WorkOrderState state(String name) throws BadParameter {
    try {
      return WorkOrderState.valueOf(name);
    } catch (IllegalArgumentException e) {
      throw new BadParameter(
          "state",
          "unknown state '"
              + Routes.shorten(name)
              + "'; known: "
              + String.join(
                  ", ", java.util.Arrays.stream(WorkOrderState.values()).map(Enum::name).toList()));
    }
  }

  private static String nonBlank(String parameter, String value) throws BadParameter {
    if (value.isBlank()) {
      throw new BadParameter(parameter, parameter + " must not be blank");
    }
    return value;
  }

  private static String nonBlankOrNull(String parameter, String value) throws BadParameter {
    return value == null ? null : nonBlank(parameter, value);
  }

  private static WorkOrderId id(String value) throws BadParameter {
    if (value == null) {
      return null;
    }
    return Routes.parseId(value)
        .orElseThrow(
            () ->
                new BadParameter(
                    "resubmittedFrom", "'" + Routes.shorten(value) + "' is not a work-order id"));
  }

  private static BatchId batch(String value) throws BadParameter {
    if (value == null) {
      return null;
    }
    try {
      return BatchId.of(value);
    } catch (IllegalArgumentException e) {
      throw new BadParameter("batch", "'" + Routes.shorten(value) + "' is not a batch id");
    }
  }

  private static String text(JsonNode json, String field) throws BadParameter {
    JsonNode v = json.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw new BadParameter(field, field + " must be a string");
    }
    return v.asText();
  }

  /** A string or an array of strings. */
  private static List<String> strings(JsonNode json, String field) throws BadParameter {
    JsonNode v = json.get(field);
    List<String> out = new ArrayList<>();
    if (v == null || v.isNull()) {
      return out;
    }
    if (v.isTextual()) {
      out.add(v.asText());
      return out;
    }
    if (!v.isArray()) {
      throw new BadParameter(field, field + " must be a string or an array of strings");
    }
    for (JsonNode e : v) {
      if (!e.isTextual()) {
        throw new BadParameter(field, field + " must be a string or an array of strings");
      }
      out.add(e.asText());
    }
    return out;
  }
}
