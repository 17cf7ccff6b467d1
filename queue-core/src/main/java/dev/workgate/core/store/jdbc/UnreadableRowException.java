package dev.workgate.core.store.jdbc;

import dev.workgate.core.store.StoreException;

/**
 * A row of the store that cannot be read: an event that does not decode, or a projection row that
 * does not make a view. Its message names the work order, the position and the reason, never the
 * row's content.
 */
final class UnreadableRowException extends StoreException {
  private static final long serialVersionUID = 1L;

  private final String workOrderId;
  private final long position;

  /**
   * @param message the full message
   * @param workOrderId the work order
   * @param position the event's log position, or 0 for a projection row
   * @param cause the decoder's exception
   */
  UnreadableRowException(String message, String workOrderId, long position, Throwable cause) {
    super(message, cause);
    this.workOrderId = workOrderId;
    this.position = position;
  }

  String workOrderId() {
    return workOrderId;
  }

  long position() {
    return position;
  }
}
