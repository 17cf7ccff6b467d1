package dev.workgate.scheduler.internal;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.retry.internal.RetryManager;
import dev.workgate.scheduler.ResourceHealthReport.PressureLevel;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The claim step of a {@link Scheduler} turn: claims what fits, queue by queue in a rotating order,
 * within the node's claimable capacity, per-queue concurrency limits, the {@link StartGate} and the
 * {@link StarvationGuard}'s hold; then admits each claim (takes its slot, hands it to the {@link
 * LeaseKeeper} and the {@link WorkDispatcher}) or fails the attempt when it cannot start. Logs
 * under the scheduler's logger.
 *
 * <p>Thread-safe: turns call {@link #claimAndDispatch} with the scheduler's turn lock held, which
 * guards the queue cursor and the start gate; the counters may be read from any thread.
 */
final class Claimer {
  private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

  private final WorkOrderStore store;
  private final WorkDispatcher dispatcher;
  private final ResourceMonitor monitor;
  private final RetryManager retries;
  private final SchedulerConfig config;
  private final Clock clock;
  private final TurnSteps steps;
  private final LeaseKeeper leases;
  private final StartGate gate;
  private final Scheduler scheduler;
  private final AtomicLong claimed = new AtomicLong();
  private volatile Instant lastClaimAt;
  private final StarvationGuard starvation;
  private int queueCursor; // guarded by turnLock

  Claimer(
      WorkOrderStore store,
      WorkDispatcher dispatcher,
      ResourceMonitor monitor,
      RetryManager retries,
      SchedulerConfig config,
      Clock clock,
      TurnSteps steps,
      LeaseKeeper leases,
      StartGate gate,
      StarvationGuard starvation,
      Scheduler scheduler) {
    this.store = store;
    this.dispatcher = dispatcher;
    this.monitor = monitor;
    this.retries = retries;
    this.config = config;
    this.clock = clock;
    this.steps = steps;
    this.leases = leases;
    this.gate = gate;
    this.starvation = starvation;
    this.scheduler = scheduler;
  }

  /** Work orders this node claimed; it only rises. */
  long claimedCount() {
    return claimed.get();
  }

  /** When this node last started a claim, empty before the first. */
  Optional<Instant> lastClaimAt() {
    return Optional.ofNullable(lastClaimAt);
  }

  /**
   * Claims and dispatches what fits; returns when the stagger or rate limit opens, if it blocked.
   */
  Instant claimAndDispatch(Instant now, boolean checkStarvation, boolean claiming) {
    boolean wasHolding = checkStarvation && starvation.releaseHold();
    if (!claiming || monitor.pressure() == PressureLevel.CRITICAL) {
      return null;
    }
    // Work can only starve while something holds capacity, or while capacity is being held back
    // for it; an idle node skips the query, and a busy one runs it at most once per the guard's
    // check interval, unless it is holding starts back (then every full turn checks again).
    Optional<WorkOrderView> starving =
        checkStarvation && (wasHolding || (monitor.activeSlots() > 0 && starvation.checkDue(now)))
            ? steps.run(
                "checking for starving work", () -> starvation.starving(now), Optional.empty())
            : Optional.empty();
    List<String> order = visitingOrder();
    if (starving.isPresent()) {
      WorkOrderView big = starving.get();
      if (starvation.holdUnlessFits(big)) {
        return null; // hold every start back until it fits
      }
      order.remove(big.queue());
      order.add(0, big.queue());
    }
    for (String queue : order) {
      while (true) {
        Capacity capacity = monitor.claimable();
        if (capacity.slots() <= 0) {
          return null;
        }
        int room = leases.room(queue);
        if (room <= 0) {
          break;
        }
        Instant opensAt = gate.opensAt(now);
        if (opensAt.isAfter(now)) {
          return opensAt;
        }
        int limit =
            Math.min(
                Math.min(config.claimBatchSize(), capacity.slots()),
                Math.min(room, gate.permits(now)));
        if (starving.isPresent() && queue.equals(starving.get().queue())) {
          limit = 1;
          starving = Optional.empty(); // its turn: it is the oldest of its priority that fits
        }
        // The lease runs from now, not from the start of the turn: a slow store can make the
        // steps before this one take longer than a lease.
        // A queue whose claim fails is skipped for this turn; the other queues are still served.
        int claimLimit = limit;
        Optional<ClaimRequest.StartOnClaim> start = dispatcher.startOnClaim();
        List<WorkOrderView> got =
            steps.run(
                "claiming from queue " + queue,
                () -> {
                  ClaimRequest request =
                      new ClaimRequest(
                          queue,
                          config.nodeId(),
                          claimLimit,
                          capacity,
                          clock.instant(),
                          config.leaseDuration());
                  return store.claim(start.isPresent() ? request.withStart(start.get()) : request);
                },
                null);
        if (got == null) {
          break;
        }
        for (WorkOrderView view : got) {
          admit(view, now);
        }
        if (got.size() < limit) {
          break;
        }
      }
    }
    return null;
  }

  private List<String> visitingOrder() {
    List<String> queues = config.queues();
    List<String> order = new ArrayList<>(queues.size());
    int start = Math.floorMod(queueCursor++, queues.size());
    for (int i = 0; i < queues.size(); i++) {
      order.add(queues.get((start + i) % queues.size()));
    }
    return order;
  }

  private void admit(WorkOrderView view, Instant now) {
    Instant leaseExpiresAt = leases.leaseOfNewClaim(view, now);
    if (leaseExpiresAt == null) {
      return;
    }
    Optional<SlotLease> slot = monitor.tryAcquire(view.id(), view.resources());
    if (slot.isEmpty()) {
      // Only this loop acquires, and it claimed within claimable(): this means the monitor's
      // effective request differs from the stored one (a spec from a host that bypassed submit).
      LOG.warn(
          "claimed {} but its resources {} do not fit: failing the attempt",
          view.id(),
          view.resources());
      recordQuietly(
          view,
          ErrorInfo.retryable(
              ErrorCodes.SANDBOX_CREATION_FAILED,
              "claimed work did not fit the node's free resources"));
      return;
    }
    ClaimedWork work = new ClaimedWork(view, slot.get(), now, leaseExpiresAt, scheduler);
    leases.add(work);
    claimed.incrementAndGet();
    lastClaimAt = now;
    gate.started(now);
    try {
      dispatcher.dispatch(work);
    } catch (RuntimeException e) {
      LOG.warn("dispatcher refused {}", view.id(), e);
      work.release();
      recordQuietly(
          view,
          ErrorInfo.retryable(
              ErrorCodes.SANDBOX_CREATION_FAILED,
              "dispatch failed: " + retries.classifier().classify(e).message()));
    }
  }

  private void recordQuietly(WorkOrderView view, ErrorInfo error) {
    try {
      retries.recordFailure(view, error);
    } catch (ConcurrencyException | InvalidTransitionException raced) {
      LOG.debug("{} changed before its failure could be recorded", view.id());
    }
  }
}
