package dev.workgate.scheduler.internal;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Dependencies;
import dev.workgate.core.internal.Resubmissions;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.ExpectedVersion;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's duty to work that waits for other work: decides the {@code BLOCKED} work orders
 * whose dependencies have ended, appending {@code DependenciesMet} (they become claimable) or
 * {@code DependencyFailed} (they end cancelled), each under the version it read, so that two nodes
 * deciding the same one cannot both write. The list comes from a durable query of the store, never
 * from memory: what a crash interrupted is decided on the next pass of any node.
 *
 * <p>A dependent cancelled for a dependency that was resubmitted meanwhile (by hand, before this
 * pass read it) is resubmitted at once, as a resubmission by hand would have done had it come
 * later: it waits for the newest incarnation of what it waited for ({@link Resubmissions}).
 *
 * <p>A pass goes on until it decides nothing more, so a chain of cancellations (each one makes the
 * next dependent decidable) is decided in one pass.
 *
 * <p>It runs in a full turn when woken (a work order ended or was blocked on this node) and at
 * least every poll interval, for work that other nodes or clients ended; between those the turn
 * skips it, so a store with many blocked work orders is not scanned twenty times a second.
 *
 * <p>Thread-safe: {@link #wake()} from any thread; {@link #decideIfDue} only from the turn.
 */
final class BlockedWork {
  private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

  /** Blocked work orders read per query. */
  static final int PAGE = 100;

  private final WorkOrderStore store;
  private final Resubmissions resubmissions;
  private final Duration interval;
  private final AtomicBoolean due = new AtomicBoolean(true);
  private Instant lastPass; // only the turn reads and writes it

  BlockedWork(WorkOrderStore store, Resubmissions resubmissions, Duration interval) {
    this.store = store;
    this.resubmissions = resubmissions;
    this.interval = interval;
  }

  /** Something may have unblocked work: the next full turn decides. */
  void wake() {
    due.set(true);
  }

  /**
   * Decides what can be decided, if woken or a poll interval passed since the last pass.
   *
   * @return how many work orders this node decided
   */
  int decideIfDue(Instant now) {
    boolean woken = due.getAndSet(false);
    if (!woken && lastPass != null && now.isBefore(lastPass.plus(interval))) {
      return 0;
    }
    lastPass = now;
    int decided = 0;
    while (true) {
      List<WorkOrderView> page = store.resolvableBlocked(PAGE);
      int written = 0;
      for (WorkOrderView blocked : page) {
        if (decide(blocked)) {
          written++;
        }
      }
      decided += written;
      // Until a query decides nothing: what this pass cancelled may make more work decidable,
      // and a full page whose work orders all went elsewhere (another node decided them) ends
      // the pass too; the next pass reads again.
      if (written == 0) {
        return decided;
      }
    }
  }

  private boolean decide(WorkOrderView blocked) {
    Optional<WorkOrderEvent> event;
    try {
      event = Dependencies.decide(store, blocked);
    } catch (RuntimeException e) {
      LOG.warn("cannot read the dependencies of {}; the next pass tries again", blocked.id(), e);
      return false;
    }
    if (event.isEmpty()) {
      return false;
    }
    try {
      store.append(blocked.id(), ExpectedVersion.exactly(blocked.version()), List.of(event.get()));
      LOG.debug("{}: {}", blocked.id(), event.get());
    } catch (ConcurrencyException | InvalidTransitionException moved) {
      return false; // decided (or cancelled) by someone else since the query
    }
    if (event.get() instanceof WorkOrderEvent.DependencyFailed failed) {
      resubmitIfReplaced(blocked, failed.dependency());
    }
    return true;
  }

  /**
   * A dependency that failed but was resubmitted already: the dependent is resubmitted too, once
   * (whoever resubmitted the dependency found it still blocked, so did not).
   */
  private void resubmitIfReplaced(WorkOrderView cancelled, WorkOrderId dependency) {
    try {
      if (resubmissions.hasResubmission(dependency)) {
        resubmissions.once(cancelled.id());
      }
    } catch (RuntimeException e) {
      // A full queue, a store hiccup: the dependent stays cancelled; resubmitting it (or the
      // dependency again) by hand brings it back.
      LOG.warn(
          "{} was cancelled because {} failed, which was resubmitted; resubmitting {} failed",
          cancelled.id(),
          dependency,
          cancelled.id(),
          e);
    }
  }
}
