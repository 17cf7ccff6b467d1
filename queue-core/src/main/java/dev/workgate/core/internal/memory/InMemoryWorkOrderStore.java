package dev.workgate.core.internal.memory;

import dev.workgate.core.BatchId;
import dev.workgate.core.DependencyFailure;
import dev.workgate.core.Progress;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.Subscription;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.ProjectionDiff;
import dev.workgate.core.store.EndedCount;
import dev.workgate.core.store.EventQuery;
import dev.workgate.core.store.EventQuery.EventPage;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.RebuildReport;
import dev.workgate.core.store.RebuildReport.ProjectionMismatch;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.StoreView.LogPage;
import dev.workgate.core.store.StoreView.NodeStatus;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderQuery.Page;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.AppendStaging;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.Claim;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ListenerRegistry;
import dev.workgate.spi.WorkAvailableListener;
import dev.workgate.spi.WorkOrder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link dev.workgate.core.store.WorkOrderStore} in the heap. Fast and lost on exit.
 *
 * <p>Every write and every index read takes one lock, held only for in-memory work (no I/O), so
 * appends and claims from many threads are serialised and all-or-nothing. {@link #find} reads
 * without locking. Nothing scans all work orders: per queue, pending work orders are indexed by
 * resource shape and then (priority, submission order), delayed ones by availability time; leases,
 * retries and terminal work orders are indexed by their times (the terminal index also serves
 * {@link #endedPerInterval}), and queries and counts by (queue, state, submission order). A query's
 * other filters (time range, types, labels, error code, resubmitted-from) are checked on the work
 * orders of the (queue, state) indexes it reads, as a database checks them on the rows it reads; a
 * count by queue or state without such filters adds up index sizes. For {@link #queryEvents} the
 * events of each type are kept in an array list sorted by (recorded time, position): while the
 * clock moves forward an event is appended to its type's list (a tree insert per event cost a third
 * of the append throughput), and one recorded after the clock went back is inserted in place. An
 * audit query binary-searches the lists of the types it asks for to the place its range and cursor
 * name and merges them, reading only the events it returns and one more; a query by work order
 * reads that work order's stream. Retention removes deleted streams from the lists in one pass, as
 * it does from the log.
 *
 * <p>Thread-safe. Obtain through {@link dev.workgate.core.store.Stores#inMemory()}.
 */
public final class InMemoryWorkOrderStore implements WorkOrderStore {

  /** Higher priority first, then submission order. */
  private static final Comparator<Entry> CLAIM_ORDER =
      (a, b) ->
          a.priority != b.priority
              ? Integer.compare(b.priority, a.priority)
              : Long.compare(a.seq, b.seq);

  private final Clock clock;
  private final Object lock = new Object();
  private final ConcurrentHashMap<WorkOrderId, Entry> byId = new ConcurrentHashMap<>();

  /**
   * How many work orders in the store were resubmitted from each id (for {@link
   * WorkOrderQuery#notResubmitted()}); guarded by {@code lock}.
   */
  private final Map<WorkOrderId, Integer> resubmissions = new HashMap<>();

  // Everything below is guarded by lock.
  private final ArrayList<RecordedEvent> log = new ArrayList<>();

  /** Per type, the events sorted by (recorded time, position); see {@link #indexEvent}. */
  private final EnumMap<EventType, ArrayList<RecordedEvent>> eventsByType =
      new EnumMap<>(EventType.class);

  private long lastPosition;
  private final HashMap<String, WorkOrderId> idempotencyKeys = new HashMap<>();
  private final HashMap<String, QueueIndex> queues = new HashMap<>();
  private final TreeMap<TimeKey, Entry> leases = new TreeMap<>();
  private final TreeMap<TimeKey, Entry> retries = new TreeMap<>();
  private final TreeMap<TimeKey, Entry> terminal = new TreeMap<>();
  private final ListenerRegistry listeners = new ListenerRegistry();
  private final TreeMap<String, NodeStatus> nodes = new TreeMap<>(); // guarded by lock
  private final TreeMap<Long, Entry> blocked = new TreeMap<>(); // by seq; guarded by lock
  // dependency -> the work orders that named it, in submission order; guarded by lock
  private final HashMap<WorkOrderId, List<WorkOrderId>> dependents = new HashMap<>();
  private final TreeMap<String, QueueAction> paused = new TreeMap<>(); // guarded by lock
  private final ArrayList<QueueAction> queueActions = new ArrayList<>(); // guarded by lock
  private final Set<String> batchEnds = new HashSet<>(); // "batch members"; guarded by lock
  private volatile boolean closed;

  /**
   * Creates an empty store.
   *
   * @param clock stamps recorded events
   */
  public InMemoryWorkOrderStore(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
    for (EventType type : EventType.values()) {
      eventsByType.put(type, new ArrayList<>());
    }
  }

  /** One work order: its view, its events and its immutable sort keys. */
  private static final class Entry {
    final WorkOrderId id;
    final long seq; // position of the Submitted event: submission order, query cursor
    final int priority;
    final ResourceRequest shape;
    volatile WorkOrder view;
    volatile RecordedEvent[] events;

    Entry(WorkOrder view, long seq, RecordedEvent[] events) {
      this.id = view.id();
      this.seq = seq;
      this.priority = view.priority();
      this.shape = view.resources();
      this.view = view;
      this.events = events;
    }
  }

  private record TimeKey(Instant at, long seq) implements Comparable<TimeKey> {
    @Override
    public int compareTo(TimeKey o) {
      int c = at.compareTo(o.at);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  private static final class QueueIndex {
    final EnumMap<WorkOrderState, TreeMap<Long, Entry>> byState =
        new EnumMap<>(WorkOrderState.class);

    /**
     * PENDING work orders that were available when recorded or by the {@code now} of the latest
     * claim, by resource shape. Claimers' clocks differ, so a claim with an earlier {@code now}
     * first moves the ones it may not take back to {@link #delayed}.
     */
    final HashMap<ResourceRequest, TreeSet<Entry>> ready = new HashMap<>();

    /** The work orders in {@link #ready}, by availability time. */
    final TreeMap<TimeKey, Entry> promoted = new TreeMap<>();

    /** PENDING work orders not in {@link #ready}, by availability time. */
    final TreeMap<TimeKey, Entry> delayed = new TreeMap<>();

    QueueIndex() {
      for (WorkOrderState s : WorkOrderState.values()) {
        byState.put(s, new TreeMap<>());
      }
    }

    boolean isEmpty() {
      return byState.values().stream().allMatch(Map::isEmpty);
    }

    /** Makes {@link #ready} hold exactly the PENDING work orders available at {@code now}. */
    void promote(Instant now) {
      while (!delayed.isEmpty() && !delayed.firstKey().at().isAfter(now)) {
        Map.Entry<TimeKey, Entry> next = delayed.pollFirstEntry();
        Entry e = next.getValue();
        promoted.put(next.getKey(), e);
        ready.computeIfAbsent(e.shape, s -> new TreeSet<>(CLAIM_ORDER)).add(e);
      }
      while (!promoted.isEmpty() && promoted.lastKey().at().isAfter(now)) {
        Map.Entry<TimeKey, Entry> early = promoted.pollLastEntry();
        removeReady(early.getValue());
        delayed.put(early.getKey(), early.getValue());
      }
    }

    /**
     * Indexes a PENDING work order. One available when its event was recorded (no delay: the usual
     * case) goes straight to {@link #ready}, so that a large backlog is not promoted all at once,
     * in one claim holding the lock, when the first claim comes; {@link #promote} moves it back if
     * a claim's clock is behind its availability time.
     */
    void addPending(Entry e, Instant availableAt, boolean availableNow) {
      TimeKey key = new TimeKey(availableAt, e.seq);
      if (availableNow) {
        promoted.put(key, e);
        ready.computeIfAbsent(e.shape, s -> new TreeSet<>(CLAIM_ORDER)).add(e);
      } else {
        delayed.put(key, e);
      }
    }

    void removePending(Entry e, Instant availableAt) {
      TimeKey key = new TimeKey(availableAt, e.seq);
      if (delayed.remove(key) == null) {
        promoted.remove(key);
        removeReady(e);
      }
    }

    private void removeReady(Entry e) {
      TreeSet<Entry> set = ready.get(e.shape);
      set.remove(e);
      if (set.isEmpty()) {
        ready.remove(e.shape);
      }
    }

    /** The earliest availability time of a PENDING work order after {@code now}. */
    Optional<Instant> nextAvailableAfter(Instant now) {
      TimeKey after = new TimeKey(now, Long.MAX_VALUE);
      TimeKey d = delayed.higherKey(after);
      TimeKey p = promoted.higherKey(after);
      if (d == null) {
        return Optional.ofNullable(p).map(TimeKey::at);
      }
      return Optional.of(p == null || d.compareTo(p) <= 0 ? d.at() : p.at());
    }
  }

  @Override
  public List<RecordedEvent> appendAll(List<AppendRequest> requests) {
    Objects.requireNonNull(requests, "requests");
    Set<String> claimable = new HashSet<>();
    List<RecordedEvent> recorded = appendLocked(requests, claimable);
    listeners.fire(claimable);
    return recorded;
  }

  private List<RecordedEvent> appendLocked(List<AppendRequest> requests, Set<String> claimable) {
    synchronized (lock) {
      ensureOpen();
      Instant now = clock.instant();
      // Stage: validate everything; nothing is changed until every request has passed.
      AppendStaging<Entry> staging =
          AppendStaging.stage(requests, now, byId::get, e -> e.view, idempotencyKeys::get);
      long[] positions = new long[staging.events().size()];
      for (int i = 0; i < positions.length; i++) {
        positions[i] = lastPosition + 1 + i;
      }
      List<RecordedEvent> recorded = staging.record(positions);
      // Commit: nothing below can fail.
      for (AppendStaging.Stream<Entry> s : staging.streams()) {
        commit(s.handle(), s.before(), s.current(), s.recorded());
        if (ListenerRegistry.becameClaimable(s.current(), s.recorded())) {
          claimable.add(s.current().queue());
        }
      }
      log.addAll(recorded);
      recorded.forEach(this::indexEvent);
      idempotencyKeys.putAll(staging.newKeys());
      lastPosition += positions.length;
      return Collections.unmodifiableList(recorded);
    }
  }

  private void commit(Entry entry, WorkOrder before, WorkOrder after, List<RecordedEvent> added) {
    if (entry == null) {
      entry = new Entry(after, added.get(0).position(), added.toArray(new RecordedEvent[0]));
      byId.put(entry.id, entry);
      after.resubmittedFrom().ifPresent(from -> resubmissions.merge(from, 1, Integer::sum));
      for (WorkOrderId dep : after.dependencies()) {
        dependents.computeIfAbsent(dep, k -> new ArrayList<>()).add(after.id());
      }
    } else {
      unindex(entry, before);
      RecordedEvent[] old = entry.events;
      RecordedEvent[] events = Arrays.copyOf(old, old.length + added.size());
      for (int i = 0; i < added.size(); i++) {
        events[old.length + i] = added.get(i);
      }
      entry.events = events;
      entry.view = after;
    }
    index(entry, after);
  }

  private void index(Entry e, WorkOrder v) {
    QueueIndex q = queues.computeIfAbsent(v.queue(), k -> new QueueIndex());
    q.byState.get(v.state()).put(e.seq, e);
    switch (v.state()) {
      case PENDING -> q.addPending(e, v.availableAt(), !v.availableAt().isAfter(v.updatedAt()));
      case PREPARING, RUNNING ->
          leases.put(new TimeKey(v.leaseExpiresAt().orElseThrow(), e.seq), e);
      case WAITING_RETRY -> retries.put(new TimeKey(v.nextAttemptAt().orElseThrow(), e.seq), e);
      case COMPLETED, FAILED, CANCELLED -> terminal.put(new TimeKey(v.updatedAt(), e.seq), e);
      case BLOCKED -> blocked.put(e.seq, e);
    }
  }

  private void unindex(Entry e, WorkOrder v) {
    QueueIndex q = queues.get(v.queue());
    q.byState.get(v.state()).remove(e.seq);
    switch (v.state()) {
      case PENDING -> q.removePending(e, v.availableAt());
      case PREPARING, RUNNING ->
          leases.remove(new TimeKey(v.leaseExpiresAt().orElseThrow(), e.seq));
      case WAITING_RETRY -> retries.remove(new TimeKey(v.nextAttemptAt().orElseThrow(), e.seq));
      case COMPLETED, FAILED, CANCELLED -> terminal.remove(new TimeKey(v.updatedAt(), e.seq));
      case BLOCKED -> blocked.remove(e.seq);
    }
  }

  @Override
  public List<WorkOrderView> claim(ClaimRequest request) {
    List<Claim> claims = claimRecorded(request);
    List<WorkOrderView> views = new ArrayList<>(claims.size());
    for (Claim claim : claims) {
      views.add(claim.view());
    }
    return views;
  }

  @Override
  public List<Claim> claimRecorded(ClaimRequest request) {
    Objects.requireNonNull(request, "request");
    synchronized (lock) {
      ensureOpen();
      QueueIndex q = queues.get(request.queue());
      if (q == null || paused.containsKey(request.queue())) {
        return List.of();
      }
      q.promote(request.now());
      Instant recordedAt = clock.instant();
      WorkOrderEvent claimed =
          new WorkOrderEvent.Claimed(request.owner(), request.leaseExpiresAt());
      Capacity left = request.capacity();
      List<Claim> claims = new ArrayList<>(Math.min(request.limit(), 64));
      while (claims.size() < request.limit()) {
        Entry best = null;
        for (Map.Entry<ResourceRequest, TreeSet<Entry>> shape : q.ready.entrySet()) {
          if (left.fits(shape.getKey())) {
            Entry head = shape.getValue().first();
            if (best == null || CLAIM_ORDER.compare(head, best) < 0) {
              best = head;
            }
          }
        }
        if (best == null) {
          break;
        }
        WorkOrder before = best.view;
        RecordedEvent r =
            new RecordedEvent(lastPosition + 1, best.id, before.version() + 1, recordedAt, claimed);
        WorkOrder after = before.apply(r);
        Optional<String> sandbox = request.startIn(after);
        RecordedEvent s = null;
        if (sandbox.isPresent()) {
          s =
              new RecordedEvent(
                  lastPosition + 2,
                  best.id,
                  after.version() + 1,
                  recordedAt,
                  new WorkOrderEvent.Started(sandbox.get()));
          after = after.apply(s);
        }
        // Claimed and Started move the work order once, from PENDING to where it ends.
        commit(best, before, after, s == null ? List.of(r) : List.of(r, s));
        log.add(r);
        indexEvent(r);
        lastPosition++;
        if (s != null) {
          log.add(s);
          indexEvent(s);
          lastPosition++;
        }
        left = left.minus(best.shape);
        claims.add(new Claim(after, r, Optional.ofNullable(s)));
      }
      return claims;
    }
  }

  @Override
  public boolean renewLease(
      WorkOrderId workOrderId, String owner, int attempt, Instant expiresAt, Progress progress) {
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(expiresAt, "expiresAt");
    synchronized (lock) {
      ensureOpen();
      Entry e = byId.get(workOrderId);
      if (e == null) {
        return false;
      }
      WorkOrder v = e.view;
      if (!v.state().isActive()
          || v.attempt() != attempt
          || !owner.equals(v.leaseOwner().orElse(null))) {
        return false;
      }
      unindex(e, v);
      WorkOrder renewed = v.withLeaseExpiresAt(expiresAt);
      if (progress != null) {
        renewed = renewed.withProgress(progress);
      }
      e.view = renewed;
      index(e, renewed);
      return true;
    }
  }

  @Override
  public List<RecordedEvent> readStream(WorkOrderId workOrderId) {
    ensureOpen();
    Entry e = byId.get(Objects.requireNonNull(workOrderId, "workOrderId"));
    return e == null ? List.of() : List.of(e.events);
  }

  @Override
  public LogPage readLog(long afterPosition, int limit) {
    requireLimit(limit);
    synchronized (lock) {
      ensureOpen();
      int lo = 0;
      int hi = log.size();
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (log.get(mid).position() <= afterPosition) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      int end = (int) Math.min(log.size(), (long) lo + limit);
      List<RecordedEvent> events = List.copyOf(log.subList(lo, end));
      long last = events.isEmpty() ? afterPosition : events.get(events.size() - 1).position();
      return new LogPage(events, last);
    }
  }

  /**
   * Adds an event to its type's list. The store's clock usually moves forward, so the event sorts
   * last and is appended; after the clock went back it is inserted where it belongs.
   */
  private void indexEvent(RecordedEvent r) {
    ArrayList<RecordedEvent> events = eventsByType.get(r.event().type());
    int n = events.size();
    if (n == 0 || compare(events.get(n - 1), r.recordedAt(), r.position()) < 0) {
      events.add(r);
    } else {
      events.add(firstIndex(events, r.recordedAt(), r.position(), false), r);
    }
  }

  /** Compares an event's (recorded time, position) with another place. */
  private static int compare(RecordedEvent e, Instant at, long position) {
    int c = e.recordedAt().compareTo(at);
    return c != 0 ? c : Long.compare(e.position(), position);
  }

  /**
   * The index of the first event of a sorted list at or after ({@code after} false) or strictly
   * after ({@code after} true) a place; the list's size if there is none.
   */
  private static int firstIndex(
      List<RecordedEvent> events, Instant at, long position, boolean after) {
    int lo = 0;
    int hi = events.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      int c = compare(events.get(mid), at, position);
      if (c < 0 || (after && c == 0)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  @Override
  public EventPage queryEvents(EventQuery query) {
    Objects.requireNonNull(query, "query");
    ensureOpen();
    WorkOrderId id = query.workOrder().orElse(null);
    if (id != null) {
      // One stream: a few events, filtered and sorted here.
      Entry e = byId.get(id);
      List<RecordedEvent> matching = new ArrayList<>();
      if (e != null) {
        for (RecordedEvent r : e.events) {
          if (query.matches(r)) {
            matching.add(r);
          }
        }
        matching.sort(query.comparator());
      }
      return page(matching, query);
    }
    boolean newestFirst = query.order() == EventQuery.Order.NEWEST_FIRST;
    Comparator<RecordedEvent> order = query.comparator();
    synchronized (lock) {
      ensureOpen();
      // Merge the per-type lists that match, each read in the query's order from its place.
      PriorityQueue<Run> heads = new PriorityQueue<>((a, b) -> order.compare(a.peek(), b.peek()));
      for (EventType type : query.types().isEmpty() ? eventsByType.keySet() : query.types()) {
        Run run = run(eventsByType.get(type), query, newestFirst);
        if (run.hasNext()) {
          heads.add(run);
        }
      }
      List<RecordedEvent> events = new ArrayList<>(Math.min(query.limit() + 1, 256));
      while (!heads.isEmpty() && events.size() <= query.limit()) {
        Run run = heads.poll();
        events.add(run.next());
        if (run.hasNext()) {
          heads.add(run);
        }
      }
      return page(events, query);
    }
  }

  /** The events of a sorted list inside the query's range and after its cursor, in its order. */
  private static Run run(List<RecordedEvent> events, EventQuery query, boolean newestFirst) {
    // Positions are at least 1, so (t, MIN_VALUE) is before every event recorded at t.
    int from = query.from().map(t -> firstIndex(events, t, Long.MIN_VALUE, false)).orElse(0);
    int to =
        query.to().map(t -> firstIndex(events, t, Long.MIN_VALUE, false)).orElse(events.size());
    if (query.after().isPresent()) {
      Instant at = query.afterRecordedAt().orElseThrow();
      long position = query.afterPosition().orElseThrow();
      if (newestFirst) {
        to = Math.min(to, firstIndex(events, at, position, false));
      } else {
        from = Math.max(from, firstIndex(events, at, position, true));
      }
    }
    return new Run(events, from, Math.max(from, to), newestFirst);
  }

  /** Events {@code [from, to)} of a list, forward or backward. */
  private static final class Run {
    private final List<RecordedEvent> events;
    private final int step;
    private final int end;
    private int next;

    Run(List<RecordedEvent> events, int from, int to, boolean backward) {
      this.events = events;
      this.step = backward ? -1 : 1;
      this.next = backward ? to - 1 : from;
      this.end = backward ? from - 1 : to;
    }

    boolean hasNext() {
      return next != end;
    }

    RecordedEvent peek() {
      return events.get(next);
    }

    RecordedEvent next() {
      RecordedEvent e = events.get(next);
      next += step;
      return e;
    }
  }

  /** A page of at most the limit, with a cursor when the events hold one more than that. */
  private static EventPage page(List<RecordedEvent> events, EventQuery query) {
    if (events.size() <= query.limit()) {
      return new EventPage(events, Optional.empty());
    }
    List<RecordedEvent> page = events.subList(0, query.limit());
    return new EventPage(page, Optional.of(EventQuery.cursorOf(page.get(page.size() - 1))));
  }

  @Override
  public Optional<WorkOrderView> find(WorkOrderId workOrderId) {
    ensureOpen();
    Entry e = byId.get(Objects.requireNonNull(workOrderId, "workOrderId"));
    return e == null ? Optional.empty() : Optional.of(e.view);
  }

  @Override
  public Page<WorkOrderView> query(WorkOrderQuery query) {
    Objects.requireNonNull(query, "query");
    synchronized (lock) {
      ensureOpen();
      // Merge the (queue, state) indexes that match, each already in submission order (walked
      // backwards for newest first).
      boolean newestFirst = query.order() == WorkOrderQuery.Order.NEWEST_FIRST;
      Comparator<PeekingIterator> bySeq = Comparator.comparingLong(PeekingIterator::seq);
      PriorityQueue<PeekingIterator> heads =
          new PriorityQueue<>(newestFirst ? bySeq.reversed() : bySeq);
      List<QueueIndex> sources =
          query
              .queue()
              .map(
                  name ->
                      queues.containsKey(name) ? List.of(queues.get(name)) : List.<QueueIndex>of())
              .orElseGet(() -> List.copyOf(queues.values()));
      for (QueueIndex q : sources) {
        for (Map.Entry<WorkOrderState, TreeMap<Long, Entry>> byState : q.byState.entrySet()) {
          if (query.matchesState(byState.getKey())) {
            TreeMap<Long, Entry> index = byState.getValue();
            Iterator<Entry> entries;
            if (!newestFirst) {
              entries = index.tailMap(query.after(), false).values().iterator();
            } else if (query.after() > 0) {
              entries = index.headMap(query.after(), false).descendingMap().values().iterator();
            } else {
              entries = index.descendingMap().values().iterator();
            }
            PeekingIterator it = new PeekingIterator(entries);
            if (it.hasNext()) {
              heads.add(it);
            }
          }
        }
      }
      List<WorkOrderView> items = new ArrayList<>(Math.min(query.limit(), 256));
      boolean more = false;
      long lastSeq = 0;
      while (!heads.isEmpty()) {
        PeekingIterator it = heads.poll();
        Entry e = it.next();
        if (it.hasNext()) {
          heads.add(it);
        }
        if (!query.matches(e.view, resubmissions::containsKey)) {
          continue;
        }
        if (items.size() == query.limit()) {
          more = true;
          break;
        }
        items.add(e.view);
        lastSeq = e.seq;
      }
      return new Page<>(items, more ? OptionalLong.of(lastSeq) : OptionalLong.empty());
    }
  }

  @Override
  public SortedMap<String, Long> count(WorkOrderQuery query, WorkOrderQuery.CountBy by) {
    Objects.requireNonNull(query, "query");
    Objects.requireNonNull(by, "by");
    synchronized (lock) {
      ensureOpen();
      TreeMap<String, Long> counts = new TreeMap<>();
      if (by == WorkOrderQuery.CountBy.STATE) {
        for (WorkOrderState state : WorkOrderState.values()) {
          counts.put(state.name(), 0L);
        }
      }
      boolean onlyQueueAndState =
          query.submittedFrom().isEmpty()
              && query.submittedBefore().isEmpty()
              && query.types().isEmpty()
              && query.labels().isEmpty()
              && query.errorCode().isEmpty()
              && query.resubmittedFrom().isEmpty()
              && query.batch().isEmpty()
              && !query.notResubmitted();
      queues.forEach(
          (name, q) -> {
            if (query.queue().isPresent() && !query.queue().get().equals(name)) {
              return;
            }
            q.byState.forEach(
                (state, index) -> {
                  if (!query.matchesState(state) || index.isEmpty()) {
                    return;
                  }
                  if (onlyQueueAndState && by == WorkOrderQuery.CountBy.STATE) {
                    counts.merge(state.name(), (long) index.size(), Long::sum);
                  } else if (onlyQueueAndState && by == WorkOrderQuery.CountBy.QUEUE) {
                    counts.merge(name, (long) index.size(), Long::sum);
                  } else {
                    for (Entry e : index.values()) {
                      WorkOrder v = e.view;
                      if (query.matches(v, resubmissions::containsKey)) {
                        by.keyOf(v).ifPresent(key -> counts.merge(key, 1L, Long::sum));
                      }
                    }
                  }
                });
          });
      return Collections.unmodifiableSortedMap(counts);
    }
  }

  @Override
  public List<EndedCount> endedPerInterval(Instant from, Instant to, Duration interval) {
    List<Instant> starts = EndedCount.bucketStarts(from, to, interval);
    long[][] counts = new long[3][starts.size()];
    synchronized (lock) {
      ensureOpen();
      // Positions are at least 1, so (t, MIN_VALUE) sorts before every work order ended at t.
      for (Map.Entry<TimeKey, Entry> ended :
          terminal
              .subMap(
                  new TimeKey(from, Long.MIN_VALUE), true, new TimeKey(to, Long.MIN_VALUE), false)
              .entrySet()) {
        int bucket = (int) Duration.between(from, ended.getKey().at()).dividedBy(interval);
        switch (ended.getValue().view.state()) {
          case COMPLETED -> counts[0][bucket]++;
          case FAILED -> counts[1][bucket]++;
          default -> counts[2][bucket]++;
        }
      }
    }
    List<EndedCount> out = new ArrayList<>(starts.size());
    for (int k = 0; k < starts.size(); k++) {
      out.add(new EndedCount(starts.get(k), counts[0][k], counts[1][k], counts[2][k]));
    }
    return Collections.unmodifiableList(out);
  }

  private static final class PeekingIterator {
    private final Iterator<Entry> it;
    private Entry peeked;

    PeekingIterator(Iterator<Entry> it) {
      this.it = it;
      this.peeked = it.hasNext() ? it.next() : null;
    }

    boolean hasNext() {
      return peeked != null;
    }

    long seq() {
      return peeked.seq;
    }

    Entry next() {
      Entry e = peeked;
      peeked = it.hasNext() ? it.next() : null;
      return e;
    }
  }

  @Override
  public QueueCounts counts() {
    synchronized (lock) {
      ensureOpen();
      QueueCounts.Builder counts = QueueCounts.builder();
      queues.forEach(
          (name, q) -> q.byState.forEach((state, index) -> counts.add(name, state, index.size())));
      return counts.build();
    }
  }

  @Override
  public Optional<WorkOrderId> findByIdempotencyKey(String idempotencyKey) {
    Objects.requireNonNull(idempotencyKey, "idempotencyKey");
    synchronized (lock) {
      ensureOpen();
      return Optional.ofNullable(idempotencyKeys.get(idempotencyKey));
    }
  }

  @Override
  public List<WorkOrderView> expiredLeases(Instant now, int limit) {
    return headUntil(leases, now, limit);
  }

  @Override
  public List<WorkOrderView> dueRetries(Instant now, int limit) {
    return headUntil(retries, now, limit);
  }

  private List<WorkOrderView> headUntil(TreeMap<TimeKey, Entry> index, Instant now, int limit) {
    Objects.requireNonNull(now, "now");
    requireLimit(limit);
    synchronized (lock) {
      ensureOpen();
      List<WorkOrderView> views = new ArrayList<>();
      for (Map.Entry<TimeKey, Entry> e : index.entrySet()) {
        if (views.size() == limit || e.getKey().at().isAfter(now)) {
          break;
        }
        views.add(e.getValue().view);
      }
      return views;
    }
  }

  @Override
  public Optional<Instant> nextRetryAt() {
    synchronized (lock) {
      ensureOpen();
      return retries.isEmpty() ? Optional.empty() : Optional.of(retries.firstKey().at());
    }
  }

  @Override
  public Optional<Instant> nextAvailableAt(String queue, Instant now) {
    Objects.requireNonNull(queue, "queue");
    Objects.requireNonNull(now, "now");
    synchronized (lock) {
      ensureOpen();
      QueueIndex q = queues.get(queue);
      return q == null ? Optional.empty() : q.nextAvailableAfter(now);
    }
  }

  @Override
  public void recordNode(NodeStatus node) {
    Objects.requireNonNull(node, "node");
    synchronized (lock) {
      ensureOpen();
      nodes.put(node.id(), node);
    }
  }

  @Override
  public List<NodeStatus> nodes() {
    synchronized (lock) {
      ensureOpen();
      return List.copyOf(nodes.values());
    }
  }

  @Override
  public int removeNodes(String nodeId, Instant silentSince) {
    synchronized (lock) {
      ensureOpen();
      int removed = nodeId != null && nodes.remove(nodeId) != null ? 1 : 0;
      if (silentSince != null) {
        var it = nodes.values().iterator();
        while (it.hasNext()) {
          if (it.next().lastHeartbeat().isBefore(silentSince)) {
            it.remove();
            removed++;
          }
        }
      }
      return removed;
    }
  }

  @Override
  public int deleteTerminalBefore(Instant cutoff, int limit) {
    Objects.requireNonNull(cutoff, "cutoff");
    requireLimit(limit);
    synchronized (lock) {
      ensureOpen();
      Set<WorkOrderId> deleted = new HashSet<>();
      while (deleted.size() < limit && !terminal.isEmpty()) {
        Map.Entry<TimeKey, Entry> oldest = terminal.firstEntry();
        if (!oldest.getKey().at().isBefore(cutoff)) {
          break;
        }
        Entry e = oldest.getValue();
        WorkOrder v = e.view;
        unindex(e, v);
        byId.remove(e.id);
        v.idempotencyKey().ifPresent(key -> idempotencyKeys.remove(key, e.id));
        v.resubmittedFrom()
            .ifPresent(
                from -> resubmissions.computeIfPresent(from, (k, n) -> n > 1 ? n - 1 : null));
        for (WorkOrderId dep : v.dependencies()) {
          List<WorkOrderId> named = dependents.get(dep);
          if (named != null) {
            named.remove(e.id);
            if (named.isEmpty()) {
              dependents.remove(dep);
            }
          }
        }
        QueueIndex q = queues.get(v.queue());
        if (q.isEmpty()) {
          queues.remove(v.queue());
        }
        deleted.add(e.id);
      }
      if (!deleted.isEmpty()) {
        log.removeIf(r -> deleted.contains(r.workOrderId()));
        for (ArrayList<RecordedEvent> events : eventsByType.values()) {
          events.removeIf(r -> deleted.contains(r.workOrderId()));
        }
      }
      return deleted.size();
    }
  }

  @Override
  public List<WorkOrderView> resolvableBlocked(int limit) {
    requireLimit(limit);
    synchronized (lock) {
      ensureOpen();
      List<WorkOrderView> out = new ArrayList<>();
      for (Entry e : blocked.values()) {
        if (out.size() == limit) {
          break;
        }
        boolean cancelOnFailure = e.view.spec().onDependencyFailure() == DependencyFailure.CANCEL;
        boolean live = false;
        boolean failed = false;
        for (WorkOrderId dep : e.view.dependencies()) {
          Entry d = byId.get(dep);
          if (d == null
              || d.view.state() == WorkOrderState.FAILED
              || d.view.state() == WorkOrderState.CANCELLED) {
            failed = true;
          } else if (!d.view.state().isTerminal()) {
            live = true;
          }
        }
        if (!live || (failed && cancelOnFailure)) {
          out.add(e.view);
        }
      }
      return Collections.unmodifiableList(out);
    }
  }

  @Override
  public List<WorkOrderId> dependents(WorkOrderId workOrderId) {
    Objects.requireNonNull(workOrderId, "workOrderId");
    synchronized (lock) {
      ensureOpen();
      return List.copyOf(dependents.getOrDefault(workOrderId, List.of()));
    }
  }

  @Override
  public boolean recordQueueAction(QueueAction action) {
    Objects.requireNonNull(action, "action");
    boolean resumed;
    synchronized (lock) {
      ensureOpen();
      boolean pause = action.kind() == QueueAction.Kind.PAUSE;
      if (paused.containsKey(action.queue()) == pause) {
        return false;
      }
      if (pause) {
        paused.put(action.queue(), action);
      } else {
        paused.remove(action.queue());
      }
      queueActions.add(action);
      resumed = !pause;
    }
    if (resumed) {
      listeners.fire(Set.of(action.queue()));
    }
    return true;
  }

  @Override
  public List<QueueAction> pausedQueues() {
    synchronized (lock) {
      ensureOpen();
      return List.copyOf(paused.values());
    }
  }

  @Override
  public List<QueueAction> queueActions(String queue, int limit) {
    requireLimit(limit);
    synchronized (lock) {
      ensureOpen();
      List<QueueAction> out = new ArrayList<>();
      for (int i = queueActions.size() - 1; i >= 0 && out.size() < limit; i--) {
        QueueAction a = queueActions.get(i);
        if (queue == null || queue.equals(a.queue())) {
          out.add(a);
        }
      }
      return Collections.unmodifiableList(out);
    }
  }

  @Override
  public List<BatchId> batchesEndedSince(Instant since, int limit) {
    Objects.requireNonNull(since, "since");
    requireLimit(limit);
    synchronized (lock) {
      ensureOpen();
      java.util.LinkedHashSet<BatchId> out = new java.util.LinkedHashSet<>();
      for (Entry e : terminal.tailMap(new TimeKey(since, Long.MIN_VALUE)).values()) {
        e.view.batch().ifPresent(out::add);
        if (out.size() == limit) {
          break;
        }
      }
      return List.copyOf(out);
    }
  }

  @Override
  public boolean markBatchEnded(BatchId batch, long members, Instant at) {
    Objects.requireNonNull(batch, "batch");
    Objects.requireNonNull(at, "at");
    synchronized (lock) {
      ensureOpen();
      return batchEnds.add(batch.value() + " " + members);
    }
  }

  @Override
  public Subscription subscribe(WorkAvailableListener listener) {
    ensureOpen();
    return listeners.add(listener);
  }

  @Override
  public RebuildReport rebuildProjection(RebuildMode mode) {
    Objects.requireNonNull(mode, "mode");
    synchronized (lock) {
      ensureOpen();
      List<ProjectionMismatch> mismatches = new ArrayList<>();
      long events = 0;
      List<Map.Entry<Entry, WorkOrder>> repairs = new ArrayList<>();
      for (Entry e : byId.values()) {
        RecordedEvent[] stream = e.events;
        events += stream.length;
        WorkOrder fromLog = WorkOrder.fold(List.of(stream));
        List<String> diffs = ProjectionDiff.differences(e.view, fromLog);
        if (!diffs.isEmpty()) {
          mismatches.add(new ProjectionMismatch(e.id, String.join("; ", diffs)));
          repairs.add(Map.entry(e, ProjectionDiff.repaired(e.view, fromLog)));
        }
      }
      boolean repair = mode == RebuildMode.REPAIR && !repairs.isEmpty();
      if (repair) {
        for (Map.Entry<Entry, WorkOrder> r : repairs) {
          Entry e = r.getKey();
          unindex(e, e.view);
          e.view = r.getValue();
          index(e, e.view);
        }
      }
      return new RebuildReport(byId.size(), events, mismatches, repair);
    }
  }

  /**
   * Replaces a work order's view without an event, to test {@link #rebuildProjection}: the only way
   * this store's projection can differ from its log.
   *
   * @param damaged the view to put in place of the current one, for the same work order and queue
   */
  void corruptForTesting(WorkOrder damaged) {
    synchronized (lock) {
      Entry e = byId.get(damaged.id());
      unindex(e, e.view);
      e.view = damaged;
      index(e, damaged);
    }
  }

  @Override
  public void close() {
    closed = true;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("the in-memory work-order store is closed");
    }
  }

  private static void requireLimit(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, got " + limit);
    }
  }

  @Override
  public String toString() {
    return "InMemoryWorkOrderStore[workOrders=" + byId.size() + "]";
  }
}
