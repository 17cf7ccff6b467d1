package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workgate.WorkgateClient;
import dev.workgate.core.BatchId;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document served at {@code /api/openapi.json} against the routes the endpoint really
 * serves: every documented operation is answered by its route (never "no such route", never 405),
 * every other method on a documented path is 405, and paths that are not documented are not served.
 */
class OpenApiDocumentTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> METHODS = Set.of("get", "post", "put", "delete", "patch");
  private static final String TOKEN = WorkgateHttpServerTest.TOKEN;

  private final HttpClient http = HttpClient.newHttpClient();
  private WorkOrderStore store;
  private WorkgateHttpServer server;
  private WorkOrderId id;
  private BatchId batch;

  @BeforeEach
  void start() {
    store = Stores.inMemory();
    WorkgateClient client = WorkgateClient.over(store);
    id = client.submit(WorkOrderSpec.builder("t").build());
    client.cancel(id, "so that it can be resubmitted");
    batch = client.submitBatch(List.of(WorkOrderSpec.builder("t").build())).id();
    server = WorkgateHttpServer.builder(store).port(0).token(TOKEN).build();
  }

  @AfterEach
  void stop() {
    server.close();
    store.close();
  }

  private HttpResponse<String> send(String method, String path) throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .header("Authorization", "Bearer " + TOKEN)
            .method(method, HttpRequest.BodyPublishers.ofString(method.equals("GET") ? "" : "{}"));
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode document() throws Exception {
    HttpResponse<String> r = send("GET", "/api/openapi.json");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).contains("application/json; charset=utf-8");
    return JSON.readTree(r.body());
  }

  private String concrete(String template) {
    return template
        .replace("{id}", id.value())
        .replace("{file}", "app.js")
        .replace("{batch}", batch.value())
        .replace("{queue}", "q");
  }

  @Test
  void the_document_is_openapi_3_and_every_operation_has_a_summary_and_responses()
      throws Exception {
    JsonNode doc = document();

    assertThat(doc.get("openapi").asText()).startsWith("3.0.");
    assertThat(doc.get("info").get("title").asText()).isNotBlank();
    doc.get("paths")
        .properties()
        .forEach(
            path ->
                path.getValue()
                    .properties()
                    .forEach(
                        op -> {
                          assertThat(METHODS).as(path.getKey()).contains(op.getKey());
                          assertThat(op.getValue().get("summary").asText())
                              .as(path.getKey())
                              .isNotBlank();
                          assertThat(op.getValue().get("responses").size())
                              .as(path.getKey())
                              .isPositive();
                        }));
    // Every reference points at a schema that exists.
    Set<String> refs = new TreeSet<>();
    collectRefs(doc, refs);
    for (String ref : refs) {
      assertThat(doc.at(ref.substring(1)).isMissingNode()).as(ref).isFalse();
    }
  }

  @Test
  void every_documented_operation_is_served_and_every_other_method_is_405() throws Exception {
    JsonNode doc = document();
    List<String> checked = new ArrayList<>();

    for (Map.Entry<String, JsonNode> path : doc.get("paths").properties()) {
      String concrete = concrete(path.getKey());
      for (String method : METHODS) {
        HttpResponse<String> r = send(method.toUpperCase(java.util.Locale.ROOT), concrete);
        String what = method + " " + path.getKey() + " -> " + r.statusCode() + " " + r.body();
        if (path.getValue().has(method)) {
          assertThat(r.statusCode()).as(what).isNotIn(405, 500, 501);
          assertThat(r.body()).as(what).doesNotContain("no such route");
          assertThat(
                  path.getValue()
                      .get(method)
                      .get("responses")
                      .has(Integer.toString(r.statusCode())))
              .as("%s: the answer's status is documented", what)
              .isTrue();
          checked.add(method + " " + path.getKey());
        } else {
          assertThat(r.statusCode()).as(what).isEqualTo(405);
          // Allow names exactly the documented methods (and HEAD with GET).
          Set<String> allowed = new TreeSet<>();
          path.getValue()
              .fieldNames()
              .forEachRemaining(m -> allowed.add(m.toUpperCase(java.util.Locale.ROOT)));
          if (allowed.contains("GET")) {
            allowed.add("HEAD");
          }
          Set<String> header = new TreeSet<>();
          for (String m : r.headers().firstValue("Allow").orElse("").split(",")) {
            header.add(m.trim());
          }
          assertThat(header).as(what).isEqualTo(allowed);
        }
      }
    }
    assertThat(checked)
        .contains(
            "post /api/work-orders/bulk/resubmit",
            "get /api/overview",
            "get /api/queues",
            "post /api/queues/{queue}/pause",
            "post /api/queues/{queue}/resume",
            "get /api/queues/{queue}/actions",
            "get /api/batches/{batch}");
  }

  @Test
  void paths_that_are_not_documented_are_not_served() throws Exception {
    JsonNode doc = document();
    Set<String> documented = new TreeSet<>();
    doc.get("paths").fieldNames().forEachRemaining(documented::add);

    for (String path :
        List.of(
            "/api",
            "/api/queues/{queue}",
            "/api/queues/{queue}/delete",
            "/api/batches",
            "/api/batches/{batch}/cancel",
            "/api/work-orders/{id}/delete",
            "/api/work-orders/{id}/events",
            "/api/work-orders/bulk",
            "/api/work-orders/bulk/delete",
            "/api/nodes/{id}",
            "/console",
            "/console/a/b.js",
            "/admin")) {
      assertThat(documented).doesNotContain(path);
      HttpResponse<String> r = send("GET", concrete(path));
      assertThat(r.statusCode()).as(path + " " + r.body()).isIn(404, 405);
    }
  }

  private static void collectRefs(JsonNode node, Set<String> refs) {
    if (node.isObject()) {
      node.properties()
          .forEach(
              e -> {
                if (e.getKey().equals("$ref")) {
                  refs.add(e.getValue().asText());
                } else {
                  collectRefs(e.getValue(), refs);
                }
              });
    } else if (node.isArray()) {
      node.forEach(n -> collectRefs(n, refs));
    }
  }
}
