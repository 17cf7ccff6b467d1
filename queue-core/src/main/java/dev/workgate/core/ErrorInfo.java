package dev.workgate.core;

import dev.workgate.core.internal.Text;
import java.util.Set;

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

  /**
   * The error codes Workgate itself produces. Hosts may use codes of their own; these are the ones
   * the engine knows and whose default retryability the retry manager starts from.
   */
  public static final class ErrorCodes {
    /** The sandbox could not be created (retryable). */
    public static final String SANDBOX_CREATION_FAILED = "SANDBOX_CREATION_FAILED";

    /** The attempt ran past its timeout and was killed (retryable). */
    public static final String TIMEOUT = "TIMEOUT";

    /** The sandbox was killed for running out of memory, e.g. exit code 137 (retryable). */
    public static final String OOM_KILLED = "OOM_KILLED";

    /** A network or I/O error (retryable). */
    public static final String NETWORK_ERROR = "NETWORK_ERROR";

    /** The node holding the lease stopped renewing it; the attempt is presumed dead (retryable). */
    public static final String LEASE_EXPIRED = "LEASE_EXPIRED";

    /** The work order itself is invalid; running it again cannot help (not retryable). */
    public static final String INVALID_WORK_ORDER = "INVALID_WORK_ORDER";

    /** The work failed in a way it reported as final (not retryable). */
    public static final String AGENT_FATAL_ERROR = "AGENT_FATAL_ERROR";

    /** The work order was cancelled (not retryable). */
    public static final String CANCELLED = "CANCELLED";

    /**
     * A failure that no mapping recognised: an exception or an exit code nobody classified
     * (retryable, so that a surprise failure gets the bounded retries of its policy).
     */
    public static final String UNKNOWN_ERROR = "UNKNOWN_ERROR";

    /**
     * The node shut down while the attempt ran and killed it after the shutdown's grace period
     * (retryable: the work runs again, on this node after a restart or on another node).
     */
    public static final String NODE_SHUTDOWN = "NODE_SHUTDOWN";

    /**
     * Creating the sandbox took longer than the node's sandbox creation timeout; the creation was
     * interrupted and whatever it had made destroyed (retryable).
     */
    public static final String SANDBOX_CREATION_TIMEOUT = "SANDBOX_CREATION_TIMEOUT";

    /**
     * The node could not renew its lease in time (the store did not answer) and stopped the attempt
     * itself before another node could take the work order over (retryable; recorded as a release,
     * which costs no attempt).
     */
    public static final String LEASE_NOT_RENEWED = "LEASE_NOT_RENEWED";

    /**
     * The work order was released (its node shut down past the grace, or died) more often than the
     * release limit allows: it is presumed to kill the nodes it lands on, and fails for good (not
     * retryable).
     */
    public static final String POISONED = "POISONED";

    /**
     * A work order this one waited for ended FAILED or CANCELLED, so it was cancelled without
     * running ({@link WorkOrderEvent.DependencyFailed}); not retryable. Resubmitting the dependency
     * resubmits it too.
     */
    public static final String DEPENDENCY_FAILED = "DEPENDENCY_FAILED";

    /** Codes that are retryable unless a policy says otherwise. */
    public static final Set<String> RETRYABLE_BY_DEFAULT =
        Set.of(
            SANDBOX_CREATION_FAILED,
            SANDBOX_CREATION_TIMEOUT,
            TIMEOUT,
            OOM_KILLED,
            NETWORK_ERROR,
            LEASE_EXPIRED,
            NODE_SHUTDOWN,
            LEASE_NOT_RENEWED,
            UNKNOWN_ERROR);

    /** Codes that are never retried unless a policy says otherwise. */
    public static final Set<String> FATAL_BY_DEFAULT =
        Set.of(INVALID_WORK_ORDER, AGENT_FATAL_ERROR, CANCELLED, POISONED, DEPENDENCY_FAILED);

    private ErrorCodes() {}
  }
}
