package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.StoreView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.ExpectedVersion;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Hostile requests of every part (method, path, query, headers, Content-Length, body) against every
 * route, the mutating one included, on three endpoints: over a node with a token, over a store
 * alone with a token, over a store alone without one. {@link HttpEndpointFuzzProperties} covers
 * well-formed requests with random targets; this class sends what a careless or hostile client
 * sends, over a raw socket, because HttpClient refuses most of it.
 *
 * <p>For every request: an answer arrives within {@link #ANSWER_WITHIN} (a timeout is a hang, and a
 * connection closed without an answer fails too: the endpoint answers every request that sent a
 * byte, even bytes that are not HTTP); the answer is one the endpoint may legally give ({@link
 * #assertCleanAnswer}: below 500, or 501 for a transfer coding, and the endpoint's own JSON); and
 * the store's log does not move, unless the request was an authorised cancel of a known work order
 * that the endpoint answered 200; then only that work order got cancellation events.
 *
 * <p>Requests drawn part by part seldom get past the checks before a route's own logic. So a second
 * property starts from a valid request for each route, a cancel of a pending or a running work
 * order among them, and changes at most one part of it: most of its requests reach the route, and a
 * good share of its cancels succeed, which the property counts and requires.
 */
class HttpEndpointHostileInputProperties {
  static final String TOKEN = WorkgateHttpServerTest.TOKEN;
  static final Charset UTF8 = StandardCharsets.UTF_8;
  static final Duration ANSWER_WITHIN = Duration.ofSeconds(10);

  /** What a body must never show: exception names, stack frames, qualified class names. */
  private static final Pattern LEAK =
      Pattern.compile(
          "Exception|Error:|\\tat |\\bat [a-z]+\\.[a-z]+|\\b(java|javax|jdk|sun|com\\.sun|com\\.fasterxml"
              + "|dev\\.workgate|io\\.micrometer)\\.[a-z]+\\.");

  /** Stands for the id of a live, pending work order of the endpoint the request goes to. */
  static final String KNOWN = "{known}";

  /**
   * One endpoint under test, with its store, a pending work order it may cancel, and a running one
   * made when first asked for.
   */
  static final class Endpoint {
    final String name;
    final WorkgateHttpServer server;
    final StoreView store;
    final boolean token;
    final boolean node;
    final Supplier<WorkOrderId> seed;
    final Supplier<WorkOrderId> seedRunning;
    WorkOrderId known;
    private WorkOrderId running;

    Endpoint(
        String name,
        WorkgateHttpServer server,
        StoreView store,
        boolean token,
        boolean node,
        Supplier<WorkOrderId> seed,
        Supplier<WorkOrderId> seedRunning) {
      this.name = name;
      this.server = server;
      this.store = store;
      this.token = token;
      this.node = node;
      this.seed = seed;
      this.seedRunning = seedRunning;
      this.known = seed.get();
    }

    /** A live RUNNING work order, made now if the last one was cancelled. */
    WorkOrderId running() {
      if (running == null) {
        running = seedRunning.get();
      }
      return running;
    }

    void forgetRunning() {
      running = null;
    }

    @Override
    public String toString() {
      return name;
    }
  }

  private static Workgate workgate;
  private static WorkOrderStore memory;
  private static final List<Endpoint> ENDPOINTS = new ArrayList<>();

  @BeforeContainer
  static void start() throws Exception {
    workgate =
        Workgate.builder()
            .sandboxRoot(Files.createTempDirectory("workgate-hostile"))
            .pollInterval(Duration.ofMillis(50))
            .handler("ok", ctx -> WorkResult.ok())
            .handler(
                "block",
                ctx -> {
                  while (!ctx.cancellationRequested()) {
                    Thread.sleep(10);
                  }
                  return WorkResult.ok();
                })
            .build();
    workgate.start();
    ENDPOINTS.add(
        new Endpoint(
            "node with token",
            WorkgateHttpServer.builder(workgate).port(0).token(TOKEN).build(),
            workgate.store(),
            true,
            true,
            () -> workgate.submit(later(workgate.clock().instant())),
            HttpEndpointHostileInputProperties::runningOnTheNode));
    memory = Stores.inMemory();
    Supplier<WorkOrderId> storeSeed =
        () -> {
          WorkOrderId id = WorkOrderId.random();
          memory.append(
              id,
              ExpectedVersion.none(),
              List.of(WorkOrderEvent.Submitted.of(later(Instant.now()))));
          return id;
        };
    Supplier<WorkOrderId> storeRunning =
        () -> {
          // Run by a node that is not here: cancel can only ask it to stop.
          WorkOrderId id = WorkOrderId.random();
          memory.append(
              id,
              ExpectedVersion.none(),
              List.of(
                  WorkOrderEvent.Submitted.of(WorkOrderSpec.builder("ok").build()),
                  new WorkOrderEvent.Claimed(
                      "node-elsewhere", Instant.now().plus(Duration.ofDays(1))),
                  new WorkOrderEvent.Started("sandbox-elsewhere")));
          return id;
        };
    ENDPOINTS.add(
        new Endpoint(
            "store with token",
            WorkgateHttpServer.builder(memory).port(0).token(TOKEN).build(),
            memory,
            true,
            false,
            storeSeed,
            storeRunning));
    ENDPOINTS.add(
        new Endpoint(
            "store without token",
            WorkgateHttpServer.builder(memory).port(0).build(),
            memory,
            false,
            false,
            storeSeed,
            storeRunning));
  }

  private static WorkOrderSpec later(Instant now) {
    return WorkOrderSpec.builder("ok").notBefore(now.plus(Duration.ofDays(1))).build();
  }

  /** A work order that the node runs until it is cancelled (an hour's timeout never comes). */
  private static WorkOrderId runningOnTheNode() {
    WorkOrderId id =
        workgate.submit(WorkOrderSpec.builder("block").timeout(Duration.ofHours(1)).build());
    await()
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(5))
        .atMost(ANSWER_WITHIN)
        .until(() -> workgate.store().find(id).orElseThrow().state() == WorkOrderState.RUNNING);
    return id;
  }

  @AfterContainer
  static void stop() {
    ENDPOINTS.forEach(e -> e.server.close());
    ENDPOINTS.clear();
    workgate.close();
    memory.close();
  }

  // ---- the property ----------------------------------------------------------------------------

  /** A request as bytes-to-be: each part drawn on its own, so that jqwik shrinks each. */
  record Request(
      String method,
      String target,
      String host,
      String authorization,
      String length,
      List<String> extraHeaders,
      byte[] body) {
    @Override
    public String toString() {
      String b = new String(body, 0, Math.min(body.length, 200), StandardCharsets.ISO_8859_1);
      return method
          + " "
          + shorten(target)
          + " Host="
          + shorten(host)
          + " Authorization="
          + shorten(authorization)
          + " Content-Length="
          + length
          + " headers="
          + extraHeaders.stream().map(HttpEndpointHostileInputProperties::shorten).toList()
          + " body("
          + body.length
          + ")="
          + b;
    }

    Request withMethod(String m) {
      return new Request(m, target, host, authorization, length, extraHeaders, body);
    }

    Request withTarget(String t) {
      return new Request(method, t, host, authorization, length, extraHeaders, body);
    }

    Request withHost(String h) {
      return new Request(method, target, h, authorization, length, extraHeaders, body);
    }

    Request withAuthorization(String a) {
      return new Request(method, target, host, a, length, extraHeaders, body);
    }

    Request withLength(String l) {
      return new Request(method, target, host, authorization, l, extraHeaders, body);
    }

    Request withHeaders(List<String> h) {
      return new Request(method, target, host, authorization, length, h, body);
    }

    Request plusHeader(String h) {
      List<String> all = new ArrayList<>(extraHeaders);
      all.add(h);
      return withHeaders(List.copyOf(all));
    }

    /** The body replaced, with a true Content-Length. */
    Request withBody(byte[] b) {
      return new Request(method, target, host, authorization, "{n}", extraHeaders, b);
    }
  }

  @Property(tries = 500)
  void a_hostile_request_gets_a_prompt_clean_client_answer_and_changes_nothing_it_may_not(
      @ForAll("endpoints") int which, @ForAll("requests") Request request) throws Exception {
    Endpoint endpoint = ENDPOINTS.get(which);
    String target = request.target().replace(KNOWN, endpoint.known.value());
    long before = head(endpoint.store);

    Answer answer = send(endpoint, request, target);

    Statistics.label("status").collect(answer.status());
    Statistics.label("endpoint").collect(endpoint.name);
    assertCleanAnswer(request, answer, request + " on " + endpoint);
    List<RecordedEvent> appended = endpoint.store.readLog(before, 100).events();
    if (appended.isEmpty()) {
      return;
    }
    boolean authorisedCancel =
        request.method().equals("POST")
            && endpoint.token
            && target.contains(endpoint.known.value())
            && answer.status() == 200;
    assertThat(authorisedCancel)
        .as("%s on %s changed the store: %s", request, endpoint, appended)
        .isTrue();
    assertThat(appended)
        .allSatisfy(
            e -> {
              assertThat(e.workOrderId()).isEqualTo(endpoint.known);
              assertThat(e.event().type())
                  .isIn(EventType.CANCELLATION_REQUESTED, EventType.CANCELLED);
            });
    Statistics.label("cancelled").collect(endpoint.name);
    endpoint.known = endpoint.seed.get();
  }

  /** The position of the store's last event: what a request that changes nothing leaves alone. */
  static long head(StoreView store) {
    long position = 0;
    while (true) {
      var page = store.readLog(position, 1000);
      if (page.events().isEmpty()) {
        return position;
      }
      position = page.lastPosition();
    }
  }

  // ---- valid requests, changed at most once ----------------------------------------------------

  /** Stands for the id of a live, running work order of the endpoint the request goes to. */
  static final String RUNNING = "{running}";

  /** What the cancel route records when the body names no reason. */
  static final String DEFAULT_REASON = "cancelled over HTTP";

  /**
   * Successful cancels each of the four kinds (two endpoints with a token, two states) needs; some
   * 15 of each come in 500 tries.
   */
  static final int MIN_CANCELS_OF_EACH_KIND = 3;

  /** The endpoint's routes, each with the path of a valid request ({id}: a live work order). */
  enum Route {
    LIVE("/health/live"),
    READY("/health/ready"),
    METRICS("/metrics"),
    STATS("/api/queue/stats"),
    AUDIT("/api/audit"),
    WORK_ORDER("/api/work-orders/{id}"),
    TIMELINE("/api/work-orders/{id}/timeline"),
    CANCEL("/api/work-orders/{id}/cancel");

    final String path;

    Route(String path) {
      this.path = path;
    }

    boolean namesWorkOrder() {
      return path.contains("{id}");
    }

    boolean probe() {
      return this == LIVE || this == READY;
    }
  }

  /**
   * A request that was valid for its route and endpoint, then changed at most once.
   *
   * @param endpoint which of {@link #ENDPOINTS}
   * @param change what was changed: "none", or "part: how"
   * @param valid whether the request is still valid, so that it must get what the unchanged one
   *     gets
   * @param reason the reason a cancel caused by this request must record; null where the change
   *     leaves it open
   */
  record Case(
      int endpoint, Route route, String change, boolean valid, Request request, String reason) {
    String part() {
      int colon = change.indexOf(':');
      return colon < 0 ? change : change.substring(0, colon);
    }

    Case changed(String how, boolean stillValid, Request r) {
      return new Case(endpoint, route, how, stillValid, r, reason);
    }

    Case changed(String how, boolean stillValid, Request r, String newReason) {
      return new Case(endpoint, route, how, stillValid, r, newReason);
    }

    @Override
    public String toString() {
      return ENDPOINTS.get(endpoint).name + ", " + route + ", changed " + change + ": " + request;
    }
  }

  /**
   * Valid requests for every route (a cancel of a pending or a running work order among them), sent
   * as they are in a fifth of the tries and otherwise with one part changed: a header, the body,
   * the method, the query, the path or the work order's id. The answer is checked as in {@link
   * #a_hostile_request_gets_a_prompt_clean_client_answer_and_changes_nothing_it_may_not}; besides,
   * a request still valid after its change gets the status an unchanged one gets, and an authorised
   * cancel answered 200 records exactly what cancelling that work order records, with the reason
   * asked for: {@code Cancelled} for a pending one; {@code CancellationRequested} for a running
   * one, then {@code Cancelled} once the node stops it (over a store alone, no node does).
   */
  @Property(tries = 500, edgeCases = EdgeCasesMode.NONE)
  void a_valid_request_changed_at_most_once_gets_a_clean_answer_and_only_a_cancel_changes_the_store(
      @ForAll("validRequestsChangedOnce") Case c) throws Exception {
    Endpoint endpoint = ENDPOINTS.get(c.endpoint());
    String named = namedWorkOrder(c.request().target());
    String target = c.request().target().replace(KNOWN, endpoint.known.value());
    if (target.contains(RUNNING)) {
      target = target.replace(RUNNING, endpoint.running().value());
    }
    WorkOrderId id =
        named == null ? null : named.equals(RUNNING) ? endpoint.running() : endpoint.known;
    long before = head(endpoint.store);

    Answer answer = send(endpoint, c.request(), target);

    int status = answer.status();
    Statistics.label("change").collect(c.part());
    Statistics.label("answers by route")
        .collect(c.route(), status >= 200 && status < 300 ? "2xx" : "refused");
    if (c.valid()) {
      assertThat(status)
          .as("status of %s (still valid)", c)
          .isEqualTo(c.route() == Route.CANCEL && !endpoint.token ? 403 : 200);
    }
    assertCleanAnswer(c.request(), answer, c);
    boolean cancel =
        c.route() == Route.CANCEL
            && id != null
            && endpoint.token
            && c.request().method().equals("POST")
            && status == 200;
    String cancelled = "nothing";
    if (!cancel) {
      assertThat(endpoint.store.readLog(before, 100).events())
          .as("%s answered %s and changed the store", c, status)
          .isEmpty();
    } else {
      assertThat(answer.body()).as("answer to %s", c).contains("\"cancelled\":true");
      boolean running = named.equals(RUNNING);
      if (running && endpoint.node) {
        // The node stops the work and records Cancelled itself, after the answer.
        await()
            .pollDelay(Duration.ZERO)
            .pollInterval(Duration.ofMillis(5))
            .atMost(ANSWER_WITHIN)
            .until(() -> endpoint.store.find(id).orElseThrow().state().isTerminal());
      }
      List<RecordedEvent> appended = endpoint.store.readLog(before, 100).events();
      List<String> expected =
          !running
              ? List.of(id.value() + " CANCELLED")
              : endpoint.node
                  ? List.of(id.value() + " CANCELLATION_REQUESTED", id.value() + " CANCELLED")
                  : List.of(id.value() + " CANCELLATION_REQUESTED");
      assertThat(appended)
          .as("what %s appended", c)
          .map(e -> e.workOrderId().value() + " " + e.event().type().name())
          .containsExactlyElementsOf(expected);
      if (c.reason() != null) {
        String stored = c.reason().replace('\u0000', '\uFFFD');
        assertThat(appended)
            .as("the reason %s recorded", c)
            .map(e -> reasonOf(e.event()))
            .containsOnly(stored);
      }
      cancelled = endpoint.name + ", " + (running ? "running" : "pending");
      if (running) {
        endpoint.forgetRunning();
      } else {
        endpoint.known = endpoint.seed.get();
      }
    }
    Statistics.label("cancelled").collect(cancelled);
    Statistics.label("cancelled")
        .coverage(
            coverage -> {
              for (Endpoint e : ENDPOINTS) {
                if (e.token) {
                  for (String state : List.of("pending", "running")) {
                    coverage.check(e.name + ", " + state).count(n -> n >= MIN_CANCELS_OF_EACH_KIND);
                  }
                }
              }
              coverage
                  .checkQuery(values -> !values.get(0).equals("nothing"))
                  .percentage(p -> p >= 5.0);
            });
  }

  /** The placeholder ({@link #KNOWN} or {@link #RUNNING}) that is a whole segment of the path. */
  static String namedWorkOrder(String target) {
    int q = target.indexOf('?');
    List<String> segments = List.of((q < 0 ? target : target.substring(0, q)).split("/"));
    return segments.contains(KNOWN) ? KNOWN : segments.contains(RUNNING) ? RUNNING : null;
  }

  private static String reasonOf(WorkOrderEvent event) {
    if (event instanceof WorkOrderEvent.Cancelled c) {
      return c.reason();
    }
    if (event instanceof WorkOrderEvent.CancellationRequested r) {
      return r.reason();
    }
    return "not a cancellation: " + event;
  }

  // ---- sending ---------------------------------------------------------------------------------

  /**
   * An answer as it came over the wire.
   *
   * @param contentType its Content-Type header; null without one
   */
  record Answer(int status, String contentType, String body) {}

  /**
   * What every answer must be, whatever was sent. Its status is one the request can legally get
   * from this endpoint: below 500, or 501 when the request names a transfer coding (the endpoint
   * implements none for request bodies; RFC 9112 section 6.1 answers an unimplemented coding with
   * 501). Its body is the endpoint's own: empty for HEAD, the Prometheus text for a 200 scrape, and
   * otherwise a JSON object, which for a refusal has an {@code error} text; it never names an
   * exception or a class, nor shows a stack frame.
   */
  static void assertCleanAnswer(Request request, Answer answer, Object context) throws IOException {
    int status = answer.status();
    if (!(status == 501 && namesTransferCoding(request))) {
      assertThat(status).as("status of %s", context).isBetween(200, 499);
    }
    if (LEAK.matcher(answer.body()).find()) {
      fail("the body of %s leaks internals: %s", context, shorten(answer.body()));
    }
    if (request.method().equals("HEAD")) {
      assertThat(answer.body()).as("body of %s", context).isEmpty();
      return;
    }
    if (status == 200 && answer.contentType() != null && answer.contentType().startsWith("text/")) {
      return; // the scrape
    }
    assertThat(answer.contentType())
        .as("Content-Type of %s", context)
        .startsWith("application/json");
    JsonNode json = JsonViews.MAPPER.readTree(answer.body());
    assertThat(json != null && json.isObject())
        .as("body of %s is a JSON object: %s", context, shorten(answer.body()))
        .isTrue();
    if (status >= 400) {
      assertThat(json.path("error").isTextual())
          .as("a refusal of %s names its reason: %s", context, shorten(answer.body()))
          .isTrue();
    }
  }

  /**
   * Sends the request over a raw socket, closes the sending side (the client has said all it will
   * say, whatever its Content-Length claimed) and reads the answer until the server closes.
   */
  static Answer send(Endpoint endpoint, Request r, String target) throws IOException {
    long deadline = System.nanoTime() + ANSWER_WITHIN.toNanos();
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", endpoint.server.port()), 5_000);
      socket.setSoTimeout((int) ANSWER_WITHIN.toMillis());
      StringBuilder head = new StringBuilder();
      head.append(r.method()).append(' ').append(target).append(" HTTP/1.1\r\n");
      if (r.host() != null) {
        head.append("Host: ").append(r.host()).append("\r\n");
      }
      if (r.authorization() != null) {
        head.append("Authorization: ").append(r.authorization()).append("\r\n");
      }
      if (r.length() != null) {
        head.append("Content-Length: ")
            .append(r.length().replace("{n}", Integer.toString(r.body().length)))
            .append("\r\n");
      }
      r.extraHeaders().forEach(h -> head.append(h).append("\r\n"));
      head.append("Connection: close\r\n\r\n");
      OutputStream out = socket.getOutputStream();
      try {
        out.write(head.toString().getBytes(StandardCharsets.UTF_8));
        out.write(r.body());
        out.flush();
        socket.shutdownOutput();
      } catch (IOException e) {
        // The server may answer and close before it has read everything; read what it said.
      }
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buffer = new byte[8192];
      try {
        for (int n; (n = in.read(buffer)) >= 0; ) {
          got.write(buffer, 0, n);
          if (System.nanoTime() > deadline) {
            fail("no complete answer within %s to %s on %s", ANSWER_WITHIN, r, endpoint);
          }
        }
      } catch (SocketTimeoutException e) {
        fail("no answer within %s to %s on %s (a hang)", ANSWER_WITHIN, r, endpoint);
      } catch (IOException e) {
        if (got.size() == 0) {
          // The endpoint answers every request that sent a byte, and drains what it did not read
          // before closing, so that its answer is not lost to a reset.
          fail("connection reset without an answer to %s on %s: %s", r, endpoint, e);
        }
      }
      String text = got.toString(StandardCharsets.ISO_8859_1);
      // An interim "100 Continue" (the request said Expect: 100-continue) precedes the answer.
      while (text.startsWith("HTTP/1.1 100 ") && text.indexOf("\r\n\r\n") > 0) {
        text = text.substring(text.indexOf("\r\n\r\n") + 4);
      }
      assertThat(text)
          .as("answer to %s on %s (closed without one if empty)", r, endpoint)
          .matches("(?s)HTTP/1\\.1 \\d{3} .*\r\n\r\n.*");
      return parse(text);
    }
  }

  /** A whole answer (status line, head, body) split into its parts. */
  static Answer parse(String text) {
    int status = Integer.parseInt(text.substring(9, 12));
    int split = text.indexOf("\r\n\r\n");
    String contentType = null;
    for (String line : text.substring(0, split).split("\r\n")) {
      if (line.regionMatches(true, 0, "Content-Type:", 0, 13)) {
        contentType = line.substring(13).trim();
      }
    }
    return new Answer(status, contentType, text.substring(split + 4));
  }

  /** Whether the request carries a Transfer-Encoding header, whatever its value or spelling. */
  static boolean namesTransferCoding(Request r) {
    return r.extraHeaders().stream()
        .anyMatch(h -> h.regionMatches(true, 0, "Transfer-Encoding:", 0, 18));
  }

  // ---- generators ------------------------------------------------------------------------------

  @Provide
  Arbitrary<Integer> endpoints() {
    return Arbitraries.integers().between(0, 2);
  }

  @Provide
  Arbitrary<Request> requests() {
    return Combinators.combine(
            methods(), targets(), hosts(), authorizations(), lengths(), extraHeaders(), bodies())
        .as(Request::new);
  }

  static Arbitrary<String> methods() {
    return Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.of("GET", "POST")),
        Tuple.of(
            2,
            Arbitraries.of(
                "HEAD",
                "PUT",
                "DELETE",
                "PATCH",
                "OPTIONS",
                "TRACE",
                "CONNECT",
                "get",
                "post",
                "Post",
                "PROPFIND")),
        Tuple.of(1, Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(12)),
        Tuple.of(1, Arbitraries.of("G\u00c9T", "P@ST", "GET\u0000", "A".repeat(5000))));
  }

  static Arbitrary<String> targets() {
    Arbitrary<String> route =
        Arbitraries.of(
            "/health/live",
            "/health/ready",
            "/metrics",
            "/api/queue/stats",
            "/api/audit",
            "/api/work-orders/" + KNOWN,
            "/api/work-orders/" + KNOWN + "/timeline",
            "/api/work-orders/" + KNOWN + "/cancel",
            "/api/work-orders/" + KNOWN + "/cancel/",
            "//api//work-orders//" + KNOWN + "//cancel",
            "/api/work-orders/%7Bknown%7D/cancel",
            "/api/work-orders/" + WorkOrderId.random().value() + "/cancel",
            "/api/work-orders/../work-orders/" + KNOWN + "/cancel",
            "/api/work-orders/%2e%2e/%2e%2e/metrics",
            "/api/work-orders/%2F%2F/cancel",
            "/api/work-orders/%00/cancel",
            "/api/work-orders/%zz/cancel",
            "/api/work-orders/%/cancel",
            "/api/work-orders/%ff%fe%fd/timeline",
            "/api/work-orders/" + "a".repeat(129) + "/cancel",
            "/api/work-orders/%E2%80%A8/cancel",
            "/API/WORK-ORDERS/" + KNOWN + "/CANCEL",
            "/../../etc/passwd",
            "/%2e%2e/%2e%2e/etc/passwd",
            "/" + "a/".repeat(3000),
            "/" + "x".repeat(20_000),
            "*",
            "http://evil.example/api/queue/stats",
            "http://localhost/api/work-orders/" + KNOWN + "/cancel",
            "HTTP://LOCALHOST:1?x",
            "//metrics",
            "/metrics/../x",
            "api/queue/stats",
            "",
            "/api/work-orders/ " + KNOWN + "/cancel",
            "/api/work-orders/\u00e9/cancel",
            "/api/work-orders/\t/cancel");
    Arbitrary<String> query =
        Arbitraries.frequencyOf(
            Tuple.of(4, Arbitraries.just("")),
            Tuple.of(
                1,
                Arbitraries.oneOf(
                    Arbitraries.of(
                        "",
                        "?",
                        "?reason=x",
                        "?limit=1001",
                        "?limit=-1&limit=2",
                        "?after=%zz",
                        "?after=" + "9".repeat(40) + "-1",
                        "?type=Cancelled,,Submitted",
                        "?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z",
                        "?workOrder=" + KNOWN,
                        "?%00=%00",
                        "?a=" + "b".repeat(5000),
                        "?&&&=&",
                        "?#fragment"),
                    Arbitraries.strings()
                        .withCharRange('!', '~')
                        .excludeChars('#')
                        .ofMaxLength(40)
                        .map(q -> "?" + q))));
    return Combinators.combine(route, query).as((r, q) -> r + q);
  }

  static Arbitrary<String> hosts() {
    return Arbitraries.frequencyOf(
        Tuple.of(5, Arbitraries.just("localhost")),
        Tuple.of(
            2,
            Arbitraries.of(
                "127.0.0.1",
                "[::1]:80",
                "LOCALHOST:1",
                "evil.example",
                "localhost.evil.example",
                "127.0.0.1.evil.example",
                "[::1",
                "",
                ":",
                "h".repeat(10_000),
                "localhost\u0000")),
        Tuple.of(1, Arbitraries.just(null)));
  }

  static Arbitrary<String> authorizations() {
    return Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.just("Bearer " + TOKEN)),
        Tuple.of(2, Arbitraries.just(null)),
        Tuple.of(
            2,
            Arbitraries.of(
                "bearer " + TOKEN,
                "Bearer  " + TOKEN + "  ",
                "Bearer " + TOKEN + "x",
                "Bearer " + TOKEN.substring(1),
                "Bearer",
                "Bearer ",
                "Basic " + TOKEN,
                TOKEN,
                "Bearer " + "t".repeat(10_000),
                "Bearer " + TOKEN + "\u00e9",
                "Bearer \u0000")),
        Tuple.of(1, Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(40)));
  }

  /** Content-Length: true ({n} is the body's length), lies, nonsense, or none. */
  static Arbitrary<String> lengths() {
    return Arbitraries.frequencyOf(
        Tuple.of(12, Arbitraries.just("{n}")),
        Tuple.of(1, Arbitraries.just(null)),
        Tuple.of(
            2,
            Arbitraries.of(
                "0",
                "1",
                "4096",
                "4097",
                "100000",
                "-1",
                "abc",
                "",
                " 5",
                "99999999999999999999",
                "{n}, {n}",
                "0x10",
                "1e3")));
  }

  static Arbitrary<List<String>> extraHeaders() {
    Arbitrary<String> header =
        Arbitraries.of(
            "Transfer-Encoding: chunked",
            "Transfer-Encoding: gzip, chunked",
            "Transfer-Encoding: identity",
            "Transfer-Encoding: CHUNKED",
            "Content-Length: 3",
            "Host: localhost",
            "Expect: nothing-known",
            "Content-Type: application/json",
            "Content-Type: text/plain; charset=ebcdic",
            "Expect: 100-continue",
            "Authorization: Bearer " + TOKEN,
            "Host: evil.example",
            "X-Forwarded-For: 10.0.0.1",
            "X-Long: " + "v".repeat(20_000),
            "NoColon",
            ": empty-name",
            " Folded: continuation",
            "Bad Header: x",
            "X-\u00e9: y");
    return Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.just(List.<String>of())), Tuple.of(1, header.list().ofMaxSize(3)));
  }

  static Arbitrary<byte[]> bodies() {
    Arbitrary<String> json =
        Arbitraries.of(
            "",
            "{\"reason\":\"hostile\"}",
            "{\"reason\":\"hostile\"}",
            "{",
            "null",
            "[]",
            "{\"reason\":null}",
            "{\"reason\":\" \"}",
            "{\"reason\":[1]}",
            "{\"reason\":\"" + "r".repeat(501) + "\"}",
            "{\"reason\":\"a\",\"reason\":\"b\"}",
            "{\"reason\":\"\\u0000\"}",
            "{\"reason\":\"x\"} trailing",
            "{\"other\":1}",
            "[".repeat(4000),
            "0\r\n\r\n",
            "5\r\nhello\r\n0\r\n\r\n",
            "zz\r\nbad chunk\r\n");
    return Arbitraries.frequencyOf(
        Tuple.of(6, json.map(s -> s.getBytes(StandardCharsets.UTF_8))),
        Tuple.of(2, Arbitraries.bytes().array(byte[].class).ofMaxSize(300)),
        Tuple.of(
            1,
            Arbitraries.of(4096, 4097, 20_000)
                .map(
                    n -> {
                      byte[] b = new byte[n];
                      new Random(n).nextBytes(b);
                      return b;
                    })));
  }

  // ---- generators: valid requests and their changes --------------------------------------------

  @Provide
  Arbitrary<Case> validRequestsChangedOnce() {
    Arbitrary<Route> routes =
        Arbitraries.frequency(
            Tuple.of(1, Route.LIVE),
            Tuple.of(1, Route.READY),
            Tuple.of(1, Route.METRICS),
            Tuple.of(1, Route.STATS),
            Tuple.of(2, Route.AUDIT),
            Tuple.of(2, Route.WORK_ORDER),
            Tuple.of(2, Route.TIMELINE),
            Tuple.of(12, Route.CANCEL));
    return Combinators.combine(
            endpoints(), routes, Arbitraries.of(KNOWN, RUNNING), auditQueries(), reasons())
        .as(HttpEndpointHostileInputProperties::valid)
        .flatMap(
            v ->
                Arbitraries.frequencyOf(
                    Tuple.of(1, Arbitraries.just(v)), Tuple.of(4, changedOnce(v))));
  }

  /** The request a well-behaved client sends for the route, to the named work order. */
  static Case valid(int endpoint, Route route, String workOrder, String auditQuery, String reason) {
    String authorization = ENDPOINTS.get(endpoint).token ? "Bearer " + TOKEN : null;
    String target = route.path.replace("{id}", workOrder);
    if (route == Route.AUDIT) {
      target += auditQuery.replace("{id}", workOrder);
    }
    if (route != Route.CANCEL) {
      Request get = new Request("GET", target, "localhost", authorization, null, List.of(), none());
      return new Case(endpoint, route, "none", true, get, null);
    }
    byte[] body =
        JsonViews.MAPPER.createObjectNode().put("reason", reason).toString().getBytes(UTF8);
    Request post =
        new Request(
            "POST",
            target,
            "localhost",
            authorization,
            "{n}",
            List.of("Content-Type: application/json"),
            body);
    return new Case(endpoint, route, "none", true, post, reason);
  }

  static Arbitrary<String> auditQueries() {
    return Arbitraries.of(
        "",
        "?workOrder={id}",
        "?workOrder={id}&order=newest&limit=10",
        "?type=Submitted,Cancelled&order=oldest&limit=50",
        "?from=2020-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&type=CANCELLED");
  }

  static Arbitrary<String> reasons() {
    return Arbitraries.oneOf(
        Arbitraries.of(
            "no longer needed",
            "wrong input: résumé ✓ 日本語",
            "quote \" backslash \\ newline \n tab \t",
            "a NUL \u0000 inside",
            "r".repeat(WorkgateHttpServer.MAX_REASON_CHARS)),
        Arbitraries.strings()
            .withCharRange(' ', '~')
            .ofMinLength(1)
            .ofMaxLength(60)
            .filter(s -> !s.isBlank()));
  }

  static Arbitrary<Case> changedOnce(Case v) {
    List<Arbitrary<Case>> parts =
        new ArrayList<>(
            List.of(
                Arbitraries.lazy(() -> headerChanged(v)),
                Arbitraries.lazy(() -> bodyChanged(v)),
                Arbitraries.lazy(() -> methodChanged(v)),
                Arbitraries.lazy(() -> queryChanged(v)),
                Arbitraries.lazy(() -> pathChanged(v))));
    if (v.route().namesWorkOrder()) {
      parts.add(Arbitraries.lazy(() -> idChanged(v)));
    }
    return Arbitraries.oneOf(parts);
  }

  static Arbitrary<Case> headerChanged(Case v) {
    Request r = v.request();
    Endpoint e = ENDPOINTS.get(v.endpoint());
    boolean tokenNotNeeded = !e.token || v.route().probe();
    int n = r.body().length;
    List<String> contentType = List.of("Content-Type: application/json");
    return Arbitraries.of(
        v.changed("header: no Host", true, r.withHost(null)),
        v.changed(
            "header: Host 127.0.0.1 with a port", true, r.withHost("127.0.0.1:" + e.server.port())),
        v.changed("header: Host [::1]", true, r.withHost("[::1]")),
        v.changed("header: Host in capitals", true, r.withHost("LOCALHOST")),
        v.changed("header: a foreign Host", e.token, r.withHost("evil.example")),
        v.changed(
            "header: Host with localhost as a label",
            e.token,
            r.withHost("localhost.evil.example")),
        v.changed("header: empty Host", false, r.withHost("")),
        v.changed("header: a second, identical Host", false, r.plusHeader("Host: localhost")),
        v.changed("header: Host cut short", false, r.withHost("[::1")),
        v.changed("header: a 10 000-character Host", false, r.withHost("h".repeat(10_000))),
        v.changed("header: no Authorization", tokenNotNeeded, r.withAuthorization(null)),
        v.changed(
            "header: wrong token", tokenNotNeeded, r.withAuthorization("Bearer " + TOKEN + "x")),
        v.changed(
            "header: token cut short",
            tokenNotNeeded,
            r.withAuthorization("Bearer " + TOKEN.substring(1))),
        v.changed("header: Basic scheme", tokenNotNeeded, r.withAuthorization("Basic " + TOKEN)),
        v.changed("header: token without a scheme", tokenNotNeeded, r.withAuthorization(TOKEN)),
        v.changed("header: empty bearer", tokenNotNeeded, r.withAuthorization("Bearer ")),
        v.changed(
            "header: a 10 000-character token",
            false,
            r.withAuthorization("Bearer " + "t".repeat(10_000))),
        v.changed("header: lower-case scheme", true, r.withAuthorization("bearer " + TOKEN)),
        v.changed(
            "header: spaces around the token",
            true,
            r.withAuthorization("Bearer   " + TOKEN + "  ")),
        v.changed(
            "header: Authorization named in capitals",
            true,
            r.withAuthorization(null).plusHeader("AUTHORIZATION: Bearer " + TOKEN)),
        v.changed(
            "header: a second, wrong Authorization",
            false,
            r.plusHeader("Authorization: Bearer wrong-" + TOKEN)),
        v.changed("header: no Content-Length", r.length() == null, r.withLength(null), null),
        v.changed(
            "header: Content-Length 0",
            n == 0,
            r.withLength("0"),
            n == 0 ? v.reason() : DEFAULT_REASON),
        v.changed(
            "header: Content-Length one short", false, r.withLength(Integer.toString(n - 1)), null),
        v.changed(
            "header: Content-Length one over", false, r.withLength(Integer.toString(n + 1)), null),
        v.changed("header: Content-Length over the limit", false, r.withLength("4097"), null),
        v.changed("header: Content-Length -1", false, r.withLength("-1"), null),
        v.changed("header: Content-Length not a number", false, r.withLength("abc"), null),
        v.changed("header: Content-Length of 20 digits", false, r.withLength("9".repeat(20)), null),
        v.changed("header: Content-Length twice in one", false, r.withLength("{n}, {n}"), null),
        v.changed(
            "header: a second Content-Length",
            false,
            r.plusHeader("Content-Length: " + (n + 3)),
            null),
        v.changed(
            "header: Content-Type text/plain",
            false,
            r.withHeaders(List.of("Content-Type: text/plain; charset=ebcdic"))),
        v.changed("header: no Content-Type", false, r.withHeaders(List.of())),
        v.changed(
            "header: Transfer-Encoding chunked on a plain body",
            false,
            r.plusHeader("Transfer-Encoding: chunked"),
            null),
        v.changed("header: Expect 100-continue", true, r.plusHeader("Expect: 100-continue")),
        v.changed("header: X-Forwarded-For", true, r.plusHeader("X-Forwarded-For: 10.0.0.1")),
        v.changed(
            "header: a 20 000-character header",
            false,
            r.plusHeader("X-Long: " + "v".repeat(20_000))),
        v.changed("header: a line without a colon", false, r.plusHeader("NoColon")),
        v.changed("header: a folded line", false, r.plusHeader(" Folded: continuation")),
        v.changed(
            "header: Content-Type twice",
            false,
            r.withHeaders(List.of(contentType.get(0), contentType.get(0)))));
  }

  static Arbitrary<Case> bodyChanged(Case v) {
    boolean cancel = v.request().method().equals("POST");
    String r500 = "r".repeat(WorkgateHttpServer.MAX_REASON_CHARS);
    String padded =
        "{\"reason\":\"x\"" + " ".repeat(WorkgateHttpServer.MAX_SMALL_BODY_BYTES - 14) + "}";
    List<Case> fixed = new ArrayList<>();
    // Still valid for a cancel, each with the reason it records.
    Object[][] valid = {
      {"empty", "", DEFAULT_REASON},
      {"an empty object", "{}", DEFAULT_REASON},
      {"a reason of the longest length", "{\"reason\":\"" + r500 + "\"}", r500},
      {"white space around", " \r\n{ \"reason\" : \"x\" }\n ", "x"},
      {"an escaped NUL in the reason", "{\"reason\":\"a\\u0000b\"}", "a\u0000b"},
      {"escapes in the reason", "{\"reason\":\"\\u00e9\\n\\\"\\/\"}", "é\n\"/"},
      {"a body of the largest size", padded, "x"},
    };
    for (Object[] b : valid) {
      fixed.add(body(v, "body: " + b[0], true, ((String) b[1]).getBytes(UTF8), (String) b[2]));
    }
    String[][] invalid = {
      {"an unclosed object", "{"},
      {"a cut-short member", "{\"reason\":"},
      {"null", "null"},
      {"an array", "[]"},
      {"a string", "\"just a string\""},
      {"a number", "42"},
      {"a numeric reason", "{\"reason\":1}"},
      {"a boolean reason", "{\"reason\":true}"},
      {"a null reason", "{\"reason\":null}"},
      {"an array reason", "{\"reason\":[\"x\"]}"},
      {"an object reason", "{\"reason\":{\"text\":\"x\"}}"},
      {"an empty reason", "{\"reason\":\"\"}"},
      {"a blank reason", "{\"reason\":\" \\t \"}"},
      {"a reason one too long", "{\"reason\":\"" + r500 + "r\"}"},
      {"an extra field", "{\"reason\":\"x\",\"force\":true}"},
      {"a field in capitals", "{\"Reason\":\"x\"}"},
      {"the reason twice", "{\"reason\":\"a\",\"reason\":\"b\"}"},
      {"text after the object", "{\"reason\":\"x\"} trailing"},
      {"a second object", "{\"reason\":\"x\"}{\"reason\":\"y\"}"},
      {"a lone surrogate", "{\"reason\":\"\\ud800\"}"},
      {"single quotes", "{'reason':'x'}"},
      {"a comment", "{/* why */\"reason\":\"x\"}"},
      {"nesting 4000 deep", "[".repeat(4000)},
      {"one byte over the limit", padded + " "},
      {"a 20 000-byte reason", "{\"reason\":\"" + "r".repeat(20_000) + "\"}"},
    };
    for (String[] b : invalid) {
      fixed.add(body(v, "body: " + b[0], !cancel, b[1].getBytes(UTF8), null));
    }
    byte[] latin1 = "{\"reason\":\"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);
    byte[] utf16 = "{\"reason\":\"x\"}".getBytes(StandardCharsets.UTF_16);
    fixed.add(body(v, "body: not UTF-8", !cancel, latin1, null));
    fixed.add(body(v, "body: UTF-16 with a byte-order mark", !cancel, utf16, null));
    Arbitrary<Case> random =
        Arbitraries.bytes()
            .array(byte[].class)
            .ofMinSize(1)
            .ofMaxSize(300)
            .map(b -> body(v, "body: random bytes", !cancel, b, null));
    return Arbitraries.frequencyOf(Tuple.of(6, Arbitraries.of(fixed)), Tuple.of(1, random));
  }

  private static Case body(Case v, String how, boolean stillValid, byte[] b, String reason) {
    return v.changed(how, stillValid, v.request().withBody(b), reason);
  }

  static Arbitrary<Case> methodChanged(Case v) {
    boolean cancel = v.route() == Route.CANCEL;
    String validMethod = v.request().method();
    Arbitrary<String> other =
        Arbitraries.oneOf(
            Arbitraries.of(
                cancel ? "GET" : "POST",
                "HEAD",
                "PUT",
                "DELETE",
                "PATCH",
                "OPTIONS",
                "TRACE",
                "PROPFIND",
                validMethod.toLowerCase(java.util.Locale.ROOT),
                validMethod.charAt(0) + validMethod.substring(1).toLowerCase(java.util.Locale.ROOT),
                validMethod + "X"),
            Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(10));
    return other
        .filter(m -> !m.equals(validMethod))
        .map(
            m ->
                v.changed(
                    "method: " + shorten(m),
                    !cancel && m.equals("HEAD"),
                    v.request().withMethod(m)));
  }

  static Arbitrary<Case> queryChanged(Case v) {
    String target = v.request().target();
    int q = target.indexOf('?');
    String path = q < 0 ? target : target.substring(0, q);
    List<Case> fixed = new ArrayList<>();
    String[] harmless = {"?", "?&", "?&&"};
    for (String query : harmless) {
      fixed.add(query(v, "query: " + query, true, path + query));
    }
    String[] refused = {
      "?reason=x",
      "?limit=1",
      "?=",
      "?a",
      "?%zz",
      "?x=%E2%82",
      "?%00=%00",
      "?a=" + "b".repeat(5000),
    };
    if (v.route() == Route.AUDIT) {
      String[] valid = {
        "", "?limit=1000", "?type=CANCELLED", "?order=newest", "?type=Submitted&type=Cancelled"
      };
      for (String query : valid) {
        fixed.add(query(v, "query: " + (query.isEmpty() ? "none" : query), true, path + query));
      }
      refused =
          new String[] {
            "?limit=0",
            "?limit=1001",
            "?limit=ten",
            "?limit=1&limit=2",
            "?order=sideways",
            "?type=Nope",
            "?type=",
            "?type=Submitted,,Cancelled",
            "?from=yesterday",
            "?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z",
            "?after=%zz",
            "?after=nonsense",
            "?after=" + "9".repeat(40) + "-1",
            "?workOrder=",
            "?workOrder=" + "x".repeat(129),
            "?workOrder=%00",
            "?unknown=1",
            "?a=" + "b".repeat(5000),
          };
    }
    for (String query : refused) {
      fixed.add(query(v, "query: " + shorten(query, 40), false, path + query));
    }
    Arbitrary<Case> random =
        Arbitraries.strings()
            .withCharRange('!', '~')
            .excludeChars('#')
            .ofMinLength(1)
            .ofMaxLength(40)
            .map(s -> query(v, "query: random", false, path + "?" + s));
    return Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.of(fixed)), Tuple.of(1, random));
  }

  private static Case query(Case v, String how, boolean stillValid, String target) {
    return v.changed(how, stillValid, v.request().withTarget(target));
  }

  static Arbitrary<Case> pathChanged(Case v) {
    Endpoint e = ENDPOINTS.get(v.endpoint());
    String target = v.request().target();
    int q = target.indexOf('?');
    String path = q < 0 ? target : target.substring(0, q);
    String query = q < 0 ? "" : target.substring(q);
    String upper =
        path.toUpperCase(java.util.Locale.ROOT)
            .replace(KNOWN.toUpperCase(java.util.Locale.ROOT), KNOWN)
            .replace(RUNNING.toUpperCase(java.util.Locale.ROOT), RUNNING);
    String encoded =
        "/%"
            + Integer.toHexString(path.charAt(1)).toUpperCase(java.util.Locale.ROOT)
            + path.substring(2);
    return Arbitraries.of(
        query(v, "path: a trailing slash", true, path + "/" + query),
        query(v, "path: doubled slashes", true, "/" + path.substring(1).replace("/", "//") + query),
        // Empty segments are ignored wherever they are, the first one too.
        query(v, "path: a leading double slash", true, "/" + path + query),
        query(v, "path: a letter percent-encoded", true, encoded + query),
        query(v, "path: in capitals", false, upper + query),
        query(v, "path: an extra segment", false, path + "/extra" + query),
        query(v, "path: a prefix", false, "/v1" + path + query),
        query(v, "path: a dot segment", false, path.replaceFirst("/", "/./") + query),
        query(v, "path: a dot-dot segment", false, "/api/.." + path + query),
        query(
            v, "path: a slash percent-encoded", false, path.replaceFirst("(?<=.)/", "%2F") + query),
        query(v, "path: no leading slash", false, path.substring(1) + query),
        query(v, "path: absolute form, localhost", true, "http://localhost" + path + query),
        query(
            v,
            "path: absolute form, a foreign host",
            e.token,
            "http://evil.example" + path + query));
  }

  static Arbitrary<Case> idChanged(Case v) {
    String target = v.request().target();
    int q = target.indexOf('?');
    String path = q < 0 ? target : target.substring(0, q);
    String query = q < 0 ? "" : target.substring(q);
    String named = namedWorkOrder(target);
    String other = named.equals(KNOWN) ? RUNNING : KNOWN;
    List<Case> fixed = new ArrayList<>();
    fixed.add(query(v, "id: the other live work order", true, path.replace(named, other) + query));
    String[][] ids = {
      {"unknown", WorkOrderId.random().value()},
      {"%zz", "%zz"},
      {"%", "%"},
      {"%00", "%00"},
      {"%2F", "%2F"},
      {"..", ".."},
      {".", "."},
      {"%20", "%20"},
      {"é, unknown", "%C3%A9"},
      {"U+2028, unknown", "%E2%80%A8"},
      {"a byte not UTF-8", "%FF"},
      {"the id and a NUL", named + "%00"},
      {"the id and a letter", named + "x"},
      {"the placeholder itself", "%7Bknown%7D"},
      {"128 characters, unknown", "a".repeat(128)},
      {"129 characters", "a".repeat(129)},
      {"5000 characters", "a".repeat(5000)},
      {"20 000 characters", "x".repeat(20_000)},
    };
    for (String[] id : ids) {
      fixed.add(query(v, "id: " + id[0], false, path.replace(named, id[1]) + query));
    }
    return Arbitraries.of(fixed);
  }

  private static byte[] none() {
    return new byte[0];
  }

  static String shorten(String s) {
    return s == null
        ? "null"
        : s.length() <= 120 ? s : s.substring(0, 120) + "…(" + s.length() + ")";
  }

  static String shorten(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max) + "…(" + s.length() + ")";
  }
}
