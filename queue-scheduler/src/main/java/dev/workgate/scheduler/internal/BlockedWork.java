package dev.workgate.scheduler.internal;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Dependencies;
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
  private final Duration interval;
  private final AtomicBoolean due = new AtomicBoolean(true);
  private Instant lastPass; // only the turn reads and writes it

  BlockedWork(WorkOrderStore store, Duration interval) {
    this.store = store;
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
      // A full page whose work orders all went elsewhere (another node decided them) ends the
      // pass too: the next pass reads again.
      if (page.size() < PAGE || written == 0) {
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
      return true;
    } catch (ConcurrencyException | InvalidTransitionException moved) {
      return false; // decided (or cancelled) by someone else since the query
    }
  }
}
