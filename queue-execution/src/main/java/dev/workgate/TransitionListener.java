package dev.workgate;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Hears every event this node stores: each one appended through the runtime (submits, claims,
 * starts, outcomes, retries released, cancellations), after it is stored, with the work order's
 * queue, attempt and states before and after. Events stored by other nodes are not heard; read the
 * store's log for those. Calls come on the thread that made the change: implementations must be
 * thread-safe and quick; an exception is logged and ignored. Several threads record one work
 * order's events (the submitter, the scheduler loop, the execution), so a listener can hear them
 * out of order; each event carries its version.
 */
@FunctionalInterface
public interface TransitionListener {

  /**
   * A work order changed state (or an event was recorded without a state change, such as {@code
   * CancellationRequested}).
   *
   * @param change the stored event and its work order's context
   */
  void transition(StateChange change);

  /**
   * A batch ended: its last work order ended (on this node or, noticed here, on another). Told on
   * exactly one node of all that share the store, once per end (a batch that a resubmission
   * reopened can end again), on the node's completion watcher thread. The default does nothing.
   *
   * @param status the batch as it ended
   */
  default void batchEnded(BatchStatus status) {}

  /**
   * One event this node stored, with what listeners need to know about its work order without
   * reading the store again: its queue, its attempt, the states before and after, and the times it
   * was submitted and last became claimable. Immutable and thread-safe.
   *
   * @param event the stored event
   * @param queue the work order's queue
   * @param attempt the work order's attempt after the event (0 until its first claim)
   * @param from the state before the event; empty for {@code Submitted}
   * @param to the state after the event; equal to {@code from} for events that change no state
   *     ({@code CancellationRequested})
   * @param submittedAt when the work order was submitted
   * @param availableAt when it last became claimable (its submission, its {@code notBefore} or its
   *     last retry release)
   */
  public record StateChange(
      RecordedEvent event,
      String queue,
      int attempt,
      Optional<WorkOrderState> from,
      WorkOrderState to,
      Instant submittedAt,
      Instant availableAt) {

    /** Checks that nothing is missing. */
    public StateChange {
      Objects.requireNonNull(event, "event");
      Objects.requireNonNull(queue, "queue");
      Objects.requireNonNull(from, "from");
      Objects.requireNonNull(to, "to");
      Objects.requireNonNull(submittedAt, "submittedAt");
      Objects.requireNonNull(availableAt, "availableAt");
    }

    /**
     * The work order.
     *
     * @return its id
     */
    public WorkOrderId workOrderId() {
      return event.workOrderId();
    }

    /**
     * The event's type.
     *
     * @return the type
     */
    public EventType type() {
      return event.event().type();
    }

    /**
     * When the event was recorded.
     *
     * @return the time
     */
    public Instant at() {
      return event.recordedAt();
    }

    /**
     * Whether the state changed (false for {@code CancellationRequested}).
     *
     * @return true if {@code from} differs from {@code to}
     */
    public boolean changesState() {
      return from.map(f -> f != to).orElse(true);
    }

    /**
     * Time from submission to this event, never negative (clocks of different nodes may disagree).
     *
     * @return the duration
     */
    public Duration sinceSubmitted() {
      return nonNegative(Duration.between(submittedAt, at()));
    }

    /**
     * Time from the moment the work order became claimable to this event, never negative: for a
     * claim, how long the work waited in its queue.
     *
     * @return the duration
     */
    public Duration sinceAvailable() {
      return nonNegative(Duration.between(availableAt, at()));
    }

    private static Duration nonNegative(Duration d) {
      return d.isNegative() ? Duration.ZERO : d;
    }
  }
}
