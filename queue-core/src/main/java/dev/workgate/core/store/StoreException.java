package dev.workgate.core.store;

import dev.workgate.core.WorkgateException;

/**
 * The store's database failed: a lost connection, a full or read-only disk, a damaged row or
 * schema. The message says what failed and whether anything was written; an operation that throws
 * this wrote nothing unless the message says that the outcome is unknown (the connection broke
 * during commit).
 */
public class StoreException extends WorkgateException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what failed
   */
  public StoreException(String message) {
    super(message);
  }

  /**
   * Creates the exception with its cause.
   *
   * @param message what failed
   * @param cause the database's error
   */
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * A row of one work order that the store cannot read: an event that does not decode (damaged,
   * written by a newer Workgate, over the reader's limits) or a projection row that does not make a
   * view. Thrown by the reads of that work order ({@link WorkOrderStore#readStream}, {@link
   * WorkOrderStore#find}, an append to it); reads of many work orders skip the row instead (see
   * {@link WorkOrderStore#quarantinedRows()}). The message names the work order, the position and
   * the decoder's reason, never the row's content.
   */
  public static final class UnreadableRowException extends StoreException {
    private static final long serialVersionUID = 1L;

    private final String workOrderId;
    private final long position;

    /**
     * Creates the exception.
     *
     * @param message the full message
     * @param workOrderId the work order
     * @param position the event's log position, or 0 for a projection row
     * @param cause the decoder's exception, or null
     */
    public UnreadableRowException(
        String message, String workOrderId, long position, Throwable cause) {
      super(message, cause);
      this.workOrderId = workOrderId;
      this.position = position;
    }

    /**
     * The work order the row belongs to.
     *
     * @return its id, as stored
     */
    public String workOrderId() {
      return workOrderId;
    }

    /**
     * The unreadable event's position in the log.
     *
     * @return the position, or 0 when the projection row is what cannot be read
     */
    public long position() {
      return position;
    }
  }
}
