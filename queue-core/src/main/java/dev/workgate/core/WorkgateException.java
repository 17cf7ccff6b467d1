package dev.workgate.core;

/** The base of every exception Workgate throws for a reason of its own. */
public class WorkgateException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * An exception with a message.
   *
   * @param message what happened
   */
  public WorkgateException(String message) {
    super(message);
  }

  /**
   * An exception with a message and a cause.
   *
   * @param message what happened
   * @param cause the underlying failure
   */
  public WorkgateException(String message, Throwable cause) {
    super(message, cause);
  }
}
