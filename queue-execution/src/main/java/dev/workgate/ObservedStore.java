package dev.workgate;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.AppendRequest;
import dev.workgate.core.store.ClaimRequest;
import dev.workgate.core.store.LogPage;
import dev.workgate.core.store.Page;
import dev.workgate.core.store.RebuildMode;
import dev.workgate.core.store.RebuildReport;
import dev.workgate.core.store.Subscription;
import dev.workgate.core.store.WorkAvailableListener;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderStore;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;

/**
 * The runtime's view of the host's store: every call goes to the store, and what this node appends
 * (through appends and claims) is then reported to a callback with the state it led to. Closing it
 * does not close the host's store.
 */
final class ObservedStore implements WorkOrderStore {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(ObservedStore.class);

  private final WorkOrderStore store;
  private final BiConsumer<RecordedEvent, WorkOrderState> observer;
  private final BooleanSupplier claimsWatched;

  /**
   * @param store the host's store
   * @param observer told of each event this node stores, with the state after it
   * @param claimsWatched whether claims must be reported too: a claim's events are read back from
   *     the store, so this costs a read per claimed work order
   */
  ObservedStore(
      WorkOrderStore store,
      BiConsumer<RecordedEvent, WorkOrderState> observer,
      BooleanSupplier claimsWatched) {
    this.store = store;
    this.observer = observer;
    this.claimsWatched = claimsWatched;
  }

  @Override
  public List<RecordedEvent> appendAll(List<AppendRequest> requests) {
    List<RecordedEvent> recorded = store.appendAll(requests);
    try {
      for (RecordedEvent e : recorded) {
        WorkOrderState state = stateAfter(e);
        if (state != null) {
          observer.accept(e, state);
        }
      }
    } catch (RuntimeException e) {
      // The write succeeded: a failure to tell listeners must not make it look failed.
      LOG.warn("telling transition listeners about an append failed", e);
    }
    return recorded;
  }

  @Override
  public List<WorkOrderView> claim(ClaimRequest request) {
    List<WorkOrderView> claimed = store.claim(request);
    if (!claimsWatched.getAsBoolean()) {
      return claimed;
    }
    try {
      for (WorkOrderView view : claimed) {
        for (RecordedEvent e : store.readStream(view.id())) {
          if (e.version() == view.version()) {
            observer.accept(e, view.state());
          }
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("telling transition listeners about a claim failed", e);
    }
    return claimed;
  }

  /** The state an event leads to; read from the store only when the event does not say. */
  private WorkOrderState stateAfter(RecordedEvent e) {
    WorkOrderEvent event = e.event();
    if (event instanceof WorkOrderEvent.AttemptFailed failed) {
      return failed.retryAt() == null ? WorkOrderState.FAILED : WorkOrderState.WAITING_RETRY;
    }
    switch (event.type()) {
      case SUBMITTED:
      case RETRY_RELEASED:
        return WorkOrderState.PENDING;
      case CLAIMED:
        return WorkOrderState.PREPARING;
      case STARTED:
        return WorkOrderState.RUNNING;
      case COMPLETED:
        return WorkOrderState.COMPLETED;
      case CANCELLED:
        return WorkOrderState.CANCELLED;
      default:
        return store.find(e.workOrderId()).map(WorkOrderView::state).orElse(null);
    }
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
  public Optional<WorkOrderView> find(WorkOrderId workOrderId) {
    return store.find(workOrderId);
  }

  @Override
  public Page<WorkOrderView> query(WorkOrderQuery query) {
    return store.query(query);
  }

  @Override
  public Map<String, Map<WorkOrderState, Long>> counts() {
    return store.counts();
  }

  @Override
  public Optional<WorkOrderId> findByIdempotencyKey(String idempotencyKey) {
    return store.findByIdempotencyKey(idempotencyKey);
  }

  @Override
  public boolean renewLease(WorkOrderId workOrderId, String owner, int attempt, Instant expiresAt) {
    return store.renewLease(workOrderId, owner, attempt, expiresAt);
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

  @Override
  public void close() {
    // The host's store: the host closes it.
  }
}
