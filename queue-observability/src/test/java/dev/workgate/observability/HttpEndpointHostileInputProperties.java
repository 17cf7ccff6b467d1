package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.EventType;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.ExpectedVersion;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
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
 * <p>For every request: an answer arrives within {@link #ANSWER_WITHIN} (a timeout is a hang), its
 * status is below 500, its body names no Java exception nor class and carries no stack trace, and
 * the store's log does not move, unless the request was an authorised cancel of a known work order
 * that the endpoint answered 200; then only that work order got cancellation events.
 */
class HttpEndpointHostileInputProperties {
  static final String TOKEN = WorkgateHttpServerTest.TOKEN;
  static final Duration ANSWER_WITHIN = Duration.ofSeconds(10);

  /** What a body must never show: exception names, stack frames, qualified class names. */
  private static final Pattern LEAK =
      Pattern.compile(
          "Exception|Error:|\\tat |\\bat [a-z]+\\.[a-z]+|\\b(java|javax|jdk|sun|com\\.sun|com\\.fasterxml"
              + "|dev\\.workgate|io\\.micrometer)\\.[a-z]+\\.");

  /**
   * The JDK server's own answers to a request it cannot parse (a target java.net.URI refuses, such
   * as a '"' in the query; a Content-Length that is not a number, such as one continued on a folded
   * line): sent by com.sun.net.httpserver before any handler runs, so the endpoint cannot word
   * them. They name an exception class but show no trace; allowed as they are, only with 400.
   */
  static final Pattern JDK_REJECT =
      Pattern.compile("<h1>400 Bad Request</h1>(URISyntax|NumberFormat)Exception thrown");

  /** Stands for the id of a live, pending work order of the endpoint the request goes to. */
  static final String KNOWN = "{known}";

  /** One endpoint under test, with its store and a pending work order it may cancel. */
  static final class Endpoint {
    final String name;
    final WorkgateHttpServer server;
    final WorkOrderStore store;
    final boolean token;
    final Supplier<WorkOrderId> seed;
    WorkOrderId known;

    Endpoint(
        String name,
        WorkgateHttpServer server,
        WorkOrderStore store,
        boolean token,
        Supplier<WorkOrderId> seed) {
      this.name = name;
      this.server = server;
      this.store = store;
      this.token = token;
      this.seed = seed;
      this.known = seed.get();
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
            .build();
    workgate.start();
    ENDPOINTS.add(
        new Endpoint(
            "node with token",
            WorkgateHttpServer.builder(workgate).port(0).token(TOKEN).build(),
            workgate.store(),
            true,
            () -> workgate.submit(later(workgate.clock().instant()))));
    memory = Stores.inMemory();
    Supplier<WorkOrderId> storeSeed =
        () -> {
          WorkOrderId id = WorkOrderId.random();
          memory.append(
              id,
              ExpectedVersion.none(),
              List.of(
                  dev.workgate.core.WorkOrderEvent.Submitted.of(later(java.time.Instant.now()))));
          return id;
        };
    ENDPOINTS.add(
        new Endpoint(
            "store with token",
            WorkgateHttpServer.builder(memory).port(0).token(TOKEN).build(),
            memory,
            true,
            storeSeed));
    ENDPOINTS.add(
        new Endpoint(
            "store without token",
            WorkgateHttpServer.builder(memory).port(0).build(),
            memory,
            false,
            storeSeed));
  }

  private static WorkOrderSpec later(java.time.Instant now) {
    return WorkOrderSpec.builder("ok").notBefore(now.plus(Duration.ofDays(1))).build();
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
    if (!(answer.status() == 501 && unknownTransferCoding(request))) {
      assertThat(answer.status()).as("status of %s on %s", request, endpoint).isBetween(200, 499);
    }
    if (LEAK.matcher(answer.body()).find()
        && !(answer.status() == 400 && JDK_REJECT.matcher(answer.body()).matches())) {
      fail("the body of %s on %s leaks internals: %s", request, endpoint, shorten(answer.body()));
    }
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

  private static long head(WorkOrderStore store) {
    long position = 0;
    while (true) {
      var page = store.readLog(position, 1000);
      if (page.events().isEmpty()) {
        return position;
      }
      position = page.lastPosition();
    }
  }

  // ---- sending ---------------------------------------------------------------------------------

  record Answer(int status, String body) {}

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
          // Reset before any answer: only acceptable for a request HTTP itself cannot parse.
          assertThat(malformedHttp(r, target))
              .as("connection reset without an answer to %s on %s: %s", r, endpoint, e)
              .isTrue();
          return new Answer(400, "");
        }
      }
      String text = got.toString(StandardCharsets.ISO_8859_1);
      // An interim "100 Continue" (the request said Expect: 100-continue) precedes the answer.
      while (text.startsWith("HTTP/1.1 100 ") && text.indexOf("\r\n\r\n") > 0) {
        text = text.substring(text.indexOf("\r\n\r\n") + 4);
      }
      if (text.isEmpty()) {
        assertThat(malformedHttp(r, target))
            .as("connection closed without an answer to %s on %s", r, endpoint)
            .isTrue();
        return new Answer(400, "");
      }
      assertThat(text).as("answer to %s", r).matches("(?s)HTTP/1\\.1 \\d{3}.*");
      int status = Integer.parseInt(text.substring(9, 12));
      int split = text.indexOf("\r\n\r\n");
      return new Answer(status, split < 0 ? "" : text.substring(split + 4));
    }
  }

  /**
   * Whether the request names a transfer coding the JDK server does not implement (anything but
   * chunked): it answers 501 Not Implemented before any handler runs, as RFC 9112 section 6.1 asks
   * of a server; the one 5xx allowed.
   */
  static boolean unknownTransferCoding(Request r) {
    return r.extraHeaders().stream()
        .anyMatch(
            h -> h.startsWith("Transfer-Encoding:") && !h.equals("Transfer-Encoding: chunked"));
  }

  /** Whether the request breaks HTTP/1.1 syntax, so that a server may drop it unanswered. */
  static boolean malformedHttp(Request r, String target) {
    String all = r.method() + target + r.host() + r.authorization() + r.length() + r.extraHeaders();
    return !r.method().matches("[A-Za-z]+")
        || target.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)
        || all.chars().anyMatch(c -> c < ' ' && c != '\t' || c >= 0x7f)
        || r.extraHeaders().stream().anyMatch(h -> !h.matches("[A-Za-z-]+:.*"));
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
            "Content-Length: 3",
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

  static String shorten(String s) {
    return s == null
        ? "null"
        : s.length() <= 120 ? s : s.substring(0, 120) + "…(" + s.length() + ")";
  }
}
