package dev.workgate;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.Subscription;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.EndedCount;
import dev.workgate.core.store.EventQuery;
import dev.workgate.core.store.EventQuery.EventPage;
import dev.workgate.core.store.RebuildReport;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.StoreView.LogPage;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderQuery.Page;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Claim;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.WorkAvailableListener;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;

/**
 * A store that passes every call to another, for the runtime's view of the host's store ({@link
 * ObservedStore}) to override only what it changes. It is the only layer the runtime puts in front
 * of the host's store; batching writes into transactions (group commit) is the store's own concern.
 * Closing it does not close the store behind it: the host closes its own store. As thread-safe as
 * the store behind it.
 */
abstract class ForwardingStore implements WorkOrderStore {
  /** The store every call goes to. */
  final WorkOrderStore store;

  ForwardingStore(WorkOrderStore store) {
    this.store = store;
  }

  @Override
  public List<RecordedEvent> appendAll(List<AppendRequest> requests) {
    return store.appendAll(requests);
  }

  @Override
  public List<WorkOrderView> claim(ClaimRequest request) {
    return store.claim(request);
  }

  @Override
  public List<Claim> claimRecorded(ClaimRequest request) {
    return store.claimRecorded(request);
  }

  @Override
  public List<RecordedEvent> readStream(WorkOrderId workOrderId) {
    return store.readStream(workOrderId);
  }

  @Override
  public long quarantinedRows() {
    return store.quarantinedRows();
  }

  @Override
  public Optional<java.nio.file.Path> localFile() {
    return store.localFile();
  }

  @Override
  public void recordNode(dev.workgate.core.store.StoreView.NodeStatus node) {
    store.recordNode(node);
  }

  @Override
  public List<dev.workgate.core.store.StoreView.NodeStatus> nodes() {
    return store.nodes();
  }

  @Override
  public int removeNodes(String nodeId, Instant silentSince) {
    return store.removeNodes(nodeId, silentSince);
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
  public boolean renewLease(
      WorkOrderId workOrderId,
      String owner,
      int attempt,
      Instant expiresAt,
      dev.workgate.core.Progress progress) {
    return store.renewLease(workOrderId, owner, attempt, expiresAt, progress);
  }

  @Override
  public List<WorkOrderView> resolvableBlocked(int limit) {
    return store.resolvableBlocked(limit);
  }

  @Override
  public List<WorkOrderId> dependents(WorkOrderId workOrderId) {
    return store.dependents(workOrderId);
  }

  @Override
  public boolean recordQueueAction(dev.workgate.core.store.QueueAction action) {
    return store.recordQueueAction(action);
  }

  @Override
  public List<dev.workgate.core.store.QueueAction> pausedQueues() {
    return store.pausedQueues();
  }

  @Override
  public List<dev.workgate.core.store.QueueAction> queueActions(String queue, int limit) {
    return store.queueActions(queue, limit);
  }

  @Override
  public boolean markBatchEnded(dev.workgate.core.BatchId batch, long members, Instant at) {
    return store.markBatchEnded(batch, members, at);
  }

  @Override
  public List<dev.workgate.core.BatchId> batchesEndedSince(Instant since, int limit) {
    return store.batchesEndedSince(since, limit);
  }

  @Override
  public List<WorkOrderView> expiredLeases(Instant now, int limit) {
    return store.expiredLeases(now, limit);
  }

  @Override
  public List<WorkOrderView> dueRetries(Instant now, int limit) {
    return store.dueRetries(now, limit);
  }

  @Override
  public Optional<Instant> nextRetryAt() {
    return store.nextRetryAt();
  }

  @Override
  public Optional<Instant> nextAvailableAt(String queue, Instant now) {
    return store.nextAvailableAt(queue, now);
  }

  @Override
  public int deleteTerminalBefore(Instant cutoff, int limit) {
    return store.deleteTerminalBefore(cutoff, limit);
  }

  @Override
  public Subscription subscribe(WorkAvailableListener listener) {
    return store.subscribe(listener);
  }

  @Override
  public RebuildReport rebuildProjection(RebuildMode mode) {
    return store.rebuildProjection(mode);
  }

  /** Does not close the store behind it: the host's store is the host's to close. */
  @Override
  public void close() {}
}
