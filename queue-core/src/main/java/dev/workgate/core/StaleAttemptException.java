package dev.workgate.core;

/**
 * A write on behalf of an attempt that no longer holds its work order: its lease was reaped or
 * given back, the work order was cancelled or moved on, or another attempt holds it now. Nothing
 * was written. Thrown to a handler whose checkpoint comes too late; it should stop.
 */
public class StaleAttemptException extends WorkgateException {
  private static final long serialVersionUID = 1L;

  private final WorkOrderId workOrderId;
  private final int attempt;

  /**
   * Creates the exception.
   *
   * @param workOrderId the work order
   * @param attempt the attempt that wrote
   * @param what the write, for the message, e.g. "checkpoint"
   */
  public StaleAttemptException(WorkOrderId workOrderId, int attempt, String what) {
    super(
        "work order "
            + workOrderId
            + ": attempt "
            + attempt
            + " no longer holds it (reaped, released, cancelled or ended); its "
            + what
            + " was refused and nothing was written");
    this.workOrderId = workOrderId;
    this.attempt = attempt;
  }

  /**
   * The work order.
   *
   * @return its id
   */
  public WorkOrderId workOrderId() {
    return workOrderId;
  }

  /**
   * The attempt whose write was refused.
   *
   * @return the attempt
   */
  public int attempt() {
    return attempt;
  }
}
