package dev.workgate.scheduler.internal;

import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderStore;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.ToIntFunction;

/**
 * The starvation guard of a {@link Scheduler}: finds a work order that could run on this node but
 * has waited longer than {@link SchedulerConfig#starvationThreshold()} for resources that smaller
 * work keeps taking, and holds every new start back until it fits; once it fits, its queue is
 * claimed from first, one at a time.
 *
 * <p>Thread-safe: turns call it with the scheduler's turn lock held; the hold is volatile, read by
 * claim-only turns and {@link Scheduler#stats()}.
 */
final class StarvationGuard {
  /** How many of a queue's oldest pending work orders the starvation check looks at. */
  static final int STARVATION_WINDOW = 32;

  /**
   * The longest time between two starvation checks of a busy node; a tenth of the threshold when
   * that is shorter. A check reads the oldest pending work orders of every served queue, and on a
   * durable store that read walks past the index entries of every work order claimed since the last
   * vacuum: run on every full turn (up to twenty a second while work keeps ending), it cost a
   * draining node more database reads than its claims. Finding a starved work order this much later
   * changes nothing a threshold of a minute promises.
   */
  static final Duration CHECK_INTERVAL = Duration.ofSeconds(1);

  private final WorkOrderStore store;
  private final SchedulerConfig config;
  private final ResourceMonitor monitor;
  private final ToIntFunction<String> room;
  private volatile String reservingFor;
  private Instant lastCheck; // guarded by the scheduler's turn lock

  /**
   * @param room how many more claims a queue may hold on this node now ({@link LeaseKeeper#room})
   */
  StarvationGuard(
      WorkOrderStore store,
      SchedulerConfig config,
      ResourceMonitor monitor,
      ToIntFunction<String> room) {
    this.store = store;
    this.config = config;
    this.monitor = monitor;
    this.room = room;
  }

  /** Whether starts are held back for a starving work order. */
  boolean isHolding() {
    return reservingFor != null;
  }

  /** The id of the work order starts are held back for, if any. */
  Optional<String> holdingFor() {
    return Optional.ofNullable(reservingFor);
  }

  /**
   * Lifts the hold at the start of a full turn's claim, which checks again.
   *
   * @return whether starts were held back
   */
  boolean releaseHold() {
    boolean wasHolding = reservingFor != null;
    reservingFor = null;
    return wasHolding;
  }

  /**
   * Whether a busy node's next starvation check is due: none ran yet, or {@link #CHECK_INTERVAL}
   * (or a tenth of the threshold, if shorter) has passed since the last one began. A node that
   * holds starts back checks on every full turn regardless (see {@code Claimer}).
   */
  boolean checkDue(Instant now) {
    if (lastCheck == null) {
      return true;
    }
    Duration tenth = config.starvationThreshold().dividedBy(10);
    Duration interval = tenth.compareTo(CHECK_INTERVAL) < 0 ? tenth : CHECK_INTERVAL;
    return !now.isBefore(lastCheck.plus(interval)) || now.isBefore(lastCheck);
  }

  /**
   * Holds every start back for the starving work order unless it fits the node's claimable capacity
   * now.
   *
   * @return true if starts are held back
   */
  boolean holdUnlessFits(WorkOrderView starving) {
    if (!monitor.claimable().fits(monitor.effective(starving.resources()))) {
      reservingFor = starving.id().value();
      return true;
    }
    return false;
  }

  /**
   * The work order that goes first, if one starved: among the oldest pending work orders of the
   * served queues, those that have waited at least the starvation threshold and could fit this
   * node, the first in claim order (priority, then age). If it does not fit now, the caller holds
   * every start back; once it fits, its queue is claimed from first, one at a time.
   */
  Optional<WorkOrderView> starving(Instant now) {
    lastCheck = now;
    Instant waitedSince = now.minus(config.starvationThreshold());
    WorkOrderView best = null;
    for (String queue : config.queues()) {
      if (room.applyAsInt(queue) <= 0) {
        continue;
      }
      List<WorkOrderView> oldest =
          store
              .query(
                  WorkOrderQuery.builder()
                      .queue(queue)
                      .states(WorkOrderState.PENDING)
                      .limit(STARVATION_WINDOW)
                      .build())
              .items();
      for (WorkOrderView view : oldest) {
        boolean waited = !view.availableAt().isAfter(waitedSince);
        if (waited
            && monitor.couldEverFit(view.resources())
            && (best == null || comesBefore(view, best))) {
          best = view;
        }
      }
    }
    return Optional.ofNullable(best);
  }

  private static boolean comesBefore(WorkOrderView a, WorkOrderView b) {
    if (a.priority() != b.priority()) {
      return a.priority() > b.priority();
    }
    return a.availableAt().isBefore(b.availableAt());
  }
}
