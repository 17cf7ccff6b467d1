package dev.workgate.core.store;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.EventQuery.EventPage;
import dev.workgate.core.store.StoreView.LogPage;
import dev.workgate.core.store.StoreView.NodeStatus;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.WorkOrderQuery.Page;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;

/**
 * A {@link StoreView} that forwards to another and is nothing else: the wrapper behind {@link
 * StoreView#readOnly}, so that a store handed out for reading cannot be cast back to a {@link
 * WorkOrderStore}. Thread-safe as the store it reads.
 */
final class ReadOnlyStoreView implements StoreView {
  private final StoreView store;

  ReadOnlyStoreView(StoreView store) {
    this.store = store;
  }

  @Override
  public List<RecordedEvent> readStream(WorkOrderId workOrderId) {
    return store.readStream(workOrderId);
  }

  @Override
  public LogPage readLog(long afterPosition, int limit) {
    return store.readLog(afterPosition, limit);
  }

  @Override
  public EventPage queryEvents(EventQuery query) {
    return store.queryEvents(query);
  }

  @Override
  public Optional<WorkOrderView> find(WorkOrderId workOrderId) {
    return store.find(workOrderId);
  }

  @Override
  public Page<WorkOrderView> query(WorkOrderQuery query) {
    return store.query(query);
  }

  @Override
  public SortedMap<String, Long> count(WorkOrderQuery query, WorkOrderQuery.CountBy by) {
    return store.count(query, by);
  }

  @Override
  public List<EndedCount> endedPerInterval(Instant from, Instant to, Duration interval) {
    return store.endedPerInterval(from, to, interval);
  }

  @Override
  public QueueCounts counts() {
    return store.counts();
  }

  @Override
  public Optional<WorkOrderId> findByIdempotencyKey(String idempotencyKey) {
    return store.findByIdempotencyKey(idempotencyKey);
  }

  @Override
  public int deleteTerminalBefore(Instant cutoff, int limit) {
    return store.deleteTerminalBefore(cutoff, limit);
  }

  @Override
  public long quarantinedRows() {
    return store.quarantinedRows();
  }

  @Override
  public List<NodeStatus> nodes() {
    return store.nodes();
  }

  @Override
  public List<dev.workgate.core.WorkOrderId> dependents(dev.workgate.core.WorkOrderId workOrderId) {
    return store.dependents(workOrderId);
  }

  @Override
  public List<QueueAction> pausedQueues() {
    return store.pausedQueues();
  }

  @Override
  public List<QueueAction> queueActions(String queue, int limit) {
    return store.queueActions(queue, limit);
  }

  @Override
  public Optional<Path> localFile() {
    return store.localFile();
  }

  @Override
  public String toString() {
    return "read-only " + store;
  }
}
