package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.retry.RetryPolicy;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Workgate#node()} shows what the node does, read from memory and never from the store. */
class NodeViewTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final RetryPolicy ONCE = RetryPolicy.none();

  @TempDir Path dir;
  private final CountDownLatch release = new CountDownLatch(1);
  private final List<String> testThreadCalls = new CopyOnWriteArrayList<>();
  private volatile Thread counted;
  private Workgate w;

  @AfterEach
  void close() {
    release.countDown();
    if (w != null) {
      w.close();
    }
  }

  /** A node whose "block" handler holds its slot until the test releases it. */
  private Workgate start(WorkOrderStore store) {
    w =
        Workgate.builder()
            .store(store)
            .sandboxRoot(dir)
            .maxConcurrent(3)
            .pollInterval(Duration.ofMillis(20))
            .queues("default", "once")
            .retryPolicy("once", ONCE)
            .handler(
                "block",
                ctx -> {
                  release.await(WAIT.toSeconds(), TimeUnit.SECONDS);
                  return WorkResult.ok();
                })
            .build();
    w.start();
    return w;
  }

  @Test
  void the_view_shows_slots_executions_heartbeat_and_counts_of_a_running_node() throws Exception {
    start(Stores.inMemory());
    NodeView node = w.node();
    assertThat(node.nodeId()).isEqualTo(w.nodeId());
    assertThat(node.maxSlots()).isEqualTo(3);
    await().atMost(WAIT).until(() -> node.lastHeartbeat().isPresent());
    assertThat(node.isRunning()).isTrue();
    assertThat(node.isClaiming()).isTrue();
    assertThat(node.turnCount()).isPositive();

    WorkOrderId id = w.submit(WorkOrderSpec.builder("block").build());
    await().atMost(WAIT).until(() -> node.slotsInUse() == 1);
    assertThat(node.heldWorkOrders()).isEqualTo(1);
    assertThat(node.activeExecutions())
        .singleElement()
        .extracting(NodeView.ActiveExecution::workOrderId)
        .isEqualTo(id);
    assertThat(node.resources().activeSlots()).isEqualTo(1);
    assertThat(node.claimedCount()).isEqualTo(1);

    release.countDown();
    assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    await().atMost(WAIT).until(() -> node.activeExecutions().isEmpty());
    await().atMost(WAIT).until(() -> node.slotsInUse() == 0);
    assertThat(node.heldWorkOrders()).isZero();
    assertThat(node.claimedCount()).isEqualTo(1);
    assertThat(node.reapedCount()).isZero();
    assertThat(node.selfFencedCount()).isZero();
    assertThat(node.abandonedHandlers()).isEmpty();
    assertThat(node.abandonedCreations()).isEmpty();

    w.shutdown(Duration.ZERO);
    assertThat(node.isClaiming()).isFalse();
    assertThat(node.isRunning()).isFalse();
  }

  @Test
  void the_view_reports_the_settings_the_node_runs_with() {
    start(Stores.inMemory());
    NodeView node = w.node();
    assertThat(node.retryPolicy("once")).isSameAs(ONCE);
    assertThat(node.retryPolicy("other")).isNotSameAs(ONCE);
    assertThat(node.pollInterval()).isEqualTo(Duration.ofMillis(20));
    assertThat(node.queues()).containsExactlyElementsOf(NodeParts.schedulerConfig(w).queues());
    assertThat(node.resourceConfig().maxConcurrent()).isEqualTo(3);
    assertThat(node.leaseLostGrace())
        .isEqualTo(NodeParts.schedulerConfig(w).selfFenceMargin().dividedBy(2));
  }

  @Test
  void no_method_of_the_view_calls_the_store() throws Exception {
    start(counting(Stores.inMemory()));
    WorkOrderId id = w.submit(WorkOrderSpec.builder("block").build());
    await().atMost(WAIT).until(() -> w.node().slotsInUse() == 1);
    await().atMost(WAIT).until(() -> w.node().lastHeartbeat().isPresent());

    // Only this thread's calls count: the node's own threads keep using the store meanwhile.
    counted = Thread.currentThread();
    List<String> read = new ArrayList<>();
    for (Method m : NodeView.class.getMethods()) {
      Object[] args = m.getParameterCount() == 0 ? new Object[0] : new Object[] {"default"};
      m.invoke(w.node(), args);
      read.add(m.getName());
    }
    counted = null;

    assertThat(read).contains("activeExecutions", "resources", "heldWorkOrders", "retryPolicy");
    assertThat(testThreadCalls).as("store calls made by the view").isEmpty();
    // The proxy does see this thread's store calls: the check above can fail.
    counted = Thread.currentThread();
    w.find(id);
    counted = null;
    assertThat(testThreadCalls).isNotEmpty();
  }

  @Test
  void an_execution_shows_the_progress_it_reported_at_once() throws Exception {
    w =
        Workgate.builder()
            .store(Stores.inMemory())
            .sandboxRoot(dir)
            .maxConcurrent(2)
            .pollInterval(Duration.ofMillis(20))
            .handler(
                "report",
                ctx -> {
                  ctx.progress(0.4, "step 2 of 5");
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
    w.start();
    WorkOrderId reporting = w.submit(WorkOrderSpec.builder("report").build());
    WorkOrderId silent = w.submit(WorkOrderSpec.builder("silent").build());
    NodeView node = w.node();

    await()
        .atMost(WAIT)
        .until(
            () ->
                node.activeExecutions().stream()
                    .anyMatch(e -> e.workOrderId().equals(reporting) && e.progress().isPresent()));
    await().atMost(WAIT).until(() -> node.activeExecutions().size() == 2);

    NodeView.ActiveExecution reported =
        node.activeExecutions().stream()
            .filter(e -> e.workOrderId().equals(reporting))
            .findFirst()
            .orElseThrow();
    assertThat(reported.progress().orElseThrow().fraction()).isEqualTo(0.4);
    assertThat(reported.progress().orElseThrow().message()).isEqualTo("step 2 of 5");
    assertThat(
            node.activeExecutions().stream()
                .filter(e -> e.workOrderId().equals(silent))
                .findFirst()
                .orElseThrow()
                .progress())
        .isEmpty();
  }

  @Test
  void stats_tell_paused_queues_and_blocked_work_reading_the_pauses_once() {
    start(counting(Stores.inMemory()));
    WorkOrderId first = w.submit(WorkOrderSpec.builder("block").build());
    w.submit(WorkOrderSpec.builder("block").after(first).build());
    assertThat(w.pauseQueue("once", "ops-alice", "the registry is down")).isTrue();
    QueueStats before = w.stats();
    assertThat(before.blocked()).isEqualTo(1);
    assertThat(before.blocked("default")).isEqualTo(1);
    assertThat(before.blocked("once")).isZero();
    assertThat(before.count(WorkOrderState.BLOCKED)).isEqualTo(1);

    counted = Thread.currentThread();
    QueueStats stats = w.stats();
    counted = null;

    assertThat(testThreadCalls).containsOnlyOnce("pausedQueues");
    assertThat(stats.isPaused("once")).isTrue();
    assertThat(stats.isPaused("default")).isFalse();
    assertThat(stats.pause("default")).isEmpty();
    assertThat(stats.paused())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.queue()).isEqualTo("once");
              assertThat(p.actor()).isEqualTo("ops-alice");
              assertThat(p.reason()).isEqualTo("the registry is down");
              assertThat(p.at()).isEqualTo(stats.pause("once").orElseThrow().at());
            });

    assertThat(w.resumeQueue("once", "ops-alice", "")).isTrue();
    assertThat(w.stats().paused()).isEmpty();
  }

  @Test
  void stats_refuse_resumes_and_a_queue_paused_twice() {
    java.time.Instant at = java.time.Instant.parse("2026-01-01T00:00:00Z");
    dev.workgate.core.store.QueueAction pause =
        new dev.workgate.core.store.QueueAction(
            "q", dev.workgate.core.store.QueueAction.Kind.PAUSE, at, "ops", "");
    dev.workgate.core.store.QueueAction resume =
        new dev.workgate.core.store.QueueAction(
            "q", dev.workgate.core.store.QueueAction.Kind.RESUME, at, "ops", "");
    dev.workgate.core.store.StoreView.QueueCounts none =
        dev.workgate.core.store.StoreView.QueueCounts.empty();
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new QueueStats(none, 0, 1, null, List.of(), null, List.of(resume)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RESUME of queue 'q'");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new QueueStats(none, 0, 1, null, List.of(), null, List.of(pause, pause)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("queue 'q' is paused twice");
    assertThat(new QueueStats(none, 0, 1, null, List.of(), null).paused()).isEmpty();
  }

  /** A store that records the calls made on the {@link #counted} thread. */
  private WorkOrderStore counting(WorkOrderStore delegate) {
    return (WorkOrderStore)
        Proxy.newProxyInstance(
            WorkOrderStore.class.getClassLoader(),
            new Class<?>[] {WorkOrderStore.class},
            (proxy, method, args) -> {
              if (Thread.currentThread() == counted) {
                testThreadCalls.add(method.getName());
              }
              try {
                return method.invoke(delegate, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }
}
