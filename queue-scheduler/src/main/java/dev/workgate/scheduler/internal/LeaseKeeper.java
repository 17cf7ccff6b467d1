package dev.workgate.scheduler.internal;

import static dev.workgate.scheduler.internal.TurnPacer.earliest;

import dev.workgate.core.Progress;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import java.time.Clock;
import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leases of the work a {@link Scheduler} node has claimed and not released: it holds those
 * claims, renews their leases when due (passing on cancellation requests made elsewhere), stops an
 * attempt itself when no renewal succeeded by its self-fence deadline (the lease's expiry minus
 * {@link SchedulerConfig#selfFenceMargin()}), runs the watchdog that checks those deadlines while a
 * turn may hang in the store, and reports a lost lease to the {@link WorkDispatcher}, once per
 * attempt. Logs under the scheduler's logger.
 *
 * <p>Thread-safe: the claims are a concurrent map that the loop adds to, {@link
 * ClaimedWork#release()} removes from (on any thread) and readers snapshot. Renewal and its
 * schedule run on a turn, with the scheduler's turn lock held; fencing runs on the turn, the
 * watchdog thread or a host's thread, and each attempt is fenced once by its own atomic flags.
 */
final class LeaseKeeper {
  private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

  private final WorkOrderStore store;
  private final WorkDispatcher dispatcher;
  private final SchedulerConfig config;
  private final Clock clock;
  private final WakeSignal watchdogSignal;
  private final Map<WorkOrderId, ClaimedWork> active = new ConcurrentHashMap<>();
  private final AtomicLong selfFenced = new AtomicLong();
  private Instant nextRenewal; // guarded by turnLock

  LeaseKeeper(
      WorkOrderStore store,
      WorkDispatcher dispatcher,
      SchedulerConfig config,
      Clock clock,
      WakeSignal watchdogSignal) {
    this.store = store;
    this.dispatcher = dispatcher;
    this.config = config;
    this.clock = clock;
    this.watchdogSignal = watchdogSignal;
  }

  /** Starts keeping the lease of new work, and wakes the watchdog to look at its deadline. */
  void add(ClaimedWork work) {
    active.put(work.id(), work);
    watchdogSignal.wake();
  }

  /** Stops keeping the lease of released work. */
  void remove(ClaimedWork work) {
    active.remove(work.id(), work);
  }

  /** The claim of a work order, or null if this node holds none. */
  ClaimedWork get(WorkOrderId id) {
    return active.get(id);
  }

  /** The claims held, a live unmodifiable view. */
  Collection<ClaimedWork> claims() {
    return Collections.unmodifiableCollection(active.values());
  }

  /** How many claims are held. */
  int size() {
    return active.size();
  }

  /**
   * How many more claims the queue may hold on this node now: its {@link
   * SchedulerConfig#queueConcurrency} less the claims held in it, or {@link Integer#MAX_VALUE}
   * without a limit.
   */
  int room(String queue) {
    OptionalInt limit = config.queueConcurrency(queue);
    if (limit.isEmpty()) {
      return Integer.MAX_VALUE;
    }
    int running = 0;
    for (ClaimedWork work : active.values()) {
      if (work.view().queue().equals(queue)) {
        running++;
      }
    }
    return limit.getAsInt() - running;
  }

  /** Attempts stopped by their self-fence deadline, or not started past it; it only rises. */
  long selfFencedCount() {
    return selfFenced.get();
  }

  /** Whether leases are due for renewal on a turn at {@code now}. */
  boolean renewalDue(Instant now) {
    return nextRenewal == null || !now.isBefore(nextRenewal);
  }

  /**
   * Schedules the next renewal after a turn's renewal step: a renew interval on, or, if it failed,
   * on the next full turn rather than a whole interval later.
   */
  void renewalDone(Instant now, boolean renewed) {
    nextRenewal = renewed ? now.plus(config.renewInterval()) : null;
  }

  /** When leases are renewed next, or null for the next full turn. */
  Instant nextRenewal() {
    return nextRenewal;
  }

  /**
   * Stops every attempt whose lease was not renewed by its self-fence deadline; see {@link
   * Scheduler#fenceOverdueWork()}. Touches no store.
   *
   * @return the earliest self-fence deadline of the work still running; empty when there is none
   */
  Optional<Instant> fenceOverdueWork() {
    Instant now = clock.instant();
    Instant earliest = null;
    for (ClaimedWork work : active.values()) {
      if (work.isReleased() || work.isLeaseLostSignalled()) {
        continue;
      }
      Instant deadline = fenceDeadline(work);
      if (now.isBefore(deadline)) {
        earliest = earliest(earliest == null ? deadline : earliest, deadline);
      } else {
        fence(work, deadline);
      }
    }
    return Optional.ofNullable(earliest);
  }

  /** The time by which a renewal of this work's lease must have succeeded. */
  Instant fenceDeadline(ClaimedWork work) {
    return work.leaseExpiresAt().minus(config.selfFenceMargin());
  }

  /** Fences the work if its deadline has passed; true if it is fenced (or its lease lost). */
  boolean fenceIfDue(ClaimedWork work) {
    if (work.isLeaseLostSignalled()) {
      return true;
    }
    Instant deadline = fenceDeadline(work);
    if (clock.instant().isBefore(deadline)) {
      return false;
    }
    fence(work, deadline);
    return true;
  }

  private void fence(ClaimedWork work, Instant deadline) {
    if (work.isReleased() || !work.markSelfFenced()) {
      return;
    }
    selfFenced.incrementAndGet();
    LOG.warn(
        "{} could not renew the lease of {} attempt {} by {} (the lease it last wrote expires at"
            + " {}): stopping the attempt before another node may take it over",
        config.nodeId(),
        work.id(),
        work.attempt(),
        deadline,
        work.leaseExpiresAt());
    notifyLeaseLost(work);
  }

  /**
   * The lease a new claim holds, or null if the claim answered only after its self-fence deadline:
   * then another node may take the work order over before it could stop, so it is not started at
   * all (counted as self-fenced, logged at WARN) and its lease is left to expire.
   *
   * @param now the start of the turn that claimed it
   */
  Instant leaseOfNewClaim(WorkOrderView view, Instant now) {
    // The claim's lease ran from the claim's own time, after now: now plus a lease is no later.
    Instant leaseExpiresAt = view.leaseExpiresAt().orElse(now.plus(config.leaseDuration()));
    Instant deadline = leaseExpiresAt.minus(config.selfFenceMargin());
    if (!clock.instant().isBefore(deadline)) {
      selfFenced.incrementAndGet();
      LOG.warn(
          "{} claimed {} attempt {} but the claim answered only after its self-fence deadline {}:"
              + " not starting it",
          config.nodeId(),
          view.id(),
          view.attempt(),
          deadline);
      return null;
    }
    return leaseExpiresAt;
  }

  /**
   * The watchdog's loop: fences overdue work while {@code keepGoing} holds, waking at the earliest
   * deadline (and at least every poll interval, so that a clock that jumps is noticed).
   */
  void watch(BooleanSupplier keepGoing) {
    while (keepGoing.getAsBoolean()) {
      Instant next;
      try {
        next = fenceOverdueWork().orElse(null);
      } catch (RuntimeException | LinkageError | AssertionError e) {
        LOG.warn("the lease watchdog of {} failed; it goes on", config.nodeId(), e);
        next = null;
      }
      Instant now = clock.instant();
      Instant until = now.plus(config.pollInterval());
      watchdogSignal.awaitUntil(next == null ? until : earliest(until, next));
    }
  }

  /** Wakes the watchdog, to look again or to see that it should stop. */
  void wakeWatchdog() {
    watchdogSignal.wake();
  }

  /**
   * Renews the lease of every running claim that is not fenced, each on its own: one that throws
   * does not keep the others from being renewed. Throws the first failure after trying them all.
   *
   * @return true (a failure throws)
   */
  boolean renewAll() {
    RuntimeException failed = null;
    for (ClaimedWork work : active.values()) {
      if (work.isReleased() || fenceIfDue(work)) {
        continue; // a fenced attempt's lease is left to expire
      }
      try {
        renew(work);
      } catch (RuntimeException e) {
        if (failed == null) {
          failed = e;
        } else {
          failed.addSuppressed(e);
        }
      }
    }
    if (failed != null) {
      throw failed;
    }
    return true;
  }

  private void renew(ClaimedWork work) {
    // Computed before the call: if the store answers late, the expiry kept is the earlier one.
    Instant expiry = leaseFromNow();
    Progress progress = work.takeProgressToWrite();
    boolean renewed;
    try {
      renewed = store.renewLease(work.id(), config.nodeId(), work.attempt(), expiry, progress);
    } catch (RuntimeException e) {
      if (progress != null) {
        work.progressNotWritten();
      }
      throw e;
    }
    if (!renewed) {
      if (!work.isReleased() && work.markLeaseLostSignalled()) {
        notifyLeaseLost(work);
      }
      return;
    }
    work.leaseWritten(expiry);
    Optional<String> cancellation =
        store.find(work.id()).flatMap(WorkOrderView::cancellationRequested);
    if (cancellation.isPresent() && work.markCancellationSignalled()) {
      try {
        dispatcher.cancellationRequested(work, cancellation.get());
      } catch (RuntimeException e) {
        LOG.warn("dispatcher failed on the cancellation of {}", work.id(), e);
      }
    }
  }

  /**
   * When a lease taken or renewed now expires. Read from the clock at each write rather than from
   * the turn's start, which a slow store (or a starved machine) can leave a whole lease behind.
   */
  private Instant leaseFromNow() {
    return clock.instant().plus(config.leaseDuration());
  }

  /** Tells the dispatcher the work's lease is lost; a dispatcher that throws is logged. */
  void notifyLeaseLost(ClaimedWork work) {
    try {
      dispatcher.leaseLost(work);
    } catch (RuntimeException e) {
      LOG.warn("dispatcher failed on the lost lease of {}", work.id(), e);
    }
  }
}
