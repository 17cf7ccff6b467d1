package dev.workgate.retry.internal;

import dev.workgate.core.ErrorInfo;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.Optional;

/**
 * What the {@link RetryManager} decided about a failed attempt: run it again at a given time, or
 * fail the work order for good, with a reason a person can read. Immutable and thread-safe.
 *
 * <p>{@link #toEvent()} is the {@code AttemptFailed} event that records the decision, so the retry
 * time is in the log and survives restarts.
 */
public final class RetryDecision {

  /** The kinds of decision. */
  public enum Outcome {
    /** Another attempt is scheduled. */
    RETRY,
    /** The error would retry, but the work order used all its attempts. */
    EXHAUSTED,
    /** The error is not worth another attempt. */
    NOT_RETRYABLE
  }

  private final WorkOrderId workOrderId;
  private final String queue;
  private final int attempt;
  private final int maxAttempts;
  private final ErrorInfo error;
  private final Outcome outcome;
  private final Instant decidedAt;
  private final Duration delay;
  private final Instant retryAt;
  private final String reason;

  RetryDecision(
      WorkOrderId workOrderId,
      String queue,
      int attempt,
      int maxAttempts,
      ErrorInfo error,
      Outcome outcome,
      Instant decidedAt,
      Duration delay) {
    this.workOrderId = Objects.requireNonNull(workOrderId, "workOrderId");
    this.queue = Objects.requireNonNull(queue, "queue");
    this.attempt = attempt;
    this.maxAttempts = maxAttempts;
    this.error = Objects.requireNonNull(error, "error");
    this.outcome = Objects.requireNonNull(outcome, "outcome");
    this.decidedAt = Objects.requireNonNull(decidedAt, "decidedAt");
    if ((outcome == Outcome.RETRY) != (delay != null)) {
      throw new IllegalArgumentException("a delay goes with a retry and only with a retry");
    }
    this.delay = delay;
    this.retryAt = delay == null ? null : decidedAt.plus(delay).truncatedTo(ChronoUnit.MICROS);
    this.reason = reason(outcome, error, attempt, maxAttempts, delay);
  }

  private static String reason(
      Outcome outcome, ErrorInfo error, int attempt, int maxAttempts, Duration delay) {
    switch (outcome) {
      case RETRY:
        return "retry: attempt "
            + (attempt + 1)
            + " of "
            + maxAttempts
            + " in "
            + seconds(delay)
            + " after "
            + error.code();
      case EXHAUSTED:
        return "attempts exhausted: " + attempt + " of " + maxAttempts;
      case NOT_RETRYABLE:
        return "not retryable: " + error.code();
      default:
        throw new IllegalStateException("unknown outcome " + outcome);
    }
  }

  private static String seconds(Duration delay) {
    long millis = delay.toMillis();
    return String.format(java.util.Locale.ROOT, "%d.%03d s", millis / 1000, millis % 1000);
  }

  /**
   * The work order.
   *
   * @return its id
   */
  public WorkOrderId workOrderId() {
    return workOrderId;
  }

  /**
   * The work order's queue, whose policy applied.
   *
   * @return the queue
   */
  public String queue() {
    return queue;
  }

  /**
   * The attempt that failed.
   *
   * @return at least 1
   */
  public int attempt() {
    return attempt;
  }

  /**
   * The attempts the work order may take: its spec's {@code maxAttempts}, else its queue's policy.
   *
   * @return at least 1
   */
  public int maxAttempts() {
    return maxAttempts;
  }

  /**
   * The error, with the retryability the policy gave it.
   *
   * @return the error as recorded
   */
  public ErrorInfo error() {
    return error;
  }

  /**
   * What was decided.
   *
   * @return the outcome
   */
  public Outcome outcome() {
    return outcome;
  }

  /**
   * Whether another attempt is scheduled.
   *
   * @return true for {@link Outcome#RETRY}
   */
  public boolean willRetry() {
    return outcome == Outcome.RETRY;
  }

  /**
   * When the decision was made, by the manager's clock.
   *
   * @return the time
   */
  public Instant decidedAt() {
    return decidedAt;
  }

  /**
   * How long the work order waits before its next attempt.
   *
   * @return the delay, empty unless {@link #willRetry()}
   */
  public Optional<Duration> delay() {
    return Optional.ofNullable(delay);
  }

  /**
   * When the next attempt may start: {@link #decidedAt()} plus the delay, truncated to the
   * microsecond, the precision every store keeps times in.
   *
   * @return the time, empty unless {@link #willRetry()}
   */
  public Optional<Instant> retryAt() {
    return Optional.ofNullable(retryAt);
  }

  /**
   * A reason a person can read, e.g. {@code "retry: attempt 2 of 4 in 5.213 s after TIMEOUT"},
   * {@code "attempts exhausted: 4 of 4"} or {@code "not retryable: AGENT_FATAL_ERROR"}.
   *
   * @return the reason, as recorded in the event
   */
  public String reason() {
    return reason;
  }

  /**
   * The event that records this decision.
   *
   * @return an {@code AttemptFailed} with the retry time, or without one for a final failure
   */
  public WorkOrderEvent.AttemptFailed toEvent() {
    return retryAt == null
        ? WorkOrderEvent.AttemptFailed.finalFailure(error, reason)
        : WorkOrderEvent.AttemptFailed.retryAt(error, retryAt, reason);
  }

  @Override
  public String toString() {
    return "RetryDecision{" + workOrderId + ", attempt " + attempt + ": " + reason + "}";
  }
}
