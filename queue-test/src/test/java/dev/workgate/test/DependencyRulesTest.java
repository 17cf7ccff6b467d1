package dev.workgate.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.WorkgateClient;
import dev.workgate.core.BatchId;
import dev.workgate.core.DependencyFailure;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderQuery;
import java.util.List;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The rules of work that waits for other work, on a {@link ManualWorkgate}, where nothing runs
 * unless the test turns the node: what a submit refuses, what it decides at once, when a blocked
 * work order runs or is cancelled, and resubmissions that carry a chain on.
 */
@Timeout(60)
class DependencyRulesTest {

  /** Types whose work fails for good ({@code fails}), or completes ({@code ok}). */
  private final Set<WorkOrderId> ran = ConcurrentHashMap.newKeySet();

  /** A node whose work orders get ids that sort in the order they were submitted. */
  private ManualWorkgate node() {
    return node(false);
  }

  /**
   * A node on a clock that stands still, as a test's does, so that every work order is submitted at
   * the same instant; {@code idsSortBackwards} gives later work orders ids that sort before earlier
   * ones (as random ids do, half the time).
   */
  private ManualWorkgate node(boolean idsSortBackwards) {
    AtomicInteger n = new AtomicInteger();
    return SimulatedNodes.build(
        Workgate.builder()
            .handler(
                "ok",
                ctx -> {
                  ran.add(ctx.id());
                  return WorkResult.ok();
                })
            .handler(
                "fails",
                ctx -> {
                  ran.add(ctx.id());
                  return WorkResult.fatalFailure(ErrorCodes.AGENT_FATAL_ERROR, "broke");
                }),
        new MutableClock(),
        new CallerThread(),
        () -> {
          int i = n.incrementAndGet();
          return WorkOrderId.of(String.format("wo-%03d", idsSortBackwards ? 999 - i : i));
        });
  }

  /** Runs each attempt on the thread that turns the node, as {@link ManualWorkgate#of} does. */
  private static final class CallerThread extends AbstractExecutorService {
    private volatile boolean shutdown;

    @Override
    public void execute(Runnable command) {
      command.run();
    }

    @Override
    public void shutdown() {
      shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
      shutdown = true;
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return shutdown;
    }

    @Override
    public boolean isTerminated() {
      return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return true;
    }
  }

  private static WorkOrderSpec.Builder spec(String type) {
    return WorkOrderSpec.builder(type);
  }

  private static List<EventType> types(ManualWorkgate node, WorkOrderId id) {
    return node.history(id).stream().map(e -> e.event().type()).toList();
  }

  private static WorkOrderState state(ManualWorkgate node, WorkOrderId id) {
    return node.find(id).orElseThrow().state();
  }

  private static long logSize(ManualWorkgate node) {
    return node.workgate().store().readLog(0, 10_000).events().size();
  }

  @Test
  void an_unknown_dependency_or_batch_is_refused_and_nothing_is_written() {
    try (ManualWorkgate node = node()) {
      WorkOrderId known = node.submit(spec("ok").build());
      WorkOrderId unknown = WorkOrderId.random();
      BatchId noBatch = BatchId.random();
      long before = logSize(node);
      WorkgateClient client = node.workgate().client();

      assertThatThrownBy(() -> client.submit(spec("ok").after(known, unknown).build()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(unknown.toString())
          .hasMessageContaining("does not exist");
      assertThatThrownBy(() -> client.submit(spec("ok").afterBatch(noBatch).build()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(noBatch.toString())
          .hasMessageContaining("does not exist");
      assertThatThrownBy(
              () ->
                  client.submitBatch(
                      List.of(spec("ok").build(), spec("ok").after(unknown).build())))
          .as("a batch with one bad spec")
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(unknown.toString());
      assertThatThrownBy(
              () ->
                  client.submitAll(List.of(spec("ok").build(), spec("ok").after(unknown).build())))
          .isInstanceOf(IllegalArgumentException.class);

      assertThat(logSize(node)).as("events in the log").isEqualTo(before);
      assertThat(node.workgate().store().counts().depth("default")).isEqualTo(1);
    }
  }

  @Test
  void after_a_completed_work_order_a_dependent_is_pending_at_once() {
    try (ManualWorkgate node = node()) {
      WorkOrderId done = node.submit(spec("ok").build());
      node.runDue();
      assertThat(state(node, done)).isEqualTo(WorkOrderState.COMPLETED);

      WorkOrderId after = node.submit(spec("ok").after(done).build());

      assertThat(state(node, after)).isEqualTo(WorkOrderState.PENDING);
      assertThat(types(node, after))
          .containsExactly(EventType.SUBMITTED, EventType.DEPENDENCIES_MET);
      assertThat(node.runDue()).isEqualTo(1);
      assertThat(state(node, after)).isEqualTo(WorkOrderState.COMPLETED);
    }
  }

  @Test
  void after_a_failed_work_order_a_dependent_is_cancelled_at_once() {
    try (ManualWorkgate node = node()) {
      WorkOrderId failed = node.submit(spec("fails").build());
      node.runDue();
      assertThat(state(node, failed)).isEqualTo(WorkOrderState.FAILED);

      WorkOrderId after = node.submit(spec("ok").after(failed).build());

      WorkOrderView v = node.find(after).orElseThrow();
      assertThat(v.state()).isEqualTo(WorkOrderState.CANCELLED);
      assertThat(v.lastError().orElseThrow().code()).isEqualTo(ErrorCodes.DEPENDENCY_FAILED);
      assertThat(node.history(after).get(1).event())
          .isEqualTo(new WorkOrderEvent.DependencyFailed(failed, WorkOrderState.FAILED));
      assertThat(node.runDue()).isZero();
      assertThat(ran).doesNotContain(after);
    }
  }

  @Test
  void a_dependent_waits_blocked_and_runs_once_its_dependency_completed() {
    try (ManualWorkgate node = node()) {
      WorkOrderId first = node.submit(spec("ok").build());
      WorkOrderId second = node.submit(spec("ok").after(first).build());
      assertThat(state(node, second)).isEqualTo(WorkOrderState.BLOCKED);
      assertThat(node.find(second).orElseThrow().dependencies()).containsExactly(first);
      assertThat(node.workgate().client().dependents(first)).containsExactly(second);

      node.runDue();

      assertThat(state(node, second)).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(types(node, second))
          .containsExactly(
              EventType.SUBMITTED,
              EventType.DEPENDENCIES_MET,
              EventType.CLAIMED,
              EventType.STARTED,
              EventType.COMPLETED);
    }
  }

  @Test
  void under_the_run_policy_a_dependent_runs_after_its_dependency_failed() {
    try (ManualWorkgate node = node()) {
      WorkOrderId failing = node.submit(spec("fails").build());
      WorkOrderId cleanUp =
          node.submit(spec("ok").after(failing).onDependencyFailure(DependencyFailure.RUN).build());
      WorkOrderId cancelling = node.submit(spec("ok").after(failing).build());

      node.runDue();

      assertThat(state(node, failing)).isEqualTo(WorkOrderState.FAILED);
      assertThat(state(node, cleanUp)).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(state(node, cancelling)).isEqualTo(WorkOrderState.CANCELLED);
      long failedAt = position(node, failing, EventType.ATTEMPT_FAILED);
      assertThat(position(node, cleanUp, EventType.DEPENDENCIES_MET)).isGreaterThan(failedAt);
      assertThat(position(node, cleanUp, EventType.CLAIMED)).isGreaterThan(failedAt);
    }
  }

  @Test
  void a_blocked_work_order_can_be_cancelled_and_stays_cancelled() {
    try (ManualWorkgate node = node()) {
      assertThat(node.workgate().pauseQueue("default", "test", "hold the dependency")).isTrue();
      WorkOrderId first = node.submit(spec("ok").build());
      WorkOrderId second = node.submit(spec("ok").after(first).build());

      WorkgateClient.CancelOutcome outcome =
          node.workgate().client().requestCancel(second, "not needed");

      assertThat(outcome.result()).isEqualTo(WorkgateClient.CancelOutcome.Result.CANCELLED);
      assertThat(outcome.view().state()).isEqualTo(WorkOrderState.BLOCKED);
      assertThat(state(node, second)).isEqualTo(WorkOrderState.CANCELLED);
      assertThat(state(node, first)).isEqualTo(WorkOrderState.PENDING);

      assertThat(node.workgate().resumeQueue("default", "test", "")).isTrue();
      node.runDue();
      assertThat(state(node, first)).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(types(node, second)).containsExactly(EventType.SUBMITTED, EventType.CANCELLED);
      assertThat(ran).doesNotContain(second);
    }
  }

  @Test
  void resubmitting_a_failure_twice_once_resubmits_its_chain_once() {
    try (ManualWorkgate node = node()) {
      WorkOrderId x = node.submit(spec("fails").build());
      WorkOrderId d = node.submit(spec("ok").after(x).build());
      WorkOrderId e = node.submit(spec("ok").after(d).build());
      settle(node);
      assertThat(state(node, e)).isEqualTo(WorkOrderState.CANCELLED);
      WorkgateClient client = node.workgate().client();

      WorkgateClient.Submission first = client.resubmitOnce(x);
      long size = logSize(node);
      WorkgateClient.Submission again = client.resubmitOnce(x);
      // What a retry of a cascade cut off half-way would call next: the dependents, each once.
      WorkgateClient.Submission dAgain = client.resubmitOnce(d);
      WorkgateClient.Submission eAgain = client.resubmitOnce(e);

      assertThat(first.created()).isTrue();
      assertThat(again).isEqualTo(new WorkgateClient.Submission(first.id(), false));
      assertThat(dAgain.created()).isFalse();
      assertThat(eAgain.created()).isFalse();
      assertThat(logSize(node)).as("nothing written by the repeats").isEqualTo(size);
      assertThat(node.find(dAgain.id()).orElseThrow().dependencies()).containsExactly(first.id());
      assertThat(node.find(eAgain.id()).orElseThrow().dependencies()).containsExactly(dAgain.id());
      assertThat(resubmissionsOf(node, d)).containsExactly(dAgain.id());
      assertThat(resubmissionsOf(node, e)).containsExactly(eAgain.id());

      node.runDue();
      assertThat(state(node, first.id())).isEqualTo(WorkOrderState.FAILED);
      assertThat(state(node, dAgain.id())).isEqualTo(WorkOrderState.CANCELLED);
    }
  }

  @Test
  void a_chain_goes_on_when_its_dependent_was_resubmitted_before_its_dependency() {
    try (ManualWorkgate node = node()) {
      WorkOrderId x = node.submit(spec("ok").build());
      WorkOrderId d = node.submit(spec("ok").after(x).build());
      WorkOrderId e = node.submit(spec("ok").after(d).build());
      assertThat(node.workgate().cancel(x, "wrong input")).isTrue();
      settle(node);
      assertThat(state(node, d)).isEqualTo(WorkOrderState.CANCELLED);
      assertThat(state(node, e)).isEqualTo(WorkOrderState.CANCELLED);
      WorkgateClient client = node.workgate().client();

      // The dependent first: it still waits for the cancelled one, and is cancelled again at once.
      WorkOrderId dTooEarly = client.resubmitOnce(d).id();
      assertThat(state(node, dTooEarly)).isEqualTo(WorkOrderState.CANCELLED);
      WorkOrderId xAgain = client.resubmitOnce(x).id();

      settle(node);

      assertThat(state(node, xAgain)).isEqualTo(WorkOrderState.COMPLETED);
      WorkOrderId dNewest = newest(node, d);
      WorkOrderId eNewest = newest(node, e);
      assertThat(node.find(dNewest).orElseThrow().dependencies()).containsExactly(xAgain);
      assertThat(state(node, dNewest)).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(state(node, eNewest)).isEqualTo(WorkOrderState.COMPLETED);
    }
  }

  @Test
  void resubmitting_a_failure_carries_on_a_chain_submitted_at_one_instant() {
    try (ManualWorkgate node = node(true)) {
      WorkOrderId x = node.submit(spec("fails").build());
      WorkOrderId d = node.submit(spec("ok").after(x).build());
      WorkOrderId e = node.submit(spec("ok").after(d).build());
      settle(node);
      assertThat(state(node, e)).isEqualTo(WorkOrderState.CANCELLED);
      assertThat(e.value()).as("the later id sorts first").isLessThan(d.value());

      WorkOrderId xAgain = node.workgate().client().resubmitOnce(x).id();

      WorkOrderId dAgain = resubmissionsOf(node, d).get(0);
      WorkOrderId eAgain = resubmissionsOf(node, e).get(0);
      assertThat(node.find(dAgain).orElseThrow().dependencies()).containsExactly(xAgain);
      assertThat(node.find(eAgain).orElseThrow().dependencies())
          .as("the resubmitted dependent waits for the resubmitted work order it waited for")
          .containsExactly(dAgain);
      assertThat(state(node, eAgain)).isEqualTo(WorkOrderState.BLOCKED);
    }
  }

  @Test
  void a_dependent_still_blocked_when_its_dependency_is_resubmitted_waits_for_the_new_one() {
    try (ManualWorkgate node = node()) {
      WorkOrderId x = node.submit(spec("ok").build());
      WorkOrderId d = node.submit(spec("ok").after(x).build());
      // Cancelled where no turn decides its dependent yet: d is still BLOCKED.
      assertThat(node.workgate().client().cancel(x, "wrong input")).isTrue();
      assertThat(state(node, d)).isEqualTo(WorkOrderState.BLOCKED);

      WorkOrderId xAgain = node.workgate().client().resubmit(x);
      node.runDue();

      assertThat(state(node, xAgain)).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(state(node, newest(node, d)))
          .as("the dependent goes on after the resubmission")
          .isEqualTo(WorkOrderState.COMPLETED);
    }
  }

  /**
   * Turns the node until nothing blocked is left to decide: {@link ManualWorkgate#runDue()} stops
   * after a turn that ran no attempt, even when that turn cancelled a dependent whose own
   * dependents are decidable now (see {@code
   * ManualWorkgateChainsTest#runDue_decides_a_whole_chain_of_cancellations}).
   */
  private static void settle(ManualWorkgate node) {
    for (int turns = 0; turns < 20; turns++) {
      long before = logSize(node);
      node.runDue();
      if (logSize(node) == before) {
        return;
      }
    }
    throw new AssertionError("the node kept writing for 20 calls of runDue()");
  }

  private static long position(ManualWorkgate node, WorkOrderId id, EventType type) {
    return node.history(id).stream()
        .filter(e -> e.event().type() == type)
        .mapToLong(RecordedEvent::position)
        .findFirst()
        .orElseThrow(() -> new AssertionError(id + " has no " + type));
  }

  private static List<WorkOrderId> resubmissionsOf(ManualWorkgate node, WorkOrderId id) {
    return node
        .workgate()
        .client()
        .list(WorkOrderQuery.builder().resubmittedFrom(id).build())
        .items()
        .stream()
        .map(WorkOrderView::id)
        .toList();
  }

  /** The newest work order resubmitted, along a chain, from this one. */
  private static WorkOrderId newest(ManualWorkgate node, WorkOrderId id) {
    WorkOrderId current = id;
    while (true) {
      List<WorkOrderId> next = resubmissionsOf(node, current);
      if (next.isEmpty()) {
        return current;
      }
      current = next.get(next.size() - 1);
    }
  }
}
