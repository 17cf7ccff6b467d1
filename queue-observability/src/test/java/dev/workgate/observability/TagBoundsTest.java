package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.TransitionListener.StateChange;
import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** User-chosen tag values (queues, error codes) stop at their cap; the rest are {@code other}. */
class TagBoundsTest {
  static final Instant T = MutableClock.DEFAULT_START;

  @TempDir Path dir;
  final MutableClock clock = MutableClock.create();
  final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  Workgate workgate;
  WorkgateMetrics metrics;

  void bind(WorkgateMetrics.Builder builder) {
    metrics = builder.build();
    metrics.bindTo(registry);
  }

  Workgate node() {
    workgate =
        Workgate.builder()
            .nodeId("node-1")
            .clock(clock)
            .sandboxRoot(dir.resolve("sandboxes"))
            .memoryProbe(() -> new MemoryReading(1L << 36, 1L << 35, "test"))
            .handler("ok", ctx -> WorkResult.ok())
            .build();
    return workgate;
  }

  @AfterEach
  void close() {
    if (metrics != null) {
      metrics.close();
      workgate.close();
    }
  }

  private PrometheusText scrape() {
    return PrometheusText.parse(registry.scrape());
  }

  @Test
  void two_hundred_queues_and_error_codes_yield_at_most_the_caps_and_other_and_lose_no_count() {
    bind(WorkgateMetrics.builder(node()));
    for (int i = 0; i < 200; i++) {
      String queue = "queue-" + i;
      WorkOrderId id = WorkOrderId.of("wo-" + i);
      metrics.record(
          new StateChange(
              new RecordedEvent(
                  2 * i + 1,
                  id,
                  1,
                  T,
                  WorkOrderEvent.Submitted.of(WorkOrderSpec.builder("ok").queue(queue).build())),
              queue,
              0,
              Optional.empty(),
              WorkOrderState.PENDING,
              T,
              T));
      metrics.record(
          new StateChange(
              new RecordedEvent(
                  2 * i + 2,
                  id,
                  2,
                  T,
                  WorkOrderEvent.AttemptFailed.finalFailure(
                      ErrorInfo.fatal("CODE_" + i, "bad"), "not retryable")),
              queue,
              1,
              Optional.of(WorkOrderState.RUNNING),
              WorkOrderState.FAILED,
              T,
              T));
    }
    PrometheusText t = scrape();

    Set<String> queues = t.labelValues("workgate_work_orders_submitted_total", "queue");
    // "default", which the node serves, took one of the 100 places at bind time.
    assertThat(queues)
        .hasSize(WorkgateMetrics.DEFAULT_MAX_QUEUE_TAGS + 1)
        .contains("other", "default");
    assertThat(queues).contains("queue-0", "queue-98").doesNotContain("queue-99", "queue-199");
    assertThat(t.sum("workgate_work_orders_submitted_total")).isEqualTo(200);
    assertThat(t.value("workgate_work_orders_submitted_total", "queue", "other")).isEqualTo(101);

    Set<String> codes = t.labelValues("workgate_work_orders_failed_total", "error_code");
    assertThat(codes).hasSize(WorkgateMetrics.DEFAULT_MAX_ERROR_CODE_TAGS + 1).contains("other");
    assertThat(codes).contains("CODE_0", "CODE_49").doesNotContain("CODE_50");
    assertThat(t.sum("workgate_work_orders_failed_total")).isEqualTo(200);
    assertThat(t.sum("workgate_work_orders_failed_total", "error_code", "other")).isEqualTo(150);
    assertThat(t.labelValues("workgate_attempts_failed_total", "error_code")).hasSize(51);
    // Nothing ended in "default", so its timer does not exist: 99 queues and other.
    assertThat(t.labelValues("workgate_work_orders_end_to_end_seconds_count", "queue"))
        .hasSize(100)
        .contains("other");
  }

  @Test
  void store_backed_gauges_sum_the_queues_past_the_cap_into_other() {
    bind(WorkgateMetrics.builder(node()).maxQueueTags(10));
    for (int i = 0; i < 200; i++) {
      workgate.submit(WorkOrderSpec.builder("ok").queue("queue-" + i).build());
    }
    clock.advance(Duration.ofSeconds(5));
    // The first scrape's refresh sees the new queues and registers their gauges while the scrape
    // runs, so some of them are only in the next one.
    scrape();
    PrometheusText t = scrape();
    Set<String> queues = t.labelValues("workgate_work_orders", "queue");
    assertThat(queues).hasSize(11).contains("default", "other", "queue-0", "queue-8");
    assertThat(t.sum("workgate_work_orders")).isEqualTo(200);
    assertThat(t.value("workgate_work_orders", "queue", "other", "state", "PENDING"))
        .isEqualTo(191);
    assertThat(t.value("workgate_work_orders_oldest_pending_age_seconds", "queue", "other"))
        .isEqualTo(5.0);
    assertThat(t.labelValues("workgate_work_orders_oldest_pending_age_seconds", "queue"))
        .hasSize(11);
  }

  @Test
  void paused_queues_past_the_cap_are_counted_under_other() {
    bind(WorkgateMetrics.builder(node()).maxQueueTags(3));
    for (int i = 0; i < 6; i++) {
      workgate.pauseQueue("paused-" + i, "ops", "maintenance");
    }
    clock.advance(Duration.ofSeconds(5));
    scrape(); // the refresh that sees the pauses registers their gauges during this scrape
    PrometheusText t = scrape();
    Set<String> queues = t.labelValues("workgate_queue_paused", "queue");
    assertThat(queues).containsExactlyInAnyOrder("default", "paused-0", "paused-1", "other");
    assertThat(t.value("workgate_queue_paused", "queue", "default")).isZero();
    assertThat(t.value("workgate_queue_paused", "queue", "paused-0")).isEqualTo(1);
    assertThat(t.value("workgate_queue_paused", "queue", "other")).isEqualTo(4);
  }

  @Test
  void a_value_once_admitted_keeps_its_tag() {
    BoundedTagValues values = new BoundedTagValues(2);
    assertThat(values.tag("a")).isEqualTo("a");
    assertThat(values.tag("b")).isEqualTo("b");
    assertThat(values.tag("c")).isEqualTo("other");
    assertThat(values.tag("a")).isEqualTo("a");
    assertThat(values.isAdmitted("c")).isFalse();
    assertThat(values.tag("c")).isEqualTo("other");
  }
}
