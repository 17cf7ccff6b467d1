package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The acceptance test of the scrape: a real HTTP client, the Prometheus text parsed. */
class MetricsScrapeHttpTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path sandboxes;
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<AutoCloseable> opened = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (int i = opened.size() - 1; i >= 0; i--) {
      opened.get(i).close();
    }
  }

  @Test
  void counters_move_by_the_work_done_between_two_scrapes_and_histograms_are_served()
      throws Exception {
    Workgate workgate =
        Workgate.builder()
            .sandboxRoot(sandboxes)
            .pollInterval(Duration.ofMillis(50))
            .retryPolicy(
                RetryPolicy.builder()
                    .maxAttempts(2)
                    .baseDelay(Duration.ofMillis(10))
                    .maxDelay(Duration.ofMillis(10))
                    .jitter(Jitter.none())
                    .build())
            .handler("ok", ctx -> WorkResult.ok())
            .handler(
                "fatal", ctx -> WorkResult.fatalFailure(ErrorCodes.AGENT_FATAL_ERROR, "broken"))
            .handler(
                "once",
                ctx ->
                    ctx.attempt() == 1
                        ? WorkResult.retryableFailure(ErrorCodes.NETWORK_ERROR, "blip")
                        : WorkResult.ok())
            .build();
    opened.add(workgate);
    workgate.start();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    WorkgateMetrics metrics = new WorkgateMetrics(workgate);
    metrics.bindTo(registry);
    opened.add(registry::close);
    opened.add(metrics);
    WorkgateHttpServer server =
        WorkgateHttpServer.builder(workgate).port(0).meterRegistry(registry).build();
    opened.add(server);

    PrometheusText before = scrape(server);
    runBatch(workgate, 6, 2, 3);
    PrometheusText after = scrape(server);

    assertThat(delta(before, after, "workgate_work_orders_submitted_total")).isEqualTo(11);
    assertThat(delta(before, after, "workgate_work_orders_completed_total")).isEqualTo(9);
    assertThat(delta(before, after, "workgate_work_orders_failed_total")).isEqualTo(2);
    assertThat(after.sum("workgate_work_orders_failed_total", "error_code", "AGENT_FATAL_ERROR"))
        .isEqualTo(2);
    assertThat(after.sum("workgate_attempts_failed_total", "error_code", "NETWORK_ERROR"))
        .isEqualTo(3);
    assertThat(delta(before, after, "workgate_retries_released_total")).isEqualTo(3);
    // Claims: 11 first attempts and 3 retries.
    assertThat(
            after.sum(
                    "workgate_work_orders_transitions_total", "from", "PENDING", "to", "PREPARING")
                - before.sum(
                    "workgate_work_orders_transitions_total", "from", "PENDING", "to", "PREPARING"))
        .isEqualTo(14);
    for (String timer :
        List.of(
            "workgate_work_orders_wait_seconds",
            "workgate_work_orders_execution_seconds",
            "workgate_work_orders_end_to_end_seconds")) {
      assertThat(after.samples(timer + "_bucket")).as(timer).isNotEmpty();
      assertThat(after.samples(timer + "_bucket"))
          .as(timer)
          .anySatisfy(s -> assertThat(s.labels()).containsEntry("le", "+Inf"));
    }
    assertThat(after.sum("workgate_work_orders_wait_seconds_count"))
        .isEqualTo(before.sum("workgate_work_orders_wait_seconds_count") + 14);

    // A second batch moves the counters again by exactly its size.
    runBatch(workgate, 4, 0, 0);
    PrometheusText third = scrape(server);
    assertThat(delta(after, third, "workgate_work_orders_submitted_total")).isEqualTo(4);
    assertThat(delta(after, third, "workgate_work_orders_completed_total")).isEqualTo(4);
  }

  private static double delta(PrometheusText a, PrometheusText b, String name) {
    return b.sum(name) - a.sum(name);
  }

  private PrometheusText scrape(WorkgateHttpServer server) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    return PrometheusText.parse(r.body());
  }

  private static void runBatch(Workgate workgate, int ok, int fatal, int once) throws Exception {
    List<WorkOrderId> ids = new ArrayList<>();
    for (int i = 0; i < ok; i++) {
      ids.add(workgate.submit(WorkOrderSpec.builder("ok").build()));
    }
    for (int i = 0; i < fatal; i++) {
      ids.add(workgate.submit(WorkOrderSpec.builder("fatal").build()));
    }
    for (int i = 0; i < once; i++) {
      ids.add(workgate.submit(WorkOrderSpec.builder("once").build()));
    }
    for (WorkOrderId id : ids) {
      workgate.await(id, WAIT);
    }
  }
}
