package dev.workgate.execution.internal;

import dev.workgate.NodeView;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Text;
import dev.workgate.scheduler.internal.ClaimedWork;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The slots of abandoned handlers: work whose sandbox gave up on it after the kill grace while its
 * thread still runs keeps its slots and memory until the work really stops, until the cap has
 * passed, or until the manager closes, whichever comes first; then the slot is released, once. Logs
 * under the {@link ExecutionManager}'s logger.
 *
 * <p>Thread-safe: the held slots are a concurrent map; an execution thread adds to it, and the
 * handler's end, the cap's timer thread or the closing thread frees each entry once, guarded by its
 * own atomic flag.
 */
final class AbandonedHandlers {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutionManager.class);

  private final Clock clock;
  private final ScheduledExecutorService timers;
  private final Duration cap;
  private final Map<ClaimedWork, Held> held = new ConcurrentHashMap<>();

  AbandonedHandlers(Clock clock, ScheduledExecutorService timers, Duration cap) {
    this.clock = clock;
    this.timers = timers;
    this.cap = cap;
  }

  /**
   * Keeps the slot of work whose sandbox gave up on it (a handler that ignored its stop) until the
   * work really stops, or until the cap has passed.
   *
   * @param work the claim whose slot is kept
   * @param claimed the work order as claimed
   * @param stopped completes when the work really stops
   */
  void hold(ClaimedWork work, WorkOrderView claimed, CompletableFuture<Void> stopped) {
    Held h =
        new Held(
            work,
            new NodeView.AbandonedHandler(
                claimed.id(),
                claimed.attempt(),
                claimed.queue(),
                clock.instant(),
                work.slot().resources().slots(),
                work.slot().resources().memoryMb()));
    held.put(work, h);
    LOG.warn(
        "{} attempt {} is abandoned: its outcome is recorded but its handler's thread still runs"
            + " after the stop; its {} slot(s) and {} MB stay in use until the thread ends, for {}"
            + " at most",
        claimed.id(),
        claimed.attempt(),
        h.info.slotsHeld(),
        h.info.memoryMbHeld(),
        Text.duration(cap));
    h.cap =
        timers.schedule(
            () -> h.free(Freed.CAPPED), TimeUnit.NANOSECONDS.convert(cap), TimeUnit.NANOSECONDS);
    stopped.whenComplete((v, e) -> h.free(Freed.STOPPED));
  }

  /** The abandoned handlers still held, oldest first. */
  List<NodeView.AbandonedHandler> list() {
    List<NodeView.AbandonedHandler> list = new ArrayList<>();
    for (Held h : held.values()) {
      list.add(h.info);
    }
    list.sort(Comparator.comparing(NodeView.AbandonedHandler::abandonedAt));
    return list;
  }

  /** Frees every held slot: the manager closes, nothing is claimed any more. */
  void freeAll() {
    for (Held h : List.copyOf(held.values())) {
      h.free(Freed.CLOSED);
    }
  }

  /** Why an abandoned handler's slot is freed. */
  private enum Freed {
    STOPPED,
    CAPPED,
    CLOSED
  }

  /** An abandoned handler's held slot, freed once. */
  private final class Held {
    final ClaimedWork work;
    final NodeView.AbandonedHandler info;
    final AtomicBoolean freed = new AtomicBoolean();
    volatile ScheduledFuture<?> cap;

    Held(ClaimedWork work, NodeView.AbandonedHandler info) {
      this.work = work;
      this.info = info;
    }

    /** Frees the slot: the work stopped, the cap passed, or the manager closed. Once. */
    void free(Freed why) {
      if (!freed.compareAndSet(false, true)) {
        return;
      }
      held.remove(work, this);
      ScheduledFuture<?> c = cap;
      if (c != null) {
        c.cancel(false);
      }
      work.release();
      Duration heldFor = Duration.between(info.abandonedAt(), clock.instant());
      if (why == Freed.CLOSED) {
        LOG.debug(
            "the node closed while the abandoned handler of {} attempt {} still ran",
            info.workOrderId(),
            info.attempt());
      } else if (why == Freed.CAPPED) {
        LOG.warn(
            "the abandoned handler of {} attempt {} still runs after {}; its {} slot(s) are freed"
                + " while its thread goes on",
            info.workOrderId(),
            info.attempt(),
            Text.duration(AbandonedHandlers.this.cap),
            info.slotsHeld());
      } else {
        LOG.info(
            "the abandoned handler of {} attempt {} ended {} after it was abandoned; its {}"
                + " slot(s) are freed",
            info.workOrderId(),
            info.attempt(),
            Text.duration(heldFor.isNegative() ? Duration.ZERO : heldFor),
            info.slotsHeld());
      }
    }
  }
}
