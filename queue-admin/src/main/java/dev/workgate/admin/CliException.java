package dev.workgate.admin;

/** A failure the CLI reports as one line on stderr, with its exit code, without a stack trace. */
final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int exitCode;

  CliException(String message) {
    this(message, WorkgateAdmin.EXIT_FAILURE);
  }

  CliException(String message, int exitCode) {
    super(message);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }
}
