package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.observability.HttpEndpointHostileInputProperties.Answer;
import dev.workgate.observability.HttpEndpointHostileInputProperties.Endpoint;
import dev.workgate.observability.HttpEndpointHostileInputProperties.Request;
import dev.workgate.spi.ExpectedVersion;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Malformed requests, one of each kind, over a raw socket: each gets the endpoint's own JSON error
 * with the status that names what is wrong, never another server's page, and never an exception's
 * name. The endpoint under test serves a store alone, with and without a token.
 */
class HttpEndpointMalformedRequestTest {
  static final String TOKEN = WorkgateHttpServerTest.TOKEN;

  private WorkOrderStore store;
  private WorkOrderId pending;
  private WorkgateHttpServer open; // no token
  private WorkgateHttpServer guarded; // with a token

  @BeforeEach
  void start() {
    store = Stores.inMemory();
    pending = WorkOrderId.random();
    store.append(
        pending,
        ExpectedVersion.none(),
        List.of(WorkOrderEvent.Submitted.of(WorkOrderSpec.builder("ok").build())));
    open = WorkgateHttpServer.builder(store).port(0).build();
    guarded = WorkgateHttpServer.builder(store).port(0).token(TOKEN).build();
  }

  @AfterEach
  void stop() {
    open.close();
    guarded.close();
    store.close();
  }

  @Test
  void a_leading_double_slash_is_the_same_path_as_a_single_one() throws Exception {
    Answer answer = raw(open, "GET //metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");

    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.contentType()).startsWith("text/plain");
    assertThat(answer.body()).contains("workgate_");
  }

  @Test
  void a_path_with_dot_segments_is_refused() throws Exception {
    assertJsonError(raw(open, "GET /metrics/../x HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400);
    assertJsonError(raw(open, "GET /./metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400);
  }

  @Test
  void content_lengths_that_are_not_one_plain_number_are_refused() throws Exception {
    String cancel = "POST /api/work-orders/" + pending.value() + "/cancel HTTP/1.1\r\n";
    String head = cancel + "Host: localhost\r\nAuthorization: Bearer " + TOKEN + "\r\n";

    assertJsonError(raw(guarded, head + "Content-Length: 99999999999999999999\r\n\r\n{}"), 413);
    assertJsonError(raw(guarded, head + "Content-Length: -1\r\n\r\n{}"), 400);
    assertJsonError(raw(guarded, head + "Content-Length: abc\r\n\r\n{}"), 400);
    assertJsonError(raw(guarded, head + "Content-Length: 0x10\r\n\r\n{}"), 400);
    assertJsonError(raw(guarded, head + "Content-Length: 2, 2\r\n\r\n{}"), 400);
    assertJsonError(raw(guarded, head + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{} "), 400);
    assertJsonError(raw(guarded, head + "Content-Length: 9\r\n\r\n{}"), 400); // cut short
    assertThat(store.find(pending).orElseThrow().state().isTerminal()).isFalse();
  }

  @Test
  void a_body_over_the_limit_is_refused_with_413_and_the_answer_is_not_lost() throws Exception {
    String body = "{\"reason\":\"" + "x".repeat(20_000) + "\"}";
    Answer answer =
        raw(
            guarded,
            "POST /api/work-orders/"
                + pending.value()
                + "/cancel HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                + TOKEN
                + "\r\nContent-Length: "
                + body.length()
                + "\r\n\r\n"
                + body);

    assertJsonError(answer, 413);
  }

  @Test
  void transfer_codings_are_refused_with_411_for_chunked_and_501_for_the_rest() throws Exception {
    String head = "POST /health/live HTTP/1.1\r\nHost: localhost\r\n";

    assertJsonError(raw(open, head + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 411);
    assertJsonError(
        raw(
            open,
            head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        501);
    assertJsonError(raw(open, head + "Transfer-Encoding: gzip\r\n\r\n"), 501);
    assertJsonError(raw(open, head + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"), 501);
  }

  /**
   * The sample that once failed the build: the JDK's server answered it with an HTML 501 before any
   * handler ran, and the property allowed 501 only for codings other than chunked. The endpoint now
   * answers 501 in its own JSON, and the property's check accepts that answer.
   */
  @Test
  void two_chunked_transfer_encodings_get_a_json_501_that_the_hostile_property_accepts()
      throws Exception {
    Endpoint endpoint =
        new Endpoint("store with token", guarded, store, true, false, () -> pending, () -> null);
    Request request =
        new Request(
            "GET",
            "/health/live",
            "localhost",
            "Bearer " + TOKEN,
            "{n}",
            List.of("Transfer-Encoding: chunked", "Transfer-Encoding: chunked"),
            new byte[0]);

    Answer answer = HttpEndpointHostileInputProperties.send(endpoint, request, request.target());

    assertJsonError(answer, 501);
    HttpEndpointHostileInputProperties.assertCleanAnswer(request, answer, request);
  }

  @Test
  void two_host_headers_are_refused_whatever_their_values() throws Exception {
    String get = "GET /health/live HTTP/1.1\r\n";

    assertJsonError(raw(open, get + "Host: localhost\r\nHost: localhost\r\n\r\n"), 400);
    assertJsonError(raw(open, get + "Host: localhost\r\nHost: evil.example\r\n\r\n"), 400);
    assertJsonError(raw(guarded, get + "Host: evil.example\r\nHost: localhost\r\n\r\n"), 400);
  }

  @Test
  void two_authorization_headers_are_refused() throws Exception {
    assertJsonError(
        raw(
            guarded,
            "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                + TOKEN
                + "\r\nAuthorization: Bearer wrong\r\n\r\n"),
        400);
  }

  @Test
  void an_absolute_form_target_is_served_and_checked_by_its_authority() throws Exception {
    Answer local =
        raw(open, "GET http://localhost/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assertThat(local.status()).isEqualTo(200);
    assertThat(local.contentType()).startsWith("application/json");

    // Without a token, a foreign authority is refused against DNS rebinding, whatever Host says.
    assertJsonError(
        raw(open, "GET http://evil.example/api/queue/stats HTTP/1.1\r\nHost: localhost\r\n\r\n"),
        403);
    assertJsonError(raw(open, "GET http:///metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400);
  }

  @Test
  void targets_that_are_not_a_path_are_refused() throws Exception {
    assertJsonError(raw(open, "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400);
    assertJsonError(raw(open, "GET metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400);
    assertJsonError(raw(open, "GET /metrics#top HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400);
  }

  @Test
  void a_request_line_that_is_too_long_gets_414() throws Exception {
    String target = "/" + "x".repeat(HttpRequestReader.MAX_REQUEST_LINE);

    assertJsonError(raw(open, "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n"), 414);
  }

  @Test
  void header_lines_too_large_or_too_many_get_431() throws Exception {
    String get = "GET /health/live HTTP/1.1\r\nHost: localhost\r\n";

    assertJsonError(raw(open, get + "X-Long: " + "v".repeat(20_000) + "\r\n\r\n"), 431);
    assertJsonError(raw(open, get + "X-Many: v\r\n".repeat(101) + "\r\n"), 431);
  }

  @Test
  void non_ascii_and_control_characters_in_the_request_line_are_refused() throws Exception {
    assertJsonError(raw(open, "GET /m\u00e9trics HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400);
    assertJsonError(raw(open, "G\u00c9T /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400);
    assertJsonError(raw(open, "GET /metrics\u0000 HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400);
    assertJsonError(raw(open, "GET  /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400);
  }

  @Test
  void malformed_header_lines_are_refused() throws Exception {
    String get = "GET /health/live HTTP/1.1\r\nHost: localhost\r\n";

    assertJsonError(raw(open, get + "NoColon\r\n\r\n"), 400);
    assertJsonError(raw(open, get + "X-Folded: a\r\n  continued\r\n\r\n"), 400);
    assertJsonError(raw(open, get + "Bad Header: x\r\n\r\n"), 400);
    assertJsonError(raw(open, get + "X-Nul: a\u0000b\r\n\r\n"), 400);
    assertJsonError(raw(open, get + "Expect: the-unexpected\r\n\r\n"), 417);
  }

  @Test
  void http_1_0_is_served_and_other_versions_get_505() throws Exception {
    Answer old = raw(open, "GET /health/live HTTP/1.0\r\n\r\n");
    assertThat(old.status()).isEqualTo(200);
    assertThat(old.contentType()).startsWith("application/json");

    assertJsonError(raw(open, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
    assertJsonError(raw(open, "GET /health/live HTTP/2\r\nHost: localhost\r\n\r\n"), 505);
    assertJsonError(raw(open, "GET /health/live HTTP/1.1.1\r\nHost: localhost\r\n\r\n"), 400);
  }

  @Test
  void bytes_that_are_not_http_get_a_json_400_and_silence_gets_nothing() throws Exception {
    byte[] tlsHello = {0x16, 0x03, 0x01, 0x00, (byte) 0xa5, 0x01, 0x00, 0x00, (byte) 0xa1, 0x03};
    assertJsonError(raw(open, tlsHello), 400);
    assertJsonError(raw(open, "\r\n\r\n\r\n\r\n\r\n\r\n"), 400);
    assertJsonError(raw(open, "GET /health/live HTTP/1.1\r\nHost: loc"), 400); // cut short

    assertThat(raw(open, new byte[0]).status()).as("closed without a byte").isEqualTo(-1);
  }

  @Test
  void a_refused_head_request_gets_the_head_alone() throws Exception {
    Answer answer = raw(open, "HEAD /" + "x".repeat(9000) + " HTTP/1.1\r\nHost: localhost\r\n\r\n");

    assertThat(answer.status()).isEqualTo(414);
    assertThat(answer.contentType()).startsWith("application/json");
    assertThat(answer.body()).isEmpty();
  }

  @Test
  void a_client_that_stops_sending_gets_408_after_the_request_timeout() throws Exception {
    try (WorkgateHttpServer quick =
        WorkgateHttpServer.builder(store).port(0).requestTimeout(Duration.ofMillis(300)).build()) {
      try (Socket socket = connect(quick)) {
        socket.getOutputStream().write(ascii("GET /health/live HTTP/1.1\r\nHost: loc"));
        // The sending side stays open: the endpoint must give up by itself.
        assertJsonError(answer(socket), 408);
      }
    }
  }

  @Test
  void connections_past_the_busy_threads_and_the_waiting_queue_get_503_at_once() throws Exception {
    try (WorkgateHttpServer one = WorkgateHttpServer.builder(store).port(0).threads(1).build()) {
      List<Socket> held = new ArrayList<>();
      try {
        // One connection holds the only thread (it says nothing); the queue then fills.
        for (int i = 0; i < 1 + WorkgateHttpServer.MAX_WAITING_CONNECTIONS; i++) {
          Socket s = connect(one);
          held.add(s);
          if (i == 0) {
            s.getOutputStream().write(ascii("GET /health/live HTTP/1.1\r\n"));
          }
        }
        try (Socket extra = connect(one)) {
          assertJsonError(answer(extra), 503);
        }
      } finally {
        for (Socket s : held) {
          s.close();
        }
      }
    }
  }

  @Test
  void every_answer_carries_the_endpoints_headers_and_closes_the_connection() throws Exception {
    for (String request :
        List.of(
            "GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET /health/live HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n")) {
      try (Socket socket = connect(open)) {
        socket.getOutputStream().write(ascii(request));
        socket.shutdownOutput();
        String text =
            new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        String head = text.substring(0, text.indexOf("\r\n\r\n") + 2);

        assertThat(head)
            .contains("\r\nConnection: close\r\n")
            .contains("\r\nCache-Control: no-store\r\n")
            .contains("\r\nX-Content-Type-Options: nosniff\r\n")
            .containsPattern(
                "\r\nDate: [A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT\r\n")
            .containsPattern("\r\nContent-Length: " + (text.length() - head.length() - 2) + "\r\n");
      }
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** The endpoint's own error: the status, JSON, an error text, no exception's name. */
  static void assertJsonError(Answer answer, int status) throws IOException {
    assertThat(answer.status()).as("status; body %s", answer.body()).isEqualTo(status);
    assertThat(answer.contentType()).startsWith("application/json");
    JsonNode json = JsonViews.MAPPER.readTree(answer.body());
    assertThat(json.isObject()).as("a JSON object: %s", answer.body()).isTrue();
    assertThat(json.path("error").isTextual()).as("an error text: %s", answer.body()).isTrue();
    assertThat(answer.body()).doesNotContain("Exception", "java.", "sun.", "<");
  }

  private static Answer raw(WorkgateHttpServer server, String request) throws IOException {
    return raw(server, request.getBytes(StandardCharsets.UTF_8));
  }

  /** Sends the bytes, closes the sending side, reads the answer; status -1 for none. */
  private static Answer raw(WorkgateHttpServer server, byte[] request) throws IOException {
    try (Socket socket = connect(server)) {
      OutputStream out = socket.getOutputStream();
      out.write(request);
      out.flush();
      socket.shutdownOutput();
      return answer(socket);
    }
  }

  private static Socket connect(WorkgateHttpServer server) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
    socket.setSoTimeout(10_000);
    return socket;
  }

  private static Answer answer(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    in.transferTo(got);
    String text = got.toString(StandardCharsets.ISO_8859_1);
    if (text.isEmpty()) {
      return new Answer(-1, null, "");
    }
    assertThat(text).matches("(?s)HTTP/1\\.1 \\d{3} [^\r\n]*\r\n.*\r\n\r\n.*");
    return HttpEndpointHostileInputProperties.parse(text);
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }
}
