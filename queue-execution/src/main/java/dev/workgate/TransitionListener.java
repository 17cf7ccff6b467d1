package dev.workgate;

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
}
