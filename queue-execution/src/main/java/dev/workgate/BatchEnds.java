package dev.workgate;

import dev.workgate.core.BatchId;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices the end of batches whose work orders end on this node: after an append that ended work
 * orders, reads (on the completion watcher, never on the writer's thread) the batches they belong
 * to, completes the futures waiting for them, and for a batch that has ended records its end in the
 * store ({@link WorkOrderStore#markBatchEnded}), which exactly one caller across all nodes wins:
 * that node tells its transition listeners.
 *
 * <p>Thread-safe: any writer thread reports; the watcher reads.
 */
final class BatchEnds {
  private static final Logger LOG = LoggerFactory.getLogger(Workgate.class);

  private final WorkOrderStore store;
  private final Executor watcher;
  private final Transitions transitions;
  private final Completions completions;
  private final Clock clock;

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

  /** Events were stored: checks, off this thread, the batches of the work orders they ended. */
  void appended(List<RecordedEvent> recorded) {
    Set<WorkOrderId> ended = new LinkedHashSet<>();
    for (RecordedEvent r : recorded) {
      if (ends(r.event())) {
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
      for (BatchId batch : batches) {
        BatchStatus status = BatchStatus.read(store, batch);
        completions.batchChecked(status);
        if (status.ended() && store.markBatchEnded(batch, status.submitted(), clock.instant())) {
          transitions.batchEnded(status);
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("checking the batches of ended work orders failed", e);
    }
  }
}
