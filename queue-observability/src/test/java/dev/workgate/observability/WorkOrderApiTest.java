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
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The work-order routes over a real node on SQLite: list and search, counts, failures, throughput,
 * nodes, the overview, submit (one, several and a batch, with dependencies), resubmit, the bulk
 * actions, a batch's status, and the queues with their pauses; each with the refusals a client can
 * cause, and each refusal checked to have changed nothing.
 */
@Timeout(120)
class WorkOrderApiTest {
  static final String TOKEN = WorkgateHttpServerTest.TOKEN;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private final HttpClient http = HttpClient.newHttpClient();

  /** Ids the "flaky" handler fails; a resubmission of one of them succeeds. */
  private final Set<String> failOnce = ConcurrentHashMap.newKeySet();

  /** Holds each "gate" work order, once it has reported progress and a checkpoint, until opened. */
  private final CountDownLatch gate = new CountDownLatch(1);

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
            .renewInterval(Duration.ofMillis(100))
            .retryPolicy(dev.workgate.retry.RetryPolicy.none())
            .nodeId("node-a")
            .queues("default", "a", "b", "q", "other", "chain", "p")
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
            .handler(
                "gate",
                ctx -> {
                  ctx.checkpoint(Map.of("step", 3));
                  ctx.progress(0.5, "halfway");
                  gate.await();
                  return WorkResult.ok();
                })
            .build();
    node.start();
    server = WorkgateHttpServer.builder(node).port(0).token(TOKEN).build();
  }

  @AfterEach
  void stop() {
    gate.countDown();
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
            "/api/work-orders/x/resubmit",
            "/api/queues/q/pause",
            "/api/queues/q/resume")) {
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

  // ---- dependencies, progress, checkpoints ---------------------------------------------------

  @Test
  void a_chain_shows_blocked_work_its_dependencies_dependents_progress_and_checkpoint()
      throws Exception {
    WorkOrderId a = node.submit(WorkOrderSpec.builder("gate").queue("chain").build());
    JsonNode submitted =
        json(
            post(
                "/api/work-orders",
                "{\"type\":\"ok\",\"queue\":\"chain\",\"after\":[\"" + a.value() + "\"]}"),
            201);
    String b = submitted.get("id").asText();

    JsonNode blocked = json(get("/api/work-orders/" + b), 200);
    assertThat(blocked.get("state").asText()).isEqualTo("BLOCKED");
    assertThat(ids2(blocked.get("dependencies"))).containsExactly(a.value());
    assertThat(blocked.get("dependencyCount").asInt()).isEqualTo(1);
    assertThat(blocked.get("onDependencyFailure").asText()).isEqualTo("CANCEL");
    assertThat(blocked.get("dependents")).isEmpty();
    assertThat(blocked.get("hasCheckpoint").asBoolean()).isFalse();
    assertThat(blocked.has("batch")).isFalse();
    assertThat(blocked.has("progress")).isFalse();
    JsonNode listed = json(get("/api/work-orders?state=BLOCKED"), 200).get("items");
    assertThat(ids(listed)).containsExactly(b);
    assertThat(ids2(listed.get(0).get("dependencies"))).containsExactly(a.value());
    JsonNode counts = json(get("/api/work-orders/counts?queue=chain"), 200).get("counts");
    assertThat(counts.get("BLOCKED").asLong()).isEqualTo(1);

    // The gate reports half its work and a checkpoint, then waits: seen in its view.
    JsonNode running =
        org.awaitility.Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> json(get("/api/work-orders/" + a.value()), 200), v -> v.has("progress"));
    assertThat(running.get("state").asText()).isEqualTo("RUNNING");
    assertThat(running.get("progress").get("fraction").asDouble()).isEqualTo(0.5);
    assertThat(running.get("progress").get("message").asText()).isEqualTo("halfway");
    assertThat(Instant.parse(running.get("progress").get("reportedAt").asText())).isNotNull();
    assertThat(ids2(running.get("dependents"))).containsExactly(b);
    assertThat(running.get("dependentCount").asInt()).isEqualTo(1);
    assertThat(running.get("relatedStates").get(b).asText()).isEqualTo("BLOCKED");
    assertThat(running.get("hasCheckpoint").asBoolean()).isTrue();
    assertThat(running.has("checkpoint")).isFalse();
    assertThat(running.get("dependencies")).isEmpty();
    assertThat(running.has("dependencyCount")).isFalse();
    String path = "/api/work-orders/" + a.value();
    assertThat(json(get(path + "?include=checkpoint"), 200).get("checkpoint").get("step").asInt())
        .isEqualTo(3);
    assertThat(get(path + "?include=checkpoint", null).statusCode()).isEqualTo(401);
    badParameter(get(path + "?include=checkpoints"), "include");
    // The checkpoint's content is not in the audit either: only which attempt recorded it.
    JsonNode audit = json(get("/api/audit?workOrder=" + a.value() + "&type=Checkpointed"), 200);
    assertThat(audit.get("events")).hasSize(1);
    assertThat(audit.get("events").get(0).get("checkpointAttempt").asInt()).isEqualTo(1);
    assertThat(audit.toString()).doesNotContain("step");

    gate.countDown();
    WorkOrderView done = node.await(WorkOrderId.of(b), Duration.ofSeconds(30));
    assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
    JsonNode after = json(get("/api/work-orders/" + b), 200);
    assertThat(after.get("relatedStates").get(a.value()).asText()).isEqualTo("COMPLETED");
    JsonNode timeline = json(get("/api/work-orders/" + b + "/timeline"), 200);
    assertThat(timeline.get("steps").get(1).get("type").asText()).isEqualTo("DependenciesMet");
    assertThat(timeline.get("steps").get(1).get("from").asText()).isEqualTo("BLOCKED");
  }

  @Test
  void a_failed_dependency_cancels_or_runs_its_dependents_as_their_policy_says() throws Exception {
    WorkOrderView failed = run(WorkOrderSpec.builder("fail").payload("E_X").build());
    String dep = "\"after\":[\"" + failed.id().value() + "\"]";
    String cancels =
        json(post("/api/work-orders", "{\"type\":\"ok\"," + dep + "}"), 201).get("id").asText();
    String runs =
        json(
                post(
                    "/api/work-orders",
                    "{\"type\":\"ok\"," + dep + ",\"onDependencyFailure\":\"RUN\"}"),
                201)
            .get("id")
            .asText();

    assertThat(node.await(WorkOrderId.of(runs), Duration.ofSeconds(30)).state())
        .isEqualTo(WorkOrderState.COMPLETED);
    WorkOrderView cancelled = node.await(WorkOrderId.of(cancels), Duration.ofSeconds(30));
    assertThat(cancelled.state()).isEqualTo(WorkOrderState.CANCELLED);
    JsonNode view = json(get("/api/work-orders/" + cancels), 200);
    assertThat(view.get("lastError").get("code").asText()).isEqualTo("DEPENDENCY_FAILED");
    JsonNode failedEvent =
        json(get("/api/audit?workOrder=" + cancels + "&type=DependencyFailed"), 200)
            .get("events")
            .get(0);
    assertThat(failedEvent.get("dependency").asText()).isEqualTo(failed.id().value());
    assertThat(failedEvent.get("dependencyState").asText()).isEqualTo("FAILED");
    JsonNode ran = json(get("/api/work-orders/" + runs), 200);
    assertThat(ran.get("onDependencyFailure").asText()).isEqualTo("RUN");
    assertThat(json(get("/api/work-orders/" + failed.id().value()), 200).get("dependents"))
        .hasSize(2);
  }

  @Test
  void submits_refuse_bad_and_unknown_dependencies_without_writing() throws Exception {
    WorkOrderView done = run(WorkOrderSpec.builder("ok").build());
    String known = done.id().value();
    WorkOrderId unknown = WorkOrderId.random();
    long before = total();

    badParameter(
        post("/api/work-orders", "{\"type\":\"ok\",\"after\":\"" + known + "\"}"), "after");
    badParameter(post("/api/work-orders", "{\"type\":\"ok\",\"after\":[1]}"), "after");
    badParameter(post("/api/work-orders", "{\"type\":\"ok\",\"after\":[\" \"]}"), "after");
    StringBuilder many = new StringBuilder("[");
    for (int i = 0; i <= WorkOrderSpec.MAX_DEPENDENCIES; i++) {
      many.append(i == 0 ? "" : ",").append('"').append(known).append('"');
    }
    badParameter(
        post("/api/work-orders", "{\"type\":\"ok\",\"after\":" + many.append(']') + "}"), "after");
    StringBuilder batches = new StringBuilder("[");
    for (int i = 0; i <= WorkOrderSpec.MAX_BATCH_DEPENDENCIES; i++) {
      batches.append(i == 0 ? "" : ",").append("\"b").append(i).append('"');
    }
    badParameter(
        post("/api/work-orders", "{\"type\":\"ok\",\"afterBatches\":" + batches.append(']') + "}"),
        "afterBatches");
    badParameter(
        post("/api/work-orders", "{\"type\":\"ok\",\"afterBatches\":[\"\"]}"), "afterBatches");
    badParameter(
        post("/api/work-orders", "{\"type\":\"ok\",\"onDependencyFailure\":\"SOMETIMES\"}"),
        "onDependencyFailure");
    badParameter(
        post("/api/work-orders", "{\"type\":\"ok\",\"onDependencyFailure\":1}"),
        "onDependencyFailure");
    badParameter(
        post(
            "/api/work-orders/batch",
            "{\"items\":[{\"type\":\"ok\"},{\"type\":\"ok\",\"after\":{}}]}"),
        "items[1].after");
    badParameter(
        post("/api/work-orders/batch", "{\"items\":[{\"type\":\"ok\"}],\"asBatch\":\"yes\"}"),
        "asBatch");

    JsonNode missing =
        json(
            post(
                "/api/work-orders",
                "{\"type\":\"ok\",\"after\":[\"" + known + "\",\"" + unknown.value() + "\"]}"),
            422);
    assertThat(missing.get("parameter").asText()).isEqualTo("after");
    assertThat(missing.get("error").asText()).contains(unknown.value());
    JsonNode missingBatch =
        json(post("/api/work-orders", "{\"type\":\"ok\",\"afterBatches\":[\"no-such\"]}"), 422);
    assertThat(missingBatch.get("parameter").asText()).isEqualTo("afterBatches");
    assertThat(missingBatch.get("error").asText()).contains("no-such");
    for (String asBatch : List.of("false", "true")) {
      JsonNode inItems =
          json(
              post(
                  "/api/work-orders/batch",
                  "{\"asBatch\":"
                      + asBatch
                      + ",\"items\":[{\"type\":\"ok\",\"after\":[\""
                      + known
                      + "\"]},{\"type\":\"ok\",\"after\":[\""
                      + unknown.value()
                      + "\"]}]}"),
              422);
      assertThat(inItems.get("parameter").asText()).isEqualTo("items[1].after");
    }
    assertThat(total()).isEqualTo(before);

    // A work order that waits for one that never runs is BLOCKED; a bulk cancel takes it.
    WorkOrderId never = node.submit(WorkOrderSpec.builder("ok").queue("unserved").build());
    String waiting =
        json(
                post("/api/work-orders", "{\"type\":\"ok\",\"after\":[\"" + never.value() + "\"]}"),
                201)
            .get("id")
            .asText();
    JsonNode cancelled =
        json(
            post(
                "/api/work-orders/bulk/cancel",
                "{\"filter\":{\"state\":\"BLOCKED\"},\"reason\":\"not needed\"}"),
            200);
    assertThat(ids2(cancelled.get("cancelled"))).containsExactly(waiting);
    assertThat(node.find(WorkOrderId.of(waiting)).orElseThrow().state())
        .isEqualTo(WorkOrderState.CANCELLED);
  }

  // ---- batches -------------------------------------------------------------------------------

  @Test
  void a_batch_submitted_as_one_is_listed_and_its_status_follows_it() throws Exception {
    JsonNode submitted =
        json(
            post(
                "/api/work-orders/batch",
                "{\"asBatch\":true,\"items\":[{\"type\":\"ok\"},{\"type\":\"ok\",\"queue\":\"a\"},"
                    + "{\"type\":\"ok\",\"queue\":\"b\"}]}"),
            201);
    String batch = submitted.get("batch").asText();
    assertThat(submitted.get("ids")).hasSize(3);
    assertThat(submitted.has("created")).isFalse();
    String fanIn =
        json(
                post("/api/work-orders", "{\"type\":\"ok\",\"afterBatches\":[\"" + batch + "\"]}"),
                201)
            .get("id")
            .asText();

    assertThat(node.await(WorkOrderId.of(fanIn), Duration.ofSeconds(30)).state())
        .isEqualTo(WorkOrderState.COMPLETED);
    JsonNode status = json(get("/api/batches/" + batch), 200);
    assertThat(status.get("id").asText()).isEqualTo(batch);
    assertThat(status.get("workOrders").asLong()).isEqualTo(3);
    assertThat(status.get("resubmitted").asLong()).isZero();
    assertThat(status.get("submitted").asLong()).isEqualTo(3);
    assertThat(status.get("counts").get("COMPLETED").asLong()).isEqualTo(3);
    assertThat(status.get("counts").size()).isEqualTo(WorkOrderState.values().length);
    assertThat(status.get("ended").asBoolean()).isTrue();
    assertThat(status.get("completed").asBoolean()).isTrue();
    JsonNode members = json(get("/api/work-orders?order=oldest&batch=" + batch), 200).get("items");
    assertThat(ids(members)).containsExactlyElementsOf(ids2(submitted.get("ids")));
    assertThat(members.get(0).get("batch").asText()).isEqualTo(batch);
    assertThat(json(get("/api/work-orders/counts?batch=" + batch), 200).get("total").asLong())
        .isEqualTo(3);
    JsonNode waiter = json(get("/api/work-orders/" + fanIn), 200);
    assertThat(ids2(waiter.get("dependencies")))
        .containsExactlyElementsOf(ids2(submitted.get("ids")));
    assertThat(waiter.has("batch")).isFalse();

    assertThat(get("/api/batches/no-such-batch").statusCode()).isEqualTo(404);
    badParameter(get("/api/batches/%20"), "id");
    badParameter(get("/api/batches/" + batch + "?x=1"), "x");
    badParameter(get("/api/work-orders?batch=%20"), "batch");
    assertThat(get("/api/batches/" + batch, null).statusCode()).isEqualTo(401);
    HttpResponse<String> posted = post("/api/batches/" + batch, "{}");
    assertThat(posted.statusCode()).isEqualTo(405);
    assertThat(posted.headers().firstValue("Allow")).contains("GET, HEAD");
  }

  // ---- queues --------------------------------------------------------------------------------

  private int queueActions() {
    return node.client().queueActions(null, 1000).size();
  }

  @Test
  void a_queue_paused_over_http_is_claimed_from_by_no_node_until_it_is_resumed() throws Exception {
    JsonNode paused =
        json(post("/api/queues/p/pause", "{\"actor\":\"ops\",\"reason\":\"maintenance\"}"), 200);
    assertThat(paused.toString()).isEqualTo("{\"queue\":\"p\",\"paused\":true,\"changed\":true}");
    JsonNode again = json(post("/api/queues/p/pause", "{\"actor\":\"ops\"}"), 200);
    assertThat(again.get("paused").asBoolean()).isTrue();
    assertThat(again.get("changed").asBoolean()).isFalse();

    WorkOrderId held = node.submit(WorkOrderSpec.builder("ok").queue("p").build());
    // Work submitted after it to a queue that is not paused runs; the paused one's does not.
    run(WorkOrderSpec.builder("ok").queue("a").build());
    assertThat(node.find(held).orElseThrow().state()).isEqualTo(WorkOrderState.PENDING);

    JsonNode queues = json(get("/api/queues"), 200).get("queues");
    JsonNode p = null;
    List<String> names = new ArrayList<>();
    for (JsonNode q : queues) {
      names.add(q.get("queue").asText());
      if (q.get("queue").asText().equals("p")) {
        p = q;
      }
    }
    assertThat(names).containsExactly("a", "p");
    assertThat(p.get("paused").asBoolean()).isTrue();
    assertThat(p.get("pausedBy").asText()).isEqualTo("ops");
    assertThat(p.get("reason").asText()).isEqualTo("maintenance");
    assertThat(Instant.parse(p.get("pausedAt").asText())).isNotNull();
    assertThat(p.get("depth").asLong()).isEqualTo(1);
    assertThat(p.get("counts").get("PENDING").asLong()).isEqualTo(1);
    assertThat(p.get("counts").size()).isEqualTo(WorkOrderState.values().length);
    assertThat(queues.get(0).get("paused").asBoolean()).isFalse();
    assertThat(queues.get(0).has("pausedBy")).isFalse();
    JsonNode overview = json(get("/api/overview"), 200).get("pausedQueues");
    assertThat(overview).hasSize(1);
    assertThat(overview.get(0).get("queue").asText()).isEqualTo("p");
    assertThat(overview.get(0).get("pausedBy").asText()).isEqualTo("ops");

    // Refusals change nothing: the log of actions stays as it was, the queue stays paused.
    int actions = queueActions();
    assertThat(actions).isEqualTo(1);
    for (String path : List.of("/api/queues/p/resume", "/api/queues/p/pause")) {
      assertThat(post(path, "{\"actor\":\"ops\"}", null).statusCode()).isEqualTo(401);
      assertThat(post(path, "{\"actor\":\"ops\"}", "wrong-token-0123456789").statusCode())
          .isEqualTo(401);
      badParameter(post(path, null), "body");
      badParameter(post(path, "[]"), "body");
      badParameter(post(path, "{}"), "actor");
      badParameter(post(path, "{\"actor\":\" \"}"), "actor");
      badParameter(post(path, "{\"actor\":7}"), "actor");
      badParameter(post(path, "{\"actor\":\"" + "x".repeat(201) + "\"}"), "actor");
      badParameter(post(path, "{\"actor\":\"ops\",\"reason\":\" \"}"), "reason");
      badParameter(
          post(path, "{\"actor\":\"ops\",\"reason\":\"" + "r".repeat(501) + "\"}"), "reason");
      badParameter(post(path, "{\"actor\":\"ops\",\"colour\":1}"), "colour");
      badParameter(post(path + "?x=1", "{\"actor\":\"ops\"}"), "x");
      String big = "{\"actor\":\"ops\",\"reason\":\"" + "r".repeat(5000) + "\"}";
      assertThat(post(path, big).statusCode()).isEqualTo(413);
    }
    badParameter(
        post("/api/queues/" + "q".repeat(201) + "/resume", "{\"actor\":\"ops\"}"), "queue");
    badParameter(post("/api/queues/a%01b/resume", "{\"actor\":\"ops\"}"), "queue");
    HttpResponse<String> read = get("/api/queues/p/pause");
    assertThat(read.statusCode()).isEqualTo(405);
    assertThat(read.headers().firstValue("Allow")).contains("POST");
    assertThat(queueActions()).isEqualTo(actions);
    assertThat(node.client().pausedQueues()).extracting(a -> a.queue()).containsExactly("p");

    JsonNode resumed =
        json(post("/api/queues/p/resume", "{\"actor\":\"ops\",\"reason\":\"done\"}"), 200);
    assertThat(resumed.get("paused").asBoolean()).isFalse();
    assertThat(resumed.get("changed").asBoolean()).isTrue();
    assertThat(node.await(held, Duration.ofSeconds(30)).state())
        .isEqualTo(WorkOrderState.COMPLETED);
    JsonNode twice = json(post("/api/queues/p/resume", "{\"actor\":\"ops\"}"), 200);
    assertThat(twice.get("changed").asBoolean()).isFalse();
    JsonNode never = json(post("/api/queues/never-paused/resume", "{\"actor\":\"ops\"}"), 200);
    assertThat(never.get("changed").asBoolean()).isFalse();
    assertThat(json(get("/api/overview"), 200).get("pausedQueues")).isEmpty();

    JsonNode log = json(get("/api/queues/p/actions"), 200);
    assertThat(log.get("queue").asText()).isEqualTo("p");
    assertThat(log.get("actions")).hasSize(2);
    JsonNode newest = log.get("actions").get(0);
    assertThat(newest.get("kind").asText()).isEqualTo("RESUME");
    assertThat(newest.get("actor").asText()).isEqualTo("ops");
    assertThat(newest.get("reason").asText()).isEqualTo("done");
    assertThat(log.get("actions").get(1).get("kind").asText()).isEqualTo("PAUSE");
    assertThat(log.get("actions").get(1).get("reason").asText()).isEqualTo("maintenance");
    assertThat(json(get("/api/queues/p/actions?limit=1"), 200).get("actions")).hasSize(1);
    assertThat(json(get("/api/queues/other/actions"), 200).get("actions")).isEmpty();
    badParameter(get("/api/queues/p/actions?limit=0"), "limit");
    badParameter(get("/api/queues/p/actions?limit=501"), "limit");
    badParameter(get("/api/queues/p/actions?kind=PAUSE"), "kind");
    badParameter(get("/api/queues/%20/actions"), "queue");
    assertThat(get("/api/queues/p/actions", null).statusCode()).isEqualTo(401);
    assertThat(get("/api/queues", null).statusCode()).isEqualTo(401);
    badParameter(get("/api/queues?queue=p"), "queue");
  }

  private static List<String> ids2(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
