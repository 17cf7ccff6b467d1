package dev.workgate.core;

import static dev.workgate.core.WorkOrderState.BLOCKED;
import static dev.workgate.core.WorkOrderState.CANCELLED;
import static dev.workgate.core.WorkOrderState.COMPLETED;
import static dev.workgate.core.WorkOrderState.FAILED;
import static dev.workgate.core.WorkOrderState.PENDING;
import static dev.workgate.core.WorkOrderState.PREPARING;
import static dev.workgate.core.WorkOrderState.RUNNING;
import static dev.workgate.core.WorkOrderState.WAITING_RETRY;

import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.spi.WorkOrder;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The states of a work order. A work order's state is never set directly: it is the fold of the
 * work order's events through the {@link TransitionTable}.
 *
 * <p>{@link #COMPLETED}, {@link #FAILED} and {@link #CANCELLED} are terminal: no event leaves them.
 */
public enum WorkOrderState {
  /** Submitted (or released for another attempt) and waiting to be claimed. */
  PENDING,
  /** Claimed by a node that holds a lease on it; its sandbox is being created. */
  PREPARING,
  /** Its sandbox is ready and the work runs. */
  RUNNING,
  /** Finished successfully. Terminal. */
  COMPLETED,
  /** Failed for good: a fatal error, or every attempt used up. Terminal. */
  FAILED,
  /** An attempt failed and another one is scheduled for {@link WorkOrderView#nextAttemptAt()}. */
  WAITING_RETRY,
  /** Cancelled before it finished. Terminal. */
  CANCELLED,
  /**
   * Submitted, and waiting for the work orders it runs after ({@link WorkOrderView#dependencies()})
   * to complete; never claimed. Becomes {@link #PENDING} once they have, or {@link #CANCELLED} when
   * one of them fails or is cancelled (unless its policy says to run anyway).
   */
  BLOCKED;

  /**
   * Whether nothing can leave this state.
   *
   * @return true for {@link #COMPLETED}, {@link #FAILED} and {@link #CANCELLED}
   */
  public boolean isTerminal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED;
  }

  /**
   * Whether a node holds a lease on a work order in this state (it is being executed).
   *
   * @return true for {@link #PREPARING} and {@link #RUNNING}
   */
  public boolean isActive() {
    return this == PREPARING || this == RUNNING;
  }

  /**
   * The work-order state machine as data: every accepted (state, trigger) pair and the state it
   * leads to. Nothing else decides a state; {@link WorkOrder} folds events through this table.
   *
   * <pre>
   * from                         event                          to
   * (none)                       Submitted                      PENDING
   * (none)                       Submitted with dependencies    BLOCKED
   * BLOCKED                      DependenciesMet                PENDING
   * BLOCKED                      DependencyFailed               CANCELLED
   * BLOCKED                      Cancelled                      CANCELLED
   * PENDING                      Claimed                        PREPARING
   * PREPARING                    Started                        RUNNING
   * RUNNING                      Completed                      COMPLETED
   * PREPARING, RUNNING           AttemptFailed with retry time  WAITING_RETRY
   * PREPARING, RUNNING           AttemptFailed without one      FAILED
   * WAITING_RETRY                RetryReleased                  PENDING
   * PENDING, WAITING_RETRY       Cancelled                      CANCELLED
   * PREPARING, RUNNING           CancellationRequested          (unchanged)
   * PREPARING, RUNNING           Cancelled                      CANCELLED
   * PREPARING, RUNNING           Released (costs no attempt)    PENDING
   * RUNNING                      Checkpointed                   (unchanged)
   * </pre>
   *
   * <p>Immutable and thread-safe.
   */
  public static final class TransitionTable {

    /**
     * What the table looks an event up by: its type, except that {@link
     * WorkOrderEvent.AttemptFailed} splits in two by whether it carries a retry time.
     */
    public enum Trigger {
      /** {@link WorkOrderEvent.Submitted} without dependencies. */
      SUBMITTED(EventType.SUBMITTED),
      /** {@link WorkOrderEvent.Submitted} with dependencies. */
      SUBMITTED_BLOCKED(EventType.SUBMITTED),
      /** {@link WorkOrderEvent.DependenciesMet}. */
      DEPENDENCIES_MET(EventType.DEPENDENCIES_MET),
      /** {@link WorkOrderEvent.DependencyFailed}. */
      DEPENDENCY_FAILED(EventType.DEPENDENCY_FAILED),
      /** {@link WorkOrderEvent.Checkpointed}. */
      CHECKPOINTED(EventType.CHECKPOINTED),
      /** {@link WorkOrderEvent.Claimed}. */
      CLAIMED(EventType.CLAIMED),
      /** {@link WorkOrderEvent.Started}. */
      STARTED(EventType.STARTED),
      /** {@link WorkOrderEvent.Completed}. */
      COMPLETED(EventType.COMPLETED),
      /** {@link WorkOrderEvent.AttemptFailed} with a retry time. */
      ATTEMPT_FAILED_WITH_RETRY(EventType.ATTEMPT_FAILED),
      /** {@link WorkOrderEvent.AttemptFailed} without one. */
      ATTEMPT_FAILED_FINAL(EventType.ATTEMPT_FAILED),
      /** {@link WorkOrderEvent.RetryReleased}. */
      RETRY_RELEASED(EventType.RETRY_RELEASED),
      /** {@link WorkOrderEvent.CancellationRequested}. */
      CANCELLATION_REQUESTED(EventType.CANCELLATION_REQUESTED),
      /** {@link WorkOrderEvent.Cancelled}. */
      CANCELLED(EventType.CANCELLED),
      /** {@link WorkOrderEvent.Released}. */
      RELEASED(EventType.RELEASED);

      private final EventType eventType;

      Trigger(EventType eventType) {
        this.eventType = eventType;
      }

      /**
       * The event type this trigger belongs to.
       *
       * @return the event type
       */
      public EventType eventType() {
        return eventType;
      }
    }

    /**
     * One row of the table.
     *
     * @param from the state before, or null for a work order without events
     * @param trigger the event
     * @param to the state after (equal to {@code from} for an event that changes no state)
     */
    public record Transition(WorkOrderState from, Trigger trigger, WorkOrderState to) {}

    private static final List<Transition> TRANSITIONS =
        List.of(
            new Transition(null, Trigger.SUBMITTED, PENDING),
            new Transition(null, Trigger.SUBMITTED_BLOCKED, BLOCKED),
            new Transition(BLOCKED, Trigger.DEPENDENCIES_MET, PENDING),
            new Transition(BLOCKED, Trigger.DEPENDENCY_FAILED, CANCELLED),
            new Transition(BLOCKED, Trigger.CANCELLED, CANCELLED),
            new Transition(PENDING, Trigger.CLAIMED, PREPARING),
            new Transition(PREPARING, Trigger.STARTED, RUNNING),
            new Transition(RUNNING, Trigger.COMPLETED, COMPLETED),
            new Transition(PREPARING, Trigger.ATTEMPT_FAILED_WITH_RETRY, WAITING_RETRY),
            new Transition(RUNNING, Trigger.ATTEMPT_FAILED_WITH_RETRY, WAITING_RETRY),
            new Transition(PREPARING, Trigger.ATTEMPT_FAILED_FINAL, FAILED),
            new Transition(RUNNING, Trigger.ATTEMPT_FAILED_FINAL, FAILED),
            new Transition(WAITING_RETRY, Trigger.RETRY_RELEASED, PENDING),
            new Transition(PENDING, Trigger.CANCELLED, CANCELLED),
            new Transition(WAITING_RETRY, Trigger.CANCELLED, CANCELLED),
            new Transition(PREPARING, Trigger.CANCELLATION_REQUESTED, PREPARING),
            new Transition(RUNNING, Trigger.CANCELLATION_REQUESTED, RUNNING),
            new Transition(PREPARING, Trigger.CANCELLED, CANCELLED),
            new Transition(RUNNING, Trigger.CANCELLED, CANCELLED),
            new Transition(PREPARING, Trigger.RELEASED, PENDING),
            new Transition(RUNNING, Trigger.RELEASED, PENDING),
            new Transition(RUNNING, Trigger.CHECKPOINTED, RUNNING));

    private static final Map<WorkOrderState, Map<Trigger, WorkOrderState>> BY_STATE =
        new EnumMap<>(WorkOrderState.class);
    private static final Map<WorkOrderState, Set<String>> VALID_EVENTS =
        new EnumMap<>(WorkOrderState.class);

    static {
      for (WorkOrderState state : WorkOrderState.values()) {
        BY_STATE.put(state, new EnumMap<>(Trigger.class));
      }
      for (Transition t : TRANSITIONS) {
        if (t.from() != null) {
          BY_STATE.get(t.from()).put(t.trigger(), t.to());
        }
      }
      for (WorkOrderState state : WorkOrderState.values()) {
        Set<String> names = new LinkedHashSet<>();
        BY_STATE.get(state).keySet().forEach(trigger -> names.add(trigger.eventType().typeName()));
        VALID_EVENTS.put(state, Collections.unmodifiableSet(names));
      }
    }

    private TransitionTable() {}

    /**
     * Every row of the table, in the order shown above.
     *
     * @return an immutable list
     */
    public static List<Transition> transitions() {
      return TRANSITIONS;
    }

    /**
     * The state an event leads to.
     *
     * @param workOrderId the work order, for the error message
     * @param from the current state, or null for a work order without events
     * @param event the event to apply
     * @return the next state
     * @throws InvalidTransitionException if the table has no row for the state and event
     */
    public static WorkOrderState next(
        WorkOrderId workOrderId, WorkOrderState from, WorkOrderEvent event) {
      Trigger trigger = event.trigger();
      if (from == null) {
        if (trigger == Trigger.SUBMITTED) {
          return PENDING;
        }
        if (trigger == Trigger.SUBMITTED_BLOCKED) {
          return BLOCKED;
        }
        throw new InvalidTransitionException(
            workOrderId, null, event.type().typeName(), Set.of(EventType.SUBMITTED.typeName()));
      }
      WorkOrderState to = BY_STATE.get(from).get(trigger);
      if (to == null) {
        throw new InvalidTransitionException(
            workOrderId, from, event.type().typeName(), VALID_EVENTS.get(from));
      }
      return to;
    }

    /**
     * Whether the table accepts an event in a state.
     *
     * @param from the current state, or null for a work order without events
     * @param event the event
     * @return true if {@link #next} would succeed
     */
    public static boolean accepts(WorkOrderState from, WorkOrderEvent event) {
      return from == null
          ? event.trigger().eventType() == EventType.SUBMITTED
          : BY_STATE.get(from).containsKey(event.trigger());
    }

    /**
     * The event type names a state accepts.
     *
     * @param state the state
     * @return an immutable set, empty for terminal states
     */
    public static Set<String> validEvents(WorkOrderState state) {
      return VALID_EVENTS.get(state);
    }
  }
}
