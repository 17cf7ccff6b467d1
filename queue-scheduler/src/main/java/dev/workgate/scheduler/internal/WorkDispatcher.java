package dev.workgate.scheduler.internal;

import dev.workgate.spi.ClaimRequest;
import java.util.Optional;

/**
 * Takes claimed work from the {@link Scheduler} and runs it: the execution manager implements it.
 * The scheduler calls it from its loop thread, so {@link #dispatch} must hand the work off (to an
 * executor) and return quickly; a slow dispatch delays every other start, lease renewal and reap.
 *
 * <p>Whoever runs the work must call {@link ClaimedWork#release()} exactly when the work no longer
 * uses the node's resources (after its sandbox is destroyed), in every outcome. Implementations
 * must be thread-safe: the notification methods are called from the loop thread (and {@link
 * #leaseLost} also from the scheduler's lease watchdog thread) while work runs on others.
 */
public interface WorkDispatcher {

  /**
   * How the scheduler's claims start the work orders whose sandbox needs no preparation, in the
   * claim's own write ({@link ClaimRequest#withStart}); empty to claim only. The scheduler asks
   * before each claim, on its loop thread; the start itself is called by the store inside the
   * claim, on that thread too.
   *
   * @return the start to put in every claim, or empty
   */
  default Optional<ClaimRequest.StartOnClaim> startOnClaim() {
    return Optional.empty();
  }

  /**
   * Runs claimed work. The work order has a lease held by this node and its resources are reserved
   * in the node's {@link ResourceMonitor}; it is {@code PREPARING}, or {@code RUNNING} when the
   * claim started it ({@link #startOnClaim}), in which case the runner appends no {@code Started}
   * of its own.
   *
   * @param work the claim and its reserved resources
   * @throws RuntimeException if the work cannot be handed off; the scheduler then releases the
   *     resources and records a failed attempt with the retry manager's decision
   */
  void dispatch(ClaimedWork work);

  /**
   * Someone (on this or another node) asked to cancel work that this node runs. The runner should
   * kill the sandbox and append {@code Cancelled}. Called once per claim.
   *
   * @param work the claim
   * @param reason the reason given
   */
  default void cancellationRequested(ClaimedWork work, String reason) {}

  /**
   * This node lost the lease of running work, or is about to: a renewal answered that the lease is
   * no longer this node's (it was reaped, or the work order moved on), or no renewal succeeded
   * before the lease's expiry minus the self-fence margin ({@link ClaimedWork#isSelfFenced()}). The
   * runner must stop the work at once, killing it within its kill grace, and record nothing for it:
   * the lease expires and whichever node reaches the store reaps it. Any append under the claim's
   * version may be refused. Called once per claim, from the loop thread or from the scheduler's
   * lease watchdog, which may run while the loop thread is blocked in the store: it must not block
   * and must not call the store.
   *
   * @param work the claim
   */
  default void leaseLost(ClaimedWork work) {}
}
