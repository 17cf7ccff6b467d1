package dev.workgate.core.store;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What may be read from a store, and its retention: the work orders' views and streams, the global
 * log, audit queries, counts, the node table, and {@link #deleteTerminalBefore} to purge ended work
 * orders. It has no method that appends, claims, renews a lease or otherwise changes a work order:
 * a host holding only a {@code StoreView} cannot go behind the runtime's back.
 *
 * <p>Every {@link WorkOrderStore} is one. {@link #readOnly(StoreView)} wraps any view in an object
 * that is only a {@code StoreView}, so that it cannot be cast back to the writable store; {@code
 * Workgate.store()} hands out such a wrapper.
 *
 * <p><b>Thread safety.</b> Implementations are safe for use by many threads at once (as the stores
 * are). Arguments are never null. Every method throws {@link IllegalStateException} once the
 * underlying store is closed.
 */
public interface StoreView {

  /**
   * A view that only reads {@code store} (and purges by {@link #deleteTerminalBefore}): every call
   * goes to {@code store}, and the object returned implements no other interface, so it cannot be
   * cast to {@link WorkOrderStore}.
   *
   * @param store the store or view to read
   * @return the read-only view; {@code store} itself if it is already such a view
   * @throws NullPointerException if {@code store} is null
   */
  static StoreView readOnly(StoreView store) {
    java.util.Objects.requireNonNull(store, "store");
    return store instanceof ReadOnlyStoreView ? store : new ReadOnlyStoreView(store);
  }

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
   * @return the counts of every queue that has work orders
   */
  QueueCounts counts();

  /**
   * The work order that holds an idempotency key.
   *
   * @param idempotencyKey the key
   * @return the work order's id, or empty if no live (not purged) work order holds it
   */
  Optional<WorkOrderId> findByIdempotencyKey(String idempotencyKey);

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
   * Distinct unreadable rows this store instance has met since it opened: events its code cannot
   * decode (damaged, written by a newer Workgate, over the reader's limits) and projection rows
   * that do not make a view. Each is logged once at WARN (work order, position, reason; never the
   * row's content) and quarantined: {@link WorkOrderStore#claim} skips its work order and goes on
   * with the others, {@link #readLog}, {@link #queryEvents}, {@link #query}, {@link
   * WorkOrderStore#expiredLeases} and {@link WorkOrderStore#dueRetries} skip it, {@link
   * WorkOrderStore#rebuildProjection} reports it as a mismatch, and only the reads of that one work
   * order ({@link #readStream}, {@link #find}, appends to it) throw {@link StoreException}. A store
   * that never decodes (the in-memory one) always answers 0. See {@code docs/storage.md}.
   *
   * @return the count; it only rises
   */
  default long quarantinedRows() {
    return 0;
  }

  /**
   * Every row of the node table, live or not, sorted by node id.
   *
   * @return the rows
   */
  List<NodeStatus> nodes();

  /**
   * The local file that holds this store, for a store kept in one (SQLite): hosts put what belongs
   * with the store's data (sandbox directories) beside it rather than in a shared directory.
   *
   * @return the file, absolute; empty for a store without one (in memory, PostgreSQL)
   */
  default Optional<java.nio.file.Path> localFile() {
    return Optional.empty();
  }
}
