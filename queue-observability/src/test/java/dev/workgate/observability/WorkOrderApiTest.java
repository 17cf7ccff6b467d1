package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The work-order routes over a real node on SQLite: list and search, counts, failures, throughput,
 * nodes, the overview, submit (one and a batch), resubmit, and the bulk actions; each with the
 * refusals a client can cause, and each refusal checked to have changed nothing.
 */
@Timeout(120)
class WorkOrderApiTest {
  static final String TOKEN = WorkgateHttpServerTest.TOKEN;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private final HttpClient http = HttpClient.newHttpClient();

  /** Ids the "flaky" handler fails; a resubmission of one of them succeeds. */
  private final Set<String> failOnce = ConcurrentHashMap.newKeySet();

  private WorkOrderStore store;
  private Workgate node;
  private WorkgateHttpServer server;

  @BeforeEach
  void start() {
    store = Stores.sqlite(dir.resolve("workgate.db"));
    node =
        Workgate.builder()
            .store(store)
            .sandboxRoot(dir.resolve("sandboxes"))
            .maxConcurrent(2)
            .pollInterval(Duration.ofMillis(20))
            .retryPolicy(dev.workgate.retry.RetryPolicy.none())
            .nodeId("node-a")
            .queues("default", "a", "b", "q", "other")
            .handler("ok", ctx -> WorkResult.ok("done"))
            .handler(
                "fail",
                ctx -> WorkResult.fatalFailure(ctx.payload(JsonNode.class).asText(), "it broke"))
            .handler(
                "flaky",
                ctx ->
                    failOnce.remove(ctx.payload(JsonNode.class).asText())
                        ? WorkResult.fatalFailure("FLAKY", "first time")
                        : WorkResult.ok())
            .build();
    node.start();
    server = WorkgateHttpServer.builder(node).port(0).token(TOKEN).build();
  }

  @AfterEach
  void stop() {
    server.close();
    node.close();
    store.close();
  }

  private WorkOrderView run(WorkOrderSpec spec) throws Exception {
    WorkOrderId id = node.submit(spec);
    return node.await(id, Duration.ofSeconds(30));
  }

  private HttpResponse<String> get(String path) throws Exception {
    return get(path, TOKEN);
  }

  private HttpResponse<String> get(String path, String token) throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).GET();
    if (token != null) {
      r.header("Authorization", "Bearer " + token);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String body) throws Exception {
    return post(path, body, TOKEN);
  }

  private HttpResponse<String> post(String path, String body, String token) throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .header("Content-Type", "application/json")
            .POST(
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      r.header("Authorization", "Bearer " + token);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> r, int status) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type")).contains("application/json; charset=utf-8");
    return JSON.readTree(r.body());
  }

  private static void badParameter(HttpResponse<String> r, String parameter) throws Exception {
    JsonNode n = json(r, 400);
    assertThat(n.get("parameter").asText()).as(r.body()).isEqualTo(parameter);
    assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
  }

  private static List<String> ids(JsonNode items) {
    List<String> out = new ArrayList<>();
    items.forEach(i -> out.add(i.get("id").asText()));
    return out;
  }

  private long total() {
    return store.counts().total();
  }

  @Test
  void lists_by_every_filter_and_pages_with_the_cursor() throws Exception {
    WorkOrderView okA = run(WorkOrderSpec.builder("ok").queue("a").label("team", "ml").build());
    WorkOrderView okB = run(WorkOrderSpec.builder("ok").queue("b").build());
    WorkOrderView failX = run(WorkOrderSpec.builder("fail").queue("a").payload("E_X").build());
    WorkOrderView failY =
        run(WorkOrderSpec.builder("fail").queue("a").payload("E_Y").label("team", "ml").build());
    WorkOrderId later =
        node.submit(
            WorkOrderSpec.builder("ok").notBefore(Instant.now().plus(Duration.ofHours(1))).build());

    JsonNode all = json(get("/api/work-orders"), 200);
    assertThat(ids(all.get("items")))
        .containsExactly(
            later.value(),
            failY.id().value(),
            failX.id().value(),
            okB.id().value(),
            okA.id().value());
    assertThat(all.get("items").get(0).has("payload")).isFalse();
    assertThat(all.has("nextCursor")).isFalse();

    assertThat(ids(json(get("/api/work-orders?state=FAILED&order=oldest"), 200).get("items")))
        .containsExactly(failX.id().value(), failY.id().value());
    assertThat(ids(json(get("/api/work-orders?state=COMPLETED,PENDING"), 200).get("items")))
        .containsExactly(later.value(), okB.id().value(), okA.id().value());
    assertThat(ids(json(get("/api/work-orders?queue=a&type=ok"), 200).get("items")))
        .containsExactly(okA.id().value());
    assertThat(ids(json(get("/api/work-orders?label=team:ml"), 200).get("items")))
        .containsExactly(failY.id().value(), okA.id().value());
    assertThat(ids(json(get("/api/work-orders?errorCode=E_X"), 200).get("items")))
        .containsExactly(failX.id().value());
    assertThat(
            json(get("/api/work-orders?from=2000-01-01T00:00:00Z&to=2001-01-01T00:00:00Z"), 200)
                .get("items"))
        .isEmpty();

    List<String> paged = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonNode page =
          json(get("/api/work-orders?limit=2" + (cursor == null ? "" : "&cursor=" + cursor)), 200);
      paged.addAll(ids(page.get("items")));
      cursor = page.has("nextCursor") ? page.get("nextCursor").asText() : null;
      pages++;
    } while (cursor != null);
    assertThat(paged).isEqualTo(ids(all.get("items")));
    assertThat(pages).isEqualTo(3);

    badParameter(get("/api/work-orders?state=DONE"), "state");
    badParameter(get("/api/work-orders?limit=0"), "limit");
    badParameter(get("/api/work-orders?limit=501"), "limit");
    badParameter(get("/api/work-orders?order=random"), "order");
    badParameter(get("/api/work-orders?cursor=abc"), "cursor");
    badParameter(get("/api/work-orders?label=nocolon"), "label");
    badParameter(get("/api/work-orders?from=yesterday"), "from");
    badParameter(get("/api/work-orders?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"), "to");
    badParameter(get("/api/work-orders?queue=a&queue=b"), "queue");
    badParameter(get("/api/work-orders?order=newest&order=oldest"), "order");
    badParameter(get("/api/work-orders?cursor=5&cursor=9"), "cursor");
    badParameter(get("/api/work-orders?colour=red"), "colour");
    assertThat(get("/api/work-orders", null).statusCode()).isEqualTo(401);
  }

  @Test
  void counts_by_state_and_failures_by_error_code_follow_the_filter() throws Exception {
    run(WorkOrderSpec.builder("ok").queue("a").build());
    run(WorkOrderSpec.builder("fail").queue("a").payload("E_X").build());
    run(WorkOrderSpec.builder("fail").queue("a").payload("E_X").build());
    run(WorkOrderSpec.builder("fail").queue("b").payload("E_Y").build());

    JsonNode counts = json(get("/api/work-orders/counts?queue=a"), 200);
    assertThat(counts.get("counts").get("COMPLETED").asLong()).isEqualTo(1);
    assertThat(counts.get("counts").get("FAILED").asLong()).isEqualTo(2);
    assertThat(counts.get("counts").get("PENDING").asLong()).isZero();
    assertThat(counts.get("counts").size()).isEqualTo(WorkOrderState.values().length);
    assertThat(counts.get("total").asLong()).isEqualTo(3);

    JsonNode groups = json(get("/api/failures"), 200).get("groups");
    assertThat(groups.toString())
        .isEqualTo("[{\"errorCode\":\"E_X\",\"count\":2},{\"errorCode\":\"E_Y\",\"count\":1}]");
    assertThat(json(get("/api/failures?queue=b"), 200).get("groups").toString())
        .isEqualTo("[{\"errorCode\":\"E_Y\",\"count\":1}]");
    badParameter(get("/api/failures?state=PENDING"), "state");
    badParameter(get("/api/work-orders/counts?limit=3"), "limit");
  }

  @Test
  void throughput_nodes_and_the_overview() throws Exception {
    run(WorkOrderSpec.builder("ok").build());
    run(WorkOrderSpec.builder("fail").payload("E_X").build());
    node.submit(
        WorkOrderSpec.builder("ok")
            .queue("later")
            .notBefore(Instant.now().plus(Duration.ofHours(1)))
            .build());

    JsonNode t = json(get("/api/throughput?minutes=5"), 200);
    assertThat(t.get("bucketSeconds").asInt()).isEqualTo(60);
    assertThat(t.get("buckets")).hasSize(5);
    long completed = 0;
    long failed = 0;
    for (JsonNode b : t.get("buckets")) {
      completed += b.get("completed").asLong();
      failed += b.get("failed").asLong();
    }
    assertThat(completed).isEqualTo(1);
    assertThat(failed).isEqualTo(1);
    badParameter(get("/api/throughput?minutes=0"), "minutes");
    badParameter(get("/api/throughput?minutes=1441"), "minutes");

    JsonNode nodes = json(get("/api/nodes"), 200).get("nodes");
    assertThat(nodes).hasSize(1);
    assertThat(nodes.get(0).get("id").asText()).isEqualTo("node-a");
    assertThat(nodes.get(0).get("slots").asInt()).isEqualTo(2);
    assertThat(nodes.get(0).get("live").asBoolean()).isTrue();

    JsonNode overview = json(get("/api/overview"), 200);
    assertThat(overview.get("counts").get("totals").get("COMPLETED").asLong()).isEqualTo(1);
    assertThat(overview.get("counts").get("queues").get("later").get("PENDING").asLong())
        .isEqualTo(1);
    // Held back by notBefore, the work order of "later" waits for no slot: no oldest wait yet.
    assertThat(overview.has("oldestPending")).isFalse();
    WorkOrderId waiting = node.submit(WorkOrderSpec.builder("ok").queue("unserved").build());
    JsonNode again = json(get("/api/overview"), 200);
    assertThat(again.get("oldestPending").get("id").asText()).isEqualTo(waiting.value());
    assertThat(again.get("oldestPending").get("waitSeconds").asDouble()).isNotNegative();
    assertThat(overview.get("throughput").get("buckets")).hasSize(60);
    assertThat(overview.get("nodes")).hasSize(1);
    assertThat(overview.get("health").get("status").asText()).isNotBlank();
    assertThat(overview.get("maxSlots").asInt()).isEqualTo(2);
  }

  @Test
  void nodes_lists_every_node_sharing_the_store() throws Exception {
    try (WorkOrderStore second = Stores.sqlite(dir.resolve("workgate.db"));
        Workgate other =
            Workgate.builder()
                .store(second)
                .sandboxRoot(dir.resolve("sandboxes-b"))
                .maxConcurrent(3)
                .pollInterval(Duration.ofMillis(20))
                .nodeId("node-b")
                .handler("ok", ctx -> WorkResult.ok())
                .build()) {
      other.start();
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> json(get("/api/nodes"), 200).get("nodes").size() == 2);

      JsonNode nodes = json(get("/api/nodes"), 200).get("nodes");
      assertThat(nodes.get(0).get("id").asText()).isEqualTo("node-a");
      assertThat(nodes.get(1).get("id").asText()).isEqualTo("node-b");
      assertThat(nodes.get(1).get("slots").asInt()).isEqualTo(3);
      assertThat(nodes).allMatch(n -> n.get("live").asBoolean());
      assertThat(json(get("/api/overview"), 200).get("nodes")).hasSize(2);
    }
  }

  @Test
  void the_overview_shows_one_health_report_for_ten_seconds_by_the_endpoints_clock()
      throws Exception {
    dev.workgate.core.testing.MutableClock clock = dev.workgate.core.testing.MutableClock.create();
    server.close();
    server = WorkgateHttpServer.builder(store).clock(clock).port(0).token(TOKEN).build();

    String first = json(get("/api/overview"), 200).get("health").get("checkedAt").asText();
    clock.advance(ApiRoutes.HEALTH_REUSE.minusSeconds(1));
    String reused = json(get("/api/overview"), 200).get("health").get("checkedAt").asText();
    clock.advance(Duration.ofSeconds(1));
    JsonNode later = json(get("/api/overview"), 200);

    assertThat(reused).isEqualTo(first);
    assertThat(later.get("health").get("checkedAt").asText())
        .isNotEqualTo(first)
        .isEqualTo(later.get("at").asText());
  }

  @Test
  void submits_one_and_a_batch_and_refuses_bad_bodies_without_writing() throws Exception {
    JsonNode created =
        json(
            post(
                "/api/work-orders",
                "{\"type\":\"ok\",\"queue\":\"q\",\"payload\":{\"n\":1},\"priority\":3,"
                    + "\"idempotencyKey\":\"k-1\",\"labels\":{\"team\":\"ml\"},\"maxAttempts\":2,"
                    + "\"timeoutSeconds\":1.5,\"resources\":{\"slots\":1,\"memoryMb\":64}}"),
            201);
    WorkOrderId id = WorkOrderId.of(created.get("id").asText());
    assertThat(created.get("created").asBoolean()).isTrue();
    WorkOrderView v = node.await(id, Duration.ofSeconds(30));
    assertThat(v.queue()).isEqualTo("q");
    assertThat(v.priority()).isEqualTo(3);
    assertThat(v.labels()).containsEntry("team", "ml");
    assertThat(v.spec().timeout()).contains(Duration.ofMillis(1500));
    assertThat(v.spec().payload().get("n").asInt()).isEqualTo(1);
    JsonNode again =
        json(post("/api/work-orders", "{\"type\":\"ok\",\"idempotencyKey\":\"k-1\"}"), 200);
    assertThat(again.get("id").asText()).isEqualTo(id.value());
    assertThat(again.get("created").asBoolean()).isFalse();

    long before = total();
    badParameter(post("/api/work-orders", "{}"), "type");
    badParameter(post("/api/work-orders", "{\"type\":7}"), "type");
    badParameter(post("/api/work-orders", "{\"type\":\"ok\",\"colour\":1}"), "colour");
    badParameter(post("/api/work-orders", "{\"type\":\"ok\",\"priority\":1.5}"), "priority");
    badParameter(post("/api/work-orders", "{\"type\":\"ok\",\"maxAttempts\":0}"), "maxAttempts");
    badParameter(post("/api/work-orders", "{\"type\":\"ok\",\"labels\":[1]}"), "labels");
    badParameter(post("/api/work-orders", "{\"type\":\"ok\",\"labels\":{\"a\":1}}"), "labels");
    badParameter(post("/api/work-orders", "{\"type\":\"ok\",\"notBefore\":\"soon\"}"), "notBefore");
    badParameter(
        post("/api/work-orders", "{\"type\":\"ok\",\"timeoutSeconds\":-1}"), "timeoutSeconds");
    badParameter(
        post("/api/work-orders", "{\"type\":\"ok\",\"timeoutSeconds\":1e400}"), "timeoutSeconds");
    badParameter(
        post("/api/work-orders", "{\"type\":\"ok\",\"timeoutSeconds\":\"5\"}"), "timeoutSeconds");
    badParameter(post("/api/work-orders", "{\"type\":\"ok\",\"priority\":1e400}"), "priority");
    badParameter(
        post(
            "/api/work-orders", "{\"type\":\"ok\",\"resources\":{\"slots\":1,\"memoryMb\":1e400}}"),
        "resources");
    badParameter(
        post("/api/work-orders", "{\"type\":\"ok\",\"resources\":{\"slots\":0}}"), "resources");
    badParameter(post("/api/work-orders", "{\"type\":\" \"}"), "type");
    badParameter(post("/api/work-orders", "[1]"), "body");
    badParameter(post("/api/work-orders", "{\"type\":\"ok\"} {}"), "body");
    badParameter(post("/api/work-orders", "{\"type\":\"ok\",\"type\":\"ok\"}"), "body");
    badParameter(post("/api/work-orders", null), "body");
    badParameter(post("/api/work-orders?x=1", "{\"type\":\"ok\"}"), "x");
    String big = "{\"type\":\"ok\",\"payload\":\"" + "x".repeat(ApiRoutes.MAX_SUBMIT_BYTES) + "\"}";
    assertThat(post("/api/work-orders", big).statusCode()).isEqualTo(413);
    assertThat(post("/api/work-orders", "{\"type\":\"ok\"}", null).statusCode()).isEqualTo(401);
    assertThat(post("/api/work-orders", "{\"type\":\"ok\"}", "wrong-token-0123456789").statusCode())
        .isEqualTo(401);
    assertThat(total()).isEqualTo(before);

    JsonNode batch =
        json(
            post(
                "/api/work-orders/batch",
                "{\"items\":[{\"type\":\"ok\"},{\"type\":\"ok\",\"idempotencyKey\":\"k-1\"},"
                    + "{\"type\":\"ok\",\"queue\":\"other\"}]}"),
            201);
    assertThat(batch.get("ids")).hasSize(3);
    assertThat(batch.get("ids").get(1).asText()).isEqualTo(id.value());
    assertThat(batch.get("created").toString()).isEqualTo("[true,false,true]");
    assertThat(total()).isEqualTo(before + 2);

    long beforeBatch = total();
    badParameter(
        post("/api/work-orders/batch", "{\"items\":[{\"type\":\"ok\"},{\"queue\":\"q\"}]}"),
        "items[1].type");
    badParameter(post("/api/work-orders/batch", "{\"items\":[]}"), "items");
    badParameter(post("/api/work-orders/batch", "{\"items\":{}}"), "items");
    StringBuilder many = new StringBuilder("{\"items\":[");
    for (int i = 0; i <= ApiRoutes.MAX_BATCH; i++) {
      many.append(i == 0 ? "" : ",").append("{\"type\":\"ok\"}");
    }
    badParameter(post("/api/work-orders/batch", many.append("]}").toString()), "items");
    assertThat(total()).isEqualTo(beforeBatch);
  }

  @Test
  void changes_are_refused_with_403_when_the_endpoint_has_no_token() throws Exception {
    server.close();
    server = WorkgateHttpServer.builder(node).port(0).build();
    long before = total();

    for (String path :
        List.of(
            "/api/work-orders",
            "/api/work-orders/batch",
            "/api/work-orders/bulk/resubmit",
            "/api/work-orders/bulk/cancel",
            "/api/work-orders/x/resubmit")) {
      HttpResponse<String> r = post(path, "{\"type\":\"ok\"}", null);
      assertThat(r.statusCode()).as(path).isEqualTo(403);
    }
    WorkOrderView done = run(WorkOrderSpec.builder("ok").payload("secret").build());
    assertThat(get("/api/work-orders/" + done.id().value(), null).statusCode()).isEqualTo(200);
    assertThat(get("/api/work-orders/" + done.id().value() + "?include=payload", null).statusCode())
        .isEqualTo(403);
    assertThat(total()).isEqualTo(before + 1);
  }

  @Test
  void a_work_order_shows_its_payload_and_result_only_when_asked_with_the_token() throws Exception {
    WorkOrderView done = run(WorkOrderSpec.builder("ok").payload(Map.of("secret", 42)).build());
    String path = "/api/work-orders/" + done.id().value();

    JsonNode plain = json(get(path), 200);
    assertThat(plain.has("payload")).isFalse();
    assertThat(plain.has("result")).isFalse();
    assertThat(plain.get("hasResult").asBoolean()).isTrue();
    assertThat(plain.get("resubmittedAs")).isEmpty();
    JsonNode full = json(get(path + "?include=payload,result"), 200);
    assertThat(full.get("payload").get("secret").asInt()).isEqualTo(42);
    assertThat(full.get("result").asText()).isEqualTo("done");
    assertThat(get(path + "?include=payload", null).statusCode()).isEqualTo(401);
    badParameter(get(path + "?include=env"), "include");
    badParameter(get("/api/work-orders/%20"), "id");
    assertThat(get("/api/work-orders/nope").statusCode()).isEqualTo(404);
  }

  @Test
  void resubmits_once_and_bulk_resubmit_links_and_completes_the_failed_work() throws Exception {
    List<WorkOrderView> failed = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      failOnce.add("f" + i);
      failed.add(run(WorkOrderSpec.builder("flaky").queue("q").payload("f" + i).build()));
    }
    run(WorkOrderSpec.builder("fail").queue("q").payload("OTHER").build());
    WorkOrderView completed = run(WorkOrderSpec.builder("ok").build());
    assertThat(failed).allMatch(v -> v.state() == WorkOrderState.FAILED);

    JsonNode one =
        json(post("/api/work-orders/" + failed.get(0).id().value() + "/resubmit", null), 201);
    JsonNode repeat =
        json(post("/api/work-orders/" + failed.get(0).id().value() + "/resubmit", null), 200);
    assertThat(repeat.get("id").asText()).isEqualTo(one.get("id").asText());
    assertThat(repeat.get("created").asBoolean()).isFalse();
    assertThat(post("/api/work-orders/" + completed.id().value() + "/resubmit", null).statusCode())
        .isEqualTo(409);
    assertThat(post("/api/work-orders/nope/resubmit", null).statusCode()).isEqualTo(404);

    long before = total();
    badParameter(
        post("/api/work-orders/bulk/resubmit", "{\"filter\":{\"state\":\"COMPLETED\"}}"), "state");
    badParameter(post("/api/work-orders/bulk/resubmit", "{\"filter\":{\"colour\":1}}"), "colour");
    badParameter(post("/api/work-orders/bulk/resubmit", "{\"limit\":0}"), "limit");
    badParameter(post("/api/work-orders/bulk/resubmit", "{\"filter\":[]}"), "filter");
    assertThat(total()).isEqualTo(before);

    JsonNode bulk =
        json(
            post(
                "/api/work-orders/bulk/resubmit",
                "{\"filter\":{\"queue\":\"q\",\"errorCode\":\"FLAKY\"}}"),
            200);
    // The one resubmitted already is not walked again: only the two not yet resubmitted match.
    assertThat(bulk.get("matched").asInt()).isEqualTo(2);
    assertThat(bulk.get("changed").asInt()).isEqualTo(2);
    assertThat(bulk.get("refused")).isEmpty();
    assertThat(bulk.get("more").asBoolean()).isFalse();
    Set<String> from = new HashSet<>();
    for (JsonNode c : bulk.get("created")) {
      from.add(c.get("from").asText());
      WorkOrderView v = node.await(WorkOrderId.of(c.get("id").asText()), Duration.ofSeconds(30));
      assertThat(v.state()).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(v.resubmittedFrom().orElseThrow().value()).isEqualTo(c.get("from").asText());
    }
    assertThat(from)
        .containsExactlyInAnyOrder(failed.get(1).id().value(), failed.get(2).id().value());
    String asOfSecond = null;
    for (JsonNode c : bulk.get("created")) {
      if (c.get("from").asText().equals(failed.get(1).id().value())) {
        asOfSecond = c.get("id").asText();
      }
    }
    JsonNode view = json(get("/api/work-orders/" + failed.get(1).id().value()), 200);
    assertThat(ids2(view.get("resubmittedAs"))).containsExactly(asOfSecond);

    JsonNode twice =
        json(post("/api/work-orders/bulk/resubmit", "{\"filter\":{\"errorCode\":\"FLAKY\"}}"), 200);
    assertThat(twice.get("matched").asInt()).isZero();
    assertThat(twice.get("changed").asInt()).isZero();
    assertThat(twice.get("refused")).isEmpty();
    JsonNode unhandled = json(get("/api/work-orders/counts?state=FAILED&notResubmitted=true"), 200);
    assertThat(unhandled.get("counts").get("FAILED").asLong()).isEqualTo(1); // the OTHER failure
    JsonNode all = json(get("/api/work-orders/counts?state=FAILED&notResubmitted=false"), 200);
    assertThat(all.get("counts").get("FAILED").asLong()).isEqualTo(4);
    badParameter(get("/api/work-orders?notResubmitted=yes"), "notResubmitted");
    badParameter(
        post("/api/work-orders/bulk/resubmit", "{\"filter\":{\"notResubmitted\":\"x\"}}"),
        "notResubmitted");
  }

  @Test
  void bulk_resubmit_past_its_limit_goes_on_to_the_next_ones_on_the_next_call() throws Exception {
    List<String> cancelled = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      WorkOrderId id = node.submit(WorkOrderSpec.builder("ok").queue("unserved").build());
      node.cancel(id, "to resubmit");
      cancelled.add(id.value());
    }
    String body = "{\"filter\":{\"queue\":\"unserved\",\"state\":\"CANCELLED\"},\"limit\":2}";
    List<String> from = new ArrayList<>();
    List<Boolean> more = new ArrayList<>();
    for (int call = 0; call < 4; call++) {
      JsonNode a = json(post("/api/work-orders/bulk/resubmit", body), 200);
      a.get("created").forEach(c -> from.add(c.get("from").asText()));
      more.add(a.get("more").asBoolean());
      assertThat(a.get("refused")).isEmpty();
    }

    assertThat(from).containsExactlyElementsOf(cancelled);
    assertThat(more).containsExactly(true, true, false, false);
    assertThat(store.counts().count("unserved", WorkOrderState.PENDING)).isEqualTo(5);
  }

  @Test
  void bulk_cancel_cancels_the_waiting_matches_up_to_the_limit() throws Exception {
    Instant later = Instant.now().plus(Duration.ofHours(1));
    List<WorkOrderId> waiting = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      waiting.add(node.submit(WorkOrderSpec.builder("ok").queue("w").notBefore(later).build()));
    }
    WorkOrderId other =
        node.submit(WorkOrderSpec.builder("ok").queue("x").notBefore(later).build());

    badParameter(
        post("/api/work-orders/bulk/cancel", "{\"filter\":{\"state\":\"FAILED\"}}"), "state");
    badParameter(post("/api/work-orders/bulk/cancel", "{\"reason\":\" \"}"), "reason");
    assertThat(store.counts().count("w", WorkOrderState.PENDING)).isEqualTo(5);

    JsonNode first =
        json(
            post(
                "/api/work-orders/bulk/cancel",
                "{\"filter\":{\"queue\":\"w\"},\"limit\":3,\"reason\":\"wrong batch\"}"),
            200);
    assertThat(first.get("changed").asInt()).isEqualTo(3);
    assertThat(first.get("more").asBoolean()).isTrue();
    assertThat(ids2(first.get("cancelled")))
        .containsExactly(waiting.get(0).value(), waiting.get(1).value(), waiting.get(2).value());
    JsonNode rest =
        json(post("/api/work-orders/bulk/cancel", "{\"filter\":{\"queue\":\"w\"}}"), 200);
    assertThat(rest.get("changed").asInt()).isEqualTo(2);
    assertThat(rest.get("more").asBoolean()).isFalse();
    assertThat(store.counts().count("w", WorkOrderState.CANCELLED)).isEqualTo(5);
    assertThat(node.find(other).orElseThrow().state()).isEqualTo(WorkOrderState.PENDING);
    assertThat(node.history(waiting.get(0)).toString()).contains("wrong batch");
  }

  private static List<String> ids2(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
