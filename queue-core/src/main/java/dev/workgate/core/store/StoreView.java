package dev.workgate.core.store;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Text;
import dev.workgate.core.store.EventQuery.EventPage;
import dev.workgate.core.store.WorkOrderQuery.Page;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

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
   * Views matching a query, in submission order, one page at a time: exactly the views {@code v}
   * for which {@link WorkOrderQuery#matches query.matches(v)}, ordered by submission (the query's
   * {@link WorkOrderQuery#order() order}), after its cursor, the first {@link
   * WorkOrderQuery#limit() limit} of them. The page has a cursor when more views matched.
   *
   * <p><b>Cost.</b> Queue and states narrow the read through the (queue, state, submission) index,
   * and on SQLite and PostgreSQL {@link WorkOrderQuery.Builder#resubmittedFrom resubmittedFrom}
   * through an index of its own; the other filters (time range, types, error code, labels) are
   * checked on the work orders read in submission order until the page is full, and a label filter
   * reads each candidate's {@code Submitted} event. A selective filter over a large store may
   * therefore read many rows for one page. See {@code docs/storage.md}, "Work-order queries".
   *
   * <p><b>Unreadable work orders</b> are skipped and quarantined (see {@link #quarantinedRows()}):
   * a page may then hold fewer views than the limit while its cursor continues after them.
   *
   * @param query the query
   * @return a page of views
   */
  Page<WorkOrderView> query(WorkOrderQuery query);

  /**
   * Counts the work orders that match the query's filters ({@link WorkOrderQuery#matches}; its
   * cursor, limit and order are ignored), grouped.
   *
   * <p>Keys are sorted ({@link String} order); groups with no work orders are absent, except for
   * {@link WorkOrderQuery.CountBy#STATE}, which always lists all states by {@link
   * WorkOrderState#name()}, 0 included. {@link WorkOrderQuery.CountBy#ERROR_CODE} counts only work
   * orders that have a last error.
   *
   * <p><b>Cost.</b> One grouped statement over the matching work orders: a query by queue and
   * states alone reads the (queue, state) index; other filters read the work orders they select, a
   * label filter their {@code Submitted} events too. Counts come from the projection: a work order
   * whose view cannot be read (see {@link #quarantinedRows()}) may be counted though {@link #query}
   * skips it.
   *
   * <pre>{@code
   * SortedMap<String, Long> failedByCode = store.count(
   *     WorkOrderQuery.builder().queue("renders").states(WorkOrderState.FAILED).build(),
   *     WorkOrderQuery.CountBy.ERROR_CODE);       // e.g. {OOM=2, TIMEOUT=17}
   * }</pre>
   *
   * @param query the filters
   * @param by what to group by
   * @return an unmodifiable sorted map of group to count, each count at least 1 (at least 0 for
   *     states)
   */
  SortedMap<String, Long> count(WorkOrderQuery query, WorkOrderQuery.CountBy by);

  /**
   * How many work orders ended ({@link WorkOrderState#COMPLETED COMPLETED}, {@link
   * WorkOrderState#FAILED FAILED}, {@link WorkOrderState#CANCELLED CANCELLED}) in each interval of
   * {@code [from, to)}: a work order counts in the interval that holds the time it ended, its
   * view's {@link WorkOrderView#updatedAt()} (the time of its terminal event), by its state.
   *
   * <p>One bucket per interval, empty ones included, oldest first: bucket {@code k} covers {@code
   * [from + k * interval, from + (k + 1) * interval)}, the last one cut at {@code to} (see {@link
   * EndedCount#bucketStarts}). Work orders purged by retention ({@link #deleteTerminalBefore}) are
   * gone and no longer counted.
   *
   * <p><b>Cost.</b> One grouped statement that reads the index of terminal work orders by the time
   * they ended, from {@code from} to {@code to}: it costs the number of work orders that ended in
   * the range, not the size of the store.
   *
   * @param from the start of the first interval (inclusive)
   * @param to the end of the last interval (exclusive)
   * @param interval the length of each interval: at least {@link EndedCount#MIN_INTERVAL}, a whole
   *     number of microseconds
   * @return the buckets, an unmodifiable list of at most {@link EndedCount#MAX_BUCKETS}
   * @throws IllegalArgumentException if {@code from} is not before {@code to}, the interval is too
   *     short, or there would be more than {@link EndedCount#MAX_BUCKETS} buckets (see {@link
   *     EndedCount#bucketStarts} for every rule); the message names the argument
   */
  List<EndedCount> endedPerInterval(Instant from, Instant to, Duration interval);

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
   * The work orders that wait, or waited, for the given one: those whose Submitted event names it
   * among their {@link WorkOrderView#dependencies()}, in any state, in submission order.
   *
   * @param workOrderId the dependency
   * @return their ids; empty when none names it
   */
  List<WorkOrderId> dependents(WorkOrderId workOrderId);

  /**
   * The queues paused now, each with the pause that paused it, by queue name.
   *
   * @return the pauses in force; empty when no queue is paused
   */
  List<QueueAction> pausedQueues();

  /**
   * The recorded pauses and resumes, newest first.
   *
   * @param queue only this queue's, or null for every queue's
   * @param limit the most to return, at least 1
   * @return the actions
   */
  List<QueueAction> queueActions(String queue, int limit);

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

  /**
   * A page of the global event log. Immutable.
   *
   * @param events events in position order
   * @param lastPosition the position to read after next (the last event's position, or the position
   *     asked for when the page is empty)
   */
  public record LogPage(List<RecordedEvent> events, long lastPosition) {
    /** Copies the list. */
    public LogPage {
      events = List.copyOf(events);
    }
  }

  /**
   * What one node sharing a store says about itself in the store's node table: its capacity, what
   * it uses now and when it last said so. Each node's scheduler writes its own row on its heartbeat
   * ({@link WorkOrderStore#recordNode}); every node and client reads all rows ({@link
   * WorkOrderStore#nodes}) for the fit check at submit, cluster health and the node list.
   *
   * <p>A node is live while its heartbeat is recent ({@link #isLive}); a row whose heartbeat is old
   * is a node that stopped without removing it (a crash) and is ignored, then pruned.
   *
   * @param id the node id; follows the name rule of {@link Text#requireName}
   * @param slots the most slots the node runs at once, at least 1
   * @param memoryMb the most memory one work order could ever be given there: its memory budget, or
   *     the memory it reads minus the free memory it keeps; 0 when the node does not know (no
   *     budget and no reading yet), which no memory request exceeds
   * @param slotsInUse slots held by running work, 0 to {@code slots}
   * @param memoryMbInUse memory reserved by running work, at least 0
   * @param pressure the node's memory pressure level ({@code NONE}, {@code WARNING}, {@code
   *     CRITICAL}); follows the name rule
   * @param version the Workgate version the node runs; follows the name rule
   * @param startedAt when the node started
   * @param lastHeartbeat when the node wrote this row, by its clock
   */
  public record NodeStatus(
      String id,
      int slots,
      long memoryMb,
      int slotsInUse,
      long memoryMbInUse,
      String pressure,
      String version,
      Instant startedAt,
      Instant lastHeartbeat) {

    /**
     * How long a node's row counts after its last heartbeat for the fit check at submit, and is
     * kept: a submit is refused only when no node seen within this time could run it, so a large
     * node that is being redeployed, or down for a while, still counts and its work is accepted and
     * waits. Rows silent for longer are removed by the nodes' heartbeats.
     */
    public static final Duration FORGET_AFTER = Duration.ofHours(1);

    /**
     * Validates the row.
     *
     * @throws IllegalArgumentException naming the field that is out of range
     * @throws NullPointerException if a time is null
     */
    public NodeStatus {
      Text.requireName(id, "NodeStatus.id");
      Text.requireName(pressure, "NodeStatus.pressure");
      Text.requireName(version, "NodeStatus.version");
      Objects.requireNonNull(startedAt, "NodeStatus.startedAt");
      Objects.requireNonNull(lastHeartbeat, "NodeStatus.lastHeartbeat");
      if (slots < 1) {
        throw new IllegalArgumentException("NodeStatus.slots must be at least 1, got " + slots);
      }
      if (memoryMb < 0 || memoryMbInUse < 0) {
        throw new IllegalArgumentException(
            "NodeStatus memory must not be negative, got memoryMb "
                + memoryMb
                + ", memoryMbInUse "
                + memoryMbInUse);
      }
      if (slotsInUse < 0 || slotsInUse > slots) {
        throw new IllegalArgumentException(
            "NodeStatus.slotsInUse must be between 0 and slots (" + slots + "), got " + slotsInUse);
      }
    }

    /**
     * Whether the node's heartbeat is recent enough to count it as running.
     *
     * @param now the reader's time
     * @param ttl how old a heartbeat may be
     * @return true if {@code lastHeartbeat} is no older than {@code ttl} at {@code now}
     */
    public boolean isLive(Instant now, Duration ttl) {
      return !lastHeartbeat.isBefore(now.minus(ttl));
    }

    /**
     * Whether a work order asking for {@code request} could ever run on this node once it is idle.
     * A request without memory (0) needs only slots: the node gives it its memory per slot.
     *
     * @param request what the work order asks for
     * @return true if the slots fit and the memory fits or is unknown
     */
    public boolean couldEverRun(ResourceRequest request) {
      return request.slots() <= slots
          && (memoryMb == 0 || request.memoryMb() == 0 || request.memoryMb() <= memoryMb);
    }
  }

  /**
   * How many work orders each queue has in each state: what {@link StoreView#counts()} returns, and
   * the one place where a queue's depth ({@code PENDING}, {@code WAITING_RETRY} and {@code
   * BLOCKED}) is summed.
   *
   * <p>It lives beside the store SPI because stores build it and every reader of counts (the node's
   * stats, the scheduler, health, metrics, the endpoint and the admin CLI) receives it from a
   * store.
   *
   * <p>Every queue it holds has every state, a state the source did not mention counting 0; a queue
   * it does not hold counts 0 in every state. Two instances are equal when they hold the same
   * queues with the same counts.
   *
   * <p>Immutable and thread-safe; no method returns or accepts {@code null}.
   *
   * <pre>{@code
   * QueueCounts counts = store.counts();
   * long backlog = counts.depth("renders");       // PENDING + WAITING_RETRY + BLOCKED
   * long failed = counts.count("renders", WorkOrderState.FAILED);
   * }</pre>
   */
  public static final class QueueCounts {

    private static final Map<WorkOrderState, Long> ZEROS = zeros();

    private static final QueueCounts EMPTY = new QueueCounts(Collections.emptySortedMap());

    private final SortedMap<String, Map<WorkOrderState, Long>> byQueue;
    private final SortedSet<String> queues;

    private QueueCounts(SortedMap<String, Map<WorkOrderState, Long>> byQueue) {
      this.byQueue = byQueue;
      this.queues = Collections.unmodifiableSortedSet(new TreeSet<>(byQueue.keySet()));
    }

    /**
     * No queues.
     *
     * @return the empty counts
     */
    public static QueueCounts empty() {
      return EMPTY;
    }

    /**
     * Counts copied from queue → state → count. Later changes to the argument do not show.
     *
     * @param countsByQueue the counts; a queue may leave out states, which then count 0
     * @return the counts
     * @throws NullPointerException if the map, a queue name, a queue's map, a state or a count is
     *     null; the message names which
     * @throws IllegalArgumentException if a count is negative; the message names queue, state and
     *     count
     */
    public static QueueCounts of(Map<String, ? extends Map<WorkOrderState, Long>> countsByQueue) {
      Objects.requireNonNull(countsByQueue, "countsByQueue");
      if (countsByQueue.isEmpty()) {
        return EMPTY;
      }
      TreeMap<String, Map<WorkOrderState, Long>> copy = new TreeMap<>();
      for (Map.Entry<String, ? extends Map<WorkOrderState, Long>> q : countsByQueue.entrySet()) {
        String queue = Objects.requireNonNull(q.getKey(), "a queue name is null");
        Map<WorkOrderState, Long> source =
            Objects.requireNonNull(
                q.getValue(), () -> "the counts of queue '" + queue + "' are null");
        EnumMap<WorkOrderState, Long> byState = new EnumMap<>(ZEROS);
        for (Map.Entry<WorkOrderState, Long> s : source.entrySet()) {
          WorkOrderState state =
              Objects.requireNonNull(s.getKey(), () -> "a state of queue '" + queue + "' is null");
          Long count =
              Objects.requireNonNull(
                  s.getValue(),
                  () -> "the count of queue '" + queue + "', state " + state + " is null");
          if (count < 0) {
            throw negative(queue, state, count);
          }
          byState.put(state, count);
        }
        copy.put(queue, Collections.unmodifiableMap(byState));
      }
      return new QueueCounts(Collections.unmodifiableSortedMap(copy));
    }

    /**
     * A builder that sums counts, for stores and readers that count row by row.
     *
     * @return an empty builder
     */
    public static Builder builder() {
      return new Builder();
    }

    /**
     * Sums counts by queue and state into a {@link QueueCounts}. Not thread-safe; use it on one
     * thread and build once or many times (each build copies).
     */
    public static final class Builder {
      private final Map<String, EnumMap<WorkOrderState, Long>> byQueue = new TreeMap<>();

      private Builder() {}

      /**
       * Adds to a queue's count in a state; the queue is held from then on, even with a count of 0.
       *
       * @param queue the queue
       * @param state the state
       * @param count how many to add
       * @return this builder
       * @throws NullPointerException if the queue or state is null
       * @throws IllegalArgumentException if the count is negative; the message names queue, state
       *     and count
       */
      public Builder add(String queue, WorkOrderState state, long count) {
        Objects.requireNonNull(queue, "queue");
        Objects.requireNonNull(state, "state");
        if (count < 0) {
          throw negative(queue, state, count);
        }
        byQueue
            .computeIfAbsent(queue, q -> new EnumMap<>(ZEROS))
            .merge(state, count, Math::addExact);
        return this;
      }

      /**
       * The counts added so far.
       *
       * @return the counts
       */
      public QueueCounts build() {
        return of(byQueue);
      }
    }

    /**
     * Work orders of a queue in a state.
     *
     * @param queue the queue
     * @param state the state
     * @return the count, 0 if the queue is absent
     */
    public long count(String queue, WorkOrderState state) {
      return byState(queue).get(Objects.requireNonNull(state, "state"));
    }

    /**
     * Work orders in a state, over all queues.
     *
     * @param state the state
     * @return the sum
     */
    public long count(WorkOrderState state) {
      Objects.requireNonNull(state, "state");
      long n = 0;
      for (Map<WorkOrderState, Long> byState : byQueue.values()) {
        n += byState.get(state);
      }
      return n;
    }

    /**
     * A queue's depth: its work orders waiting to run, {@code PENDING}, {@code WAITING_RETRY} and
     * {@code BLOCKED} (waiting for other work orders). This is what {@code maxQueueDepth} limits
     * and what the scheduler's stats and the health check call the queue depth.
     *
     * @param queue the queue
     * @return the depth, 0 if the queue is absent
     */
    public long depth(String queue) {
      Map<WorkOrderState, Long> byState = byState(queue);
      return byState.get(WorkOrderState.PENDING)
          + byState.get(WorkOrderState.WAITING_RETRY)
          + byState.get(WorkOrderState.BLOCKED);
    }

    /**
     * A queue's work orders held by a node: {@code PREPARING} plus {@code RUNNING}.
     *
     * @param queue the queue
     * @return the count, 0 if the queue is absent
     */
    public long active(String queue) {
      Map<WorkOrderState, Long> byState = byState(queue);
      return byState.get(WorkOrderState.PREPARING) + byState.get(WorkOrderState.RUNNING);
    }

    /**
     * A queue's work orders in any state.
     *
     * @param queue the queue
     * @return the total, 0 if the queue is absent
     */
    public long total(String queue) {
      long n = 0;
      for (long c : byState(queue).values()) {
        n += c;
      }
      return n;
    }

    /**
     * Work orders in any state, over all queues.
     *
     * @return the total
     */
    public long total() {
      long n = 0;
      for (String queue : byQueue.keySet()) {
        n += total(queue);
      }
      return n;
    }

    /**
     * The queues held, sorted by name.
     *
     * @return an unmodifiable sorted set
     */
    public SortedSet<String> queues() {
      return queues;
    }

    /**
     * Whether no queue is held.
     *
     * @return true if {@link #queues()} is empty
     */
    public boolean isEmpty() {
      return byQueue.isEmpty();
    }

    /**
     * A queue's counts by state, every state present (in declaration order), all 0 for an absent
     * queue.
     *
     * @param queue the queue
     * @return an unmodifiable map backed by an {@link EnumMap}
     */
    public Map<WorkOrderState, Long> byState(String queue) {
      return byQueue.getOrDefault(Objects.requireNonNull(queue, "queue"), ZEROS);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof QueueCounts other && byQueue.equals(other.byQueue);
    }

    @Override
    public int hashCode() {
      return byQueue.hashCode();
    }

    /** Queue → state → count, queues sorted, states in declaration order. */
    @Override
    public String toString() {
      return "QueueCounts" + byQueue;
    }

    private static IllegalArgumentException negative(
        String queue, WorkOrderState state, long count) {
      return new IllegalArgumentException(
          "the count of queue '"
              + queue
              + "', state "
              + state
              + " is negative: "
              + count
              + "; counts are 0 or more");
    }

    private static Map<WorkOrderState, Long> zeros() {
      EnumMap<WorkOrderState, Long> m = new EnumMap<>(WorkOrderState.class);
      for (WorkOrderState s : WorkOrderState.values()) {
        m.put(s, 0L);
      }
      return Collections.unmodifiableMap(m);
    }
  }
}
