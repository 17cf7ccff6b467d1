package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.TransitionListener.StateChange;
import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real threads: submitters, executions and a scraper at once. Every count ends exact, and meters
 * created by racing threads are created once.
 */
@Timeout(120)
class WorkgateMetricsConcurrencyTest {
  static final int THREADS = 8;
  static final int PER_THREAD = 40;
  static final int TOTAL = THREADS * PER_THREAD;
  static final List<String> QUEUES = List.of("q0", "q1", "q2", "q3");

  @TempDir Path dir;
  final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final ExecutorService pool = Executors.newFixedThreadPool(THREADS + 1);
  Workgate workgate;
  WorkgateMetrics metrics;

  @AfterEach
  void stop() throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    if (metrics != null) {
      metrics.close();
    }
    if (workgate != null) {
      workgate.close();
    }
  }

  @Test
  void threads_submitting_while_work_completes_and_scrapes_run_end_with_exact_counts()
      throws Exception {
    workgate =
        Workgate.builder()
            .nodeId("node-1")
            .sandboxRoot(dir.resolve("sandboxes"))
            .pollInterval(Duration.ofMillis(50))
            .maxConcurrent(4)
            .queues(QUEUES.toArray(String[]::new))
            .memoryProbe(() -> new MemoryReading(1L << 36, 1L << 35, "test"))
            .handler("ok", ctx -> WorkResult.ok())
            .build();
    metrics = WorkgateMetrics.builder(workgate).storeCacheTtl(Duration.ZERO).build();
    metrics.bindTo(registry);
    workgate.start();

    AtomicBoolean done = new AtomicBoolean();
    Future<?> scraper =
        pool.submit(
            () -> {
              while (!done.get()) {
                PrometheusText.parse(registry.scrape());
              }
              return null;
            });
    CountDownLatch go = new CountDownLatch(1);
    ConcurrentLinkedQueue<WorkOrderId> ids = new ConcurrentLinkedQueue<>();
    List<Future<?>> submitters = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      int thread = t;
      submitters.add(
          pool.submit(
              () -> {
                go.await();
                for (int i = 0; i < PER_THREAD; i++) {
                  String queue = QUEUES.get((thread + i) % QUEUES.size());
                  ids.add(workgate.submit(WorkOrderSpec.builder("ok").queue(queue).build()));
                }
                return null;
              }));
    }
    go.countDown();
    for (Future<?> f : submitters) {
      f.get(60, TimeUnit.SECONDS);
    }
    for (WorkOrderId id : ids) {
      assertThat(workgate.await(id, Duration.ofSeconds(60)).state())
          .isEqualTo(WorkOrderState.COMPLETED);
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                PrometheusText.parse(registry.scrape())
                        .sum("workgate_work_orders_end_to_end_seconds_count")
                    == TOTAL);
    done.set(true);
    scraper.get(30, TimeUnit.SECONDS);

    PrometheusText t = PrometheusText.parse(registry.scrape());
    assertThat(ids).hasSize(TOTAL);
    assertThat(t.sum("workgate_work_orders_submitted_total")).isEqualTo(TOTAL);
    assertThat(t.sum("workgate_work_orders_completed_total")).isEqualTo(TOTAL);
    for (String queue : QUEUES) {
      assertThat(t.value("workgate_work_orders_submitted_total", "queue", queue))
          .isEqualTo(TOTAL / QUEUES.size());
      assertThat(t.value("workgate_work_orders_completed_total", "queue", queue))
          .isEqualTo(TOTAL / QUEUES.size());
    }
    assertThat(t.sum("workgate_work_orders_transitions_total", "from", "NEW")).isEqualTo(TOTAL);
    assertThat(t.sum("workgate_work_orders_transitions_total", "to", "PREPARING")).isEqualTo(TOTAL);
    assertThat(t.sum("workgate_work_orders_transitions_total", "to", "COMPLETED")).isEqualTo(TOTAL);
    assertThat(t.sum("workgate_work_orders_transitions_total")).isEqualTo(4 * TOTAL);
    assertThat(t.sum("workgate_work_orders_wait_seconds_count")).isEqualTo(TOTAL);
    assertThat(t.sum("workgate_work_orders_execution_seconds_count")).isEqualTo(TOTAL);
    assertThat(t.sum("workgate_work_orders", "state", "COMPLETED")).isEqualTo(TOTAL);
    assertThat(t.sum("workgate_work_orders_failed_total")).isZero();
    assertThat(metrics.rememberedStarts()).isZero();
  }

  @Test
  void racing_threads_recording_new_tag_values_lose_no_count() throws Exception {
    workgate =
        Workgate.builder()
            .nodeId("node-1")
            .sandboxRoot(dir.resolve("sandboxes"))
            .memoryProbe(() -> new MemoryReading(1L << 36, 1L << 35, "test"))
            .handler("ok", ctx -> WorkResult.ok())
            .build();
    metrics = new WorkgateMetrics(workgate);
    metrics.bindTo(registry);
    int perThread = 2_000;
    Instant now = Instant.parse("2025-01-01T00:00:00Z");
    CountDownLatch go = new CountDownLatch(1);
    List<Future<?>> threads = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      int thread = t;
      threads.add(
          pool.submit(
              () -> {
                go.await();
                for (int i = 0; i < perThread; i++) {
                  // 150 queues: every thread races to create the same new counters, and past the
                  // cap of 100 all of them land on "other".
                  String queue = "queue-" + ((i + thread) % 150);
                  metrics.record(
                      new StateChange(
                          new RecordedEvent(
                              1,
                              WorkOrderId.of("wo-" + thread + "-" + i),
                              1,
                              now,
                              WorkOrderEvent.Submitted.of(
                                  WorkOrderSpec.builder("ok").queue(queue).build())),
                          queue,
                          0,
                          Optional.empty(),
                          WorkOrderState.PENDING,
                          now,
                          now));
                }
                return null;
              }));
    }
    go.countDown();
    for (Future<?> f : threads) {
      f.get(60, TimeUnit.SECONDS);
    }
    PrometheusText t = PrometheusText.parse(registry.scrape());
    assertThat(t.sum("workgate_work_orders_submitted_total")).isEqualTo(THREADS * perThread);
    assertThat(t.sum("workgate_work_orders_transitions_total", "from", "NEW", "to", "PENDING"))
        .isEqualTo(THREADS * perThread);
    assertThat(t.labelValues("workgate_work_orders_submitted_total", "queue"))
        .hasSize(WorkgateMetrics.DEFAULT_MAX_QUEUE_TAGS + 1);
  }
}
