package dev.workgate.retry.internal;

import dev.workgate.core.WorkOrderView;

/**
 * Hears what the {@link RetryManager} does, after it is in the store. Every method has an empty
 * default, so a listener implements only what it needs. Calls come on the thread that made the
 * change; calls to one listener never overlap (they are serialised), so a listener must be quick
 * and must not wait for another thread that may be recording a retry. An exception a listener
 * throws is logged and does not undo the change or stop other listeners. Once its registration is
 * closed, no further call reaches it.
 */
public interface RetryListener {

  /**
   * A failed attempt was recorded with a retry time ({@code WAITING_RETRY}).
   *
   * @param decision the decision, with the retry time
   */
  default void retryScheduled(RetryDecision decision) {}

  /**
   * A due retry was released: the work order is {@code PENDING} again.
   *
   * @param waiting the work order as it was while it waited (state {@code WAITING_RETRY}, its retry
   *     time and last error)
   */
  default void retryReleased(WorkOrderView waiting) {}

  /**
   * A failed attempt was the last one allowed: the work order is {@code FAILED}.
   *
   * @param decision the decision ({@link RetryDecision.Outcome#EXHAUSTED})
   */
  default void retriesExhausted(RetryDecision decision) {}

  /**
   * A failed attempt had an error not worth another attempt: the work order is {@code FAILED}.
   *
   * @param decision the decision ({@link RetryDecision.Outcome#NOT_RETRYABLE})
   */
  default void failedWithoutRetry(RetryDecision decision) {}

  /**
   * A work order that waited for a retry was cancelled.
   *
   * @param waiting the work order as it was while it waited
   * @param reason the cancellation reason
   */
  default void retryCancelled(WorkOrderView waiting, String reason) {}

  /**
   * An attempt was given back without being charged ({@link RetryManager#recordRelease}), or, past
   * the release limit, failed the work order as {@code POISONED}.
   *
   * @param released the work order as it was before the release
   * @param code why it was released
   * @param poisoned true if the release limit was reached and the work order failed
   */
  default void attemptReleased(WorkOrderView released, String code, boolean poisoned) {}
}
