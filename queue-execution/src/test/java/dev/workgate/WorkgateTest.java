package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The runtime end to end with in-process handlers, on real threads and the system clock. */
@Timeout(60)
class WorkgateTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final long GB = 1L << 30;
  static final RetryPolicy FAST =
      RetryPolicy.builder()
          .baseDelay(Duration.ofMillis(20))
          .maxDelay(Duration.ofMillis(100))
          .jitter(Jitter.none())
          .build();

  /** The events of a work order whose first attempt failed and whose second completed. */
  static final List<EventType> FAILED_ONCE_THEN_COMPLETED =
      List.of(
          EventType.SUBMITTED,
          EventType.CLAIMED,
          EventType.STARTED,
          EventType.ATTEMPT_FAILED,
          EventType.RETRY_RELEASED,
          EventType.CLAIMED,
          EventType.STARTED,
          EventType.COMPLETED);

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
        .pollInterval(Duration.ofMillis(200))
        .retryPolicy(FAST)
        .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"));
  }

  Workgate start(Workgate.Builder builder) {
    Workgate w = builder.build();
    opened.add(w);
    w.start();
    return w;
  }

  static WorkOrderSpec job(String type) {
    return WorkOrderSpec.builder(type).build();
  }

  static List<EventType> types(Workgate w, WorkOrderId id) {
    List<EventType> types = new ArrayList<>();
    for (RecordedEvent e : w.history(id)) {
      types.add(e.event().type());
    }
    return types;
  }

  @Test
  void a_handler_s_huge_message_is_cut_and_the_node_keeps_claiming() throws Exception {
    String huge = "m".repeat(20_000_001); // past Jackson's default string limit
    Workgate w =
        start(
            builder()
                .maxConcurrent(2)
                .handler("loud", ctx -> WorkResult.fatalFailure("AGENT_FATAL_ERROR", huge))
                .handler("ok", ctx -> WorkResult.ok()));

    WorkOrderView loud = w.await(w.submit(job("loud")), WAIT);
    WorkOrderView after = w.await(w.submit(job("ok")), WAIT);

    assertThat(loud.state()).isEqualTo(WorkOrderState.FAILED);
    assertThat(loud.lastError().orElseThrow().message())
        .hasSize(8192)
        .endsWith("… [truncated, 20000001 characters in all]");
    assertThat(after.state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(w.store().readStream(loud.id()).get(3).event())
        .isInstanceOf(dev.workgate.core.WorkOrderEvent.AttemptFailed.class);
  }

  @Test
  void a_result_over_the_size_limit_fails_the_attempt_for_good_naming_the_size() throws Exception {
    String tooBig = "x".repeat(16 << 20);
    Workgate w = start(builder().handler("huge", ctx -> WorkResult.ok(tooBig)));

    WorkOrderView end = w.await(w.submit(job("huge")), WAIT);

    assertThat(end.state()).isEqualTo(WorkOrderState.FAILED);
    assertThat(end.lastError().orElseThrow().code()).isEqualTo(ErrorCodes.AGENT_FATAL_ERROR);
    assertThat(end.lastError().orElseThrow().message())
        .contains("result cannot be recorded")
        .contains("must be at most 16777216 bytes as JSON, got 16777218");
  }

  @Test
  void cancel_refuses_a_reason_past_its_limit_and_records_nothing() throws Exception {
    Workgate w = start(builder().queues("idle").handler("ok", ctx -> WorkResult.ok()));
    WorkOrderId id = w.submit(WorkOrderSpec.builder("ok").queue("elsewhere").build());

    assertThatThrownBy(() -> w.cancel(id, "r".repeat(2001)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cancellation reason must be at most 2000 characters, got 2001");
    assertThat(w.store().readStream(id)).hasSize(1);
    assertThat(w.cancel(id, "r".repeat(2000))).isTrue();
  }

  @Test
  void submit_all_runs_a_batch_and_refuses_one_with_an_unserved_type_writing_nothing()
      throws Exception {
    Workgate w = start(builder().maxConcurrent(4).handler("ok", ctx -> WorkResult.ok()));

    assertThatThrownBy(() -> w.submitAll(List.of(job("ok"), job("nobody-serves-this"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'nobody-serves-this'");
    assertThat(w.store().counts().queues()).isEmpty();

    List<WorkOrderId> ids = w.submitAll(List.of(job("ok"), job("ok"), job("ok")));
    for (WorkOrderId id : ids) {
      assertThat(w.await(id, Duration.ofSeconds(10)).state()).isEqualTo(WorkOrderState.COMPLETED);
    }
  }

  @Test
  void logs_one_line_per_transition_at_the_configured_level_without_payloads() throws Exception {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger(Workgate.TRANSITION_LOGGER);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    try {
      Workgate w =
          start(
              builder()
                  .transitionLogLevel(org.slf4j.event.Level.INFO)
                  .handler("echo", ctx -> WorkResult.ok()));
      WorkOrderId id =
          w.submit(WorkOrderSpec.builder("echo").payload("top-secret-payload").build());
      w.await(id, WAIT);

      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(lines.list)
                      .filteredOn(e -> e.getFormattedMessage().startsWith(id.value()))
                      .extracting(e -> e.getFormattedMessage().substring(id.value().length() + 1))
                      .containsExactlyInAnyOrder(
                          "Submitted NEW -> PENDING queue=default attempt=0",
                          "Claimed PENDING -> PREPARING queue=default attempt=1",
                          "Started PREPARING -> RUNNING queue=default attempt=1",
                          "Completed RUNNING -> COMPLETED queue=default attempt=1"));
      assertThat(lines.list)
          .allSatisfy(e -> assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.INFO))
          .noneSatisfy(e -> assertThat(e.getFormattedMessage()).contains("top-secret-payload"));
    } finally {
      logger.detachAppender(lines);
    }
  }

  @Test
  void a_handler_logs_with_its_work_order_attempt_and_queue_in_the_mdc() throws Exception {
    Workgate w =
        start(
            builder()
                .queues("default", "mdc")
                .handler(
                    "mdc",
                    ctx ->
                        WorkResult.ok(
                            org.slf4j.MDC.get("workOrderId")
                                + " "
                                + org.slf4j.MDC.get("attempt")
                                + " "
                                + org.slf4j.MDC.get("queue"))));
    WorkOrderId id = w.submit(WorkOrderSpec.builder("mdc").queue("mdc").build());

    WorkOrderView done = w.await(id, WAIT);

    assertThat(done.result().orElseThrow().asText()).isEqualTo(id.value() + " 1 mdc");
  }

  @Test
  void a_hundred_work_orders_on_two_slots_all_complete_and_never_more_than_two_run()
      throws Exception {
    AtomicInteger running = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    AtomicInteger memoryOverBudget = new AtomicInteger();
    Workgate[] self = new Workgate[1];
    Workgate w =
        start(
            builder()
                .maxConcurrent(2)
                .memoryPerSlotMb(4096)
                .handler(
                    "agent",
                    ctx -> {
                      most.accumulateAndGet(running.incrementAndGet(), Math::max);
                      if (self[0].stats().scheduler().resources().reservedMemoryMb() > 2 * 4096) {
                        memoryOverBudget.incrementAndGet();
                      }
                      Thread.yield();
                      running.decrementAndGet();
                      return WorkResult.ok(Map.of("attempt", ctx.attempt()));
                    }));
    self[0] = w;
    List<WorkOrderId> ids = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      ids.add(w.submit(job("agent")));
    }

    for (WorkOrderId id : ids) {
      assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    }
    assertThat(most.get()).isLessThanOrEqualTo(2).isPositive();
    assertThat(memoryOverBudget.get()).isZero();
    assertThat(w.stats().count(WorkOrderState.COMPLETED)).isEqualTo(100);
    assertThat(w.find(ids.get(0)).orElseThrow().resources().memoryMb()).isEqualTo(4096);
  }

  @Test
  void a_memory_budget_from_resources_limits_what_runs_below_the_slot_count() throws Exception {
    AtomicInteger running = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    Workgate w =
        start(
            builder()
                .resources(
                    ResourceConfig.builder()
                        .maxConcurrent(4)
                        .memoryPerSlotMb(512)
                        .memoryBudgetMb(1024)
                        .build())
                .handler(
                    "agent",
                    ctx -> {
                      most.accumulateAndGet(running.incrementAndGet(), Math::max);
                      // Hold the slot until a third runs beside it or 50 ms pass: without the
                      // budget, four slots would let a third in.
                      long end = System.nanoTime() + 50_000_000L;
                      while (running.get() < 3 && System.nanoTime() < end) {
                        Thread.onSpinWait();
                      }
                      running.decrementAndGet();
                      return WorkResult.ok();
                    }));
    List<WorkOrderId> ids = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      ids.add(w.submit(job("agent")));
    }

    for (WorkOrderId id : ids) {
      assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    }
    assertThat(w.stats().maxSlots()).isEqualTo(4);
    assertThat(most.get()).isLessThanOrEqualTo(2).isPositive();
    assertThat(w.find(ids.get(0)).orElseThrow().resources().memoryMb()).isEqualTo(512);
  }

  @Test
  void resources_beside_max_concurrent_is_refused_at_build() {
    Workgate.Builder b =
        Workgate.builder()
            .resources(ResourceConfig.defaults())
            .maxConcurrent(3)
            .handler("agent", ctx -> WorkResult.ok());

    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("resources(ResourceConfig)");
  }

  @Test
  void a_retryable_failure_runs_again_and_a_fatal_one_fails_at_once() throws Exception {
    Workgate w =
        start(
            builder()
                .handler(
                    "flaky",
                    ctx ->
                        ctx.attempt() == 1
                            ? WorkResult.retryableFailure(ErrorCodes.NETWORK_ERROR, "reset")
                            : WorkResult.ok("fine on " + ctx.attempt()))
                .handler(
                    "broken", ctx -> WorkResult.fatalFailure(ErrorCodes.AGENT_FATAL_ERROR, "no")));

    WorkOrderView flaky = w.await(w.submit(job("flaky")), WAIT);
    WorkOrderView broken = w.await(w.submit(job("broken")), WAIT);

    assertThat(flaky.state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(flaky.attempt()).isEqualTo(2);
    assertThat(flaky.result().orElseThrow().asText()).isEqualTo("fine on 2");
    assertThat(types(w, flaky.id())).containsExactlyElementsOf(FAILED_ONCE_THEN_COMPLETED);
    assertThat(broken.state()).isEqualTo(WorkOrderState.FAILED);
    assertThat(broken.attempt()).isEqualTo(1);
    assertThat(broken.lastError().orElseThrow().code()).isEqualTo(ErrorCodes.AGENT_FATAL_ERROR);
  }

  @Test
  void exceptions_are_classified_and_a_bad_payload_is_not_retried() throws Exception {
    Workgate w =
        start(
            builder()
                .handler(
                    "io",
                    ctx -> {
                      if (ctx.attempt() < 3) {
                        throw new IOException("connection reset");
                      }
                      return WorkResult.ok();
                    })
                .handler(
                    "typed",
                    ctx -> {
                      ctx.payload(Integer.class);
                      return WorkResult.ok();
                    }));

    WorkOrderView io = w.await(w.submit(job("io")), WAIT);
    WorkOrderView typed =
        w.await(w.submit(WorkOrderSpec.builder("typed").payload(Map.of("a", 1)).build()), WAIT);

    assertThat(io.state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(io.attempt()).isEqualTo(3);
    assertThat(typed.state()).isEqualTo(WorkOrderState.FAILED);
    assertThat(typed.lastError().orElseThrow().code()).isEqualTo(ErrorCodes.INVALID_WORK_ORDER);
    assertThat(typed.attempt()).isEqualTo(1);
  }

  @Test
  void an_attempt_past_its_timeout_is_killed_and_recorded_as_a_timeout() throws Exception {
    Workgate w =
        start(
            builder()
                .killGrace(Duration.ofSeconds(5))
                .handler(
                    "slow",
                    ctx -> {
                      new CountDownLatch(1).await(); // until interrupted
                      return WorkResult.ok();
                    }));

    WorkOrderView timedOut =
        w.await(
            w.submit(
                WorkOrderSpec.builder("slow")
                    .timeout(Duration.ofMillis(200))
                    .maxAttempts(1)
                    .build()),
            WAIT);

    assertThat(timedOut.state()).isEqualTo(WorkOrderState.FAILED);
    assertThat(timedOut.lastError().orElseThrow().code()).isEqualTo(ErrorCodes.TIMEOUT);
    // The limit as every message writes a duration, not java.time's PT0.2S.
    assertThat(timedOut.lastError().orElseThrow().message())
        .isEqualTo("ran past its timeout of 200ms");
    await().atMost(WAIT).until(() -> w.stats().activeSlots() == 0); // released after the record
  }

  @Test
  void a_handler_that_ignores_cancellation_is_given_up_on_after_the_grace() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean letGo =
        new java.util.concurrent.atomic.AtomicBoolean();
    Workgate w =
        start(
            builder()
                .killGrace(Duration.ofMillis(200))
                .handler(
                    "stubborn",
                    ctx -> {
                      while (!letGo.get()) {
                        Thread.onSpinWait(); // ignores the flag and the interrupt
                      }
                      return WorkResult.ok();
                    }));
    try {
      WorkOrderView end =
          w.await(
              w.submit(
                  WorkOrderSpec.builder("stubborn")
                      .timeout(Duration.ofMillis(200))
                      .maxAttempts(1)
                      .build()),
              WAIT);

      assertThat(end.state()).isEqualTo(WorkOrderState.FAILED);
      assertThat(end.lastError().orElseThrow().code()).isEqualTo(ErrorCodes.TIMEOUT);
      // Its thread still runs, so its slot stays taken until it ends.
      await().atMost(WAIT).until(() -> w.node().activeExecutions().isEmpty());
      assertThat(w.stats().activeSlots()).isEqualTo(1);
      assertThat(w.node().abandonedHandlers()).hasSize(1);
      letGo.set(true);
      await().atMost(WAIT).until(() -> w.stats().activeSlots() == 0);
      assertThat(w.node().abandonedHandlers()).isEmpty();
    } finally {
      letGo.set(true);
    }
  }

  @Test
  void an_error_thrown_by_a_handler_is_recorded_as_its_failure() throws Exception {
    Workgate w =
        start(
            builder()
                .handler(
                    "buggy",
                    ctx -> {
                      throw new AssertionError("an invariant broke");
                    }));

    WorkOrderView end =
        w.await(w.submit(WorkOrderSpec.builder("buggy").maxAttempts(1).build()), WAIT);

    assertThat(end.state()).isEqualTo(WorkOrderState.FAILED);
    assertThat(end.lastError().orElseThrow().code()).isEqualTo(ErrorCodes.UNKNOWN_ERROR);
    assertThat(end.lastError().orElseThrow().message()).contains("an invariant broke");
  }

  @Test
  void cancelling_waiting_work_is_immediate_and_running_work_is_stopped_then_cancelled()
      throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    AtomicInteger sawCancellation = new AtomicInteger();
    Workgate w =
        start(
            builder()
                .maxConcurrent(1)
                .handler(
                    "long",
                    ctx -> {
                      started.countDown();
                      try {
                        new CountDownLatch(1).await();
                      } catch (InterruptedException e) {
                        if (ctx.cancellationRequested()) {
                          sawCancellation.incrementAndGet();
                        }
                        throw e;
                      }
                      return WorkResult.ok();
                    }));
    WorkOrderId running = w.submit(job("long"));
    WorkOrderId waiting = w.submit(job("long"));
    assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();

    assertThat(w.cancel(waiting, "not needed")).isTrue();
    assertThat(w.find(waiting).orElseThrow().state()).isEqualTo(WorkOrderState.CANCELLED);
    assertThat(w.cancel(running, "user pressed stop")).isTrue();

    WorkOrderView stopped = w.await(running, WAIT);
    assertThat(stopped.state()).isEqualTo(WorkOrderState.CANCELLED);
    assertThat(sawCancellation.get()).isEqualTo(1);
    assertThat(types(w, running))
        .containsExactly(
            EventType.SUBMITTED,
            EventType.CLAIMED,
            EventType.STARTED,
            EventType.CANCELLATION_REQUESTED,
            EventType.CANCELLED);
    assertThat(w.cancel(running, "again")).isFalse();
    assertThatThrownBy(() -> w.cancel(WorkOrderId.of("nope"), "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nope");
  }

  @Test
  void a_result_that_arrives_after_the_attempt_was_reaped_elsewhere_is_discarded()
      throws Exception {
    Workgate[] self = new Workgate[1];
    Workgate w =
        start(
            builder()
                .handler(
                    "late",
                    ctx -> {
                      if (ctx.attempt() == 1) {
                        // Another node decides this attempt is dead while it still runs.
                        WorkOrderView now = self[0].find(ctx.id()).orElseThrow();
                        self[0]
                            .retries()
                            .recordFailure(
                                now,
                                dev.workgate.core.ErrorInfo.retryable(
                                    ErrorCodes.LEASE_EXPIRED, "reaped by node-2"));
                        return WorkResult.ok("stale result of attempt 1");
                      }
                      return WorkResult.ok("result of attempt 2");
                    }));
    self[0] = w;

    WorkOrderView done = w.await(w.submit(job("late")), WAIT);

    assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(done.attempt()).isEqualTo(2);
    assertThat(done.result().orElseThrow().asText()).isEqualTo("result of attempt 2");
    assertThat(types(w, done.id())).containsExactlyElementsOf(FAILED_ONCE_THEN_COMPLETED);
  }

  @Test
  void a_failed_work_order_is_resubmitted_as_a_new_one_that_remembers_it() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    Workgate w =
        start(
            builder()
                .handler(
                    "once-broken",
                    ctx ->
                        calls.incrementAndGet() == 1
                            ? WorkResult.fatalFailure(ErrorCodes.AGENT_FATAL_ERROR, "bad luck")
                            : WorkResult.ok()));
    WorkOrderId first =
        w.submit(WorkOrderSpec.builder("once-broken").idempotencyKey("order-1").build());
    assertThat(w.await(first, WAIT).state()).isEqualTo(WorkOrderState.FAILED);

    WorkOrderId second = w.resubmit(first);

    WorkOrderView done = w.await(second, WAIT);
    assertThat(second).isNotEqualTo(first);
    assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(done.resubmittedFrom()).contains(first);
    assertThat(done.idempotencyKey()).isEmpty();
    assertThat(w.find(first).orElseThrow().state()).isEqualTo(WorkOrderState.FAILED);
    assertThatThrownBy(() -> w.resubmit(second))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("COMPLETED");
  }

  @Test
  void bad_submits_are_refused_and_write_nothing() {
    Workgate w = start(builder().handler("known", ctx -> WorkResult.ok()));

    assertThatThrownBy(() -> w.submit(job("unknown")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'unknown'");
    assertThat(w.stats().counts().queues()).isEmpty();
    assertThatThrownBy(() -> Workgate.builder().build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("handler");
  }

  @Test
  void every_transition_is_heard_and_sandbox_directories_are_gone_afterwards() throws Exception {
    List<String> heard = Collections.synchronizedList(new ArrayList<>());
    Workgate w =
        start(
            builder()
                .handler(
                    "files",
                    ctx -> {
                      Files.writeString(ctx.workDir().resolve("out.txt"), "scratch");
                      return WorkResult.ok();
                    }));
    // Threads record a work order's events (the submitter, the loop, the execution), so they can
    // be heard out of order; each carries its version.
    w.onTransition(c -> heard.add(c.event().version() + " " + c.type() + "->" + c.to()));

    WorkOrderId id = w.submit(job("files"));
    w.await(id, WAIT);

    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(heard)
                    .containsExactlyInAnyOrder(
                        "1 SUBMITTED->PENDING",
                        "2 CLAIMED->PREPARING",
                        "3 STARTED->RUNNING",
                        "4 COMPLETED->COMPLETED"));
    await() // the sandbox is destroyed right after the outcome is recorded
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              try (Stream<Path> left = Files.walk(dir.resolve("sandboxes"))) {
                assertThat(left.filter(Files::isRegularFile)).isEmpty();
              }
            });
  }

  @Test
  void shutdown_kills_what_outlives_the_grace_and_a_restart_runs_it_again() throws Exception {
    Path db = dir.resolve("workgate.db");
    CountDownLatch started = new CountDownLatch(1);
    WorkOrderId id;
    try (WorkOrderStore store = Stores.sqlite(db, SqliteOptions.builder().build())) {
      Workgate first =
          start(
              builder()
                  .store(store)
                  .handler(
                      "long",
                      ctx -> {
                        started.countDown();
                        new CountDownLatch(1).await();
                        return WorkResult.ok();
                      }));
      id = first.submit(job("long"));
      assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();

      first.shutdown(Duration.ofMillis(200));

      // Released, not failed: the shutdown costs no attempt.
      WorkOrderView interrupted = first.find(id).orElseThrow();
      assertThat(interrupted.state()).isEqualTo(WorkOrderState.PENDING);
      assertThat(interrupted.lastError().orElseThrow().code()).isEqualTo(ErrorCodes.NODE_SHUTDOWN);
      assertThat(interrupted.chargedAttempts()).isZero();
      first.close();
    }

    try (WorkOrderStore reopened = Stores.sqlite(db, SqliteOptions.builder().build())) {
      Workgate second =
          start(builder().store(reopened).handler("long", ctx -> WorkResult.ok("second life")));

      WorkOrderView done = second.await(id, WAIT);

      assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(done.attempt()).isEqualTo(2);
      assertThat(done.chargedAttempts()).isEqualTo(1);
      second.close();
    }
  }

  @Test
  void a_shutdown_lets_work_that_ends_within_the_grace_finish() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(1);
    Workgate w =
        start(
            builder()
                .handler(
                    "short",
                    ctx -> {
                      started.countDown();
                      release.await();
                      return WorkResult.ok();
                    }));
    WorkOrderId id = w.submit(job("short"));
    assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();

    // The work ends only once the shutdown has begun, so the shutdown must wait for it.
    Thread finisher =
        new Thread(
            () -> {
              await().atMost(WAIT).until(() -> !w.node().isClaiming());
              release.countDown();
            });
    finisher.start();
    w.shutdown(Duration.ofSeconds(20));

    assertThat(w.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(w.node().isRunning()).isFalse();
  }
}
