package dev.workgate;

/**
 * In-process work for one work-order type, registered with {@link Workgate.Builder#handler}. Called
 * once per attempt on a thread of the runtime's pool (one thread per slot). It must be thread-safe:
 * several attempts of different work orders may run at once.
 *
 * <p>Return a {@link WorkResult}; a thrown exception is classified by the retry manager's {@link
 * dev.workgate.retry.ErrorClassifier} (an {@code IOException} is a retryable {@code NETWORK_ERROR},
 * an unknown exception a retryable {@code UNKNOWN_ERROR}). A handler that sees {@link
 * WorkContext#cancellationRequested()} or is interrupted should return promptly.
 */
@FunctionalInterface
public interface WorkHandler {

  /**
   * Runs one attempt.
   *
   * @param context the attempt
   * @return how it ended
   * @throws Exception if it failed; classified as described above
   */
  WorkResult handle(WorkContext context) throws Exception;
}
