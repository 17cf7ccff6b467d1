package dev.workgate.observability;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.EventQuery;
import dev.workgate.core.store.EventQuery.EventPage;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.StoreException.UnreadableRowException;
import dev.workgate.observability.SystemHealth.HealthStatus;
import dev.workgate.observability.WorkgateHttpServer.Response;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The endpoint's routes: checks each request that {@link HttpRequestReader} accepted, asks the
 * {@link Backend} (a node or a store alone), renders JSON; the work-order API's own routes are
 * {@link ApiRoutes}, the console's files {@link ConsoleAssets}. Every outcome a client can cause is
 * a response here (200, 201, 400, 401, 403, 404, 405, 409, 413, 414, 422, 429, 503); only a fault
 * of this code escapes, and the server turns it into a bare 500.
 */
final class Routes {
  private static final Set<String> AUDIT_PARAMETERS =
      Set.of("workOrder", "type", "from", "to", "order", "limit", "after");
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  /**
   * Reads a cancel body strictly: a second value after the object, or a field named twice, is an
   * error rather than ignored or overwritten, so that every field the body carries is checked.
   */
  static final ObjectReader STRICT_BODY =
      JsonViews.MAPPER
          .reader()
          .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .with(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

  private final Backend backend;
  private final Clock clock;
  private final WorkgateHealth health;
  private final PrometheusMeterRegistry registry;
  private final byte[] tokenDigest;
  private final ApiRoutes api;
  private final ConsoleAssets assets = new ConsoleAssets();

  Routes(
      Backend backend,
      Clock clock,
      WorkgateHealth health,
      PrometheusMeterRegistry registry,
      byte[] tokenDigest) {
    this.backend = backend;
    this.clock = clock;
    this.health = health;
    this.registry = registry;
    this.tokenDigest = tokenDigest;
    this.api = new ApiRoutes(backend, clock, health);
  }

  Response route(HttpRequest request) {
    String method = request.method();
    String rawPath = request.rawPath();
    String rawQuery = request.rawQuery();
    if (rawQuery != null && rawQuery.length() > WorkgateHttpServer.MAX_QUERY_CHARS) {
      return Response.error(
          414, "query string longer than " + WorkgateHttpServer.MAX_QUERY_CHARS + " characters");
    }
    List<String> path;
    try {
      path = segments(rawPath);
    } catch (IllegalArgumentException e) {
      return Response.error(400, "malformed path: " + e.getMessage());
    }
    Map<String, List<String>> query;
    try {
      query = parseQuery(rawQuery);
    } catch (IllegalArgumentException e) {
      return Response.badParameter("query", "malformed query string: " + e.getMessage());
    }
    if (tokenDigest == null && !loopbackHost(request.host())) {
      // Without a token the endpoint trusts that only this machine reaches it; a browser page
      // that rebinds its own domain to 127.0.0.1 would break that, and names its domain here.
      return Response.error(
          403, "without a token, address this endpoint as localhost, 127.0.0.1 or [::1]");
    }
    boolean read = "GET".equals(method) || "HEAD".equals(method);
    try {
      if (path.equals(List.of("health", "live"))) {
        return read ? noQuery(query, () -> probe(health.liveness())) : notAllowed("GET, HEAD");
      }
      if (path.equals(List.of("health", "ready"))) {
        return read ? noQuery(query, () -> probe(health.readiness())) : notAllowed("GET, HEAD");
      }
      if (path.equals(List.of("metrics"))) {
        return guarded(request, read, () -> noQuery(query, this::metrics));
      }
      if (path.equals(List.of("api", "queue", "stats"))) {
        return guarded(
            request,
            read,
            () -> noQuery(query, () -> Response.json(200, backend.stats(clock.instant()))));
      }
      if (path.equals(List.of("api", "audit"))) {
        return guarded(request, read, () -> audit(query));
      }
      if (path.isEmpty() || (path.size() == 2 && path.get(0).equals("console"))) {
        if (!read) {
          return notAllowed("GET, HEAD");
        }
        return (path.isEmpty() ? assets.page() : assets.file(path.get(1)))
            .orElseGet(() -> Response.error(404, "no such file: " + shorten(rawPath)));
      }
      if (path.size() == 2 && path.get(0).equals("api")) {
        switch (path.get(1)) {
          case "work-orders":
            if ("POST".equals(method)) {
              return change(request, () -> noQuery(query, () -> api.submit(request)));
            }
            return read
                ? guarded(request, true, () -> api.list(query))
                : notAllowed("GET, HEAD, POST");
          case "failures":
            return guarded(request, read, () -> api.failures(query));
          case "throughput":
            return guarded(request, read, () -> api.throughput(query));
          case "nodes":
            return guarded(request, read, () -> api.nodes(query));
          case "overview":
            return guarded(request, read, () -> api.overview(query));
          case "queues":
            return guarded(request, read, () -> api.queues(query));
          case "openapi.json":
            return guarded(request, read, () -> noQuery(query, this::openApi));
          default:
            break;
        }
      }
      if (path.size() == 3 && path.get(0).equals("api") && path.get(1).equals("batches")) {
        return guarded(request, read, () -> noQuery(query, () -> api.batchStatus(path.get(2))));
      }
      if (path.size() == 4 && path.get(0).equals("api") && path.get(1).equals("queues")) {
        String queue = path.get(2);
        switch (path.get(3)) {
          case "pause":
            return change(
                request, () -> noQuery(query, () -> api.pauseOrResume(request, queue, true)));
          case "resume":
            return change(
                request, () -> noQuery(query, () -> api.pauseOrResume(request, queue, false)));
          case "actions":
            return guarded(request, read, () -> api.queueActions(queue, query));
          default:
            break;
        }
      }
      if (path.size() >= 3 && path.get(0).equals("api") && path.get(1).equals("work-orders")) {
        String id = path.get(2);
        if (path.size() == 3 && id.equals("counts")) {
          return guarded(request, read, () -> api.counts(query));
        }
        if (path.size() == 3 && id.equals("batch")) {
          return change(request, () -> noQuery(query, () -> api.batch(request)));
        }
        if (path.size() == 4 && id.equals("bulk") && path.get(3).equals("resubmit")) {
          return change(request, () -> noQuery(query, () -> api.bulkResubmit(request)));
        }
        if (path.size() == 4 && id.equals("bulk") && path.get(3).equals("cancel")) {
          return change(request, () -> noQuery(query, () -> api.bulkCancel(request)));
        }
        if (path.size() == 3) {
          return guarded(request, read, () -> api.workOrder(id, query, withToken(request)));
        }
        if (path.size() == 4 && path.get(3).equals("timeline")) {
          return guarded(request, read, () -> noQuery(query, () -> timeline(id)));
        }
        if (path.size() == 4 && path.get(3).equals("cancel")) {
          return change(request, () -> noQuery(query, () -> cancel(request, id)));
        }
        if (path.size() == 4 && path.get(3).equals("resubmit")) {
          return change(request, () -> noQuery(query, () -> api.resubmit(id)));
        }
      }
      return Response.error(404, "no such route: " + method + " " + shorten(rawPath));
    } catch (UnreadableRowException e) {
      // One work order's row, not the store: retrying will not help. The reason stays in the log.
      return Response.error(
          500,
          "work order "
              + e.workOrderId()
              + " has a row the store cannot read"
              + (e.position() > 0 ? " (log position " + e.position() + ")" : "")
              + "; it is quarantined, see docs/operations.md");
    } catch (StoreException e) {
      return Response.error(503, "the store did not answer; try again");
    }
  }

  /** Whether a Host header names this machine's loopback (a missing one is not a browser's). */
  static boolean loopbackHost(String host) {
    if (host == null) {
      return true;
    }
    String h = host.trim().toLowerCase(java.util.Locale.ROOT);
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      h = end < 0 ? h : h.substring(0, end + 1);
    } else {
      int colon = h.indexOf(':');
      h = colon < 0 ? h : h.substring(0, colon);
    }
    return h.equals("localhost") || h.equals("127.0.0.1") || h.equals("[::1]");
  }

  /** A route's work once its method, token and Host are checked. */
  private interface Handler {
    /**
     * Answers.
     *
     * @throws BadParameter for a parameter or body field the client got wrong: 400 naming it
     */
    Response handle() throws BadParameter;
  }

  private static Response handle(Handler handler) {
    try {
      return handler.handle();
    } catch (BadParameter e) {
      return Response.badParameter(e.parameter, e.getMessage());
    }
  }

  /** A read: GET or HEAD, and the token when the endpoint has one. */
  private Response guarded(HttpRequest request, boolean read, Handler handler) {
    if (!read) {
      return notAllowed("GET, HEAD");
    }
    if (tokenDigest != null && !authorized(request)) {
      return unauthorized();
    }
    return handle(handler);
  }

  /** A change: POST, and always the token; without a configured token, refused with 403. */
  private Response change(HttpRequest request, Handler handler) {
    if (!"POST".equals(request.method())) {
      return notAllowed("POST");
    }
    if (tokenDigest == null) {
      return Response.error(403, "changes are disabled: the endpoint was started without a token");
    }
    if (!authorized(request)) {
      return unauthorized();
    }
    return handle(handler);
  }

  /** Whether the request carries the configured token (false when there is none). */
  private boolean withToken(HttpRequest request) {
    return tokenDigest != null && authorized(request);
  }

  private static Response noQuery(Map<String, List<String>> query, Handler handler) {
    if (!query.isEmpty()) {
      String name = query.keySet().iterator().next();
      return Response.badParameter(name, "unknown parameter '" + shorten(name) + "'");
    }
    return handle(handler);
  }

  private Response openApi() {
    return assets
        .openApi()
        .orElseGet(() -> Response.error(404, "this build has no OpenAPI document"));
  }

  private boolean authorized(HttpRequest request) {
    String header = request.header("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    byte[] given = WorkgateHttpServer.digest(header.substring(7).trim());
    return MessageDigest.isEqual(given, tokenDigest);
  }

  private static Response unauthorized() {
    return Response.json(
        401,
        JsonViews.error("missing or wrong bearer token"),
        Map.of("WWW-Authenticate", "Bearer realm=\"workgate\""));
  }

  private static Response notAllowed(String allowed) {
    return Response.json(
        405, JsonViews.error("method not allowed; use " + allowed), Map.of("Allow", allowed));
  }

  private static Response probe(SystemHealth report) {
    int status = report.status() == HealthStatus.UNHEALTHY ? 503 : 200;
    return Response.json(status, HealthJson.toJson(report));
  }

  private Response metrics() {
    byte[] text = registry.scrape().getBytes(StandardCharsets.UTF_8);
    return new Response(200, PROMETHEUS_TEXT, text, Map.of());
  }

  private Response timeline(String rawId) {
    Optional<WorkOrderId> id = parseId(rawId);
    if (id.isEmpty()) {
      return Response.badParameter("id", "'" + shorten(rawId) + "' is not a work-order id");
    }
    List<RecordedEvent> stream = backend.store().readStream(id.get());
    return WorkOrderTimeline.of(stream)
        .map(t -> Response.json(200, JsonViews.timeline(t)))
        .orElseGet(() -> notFound(id.get()));
  }

  private Response cancel(HttpRequest request, String rawId) {
    Optional<WorkOrderId> id = parseId(rawId);
    if (id.isEmpty()) {
      return Response.badParameter("id", "'" + shorten(rawId) + "' is not a work-order id");
    }
    byte[] body = request.body();
    if (body == null) {
      return Response.error(
          413, "request body larger than " + WorkgateHttpServer.MAX_BODY_BYTES + " bytes");
    }
    String reason = "cancelled over HTTP";
    if (body.length > WorkgateHttpServer.MAX_SMALL_BODY_BYTES) {
      return Response.error(
          413, "request body larger than " + WorkgateHttpServer.MAX_SMALL_BODY_BYTES + " bytes");
    }
    if (body.length > 0) {
      JsonNode json;
      try {
        json = STRICT_BODY.readTree(body);
      } catch (MismatchedInputException e) {
        return Response.badParameter(
            "body", "the body must be one JSON object that names each field once");
      } catch (IOException e) {
        return Response.badParameter("body", "the body is not JSON");
      }
      if (json == null || !json.isObject()) {
        return Response.badParameter("body", "the body must be a JSON object");
      }
      for (var it = json.fieldNames(); it.hasNext(); ) {
        String field = it.next();
        if (!field.equals("reason")) {
          return Response.badParameter(field, "unknown field '" + shorten(field) + "'");
        }
      }
      try {
        reason = reason(json.get("reason"), reason);
      } catch (BadParameter e) {
        return Response.badParameter(e.parameter, e.getMessage());
      }
    }
    if (backend.store().find(id.get()).isEmpty()) {
      return notFound(id.get());
    }
    Backend.Cancel cancelled;
    try {
      cancelled = backend.cancel(id.get(), reason);
    } catch (IllegalArgumentException e) {
      return notFound(id.get()); // deleted by retention between the two reads
    } catch (IllegalStateException e) {
      return Response.error(409, "the work order kept changing; try again");
    }
    ObjectNode n = JsonViews.MAPPER.createObjectNode();
    n.put("id", id.get().value());
    n.put("cancelled", cancelled.cancelled());
    if (cancelled.outcome() != null) {
      n.put("outcome", cancelled.outcome());
    }
    backend
        .store()
        .find(id.get())
        .map(WorkOrderView::state)
        .ifPresent(s -> n.put("state", s.name()));
    return Response.json(200, n);
  }

  /**
   * A cancel's reason from its body.
   *
   * @param r the {@code reason} field, or null
   * @param absent what to use when it is not given
   * @throws BadParameter if it is not a non-blank string of at most {@link
   *     WorkgateHttpServer#MAX_REASON_CHARS} characters
   */
  static String reason(JsonNode r, String absent) throws BadParameter {
    if (r == null) {
      return absent;
    }
    if (!r.isTextual() || r.asText().isBlank()) {
      throw new BadParameter("reason", "reason must be a non-blank string");
    }
    if (r.asText().length() > WorkgateHttpServer.MAX_REASON_CHARS) {
      throw new BadParameter(
          "reason",
          "reason must be at most " + WorkgateHttpServer.MAX_REASON_CHARS + " characters");
    }
    return r.asText();
  }

  private Response audit(Map<String, List<String>> query) {
    for (Map.Entry<String, List<String>> p : query.entrySet()) {
      if (!AUDIT_PARAMETERS.contains(p.getKey())) {
        return Response.badParameter(
            p.getKey(),
            "unknown parameter '"
                + shorten(p.getKey())
                + "'; known: workOrder, type, from, to, order, limit, after");
      }
      if (!p.getKey().equals("type") && p.getValue().size() > 1) {
        return Response.badParameter(p.getKey(), "parameter '" + p.getKey() + "' given twice");
      }
    }
    EventQuery.Builder q = EventQuery.builder();
    String workOrder = single(query, "workOrder");
    if (workOrder != null) {
      Optional<WorkOrderId> id = parseId(workOrder);
      if (id.isEmpty()) {
        return Response.badParameter(
            "workOrder", "'" + shorten(workOrder) + "' is not a work-order id");
      }
      q.workOrder(id.get());
    }
    EnumSet<EventType> types = EnumSet.noneOf(EventType.class);
    for (String value : query.getOrDefault("type", List.of())) {
      for (String name : value.split(",", -1)) {
        Optional<EventType> type = eventType(name.trim());
        if (type.isEmpty()) {
          return Response.badParameter(
              "type",
              "unknown event type '"
                  + shorten(name)
                  + "'; known: "
                  + String.join(
                      ", ",
                      java.util.Arrays.stream(EventType.values())
                          .map(EventType::typeName)
                          .toList()));
        }
        types.add(type.get());
      }
    }
    if (!types.isEmpty()) {
      q.types(types);
    }
    Instant from = null;
    Instant to = null;
    try {
      from = instant(query, "from");
      to = instant(query, "to");
    } catch (BadParameter e) {
      return Response.badParameter(e.parameter, e.getMessage());
    }
    if (from != null) {
      q.from(from);
    }
    if (to != null) {
      q.to(to);
    }
    if (from != null && to != null && !from.isBefore(to)) {
      return Response.badParameter("to", "to must be after from");
    }
    String order = single(query, "order");
    if (order != null) {
      if (order.equals("newest")) {
        q.newestFirst();
      } else if (order.equals("oldest")) {
        q.oldestFirst();
      } else {
        return Response.badParameter("order", "order must be 'newest' or 'oldest'");
      }
    }
    String limit = single(query, "limit");
    if (limit != null) {
      int n;
      try {
        n = Integer.parseInt(limit);
      } catch (NumberFormatException e) {
        return Response.badParameter("limit", "limit must be a whole number");
      }
      if (n < 1 || n > EventQuery.MAX_LIMIT) {
        return Response.badParameter(
            "limit", "limit must be within 1.." + EventQuery.MAX_LIMIT + ", got " + n);
      }
      q.limit(n);
    }
    String after = single(query, "after");
    EventQuery built;
    try {
      if (after != null) {
        q.after(after);
      }
      built = q.build();
    } catch (IllegalArgumentException e) {
      return Response.badParameter(after != null ? "after" : "query", shorten(e.getMessage(), 300));
    }
    EventPage page = backend.store().queryEvents(built);
    ObjectNode n = JsonViews.MAPPER.createObjectNode();
    ArrayNode events = n.putArray("events");
    for (RecordedEvent e : page.events()) {
      events.add(JsonViews.event(e));
    }
    page.nextCursor().ifPresent(c -> n.put("nextCursor", c));
    return Response.json(200, n);
  }

  private static Optional<EventType> eventType(String name) {
    Optional<EventType> byTypeName = EventType.ofTypeName(name);
    if (byTypeName.isPresent()) {
      return byTypeName;
    }
    for (EventType t : EventType.values()) {
      if (t.name().equals(name)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  static String single(Map<String, List<String>> query, String name) {
    List<String> values = query.get(name);
    return values == null ? null : values.get(0);
  }

  static final class BadParameter extends Exception {
    private static final long serialVersionUID = 1L;
    final String parameter;

    BadParameter(String parameter, String message) {
      super(message, null, false, false);
      this.parameter = parameter;
    }
  }

  static Instant instant(Map<String, List<String>> query, String name) throws BadParameter {
    return instant(name, single(query, name));
  }

  /**
   * A parameter's or body field's ISO-8601 instant.
   *
   * @param name its name, for the error
   * @param value the text, or null
   * @return the instant, or null for null
   * @throws BadParameter if the text is not an instant
   */
  static Instant instant(String name, String value) throws BadParameter {
    if (value == null) {
      return null;
    }
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new BadParameter(
          name, name + " must be an ISO-8601 instant such as 2026-01-31T12:00:00Z");
    }
  }

  static Optional<WorkOrderId> parseId(String raw) {
    try {
      return Optional.of(WorkOrderId.of(raw));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  static Response notFound(WorkOrderId id) {
    return Response.error(404, "no work order " + id.value());
  }

  /** The decoded path segments; empty segments (double or trailing slashes) are dropped. */
  static List<String> segments(String rawPath) {
    List<String> out = new ArrayList<>();
    if (rawPath == null) {
      return out;
    }
    for (String s : rawPath.split("/", -1)) {
      if (!s.isEmpty()) {
        out.add(percentDecode(s));
      }
    }
    return out;
  }

  /** Decodes %XX escapes strictly (no '+' for space, which only query strings use). */
  static String percentDecode(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= s.length()) {
          throw new IllegalArgumentException("a '%' escape is cut short");
        }
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw new IllegalArgumentException("'%' is not followed by two hex digits");
        }
        out.write(hi * 16 + lo);
        i += 2;
      } else {
        int end = i + 1;
        if (Character.isHighSurrogate(c) && end < s.length()) {
          end++;
        }
        byte[] b = s.substring(i, end).getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length);
        i = end - 1;
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  static Map<String, List<String>> parseQuery(String rawQuery) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return out;
    }
    for (String pair : rawQuery.split("&", -1)) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name =
          URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value =
          eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      out.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
    }
    return out;
  }

  static String shorten(String s) {
    return shorten(s, 80);
  }

  static String shorten(String s, int max) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length() && b.length() < max; i++) {
      char c = s.charAt(i);
      b.append(Character.isISOControl(c) ? '?' : c);
    }
    return s.length() > max ? b + "…" : b.toString();
  }
}
