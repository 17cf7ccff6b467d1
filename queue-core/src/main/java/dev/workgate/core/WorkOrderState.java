package dev.workgate.core;

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
  CANCELLED;

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
}
