package dev.workgate.core;

/**
 * What went wrong in an attempt: a stable error code (see {@link ErrorCodes}), a message for a
 * person, and whether the failure is worth another attempt. Immutable and thread-safe.
 *
 * @param code stable, non-blank error code such as {@code TIMEOUT}
 * @param message a human-readable description, never null (may be empty); kept as {@link
 *     Text#truncate} with {@link Text#MAX_ERROR_MESSAGE_LENGTH} returns it (NUL and unpaired
 *     surrogates replaced by U+FFFD, a longer message cut with a marker), since it usually comes
 *     from a handler or a sandbox and recording the failure must not fail
 * @param retryable whether another attempt may succeed
 */
public record ErrorInfo(String code, String message, boolean retryable) {

  /**
   * Validates the error.
   *
   * @throws IllegalArgumentException if the code breaks the name rule of {@link Text#requireName}
   *     or the message is null
   */
  public ErrorInfo {
    Text.requireName(code, "error code");
    if (message == null) {
      throw new IllegalArgumentException(
          "error message must not be null (use an empty string), for code " + code);
    }
    message = Text.truncate(message, Text.MAX_ERROR_MESSAGE_LENGTH);
  }

  /**
   * A retryable error.
   *
   * @param code error code
   * @param message description
   * @return the error
   */
  public static ErrorInfo retryable(String code, String message) {
    return new ErrorInfo(code, message, true);
  }

  /**
   * An error that no further attempt will fix.
   *
   * @param code error code
   * @param message description
   * @return the error
   */
  public static ErrorInfo fatal(String code, String message) {
    return new ErrorInfo(code, message, false);
  }
}
