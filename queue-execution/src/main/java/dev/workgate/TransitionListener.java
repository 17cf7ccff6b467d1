package dev.workgate;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderState;

/**
 * Hears every transition this node makes: each event appended through the runtime (submits, claims,
 * starts, outcomes, retries released, cancellations), after it is stored. Transitions made by other
 * nodes are not heard; read the store's log for those. Calls come on the thread that made the
 * change: implementations must be thread-safe and quick; an exception is logged and ignored.
 * Several threads record one work order's events (the submitter, the scheduler loop, the
 * execution), so a listener can hear them out of order; each event carries its version.
 */
@FunctionalInterface
public interface TransitionListener {

  /**
   * A work order changed state (or an event was recorded without a state change, such as {@code
   * CancellationRequested}).
   *
   * @param event the stored event
   * @param state the work order's state after it
   */
  void transition(RecordedEvent event, WorkOrderState state);
}
