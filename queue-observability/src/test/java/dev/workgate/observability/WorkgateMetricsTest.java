package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.observability.WorkgateMetrics.WorkgateMeter;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real node on the system clock runs batches of work orders that complete, fail once and then
 * complete, fail fatally, or are cancelled while pending; the Prometheus scrape, parsed, shows
 * exactly what happened.
 */
@Timeout(60)
class WorkgateMetricsTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final long GB = 1L << 30;

  @TempDir Path dir;
  Workgate workgate;
  WorkgateMetrics metrics;
  PrometheusMeterRegistry registry;

  @BeforeEach
  void start() {
    workgate =
        Workgate.builder()
            .nodeId("node-1")
            .sandboxRoot(dir.resolve("sandboxes"))
            .pollInterval(Duration.ofMillis(100))
            .queues("default", "reports")
            .retryPolicy(
                RetryPolicy.builder()
                    .baseDelay(Duration.ofMillis(20))
                    .maxDelay(Duration.ofMillis(50))
                    .jitter(Jitter.none())
                    .build())
            .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
            .handler("ok", ctx -> WorkResult.ok())
            .handler(
                "flaky",
                ctx ->
                    ctx.attempt() == 1
                        ? WorkResult.retryableFailure("FLAKY", "first attempt fails")
                        : WorkResult.ok())
            .handler("fatal", ctx -> WorkResult.fatalFailure("BAD_INPUT", "cannot run this"))
            .handler("later", ctx -> WorkResult.ok())
            .build();
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    metrics = new WorkgateMetrics(workgate);
    metrics.bindTo(registry);
    workgate.start();
  }

  @AfterEach
  void stop() {
    metrics.close();
    workgate.close();
  }

  /** 6 ok and 1 fatal and 1 cancelled in "default", 2 flaky in "reports": 10 work orders. */
  private void runBatch() throws TimeoutException {
    List<WorkOrderId> ids = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      ids.add(workgate.submit(WorkOrderSpec.builder("ok").build()));
    }
    ids.add(workgate.submit(WorkOrderSpec.builder("fatal").build()));
    for (int i = 0; i < 2; i++) {
      ids.add(workgate.submit(WorkOrderSpec.builder("flaky").queue("reports").build()));
    }
    WorkOrderId later =
        workgate.submit(
            WorkOrderSpec.builder("later").notBefore(Instant.now().plusSeconds(3600)).build());
    assertThat(workgate.cancel(later, "not needed")).isTrue();
    ids.add(later);
    for (WorkOrderId id : ids) {
      assertThat(workgate.await(id, WAIT).state().isTerminal()).isTrue();
    }
  }

  private PrometheusText scrape() {
    return PrometheusText.parse(registry.scrape());
  }

  /** Waits until the listener has counted every terminal event of {@code batches} batches. */
  private PrometheusText scrapeAfter(int batches) {
    await()
        .atMost(WAIT)
        .until(
            () -> {
              PrometheusText t = scrape();
              return t.sum("workgate_work_orders_completed_total") == 8.0 * batches
                  && t.sum("workgate_work_orders_failed_total") == 1.0 * batches
                  && t.sum("workgate_work_orders_cancelled_total") == 1.0 * batches
                  && t.sum("workgate_work_orders_end_to_end_seconds_count") == 10.0 * batches
                  && t.sum("workgate_work_orders_execution_seconds_count") == 11.0 * batches;
            });
    return scrape();
  }

  @Test
  void counters_move_by_exactly_what_one_batch_did_and_again_by_the_second() throws Exception {
    PrometheusText before = scrape();
    runBatch();
    PrometheusText first = scrapeAfter(1);
    assertBatchDelta(before, first);

    runBatch();
    PrometheusText second = scrapeAfter(2);
    assertBatchDelta(first, second);
  }

  private static void assertBatchDelta(PrometheusText a, PrometheusText b) {
    Delta d = new Delta(a, b);
    d.is(8, "workgate_work_orders_submitted_total", "queue", "default");
    d.is(2, "workgate_work_orders_submitted_total", "queue", "reports");

    d.is(10, "workgate_work_orders_transitions_total", "from", "NEW", "to", "PENDING");
    d.is(11, "workgate_work_orders_transitions_total", "from", "PENDING", "to", "PREPARING");
    d.is(11, "workgate_work_orders_transitions_total", "from", "PREPARING", "to", "RUNNING");
    d.is(8, "workgate_work_orders_transitions_total", "from", "RUNNING", "to", "COMPLETED");
    d.is(2, "workgate_work_orders_transitions_total", "from", "RUNNING", "to", "WAITING_RETRY");
    d.is(2, "workgate_work_orders_transitions_total", "from", "WAITING_RETRY", "to", "PENDING");
    d.is(1, "workgate_work_orders_transitions_total", "from", "RUNNING", "to", "FAILED");
    d.is(1, "workgate_work_orders_transitions_total", "from", "PENDING", "to", "CANCELLED");
    d.is(46, "workgate_work_orders_transitions_total");

    d.is(6, "workgate_work_orders_completed_total", "queue", "default");
    d.is(2, "workgate_work_orders_completed_total", "queue", "reports");
    d.is(1, "workgate_work_orders_failed_total", "queue", "default", "error_code", "BAD_INPUT");
    d.is(1, "workgate_work_orders_failed_total");
    d.is(
        2,
        "workgate_attempts_failed_total",
        "queue",
        "reports",
        "error_code",
        "FLAKY",
        "outcome",
        "retry");
    d.is(
        1,
        "workgate_attempts_failed_total",
        "queue",
        "default",
        "error_code",
        "BAD_INPUT",
        "outcome",
        "final");
    d.is(3, "workgate_attempts_failed_total");
    d.is(2, "workgate_retries_released_total", "queue", "reports");
    d.is(0, "workgate_retries_released_total", "queue", "default");
    d.is(1, "workgate_work_orders_cancelled_total", "queue", "default");
    d.is(0, "workgate_work_orders_cancelled_total", "queue", "reports");

    d.is(7, "workgate_work_orders_wait_seconds_count", "queue", "default");
    d.is(4, "workgate_work_orders_wait_seconds_count", "queue", "reports");
    String execution = "workgate_work_orders_execution_seconds_count";
    d.is(6, execution, "queue", "default", "outcome", "completed");
    d.is(1, execution, "queue", "default", "outcome", "failed");
    d.is(2, execution, "queue", "reports", "outcome", "completed");
    d.is(2, execution, "queue", "reports", "outcome", "retry");
    String endToEnd = "workgate_work_orders_end_to_end_seconds_count";
    d.is(6, endToEnd, "queue", "default", "outcome", "completed");
    d.is(1, endToEnd, "queue", "default", "outcome", "failed");
    d.is(1, endToEnd, "queue", "default", "outcome", "cancelled");
    d.is(2, endToEnd, "queue", "reports", "outcome", "completed");
  }

  /** Differences of sums between two scrapes. */
  private record Delta(PrometheusText before, PrometheusText after) {
    void is(double expected, String name, String... labels) {
      assertThat(after.sum(name, labels) - before.sum(name, labels))
          .as("%s %s", name, List.of(labels))
          .isEqualTo(expected);
    }
  }

  @Test
  void the_three_timers_publish_histogram_buckets_whose_infinity_bucket_is_the_count()
      throws Exception {
    runBatch();
    PrometheusText t = scrapeAfter(1);
    for (String timer :
        List.of(
            "workgate_work_orders_wait_seconds",
            "workgate_work_orders_execution_seconds",
            "workgate_work_orders_end_to_end_seconds")) {
      List<PrometheusText.Sample> buckets = t.samples(timer + "_bucket");
      assertThat(buckets).as(timer).isNotEmpty();
      assertThat(t.labelValues(timer + "_bucket", "le"))
          .as(timer)
          .contains("+Inf")
          .hasSizeGreaterThan(20);
      assertThat(t.sum(timer + "_bucket", "le", "+Inf")).isEqualTo(t.sum(timer + "_count"));
    }
    assertThat(
            t.value("workgate_work_orders_wait_seconds_bucket", "queue", "reports", "le", "+Inf"))
        .isEqualTo(4);
    // docs/metrics.md gives these bucket counts (10 ms to 1 h, and to 6 h for end to end).
    assertThat(t.samples("workgate_work_orders_wait_seconds_bucket"))
        .filteredOn(s -> s.has("queue", "reports"))
        .hasSize(86);
    assertThat(t.samples("workgate_work_orders_end_to_end_seconds_bucket"))
        .filteredOn(s -> s.has("queue", "reports") && s.has("outcome", "completed"))
        .hasSize(98);
    assertThat(t.labelValues("workgate_work_orders_wait_seconds_bucket", "le"))
        .contains("0.01", "3600.0", "+Inf");
  }

  @Test
  void gauges_show_the_store_and_the_node_after_a_batch() throws Exception {
    runBatch();
    scrapeAfter(1);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              PrometheusText t = scrape();
              assertThat(t.value("workgate_work_orders", "queue", "default", "state", "COMPLETED"))
                  .isEqualTo(6);
              assertThat(t.value("workgate_work_orders", "queue", "default", "state", "FAILED"))
                  .isEqualTo(1);
              assertThat(t.value("workgate_work_orders", "queue", "default", "state", "CANCELLED"))
                  .isEqualTo(1);
              assertThat(t.value("workgate_work_orders", "queue", "reports", "state", "COMPLETED"))
                  .isEqualTo(2);
              assertThat(t.sum("workgate_work_orders", "state", "PENDING")).isZero();
              assertThat(t.sum("workgate_work_orders")).isEqualTo(10);
              assertThat(t.value("workgate_retries_pending")).isZero();
              assertThat(t.value("workgate_slots_active")).isZero();
              assertThat(t.value("workgate_slots_max")).isEqualTo(2);
              assertThat(t.value("workgate_memory_pressure")).isZero();
              assertThat(t.sum("workgate_executions_active")).isZero();
              assertThat(t.labelValues("workgate_executions_active", "status"))
                  .containsExactly("CLEANUP", "PREPARING", "RUNNING");
              assertThat(t.value("workgate_executions_preparing_oldest_age_seconds")).isZero();
              assertThat(
                      t.value(
                          "workgate_work_orders_oldest_pending_age_seconds", "queue", "default"))
                  .isZero();
              assertThat(t.value("workgate_scheduler_leases_reaped_total")).isZero();
              assertThat(t.value("workgate_scheduler_heartbeat_age_seconds"))
                  .isGreaterThanOrEqualTo(0)
                  .isLessThan(5);
              assertThat(t.value("workgate_store_readings_age_seconds")).isLessThan(5);
            });
  }

  @Test
  void every_meter_in_the_catalogue_is_in_the_scrape_under_its_prometheus_name_with_its_help()
      throws Exception {
    runBatch();
    PrometheusText t = scrapeAfter(1);
    String text = registry.scrape();
    for (WorkgateMeter m : WorkgateMeter.values()) {
      String series =
          m.type() == WorkgateMeter.Type.TIMER
              ? m.prometheusName() + "_bucket"
              : m.prometheusName();
      assertThat(t.names()).as(m.name()).contains(series);
      for (PrometheusText.Sample s : t.samples(series)) {
        List<String> labels = new ArrayList<>();
        for (String key : m.tagKeys()) {
          labels.add(WorkgateMeter.prometheusLabel(key));
        }
        if (m.type() == WorkgateMeter.Type.TIMER) {
          labels.add("le");
        }
        assertThat(s.labels().keySet()).as(m.name()).containsExactlyInAnyOrderElementsOf(labels);
      }
      assertThat(text)
          .as(m.name())
          .contains("# HELP " + m.prometheusName() + " " + m.description() + "\n");
    }
  }

  @Test
  void a_queue_first_seen_in_the_store_gets_its_gauges_at_the_next_refresh() {
    assertThat(scrape().labelValues("workgate_work_orders", "queue")).doesNotContain("elsewhere");
    // Another node's queue: submitted here to a queue this node does not serve, so it stays
    // pending.
    workgate.submit(WorkOrderSpec.builder("ok").queue("elsewhere").build());
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              PrometheusText t = scrape();
              assertThat(t.value("workgate_work_orders", "queue", "elsewhere", "state", "PENDING"))
                  .isEqualTo(1);
              assertThat(
                      t.value(
                          "workgate_work_orders_oldest_pending_age_seconds", "queue", "elsewhere"))
                  .isGreaterThan(0);
            });
  }

  @Test
  void close_removes_the_listener_and_the_meters_and_is_idempotent() throws Exception {
    runBatch();
    scrapeAfter(1);
    metrics.close();
    metrics.close();
    assertThat(registry.getMeters()).isEmpty();
    runBatch();
    assertThat(registry.getMeters()).isEmpty();
    assertThat(scrape().names()).noneMatch(n -> n.startsWith("workgate_"));
    assertThatThrownBy(() -> metrics.bindTo(new SimpleMeterRegistry()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void a_binder_binds_once() {
    assertThatThrownBy(() -> metrics.bindTo(new SimpleMeterRegistry()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("CompositeMeterRegistry");
  }

  @Test
  void the_builder_rejects_bad_settings_naming_them() {
    assertThatThrownBy(
            () -> WorkgateMetrics.builder(workgate).storeCacheTtl(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("storeCacheTtl must not be negative, got -1.0s");
    assertThatThrownBy(() -> WorkgateMetrics.builder(workgate).maxQueueTags(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxQueueTags must be at least 1, got 0");
    assertThatThrownBy(() -> WorkgateMetrics.builder(workgate).maxErrorCodeTags(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxErrorCodeTags must be at least 1, got 0");
  }

  @Test
  void the_work_orders_gauge_has_every_state_of_a_known_queue() {
    PrometheusText t = scrape();
    List<String> states = new ArrayList<>();
    for (WorkOrderState s : WorkOrderState.values()) {
      states.add(s.name());
    }
    assertThat(t.samples("workgate_work_orders"))
        .filteredOn(s -> s.has("queue", "reports"))
        .extracting(s -> s.labels().get("state"))
        .containsExactlyInAnyOrderElementsOf(states);
  }
}
