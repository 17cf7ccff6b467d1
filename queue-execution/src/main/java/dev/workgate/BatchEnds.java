package dev.workgate;

import dev.workgate.core.BatchId;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices the end of batches whose work orders end on this node: after an append that ended work
 * orders, reads (on the completion watcher, never on the writer's thread) the batches they belong
 * to, completes the futures waiting for them, and for a batch that has ended records its end in the
 * store ({@link WorkOrderStore#markBatchEnded}), which exactly one caller across all nodes wins:
 * that node tells its transition listeners.
 *
 * <p>Ends it did not store itself (a client without a node ended the last work order; the node that
 * did crashed, or failed to record the end, before telling) it finds by a periodic sweep of the
 * batches with work orders that ended recently ({@link WorkOrderStore#batchesEndedSince}): from
 * {@link #FIRST_LOOKBACK} before the node's first sweep, then from {@link #OVERLAP} before the
 * previous sweep, so that clocks a little apart and commits that land late are still seen.
 *
 * <p>Thread-safe: any writer thread reports; the watcher reads and sweeps.
 */
final class BatchEnds {
  private static final Logger LOG = LoggerFactory.getLogger(Workgate.class);

  private final WorkOrderStore store;
  private final Executor watcher;
  private final Transitions transitions;
  private final Completions completions;
  private final Clock clock;

  /** How far back the first sweep looks: ends a crashed node may have left untold. */
  static final Duration FIRST_LOOKBACK = Duration.ofHours(1);

  /** How far before the previous sweep each sweep looks again. */
  static final Duration OVERLAP = Duration.ofSeconds(5);

  /** The most batches one sweep looks at. */
  static final int SWEEP_LIMIT = 1_000;

  private Instant lastSweep; // only the watcher reads and writes it

  /**
   * Work orders in a batch that this node submitted or claimed and that have not ended here: only
   * their ends are read right away (a work order's end event does not say its batch, and reading
   * every ended work order would cost a read per end). Ends of the others are found by the sweep.
   */
  private final Set<WorkOrderId> inBatch = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Past this many, the set is dropped: the sweep finds what it would have. */
  static final int MAX_TRACKED = 100_000;

  BatchEnds(
      WorkOrderStore store,
      Executor watcher,
      Transitions transitions,
      Completions completions,
      Clock clock) {
    this.store = store;
    this.watcher = watcher;
    this.transitions = transitions;
    this.completions = completions;
    this.clock = clock;
  }

  /** Whether an event ends its work order. */
  static boolean ends(WorkOrderEvent e) {
    return switch (e.type()) {
      case COMPLETED, CANCELLED, DEPENDENCY_FAILED -> true;
      case ATTEMPT_FAILED -> ((WorkOrderEvent.AttemptFailed) e).retryAt() == null;
      default -> false;
    };
  }

  /** Work orders this node claimed: those in a batch are watched for their end. */
  void claimed(List<WorkOrderView> views) {
    for (WorkOrderView v : views) {
      if (v.batch().isPresent()) {
        track(v.id());
      }
    }
  }

  private void track(WorkOrderId id) {
    if (inBatch.size() >= MAX_TRACKED) {
      inBatch.clear();
    }
    inBatch.add(id);
  }

  /** Events were stored: checks, off this thread, the batches of the work orders they ended. */
  void appended(List<RecordedEvent> recorded) {
    Set<WorkOrderId> ended = new LinkedHashSet<>();
    for (RecordedEvent r : recorded) {
      if (r.event() instanceof WorkOrderEvent.Submitted s && s.batch() != null) {
        track(r.workOrderId());
      } else if (ends(r.event()) && inBatch.remove(r.workOrderId())) {
        ended.add(r.workOrderId());
      }
    }
    if (ended.isEmpty()) {
      return;
    }
    try {
      watcher.execute(() -> check(ended));
    } catch (RejectedExecutionException closing) {
      // The node is closing: nothing waits any more.
    }
  }

  private void check(Set<WorkOrderId> ended) {
    try {
      Set<BatchId> batches = new LinkedHashSet<>();
      for (WorkOrderId id : ended) {
        store.find(id).flatMap(WorkOrderView::batch).ifPresent(batches::add);
      }
      batches.forEach(this::checkBatch);
    } catch (RuntimeException e) {
      LOG.warn("checking the batches of ended work orders failed", e);
    }
  }

  /** Starts the periodic sweep on the watcher, every interval. */
  void start(ScheduledExecutorService watcher, Duration interval) {
    long millis = Math.max(50, interval.toMillis());
    watcher.scheduleWithFixedDelay(this::sweep, millis, millis, TimeUnit.MILLISECONDS);
  }

  /** One sweep: the batches with recent ends, each told if it ended and nobody told it yet. */
  void sweep() {
    try {
      Instant now = clock.instant();
      Instant since = lastSweep == null ? now.minus(FIRST_LOOKBACK) : lastSweep.minus(OVERLAP);
      List<BatchId> batches = store.batchesEndedSince(since, SWEEP_LIMIT);
      batches.forEach(this::checkBatch);
      lastSweep = now;
    } catch (RuntimeException e) {
      LOG.warn("looking for batches that ended failed; the next sweep tries again", e);
    }
  }

  private void checkBatch(BatchId batch) {
    BatchStatus status = BatchStatus.read(store, batch);
    completions.batchChecked(status);
    if (status.ended() && store.markBatchEnded(batch, status.submitted(), clock.instant())) {
      transitions.batchEnded(status);
    }
  }
}
