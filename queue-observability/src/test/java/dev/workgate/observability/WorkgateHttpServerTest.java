package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkgateHttpServerTest {
  static final String TOKEN = "s3cret-token-0123456789";
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path sandboxes;
  private final HttpClient http = HttpClient.newHttpClient();
  private final CountDownLatch release = new CountDownLatch(1);
  private final AtomicInteger flaky = new AtomicInteger();
  private Workgate workgate;
  private WorkgateHttpServer server;

  @BeforeEach
  void start() {
    workgate =
        Workgate.builder()
            .sandboxRoot(sandboxes)
            .maxConcurrent(2)
            .pollInterval(Duration.ofMillis(50))
            .retryPolicy(
                dev.workgate.retry.RetryPolicy.builder()
                    .maxAttempts(3)
                    .baseDelay(Duration.ofMillis(10))
                    .maxDelay(Duration.ofMillis(10))
                    .jitter(dev.workgate.retry.RetryPolicy.Jitter.none())
                    .build())
            .handler("ok", ctx -> WorkResult.ok("done"))
            .handler(
                "flaky",
                ctx ->
                    flaky.getAndIncrement() == 0
                        ? WorkResult.retryableFailure(ErrorCodes.NETWORK_ERROR, "first try fails")
                        : WorkResult.ok())
            .handler(
                "blocking",
                ctx -> {
                  release.await();
                  return WorkResult.ok();
                })
            .build();
    workgate.start();
  }

  @AfterEach
  void stop() {
    release.countDown();
    if (server != null) {
      server.close();
    }
    workgate.close();
  }

  private WorkgateHttpServer serve(WorkgateHttpServer.Builder b) {
    server = b.port(0).build();
    return server;
  }

  private HttpResponse<String> get(String path, String token) throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).GET();
    if (token != null) {
      r.header("Authorization", "Bearer " + token);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String token, String body) throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .POST(
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      r.header("Authorization", "Bearer " + token);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> r) throws IOException {
    assertThat(r.headers().firstValue("Content-Type")).contains("application/json; charset=utf-8");
    return JSON.readTree(r.body());
  }

  @Test
  void serves_a_work_order_and_its_timeline_with_durations() throws Exception {
    serve(WorkgateHttpServer.builder(workgate));
    WorkOrderId id = workgate.submit(WorkOrderSpec.builder("flaky").queue("default").build());
    workgate.await(id, WAIT);

    JsonNode view = json(get("/api/work-orders/" + id.value(), null));
    assertThat(view.get("id").asText()).isEqualTo(id.value());
    assertThat(view.get("state").asText()).isEqualTo("COMPLETED");
    assertThat(view.get("attempt").asInt()).isEqualTo(2);
    assertThat(view.get("lastError").get("code").asText()).isEqualTo(ErrorCodes.NETWORK_ERROR);
    assertThat(view.has("payload")).isFalse();

    JsonNode timeline = json(get("/api/work-orders/" + id.value() + "/timeline", null));
    assertThat(timeline.get("state").asText()).isEqualTo("COMPLETED");
    assertThat(timeline.get("steps"))
        .extracting(s -> s.get("type").asText() + ":" + s.get("to").asText())
        .containsExactly(
            "Submitted:PENDING",
            "Claimed:PREPARING",
            "Started:RUNNING",
            "AttemptFailed:WAITING_RETRY",
            "RetryReleased:PENDING",
            "Claimed:PREPARING",
            "Started:RUNNING",
            "Completed:COMPLETED");
    assertThat(timeline.get("steps").get(3).get("error").get("code").asText())
        .isEqualTo(ErrorCodes.NETWORK_ERROR);
    assertThat(timeline.get("steps").get(7).get("attempt").asInt()).isEqualTo(2);
    assertThat(timeline.get("totalSeconds").asDouble()).isGreaterThanOrEqualTo(0.0);
    assertThat(timeline.get("steps").get(0).get("sincePreviousSeconds").asDouble()).isZero();
  }

  @Test
  void unknown_ids_get_404_and_malformed_ids_400() throws Exception {
    serve(WorkgateHttpServer.builder(workgate));
    HttpResponse<String> unknown = get("/api/work-orders/" + WorkOrderId.random().value(), null);
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(json(unknown).get("error").asText()).startsWith("no work order ");

    HttpResponse<String> bad = get("/api/work-orders/%00%01", null);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(json(bad).get("parameter").asText()).isEqualTo("id");

    assertThat(
            get("/api/work-orders/" + WorkOrderId.random().value() + "/timeline", null)
                .statusCode())
        .isEqualTo(404);
    assertThat(get("/nothing/here", null).statusCode()).isEqualTo(404);
  }

  @Test
  void queue_stats_report_counts_slots_and_the_scheduler() throws Exception {
    serve(WorkgateHttpServer.builder(workgate));
    WorkOrderId id = workgate.submit(WorkOrderSpec.builder("ok").build());
    workgate.await(id, WAIT);

    JsonNode stats = json(get("/api/queue/stats", null));
    assertThat(stats.get("totals").get("COMPLETED").asLong()).isEqualTo(1);
    assertThat(stats.get("queues").get("default").get("COMPLETED").asLong()).isEqualTo(1);
    assertThat(stats.get("maxSlots").asInt()).isEqualTo(2);
    assertThat(stats.get("scheduler").get("running").asBoolean()).isTrue();
    assertThat(stats.get("scheduler").get("nodeId").asText()).isEqualTo(workgate.nodeId());
  }

  @Test
  void health_probes_answer_200_when_live_and_503_when_the_loop_is_stopped() throws Exception {
    serve(WorkgateHttpServer.builder(workgate));
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(get("/health/live", null).statusCode()).isEqualTo(200));
    assertThat(json(get("/health/ready", null)).get("status").asText()).isNotEqualTo("UNHEALTHY");

    workgate.shutdown(Duration.ZERO);

    HttpResponse<String> live = get("/health/live", null);
    assertThat(live.statusCode()).isEqualTo(503);
    assertThat(json(live).get("status").asText()).isEqualTo("UNHEALTHY");
    assertThat(get("/health/ready", null).statusCode()).isEqualTo(503);
  }

  @Test
  void with_a_token_protected_routes_answer_401_without_it_or_with_a_wrong_one() throws Exception {
    serve(WorkgateHttpServer.builder(workgate).token(TOKEN));
    String id = WorkOrderId.random().value();
    for (String path :
        new String[] {"/metrics", "/api/queue/stats", "/api/work-orders/" + id, "/api/audit"}) {
      HttpResponse<String> none = get(path, null);
      assertThat(none.statusCode()).as(path).isEqualTo(401);
      assertThat(none.headers().firstValue("WWW-Authenticate")).isPresent();
      assertThat(get(path, TOKEN + "x").statusCode()).as(path).isEqualTo(401);
      assertThat(get(path, TOKEN.substring(1)).statusCode()).as(path).isEqualTo(401);
    }
    assertThat(get("/api/queue/stats", TOKEN).statusCode()).isEqualTo(200);
    assertThat(get("/metrics", TOKEN).statusCode()).isEqualTo(200);
    // Probes stay open so that orchestrators can ask them.
    assertThat(get("/health/live", null).statusCode()).isIn(200, 503);
    assertThat(post("/api/work-orders/" + id + "/cancel", null, null).statusCode()).isEqualTo(401);
    assertThat(
            post("/api/work-orders/" + id + "/cancel", "wrong-token-0123456789", null).statusCode())
        .isEqualTo(401);
  }

  @Test
  void cancel_needs_the_token_and_cancels_running_work() throws Exception {
    serve(WorkgateHttpServer.builder(workgate).token(TOKEN));
    WorkOrderId id = workgate.submit(WorkOrderSpec.builder("blocking").build());
    await()
        .atMost(WAIT)
        .until(() -> workgate.find(id).orElseThrow().state() == WorkOrderState.RUNNING);

    HttpResponse<String> r =
        post("/api/work-orders/" + id.value() + "/cancel", TOKEN, "{\"reason\":\"operator\"}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(json(r).get("cancelled").asBoolean()).isTrue();
    assertThat(workgate.await(id, WAIT).state()).isEqualTo(WorkOrderState.CANCELLED);

    HttpResponse<String> again = post("/api/work-orders/" + id.value() + "/cancel", TOKEN, null);
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(json(again).get("cancelled").asBoolean()).isFalse();
    assertThat(
            post("/api/work-orders/" + WorkOrderId.random().value() + "/cancel", TOKEN, null)
                .statusCode())
        .isEqualTo(404);
  }

  @Test
  void without_a_token_cancel_is_refused_and_changes_nothing() throws Exception {
    serve(WorkgateHttpServer.builder(workgate));
    WorkOrderId id =
        workgate.submit(
            WorkOrderSpec.builder("ok")
                .notBefore(workgate.clock().instant().plus(Duration.ofHours(1)))
                .build());
    HttpResponse<String> r = post("/api/work-orders/" + id.value() + "/cancel", null, null);
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(json(r).get("error").asText()).contains("without a token");
    assertThat(workgate.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.PENDING);
  }

  @Test
  void bad_cancel_bodies_get_400_or_413_and_change_nothing() throws Exception {
    serve(WorkgateHttpServer.builder(workgate).token(TOKEN));
    WorkOrderId id =
        workgate.submit(
            WorkOrderSpec.builder("ok")
                .notBefore(workgate.clock().instant().plus(Duration.ofHours(1)))
                .build());
    String path = "/api/work-orders/" + id.value() + "/cancel";
    assertThat(post(path, TOKEN, "not json").statusCode()).isEqualTo(400);
    assertThat(post(path, TOKEN, "[1,2]").statusCode()).isEqualTo(400);
    assertThat(json(post(path, TOKEN, "{\"why\":\"x\"}")).get("parameter").asText())
        .isEqualTo("why");
    assertThat(json(post(path, TOKEN, "{\"reason\":5}")).get("parameter").asText())
        .isEqualTo("reason");
    assertThat(post(path, TOKEN, "{\"reason\":\"" + "x".repeat(501) + "\"}").statusCode())
        .isEqualTo(400);
    assertThat(post(path, TOKEN, "{\"reason\":\"" + "x".repeat(5000) + "\"}").statusCode())
        .isEqualTo(413);
    assertThat(workgate.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.PENDING);
    assertThat(workgate.find(id).orElseThrow().version()).isEqualTo(1);
  }

  @Test
  void a_cancel_body_is_one_json_object_naming_each_field_once() throws Exception {
    serve(WorkgateHttpServer.builder(workgate).token(TOKEN));
    WorkOrderId id =
        workgate.submit(
            WorkOrderSpec.builder("ok")
                .notBefore(workgate.clock().instant().plus(Duration.ofHours(1)))
                .build());
    String path = "/api/work-orders/" + id.value() + "/cancel";
    // Read leniently, each of these cancelled: the first value counted, the rest went unchecked.
    for (String body :
        List.of(
            "{\"reason\":\"x\"} trailing",
            "{\"reason\":\"x\"}{\"force\":true}",
            "{\"reason\":\"x\"} [1]",
            "{\"reason\":\"a\",\"reason\":\"b\"}")) {
      HttpResponse<String> r = post(path, TOKEN, body);
      assertThat(r.statusCode()).as(body).isEqualTo(400);
      assertThat(json(r).get("parameter").asText()).as(body).isEqualTo("body");
    }
    assertThat(workgate.find(id).orElseThrow().version()).isEqualTo(1);
    // White space around the one object is not a second value.
    assertThat(post(path, TOKEN, " {\"reason\":\"x\"}\r\n").statusCode()).isEqualTo(200);
    assertThat(workgate.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.CANCELLED);
  }

  @Test
  void wrong_methods_get_405_with_allow_and_long_queries_414() throws Exception {
    serve(WorkgateHttpServer.builder(workgate));
    HttpResponse<String> r = post("/api/queue/stats", null, "{}");
    assertThat(r.statusCode()).isEqualTo(405);
    assertThat(r.headers().firstValue("Allow")).contains("GET, HEAD");
    assertThat(
            get("/api/work-orders/" + WorkOrderId.random().value() + "/cancel", null).statusCode())
        .isEqualTo(405);
    assertThat(get("/api/audit?limit=" + "1".repeat(5000), null).statusCode()).isEqualTo(414);
    assertThat(json(get("/api/queue/stats?x=1", null)).get("parameter").asText()).isEqualTo("x");
  }

  @Test
  void a_non_loopback_bind_without_a_token_fails_at_build_with_a_clear_message() {
    assertThatThrownBy(
            () -> WorkgateHttpServer.builder(workgate).bindAddress("0.0.0.0").port(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("refusing to bind 0.0.0.0 without a token");
    assertThatThrownBy(() -> WorkgateHttpServer.builder(workgate).token("short"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least 16 characters")
        .hasMessageNotContaining("short");
    assertThatThrownBy(() -> WorkgateHttpServer.builder(workgate).port(70_000))
        .hasMessageContaining("port must be within 0..65535, got 70000");
  }

  @Test
  void a_non_loopback_bind_with_a_token_serves() throws Exception {
    serve(WorkgateHttpServer.builder(workgate).bindAddress("0.0.0.0").token(TOKEN));
    assertThat(get("/api/queue/stats", TOKEN).statusCode()).isEqualTo(200);
    assertThat(get("/api/queue/stats", null).statusCode()).isEqualTo(401);
  }

  @Test
  void audit_filters_by_work_order_and_type_and_pages_with_the_cursor() throws Exception {
    serve(WorkgateHttpServer.builder(workgate));
    WorkOrderId first = workgate.submit(WorkOrderSpec.builder("ok").build());
    workgate.await(first, WAIT);
    WorkOrderId second = workgate.submit(WorkOrderSpec.builder("ok").build());
    workgate.await(second, WAIT);

    JsonNode own = json(get("/api/audit?workOrder=" + first.value() + "&order=oldest", null));
    assertThat(own.get("events"))
        .extracting(e -> e.get("type").asText())
        .containsExactly("Submitted", "Claimed", "Started", "Completed");
    assertThat(own.get("events"))
        .allSatisfy(e -> assertThat(e.get("workOrderId").asText()).isEqualTo(first.value()));

    JsonNode completed = json(get("/api/audit?type=Completed&order=newest", null));
    assertThat(completed.get("events"))
        .extracting(e -> e.get("workOrderId").asText())
        .containsExactly(second.value(), first.value());
    assertThat(json(get("/api/audit?type=COMPLETED,Submitted", null)).get("events")).hasSize(4);

    // Eight events, three a page: three pages, every event once, in order.
    java.util.List<String> seen = new java.util.ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonNode page =
          json(
              get(
                  "/api/audit?order=oldest&limit=3" + (cursor == null ? "" : "&after=" + cursor),
                  null));
      page.get("events").forEach(e -> seen.add(e.get("position").asText()));
      cursor = page.hasNonNull("nextCursor") ? page.get("nextCursor").asText() : null;
      pages++;
    } while (cursor != null && pages < 10);
    assertThat(pages).isEqualTo(3);
    assertThat(seen).hasSize(8).doesNotHaveDuplicates();

    String from = workgate.clock().instant().plus(Duration.ofHours(1)).toString();
    assertThat(json(get("/api/audit?from=" + from, null)).get("events")).isEmpty();
  }

  @Test
  void bad_audit_parameters_get_400_naming_the_parameter() throws Exception {
    serve(WorkgateHttpServer.builder(workgate));
    String[][] cases = {
      {"limit=0", "limit"},
      {"limit=1001", "limit"},
      {"limit=ten", "limit"},
      {"order=sideways", "order"},
      {"type=Exploded", "type"},
      {"from=yesterday", "from"},
      {"from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to"},
      {"workOrder=%01", "workOrder"},
      {"after=not-a-cursor", "after"},
      {"limit=1&limit=2", "limit"},
      {"colour=red", "colour"},
    };
    for (String[] c : cases) {
      HttpResponse<String> r = get("/api/audit?" + c[0], null);
      assertThat(r.statusCode()).as(c[0]).isEqualTo(400);
      assertThat(json(r).get("parameter").asText()).as(c[0]).isEqualTo(c[1]);
    }
  }

  private int rawGet(String path, String host) throws Exception {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(10_000);
      socket
          .getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                  .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      String status =
          new java.io.BufferedReader(
                  new java.io.InputStreamReader(
                      socket.getInputStream(), java.nio.charset.StandardCharsets.ISO_8859_1))
              .readLine();
      return Integer.parseInt(status.substring(9, 12));
    }
  }

  @Test
  void without_a_token_only_loopback_host_names_are_served_against_dns_rebinding()
      throws Exception {
    serve(WorkgateHttpServer.builder(workgate));
    assertThat(rawGet("/api/queue/stats", "attacker.example:" + server.port())).isEqualTo(403);
    assertThat(rawGet("/health/live", "attacker.example")).isEqualTo(403);
    assertThat(rawGet("/api/queue/stats", "localhost:" + server.port())).isEqualTo(200);
    assertThat(rawGet("/api/queue/stats", "127.0.0.1")).isEqualTo(200);
    assertThat(rawGet("/api/queue/stats", "[::1]:" + server.port())).isEqualTo(200);
  }

  @Test
  void with_a_token_any_host_name_may_ask() throws Exception {
    serve(WorkgateHttpServer.builder(workgate).bindAddress("0.0.0.0").token(TOKEN));
    assertThat(rawGet("/health/live", "workgate.internal:9464")).isIn(200, 503);
  }

  @Test
  void a_view_says_whether_there_is_a_result_but_never_serves_it() throws Exception {
    serve(WorkgateHttpServer.builder(workgate));
    WorkOrderId id = workgate.submit(WorkOrderSpec.builder("ok").build());
    workgate.await(id, WAIT);

    JsonNode view = json(get("/api/work-orders/" + id.value(), null));

    assertThat(view.get("hasResult").asBoolean()).isTrue();
    assertThat(view.has("result")).isFalse();
    assertThat(get("/api/work-orders/" + id.value(), null).body()).doesNotContain("done");
  }

  @Test
  void a_port_in_use_fails_the_build_with_the_address() {
    serve(WorkgateHttpServer.builder(workgate));
    int taken = server.port();
    assertThatThrownBy(() -> WorkgateHttpServer.builder(workgate).port(taken).build())
        .isInstanceOf(java.io.UncheckedIOException.class)
        .hasMessageContaining("cannot listen on 127.0.0.1:" + taken);
  }
}
