package dev.workgate.core;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderState.TransitionTable;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The state machine of DESIGN.md, written out again for the tests: an oracle independent of {@link
 * TransitionTable}, so a wrong row in the table shows up as a difference.
 */
public final class DesignTable {
  private DesignTable() {}

  /**
   * The state DESIGN.md says an event leads to.
   *
   * @param from the state before, or null for a work order without events
   * @param event the event
   * @return the state after, or empty when DESIGN.md has no row for the pair
   */
  public static Optional<WorkOrderState> next(WorkOrderState from, WorkOrderEvent event) {
    if (from == null) {
      return event instanceof WorkOrderEvent.Submitted s
          ? Optional.of(
              s.dependencies().isEmpty() ? WorkOrderState.PENDING : WorkOrderState.BLOCKED)
          : Optional.empty();
    }
    boolean active = from == WorkOrderState.PREPARING || from == WorkOrderState.RUNNING;
    WorkOrderState to = null;
    if (event instanceof WorkOrderEvent.Claimed && from == WorkOrderState.PENDING) {
      to = WorkOrderState.PREPARING;
    } else if (event instanceof WorkOrderEvent.Started && from == WorkOrderState.PREPARING) {
      to = WorkOrderState.RUNNING;
    } else if (event instanceof WorkOrderEvent.Completed && from == WorkOrderState.RUNNING) {
      to = WorkOrderState.COMPLETED;
    } else if (event instanceof WorkOrderEvent.AttemptFailed f && active) {
      to = f.retryAt() != null ? WorkOrderState.WAITING_RETRY : WorkOrderState.FAILED;
    } else if (event instanceof WorkOrderEvent.RetryReleased
        && from == WorkOrderState.WAITING_RETRY) {
      to = WorkOrderState.PENDING;
    } else if (event instanceof WorkOrderEvent.Cancelled
        && (from == WorkOrderState.PENDING
            || from == WorkOrderState.WAITING_RETRY
            || from == WorkOrderState.BLOCKED
            || active)) {
      to = WorkOrderState.CANCELLED;
    } else if (event instanceof WorkOrderEvent.DependenciesMet && from == WorkOrderState.BLOCKED) {
      to = WorkOrderState.PENDING;
    } else if (event instanceof WorkOrderEvent.DependencyFailed && from == WorkOrderState.BLOCKED) {
      to = WorkOrderState.CANCELLED;
    } else if (event instanceof WorkOrderEvent.Checkpointed && from == WorkOrderState.RUNNING) {
      to = WorkOrderState.RUNNING;
    } else if (event instanceof WorkOrderEvent.CancellationRequested && active) {
      to = from;
    } else if (event instanceof WorkOrderEvent.Released && active) {
      to = WorkOrderState.PENDING;
    }
    return Optional.ofNullable(to);
  }

  /** One event of each trigger, with fixed fields. */
  public static WorkOrderEvent sample(TransitionTable.Trigger trigger) {
    Instant t = Instant.parse("2030-01-01T00:00:00Z");
    ErrorInfo error = ErrorInfo.retryable(ErrorCodes.TIMEOUT, "took too long");
    return switch (trigger) {
      case SUBMITTED -> WorkOrderEvent.Submitted.of(WorkOrderSpec.builder("build").build());
      case SUBMITTED_BLOCKED ->
          new WorkOrderEvent.Submitted(
              WorkOrderSpec.builder("build").after(WorkOrderId.of("wo-1")).build(),
              null,
              null,
              List.of(WorkOrderId.of("wo-1")));
      case DEPENDENCIES_MET -> new WorkOrderEvent.DependenciesMet();
      case DEPENDENCY_FAILED ->
          new WorkOrderEvent.DependencyFailed(WorkOrderId.of("wo-1"), WorkOrderState.FAILED);
      case CHECKPOINTED ->
          new WorkOrderEvent.Checkpointed(1, JsonNodeFactory.instance.objectNode().put("step", 3));
      case CLAIMED -> new WorkOrderEvent.Claimed("node-1", t);
      case STARTED -> new WorkOrderEvent.Started("sandbox-1");
      case COMPLETED -> new WorkOrderEvent.Completed(TextNode.valueOf("done"));
      case ATTEMPT_FAILED_WITH_RETRY -> WorkOrderEvent.AttemptFailed.retryAt(error, t, "retry");
      case ATTEMPT_FAILED_FINAL -> WorkOrderEvent.AttemptFailed.finalFailure(error, "final");
      case RETRY_RELEASED -> new WorkOrderEvent.RetryReleased();
      case CANCELLATION_REQUESTED -> new WorkOrderEvent.CancellationRequested("stop");
      case CANCELLED -> new WorkOrderEvent.Cancelled("stopped");
      case RELEASED -> new WorkOrderEvent.Released(ErrorCodes.NODE_SHUTDOWN, "node-1 shut down");
    };
  }
}
