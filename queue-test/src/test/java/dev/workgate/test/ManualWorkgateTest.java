package dev.workgate.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A user-style test of the kit: a handler, a retry and a timeout, on the caller's thread. */
@Timeout(60)
class ManualWorkgateTest {
  private static final RetryPolicy TWO_ATTEMPTS_10S =
      RetryPolicy.builder()
          .maxAttempts(2)
          .baseDelay(Duration.ofSeconds(10))
          .jitter(Jitter.none())
          .build();

  @Test
  void a_handler_completes_on_runDue_and_not_before() {
    try (ManualWorkgate node =
        ManualWorkgate.of(
            Workgate.builder()
                .handler("greet", ctx -> WorkResult.ok("hello " + ctx.payload(String.class))))) {
      WorkOrderId id = node.submit(WorkOrderSpec.builder("greet").payload("world").build());
      assertThat(node.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.PENDING);

      assertThat(node.runDue()).isEqualTo(1);

      WorkOrderView done = node.find(id).orElseThrow();
      assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(done.result().orElseThrow().asText()).isEqualTo("hello world");
      assertThat(node.runDue()).as("nothing is left to run").isZero();
    }
  }

  @Test
  void a_failed_attempt_is_retried_only_once_its_backoff_has_passed() {
    AtomicInteger calls = new AtomicInteger();
    try (ManualWorkgate node =
        ManualWorkgate.of(
            Workgate.builder()
                .retryPolicy(TWO_ATTEMPTS_10S)
                .handler(
                    "flaky",
                    ctx ->
                        calls.incrementAndGet() == 1
                            ? WorkResult.retryableFailure("UPSTREAM_DOWN", "try later")
                            : WorkResult.ok()))) {
      WorkOrderId id = node.submit(WorkOrderSpec.builder("flaky").build());

      assertThat(node.runDue()).isEqualTo(1);
      WorkOrderView waiting = node.find(id).orElseThrow();
      assertThat(waiting.state()).isEqualTo(WorkOrderState.WAITING_RETRY);
      assertThat(waiting.nextAttemptAt())
          .contains(node.clock().instant().plus(Duration.ofSeconds(10)));

      node.advance(Duration.ofSeconds(9));
      assertThat(node.runDue()).as("the backoff has not passed").isZero();
      assertThat(node.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.WAITING_RETRY);

      node.advance(Duration.ofSeconds(1));
      assertThat(node.runDue()).isEqualTo(1);
      assertThat(node.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(node.find(id).orElseThrow().attempt()).isEqualTo(2);
      assertThat(calls).hasValue(2);
    }
  }

  @Test
  void a_handler_that_runs_past_its_timeout_is_stopped_recorded_as_TIMEOUT_and_retried() {
    List<Boolean> cancelledSeen = new ArrayList<>();
    List<Boolean> interruptedSeen = new ArrayList<>();
    AtomicInteger calls = new AtomicInteger();
    ManualWorkgate[] self = new ManualWorkgate[1];
    try (ManualWorkgate node =
        ManualWorkgate.of(
            Workgate.builder()
                .retryPolicy(TWO_ATTEMPTS_10S)
                .handler(
                    "slow",
                    ctx -> {
                      if (calls.incrementAndGet() == 1) {
                        self[0].advance(Duration.ofSeconds(29));
                        boolean early = ctx.cancellationRequested();
                        self[0].advance(Duration.ofSeconds(1)); // reaches the 30 s timeout
                        cancelledSeen.add(!early && ctx.cancellationRequested());
                        interruptedSeen.add(Thread.currentThread().isInterrupted());
                        return WorkResult.ok("too late");
                      }
                      return WorkResult.ok("in time");
                    }))) {
      self[0] = node;
      WorkOrderId id =
          node.submit(WorkOrderSpec.builder("slow").timeout(Duration.ofSeconds(30)).build());

      assertThat(node.runDue()).isEqualTo(1);

      assertThat(cancelledSeen)
          .as("cancelled exactly when the timeout passed")
          .containsExactly(true);
      assertThat(interruptedSeen).containsExactly(true);
      assertThat(Thread.currentThread().isInterrupted()).as("the interrupt is cleared").isFalse();
      WorkOrderView waiting = node.find(id).orElseThrow();
      assertThat(waiting.state()).isEqualTo(WorkOrderState.WAITING_RETRY);
      assertThat(waiting.lastError().orElseThrow().code()).isEqualTo(ErrorCodes.TIMEOUT);
      assertThat(node.pendingTimers()).as("no timer left behind").isZero();

      node.advance(Duration.ofSeconds(10));
      assertThat(node.runDue()).isEqualTo(1);
      WorkOrderView done = node.find(id).orElseThrow();
      assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(done.result().orElseThrow().asText()).isEqualTo("in time");
      assertThat(
              node.history(id).stream()
                  .filter(e -> e.event() instanceof WorkOrderEvent.AttemptFailed)
                  .count())
          .isEqualTo(1);
    }
  }

  @Test
  void a_timeout_on_the_last_attempt_fails_the_work_order() {
    ManualWorkgate[] self = new ManualWorkgate[1];
    try (ManualWorkgate node =
        ManualWorkgate.of(
            Workgate.builder()
                .retryPolicy(RetryPolicy.none())
                .handler(
                    "stuck",
                    ctx -> {
                      self[0].clock().advance(Duration.ofMinutes(5)); // the clock alone suffices
                      return WorkResult.ok();
                    }))) {
      self[0] = node;
      WorkOrderId id =
          node.submit(WorkOrderSpec.builder("stuck").timeout(Duration.ofMinutes(1)).build());

      assertThat(node.runDue()).isEqualTo(1);

      WorkOrderView failed = node.find(id).orElseThrow();
      assertThat(failed.state()).isEqualTo(WorkOrderState.FAILED);
      assertThat(failed.lastError().orElseThrow().code()).isEqualTo(ErrorCodes.TIMEOUT);
    }
  }

  @Test
  void handlers_run_only_on_the_callers_thread_and_the_node_starts_no_thread() {
    Set<String> before = workgateThreads();
    List<Thread> ranOn = new ArrayList<>();
    AtomicBoolean failOnce = new AtomicBoolean(true);
    try (ManualWorkgate node =
        ManualWorkgate.of(
            Workgate.builder()
                .maxConcurrent(4)
                .retryPolicy(RetryPolicy.builder().maxAttempts(2).baseDelay(Duration.ZERO).build())
                .handler(
                    "work",
                    ctx -> {
                      ranOn.add(Thread.currentThread());
                      return failOnce.getAndSet(false)
                          ? WorkResult.retryableFailure("AGAIN", "once more")
                          : WorkResult.ok();
                    }))) {
      for (int i = 0; i < 5; i++) {
        node.submit(WorkOrderSpec.builder("work").build());
      }

      assertThat(node.runDue()).as("five attempts and one retry due at once").isEqualTo(6);

      assertThat(ranOn).hasSize(6).allMatch(t -> t == Thread.currentThread());
      assertThat(workgateThreads()).isEqualTo(before);
      assertThatThrownBy(() -> node.workgate().start())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("driven by hand");
    }
  }

  @Test
  void runDue_inside_a_handler_is_refused() {
    ManualWorkgate[] self = new ManualWorkgate[1];
    List<String> seen = new ArrayList<>();
    try (ManualWorkgate node =
        ManualWorkgate.of(
            Workgate.builder()
                .retryPolicy(RetryPolicy.none())
                .handler(
                    "nested",
                    ctx -> {
                      try {
                        self[0].runDue();
                        seen.add("ran");
                      } catch (IllegalStateException e) {
                        seen.add(e.getMessage());
                      }
                      return WorkResult.ok();
                    }))) {
      self[0] = node;
      node.submit(WorkOrderSpec.builder("nested").build());
      assertThat(node.runDue()).isEqualTo(1);
      assertThat(seen).singleElement().asString().contains("inside a handler");
    }
  }

  @Test
  void bad_input_is_refused_naming_it() {
    try (ManualWorkgate node =
        ManualWorkgate.of(Workgate.builder().handler("x", ctx -> WorkResult.ok()))) {
      assertThatThrownBy(() -> node.advance(Duration.ofSeconds(-1)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("negative")
          .hasMessageContaining("PT-1S");
      assertThatThrownBy(() -> node.advance(null))
          .isInstanceOf(NullPointerException.class)
          .hasMessageContaining("by");
      assertThatThrownBy(() -> node.submit(WorkOrderSpec.builder("unknown").build()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("unknown");
      assertThat(node.clock().instant()).isEqualTo(MutableClock.DEFAULT_START);
    }
    assertThatThrownBy(() -> ManualWorkgate.of(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("builder");
    assertThatThrownBy(() -> ManualWorkgate.of(Workgate.builder(), null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("clock");
  }

  @Test
  void a_closed_node_refuses_runDue() {
    ManualWorkgate node =
        ManualWorkgate.of(Workgate.builder().handler("x", ctx -> WorkResult.ok()));
    node.close();
    node.close(); // idempotent
    assertThatThrownBy(node::runDue)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  private static Set<String> workgateThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith("workgate-"))
        .collect(Collectors.toSet());
  }
}
