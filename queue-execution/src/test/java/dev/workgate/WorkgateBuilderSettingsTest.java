package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.QueueFullException;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.retry.ErrorClassifier;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.scheduler.internal.SchedulerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every setting {@link Workgate.Builder} forwards to the parts it wires takes effect in a running
 * node; bad values and conflicting settings are refused naming the setting.
 */
@Timeout(60)
class WorkgateBuilderSettingsTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final long GB = 1L << 30;
  static final RetryPolicy FAST =
      RetryPolicy.builder()
          .maxAttempts(3)
          .baseDelay(Duration.ofMillis(20))
          .maxDelay(Duration.ofMillis(100))
          .jitter(Jitter.none())
          .build();

  @TempDir Path dir;
  final List<Workgate> opened = new ArrayList<>();

  @AfterEach
  void closeAll() {
    opened.forEach(Workgate::close);
  }

  Workgate.Builder builder() {
    return Workgate.builder()
        .nodeId("node-1")
        .sandboxRoot(dir.resolve("sandboxes"))
        .pollInterval(Duration.ofMillis(50))
        .retryPolicy(FAST)
        .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"));
  }

  Workgate start(Workgate.Builder builder) {
    Workgate w = builder.build();
    opened.add(w);
    w.start();
    return w;
  }

  static WorkOrderSpec job(String type, String queue) {
    return WorkOrderSpec.builder(type).queue(queue).build();
  }

  /** Waits until the loop has run a few more turns, in each of which it could have claimed. */
  static void awaitTurns(Workgate w, int more) {
    long from = w.stats().scheduler().turns();
    await().atMost(WAIT).until(() -> w.stats().scheduler().turns() >= from + more);
  }

  static WorkResult ok(WorkContext ctx) {
    return WorkResult.ok();
  }

  // ---- settings taking effect through the runtime ----

  @Test
  void queue_concurrency_caps_a_queue_while_slots_are_free() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger running = new AtomicInteger();
    AtomicInteger mostAtOnce = new AtomicInteger();
    Semaphore started = new Semaphore(0);
    Workgate w =
        start(
            builder()
                .maxConcurrent(4)
                .queues("default", "narrow")
                .queueConcurrency("narrow", 2)
                .handler(
                    "block",
                    ctx -> {
                      mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
                      started.release();
                      try {
                        release.await(30, TimeUnit.SECONDS);
                      } finally {
                        running.decrementAndGet();
                      }
                      return WorkResult.ok();
                    })
                .handler("quick", WorkgateBuilderSettingsTest::ok));

    List<WorkOrderId> narrow = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      narrow.add(w.submit(job("block", "narrow")));
    }
    assertThat(started.tryAcquire(2, 30, TimeUnit.SECONDS)).isTrue();
    // The node has slots left: work of another queue still runs beside the two.
    assertThat(w.await(w.submit(job("quick", "default")), WAIT).state())
        .isEqualTo(WorkOrderState.COMPLETED);
    awaitTurns(w, 3);

    assertThat(running.get()).isEqualTo(2);
    assertThat(w.stats().activeSlots()).isEqualTo(2);
    assertThat(w.stats().maxSlots()).isEqualTo(4);
    assertThat(narrow.stream().filter(id -> state(w, id) == WorkOrderState.PENDING)).hasSize(2);

    release.countDown();
    for (WorkOrderId id : narrow) {
      assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    }
    assertThat(mostAtOnce.get()).isEqualTo(2);
  }

  @Test
  void max_starts_per_second_spaces_starts_by_the_node_s_clock() throws Exception {
    MutableClock clock = MutableClock.create();
    Instant t0 = clock.instant();
    List<Instant> starts = new CopyOnWriteArrayList<>();
    Workgate w =
        start(
            builder()
                .clock(clock)
                .maxConcurrent(8)
                .maxStartsPerSecond(2)
                .handler(
                    "record",
                    ctx -> {
                      starts.add(clock.instant());
                      return WorkResult.ok();
                    }));
    List<WorkOrderId> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(w.submit(job("record", "default")));
    }

    // A burst of one second's worth, then nothing while the clock stands still.
    await().atMost(WAIT).until(() -> starts.size() == 2);
    awaitTurns(w, 3);
    assertThat(starts).hasSize(2);

    clock.advance(Duration.ofSeconds(1));
    await().atMost(WAIT).until(() -> starts.size() == 4);
    awaitTurns(w, 3);
    assertThat(starts).hasSize(4);

    clock.advance(Duration.ofSeconds(1));
    for (WorkOrderId id : ids) {
      assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    }
    assertThat(starts)
        .containsExactly(t0, t0, t0.plusSeconds(1), t0.plusSeconds(1), t0.plusSeconds(2));
  }

  @Test
  void a_queue_s_own_retry_policy_replaces_the_default_for_that_queue_only() throws Exception {
    Workgate w =
        start(
            builder()
                .queues("default", "once")
                .retryPolicy("once", RetryPolicy.none())
                .handler(
                    "flaky",
                    ctx -> {
                      if (ctx.attempt() == 1) {
                        throw new IllegalStateException("the first attempt fails");
                      }
                      return WorkResult.ok();
                    }));

    WorkOrderView retried = w.await(w.submit(job("flaky", "default")), WAIT);
    WorkOrderView once = w.await(w.submit(job("flaky", "once")), WAIT);

    assertThat(retried.state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(retried.attempt()).isEqualTo(2);
    assertThat(once.state()).isEqualTo(WorkOrderState.FAILED);
    assertThat(once.attempt()).isEqualTo(1);
    assertThat(once.lastError().orElseThrow().retryable()).isTrue(); // the policy, not the error
    assertThat(w.node().retryPolicy("once")).isSameAs(RetryPolicy.none());
  }

  static final class QuotaExceededException extends Exception {
    private static final long serialVersionUID = 1L;

    QuotaExceededException(String message) {
      super(message);
    }
  }

  @Test
  void the_error_classifier_maps_a_handler_s_exception_to_a_fatal_code() throws Exception {
    Workgate w =
        start(
            builder()
                .errorClassifier(
                    ErrorClassifier.builder()
                        .exception(QuotaExceededException.class, "QUOTA_EXCEEDED")
                        .code("QUOTA_EXCEEDED", false)
                        .build())
                .handler(
                    "quota",
                    ctx -> {
                      throw new QuotaExceededException("monthly quota used up");
                    })
                .handler(
                    "flaky",
                    ctx -> {
                      if (ctx.attempt() == 1) {
                        throw new IllegalStateException("the first attempt fails");
                      }
                      return WorkResult.ok();
                    }));

    WorkOrderView quota = w.await(w.submit(job("quota", "default")), WAIT);
    WorkOrderView flaky = w.await(w.submit(job("flaky", "default")), WAIT);

    assertThat(quota.state()).isEqualTo(WorkOrderState.FAILED);
    assertThat(quota.attempt()).isEqualTo(1);
    assertThat(quota.lastError().orElseThrow().code()).isEqualTo("QUOTA_EXCEEDED");
    assertThat(quota.lastError().orElseThrow().retryable()).isFalse();
    assertThat(quota.lastError().orElseThrow().message()).contains("monthly quota used up");
    assertThat(WorkgateTest.types(w, quota.id())).doesNotContain(EventType.RETRY_RELEASED);
    // An exception the classifier does not map still gets the policy's retries.
    assertThat(flaky.state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(flaky.attempt()).isEqualTo(2);
  }

  @Test
  void the_random_source_draws_the_retry_jitter() throws Exception {
    MutableClock clock = MutableClock.create();
    RetryPolicy jittered =
        RetryPolicy.builder()
            .maxAttempts(3)
            .baseDelay(Duration.ofSeconds(10))
            .jitter(Jitter.full())
            .build();
    Workgate w =
        start(
            builder()
                .clock(clock)
                .retryPolicy(jittered)
                .random(new SplittableRandom(42))
                .handler(
                    "fail",
                    ctx -> {
                      throw new IllegalStateException("fails");
                    }));

    WorkOrderId id = w.submit(job("fail", "default"));
    await().atMost(WAIT).until(() -> state(w, id) == WorkOrderState.WAITING_RETRY);

    Duration expected = jittered.delayBeforeAttempt(2, new SplittableRandom(42));
    // The store keeps microseconds.
    assertThat(w.find(id).orElseThrow().nextAttemptAt())
        .contains(clock.instant().plus(expected).truncatedTo(ChronoUnit.MICROS));
  }

  @Test
  void scheduler_settings_reach_the_node_s_scheduler() {
    Workgate w =
        builder()
            .starvationThreshold(Duration.ofMinutes(3))
            .leaseDuration(Duration.ofSeconds(60))
            .renewInterval(Duration.ofSeconds(7))
            .claimBatchSize(3)
            .reapBatchSize(9)
            .maxStartsPerSecond(1.5)
            .queueConcurrency("default", 5)
            .handler("x", WorkgateBuilderSettingsTest::ok)
            .build();
    opened.add(w);

    SchedulerConfig config = NodeParts.schedulerConfig(w);
    assertThat(config.starvationThreshold()).isEqualTo(Duration.ofMinutes(3));
    assertThat(config.renewInterval()).isEqualTo(Duration.ofSeconds(7));
    assertThat(config.claimBatchSize()).isEqualTo(3);
    assertThat(config.reapBatchSize()).isEqualTo(9);
    assertThat(config.maxStartsPerSecond()).isEqualTo(1.5);
    assertThat(config.queueConcurrency("default")).hasValue(5);
  }

  @Test
  void setting_a_single_valued_setting_again_keeps_the_last_value() {
    Workgate w =
        builder()
            .maxStartsPerSecond(1)
            .maxStartsPerSecond(5)
            .queueConcurrency("default", 1)
            .queueConcurrency("default", 3)
            .handler("x", WorkgateBuilderSettingsTest::ok)
            .build();
    opened.add(w);

    assertThat(NodeParts.schedulerConfig(w).maxStartsPerSecond()).isEqualTo(5);
    assertThat(NodeParts.schedulerConfig(w).queueConcurrency("default")).hasValue(3);
  }

  @Test
  void every_thread_the_node_starts_comes_from_its_thread_factory() throws Exception {
    Set<Thread> made = ConcurrentHashMap.newKeySet();
    AtomicInteger n = new AtomicInteger();
    ThreadFactory factory =
        r -> {
          Thread t = new Thread(r, "host-" + n.incrementAndGet());
          t.setDaemon(true);
          made.add(t);
          return t;
        };
    Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
    CountDownLatch blocking = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    Workgate w =
        start(
            builder()
                .threadFactory(factory)
                .orphanReapInterval(Duration.ofSeconds(1))
                .handler(
                    "block",
                    ctx -> {
                      blocking.countDown();
                      try {
                        new CountDownLatch(1).await(30, TimeUnit.SECONDS);
                      } catch (InterruptedException e) {
                        stopped.countDown();
                        throw e;
                      }
                      return WorkResult.ok();
                    }));

    WorkOrderId id = w.submit(job("block", "default"));
    assertThat(blocking.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(w.cancel(id, "to make the node kill it")).isTrue();
    assertThat(stopped.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(w.completion(id).get(30, TimeUnit.SECONDS).state())
        .isEqualTo(WorkOrderState.CANCELLED);

    Set<Thread> started = new HashSet<>(Thread.getAllStackTraces().keySet());
    started.removeAll(before);
    // Loop, lease watchdog, completion watcher, orphan housekeeping, an execution thread, the
    // timeout thread, a handler thread and a kill thread.
    assertThat(made).hasSizeGreaterThanOrEqualTo(8);
    assertThat(started).isNotEmpty().allSatisfy(t -> assertThat(made).contains(t));

    w.close();
    for (Thread t : made) {
      t.join(WAIT.toMillis());
      assertThat(t.isAlive()).as("%s ended after close()", t.getName()).isFalse();
    }
  }

  @Test
  void the_node_s_handler_threads_end_when_it_closes() throws Exception {
    AtomicReference<Thread> handlerThread = new AtomicReference<>();
    Workgate w =
        start(
            builder()
                .handler(
                    "where",
                    ctx -> {
                      handlerThread.set(Thread.currentThread());
                      return WorkResult.ok();
                    }));
    assertThat(w.await(w.submit(job("where", "default")), WAIT).state())
        .isEqualTo(WorkOrderState.COMPLETED);
    Thread t = handlerThread.get();
    assertThat(t.isAlive()).isTrue(); // kept by the pool for the next attempt

    w.close();

    t.join(WAIT.toMillis());
    assertThat(t.isAlive()).isFalse();
  }

  @Test
  void shutdown_ends_the_node_s_handler_threads_once_the_executions_have_ended() throws Exception {
    AtomicReference<Thread> handlerThread = new AtomicReference<>();
    Workgate w =
        start(
            builder()
                .handler(
                    "where",
                    ctx -> {
                      handlerThread.set(Thread.currentThread());
                      return WorkResult.ok();
                    }));
    assertThat(w.await(w.submit(job("where", "default")), WAIT).state())
        .isEqualTo(WorkOrderState.COMPLETED);

    w.shutdown(Duration.ofSeconds(5));

    Thread t = handlerThread.get();
    t.join(WAIT.toMillis());
    assertThat(t.isAlive()).isFalse();
  }

  @Test
  void a_depth_limit_may_name_a_queue_the_node_does_not_serve() {
    Workgate w =
        start(
            builder()
                .queues("default")
                .maxQueueDepth("elsewhere", 1)
                .handler("x", WorkgateBuilderSettingsTest::ok));

    w.submit(job("x", "elsewhere"));

    assertThatThrownBy(() -> w.submit(job("x", "elsewhere")))
        .isInstanceOf(QueueFullException.class);
  }

  // ---- bad values ----

  @Test
  void a_bad_value_is_refused_at_once_naming_the_setting_and_the_value() {
    Workgate.Builder b = builder();
    assertThatThrownBy(() -> b.maxStartsPerSecond(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxStartsPerSecond")
        .hasMessageContaining("-1.0");
    assertThatThrownBy(() -> b.maxStartsPerSecond(Double.NaN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxStartsPerSecond")
        .hasMessageContaining("NaN");
    assertThatThrownBy(() -> b.queueConcurrency("default", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("queueConcurrency")
        .hasMessageContaining("got 0");
    assertThatThrownBy(() -> b.queueConcurrency("bad\nname", 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("queueConcurrency");
    assertThatThrownBy(() -> b.starvationThreshold(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("starvationThreshold");
    assertThatThrownBy(() -> b.renewInterval(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("renewInterval");
    assertThatThrownBy(() -> b.claimBatchSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("claimBatchSize")
        .hasMessageContaining("got 0");
    assertThatThrownBy(() -> b.reapBatchSize(10_001))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("reapBatchSize")
        .hasMessageContaining("got 10001");
    assertThatThrownBy(() -> b.retryBatchSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("retryBatchSize")
        .hasMessageContaining("got 0");
    assertThatThrownBy(() -> b.retryPolicy("", RetryPolicy.none()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("retryPolicy");
    assertThatThrownBy(() -> b.retryPolicy("default", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("retryPolicy");
    assertThatThrownBy(() -> b.errorClassifier(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("errorClassifier");
    assertThatThrownBy(() -> b.random(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("random");
    assertThatThrownBy(() -> b.threadFactory(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("threadFactory");

    // Nothing refused was kept.
    Workgate w = b.handler("x", WorkgateBuilderSettingsTest::ok).build();
    opened.add(w);
    SchedulerConfig config = NodeParts.schedulerConfig(w);
    assertThat(config.maxStartsPerSecond()).isZero();
    assertThat(config.queueConcurrency("default")).isEmpty();
    assertThat(config.claimBatchSize()).isEqualTo(SchedulerConfig.DEFAULT_CLAIM_BATCH_SIZE);
    assertThat(w.node().retryPolicy("default")).isSameAs(FAST);
  }

  // ---- conflicts ----

  @Test
  void resources_beside_max_concurrent_is_refused_naming_both() {
    assertThatThrownBy(
            () ->
                builder()
                    .maxConcurrent(3)
                    .resources(ResourceConfig.defaults())
                    .handler("x", WorkgateBuilderSettingsTest::ok)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("resources(ResourceConfig)")
        .hasMessageContaining("maxConcurrent(3)");
    assertThatThrownBy(
            () ->
                builder()
                    .resources(ResourceConfig.defaults())
                    .memoryPerSlotMb(512)
                    .handler("x", WorkgateBuilderSettingsTest::ok)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("resources(ResourceConfig)")
        .hasMessageContaining("memoryPerSlotMb(512)");
  }

  @Test
  void a_renew_interval_not_below_the_lease_is_refused_naming_both() {
    assertThatThrownBy(
            () ->
                builder()
                    .leaseDuration(Duration.ofSeconds(20))
                    .renewInterval(Duration.ofSeconds(20))
                    .handler("x", WorkgateBuilderSettingsTest::ok)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("renewInterval 20.0s")
        .hasMessageContaining("leaseDuration 20.0s");
  }

  @Test
  void a_self_fence_margin_that_fills_the_lease_is_refused_naming_both() {
    assertThatThrownBy(
            () ->
                builder()
                    .leaseDuration(Duration.ofSeconds(30))
                    .selfFenceMargin(Duration.ofSeconds(30))
                    .handler("x", WorkgateBuilderSettingsTest::ok)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("selfFenceMargin 30.0s")
        .hasMessageContaining("leaseDuration 30.0s");
  }

  @Test
  void a_queue_concurrency_for_a_queue_the_node_does_not_serve_is_refused_naming_both() {
    assertThatThrownBy(
            () ->
                builder()
                    .queueConcurrency("elsewhere", 1)
                    .queues("a", "b")
                    .handler("x", WorkgateBuilderSettingsTest::ok)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("queueConcurrency")
        .hasMessageContaining("'elsewhere'")
        .hasMessageContaining("queues [a, b]");
  }

  @Test
  void a_queue_retry_policy_for_a_queue_the_node_does_not_serve_is_refused_naming_both() {
    assertThatThrownBy(
            () ->
                builder()
                    .retryPolicy("elsewhere", RetryPolicy.none())
                    .handler("x", WorkgateBuilderSettingsTest::ok)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("retryPolicy")
        .hasMessageContaining("'elsewhere'")
        .hasMessageContaining("queues [default]");
  }

  private static WorkOrderState state(Workgate w, WorkOrderId id) {
    return w.find(id).orElseThrow().state();
  }
}
