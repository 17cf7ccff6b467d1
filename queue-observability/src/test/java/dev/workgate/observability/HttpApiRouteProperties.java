package dev.workgate.observability;

import static dev.workgate.core.testing.WorkOrderFixtures.claimed;
import static dev.workgate.core.testing.WorkOrderFixtures.completed;
import static dev.workgate.core.testing.WorkOrderFixtures.failedForGood;
import static dev.workgate.core.testing.WorkOrderFixtures.started;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.WorkgateClient;
import dev.workgate.core.BatchId;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.ExpectedVersion;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * The routes of the work-order API (list, counts, failures, throughput, nodes, overview, the
 * OpenAPI document, a work order with its payload, submit with dependencies, batch, resubmit, bulk
 * resubmit and bulk cancel, a batch's status, the queues, pause, resume and their log) under valid
 * requests with one part changed, and under random requests: never a 5xx, never a stack trace or
 * class name in an answer, and a refused request never changes the store (neither its event log nor
 * its log of queue pauses). Over a store alone, so that nothing but these requests writes to it.
 */
class HttpApiRouteProperties {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOKEN = WorkgateHttpServerTest.TOKEN;

  private static WorkOrderStore store;
  private static WorkgateHttpServer server;
  private static WorkOrderId failed;
  private static WorkOrderId pending;
  private static BatchId batch;

  @BeforeContainer
  static void start() {
    store = Stores.inMemory();
    Instant lease = Instant.now().plus(Duration.ofDays(1));
    for (int i = 0; i < 30; i++) {
      failed = write("q", claimed("node-x", lease), started(), failedForGood());
      pending =
          write(
              WorkOrderSpec.builder("t")
                  .queue("q")
                  .label("team", "ml")
                  .payload(Map.of("secret", i))
                  .notBefore(lease)
                  .build());
      write("q", claimed("node-x", lease), started(), completed());
    }
    try (WorkgateClient client = WorkgateClient.over(store)) {
      batch =
          client
              .submitBatch(List.of(WorkOrderSpec.builder("t").queue("q").notBefore(lease).build()))
              .id();
    }
    server = WorkgateHttpServer.builder(store).port(0).token(TOKEN).build();
  }

  private static WorkOrderId write(String queue, WorkOrderEvent... then) {
    WorkOrderId id = WorkOrderId.random();
    List<WorkOrderEvent> events = new ArrayList<>();
    events.add(submitted(queue));
    events.addAll(List.of(then));
    store.append(id, ExpectedVersion.none(), events);
    return id;
  }

  private static WorkOrderId write(WorkOrderSpec spec) {
    WorkOrderId id = WorkOrderId.random();
    store.append(id, ExpectedVersion.none(), List.of(submitted(spec)));
    return id;
  }

  @AfterContainer
  static void stop() {
    server.close();
    store.close();
  }

  /** A request, each part on its own. */
  record Request(String method, String path, Map<String, String> query, String token, byte[] body) {
    String target() {
      StringBuilder t = new StringBuilder(path);
      String sep = "?";
      for (Map.Entry<String, String> e : query.entrySet()) {
        t.append(sep)
            .append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8))
            .append('=')
            .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
        sep = "&";
      }
      return t.toString();
    }

    boolean change() {
      return method.equals("POST");
    }

    @Override
    public String toString() {
      String b = new String(body, 0, Math.min(200, body.length), StandardCharsets.UTF_8);
      return method + " " + target() + (token == null ? " (no token)" : "") + " body=" + b;
    }
  }

  /** A valid request of each route. */
  static List<Request> valid() {
    String f = failed.value();
    String p = pending.value();
    String b = batch.value();
    return List.of(
        get("/api/queues"),
        get("/api/queues/q/actions", "limit", "5"),
        get("/api/batches/" + b),
        get("/api/work-orders", "batch", b, "state", "BLOCKED,PENDING"),
        get("/api/work-orders/" + p, "include", "checkpoint"),
        post(
            "/api/work-orders",
            "{\"type\":\"t\",\"queue\":\"q\",\"after\":[\""
                + p
                + "\"],\"afterBatches\":[\""
                + b
                + "\"],\"onDependencyFailure\":\"RUN\"}"),
        post(
            "/api/work-orders/batch",
            "{\"asBatch\":true,\"items\":[{\"type\":\"t\",\"after\":[\"" + f + "\"]}]}"),
        post("/api/queues/q/pause", "{\"actor\":\"ops\",\"reason\":\"r\"}"),
        post("/api/queues/q/resume", "{\"actor\":\"ops\",\"reason\":\"r\"}"),
        get("/api/work-orders", "state", "FAILED", "queue", "q", "limit", "5", "order", "oldest"),
        get("/api/work-orders", "label", "team:ml", "type", "t", "from", "2020-01-01T00:00:00Z"),
        get("/api/work-orders/counts", "queue", "q", "errorCode", "FATAL"),
        get("/api/failures", "queue", "q"),
        get("/api/throughput", "minutes", "30"),
        get("/api/nodes"),
        get("/api/overview"),
        get("/api/openapi.json"),
        get("/api/work-orders/" + p, "include", "payload,result"),
        post(
            "/api/work-orders",
            "{\"type\":\"t\",\"queue\":\"q\",\"payload\":{\"a\":1},"
                + "\"labels\":{\"k\":\"v\"},\"priority\":2,\"maxAttempts\":3,\"timeoutSeconds\":5,"
                + "\"notBefore\":\"2030-01-01T00:00:00Z\",\"idempotencyKey\":\"key-1\"}"),
        post(
            "/api/work-orders/batch",
            "{\"items\":[{\"type\":\"t\"},{\"type\":\"t\",\"queue\":\"q\"}]}"),
        post("/api/work-orders/" + f + "/resubmit", ""),
        post(
            "/api/work-orders/bulk/resubmit",
            "{\"filter\":{\"queue\":\"q\",\"state\":\"FAILED\"},\"limit\":2}"),
        post(
            "/api/work-orders/bulk/cancel",
            "{\"filter\":{\"queue\":\"q\",\"state\":[\"PENDING\"],\"label\":{\"team\":\"ml\"}},"
                + "\"limit\":1,\"reason\":\"r\"}"),
        post("/api/work-orders/" + p + "/cancel", "{\"reason\":\"r\"}"));
  }

  private static Request get(String path, String... query) {
    Map<String, String> q = new LinkedHashMap<>();
    for (int i = 0; i < query.length; i += 2) {
      q.put(query[i], query[i + 1]);
    }
    return new Request("GET", path, Map.copyOf(q).isEmpty() ? Map.of() : q, TOKEN, new byte[0]);
  }

  private static Request post(String path, String body) {
    return new Request("POST", path, Map.of(), TOKEN, body.getBytes(StandardCharsets.UTF_8));
  }

  // ---- the properties ------------------------------------------------------------------------

  @Property(tries = 400, edgeCases = EdgeCasesMode.NONE)
  void a_valid_request_changed_once_gets_a_clean_answer_and_a_refusal_changes_nothing(
      @ForAll("changedOnce") Request request) throws Exception {
    check(request);
  }

  @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
  void a_random_request_to_an_api_route_gets_a_clean_answer_and_a_refusal_changes_nothing(
      @ForAll("random") Request request) throws Exception {
    check(request);
  }

  /** The store's event log head and its number of queue pauses and resumes. */
  private static String changes() {
    return HttpEndpointHostileInputProperties.head(store)
        + "/"
        + store.queueActions(null, 10_000).size();
  }

  private static void check(Request request) throws Exception {
    String before = changes();
    Answer answer = send(request);
    Statistics.label("status").collect(answer.status);
    assertThat(answer.status).as("%s answered %s", request, answer.body).isBetween(200, 499);
    assertThat(answer.body)
        .as("%s answered", request)
        .doesNotContain("Exception")
        .doesNotContain("\tat ")
        .doesNotContain("dev.workgate.")
        .doesNotContain("java.");
    boolean head = request.method().equals("HEAD");
    if (!head && (!request.path().equals("/api/openapi.json") || answer.status >= 400)) {
      JsonNode json = JSON.readTree(answer.body);
      assertThat(json.isObject()).as("%s answered %s", request, answer.body).isTrue();
      if (answer.status >= 400) {
        assertThat(json.get("error").asText()).isNotBlank();
      }
    }
    String after = changes();
    if (answer.status >= 300 || !request.change() || request.token() == null) {
      assertThat(after)
          .as("%s answered %s and changed the store", request, answer.status)
          .isEqualTo(before);
    }
    if (answer.status < 300 && !head && !request.path().contains("/cancel")) {
      // Payloads only by id, on request, with the token.
      assertThat(answer.body.contains("\"secret\""))
          .as("%s showed a payload", request)
          .isEqualTo(
              request.query().getOrDefault("include", "").contains("payload")
                  && request.path().startsWith("/api/work-orders/" + pending.value()));
    }
  }

  // ---- requests ------------------------------------------------------------------------------

  @Provide
  Arbitrary<Request> changedOnce() {
    return Arbitraries.of(valid()).flatMap(HttpApiRouteProperties::changeOnce);
  }

  static Arbitrary<Request> changeOnce(Request r) {
    List<Arbitrary<Request>> ways = new ArrayList<>();
    ways.add(Arbitraries.just(r));
    ways.add(
        Arbitraries.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD")
            .map(m -> new Request(m, r.path(), r.query(), r.token(), r.body())));
    ways.add(
        Arbitraries.of((String) null, "wrong-token-0123456789", "", TOKEN + "x")
            .map(t -> new Request(r.method(), r.path(), r.query(), t, r.body())));
    ways.add(Combinators.combine(names(), values()).as((n, v) -> withQuery(r, n, v)));
    if (!r.query().isEmpty()) {
      List<String> names = new ArrayList<>(r.query().keySet());
      ways.add(
          Combinators.combine(Arbitraries.of(names), values()).as((n, v) -> withQuery(r, n, v)));
      ways.add(Arbitraries.of(names).map(n -> withoutQuery(r, n)));
    }
    ways.add(
        ids()
            .map(
                id ->
                    new Request(
                        r.method(), replaceId(r.path(), id), r.query(), r.token(), r.body())));
    if (r.change()) {
      ways.add(bodies().map(b -> new Request(r.method(), r.path(), r.query(), r.token(), b)));
      JsonNode json = parse(r.body());
      if (json != null && json.isObject() && json.size() > 0) {
        List<String> paths = fieldPaths(json, "");
        ways.add(
            Combinators.combine(Arbitraries.of(paths), jsonValues())
                .as((path, v) -> withBody(r, setField(json, path, v))));
        ways.add(Arbitraries.of(paths).map(path -> withBody(r, setField(json, path, null))));
        ways.add(
            Combinators.combine(names(), jsonValues())
                .as((n, v) -> withBody(r, setField(json, n, v))));
      }
    }
    return Arbitraries.oneOf(ways);
  }

  @Provide
  Arbitrary<Request> random() {
    Arbitrary<String> path =
        Arbitraries.of(
            "/api/work-orders",
            "/api/work-orders/counts",
            "/api/work-orders/batch",
            "/api/work-orders/bulk/resubmit",
            "/api/work-orders/bulk/cancel",
            "/api/work-orders/bulk",
            "/api/failures",
            "/api/throughput",
            "/api/nodes",
            "/api/overview",
            "/api/openapi.json",
            "/api/work-orders/{failed}/resubmit",
            "/api/work-orders/{pending}",
            "/api/work-orders/{pending}/resubmit",
            "/api/work-orders/{random}/resubmit",
            "/api/queues",
            "/api/queues/q/pause",
            "/api/queues/q/resume",
            "/api/queues/q/actions",
            "/api/batches/{batch}",
            "/api/batches/{random}");
    Arbitrary<Map<String, String>> query =
        Combinators.combine(names(), values())
            .as(Map::entry)
            .list()
            .ofMaxSize(4)
            .map(
                l -> {
                  Map<String, String> m = new LinkedHashMap<>();
                  l.forEach(e -> m.put(e.getKey(), e.getValue()));
                  return m;
                });
    return Combinators.combine(
            Arbitraries.of("GET", "POST"), path, query, Arbitraries.of(TOKEN, null), bodies())
        .as(
            (m, p, q, t, b) ->
                new Request(
                    m,
                    p.replace("{failed}", failed.value())
                        .replace("{pending}", pending.value())
                        .replace("{batch}", batch.value())
                        .replace("{random}", WorkOrderId.random().value()),
                    q,
                    t,
                    b));
  }

  static Arbitrary<String> names() {
    return Arbitraries.oneOf(
        Arbitraries.of(
            "queue",
            "state",
            "type",
            "label",
            "errorCode",
            "from",
            "to",
            "resubmittedFrom",
            "order",
            "limit",
            "cursor",
            "minutes",
            "include",
            "filter",
            "items",
            "reason",
            "payload",
            "labels",
            "priority",
            "after",
            "afterBatches",
            "onDependencyFailure",
            "asBatch",
            "actor",
            "batch",
            "x",
            ""),
        Arbitraries.strings().withCharRange('a', 'z').ofMaxLength(8));
  }

  static Arbitrary<String> values() {
    return Arbitraries.oneOf(
        Arbitraries.of(
            "",
            " ",
            "0",
            "-1",
            "1",
            "500",
            "501",
            "1441",
            "99999999999999999999",
            "1.5",
            "FAILED",
            "BLOCKED",
            "PENDING,RUNNING",
            "CANCEL",
            "DONE",
            ",",
            "newest",
            "oldest",
            "payload",
            "result",
            "payload,env",
            "team:ml",
            ":",
            "k:",
            "2026-01-01T00:00:00Z",
            "2026-13-01",
            "\u0000",
            "\u2028",
            "%",
            "a".repeat(300),
            "9223372036854775807",
            "x".repeat(5000)),
        Arbitraries.strings().ofMaxLength(40));
  }

  static Arbitrary<String> ids() {
    return Arbitraries.oneOf(
        Arbitraries.of("counts", "batch", "bulk", " ", "%", "a".repeat(129), "\u00e9"),
        Arbitraries.strings()
            .withCharRange('!', '~')
            .excludeChars('/', '?', '#', '%')
            .ofMinLength(1)
            .ofMaxLength(20));
  }

  static Arbitrary<byte[]> bodies() {
    return Arbitraries.oneOf(
        Arbitraries.of(
                "",
                "{",
                "null",
                "[]",
                "{}",
                "1",
                "\"x\"",
                "{\"items\":null}",
                "{\"filter\":null}",
                "{\"type\":\"t\"} {}",
                "{\"a\":1,\"a\":2}",
                "{\"items\":[{}]}",
                "{\"filter\":{\"state\":[]}}",
                "{\"actor\":\"ops\"}",
                "{\"actor\":\"\"}",
                "{\"type\":\"t\",\"after\":[\"no-such-work-order\"]}",
                "{\"filter\":{\"label\":[]}}")
            .map(s -> s.getBytes(StandardCharsets.UTF_8)),
        Arbitraries.strings().ofMaxLength(100).map(s -> s.getBytes(StandardCharsets.UTF_8)),
        Arbitraries.bytes().array(byte[].class).ofMaxSize(100),
        Arbitraries.of(9000, 300_000)
            .map(n -> ("{\"type\":\"" + "x".repeat(n) + "\"}").getBytes(StandardCharsets.UTF_8)));
  }

  static Arbitrary<JsonNode> jsonValues() {
    return Arbitraries.of(
            "null",
            "0",
            "-1",
            "1.5",
            "1e400",
            "true",
            "\"\"",
            "\" \"",
            "\"x\"",
            "[]",
            "[1]",
            "{}",
            "{\"a\":\"b\"}",
            "\"FAILED\"",
            "\"RUN\"",
            "[\"no-such-id\"]",
            "\"2026-01-01T00:00:00Z\"",
            "99999999999999999999",
            "\"\\u0000\"",
            "\"" + "y".repeat(3000) + "\"",
            "[\"PENDING\",\"x\"]")
        .map(HttpApiRouteProperties::parse);
  }

  private static JsonNode parse(String s) {
    return parse(s.getBytes(StandardCharsets.UTF_8));
  }

  private static JsonNode parse(byte[] b) {
    try {
      return b.length == 0 ? null : JSON.readTree(b);
    } catch (Exception e) {
      return null;
    }
  }

  /** Every field of an object, nested ones as a.b, array elements as a.0. */
  private static List<String> fieldPaths(JsonNode json, String prefix) {
    List<String> out = new ArrayList<>();
    if (json.isObject()) {
      json.fieldNames()
          .forEachRemaining(
              n -> {
                out.add(prefix + n);
                out.addAll(fieldPaths(json.get(n), prefix + n + "."));
              });
    } else if (json.isArray()) {
      for (int i = 0; i < json.size(); i++) {
        out.addAll(fieldPaths(json.get(i), prefix + i + "."));
      }
    }
    return out;
  }

  /** A copy with the field at a path set to a value, or removed for null. */
  private static JsonNode setField(JsonNode json, String path, JsonNode value) {
    JsonNode copy = json.deepCopy();
    String[] parts = path.split("\\.", -1);
    JsonNode parent = copy;
    for (int i = 0; i < parts.length - 1 && parent != null; i++) {
      parent = parent.isArray() ? parent.get(Integer.parseInt(parts[i])) : parent.get(parts[i]);
    }
    String last = parts[parts.length - 1];
    if (parent instanceof ObjectNode o) {
      if (value == null) {
        o.remove(last);
      } else {
        o.set(last, value);
      }
    } else if (parent != null && parent.isArray() && value != null) {
      ((com.fasterxml.jackson.databind.node.ArrayNode) parent).set(Integer.parseInt(last), value);
    }
    return copy;
  }

  private static Request withBody(Request r, JsonNode body) {
    return new Request(
        r.method(),
        r.path(),
        r.query(),
        r.token(),
        body.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static Request withQuery(Request r, String name, String value) {
    Map<String, String> q = new LinkedHashMap<>(r.query());
    q.put(name, value);
    return new Request(r.method(), r.path(), q, r.token(), r.body());
  }

  private static Request withoutQuery(Request r, String name) {
    Map<String, String> q = new LinkedHashMap<>(r.query());
    q.remove(name);
    return new Request(r.method(), r.path(), q, r.token(), r.body());
  }

  private static String replaceId(String path, String id) {
    String encoded = URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
    if (path.startsWith("/api/queues/q/")) {
      return "/api/queues/" + encoded + path.substring("/api/queues/q".length());
    }
    return path.replace(failed.value(), encoded)
        .replace(pending.value(), encoded)
        .replace(batch.value(), encoded);
  }

  // ---- the wire ------------------------------------------------------------------------------

  record Answer(int status, String body) {}

  private static Answer send(Request r) throws Exception {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
      socket.setSoTimeout(20_000);
      StringBuilder head =
          new StringBuilder()
              .append(r.method())
              .append(' ')
              .append(r.target())
              .append(" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
      if (r.token() != null) {
        head.append("Authorization: Bearer ").append(r.token()).append("\r\n");
      }
      head.append("Content-Length: ").append(r.body().length).append("\r\n\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      try {
        out.write(r.body());
        out.flush();
      } catch (java.io.IOException e) {
        // A body refused from its length may be answered and closed before it is all sent.
      }
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      in.transferTo(all);
      String text = all.toString(StandardCharsets.UTF_8);
      assertThat(text).as("answer to %s", r).startsWith("HTTP/1.1 ");
      int status = Integer.parseInt(text.substring(9, 12));
      int split = text.indexOf("\r\n\r\n");
      return new Answer(status, split < 0 ? "" : text.substring(split + 4));
    }
  }
}
