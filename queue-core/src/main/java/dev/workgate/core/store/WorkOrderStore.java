package dev.workgate.core.store;

import dev.workgate.core.BatchId;
import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.IdempotencyKeyConflictException;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.Progress;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.Subscription;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.ProjectionDiff;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.StoreView.NodeStatus;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Claim;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import dev.workgate.spi.WorkAvailableListener;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The event log and the projection of every work order's current state: the storage SPI of
 * Workgate. Backends: {@link Stores#inMemory()}, SQLite and PostgreSQL; each passes the store
 * conformance suite, {@code dev.workgate.test.WorkOrderStoreConformance} in the {@code queue-test}
 * module, which a store of one's own extends too.
 *
 * <p><b>Appends.</b> Every change is an append of events to a work order's stream under an {@link
 * ExpectedVersion}. An append is all-or-nothing: each event passes through the transition table in
 * turn, and if the expected version does not match, an event is rejected or an idempotency key is
 * taken, nothing at all is written. A stream's versions are 1, 2, 3, …; the global log's positions
 * rise with every event. The projection is updated in the same atomic step as the log.
 *
 * <p><b>Leases.</b> {@link #claim} takes work orders with a lease (owner, expiry) that {@link
 * #renewLease} extends without appending an event, so heartbeats do not grow the log. A lease that
 * ran out is listed by {@link #expiredLeases}; whoever reaps it appends an {@code AttemptFailed}
 * under the version it read, so a reaper and a late owner cannot both win.
 *
 * <p><b>Reads.</b> The reads, the node table and retention are those of {@link StoreView}, which
 * every store is; what this interface adds changes work orders and is the runtime's.
 *
 * <p><b>Thread safety.</b> Implementations are safe for use by many threads at once, and the
 * durable ones by many processes sharing one database. Every method throws {@link
 * IllegalStateException} once the store is closed; arguments are never null.
 */
public interface WorkOrderStore extends StoreView, AutoCloseable {

  /**
   * Appends events to one work order.
   *
   * @param workOrderId the work order
   * @param expected what its stream must be at
   * @param events one or more events, in order
   * @return the recorded events, in order
   * @throws ConcurrencyException if the expected version does not match; nothing is written
   * @throws InvalidTransitionException if the state machine rejects an event; nothing is written
   * @throws IdempotencyKeyConflictException if a Submitted event's idempotency key is taken
   * @throws IllegalArgumentException if there are no events
   */
  default List<RecordedEvent> append(
      WorkOrderId workOrderId, ExpectedVersion expected, List<WorkOrderEvent> events) {
    return appendAll(List.of(new AppendRequest(workOrderId, expected, events)));
  }

  /**
   * Appends events to one or many work orders in one atomic step: all requests are written or none
   * is. Requests for the same work order apply in order, each expecting the version left by the one
   * before.
   *
   * @param requests the appends
   * @return the recorded events of all requests, in request order
   * @throws ConcurrencyException if any expected version does not match; nothing is written
   * @throws InvalidTransitionException if the state machine rejects any event; nothing is written
   * @throws IdempotencyKeyConflictException if any Submitted event's idempotency key is taken
   */
  List<RecordedEvent> appendAll(List<AppendRequest> requests);

  /**
   * Atomically claims work: see {@link ClaimRequest} for which work orders qualify and in what
   * order. For each, a {@code Claimed} event with the lease is appended, followed by a {@code
   * Started} event when the request's {@link ClaimRequest#start start} names a sandbox for it; all
   * of them in one step. Two concurrent claims never take the same work order.
   *
   * @param request what to claim
   * @return the claimed work orders' views after the claim, in claim order: {@code RUNNING} if the
   *     claim started them, else {@code PREPARING}; empty when nothing qualifies
   */
  List<WorkOrderView> claim(ClaimRequest request);

  /**
   * Claims as {@link #claim} does and hands back, with each view, the {@code Claimed} event the
   * claim wrote: what a caller that reports transitions needs, without reading the streams again.
   *
   * <p>The default claims, then reads each claimed work order's stream for its events ({@code
   * Claimed}, and {@code Started} when the claim left the work order {@code RUNNING}); the built-in
   * stores override it to hand back the events they wrote, with no read.
   *
   * @param request what to claim
   * @return the claims, in claim order; empty when nothing qualifies
   */
  default List<Claim> claimRecorded(ClaimRequest request) {
    List<WorkOrderView> views = claim(request);
    List<Claim> claims = new java.util.ArrayList<>(views.size());
    for (WorkOrderView view : views) {
      boolean started = view.state() == WorkOrderState.RUNNING;
      long claimedVersion = started ? view.version() - 1 : view.version();
      RecordedEvent claimed = null;
      RecordedEvent start = null;
      for (RecordedEvent e : readStream(view.id())) {
        if (e.version() == claimedVersion) {
          claimed = e;
        } else if (started && e.version() == view.version()) {
          start = e;
        }
      }
      if (claimed == null || (started && start == null)) {
        throw new StoreException(
            "the events of the claim of "
                + view.id()
                + " up to version "
                + view.version()
                + " are missing");
      }
      claims.add(new Claim(view, claimed, Optional.ofNullable(start)));
    }
    return List.copyOf(claims);
  }

  /**
   * Extends a lease, only for the node and attempt that hold it, while the work order is {@link
   * WorkOrderState#PREPARING} or {@link WorkOrderState#RUNNING}. Appends no event and does not
   * change the version.
   *
   * @param workOrderId the work order
   * @param owner the node that claimed it
   * @param attempt the attempt that holds the lease
   * @param expiresAt the new expiry
   * @return true if renewed; false if the lease is not held by that owner and attempt (it was
   *     reaped, or the work order moved on)
   */
  default boolean renewLease(
      WorkOrderId workOrderId, String owner, int attempt, Instant expiresAt) {
    return renewLease(workOrderId, owner, attempt, expiresAt, null);
  }

  /**
   * Extends a lease as {@link #renewLease(WorkOrderId, String, int, Instant)} does, and keeps the
   * attempt's latest progress with it (no event either).
   *
   * @param workOrderId the work order
   * @param owner the node that claimed it
   * @param attempt the attempt that holds the lease
   * @param expiresAt the new expiry
   * @param progress the attempt's latest progress, or null to keep what the row holds
   * @return true if renewed; false if the lease is not held by that owner and attempt
   */
  boolean renewLease(
      WorkOrderId workOrderId, String owner, int attempt, Instant expiresAt, Progress progress);

  /**
   * {@link WorkOrderState#BLOCKED} work orders that can be decided now: every work order each waits
   * for has ended (or no longer exists), or one of them ended {@link WorkOrderState#FAILED} or
   * {@link WorkOrderState#CANCELLED} and the blocked one's policy is {@link
   * dev.workgate.core.DependencyFailure#CANCEL}. Oldest first. Whoever decides appends {@code
   * DependenciesMet} or {@code DependencyFailed} under the version it read.
   *
   * @param limit the most to return, at least 1
   * @return the views
   */
  List<WorkOrderView> resolvableBlocked(int limit);

  /**
   * Pauses or resumes a queue and records who did it and why, in one atomic step. A pause takes
   * effect for every claim that begins after this returns, on every node sharing the store: no such
   * claim takes work from the queue until it is resumed. Claims already under way finish.
   *
   * @param action the pause or resume
   * @return true if recorded; false if the queue already was paused (for a pause) or not paused
   *     (for a resume): then nothing is written
   * @throws StoreException if the store cannot write
   */
  boolean recordQueueAction(QueueAction action);

  /**
   * Records that a batch ended with a given number of work orders (those resubmitted included), at
   * most once across every node sharing the store: the first caller for a batch and count gets
   * true, every later one false. A resubmission into an ended batch makes a new count, so the batch
   * can end again.
   *
   * @param batch the batch
   * @param members how many work orders the batch held when it ended
   * @param at when it ended
   * @return true for the first caller
   * @throws StoreException if the store cannot write
   */
  boolean markBatchEnded(BatchId batch, long members, Instant at);

  /**
   * The batches of work orders that ended at or after a time: what a node looks at to tell batch
   * ends that it did not store itself (a client ended the last work order, or the node that did
   * crashed before telling). Each batch once, in order of the earliest such end.
   *
   * @param since the earliest end time to look at
   * @param limit the most batches to return, at least 1
   * @return the batches
   */
  List<BatchId> batchesEndedSince(Instant since, int limit);

  /**
   * Work orders held under a lease that ran out: {@link WorkOrderState#PREPARING} or {@link
   * WorkOrderState#RUNNING} with a lease expiry at or before {@code now}, earliest expiry first.
   *
   * @param now the current time
   * @param limit the most to return, at least 1
   * @return the views
   */
  List<WorkOrderView> expiredLeases(Instant now, int limit);

  /**
   * {@link WorkOrderState#WAITING_RETRY} work orders whose retry time is at or before {@code now},
   * earliest first.
   *
   * @param now the current time
   * @param limit the most to return, at least 1
   * @return the views
   */
  List<WorkOrderView> dueRetries(Instant now, int limit);

  /**
   * The earliest retry time of all {@link WorkOrderState#WAITING_RETRY} work orders, so that a
   * scheduler can sleep exactly until then.
   *
   * @return the time, or empty when none waits
   */
  Optional<Instant> nextRetryAt();

  /**
   * The earliest availability time after {@code now} of the {@link WorkOrderState#PENDING} work
   * orders of a queue (delayed work), so that a scheduler can sleep exactly until then.
   *
   * @param queue the queue
   * @param now the current time
   * @return the time, or empty when no pending work order of the queue becomes available later
   */
  Optional<Instant> nextAvailableAt(String queue, Instant now);

  /**
   * Registers a listener that is told when work becomes claimable (a submission, a released retry).
   * The in-memory and SQLite stores call it after their own commits; the PostgreSQL store also
   * hears other nodes' commits (one {@code NOTIFY} per transaction). Delivery is a hint: a
   * scheduler must still poll.
   *
   * @param listener the listener
   * @return the subscription; closing it unregisters the listener
   */
  Subscription subscribe(WorkAvailableListener listener);

  /**
   * Replays the log and compares every work order's fold with its projection row; with {@link
   * RebuildMode#REPAIR}, rewrites each differing row (and removes rows without events) in one
   * atomic step. A renewed lease is not a difference (see {@link ProjectionDiff}). Reads the whole
   * log: an operator's tool, not something to run on every start. The JDBC stores read the log from
   * one consistent snapshot without taking the write lock, so writers go on while it runs; a repair
   * takes the lock only to check again and rewrite the work orders found wrong.
   *
   * <p>An event that cannot be read is a mismatch of its work order (not repairable; it is
   * quarantined, see {@link #quarantinedRows()}); the rest of the store is still checked.
   *
   * @param mode verify only, or verify and repair
   * @return what was found, and whether it was repaired
   */
  RebuildReport rebuildProjection(RebuildMode mode);

  /**
   * Writes a node's row in the node table, replacing the row of the same id: what a node's
   * scheduler does on its heartbeat. Rows are not events: they are not in the log and not rebuilt.
   *
   * @param node the node's status
   * @throws StoreException if the store cannot write (closed, read-only, unreachable)
   */
  void recordNode(NodeStatus node);

  /**
   * Removes node rows: one node's (a clean shutdown), or those whose heartbeat is older than a
   * cutoff (nodes that stopped without removing theirs).
   *
   * @param nodeId the node to remove, or null for none
   * @param silentSince also remove every row whose heartbeat is before this time, or null for none
   * @return how many rows were removed
   * @throws StoreException if the store cannot write
   */
  int removeNodes(String nodeId, Instant silentSince);

  /** Releases the store's resources. Idempotent. */
  @Override
  void close();
}
