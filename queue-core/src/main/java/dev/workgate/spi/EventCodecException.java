package dev.workgate.spi;

import dev.workgate.core.WorkgateException;

/**
 * An event could not be read or written as JSON: an unknown type name, a schema version this code
 * does not read, or a payload that is malformed or misses a field. The message names which.
 */
public class EventCodecException extends WorkgateException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what could not be read and why
   */
  public EventCodecException(String message) {
    super(message);
  }

  /**
   * Creates the exception with a cause.
   *
   * @param message what could not be read and why
   * @param cause the parser's failure
   */
  public EventCodecException(String message, Throwable cause) {
    super(message, cause);
  }
}
