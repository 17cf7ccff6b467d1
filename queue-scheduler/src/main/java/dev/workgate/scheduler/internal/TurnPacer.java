package dev.workgate.scheduler.internal;

import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.retry.internal.RetryManager;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * The waiting and waking of the {@link Scheduler} loop: the wake signal it sleeps on, whether its
 * next turn is full or claim-only, and when the next turn is due.
 *
 * <p>A wake-up that comes within {@link #FULL_TURN_INTERVAL} of the last full turn (and before the
 * time that turn named, and fewer than {@link #MAX_LIGHT_TURNS} times in a row) runs a claim-only
 * turn; a sleep that ran its time always ends in a full turn. After a full turn the loop sleeps
 * until the earliest of: the poll interval, the next lease renewal, the start gate's opening, the
 * earliest self-fence deadline, the next retry, the next delayed work order of a served queue.
 *
 * <p>Thread-safe: any thread wakes the loop; the turn state is guarded by the scheduler's turn
 * lock, which every caller of the other methods holds.
 */
final class TurnPacer {

  /**
   * The longest the loop goes without a full turn while wake-ups keep it busy; in between it runs
   * claim-only turns.
   */
  static final Duration FULL_TURN_INTERVAL = Duration.ofMillis(50);

  /**
   * The most claim-only turns in a row: past it the next turn is full whatever the clock says, so
   * that a clock that stands still (a test's) cannot starve the other steps.
   */
  static final int MAX_LIGHT_TURNS = 256;

  /** The shortest sleep between turns, so that the loop can never spin. */
  static final Duration MIN_SLEEP = Duration.ofMillis(1);

  private final WorkOrderStore store;
  private final RetryManager retries;
  private final SchedulerConfig config;
  private final Clock clock;
  private final TurnSteps steps;
  private final WakeSignal signal;
  private Instant lastFullTurnAt; // guarded by turnLock
  private Instant fullTurnNext; // guarded by turnLock: when the last full turn said to turn again

  TurnPacer(
      WorkOrderStore store,
      RetryManager retries,
      SchedulerConfig config,
      Clock clock,
      TurnSteps steps,
      WakeSignal signal) {
    this.store = store;
    this.retries = retries;
    this.config = config;
    this.clock = clock;
    this.steps = steps;
    this.signal = signal;
  }

  /** Wakes the loop for a turn as soon as it can take one. */
  void wake() {
    signal.wake();
  }

  /** Wakes the loop if this node serves one of the queues. */
  void wakeIfServed(Set<String> queues) {
    for (String queue : queues) {
      if (config.serves(queue)) {
        signal.wake();
        return;
      }
    }
  }

  /**
   * Sleeps until the next turn is due or a wake.
   *
   * @return true if a wake ended the sleep, false if it ran its time
   */
  boolean awaitUntil(Instant until) {
    return signal.awaitUntil(until);
  }

  /** A full turn begins: until it ends, the next turn is full too (a turn that throws). */
  void fullTurnStarted(Instant now) {
    lastFullTurnAt = now;
    fullTurnNext = null;
  }

  /**
   * A full turn ends: says when the next turn is due (reading the next retry and the next delayed
   * work order of each served queue, each as a step of its own) and remembers it.
   *
   * @param nextRenewal when leases are next renewed, or null
   * @param gateOpensAt when the start gate opens, if it held starts back, or null
   * @param fenceDeadline the earliest self-fence deadline of running work, or null
   */
  Instant fullTurnEnded(
      Instant now, Instant nextRenewal, Instant gateOpensAt, Instant fenceDeadline) {
    Instant next = now.plus(config.pollInterval());
    next = earliest(next, nextRenewal);
    next = earliest(next, gateOpensAt);
    next = earliest(next, fenceDeadline);
    next =
        earliest(
            next,
            steps.run(
                "reading the next retry time", () -> retries.nextDueTime().orElse(null), null));
    for (String queue : config.queues()) {
      next =
          earliest(
              next,
              steps.run(
                  "reading the next availability of queue " + queue,
                  () -> store.nextAvailableAt(queue, now).orElse(null),
                  null));
    }
    fullTurnNext = notBeforeMinSleep(now, next);
    return fullTurnNext;
  }

  /**
   * Whether the loop's next turn must be a full one: none ran yet, the last one failed, the time it
   * named has come, or {@link #FULL_TURN_INTERVAL} has passed since it ran.
   */
  boolean fullTurnDue() {
    if (fullTurnNext == null || lastFullTurnAt == null) {
      return true;
    }
    Instant now = clock.instant();
    return !now.isBefore(fullTurnNext) || !now.isBefore(lastFullTurnAt.plus(FULL_TURN_INTERVAL));
  }

  /** When a claim-only turn of this node is due again: when the next full turn is, or earlier. */
  Instant claimTurnNext() {
    return earliest(fullTurnNext, lastFullTurnAt.plus(FULL_TURN_INTERVAL));
  }

  /** {@code next}, or a {@link #MIN_SLEEP} after now if that is earlier. */
  static Instant notBeforeMinSleep(Instant now, Instant next) {
    Instant soonest = now.plus(MIN_SLEEP);
    return next.isBefore(soonest) ? soonest : next;
  }

  /** The earlier of two times; {@code b} may be null. */
  static Instant earliest(Instant a, Instant b) {
    return b != null && b.isBefore(a) ? b : a;
  }
}
