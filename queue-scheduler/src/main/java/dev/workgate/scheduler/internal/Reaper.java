package dev.workgate.scheduler.internal;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.retry.internal.RetryManager;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reaps expired leases of any node for a {@link Scheduler}: releases the attempt without charging
 * it ({@link RetryManager#recordRelease}, {@code LEASE_EXPIRED}, or {@code LEASE_NOT_RENEWED} for
 * an attempt this node stopped itself), and tells the dispatcher when the expired lease was this
 * node's own. Logs under the scheduler's logger.
 *
 * <p>Thread-safe: a full turn calls {@link #reap}, with the scheduler's turn lock held; the count
 * may be read from any thread.
 */
final class Reaper {
  private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

  private final WorkOrderStore store;
  private final RetryManager retries;
  private final SchedulerConfig config;
  private final LeaseKeeper leases;
  private final AtomicLong reaped = new AtomicLong();

  Reaper(WorkOrderStore store, RetryManager retries, SchedulerConfig config, LeaseKeeper leases) {
    this.store = store;
    this.retries = retries;
    this.config = config;
    this.leases = leases;
  }

  /** Expired leases this node reaped; it only rises. */
  long reapedCount() {
    return reaped.get();
  }

  /** Reaps up to {@link SchedulerConfig#reapBatchSize()} leases expired by {@code now}. */
  void reap(Instant now) {
    for (WorkOrderView view : store.expiredLeases(now, config.reapBatchSize())) {
      ClaimedWork mine = leases.get(view.id());
      boolean ours = mine != null && mine.attempt() == view.attempt();
      if (ours) {
        // Its lease expired, so its self-fence deadline has passed too: this node stopped it (or
        // stops it now) and must not renew it, since another node may already have reaped it.
        leases.fenceIfDue(mine);
      }
      // A dead or cut-off node is no fault of the work: the attempt is given back, not charged.
      boolean selfFencedHere = ours && mine.isSelfFenced();
      String code = selfFencedHere ? ErrorCodes.LEASE_NOT_RENEWED : ErrorCodes.LEASE_EXPIRED;
      String reason =
          selfFencedHere
              ? config.nodeId()
                  + " could not renew its lease by "
                  + leases.fenceDeadline(mine)
                  + " and stopped the attempt itself"
              : "lease of "
                  + view.leaseOwner().orElse("?")
                  + " expired at "
                  + view.leaseExpiresAt().map(Instant::toString).orElse("?");
      try {
        RetryManager.ReleaseOutcome outcome = retries.recordRelease(view, code, reason);
        reaped.incrementAndGet();
        LOG.info(
            "reaped {} attempt {} held by {} ({}): {}",
            view.id(),
            view.attempt(),
            view.leaseOwner().orElse("?"),
            code,
            outcome);
      } catch (ConcurrencyException | InvalidTransitionException raced) {
        LOG.debug("{} was reaped or finished elsewhere", view.id());
      }
      if (mine != null
          && mine.attempt() == view.attempt()
          && !mine.isReleased()
          && mine.markLeaseLostSignalled()) {
        leases.notifyLeaseLost(mine);
      }
    }
  }
}
