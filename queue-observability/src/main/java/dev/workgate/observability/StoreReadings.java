package dev.workgate.observability;

import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.StoreView;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.observability.WorkgateMetrics.WorkgateMeter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the store-backed gauges report, read from the store at most once per TTL however many gauges
 * and scrapes ask: the counts by queue and state (one {@code counts()} call), the queues paused
 * (one {@code pausedQueues()} call) and the oldest pending work per queue (one small {@code query}
 * per queue with pending work). It needs the store and a clock only, so a binding over a store
 * without a node uses it as a node's does. A gauge read that finds the values older than the TTL
 * refreshes them on its own thread; the others wait for that refresh, then read.
 *
 * <p>A failing read keeps the last values (ages go on growing from the last known instants), is
 * tried again after another TTL, and is logged at WARN at most once a minute (DEBUG otherwise).
 * Nothing here throws to a gauge.
 *
 * <p>Queues are mapped to tag values through the binder's {@link BoundedTagValues}; queues past the
 * cap are summed into {@code other}. Tags seen for the first time are handed to a callback after
 * the refresh, outside the lock, so that the binder can register their gauges.
 *
 * <p>Thread-safe.
 */
final class StoreReadings {
  private static final Logger LOG = LoggerFactory.getLogger(StoreReadings.class);

  /**
   * How many of a queue's oldest-submitted PENDING work orders are read for its oldest wait. The
   * store returns them in submission order; the first one usually waited longest, but a delayed
   * ({@code notBefore}) or just-released retry can be first, so a few are read and the longest
   * claimable wait among them is taken.
   */
  static final int OLDEST_PENDING_SAMPLE = 10;

  /**
   * How many queues beyond the tag cap (reported as {@code other}) are read for the oldest wait,
   * those with the most pending work first: a bound on queries per refresh.
   */
  static final int OVERFLOW_QUEUES_READ = 10;

  /** The least time between two WARN lines about a failing store read. */
  static final Duration WARN_INTERVAL = Duration.ofMinutes(1);

  /**
   * Values as of one successful read, the counts keyed by queue tag rather than queue. Immutable.
   */
  record Values(
      QueueCounts countsByTag,
      Map<String, Instant> oldestAvailableByTag,
      long pendingRetries,
      Map<String, Long> pausedByTag,
      Instant readAt) {

    long count(String tag, WorkOrderState state) {
      return countsByTag.count(tag, state);
    }

    /** Paused queues under a tag: 0 or 1 for a queue of its own, any number for {@code other}. */
    long paused(String tag) {
      return pausedByTag.getOrDefault(tag, 0L);
    }

    double oldestPendingAgeSeconds(String tag, Instant now) {
      Instant oldest = oldestAvailableByTag.get(tag);
      return oldest == null ? 0 : secondsBetween(oldest, now);
    }
  }

  private final StoreView store;
  private final Clock clock;
  private final Duration ttl;
  private final BoundedTagValues queues;
  private final Consumer<Set<String>> onNewQueueTags;
  private final Object refreshLock = new Object();
  private final Set<String> announced = Collections.synchronizedSet(new HashSet<>());

  private volatile Values values;
  private volatile Instant lastAttempt;
  private Instant lastWarning; // guarded by refreshLock

  StoreReadings(
      StoreView store,
      Clock clock,
      Duration ttl,
      BoundedTagValues queues,
      Consumer<Set<String>> onNewQueueTags) {
    this.store = store;
    this.clock = clock;
    this.ttl = ttl;
    this.queues = queues;
    this.onNewQueueTags = onNewQueueTags;
    this.values = new Values(QueueCounts.empty(), Map.of(), 0, Map.of(), clock.instant());
  }

  /**
   * The values, refreshed first if older than the TTL.
   *
   * @return the latest successful reading (or an empty one from construction time)
   */
  Values values() {
    refreshIfStale();
    return values;
  }

  /** Seconds since the store was last read successfully (or since this object was made). */
  double ageSeconds() {
    return secondsBetween(values().readAt(), clock.instant());
  }

  private void refreshIfStale() {
    if (!isStale(clock.instant())) {
      return;
    }
    Set<String> fresh;
    synchronized (refreshLock) {
      Instant now = clock.instant();
      if (!isStale(now)) {
        return;
      }
      lastAttempt = now;
      fresh = readStore(now);
    }
    if (!fresh.isEmpty()) {
      onNewQueueTags.accept(fresh);
    }
  }

  private boolean isStale(Instant now) {
    Instant last = lastAttempt;
    if (last == null) {
      return true;
    }
    Duration elapsed = Duration.between(last, now);
    return elapsed.isNegative() || elapsed.compareTo(ttl) >= 0;
  }

  /** Reads counts and oldest pending work; returns the queue tags seen for the first time. */
  private Set<String> readStore(Instant now) {
    QueueCounts counts;
    List<QueueAction> paused;
    Map<String, Instant> oldest = new HashMap<>();
    try {
      counts = store.counts();
      paused = store.pausedQueues();
      List<Map.Entry<String, Long>> overflow = new ArrayList<>();
      for (String queue : counts.queues()) {
        long pending = counts.count(queue, WorkOrderState.PENDING);
        if (pending == 0) {
          continue;
        }
        String tag = queues.tag(queue);
        if (tag.equals(WorkgateMeter.Tags.OTHER) && !queues.isAdmitted(queue)) {
          overflow.add(Map.entry(queue, pending));
        } else {
          oldestWaiting(queue, now).ifPresent(t -> oldest.merge(tag, t, StoreReadings::min));
        }
      }
      overflow.sort(Map.Entry.<String, Long>comparingByValue().reversed());
      for (Map.Entry<String, Long> q :
          overflow.subList(0, Math.min(OVERFLOW_QUEUES_READ, overflow.size()))) {
        oldestWaiting(q.getKey(), now)
            .ifPresent(t -> oldest.merge(WorkgateMeter.Tags.OTHER, t, StoreReadings::min));
      }
    } catch (RuntimeException e) {
      failed("the store", e, now);
      return Set.of();
    }
    QueueCounts.Builder byTag = QueueCounts.builder();
    for (String queue : counts.queues()) {
      String tag = queues.tag(queue);
      counts.byState(queue).forEach((state, n) -> byTag.add(tag, state, n));
    }
    QueueCounts countsByTag = byTag.build();
    Map<String, Long> pausedByTag = new HashMap<>();
    for (QueueAction pause : paused) {
      pausedByTag.merge(queues.tag(pause.queue()), 1L, Long::sum);
    }
    values =
        new Values(
            countsByTag,
            Map.copyOf(oldest),
            counts.count(WorkOrderState.WAITING_RETRY),
            Map.copyOf(pausedByTag),
            now);
    Set<String> fresh = new HashSet<>();
    for (String tag : countsByTag.queues()) {
      if (announced.add(tag)) {
        fresh.add(tag);
      }
    }
    for (String tag : pausedByTag.keySet()) {
      if (announced.add(tag)) {
        fresh.add(tag); // a paused queue without work orders has its gauges too
      }
    }
    return fresh;
  }

  /** The earliest availability among a queue's first pending work orders that are claimable now. */
  private Optional<Instant> oldestWaiting(String queue, Instant now) {
    WorkOrderQuery query =
        WorkOrderQuery.builder()
            .queue(queue)
            .states(WorkOrderState.PENDING)
            .limit(OLDEST_PENDING_SAMPLE)
            .build();
    Instant oldest = null;
    for (WorkOrderView v : store.query(query).items()) {
      Instant available = v.availableAt();
      if (!available.isAfter(now) && (oldest == null || available.isBefore(oldest))) {
        oldest = available;
      }
    }
    return Optional.ofNullable(oldest);
  }

  private void failed(String what, RuntimeException e, Instant now) {
    if (lastWarning == null
        || now.isBefore(lastWarning)
        || Duration.between(lastWarning, now).compareTo(WARN_INTERVAL) >= 0) {
      lastWarning = now;
      LOG.warn(
          "reading {} for metrics failed; the gauges keep their last values (next warning in a"
              + " minute at the earliest)",
          what,
          e);
    } else {
      LOG.debug("reading {} for metrics failed again", what, e);
    }
  }

  private static Instant min(Instant a, Instant b) {
    return b.isBefore(a) ? b : a;
  }

  static double secondsBetween(Instant from, Instant to) {
    Duration d = Duration.between(from, to);
    return d.isNegative() ? 0 : d.getSeconds() + d.getNano() / 1e9;
  }
}
