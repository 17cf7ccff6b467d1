package dev.workgate.core;

/**
 * A Submitted event carried an idempotency key that another work order already holds. Nothing was
 * written; {@link #existingWorkOrderId()} names the work order that holds the key, which is what a
 * repeated submission should return.
 */
public class IdempotencyKeyConflictException extends WorkgateException {
  private static final long serialVersionUID = 1L;

  private final String idempotencyKey;
  private final WorkOrderId existingWorkOrderId;

  /**
   * Creates the exception.
   *
   * @param idempotencyKey the key
   * @param existingWorkOrderId the work order that holds it
   */
  public IdempotencyKeyConflictException(String idempotencyKey, WorkOrderId existingWorkOrderId) {
    super(
        "idempotency key '"
            + idempotencyKey
            + "' is already held by work order "
            + existingWorkOrderId
            + "; nothing was written");
    this.idempotencyKey = idempotencyKey;
    this.existingWorkOrderId = existingWorkOrderId;
  }

  /**
   * The conflicting key.
   *
   * @return the key
   */
  public String idempotencyKey() {
    return idempotencyKey;
  }

  /**
   * The work order that already holds the key.
   *
   * @return its id
   */
  public WorkOrderId existingWorkOrderId() {
    return existingWorkOrderId;
  }
}
