package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The meters of queue pauses, dependency decisions, checkpoints and progress, on a real node: the
 * paused gauge follows pauses and resumes (also of queues the node does not serve), the decision
 * counter counts each decision once by outcome, the checkpoint counter each checkpoint stored, and
 * the progress gauges what this node's running work reported.
 */
@Timeout(60)
class PausesChainsProgressMetricsTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final long GB = 1L << 30;

  @TempDir Path dir;
  final CountDownLatch release = new CountDownLatch(1);
  Workgate workgate;
  WorkgateMetrics metrics;
  PrometheusMeterRegistry registry;

  @BeforeEach
  void start() {
    workgate =
        Workgate.builder()
            .nodeId("node-1")
            .sandboxRoot(dir.resolve("sandboxes"))
            .pollInterval(Duration.ofMillis(50))
            .maxConcurrent(4)
            .queues("default", "reports")
            .retryPolicy(RetryPolicy.none())
            .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
            .handler("ok", ctx -> WorkResult.ok())
            .handler("fatal", ctx -> WorkResult.fatalFailure("BAD_INPUT", "cannot run this"))
            .handler(
                "steps",
                ctx -> {
                  for (int i = 1; i <= 3; i++) {
                    ctx.checkpoint(Map.of("step", i));
                  }
                  return WorkResult.ok();
                })
            .handler(
                "report",
                ctx -> {
                  ctx.progress(ctx.payload().get("fraction").asDouble(), "working");
                  release.await(WAIT.toSeconds(), TimeUnit.SECONDS);
                  return WorkResult.ok();
                })
            .handler(
                "silent",
                ctx -> {
                  release.await(WAIT.toSeconds(), TimeUnit.SECONDS);
                  return WorkResult.ok();
                })
            .build();
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    metrics = WorkgateMetrics.builder(workgate).storeCacheTtl(Duration.ZERO).build();
    metrics.bindTo(registry);
    workgate.start();
  }

  @AfterEach
  void stop() {
    release.countDown();
    metrics.close();
    workgate.close();
  }

  private PrometheusText scrape() {
    return PrometheusText.parse(registry.scrape());
  }

  @Test
  void the_paused_gauge_follows_pauses_and_resumes_of_served_and_other_queues() {
    PrometheusText before = scrape();
    assertThat(before.value("workgate_queue_paused", "queue", "default")).isZero();
    assertThat(before.value("workgate_queue_paused", "queue", "reports")).isZero();
    assertThat(before.labelValues("workgate_queue_paused", "queue")).doesNotContain("nightly");

    workgate.pauseQueue("reports", "ops-alice", "the printer is down");
    workgate.pauseQueue("nightly", "ops-alice", "no work yet, paused ahead");

    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              PrometheusText t = scrape();
              assertThat(t.value("workgate_queue_paused", "queue", "reports")).isEqualTo(1);
              assertThat(t.value("workgate_queue_paused", "queue", "nightly")).isEqualTo(1);
              assertThat(t.value("workgate_queue_paused", "queue", "default")).isZero();
            });

    workgate.resumeQueue("reports", "ops-alice", "");
    PrometheusText after = scrape();
    assertThat(after.value("workgate_queue_paused", "queue", "reports")).isZero();
    assertThat(after.value("workgate_queue_paused", "queue", "nightly")).isEqualTo(1);
  }

  @Test
  void dependency_decisions_are_counted_once_by_outcome_and_a_failed_one_as_a_cancellation()
      throws Exception {
    PrometheusText before = scrape();
    WorkOrderId good = workgate.submit(WorkOrderSpec.builder("ok").build());
    WorkOrderId met = workgate.submit(WorkOrderSpec.builder("ok").after(good).build());
    WorkOrderId bad = workgate.submit(WorkOrderSpec.builder("fatal").build());
    WorkOrderId failed =
        workgate.submit(WorkOrderSpec.builder("ok").queue("reports").after(bad).build());

    assertThat(workgate.await(met, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    WorkOrderView cancelled = workgate.await(failed, WAIT);
    assertThat(cancelled.state()).isEqualTo(WorkOrderState.CANCELLED);

    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              PrometheusText t = scrape();
              String decided = "workgate_dependencies_decided_total";
              assertThat(delta(before, t, decided, "queue", "default", "outcome", "met"))
                  .isEqualTo(1);
              assertThat(delta(before, t, decided, "queue", "reports", "outcome", "failed"))
                  .isEqualTo(1);
              assertThat(t.sum(decided) - before.sum(decided)).isEqualTo(2);
              assertThat(
                      delta(
                          before,
                          t,
                          "workgate_work_orders_transitions_total",
                          "from",
                          "BLOCKED",
                          "to",
                          "PENDING"))
                  .isEqualTo(1);
              assertThat(
                      delta(
                          before,
                          t,
                          "workgate_work_orders_transitions_total",
                          "from",
                          "BLOCKED",
                          "to",
                          "CANCELLED"))
                  .isEqualTo(1);
              assertThat(
                      delta(before, t, "workgate_work_orders_cancelled_total", "queue", "reports"))
                  .isEqualTo(1);
              assertThat(
                      delta(
                          before,
                          t,
                          "workgate_work_orders_end_to_end_seconds_count",
                          "queue",
                          "reports",
                          "outcome",
                          "cancelled"))
                  .isEqualTo(1);
            });
  }

  @Test
  void each_checkpoint_stored_is_counted_once() throws Exception {
    PrometheusText before = scrape();
    WorkOrderId id = workgate.submit(WorkOrderSpec.builder("steps").queue("reports").build());
    assertThat(workgate.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              PrometheusText t = scrape();
              assertThat(
                      delta(before, t, "workgate_checkpoints_recorded_total", "queue", "reports"))
                  .isEqualTo(3);
              assertThat(
                      delta(before, t, "workgate_checkpoints_recorded_total", "queue", "default"))
                  .isZero();
            });
  }

  @Test
  void the_progress_gauges_give_the_mean_of_what_running_work_reported_and_nan_without_any() {
    PrometheusText idle = scrape();
    assertThat(idle.value("workgate_executions_progress", "queue", "default")).isNaN();
    assertThat(idle.value("workgate_executions_progress_reporting", "queue", "default")).isZero();

    workgate.submit(WorkOrderSpec.builder("report").payload(Map.of("fraction", 0.25)).build());
    workgate.submit(WorkOrderSpec.builder("report").payload(Map.of("fraction", 0.75)).build());
    workgate.submit(WorkOrderSpec.builder("silent").build());
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              PrometheusText t = scrape();
              assertThat(t.value("workgate_executions_progress_reporting", "queue", "default"))
                  .isEqualTo(2);
              assertThat(t.value("workgate_executions_progress", "queue", "default"))
                  .isEqualTo(0.5);
              assertThat(t.value("workgate_executions_active", "status", "RUNNING")).isEqualTo(3);
            });
    PrometheusText running = scrape();
    assertThat(running.value("workgate_executions_progress", "queue", "reports")).isNaN();
    assertThat(running.value("workgate_executions_progress_reporting", "queue", "reports"))
        .isZero();

    release.countDown();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              PrometheusText t = scrape();
              assertThat(t.value("workgate_executions_progress_reporting", "queue", "default"))
                  .isZero();
              assertThat(t.value("workgate_executions_progress", "queue", "default")).isNaN();
            });
  }

  private static double delta(
      PrometheusText before, PrometheusText after, String name, String... labels) {
    return after.sum(name, labels) - before.sum(name, labels);
  }
}
