package dev.workgate.test;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Chains, pauses and checkpoints on the test kit: {@link ManualWorkgate#runDue()} decides blocked
 * work as a node's loop does, claims nothing from a paused queue, and a retried attempt resumes
 * from its checkpoint, all on the caller's thread and the test's clock.
 */
@Timeout(60)
class ManualWorkgateChainsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static ManualWorkgate node(Workgate.Builder b) {
    return node(b, new MutableClock());
  }

  private static ManualWorkgate node(Workgate.Builder b, MutableClock clock) {
    return ManualWorkgate.of(
        b.queues("default", "other")
            .retryPolicy(
                RetryPolicy.builder()
                    .maxAttempts(3)
                    .baseDelay(Duration.ofSeconds(10))
                    .jitter(Jitter.none())
                    .build())
            .handler("ok", ctx -> WorkResult.ok())
            .handler(
                "fails", ctx -> WorkResult.fatalFailure(ErrorCodes.AGENT_FATAL_ERROR, "broke")),
        clock);
  }

  private static WorkOrderState state(ManualWorkgate node, WorkOrderId id) {
    return node.find(id).orElseThrow().state();
  }

  @Test
  void runDue_runs_a_whole_chain_of_completions() {
    try (ManualWorkgate node = node(Workgate.builder())) {
      WorkOrderId a = node.submit(WorkOrderSpec.builder("ok").build());
      WorkOrderId b = node.submit(WorkOrderSpec.builder("ok").after(a).build());
      WorkOrderId c = node.submit(WorkOrderSpec.builder("ok").after(b).build());

      assertThat(node.runDue()).isEqualTo(3);

      assertThat(List.of(a, b, c)).allMatch(id -> state(node, id) == WorkOrderState.COMPLETED);
      assertThat(node.runDue()).isZero();
    }
  }

  @Test
  void runDue_decides_a_whole_chain_of_cancellations() {
    try (ManualWorkgate node = node(Workgate.builder())) {
      WorkOrderId a = node.submit(WorkOrderSpec.builder("fails").build());
      WorkOrderId b = node.submit(WorkOrderSpec.builder("ok").after(a).build());
      WorkOrderId c = node.submit(WorkOrderSpec.builder("ok").after(b).build());

      node.runDue();

      assertThat(state(node, a)).isEqualTo(WorkOrderState.FAILED);
      assertThat(state(node, b)).isEqualTo(WorkOrderState.CANCELLED);
      assertThat(state(node, c)).isEqualTo(WorkOrderState.CANCELLED);
    }
  }

  @Test
  void runDue_claims_nothing_from_a_paused_queue_until_it_is_resumed() {
    try (ManualWorkgate node = node(Workgate.builder())) {
      assertThat(node.workgate().pauseQueue("default", "ops", "maintenance")).isTrue();
      WorkOrderId held = node.submit(WorkOrderSpec.builder("ok").build());
      WorkOrderId other = node.submit(WorkOrderSpec.builder("ok").queue("other").build());

      assertThat(node.runDue()).as("only the other queue's work ran").isEqualTo(1);
      assertThat(state(node, other)).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(state(node, held)).isEqualTo(WorkOrderState.PENDING);
      node.advance(Duration.ofMinutes(5));
      assertThat(node.runDue()).isZero();
      assertThat(node.history(held)).hasSize(1);

      assertThat(node.workgate().resumeQueue("default", "ops", "done")).isTrue();
      assertThat(node.runDue()).isEqualTo(1);
      assertThat(state(node, held)).isEqualTo(WorkOrderState.COMPLETED);
    }
  }

  @Test
  void a_retried_attempt_resumes_from_its_checkpoint_once_its_backoff_passed() throws Exception {
    Map<Integer, Integer> resumedFrom = new ConcurrentHashMap<>();
    try (ManualWorkgate node =
        node(
            Workgate.builder()
                .handler(
                    "steps",
                    ctx -> {
                      int from = ctx.lastCheckpoint().map(c -> c.get("done").asInt()).orElse(0);
                      resumedFrom.put(ctx.attempt(), from);
                      for (int step = from + 1; step <= 4; step++) {
                        ctx.checkpoint(Map.of("done", step));
                        if (ctx.attempt() == 1 && step == 2) {
                          return WorkResult.retryableFailure(ErrorCodes.NETWORK_ERROR, "blip");
                        }
                      }
                      return WorkResult.ok();
                    }))) {
      WorkOrderId id = node.submit(WorkOrderSpec.builder("steps").build());

      assertThat(node.runDue()).isEqualTo(1);
      WorkOrderView waiting = node.find(id).orElseThrow();
      assertThat(waiting.state()).isEqualTo(WorkOrderState.WAITING_RETRY);
      assertThat(waiting.checkpoint()).contains(JSON.readTree("{\"done\":2}"));

      node.advance(Duration.ofSeconds(10));
      assertThat(node.runDue()).isEqualTo(1);

      assertThat(state(node, id)).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(resumedFrom).containsExactlyInAnyOrderEntriesOf(Map.of(1, 0, 2, 2));
      assertThat(
              node.history(id).stream()
                  .filter(e -> e.event() instanceof WorkOrderEvent.Checkpointed)
                  .map(e -> (WorkOrderEvent.Checkpointed) e.event())
                  .map(c -> c.attempt() + ":" + c.state().get("done").asInt())
                  .toList())
          .containsExactly("1:1", "1:2", "2:3", "2:4");
    }
  }

  @Test
  void a_timed_out_attempt_checkpoints_before_it_stops_and_the_retry_resumes_there() {
    Map<Integer, Integer> resumedFrom = new ConcurrentHashMap<>();
    MutableClock clock = new MutableClock();
    try (ManualWorkgate node =
        node(
            Workgate.builder()
                .handler(
                    "slow",
                    ctx -> {
                      int from = ctx.lastCheckpoint().map(c -> c.get("done").asInt()).orElse(0);
                      resumedFrom.put(ctx.attempt(), from);
                      if (ctx.attempt() == 1) {
                        // The first attempt takes too long: its timeout fires in here.
                        clock.advance(Duration.ofMinutes(2));
                        assertThat(ctx.cancellationRequested()).isTrue();
                        ctx.checkpoint(Map.of("done", 7)); // how far it got, before it stops
                        return WorkResult.ok();
                      }
                      return WorkResult.ok();
                    }),
            clock)) {
      WorkOrderId id =
          node.submit(WorkOrderSpec.builder("slow").timeout(Duration.ofMinutes(1)).build());

      node.runDue();
      WorkOrderView timedOut = node.find(id).orElseThrow();
      assertThat(timedOut.state()).isEqualTo(WorkOrderState.WAITING_RETRY);
      assertThat(timedOut.lastError().orElseThrow().code()).isEqualTo(ErrorCodes.TIMEOUT);
      assertThat(timedOut.checkpoint().orElseThrow().get("done").asInt()).isEqualTo(7);

      node.advance(Duration.ofSeconds(10));
      node.runDue();

      assertThat(state(node, id)).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(resumedFrom).containsEntry(2, 7);
    }
  }
}
