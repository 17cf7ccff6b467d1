package dev.workgate.core.store;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.IdempotencyKeyConflictException;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import java.time.Instant;
import java.util.List;
import java.util.Map;
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
 * <p><b>Thread safety.</b> Implementations are safe for use by many threads at once, and the
 * durable ones by many processes sharing one database. Every method throws {@link
 * IllegalStateException} once the store is closed; arguments are never null.
 */
public interface WorkOrderStore extends AutoCloseable {

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
   * A work order's events.
   *
   * @param workOrderId the work order
   * @return its events in version order; empty if it does not exist
   * @throws StoreException if one of its events cannot be read (it is quarantined, see {@link
   *     #quarantinedRows()}): a history with a hole is not returned
   */
  List<RecordedEvent> readStream(WorkOrderId workOrderId);

  /**
   * A page of the global log.
   *
   * <p><b>Ordering.</b> Positions are unique and rise in the order events were inserted. The
   * in-memory and SQLite stores have one writer, so an event becomes visible only after every event
   * with a lower position: a reader that continues after the last position it saw never misses an
   * event (except whole streams deleted by retention). On PostgreSQL many transactions write at
   * once: a transaction that took a lower position can commit after one that took a higher
   * position, so a reader at the head of the log may pass an event that appears later. There the
   * global log is an audit view, complete once writers are quiet, and not a gapless feed; a
   * consumer that must see every change reads work-order streams, whose versions have no gaps.
   *
   * <p><b>Unreadable events</b> are skipped and quarantined (see {@link #quarantinedRows()}): a
   * page may hold fewer events than its rows, and its last position is that of its last row,
   * readable or not, so a reader continuing after it passes the unreadable one.
   *
   * @param afterPosition return events after this position (0 for the start)
   * @param limit the most events to return, at least 1
   * @return the events in position order, and the position to continue after
   */
  LogPage readLog(long afterPosition, int limit);

  /**
   * Events matching an audit query, in the query's order, at most {@code query.limit()} of them:
   * exactly the events {@code e} of the log for which {@link EventQuery#matches query.matches(e)},
   * sorted by {@link EventQuery#comparator()}, the first {@code limit}. The page has a cursor to
   * continue with when more events matched; see {@link EventQuery} for the filters, the order and
   * paging.
   *
   * <p><b>Cost.</b> A page costs what it returns, not the size of the log: a query by work order
   * reads that work order's stream; any other reads an index of the log by (recorded time,
   * position), or by (type, recorded time, position) for each type asked for, starting at the place
   * its time range and cursor name.
   *
   * <p><b>Consistency.</b> A page is read at one moment. On PostgreSQL, as with {@link #readLog}, a
   * transaction may commit events recorded before others that committed earlier, so an event can
   * appear behind a cursor already passed: the result is an audit view, complete once writers are
   * quiet. Events of streams deleted by retention are gone.
   *
   * <p><b>Unreadable events</b> are skipped and quarantined (see {@link #quarantinedRows()}): a
   * page may then hold fewer events than the limit while its cursor continues after them.
   *
   * @param query the query
   * @return the page, with events as {@link #readStream} returns them
   */
  EventPage queryEvents(EventQuery query);

  /**
   * A work order's current view.
   *
   * @param workOrderId the work order
   * @return the view, or empty if it does not exist
   */
  Optional<WorkOrderView> find(WorkOrderId workOrderId);

  /**
   * Views matching a query, in submission order, one page at a time.
   *
   * @param query the query
   * @return a page of views
   */
  Page<WorkOrderView> query(WorkOrderQuery query);

  /**
   * How many work orders each queue has in each state.
   *
   * @return queue → state → count, with every state present for each queue that has work orders
   */
  Map<String, Map<WorkOrderState, Long>> counts();

  /**
   * The work order that holds an idempotency key.
   *
   * @param idempotencyKey the key
   * @return the work order's id, or empty if no live (not purged) work order holds it
   */
  Optional<WorkOrderId> findByIdempotencyKey(String idempotencyKey);

  /**
   * Atomically claims work: see {@link ClaimRequest} for which work orders qualify and in what
   * order. For each, a {@code Claimed} event with the lease is appended; all of them in one step.
   * Two concurrent claims never take the same work order.
   *
   * @param request what to claim
   * @return the claimed work orders' views after the claim, in claim order; empty when nothing
   *     qualifies
   */
  List<WorkOrderView> claim(ClaimRequest request);

  /**
   * Claims as {@link #claim} does and hands back, with each view, the {@code Claimed} event the
   * claim wrote: what a caller that reports transitions needs, without reading the streams again.
   *
   * <p>The default claims, then reads each claimed work order's stream for its event; the built-in
   * stores override it to hand back the events they wrote, with no read.
   *
   * @param request what to claim
   * @return the claims, in claim order; empty when nothing qualifies
   */
  default List<Claim> claimRecorded(ClaimRequest request) {
    List<WorkOrderView> views = claim(request);
    List<Claim> claims = new java.util.ArrayList<>(views.size());
    for (WorkOrderView view : views) {
      RecordedEvent claimed = null;
      for (RecordedEvent e : readStream(view.id())) {
        if (e.version() == view.version()) {
          claimed = e;
        }
      }
      if (claimed == null) {
        throw new StoreException(
            "the Claimed event of " + view.id() + " at version " + view.version() + " is missing");
      }
      claims.add(new Claim(view, claimed));
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
  boolean renewLease(WorkOrderId workOrderId, String owner, int attempt, Instant expiresAt);

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
   * Deletes terminal work orders whose last event is older than a cutoff, whole streams only
   * (events, view and idempotency key), oldest first.
   *
   * @param cutoff delete work orders last updated before this time
   * @param limit the most work orders to delete in this call, at least 1
   * @return the number of work orders deleted
   */
  int deleteTerminalBefore(Instant cutoff, int limit);

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
   * Distinct unreadable rows this store instance has met since it opened: events its code cannot
   * decode (damaged, written by a newer Workgate, over the reader's limits) and projection rows
   * that do not make a view. Each is logged once at WARN (work order, position, reason; never the
   * row's content) and quarantined: {@link #claim} skips its work order and goes on with the
   * others, {@link #readLog}, {@link #queryEvents}, {@link #query}, {@link #expiredLeases} and
   * {@link #dueRetries} skip it, {@link #rebuildProjection} reports it as a mismatch, and only the
   * reads of that one work order ({@link #readStream}, {@link #find}, appends to it) throw {@link
   * StoreException}. A store that never decodes (the in-memory one) always answers 0. See {@code
   * docs/storage.md}.
   *
   * @return the count; it only rises
   */
  default long quarantinedRows() {
    return 0;
  }

  /**
   * Writes a node's row in the node table, replacing the row of the same id: what a node's
   * scheduler does on its heartbeat. Rows are not events: they are not in the log and not rebuilt.
   *
   * @param node the node's status
   * @throws StoreException if the store cannot write (closed, read-only, unreachable)
   */
  void recordNode(NodeStatus node);

  /**
   * Every row of the node table, live or not, sorted by node id.
   *
   * @return the rows
   */
  List<NodeStatus> nodes();

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

  /**
   * The local file that holds this store, for a store kept in one (SQLite): hosts put what belongs
   * with the store's data (sandbox directories) beside it rather than in a shared directory.
   *
   * @return the file, absolute; empty for a store without one (in memory, PostgreSQL)
   */
  default Optional<java.nio.file.Path> localFile() {
    return Optional.empty();
  }

  /** Releases the store's resources. Idempotent. */
  @Override
  void close();
}
