package dev.workgate.observability;

import static dev.workgate.core.testing.WorkOrderFixtures.claimed;
import static dev.workgate.core.testing.WorkOrderFixtures.completed;
import static dev.workgate.core.testing.WorkOrderFixtures.failedWithRetry;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.started;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.observability.WorkgateMetrics.WorkgateMeter;
import dev.workgate.spi.ExpectedVersion;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The endpoint over a store without a node: the same routes and rules as over a node, the counts
 * without what only a node knows, cancel through the store-level cancel, the store's meters alone.
 */
class StoreOnlyHttpServerTest extends HealthTestSupport {
  static final String TOKEN = WorkgateHttpServerTest.TOKEN;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http = HttpClient.newHttpClient();
  private final AtomicBoolean failing = new AtomicBoolean();
  private WorkOrderStore memory;
  private WorkOrderStore store;
  private Instant lease;
  private Prepared ids;
  private WorkgateHttpServer server;

  /** The work orders the store holds at the start of each test. */
  record Prepared(
      WorkOrderId pending, WorkOrderId running, WorkOrderId waiting, WorkOrderId completed) {}

  @BeforeEach
  void prepare() {
    memory = memoryStore();
    store =
        around(
            memory,
            (method, args, proceed) -> {
              if (failing.get()) {
                throw new StoreException("database unreachable (test)");
              }
              return proceed.call();
            });
    lease = clock.instant().plus(Duration.ofHours(1));
    ids =
        new Prepared(
            write("builds"),
            write("builds", claimed("node-a", lease), started()),
            write("agents", claimed("node-a", lease), started(), failedWithRetry(lease)),
            write("builds", claimed("node-a", lease), started(), completed()));
  }

  private WorkOrderId write(String queue, WorkOrderEvent... then) {
    WorkOrderId id = newId();
    List<WorkOrderEvent> events = new ArrayList<>();
    events.add(submitted(queue));
    events.addAll(List.of(then));
    memory.append(id, ExpectedVersion.none(), events);
    return id;
  }

  private WorkgateHttpServer serve(WorkgateHttpServer.Builder b) {
    server = b.clock(clock).port(0).build();
    onCleanup(server);
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

  private String cancelPath(WorkOrderId id) {
    return "/api/work-orders/" + id.value() + "/cancel";
  }

  @Test
  void serves_a_work_order_and_its_timeline_and_404_or_400_for_others() throws Exception {
    serve(WorkgateHttpServer.builder(store));

    JsonNode view = json(get("/api/work-orders/" + ids.running().value(), null));
    assertThat(view.get("state").asText()).isEqualTo("RUNNING");
    assertThat(view.get("leaseOwner").asText()).isEqualTo("node-a");
    assertThat(view.has("payload")).isFalse();
    JsonNode timeline =
        json(get("/api/work-orders/" + ids.completed().value() + "/timeline", null));
    assertThat(timeline.get("steps"))
        .extracting(s -> s.get("type").asText() + ":" + s.get("to").asText())
        .containsExactly(
            "Submitted:PENDING", "Claimed:PREPARING", "Started:RUNNING", "Completed:COMPLETED");

    String unknown = newId().value();
    assertThat(get("/api/work-orders/" + unknown, null).statusCode()).isEqualTo(404);
    assertThat(get("/api/work-orders/" + unknown + "/timeline", null).statusCode()).isEqualTo(404);
    HttpResponse<String> bad = get("/api/work-orders/%00%01", null);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(json(bad).get("parameter").asText()).isEqualTo("id");
    assertThat(get("/nothing/here", null).statusCode()).isEqualTo(404);
  }

  @Test
  void queue_stats_have_the_counts_and_nothing_only_a_node_knows() throws Exception {
    serve(WorkgateHttpServer.builder(store));

    JsonNode stats = json(get("/api/queue/stats", null));

    assertThat(stats.get("queues").get("builds").get("PENDING").asLong()).isEqualTo(1);
    assertThat(stats.get("queues").get("builds").get("RUNNING").asLong()).isEqualTo(1);
    assertThat(stats.get("queues").get("builds").get("COMPLETED").asLong()).isEqualTo(1);
    assertThat(stats.get("queues").get("agents").get("WAITING_RETRY").asLong()).isEqualTo(1);
    assertThat(stats.get("totals").get("PENDING").asLong()).isEqualTo(1);
    assertThat(stats.get("totals").get("FAILED").asLong()).isZero();
    assertThat(stats.get("at").asText()).isEqualTo(clock.instant().toString());
    Set<String> fields = new TreeSet<>();
    stats.fieldNames().forEachRemaining(fields::add);
    assertThat(fields).containsExactly("at", "queues", "totals");
  }

  @Test
  void with_a_token_protected_routes_answer_401_and_the_probes_stay_open() throws Exception {
    serve(WorkgateHttpServer.builder(store).token(TOKEN));
    String id = ids.pending().value();
    for (String path :
        new String[] {"/metrics", "/api/queue/stats", "/api/work-orders/" + id, "/api/audit"}) {
      HttpResponse<String> none = get(path, null);
      assertThat(none.statusCode()).as(path).isEqualTo(401);
      assertThat(none.headers().firstValue("WWW-Authenticate")).isPresent();
      assertThat(get(path, TOKEN + "x").statusCode()).as(path).isEqualTo(401);
      assertThat(get(path, TOKEN).statusCode()).as(path).isEqualTo(200);
    }
    assertThat(get("/health/live", null).statusCode()).isEqualTo(200);
    assertThat(get("/health/ready", null).statusCode()).isEqualTo(200);
    assertThat(post(cancelPath(ids.pending()), null, null).statusCode()).isEqualTo(401);
    assertThat(memory.find(ids.pending()).orElseThrow().state()).isEqualTo(WorkOrderState.PENDING);
  }

  @Test
  void without_a_token_cancel_is_refused_and_changes_nothing() throws Exception {
    serve(WorkgateHttpServer.builder(store));
    HttpResponse<String> r = post(cancelPath(ids.pending()), null, null);
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(json(r).get("error").asText()).contains("without a token");
    assertThat(memory.readStream(ids.pending())).hasSize(1);
  }

  @Test
  void cancel_of_pending_work_cancels_it_at_once() throws Exception {
    serve(WorkgateHttpServer.builder(store).token(TOKEN));

    HttpResponse<String> r = post(cancelPath(ids.pending()), TOKEN, "{\"reason\":\"operator\"}");

    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode body = json(r);
    assertThat(body.get("cancelled").asBoolean()).isTrue();
    assertThat(body.get("outcome").asText()).isEqualTo("CANCELLED");
    assertThat(body.get("state").asText()).isEqualTo("CANCELLED");
    assertThat(memory.readStream(ids.pending()).get(1).event())
        .isEqualTo(new WorkOrderEvent.Cancelled("operator"));
  }

  @Test
  void cancel_of_running_work_records_a_request_for_its_owner_node() throws Exception {
    serve(WorkgateHttpServer.builder(store).token(TOKEN));

    JsonNode first = json(post(cancelPath(ids.running()), TOKEN, null));
    assertThat(first.get("cancelled").asBoolean()).isTrue();
    assertThat(first.get("outcome").asText()).isEqualTo("CANCELLATION_REQUESTED");
    assertThat(first.get("state").asText()).isEqualTo("RUNNING");
    assertThat(memory.find(ids.running()).orElseThrow().cancellationRequested())
        .contains("cancelled over HTTP");

    JsonNode again = json(post(cancelPath(ids.running()), TOKEN, "{\"reason\":\"twice\"}"));
    assertThat(again.get("outcome").asText()).isEqualTo("ALREADY_REQUESTED");
    assertThat(memory.readStream(ids.running()))
        .extracting(e -> e.event().type())
        .containsExactly(
            EventType.SUBMITTED,
            EventType.CLAIMED,
            EventType.STARTED,
            EventType.CANCELLATION_REQUESTED);

    JsonNode ended = json(post(cancelPath(ids.completed()), TOKEN, null));
    assertThat(ended.get("cancelled").asBoolean()).isFalse();
    assertThat(ended.get("outcome").asText()).isEqualTo("ALREADY_ENDED");
    assertThat(post(cancelPath(newId()), TOKEN, null).statusCode()).isEqualTo(404);
  }

  @Test
  void bad_cancel_bodies_get_400_or_413_and_change_nothing() throws Exception {
    serve(WorkgateHttpServer.builder(store).token(TOKEN));
    String path = cancelPath(ids.waiting());
    assertThat(post(path, TOKEN, "not json").statusCode()).isEqualTo(400);
    assertThat(json(post(path, TOKEN, "{\"why\":\"x\"}")).get("parameter").asText())
        .isEqualTo("why");
    assertThat(post(path, TOKEN, "{\"reason\":\"" + "x".repeat(501) + "\"}").statusCode())
        .isEqualTo(400);
    assertThat(post(path, TOKEN, "{\"reason\":\"" + "x".repeat(5000) + "\"}").statusCode())
        .isEqualTo(413);
    assertThat(memory.find(ids.waiting()).orElseThrow().state())
        .isEqualTo(WorkOrderState.WAITING_RETRY);
  }

  @Test
  void wrong_methods_get_405_long_queries_414_and_unknown_parameters_400() throws Exception {
    serve(WorkgateHttpServer.builder(store));
    HttpResponse<String> r = post("/api/queue/stats", null, "{}");
    assertThat(r.statusCode()).isEqualTo(405);
    assertThat(r.headers().firstValue("Allow")).contains("GET, HEAD");
    assertThat(get(cancelPath(ids.pending()), null).statusCode()).isEqualTo(405);
    assertThat(get("/api/audit?limit=" + "1".repeat(5000), null).statusCode()).isEqualTo(414);
    assertThat(json(get("/api/queue/stats?x=1", null)).get("parameter").asText()).isEqualTo("x");
    assertThat(json(get("/api/audit?order=sideways", null)).get("parameter").asText())
        .isEqualTo("order");
  }

  @Test
  void audit_filters_and_pages_with_the_cursor() throws Exception {
    serve(WorkgateHttpServer.builder(store));

    JsonNode own =
        json(get("/api/audit?workOrder=" + ids.completed().value() + "&order=oldest", null));
    assertThat(own.get("events"))
        .extracting(e -> e.get("type").asText())
        .containsExactly("Submitted", "Claimed", "Started", "Completed");

    // Twelve events, five a page: three pages, every event once.
    List<String> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonNode page =
          json(
              get(
                  "/api/audit?order=oldest&limit=5" + (cursor == null ? "" : "&after=" + cursor),
                  null));
      page.get("events").forEach(e -> seen.add(e.get("position").asText()));
      cursor = page.hasNonNull("nextCursor") ? page.get("nextCursor").asText() : null;
      pages++;
    } while (cursor != null && pages < 10);
    assertThat(pages).isEqualTo(3);
    assertThat(seen).hasSize(12).doesNotHaveDuplicates();
  }

  @Test
  void the_scrape_has_the_store_gauges_and_none_of_the_node_meters() throws Exception {
    serve(WorkgateHttpServer.builder(store));
    clock.advance(Duration.ofMinutes(2)); // the pending work order has waited two minutes

    HttpResponse<String> r = get("/metrics", null);

    assertThat(r.statusCode()).isEqualTo(200);
    PrometheusText text = PrometheusText.parse(r.body());
    assertThat(text.value("workgate_work_orders", "queue", "builds", "state", "PENDING"))
        .isEqualTo(1.0);
    assertThat(text.value("workgate_work_orders", "queue", "agents", "state", "WAITING_RETRY"))
        .isEqualTo(1.0);
    assertThat(text.value("workgate_retries_pending")).isEqualTo(1.0);
    assertThat(text.value("workgate_work_orders_oldest_pending_age_seconds", "queue", "builds"))
        .isEqualTo(120.0);
    Set<String> store = new TreeSet<>();
    for (WorkgateMeter m : WorkgateMeter.values()) {
      if (m.source() == WorkgateMeter.Source.STORE) {
        store.add(m.prometheusName());
      }
    }
    assertThat(text.names()).isEqualTo(store);
  }

  @Test
  void liveness_is_healthy_without_components_and_readiness_is_the_store_ping() throws Exception {
    serve(WorkgateHttpServer.builder(store));

    HttpResponse<String> live = get("/health/live", null);
    assertThat(live.statusCode()).isEqualTo(200);
    assertThat(json(live).get("status").asText()).isEqualTo("HEALTHY");
    assertThat(json(live).get("components")).isEmpty();
    JsonNode ready = json(get("/health/ready", null));
    assertThat(ready.get("status").asText()).isEqualTo("HEALTHY");
    assertThat(ready.get("components"))
        .extracting(c -> c.get("name").asText())
        .containsExactly(WorkgateHealth.STORE);
  }

  @Test
  void a_failing_store_gives_503_and_a_live_but_unready_endpoint() throws Exception {
    serve(WorkgateHttpServer.builder(store).token(TOKEN));
    failing.set(true);

    for (String path :
        new String[] {
          "/api/queue/stats",
          "/api/work-orders/" + ids.pending().value(),
          "/api/work-orders/" + ids.pending().value() + "/timeline",
          "/api/audit"
        }) {
      HttpResponse<String> r = get(path, TOKEN);
      assertThat(r.statusCode()).as(path).isEqualTo(503);
      assertThat(json(r).get("error").asText())
          .as(path)
          .isEqualTo("the store did not answer; try again");
    }
    assertThat(post(cancelPath(ids.pending()), TOKEN, null).statusCode()).isEqualTo(503);
    HttpResponse<String> ready = get("/health/ready", null);
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(json(ready).get("issues").get(0).get("component").asText())
        .isEqualTo(WorkgateHealth.STORE);
    assertThat(get("/health/live", null).statusCode()).isEqualTo(200);

    failing.set(false);
    assertThat(get("/api/queue/stats", TOKEN).statusCode()).isEqualTo(200);
  }

  @Test
  void without_a_token_only_loopback_host_names_are_served() throws Exception {
    serve(WorkgateHttpServer.builder(store));
    assertThat(rawGet("/api/queue/stats", "attacker.example:" + server.port())).isEqualTo(403);
    assertThat(rawGet("/api/queue/stats", "localhost:" + server.port())).isEqualTo(200);
  }

  @Test
  void a_non_loopback_bind_needs_a_token_and_a_taken_port_fails_the_build() {
    assertThatThrownBy(
            () -> WorkgateHttpServer.builder(store).bindAddress("0.0.0.0").port(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("refusing to bind 0.0.0.0 without a token");
    serve(WorkgateHttpServer.builder(store));
    int taken = server.port();
    assertThatThrownBy(() -> WorkgateHttpServer.builder(store).port(taken).build())
        .isInstanceOf(java.io.UncheckedIOException.class)
        .hasMessageContaining("cannot listen on 127.0.0.1:" + taken);
  }

  @Test
  void closing_the_endpoint_leaves_the_store_open() throws Exception {
    serve(WorkgateHttpServer.builder(store));
    assertThat(get("/api/queue/stats", null).statusCode()).isEqualTo(200);

    server.close();

    assertThat(memory.find(ids.pending())).isPresent();
    assertThat(memory.counts().queues()).contains("builds");
  }

  private int rawGet(String path, String host) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(10_000);
      socket
          .getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
      String status =
          new BufferedReader(
                  new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1))
              .readLine();
      return Integer.parseInt(status.substring(9, 12));
    }
  }
}
