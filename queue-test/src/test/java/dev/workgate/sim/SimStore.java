package dev.workgate.sim;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.Subscription;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.EndedCount;
import dev.workgate.core.store.EventQuery;
import dev.workgate.core.store.EventQuery.EventPage;
import dev.workgate.core.store.RebuildReport;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.StoreView.LogPage;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderQuery.Page;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.WorkAvailableListener;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.function.Consumer;

/**
 * One node incarnation's view of the shared store. Writes (appends, claims, lease renewals) fail
 * transiently at the rate the simulation sets: before they reach the store, or after (the write is
 * done but the caller sees an error, as when a connection drops after a commit). Once the node has
 * crashed, every call throws {@link SimRuntime.Crashed}, so code of a dead node never touches the
 * store again. Reads never fail: a read failure is a write failure's milder case.
 *
 * <p>A partition cuts the node off from the store for a while ({@link #cut}): every call then
 * either fails, or, in the hanging kind, does not return until the partition heals (a call from a
 * fiber parks; the node's loop, which runs on the controller, is held back by the simulation
 * instead, see {@link #hangs()}).
 */
final class SimStore implements WorkOrderStore {
  /** Decides the faults; one per simulation, fed by its seeded random source. */
  interface Faults {
    /** 0: no fault; 1: fail before the write; 2: fail after it. */
    int writeFault(String operation);
  }

  private final WorkOrderStore shared;
  private final Faults faults;
  private final Consumer<String> trace;
  private final String node;
  private final Runnable beforeClaim;
  private final SimRuntime runtime;
  private final List<Parked> parked = new java.util.ArrayList<>();
  private boolean crashed;
  private boolean cutOff;
  private boolean hanging;

  /** A fiber whose store call waits for the partition to heal. */
  private record Parked(SimRuntime.Fiber fiber, long token) {}

  SimStore(
      WorkOrderStore shared,
      Faults faults,
      Consumer<String> trace,
      String node,
      Runnable beforeClaim,
      SimRuntime runtime) {
    this.runtime = runtime;
    this.shared = shared;
    this.faults = faults;
    this.trace = trace;
    this.node = node;
    this.beforeClaim = beforeClaim;
  }

  void crash() {
    crashed = true;
  }

  /** Cuts the node off: its calls fail, or with {@code hang} do not return until {@link #heal}. */
  void cut(boolean hang) {
    cutOff = true;
    hanging = hang;
  }

  /** Ends the partition: calls succeed again, and the calls that hung go on. */
  void heal() {
    cutOff = false;
    List<Parked> waiting = List.copyOf(parked);
    parked.clear();
    for (Parked p : waiting) {
      runtime.after(
          java.time.Duration.ZERO,
          node + " reconnected",
          () -> runtime.resume(p.fiber(), p.token()));
    }
  }

  /** Whether the node is cut off from the store. */
  boolean isCutOff() {
    return cutOff;
  }

  /** Whether a call made now would not return: a partition of the hanging kind. */
  boolean hangs() {
    return cutOff && hanging && !crashed;
  }

  private void alive() {
    if (crashed) {
      throw new SimRuntime.Crashed();
    }
    while (cutOff) {
      if (!hanging || !runtime.onFiber()) {
        throw new StoreException("simulated: " + node + " is cut off from the store");
      }
      parked.add(new Parked(runtime.currentFiber(), runtime.nextParkToken()));
      runtime.park(); // a crash meanwhile throws Crashed out of here
    }
  }

  private <T> T write(String operation, java.util.function.Supplier<T> body) {
    alive();
    int fault = faults.writeFault(operation);
    if (fault == 1) {
      trace.accept(node + ": store " + operation + " fails before writing");
      throw new StoreException("simulated: " + operation + " failed (connection reset)");
    }
    T result = body.get();
    if (fault == 2) {
      trace.accept(node + ": store " + operation + " fails after writing");
      throw new StoreException("simulated: " + operation + " lost its reply after writing");
    }
    return result;
  }

  @Override
  public List<RecordedEvent> appendAll(List<AppendRequest> requests) {
    return write(
        "append",
        () -> {
          List<RecordedEvent> recorded = shared.appendAll(requests);
          for (RecordedEvent e : recorded) {
            trace.accept(
                node
                    + ": "
                    + e.workOrderId()
                    + " v"
                    + e.version()
                    + " "
                    + e.event().getClass().getSimpleName()
                    + detail(e));
          }
          return recorded;
        });
  }

  private static String detail(RecordedEvent e) {
    if (e.event() instanceof dev.workgate.core.WorkOrderEvent.AttemptFailed) {
      dev.workgate.core.WorkOrderEvent.AttemptFailed f =
          (dev.workgate.core.WorkOrderEvent.AttemptFailed) e.event();
      return " " + f.error().code() + (f.retryAt() != null ? " (retry)" : " (final)");
    }
    return "";
  }

  @Override
  public List<RecordedEvent> readStream(WorkOrderId workOrderId) {
    alive();
    return shared.readStream(workOrderId);
  }

  @Override
  public LogPage readLog(long afterPosition, int limit) {
    alive();
    return shared.readLog(afterPosition, limit);
  }

  @Override
  public EventPage queryEvents(EventQuery query) {
    alive();
    return shared.queryEvents(query);
  }

  @Override
  public Optional<WorkOrderView> find(WorkOrderId workOrderId) {
    alive();
    return shared.find(workOrderId);
  }

  @Override
  public Page<WorkOrderView> query(WorkOrderQuery query) {
    alive();
    return shared.query(query);
  }

  @Override
  public SortedMap<String, Long> count(WorkOrderQuery query, WorkOrderQuery.CountBy by) {
    alive();
    return shared.count(query, by);
  }

  @Override
  public List<EndedCount> endedPerInterval(Instant from, Instant to, Duration interval) {
    alive();
    return shared.endedPerInterval(from, to, interval);
  }

  @Override
  public QueueCounts counts() {
    alive();
    return shared.counts();
  }

  @Override
  public Optional<WorkOrderId> findByIdempotencyKey(String idempotencyKey) {
    alive();
    return shared.findByIdempotencyKey(idempotencyKey);
  }

  @Override
  public List<WorkOrderView> claim(ClaimRequest request) {
    beforeClaim.run();
    return write(
        "claim",
        () -> {
          List<WorkOrderView> got = shared.claim(request);
          for (WorkOrderView v : got) {
            trace.accept(node + ": " + v.id() + " claimed, attempt " + v.attempt());
          }
          return got;
        });
  }

  @Override
  public boolean renewLease(
      WorkOrderId workOrderId,
      String owner,
      int attempt,
      Instant expiresAt,
      dev.workgate.core.Progress progress) {
    return write(
        "renew", () -> shared.renewLease(workOrderId, owner, attempt, expiresAt, progress));
  }

  @Override
  public List<WorkOrderView> resolvableBlocked(int limit) {
    alive();
    return shared.resolvableBlocked(limit);
  }

  @Override
  public List<WorkOrderId> dependents(WorkOrderId workOrderId) {
    alive();
    return shared.dependents(workOrderId);
  }

  @Override
  public boolean recordQueueAction(dev.workgate.core.store.QueueAction action) {
    return write("queue action", () -> shared.recordQueueAction(action));
  }

  @Override
  public List<dev.workgate.core.store.QueueAction> pausedQueues() {
    alive();
    return shared.pausedQueues();
  }

  @Override
  public List<dev.workgate.core.store.QueueAction> queueActions(String queue, int limit) {
    alive();
    return shared.queueActions(queue, limit);
  }

  @Override
  public List<dev.workgate.core.BatchId> batchesEndedSince(Instant since, int limit) {
    alive();
    return shared.batchesEndedSince(since, limit);
  }

  @Override
  public boolean markBatchEnded(dev.workgate.core.BatchId batch, long members, Instant at) {
    return write("batch end", () -> shared.markBatchEnded(batch, members, at));
  }

  @Override
  public List<WorkOrderView> expiredLeases(Instant now, int limit) {
    alive();
    return shared.expiredLeases(now, limit);
  }

  @Override
  public List<WorkOrderView> dueRetries(Instant now, int limit) {
    alive();
    return shared.dueRetries(now, limit);
  }

  @Override
  public Optional<Instant> nextRetryAt() {
    alive();
    return shared.nextRetryAt();
  }

  @Override
  public Optional<Instant> nextAvailableAt(String queue, Instant now) {
    alive();
    return shared.nextAvailableAt(queue, now);
  }

  @Override
  public int deleteTerminalBefore(Instant cutoff, int limit) {
    alive();
    return shared.deleteTerminalBefore(cutoff, limit);
  }

  @Override
  public Subscription subscribe(WorkAvailableListener listener) {
    alive();
    return shared.subscribe(listener);
  }

  @Override
  public RebuildReport rebuildProjection(RebuildMode mode) {
    alive();
    return shared.rebuildProjection(mode);
  }

  @Override
  public void recordNode(dev.workgate.core.store.StoreView.NodeStatus status) {
    alive(); // no fault drawn: node rows are not work-order state
    shared.recordNode(status);
  }

  @Override
  public List<dev.workgate.core.store.StoreView.NodeStatus> nodes() {
    alive();
    return shared.nodes();
  }

  @Override
  public int removeNodes(String nodeId, Instant silentSince) {
    alive();
    return shared.removeNodes(nodeId, silentSince);
  }

  @Override
  public void close() {
    // the shared store belongs to the simulation
  }
}
