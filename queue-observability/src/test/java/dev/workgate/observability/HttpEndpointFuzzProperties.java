package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.assertj.core.api.Condition;

/**
 * Random and malformed requests against a live endpoint: the answer is always a clean status a
 * client caused (never 500), always in time, and the store is never changed by a request that is
 * refused.
 */
class HttpEndpointFuzzProperties {
  /**
   * Every answer these requests may legally get: success, or any refusal of the client's request (a
   * 4xx, whichever names the problem best, 408 for a client too slow on a loaded machine among
   * them). Only a 5xx is the endpoint's fault.
   */
  private static final Condition<Integer> CLIENT_OR_OK =
      new Condition<>(s -> s == 200 || (s >= 400 && s <= 499), "200 or a 4xx");

  private static Workgate workgate;
  private static WorkgateHttpServer server;
  private static WorkOrderId known;

  @BeforeContainer
  static void start() throws Exception {
    Path root = Files.createTempDirectory("workgate-fuzz");
    workgate =
        Workgate.builder()
            .sandboxRoot(root)
            .pollInterval(Duration.ofMillis(50))
            .handler("ok", ctx -> WorkResult.ok())
            .build();
    workgate.start();
    known =
        workgate.submit(
            WorkOrderSpec.builder("ok")
                .notBefore(workgate.clock().instant().plus(Duration.ofDays(1)))
                .build());
    server =
        WorkgateHttpServer.builder(workgate).port(0).token(WorkgateHttpServerTest.TOKEN).build();
  }

  @AfterContainer
  static void stop() {
    server.close();
    workgate.close();
  }

  @Property(tries = 300)
  void random_request_targets_never_get_a_500(@ForAll("targets") String target) throws Exception {
    int status = send("GET", target, true, "");
    assertThat(status).as(target).is(CLIENT_OR_OK);
    // Without the right token: a POST that reached the cancel route must be refused.
    status = send("POST", target, false, "{\"reason\":\"fuzz\"}");
    assertThat(status).as(target).is(CLIENT_OR_OK);
    assertThat(workgate.find(known).orElseThrow().version()).isEqualTo(1);
  }

  @Property(tries = 200)
  void random_audit_parameters_never_get_a_500(
      @ForAll("names") String name, @ForAll("values") String value) throws Exception {
    int status = send("GET", "/api/audit?" + name + "=" + value, true, "");
    assertThat(status).as(name + "=" + value).is(CLIENT_OR_OK);
  }

  @Property(tries = 100)
  void random_cancel_bodies_never_get_a_500_nor_change_the_store(@ForAll("bodies") String body)
      throws Exception {
    // With the token, on a work order that does not exist: bodies are checked before the lookup.
    int status =
        send("POST", "/api/work-orders/" + WorkOrderId.random().value() + "/cancel", true, body);
    assertThat(status).isIn(400, 404, 413);
    assertThat(workgate.find(known).orElseThrow().version()).isEqualTo(1);
  }

  @Provide
  Arbitrary<String> targets() {
    Arbitrary<String> segment =
        Arbitraries.oneOf(
            Arbitraries.of(
                "api",
                "work-orders",
                "audit",
                "queue",
                "stats",
                "timeline",
                "cancel",
                "health",
                "live",
                "ready",
                "metrics",
                "..",
                ".",
                "%",
                "%zz",
                "%00",
                "%2F",
                "%ff%fe",
                ""),
            Arbitraries.strings().withCharRange('!', '~').excludeChars('?', '#').ofMaxLength(40),
            Arbitraries.just(known.value()));
    Arbitrary<String> path = segment.list().ofMaxSize(6).map(l -> "/" + String.join("/", l));
    Arbitrary<String> query =
        Arbitraries.strings().withCharRange('!', '~').excludeChars('#').ofMaxLength(60);
    return Arbitraries.oneOf(
        path,
        path.flatMap(p -> query.map(q -> p + "?" + q)),
        Arbitraries.just("/" + "a".repeat(9000)));
  }

  @Provide
  Arbitrary<String> names() {
    return Arbitraries.oneOf(
        Arbitraries.of("workOrder", "type", "from", "to", "order", "limit", "after", "x", ""),
        Arbitraries.strings().withCharRange('a', 'z').ofMaxLength(10));
  }

  @Provide
  Arbitrary<String> values() {
    return Arbitraries.oneOf(
        Arbitraries.of(
            "0",
            "-1",
            "1001",
            "99999999999999999999",
            "newest",
            "oldest",
            "Submitted",
            "Completed,Cancelled",
            "ATTEMPT_FAILED",
            "2026-01-01T00:00:00Z",
            "2026-13-01",
            "%",
            "%zz",
            "%00",
            "+",
            "",
            known.value(),
            "AAAA",
            "1-1",
            "9223372036854775807-1"),
        Arbitraries.strings().withCharRange('!', '~').excludeChars('&', '#', '=').ofMaxLength(30));
  }

  @Provide
  Arbitrary<String> bodies() {
    return Arbitraries.oneOf(
        Arbitraries.of(
            "",
            "{",
            "null",
            "[]",
            "{\"reason\":null}",
            "{\"reason\":\"\"}",
            "{\"reason\":[1]}",
            "{\"reason\":{\"a\":1}}",
            "{\"other\":1}",
            "\u0000",
            "{\"reason\":\"x\"}}"),
        Arbitraries.strings().ofMaxLength(200));
  }

  /** Sends a raw request, so that targets HttpClient would refuse still reach the server. */
  private static int send(String method, String target, boolean withToken, String body)
      throws Exception {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
      socket.setSoTimeout(10_000);
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      StringBuilder request =
          new StringBuilder()
              .append(method)
              .append(' ')
              .append(target)
              .append(" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
      if (withToken) {
        request
            .append("Authorization: Bearer ")
            .append(WorkgateHttpServerTest.TOKEN)
            .append("\r\n");
      } else {
        request.append("Authorization: Bearer wrong-but-long-enough-token\r\n");
      }
      request.append("Content-Length: ").append(bytes.length).append("\r\n\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.write(bytes);
      out.flush();
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
      String statusLine = in.readLine();
      assertThat(statusLine).as("status line for %s %s", method, target).startsWith("HTTP/1.1 ");
      return Integer.parseInt(statusLine.substring(9, 12));
    }
  }
}
