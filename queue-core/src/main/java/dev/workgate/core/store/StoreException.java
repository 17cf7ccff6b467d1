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
}
