package dev.workgate;

import dev.workgate.TransitionListener.StateChange;
import dev.workgate.core.BatchId;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The futures of callers waiting for work orders to end: completed when this node stores a terminal
 * transition, and by a periodic check of the store for work orders other nodes ended, which this
 * node hears nothing about. Reads run on the watcher, never on a writer's thread.
 *
 * <p>Thread-safe: futures are kept in a concurrent map; any thread may ask for one, writers report
 * transitions, the watcher completes them.
 */
final class Completions {
  private static final Logger LOG = LoggerFactory.getLogger(Workgate.class);

  private final WorkOrderStore store;
  private final ScheduledExecutorService watcher;
  private final Map<WorkOrderId, CompletableFuture<WorkOrderView>> waiting =
      new ConcurrentHashMap<>();
  private final Map<BatchId, CompletableFuture<BatchStatus>> batches = new ConcurrentHashMap<>();

  /**
   * @param store where final views are read
   * @param watcher runs those reads and the periodic check; stopped by {@link #stopWatching()}
   */
  Completions(WorkOrderStore store, ScheduledExecutorService watcher) {
    this.store = store;
    this.watcher = watcher;
  }

  /** The watcher's executor, for reads that must stay off writers' threads. */
  ScheduledExecutorService watcher() {
    return watcher;
  }

  /** Starts the periodic check, every poll interval but at most every 50 ms. */
  void start(Duration pollInterval) {
    long millis = Math.max(50, pollInterval.toMillis());
    watcher.scheduleWithFixedDelay(this::checkAll, millis, millis, TimeUnit.MILLISECONDS);
  }

  /**
   * A future that completes with the work order's view once it ends (on any node).
   *
   * @throws IllegalArgumentException if there is no such work order
   */
  CompletableFuture<WorkOrderView> of(WorkOrderId id) {
    WorkOrderView view =
        store.find(id).orElseThrow(() -> new IllegalArgumentException("no work order " + id));
    if (view.state().isTerminal()) {
      return CompletableFuture.completedFuture(view);
    }
    CompletableFuture<WorkOrderView> future =
        waiting.computeIfAbsent(id, k -> new CompletableFuture<>());
    store.find(id).filter(v -> v.state().isTerminal()).ifPresent(v -> complete(id, v));
    return future.thenApply(v -> v);
  }

  /**
   * A future that completes with the batch's status once every work order of it has ended (on any
   * node).
   *
   * @throws IllegalArgumentException if the store holds no work order of the batch
   */
  CompletableFuture<BatchStatus> of(BatchId id) {
    BatchStatus status = BatchStatus.read(store, id);
    if (status.workOrders() == 0) {
      throw new IllegalArgumentException("no batch " + id);
    }
    if (status.ended()) {
      return CompletableFuture.completedFuture(status);
    }
    CompletableFuture<BatchStatus> future =
        batches.computeIfAbsent(id, k -> new CompletableFuture<>());
    batchChecked(BatchStatus.read(store, id));
    return future.thenApply(s -> s);
  }

  /** A batch's status as read now: completes its future if it has ended. */
  void batchChecked(BatchStatus status) {
    if (status.ended()) {
      CompletableFuture<BatchStatus> future = batches.remove(status.id());
      if (future != null) {
        future.complete(status);
      }
    }
  }

  /** A transition this node stored: if it ends a work order someone waits for, completes it. */
  void transitioned(StateChange change) {
    WorkOrderId id = change.workOrderId();
    if (change.to().isTerminal() && waiting.containsKey(id)) {
      // Read the final view off the writer's thread: a store hiccup here must not touch the
      // write that just succeeded, and the periodic check catches what this misses.
      try {
        watcher.execute(
            () -> {
              try {
                store.find(id).ifPresent(v -> complete(id, v));
              } catch (RuntimeException e) {
                LOG.debug("reading the final view of {} failed; the next check retries", id, e);
              }
            });
      } catch (RejectedExecutionException closing) {
        // Closing: close() fails the futures still waiting.
      }
    }
  }

  /** Stops the watcher: no check and no read of a final view runs any more. */
  void stopWatching() {
    watcher.shutdownNow();
  }

  /** Fails the futures still waiting: the node was closed. */
  void failWaiting() {
    for (CompletableFuture<WorkOrderView> f : waiting.values()) {
      f.completeExceptionally(new IllegalStateException("Workgate was closed"));
    }
    for (CompletableFuture<BatchStatus> f : batches.values()) {
      f.completeExceptionally(new IllegalStateException("Workgate was closed"));
    }
  }

  private void complete(WorkOrderId id, WorkOrderView view) {
    CompletableFuture<WorkOrderView> future = waiting.remove(id);
    if (future != null) {
      future.complete(view);
    }
  }

  /** Catches work orders ended by other nodes, which this node hears nothing about. */
  private void checkAll() {
    try {
      for (WorkOrderId id : Set.copyOf(waiting.keySet())) {
        store.find(id).filter(v -> v.state().isTerminal()).ifPresent(v -> complete(id, v));
      }
      for (BatchId id : Set.copyOf(batches.keySet())) {
        batchChecked(BatchStatus.read(store, id));
      }
    } catch (RuntimeException e) {
      LOG.warn("checking completions failed", e);
    }
  }
}
