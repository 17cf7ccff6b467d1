package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.Workgate;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.EventQuery;
import dev.workgate.core.store.RebuildReport.ProjectionMismatch;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.observability.SystemHealth.HealthStatus;
import dev.workgate.observability.WorkgateMetrics.WorkgateMeter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * One event row that no code can read, written with plain SQL into a durable store a node serves:
 * the node still runs the other work orders, whole-log reads and verify still answer, and the meter
 * and the store's health report the row. Subclassed per database.
 */
abstract class QuarantinedRowTest extends HealthTestSupport {

  /** A store on this test's database, on the test clock. */
  abstract WorkOrderStore openStore();

  /** Runs SQL on this test's tables; {@code {events}} stands for the events table. */
  abstract void damage(String sql);

  @Test
  void a_node_runs_the_other_work_orders_and_reports_the_unreadable_row() throws Exception {
    WorkOrderStore store = openStore();
    onCleanup(store);
    Workgate w = open(node().store(store).handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(w));
    assertThat(status(health.check(), WorkgateHealth.STORE)).isEqualTo(HealthStatus.HEALTHY);
    WorkOrderId first = w.submit(WorkOrderSpec.builder("job").build());
    WorkOrderId bad = w.submit(WorkOrderSpec.builder("job").build());
    WorkOrderId last = w.submit(WorkOrderSpec.builder("job").build());
    // Damaged before anything reads it back, as a row damaged on disk or written by a newer node.
    damage("UPDATE {events} SET data = '{not json' WHERE work_order_id = '" + bad.value() + "'");
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    WorkgateMetrics metrics = new WorkgateMetrics(w);
    onCleanup(metrics);
    metrics.bindTo(registry);

    w.start();

    eventually()
        .until(
            () ->
                w.find(first).orElseThrow().state() == WorkOrderState.COMPLETED
                    && w.find(last).orElseThrow().state() == WorkOrderState.COMPLETED);
    assertThat(store.quarantinedRows()).isEqualTo(1);
    assertThat(
            registry
                .get(WorkgateMeter.STORE_ROWS_QUARANTINED.meterName())
                .functionCounter()
                .count())
        .isEqualTo(1.0);
    HealthIssue issue = onlyIssue(health.check(), WorkgateHealth.STORE);
    assertThat(issue.severity()).isEqualTo(HealthIssue.Severity.WARNING);
    assertThat(issue.message()).startsWith("1 unreadable row(s) quarantined");
    assertThat(issue.recommendation()).contains("docs/operations.md");

    assertThat(store.readLog(0, 1000).events())
        .extracting(RecordedEvent::workOrderId)
        .contains(first, last)
        .doesNotContain(bad);
    assertThat(store.queryEvents(EventQuery.builder().limit(1000).build()).events())
        .extracting(RecordedEvent::workOrderId)
        .contains(first, last)
        .doesNotContain(bad);
    assertThat(store.rebuildProjection(RebuildMode.VERIFY).mismatches())
        .extracting(ProjectionMismatch::workOrderId)
        .containsExactly(bad);
    assertThat(w.node().stepFailureCount()).as("claims did not fail").isZero();

    WorkgateHttpServer server = WorkgateHttpServer.builder(w).port(0).build();
    onCleanup(server);
    HttpResponse<String> one = get(server, "/api/work-orders/" + bad.value());
    assertThat(one.statusCode()).isEqualTo(500);
    assertThat(one.body()).contains(bad.value(), "cannot read").doesNotContain("not json");
    assertThat(get(server, "/api/work-orders/" + first.value()).statusCode()).isEqualTo(200);
    assertThat(get(server, "/api/audit").statusCode()).isEqualTo(200);
    assertThat(store.quarantinedRows()).as("counted once").isEqualTo(1);
  }

  private static HttpResponse<String> get(WorkgateHttpServer server, String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }
}
