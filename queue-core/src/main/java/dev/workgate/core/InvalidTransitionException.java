package dev.workgate.core;

import dev.workgate.core.WorkOrderState.TransitionTable;
import java.util.Set;

/**
 * An event was applied that the {@link TransitionTable} does not accept in the work order's current
 * state (or the stream's first event was not {@code Submitted}). Nothing was written.
 */
public class InvalidTransitionException extends WorkgateException {
  private static final long serialVersionUID = 1L;

  private final WorkOrderId workOrderId;
  private final transient WorkOrderState state;
  private final String event;
  private final Set<String> validEvents;

  /**
   * Creates the exception.
   *
   * @param workOrderId the work order
   * @param state its current state, or null when it has no events yet
   * @param event the rejected event's type name
   * @param validEvents the event type names the state accepts
   */
  public InvalidTransitionException(
      WorkOrderId workOrderId, WorkOrderState state, String event, Set<String> validEvents) {
    super(
        "work order "
            + workOrderId
            + " in state "
            + (state == null ? "(none: no events yet)" : state)
            + " cannot take event "
            + event
            + "; valid events: "
            + (validEvents.isEmpty() ? "none (terminal state)" : validEvents));
    this.workOrderId = workOrderId;
    this.state = state;
    this.event = event;
    this.validEvents = Set.copyOf(validEvents);
  }

  /**
   * The work order the event was meant for.
   *
   * @return its id
   */
  public WorkOrderId workOrderId() {
    return workOrderId;
  }

  /**
   * The state the work order was in.
   *
   * @return the state, or null when the work order had no events yet
   */
  public WorkOrderState state() {
    return state;
  }

  /**
   * The rejected event's type name.
   *
   * @return e.g. {@code "Started"}
   */
  public String event() {
    return event;
  }

  /**
   * The event type names the state accepts.
   *
   * @return an immutable set, empty for a terminal state
   */
  public Set<String> validEvents() {
    return validEvents;
  }
}
