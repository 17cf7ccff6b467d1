package dev.workgate.observability;

import dev.workgate.NodeView;
import dev.workgate.NodeView.WriteFailureCause;
import dev.workgate.TransitionListener.StateChange;
import dev.workgate.Workgate;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.Subscription;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.internal.Text;
import dev.workgate.core.store.StoreView;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.DoubleSummaryStatistics;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleSupplier;

/**
 * Binds a {@link Workgate} node's meters to a Micrometer registry: counters and timers fed by the
 * node's {@link Workgate#onTransition transition listener}, gauges of its slots, pressure,
 * executions and scheduler, and store-backed gauges of work orders by queue and state. {@link
 * WorkgateMeter} lists every meter; {@code docs/metrics.md} explains them and gives alert rules.
 *
 * <pre>{@code
 * PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
 * WorkgateMetrics metrics = new WorkgateMetrics(workgate);
 * metrics.bindTo(registry);
 * ...
 * metrics.close(); // before closing the Workgate: stops listening, removes the meters
 * }</pre>
 *
 * <p><b>Binding.</b> An instance binds to one registry, once; to publish to several, bind it to a
 * {@link io.micrometer.core.instrument.composite.CompositeMeterRegistry}. Counters and timers count
 * what happens after {@link #bindTo}; gauges read current values.
 *
 * <p><b>Closing.</b> {@link #close()} removes the transition listener subscription, so the node no
 * longer calls this binder, and removes every meter this binder registered from the registry (the
 * gauges would otherwise go on reading a node that may be closed). Idempotent. The Workgate is not
 * closed. Nothing is counted after {@code close()} returns, except that an event being recorded on
 * another thread at that moment may still move a meter that has just been removed.
 *
 * <p><b>Bounded tags.</b> Queue names and error codes come from users: each tag keeps its first
 * {@link Builder#maxQueueTags(int) maxQueueTags} (default {@value #DEFAULT_MAX_QUEUE_TAGS}) and
 * {@link Builder#maxErrorCodeTags(int) maxErrorCodeTags} (default {@value
 * #DEFAULT_MAX_ERROR_CODE_TAGS}) distinct values, first seen first kept, and reports every later
 * one as {@code other}; Workgate's own error codes ({@code ErrorCodes}) always keep their own
 * value, outside the cap. Work-order ids never become tags.
 *
 * <p><b>Store-backed gauges.</b> {@link WorkgateMeter#WORK_ORDERS}, {@link
 * WorkgateMeter#WORK_ORDERS_OLDEST_PENDING_AGE}, {@link WorkgateMeter#QUEUE_PAUSED} and {@link
 * WorkgateMeter#RETRIES_PENDING} are read from one snapshot, refreshed at most once per {@link
 * Builder#storeCacheTtl(Duration)} (default 1 s, by the Workgate's clock) however many meters and
 * scrapes ask. A refresh makes one {@code counts()} call, one {@code pausedQueues()} call and one
 * small {@code query} per queue with PENDING work. A failing read keeps the last values and logs at
 * WARN at most once a minute; a gauge never throws. {@link WorkgateMeter#STORE_READINGS_AGE} tells
 * how old the values are. Queues that first appear in the store later (submitted by other nodes, or
 * paused) get their gauges at the first refresh that sees them.
 *
 * <p><b>Progress.</b> {@link WorkgateMeter#EXECUTIONS_PROGRESS} and {@link
 * WorkgateMeter#EXECUTIONS_PROGRESS_REPORTING} read the node's executions in memory ({@link
 * NodeView.ActiveExecution#progress()}), per queue the node serves: the progress running work last
 * reported, before a lease renewal writes it to the store. The mean is {@code NaN} while no running
 * execution of the queue has reported, as Micrometer reports a value it does not have.
 *
 * <p><b>Over a store alone.</b> {@link #ofStore(StoreView, Clock)} binds, without a node, the
 * meters whose {@link WorkgateMeter#source() source} is {@link WorkgateMeter.Source#STORE}: the
 * store-backed gauges above and the age of their readings. Nothing else is registered, neither
 * zeros for the node's meters nor counters that nothing would move.
 *
 * <p><b>Oldest pending age.</b> The store lists work orders in submission order, so for each queue
 * the first ten PENDING work orders are read and the longest wait among those already claimable
 * ({@code now - availableAt}) is reported: the wait of the oldest-submitted pending work, which is
 * what a "queue is stuck" alert needs. A work order submitted after those ten that became claimable
 * before all of them (the ten are delayed or released retries) is missed. Queues past the tag cap
 * report under {@code other}, from the ten of them with the most pending work.
 *
 * <p>Thread-safe: every method may be called from any thread; the listener may be called from many
 * threads at once.
 */
public final class WorkgateMetrics implements MeterBinder, AutoCloseable {

  /** How long store-backed values are reused: short next to any scrape interval. */
  public static final Duration DEFAULT_STORE_CACHE_TTL = Duration.ofSeconds(1);

  /**
   * Distinct queue tag values: enough for any deployment that names queues by kind of work, few
   * enough that a bug naming queues by id cannot blow up the series count.
   */
  public static final int DEFAULT_MAX_QUEUE_TAGS = 100;

  /**
   * Distinct error-code tag values: Workgate's own ten codes leave room for forty of the host's.
   */
  public static final int DEFAULT_MAX_ERROR_CODE_TAGS = 50;

  /** The smallest duration the timers' histograms resolve. */
  static final Duration HISTOGRAM_MIN = Duration.ofMillis(10);

  /** The largest bucket of the wait and execution histograms: the default attempt timeout. */
  static final Duration HISTOGRAM_MAX = Duration.ofHours(1);

  /** The largest bucket of the end-to-end histogram, which spans retries and their delays. */
  static final Duration END_TO_END_HISTOGRAM_MAX = Duration.ofHours(6);

  /** Remembered start times are pruned past this many per slot (or {@link #MIN_STARTS_BOUND}). */
  static final int STARTS_PER_SLOT = 4;

  /** The least number of remembered start times before pruning. */
  static final int MIN_STARTS_BOUND = 64;

  private final Workgate workgate; // null over a store alone
  private final StoreView store;
  private final Clock clock;
  private final Duration storeCacheTtl;
  private final BoundedTagValues queues;
  private final BoundedTagValues errorCodes;
  private final StoreReadings readings;
  private final Object lock = new Object();
  private final Map<MeterKey, Meter> meters = new ConcurrentHashMap<>();
  private final Map<WorkOrderId, Start> starts = new ConcurrentHashMap<>();
  private final int startsBound;

  private volatile MeterRegistry registry; // set once, under lock
  private volatile boolean closed; // set under lock
  private Subscription subscription; // guarded by lock

  /**
   * A binder with the defaults.
   *
   * @param workgate the node to observe
   */
  public WorkgateMetrics(Workgate workgate) {
    this(builder(workgate));
  }

  private WorkgateMetrics(Builder b) {
    this.workgate = b.workgate;
    this.store = b.store;
    this.clock = b.clock;
    this.storeCacheTtl = b.storeCacheTtl;
    this.queues = new BoundedTagValues(b.maxQueueTags);
    this.errorCodes = new BoundedTagValues(b.maxErrorCodeTags, ENGINE_ERROR_CODES);
    this.readings = new StoreReadings(b.store, clock, storeCacheTtl, queues, this::queueTagsSeen);
    this.startsBound =
        workgate == null
            ? MIN_STARTS_BOUND
            : Math.max(MIN_STARTS_BOUND, STARTS_PER_SLOT * workgate.node().maxSlots());
  }

  /**
   * A binder of the store-backed meters of a store, without a node: work orders by queue and state,
   * the oldest pending wait per queue, the pending retries and the age of these readings (the
   * meters whose {@link WorkgateMeter#source()} is {@link WorkgateMeter.Source#STORE}). For an
   * operator's view of a store that no node in this process serves. The store is not closed by
   * {@link #close()}.
   *
   * @param store the store to read
   * @param clock the clock ages are computed by, and by which the readings expire
   * @return a binder with the default {@link Builder#storeCacheTtl(Duration) cache TTL} and {@link
   *     Builder#maxQueueTags(int) queue tag cap}
   * @throws NullPointerException if an argument is null
   */
  public static WorkgateMetrics ofStore(StoreView store, Clock clock) {
    return new WorkgateMetrics(
        new Builder(
            null,
            Objects.requireNonNull(store, "store must not be null"),
            Objects.requireNonNull(clock, "clock must not be null")));
  }

  /**
   * A builder for a binder with other settings.
   *
   * @param workgate the node to observe
   * @return a new builder
   */
  public static Builder builder(Workgate workgate) {
    Objects.requireNonNull(workgate, "workgate must not be null");
    return new Builder(workgate, workgate.store(), workgate.clock());
  }

  /**
   * Registers every meter with the registry and starts listening to the node's transitions.
   *
   * @param registry the registry
   * @throws IllegalStateException if this binder is already bound or closed
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("WorkgateMetrics is closed");
      }
      if (this.registry != null) {
        throw new IllegalStateException(
            "WorkgateMetrics is already bound to a registry; bind it to a CompositeMeterRegistry"
                + " to publish to several");
      }
      this.registry = registry;
      registerStoreMeters();
      if (workgate != null) {
        registerNodeMeters();
        for (String queue : workgate.node().queues()) {
          String tag = queues.tag(queue);
          registerQueueMeters(tag);
          registerProgressMeters(tag);
        }
        subscription = workgate.onTransition(this::record);
      }
    }
    readings.values(); // registers the gauges of the queues the store has now
  }

  /** Stops listening to the node and removes this binder's meters from the registry. Idempotent. */
  @Override
  public void close() {
    List<Meter> bound;
    MeterRegistry from;
    Subscription listening;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      listening = subscription;
      subscription = null;
      from = registry;
      bound = new ArrayList<>(meters.values());
      meters.clear();
    }
    if (listening != null) {
      listening.close();
    }
    if (from != null) {
      bound.forEach(from::remove);
    }
    starts.clear();
  }

  /** The meters of the whole store that have no queue tag. */
  private void registerStoreMeters() {
    gauge(WorkgateMeter.RETRIES_PENDING, () -> readings.values().pendingRetries());
    gauge(WorkgateMeter.STORE_READINGS_AGE, readings::ageSeconds);
    StoreView s = store;
    register(
        new MeterKey(WorkgateMeter.STORE_ROWS_QUARANTINED, List.of()),
        r ->
            FunctionCounter.builder(
                    WorkgateMeter.STORE_ROWS_QUARANTINED.meterName(), s, StoreView::quarantinedRows)
                .description(WorkgateMeter.STORE_ROWS_QUARANTINED.description())
                .register(r));
  }

  private void registerNodeMeters() {
    Workgate w = workgate;
    NodeView n = w.node();
    gauge(WorkgateMeter.SLOTS_ACTIVE, n::slotsInUse);
    gauge(WorkgateMeter.SLOTS_MAX, n::maxSlots);
    gauge(WorkgateMeter.MEMORY_PRESSURE, () -> n.pressure().ordinal());
    gauge(WorkgateMeter.SCHEDULER_HEARTBEAT_AGE, () -> heartbeatAgeSeconds(n, w.clock()));
    gauge(WorkgateMeter.WORK_ORDERS_UNRUNNABLE, () -> n.unrunnableWork().count());
    gauge(WorkgateMeter.EXECUTIONS_ABANDONED, () -> n.abandonedHandlers().size());
    gauge(
        WorkgateMeter.EXECUTIONS_PREPARING_OLDEST_AGE, () -> oldestPreparingSeconds(n, w.clock()));
    for (NodeView.ExecutionStatus status : NodeView.ExecutionStatus.values()) {
      gauge(WorkgateMeter.EXECUTIONS_ACTIVE, () -> countExecutions(n, status), status.name());
    }
    register(
        new MeterKey(WorkgateMeter.SCHEDULER_LEASES_REAPED, List.of()),
        r ->
            FunctionCounter.builder(
                    WorkgateMeter.SCHEDULER_LEASES_REAPED.meterName(), n, NodeView::reapedCount)
                .description(WorkgateMeter.SCHEDULER_LEASES_REAPED.description())
                .register(r));
    register(
        new MeterKey(WorkgateMeter.SCHEDULER_TURN_STEP_FAILURES, List.of()),
        r ->
            FunctionCounter.builder(
                    WorkgateMeter.SCHEDULER_TURN_STEP_FAILURES.meterName(),
                    n,
                    NodeView::stepFailureCount)
                .description(WorkgateMeter.SCHEDULER_TURN_STEP_FAILURES.description())
                .register(r));
    for (WriteFailureCause cause : WriteFailureCause.values()) {
      WorkgateMeter m = WorkgateMeter.STORE_WRITE_FAILURES;
      MeterKey key = new MeterKey(m, List.of(cause.tagValue()));
      register(
          key,
          r ->
              FunctionCounter.builder(
                      m.meterName(), w, node -> node.storeWrites().failuresByCause().get(cause))
                  .description(m.description())
                  .tags(tags(m, key.tagValues()))
                  .register(r));
    }
    gauge(
        WorkgateMeter.STORE_WRITE_FAILURES_CONSECUTIVE,
        () -> w.storeWrites().consecutiveFailures());
  }

  /** Seconds since the loop last began a turn (0 before the first), read without the store. */
  /** The error codes Workgate itself writes: each keeps its tag value outside the cap. */
  private static final java.util.Set<String> ENGINE_ERROR_CODES =
      java.util.stream.Stream.concat(
              ErrorCodes.RETRYABLE_BY_DEFAULT.stream(), ErrorCodes.FATAL_BY_DEFAULT.stream())
          .collect(java.util.stream.Collectors.toUnmodifiableSet());

  private static double heartbeatAgeSeconds(NodeView n, Clock clock) {
    return n.lastHeartbeat()
        .map(beat -> Duration.between(beat, clock.instant()))
        .map(d -> d.isNegative() ? 0.0 : d.getSeconds() + d.getNano() / 1e9)
        .orElse(0.0);
  }

  /** Called by the store readings with queue tags seen in the store for the first time. */
  private void queueTagsSeen(Set<String> tags) {
    for (String tag : tags) {
      registerQueueMeters(tag);
    }
  }

  /** The meters of a queue that exist before anything happens to it, so rates start at zero. */
  private void registerQueueMeters(String queueTag) {
    for (WorkOrderState state : WorkOrderState.values()) {
      gauge(
          WorkgateMeter.WORK_ORDERS,
          () -> readings.values().count(queueTag, state),
          queueTag,
          state.name());
    }
    gauge(
        WorkgateMeter.WORK_ORDERS_OLDEST_PENDING_AGE,
        () -> readings.values().oldestPendingAgeSeconds(queueTag, clock.instant()),
        queueTag);
    gauge(WorkgateMeter.QUEUE_PAUSED, () -> readings.values().paused(queueTag), queueTag);
    if (workgate == null) {
      return; // over a store alone: no events are heard, so no counters
    }
    counter(WorkgateMeter.WORK_ORDERS_SUBMITTED, queueTag);
    counter(WorkgateMeter.WORK_ORDERS_COMPLETED, queueTag);
    counter(WorkgateMeter.WORK_ORDERS_CANCELLED, queueTag);
    counter(WorkgateMeter.RETRIES_RELEASED, queueTag);
    counter(WorkgateMeter.CHECKPOINTS_RECORDED, queueTag);
    counter(WorkgateMeter.DEPENDENCIES_DECIDED, queueTag, WorkgateMeter.Tags.MET);
    counter(WorkgateMeter.DEPENDENCIES_DECIDED, queueTag, WorkgateMeter.Tags.FAILED);
    for (String code :
        List.of(ErrorCodes.NODE_SHUTDOWN, ErrorCodes.LEASE_EXPIRED, ErrorCodes.LEASE_NOT_RENEWED)) {
      counter(WorkgateMeter.ATTEMPTS_RELEASED, queueTag, errorCodes.tag(code));
    }
  }

  /**
   * Records one stored event. Package-private so that tests can feed changes directly.
   *
   * @param c the change
   */
  void record(StateChange c) {
    if (closed || registry == null) {
      return;
    }
    String queue = queues.tag(c.queue());
    if (c.changesState()) {
      increment(
          WorkgateMeter.WORK_ORDERS_TRANSITIONS,
          c.from().map(Enum::name).orElse(WorkgateMeter.Tags.NEW),
          c.to().name());
    }
    switch (c.type()) {
      case SUBMITTED:
        increment(WorkgateMeter.WORK_ORDERS_SUBMITTED, queue);
        break;
      case CLAIMED:
        time(WorkgateMeter.WORK_ORDERS_WAIT, c.sinceAvailable(), queue);
        break;
      case STARTED:
        started(c);
        break;
      case COMPLETED:
        increment(WorkgateMeter.WORK_ORDERS_COMPLETED, queue);
        executionEnded(c, queue, WorkgateMeter.Tags.COMPLETED);
        time(
            WorkgateMeter.WORK_ORDERS_END_TO_END,
            c.sinceSubmitted(),
            queue,
            WorkgateMeter.Tags.COMPLETED);
        break;
      case ATTEMPT_FAILED:
        attemptFailed(c, queue);
        break;
      case RETRY_RELEASED:
        increment(WorkgateMeter.RETRIES_RELEASED, queue);
        break;
      case RELEASED:
        increment(
            WorkgateMeter.ATTEMPTS_RELEASED,
            queue,
            errorCodes.tag(((WorkOrderEvent.Released) c.event().event()).code()));
        starts.remove(c.workOrderId()); // its execution ended here, with no outcome to time
        break;
      case CANCELLED:
        increment(WorkgateMeter.WORK_ORDERS_CANCELLED, queue);
        executionEnded(c, queue, WorkgateMeter.Tags.CANCELLED);
        time(
            WorkgateMeter.WORK_ORDERS_END_TO_END,
            c.sinceSubmitted(),
            queue,
            WorkgateMeter.Tags.CANCELLED);
        break;
      case CANCELLATION_REQUESTED:
        break; // no state change, nothing to measure
      case CHECKPOINTED:
        increment(WorkgateMeter.CHECKPOINTS_RECORDED, queue);
        break;
      case DEPENDENCIES_MET:
        increment(WorkgateMeter.DEPENDENCIES_DECIDED, queue, WorkgateMeter.Tags.MET);
        break;
      case DEPENDENCY_FAILED:
        // The work order ends CANCELLED without having run: a cancellation, as the state gauges
        // and the end-to-end timer count it, besides the decision.
        increment(WorkgateMeter.DEPENDENCIES_DECIDED, queue, WorkgateMeter.Tags.FAILED);
        increment(WorkgateMeter.WORK_ORDERS_CANCELLED, queue);
        time(
            WorkgateMeter.WORK_ORDERS_END_TO_END,
            c.sinceSubmitted(),
            queue,
            WorkgateMeter.Tags.CANCELLED);
        break;
    }
  }

  /**
   * The progress gauges of a queue the node serves: its running executions that reported progress
   * and their mean fraction. Read from the node's memory at each scrape.
   */
  private void registerProgressMeters(String queueTag) {
    NodeView n = workgate.node();
    gauge(
        WorkgateMeter.EXECUTIONS_PROGRESS_REPORTING,
        () -> progressOf(n, queueTag).getCount(),
        queueTag);
    gauge(
        WorkgateMeter.EXECUTIONS_PROGRESS,
        () -> {
          DoubleSummaryStatistics reported = progressOf(n, queueTag);
          return reported.getCount() == 0 ? Double.NaN : reported.getAverage();
        },
        queueTag);
  }

  /** The fractions last reported by the node's running executions of the queues under a tag. */
  private DoubleSummaryStatistics progressOf(NodeView node, String queueTag) {
    DoubleSummaryStatistics stats = new DoubleSummaryStatistics();
    for (NodeView.ActiveExecution e : node.activeExecutions()) {
      if (e.status() == NodeView.ExecutionStatus.RUNNING
          && e.progress().isPresent()
          && queueTag.equals(queues.isAdmitted(e.queue()) ? e.queue() : WorkgateMeter.Tags.OTHER)) {
        stats.accept(e.progress().get().fraction());
      }
    }
    return stats;
  }

  private void attemptFailed(StateChange c, String queue) {
    WorkOrderEvent.AttemptFailed failed = (WorkOrderEvent.AttemptFailed) c.event().event();
    String code = errorCodes.tag(failed.error().code());
    boolean retry = failed.retryAt() != null;
    increment(
        WorkgateMeter.ATTEMPTS_FAILED,
        queue,
        code,
        retry ? WorkgateMeter.Tags.RETRY : WorkgateMeter.Tags.FINAL);
    executionEnded(c, queue, retry ? WorkgateMeter.Tags.RETRY : WorkgateMeter.Tags.FAILED);
    if (!retry) {
      increment(WorkgateMeter.WORK_ORDERS_FAILED, queue, code);
      time(
          WorkgateMeter.WORK_ORDERS_END_TO_END,
          c.sinceSubmitted(),
          queue,
          WorkgateMeter.Tags.FAILED);
    }
  }

  /** A start time is kept until its attempt's outcome; see {@link #pruneStarts()}. */
  private record Start(Instant at, int attempt) {}

  private void started(StateChange c) {
    starts.put(c.workOrderId(), new Start(c.at(), c.attempt()));
    if (starts.size() > startsBound) {
      pruneStarts();
    }
  }

  /**
   * Drops start times of work orders that no longer execute on this node: their outcome was stored
   * elsewhere (a reaper on another node) or heard before the start. Runs only when the map has
   * grown past a few times the slot count, so its cost is spread over many starts.
   */
  private void pruneStarts() {
    Set<WorkOrderId> executing = new HashSet<>();
    for (NodeView.ActiveExecution e : workgate.node().activeExecutions()) {
      executing.add(e.workOrderId());
    }
    starts.keySet().retainAll(executing);
  }

  /** The remembered start count, for tests of the bound. */
  int rememberedStarts() {
    return starts.size();
  }

  private void executionEnded(StateChange c, String queue, String outcome) {
    Start start = starts.remove(c.workOrderId());
    if (start != null && start.attempt() == c.attempt()) {
      Duration ran = Duration.between(start.at(), c.at());
      time(
          WorkgateMeter.WORK_ORDERS_EXECUTION,
          ran.isNegative() ? Duration.ZERO : ran,
          queue,
          outcome);
    }
  }

  private static double countExecutions(NodeView node, NodeView.ExecutionStatus status) {
    int n = 0;
    for (NodeView.ActiveExecution e : node.activeExecutions()) {
      if (e.status() == status) {
        n++;
      }
    }
    return n;
  }

  private static double oldestPreparingSeconds(NodeView node, Clock clock) {
    Instant oldest = null;
    for (NodeView.ActiveExecution e : node.activeExecutions()) {
      if (e.status() == NodeView.ExecutionStatus.PREPARING
          && (oldest == null || e.claimedAt().isBefore(oldest))) {
        oldest = e.claimedAt();
      }
    }
    return oldest == null ? 0 : StoreReadings.secondsBetween(oldest, clock.instant());
  }

  // ---- meter registration: cached by meter and tag values, created once under the lock ----

  /** A meter and its tag values, in the order of {@link WorkgateMeter#tagKeys()}. */
  private record MeterKey(WorkgateMeter meter, List<String> tagValues) {}

  private interface Registration {
    Meter register(MeterRegistry registry);
  }

  private Meter register(MeterKey key, Registration registration) {
    Meter meter = meters.get(key);
    if (meter != null) {
      return meter;
    }
    synchronized (lock) {
      MeterRegistry r = registry;
      if (closed || r == null) {
        return null;
      }
      meter = meters.get(key);
      if (meter == null) {
        meter = registration.register(r);
        meters.put(key, meter);
      }
      return meter;
    }
  }

  private static List<Tag> tags(WorkgateMeter meter, List<String> values) {
    List<String> keys = meter.tagKeys();
    if (keys.size() != values.size()) {
      throw new IllegalArgumentException(
          meter + " takes tags " + keys + ", got " + values.size() + " values");
    }
    List<Tag> tags = new ArrayList<>(keys.size());
    for (int i = 0; i < keys.size(); i++) {
      tags.add(Tag.of(keys.get(i), values.get(i)));
    }
    return tags;
  }

  private void gauge(WorkgateMeter m, DoubleSupplier value, String... tagValues) {
    MeterKey key = new MeterKey(m, List.of(tagValues));
    register(
        key,
        r ->
            Gauge.builder(m.meterName(), value, DoubleSupplier::getAsDouble)
                .description(m.description())
                .baseUnit(m.baseUnit())
                .tags(tags(m, key.tagValues()))
                .strongReference(true)
                .register(r));
  }

  private Counter counter(WorkgateMeter m, String... tagValues) {
    MeterKey key = new MeterKey(m, List.of(tagValues));
    return (Counter)
        register(
            key,
            r ->
                Counter.builder(m.meterName())
                    .description(m.description())
                    .tags(tags(m, key.tagValues()))
                    .register(r));
  }

  private void increment(WorkgateMeter m, String... tagValues) {
    Counter c = counter(m, tagValues);
    if (c != null) {
      c.increment();
    }
  }

  private void time(WorkgateMeter m, Duration d, String... tagValues) {
    MeterKey key = new MeterKey(m, List.of(tagValues));
    Timer t =
        (Timer)
            register(
                key,
                r ->
                    Timer.builder(m.meterName())
                        .description(m.description())
                        .tags(tags(m, key.tagValues()))
                        .publishPercentileHistogram()
                        .minimumExpectedValue(HISTOGRAM_MIN)
                        .maximumExpectedValue(
                            m == WorkgateMeter.WORK_ORDERS_END_TO_END
                                ? END_TO_END_HISTOGRAM_MAX
                                : HISTOGRAM_MAX)
                        .register(r));
    if (t != null) {
      t.record(d);
    }
  }

  /** Settings of a {@link WorkgateMetrics}. Not thread-safe; the binder it builds is. */
  public static final class Builder {
    private final Workgate workgate;
    private final StoreView store;
    private final Clock clock;
    private Duration storeCacheTtl = DEFAULT_STORE_CACHE_TTL;
    private int maxQueueTags = DEFAULT_MAX_QUEUE_TAGS;
    private int maxErrorCodeTags = DEFAULT_MAX_ERROR_CODE_TAGS;

    private Builder(Workgate workgate, StoreView store, Clock clock) {
      this.workgate = workgate;
      this.store = store;
      this.clock = clock;
    }

    /**
     * How long values read from the store are reused. Zero reads the store on every gauge read (for
     * tests; never in production, where a scrape reads hundreds of gauges).
     *
     * @param ttl zero or positive; default {@link WorkgateMetrics#DEFAULT_STORE_CACHE_TTL}
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder storeCacheTtl(Duration ttl) {
      Objects.requireNonNull(ttl, "storeCacheTtl must not be null");
      if (ttl.isNegative()) {
        throw new IllegalArgumentException(
            "storeCacheTtl must not be negative, got " + Text.duration(ttl));
      }
      this.storeCacheTtl = ttl;
      return this;
    }

    /**
     * The most distinct {@code queue} tag values; later queues are tagged {@code other}.
     *
     * @param max at least 1; default {@value WorkgateMetrics#DEFAULT_MAX_QUEUE_TAGS}
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public Builder maxQueueTags(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxQueueTags must be at least 1, got " + max);
      }
      this.maxQueueTags = max;
      return this;
    }

    /**
     * The most distinct {@code error.code} tag values; later codes are tagged {@code other}.
     *
     * @param max at least 1; default {@value WorkgateMetrics#DEFAULT_MAX_ERROR_CODE_TAGS}
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public Builder maxErrorCodeTags(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxErrorCodeTags must be at least 1, got " + max);
      }
      this.maxErrorCodeTags = max;
      return this;
    }

    /**
     * Builds the binder; call {@link WorkgateMetrics#bindTo} to register its meters.
     *
     * @return the binder
     */
    public WorkgateMetrics build() {
      return new WorkgateMetrics(this);
    }
  }

  /**
   * Every meter {@link WorkgateMetrics} registers: its name, type, base unit, tag keys, description
   * and source, in one place. {@code docs/metrics.md} lists the same table, and a test keeps the
   * two equal.
   *
   * <p>Names are dot.case, noun then measurement, as Micrometer wants them; each registry renders
   * them in its own convention ({@link #prometheusName()} is the Prometheus rendering). Durations
   * are in seconds. Tags are few and bounded: user-chosen values ({@code queue}, {@code
   * error.code}) are capped per {@link WorkgateMetrics} instance, the rest are fixed sets (see
   * {@link Tags}).
   *
   * <p>Counters and timers count what <em>this node</em> stores (its submissions, claims,
   * executions and the cancellations and retry releases it appends); gauges marked "store" read the
   * whole store, so in a cluster every node reports the same values for them.
   *
   * <p>{@link #source()} says what a meter needs: {@link Source#NODE} meters read a running node
   * (its events or its memory), {@link Source#STORE} meters read the store alone. A binding over a
   * store without a node ({@link WorkgateMetrics#ofStore}) registers exactly the {@link
   * Source#STORE} ones.
   *
   * <p>Immutable and thread-safe.
   */
  public enum WorkgateMeter {
    /** Work orders submitted through this node, by queue. */
    WORK_ORDERS_SUBMITTED(
        "workgate.work.orders.submitted",
        Type.COUNTER,
        null,
        List.of(Tags.QUEUE),
        "Work orders submitted through this node",
        Source.NODE),

    /**
     * State changes this node stored, by the state before ({@code NEW} for a submission) and after.
     * Events that change no state ({@code CancellationRequested}) are not counted.
     */
    WORK_ORDERS_TRANSITIONS(
        "workgate.work.orders.transitions",
        Type.COUNTER,
        null,
        List.of(Tags.FROM, Tags.TO),
        "State changes this node stored; from is NEW for a submission",
        Source.NODE),

    /** Work orders this node completed, by queue. */
    WORK_ORDERS_COMPLETED(
        "workgate.work.orders.completed",
        Type.COUNTER,
        null,
        List.of(Tags.QUEUE),
        "Work orders completed on this node",
        Source.NODE),

    /**
     * Work orders that failed for good on this node, by queue and the last attempt's error code.
     */
    WORK_ORDERS_FAILED(
        "workgate.work.orders.failed",
        Type.COUNTER,
        null,
        List.of(Tags.QUEUE, Tags.ERROR_CODE),
        "Work orders that failed for good on this node, by the final attempt's error code",
        Source.NODE),

    /**
     * Every failed attempt this node recorded, by queue, error code and outcome: {@code retry} when
     * another attempt is scheduled, {@code final} when the work order failed for good.
     */
    ATTEMPTS_FAILED(
        "workgate.attempts.failed",
        Type.COUNTER,
        null,
        List.of(Tags.QUEUE, Tags.ERROR_CODE, Tags.OUTCOME),
        "Failed attempts recorded on this node; outcome retry or final",
        Source.NODE),

    /** Work orders this node released from WAITING_RETRY back to PENDING, by queue. */
    RETRIES_RELEASED(
        "workgate.retries.released",
        Type.COUNTER,
        null,
        List.of(Tags.QUEUE),
        "Retries released to PENDING by this node",
        Source.NODE),

    /**
     * Attempts this node gave back without charging them ({@code Released}): its own work stopped
     * by a shutdown past the grace or by self-fencing, and leases of dead nodes it reaped; by queue
     * and the release's code.
     */
    ATTEMPTS_RELEASED(
        "workgate.attempts.released",
        Type.COUNTER,
        null,
        List.of(Tags.QUEUE, Tags.ERROR_CODE),
        "Attempts released back to PENDING by this node without being charged, by release code",
        Source.NODE),

    /**
     * Pending work orders that no live node could ever run (more slots or memory than any node
     * offers), as this node's last heartbeat found them among the oldest of each queue it serves.
     */
    WORK_ORDERS_UNRUNNABLE(
        "workgate.work.orders.unrunnable",
        Type.GAUGE,
        null,
        List.of(),
        "Pending work orders no live node could ever run, found by this node's last heartbeat",
        Source.NODE),

    /**
     * In-process handlers that ignored being stopped and still run on this node, each holding its
     * slots until its thread ends (or the abandoned-handler slot cap passes).
     */
    EXECUTIONS_ABANDONED(
        "workgate.executions.abandoned",
        Type.GAUGE,
        null,
        List.of(),
        "In-process handlers that ignored being stopped and still run, holding their slots",
        Source.NODE),

    /** Work orders cancelled by this node (waiting ones, and executions it owned), by queue. */
    WORK_ORDERS_CANCELLED(
        "workgate.work.orders.cancelled",
        Type.COUNTER,
        null,
        List.of(Tags.QUEUE),
        "Work orders cancelled on this node",
        Source.NODE),

    /**
     * Expired leases this node's scheduler reaped: attempts presumed dead because their owner
     * stopped renewing them (a crashed or partitioned node).
     */
    SCHEDULER_LEASES_REAPED(
        "workgate.scheduler.leases.reaped",
        Type.COUNTER,
        null,
        List.of(),
        "Expired leases reaped by this node's scheduler",
        Source.NODE),

    /**
     * Steps of this node's scheduler turns that threw (a claim from one queue, reaping, renewing,
     * releasing retries, a next-turn query); the turn went on with the next step.
     */
    SCHEDULER_TURN_STEP_FAILURES(
        "workgate.scheduler.turn.step.failures",
        Type.COUNTER,
        null,
        List.of(),
        "Steps of this node's scheduler turns that failed; the turn went on",
        Source.NODE),

    /**
     * Writes of this node to the store (appends, claims, lease renewals, retention deletes) that
     * failed because the store failed, by {@link Tags#CAUSE cause}. Refusals (a version conflict, a
     * rejected transition) are not counted: the store answered them.
     */
    STORE_WRITE_FAILURES(
        "workgate.store.write.failures",
        Type.COUNTER,
        null,
        List.of(Tags.CAUSE),
        "Store writes of this node that failed, by cause",
        Source.NODE),

    /**
     * Checkpoints ({@code Checkpointed} events) this node stored for its running attempts, by
     * queue: {@code WorkContext.checkpoint} calls and checkpoint lines of process sandboxes' report
     * files.
     */
    CHECKPOINTS_RECORDED(
        "workgate.checkpoints.recorded",
        Type.COUNTER,
        null,
        List.of(Tags.QUEUE),
        "Checkpoints this node stored for running attempts",
        Source.NODE),

    /**
     * Blocked work orders whose dependencies this node decided, by queue and outcome: {@code met}
     * ({@code DependenciesMet}: the work order became PENDING) or {@code failed} ({@code
     * DependencyFailed}: it was cancelled, {@code DEPENDENCY_FAILED}). Decisions appended with the
     * submit (the dependencies had ended already) count on the node that submitted.
     */
    DEPENDENCIES_DECIDED(
        "workgate.dependencies.decided",
        Type.COUNTER,
        null,
        List.of(Tags.QUEUE, Tags.OUTCOME),
        "Blocked work orders this node decided; outcome met (to PENDING) or failed (cancelled)",
        Source.NODE),

    /** Store: work orders by queue and state, in the whole store. */
    WORK_ORDERS(
        "workgate.work.orders",
        Type.GAUGE,
        null,
        List.of(Tags.QUEUE, Tags.STATE),
        "Work orders in the store by queue and state",
        Source.STORE),

    /**
     * Store: how long the oldest-submitted claimable PENDING work orders of a queue have waited,
     * the longest among the first few (see {@link WorkgateMetrics}); 0 when none waits.
     */
    WORK_ORDERS_OLDEST_PENDING_AGE(
        "workgate.work.orders.oldest.pending.age",
        Type.GAUGE,
        "seconds",
        List.of(Tags.QUEUE),
        "Longest claimable wait among the oldest-submitted PENDING work orders of a queue",
        Source.STORE),

    /**
     * Store: whether a queue is paused (no node claims from it): 1 paused, 0 not. The {@code other}
     * series counts the paused queues past the tag cap. Queues get the series when the node serves
     * them or the store shows them (work orders or a pause).
     */
    QUEUE_PAUSED(
        "workgate.queue.paused",
        Type.GAUGE,
        null,
        List.of(Tags.QUEUE),
        "Whether the queue is paused: 1 paused, 0 not; for other, the paused queues past the cap",
        Source.STORE),

    /** Store: work orders in WAITING_RETRY, over all queues. */
    RETRIES_PENDING(
        "workgate.retries.pending",
        Type.GAUGE,
        null,
        List.of(),
        "Work orders waiting for a retry, in the store",
        Source.STORE),

    /** Seconds since the store-backed gauges were last read from the store successfully. */
    STORE_READINGS_AGE(
        "workgate.store.readings.age",
        Type.GAUGE,
        "seconds",
        List.of(),
        "Age of the values the store-backed gauges report",
        Source.STORE),

    /**
     * Unreadable rows (events that do not decode, projection rows that make no view) the store
     * instance of this process met and quarantined, each once: see {@code docs/storage.md}.
     */
    STORE_ROWS_QUARANTINED(
        "workgate.store.rows.quarantined",
        Type.COUNTER,
        null,
        List.of(),
        "Unreadable store rows this process quarantined, each counted once",
        Source.STORE),

    /** Slots held by this node's executions. */
    SLOTS_ACTIVE(
        "workgate.slots.active",
        Type.GAUGE,
        null,
        List.of(),
        "Slots in use on this node",
        Source.NODE),

    /** This node's slot limit. */
    SLOTS_MAX(
        "workgate.slots.max", Type.GAUGE, null, List.of(), "Slots this node has", Source.NODE),

    /** This node's memory pressure: 0 NONE, 1 WARNING (half the slots), 2 CRITICAL (no claims). */
    MEMORY_PRESSURE(
        "workgate.memory.pressure",
        Type.GAUGE,
        null,
        List.of(),
        "Memory pressure level: 0 none, 1 warning, 2 critical",
        Source.NODE),

    /**
     * Seconds since this node's scheduler loop last began a turn; 0 before the first turn. A loop
     * that runs begins one at least every poll interval.
     */
    SCHEDULER_HEARTBEAT_AGE(
        "workgate.scheduler.heartbeat.age",
        Type.GAUGE,
        "seconds",
        List.of(),
        "Time since the scheduler loop last began a turn",
        Source.NODE),

    /** This node's executions by status: PREPARING, RUNNING, CLEANUP. */
    EXECUTIONS_ACTIVE(
        "workgate.executions.active",
        Type.GAUGE,
        null,
        List.of(Tags.STATUS),
        "Executions on this node by status",
        Source.NODE),

    /** Seconds since the longest-preparing execution on this node was claimed; 0 when none is. */
    EXECUTIONS_PREPARING_OLDEST_AGE(
        "workgate.executions.preparing.oldest.age",
        Type.GAUGE,
        "seconds",
        List.of(),
        "Time since the oldest execution still preparing was claimed",
        Source.NODE),

    /**
     * This node's RUNNING executions of a queue that have reported progress ({@code
     * WorkContext.progress}, a process sandbox's report file), by queue (the queues the node
     * serves).
     */
    EXECUTIONS_PROGRESS_REPORTING(
        "workgate.executions.progress.reporting",
        Type.GAUGE,
        null,
        List.of(Tags.QUEUE),
        "Running executions on this node that reported progress",
        Source.NODE),

    /**
     * The mean of the fractions (0 to 1) last reported by this node's RUNNING executions of a queue
     * that reported progress; NaN when none did (no value rather than a false 0).
     */
    EXECUTIONS_PROGRESS(
        "workgate.executions.progress",
        Type.GAUGE,
        null,
        List.of(Tags.QUEUE),
        "Mean progress (0 to 1) reported by this node's running executions; NaN when none reported",
        Source.NODE),

    /**
     * Writes of this node to the store that failed since the last one that succeeded; 0 once a
     * write succeeds. Health turns the store critical from its failed-writes threshold (3 by
     * default).
     */
    STORE_WRITE_FAILURES_CONSECUTIVE(
        "workgate.store.write.failures.consecutive",
        Type.GAUGE,
        null,
        List.of(),
        "Store writes of this node that failed since the last one that succeeded",
        Source.NODE),

    /** From becoming claimable to being claimed by this node, by queue. */
    WORK_ORDERS_WAIT(
        "workgate.work.orders.wait",
        Type.TIMER,
        "seconds",
        List.of(Tags.QUEUE),
        "Time from claimable to claimed",
        Source.NODE),

    /**
     * From {@code Started} to the attempt's outcome on this node, by queue and outcome ({@code
     * completed}, {@code retry}, {@code failed}, {@code cancelled}).
     */
    WORK_ORDERS_EXECUTION(
        "workgate.work.orders.execution",
        Type.TIMER,
        "seconds",
        List.of(Tags.QUEUE, Tags.OUTCOME),
        "Time from start to the attempt's outcome",
        Source.NODE),

    /**
     * From submission to the terminal state, for work orders that ended on this node, by queue and
     * outcome ({@code completed}, {@code failed}, {@code cancelled}).
     */
    WORK_ORDERS_END_TO_END(
        "workgate.work.orders.end.to.end",
        Type.TIMER,
        "seconds",
        List.of(Tags.QUEUE, Tags.OUTCOME),
        "Time from submission to the terminal state",
        Source.NODE);

    /** The kinds of meter, as a monitoring system sees them. */
    public enum Type {
      /** A monotonic count (a Micrometer {@code Counter} or {@code FunctionCounter}). */
      COUNTER,
      /** A value that goes up and down, read when the registry is scraped. */
      GAUGE,
      /** A Micrometer {@code Timer} with a percentile histogram (Prometheus: a histogram). */
      TIMER
    }

    /** What a meter reads, and so which bindings register it. */
    public enum Source {
      /**
       * A running node: its transition listener (counters, timers) or its memory (slots, pressure,
       * executions, the scheduler loop). Registered by a binding over a node only.
       */
      NODE,
      /**
       * The store alone, through the cached store readings. Registered by every binding, including
       * one over a store without a node.
       */
      STORE
    }

    /** Tag keys, and the fixed values some tags take. Constants only. */
    public static final class Tags {
      /** The queue; capped, see {@link WorkgateMetrics.Builder#maxQueueTags(int)}. */
      public static final String QUEUE = "queue";

      /** A {@link dev.workgate.core.WorkOrderState} name. */
      public static final String STATE = "state";

      /** The state before a transition: a state name, or {@link #NEW}. */
      public static final String FROM = "from";

      /** The state after a transition. */
      public static final String TO = "to";

      /** How an attempt or a work order ended; see the values below. */
      public static final String OUTCOME = "outcome";

      /** An error code; capped, see {@link WorkgateMetrics.Builder#maxErrorCodeTags(int)}. */
      public static final String ERROR_CODE = "error.code";

      /** An execution's status: {@code PREPARING}, {@code RUNNING} or {@code CLEANUP}. */
      public static final String STATUS = "status";

      /**
       * Why a store write failed: {@code disk_full}, {@code read_only}, {@code unreachable} or
       * {@code other} (the tag values of {@link dev.workgate.NodeView.WriteFailureCause}).
       */
      public static final String CAUSE = "cause";

      /** The {@code from} of a submission, which has no state before it. */
      public static final String NEW = "NEW";

      /** The value every capped tag falls back to once its cap of distinct values is reached. */
      public static final String OTHER = "other";

      /** Outcome: completed. */
      public static final String COMPLETED = "completed";

      /** Outcome: failed for good. */
      public static final String FAILED = "failed";

      /** Outcome: cancelled. */
      public static final String CANCELLED = "cancelled";

      /** Outcome of a failed attempt (and of its execution) after which another attempt follows. */
      public static final String RETRY = "retry";

      /** Outcome of a failed attempt after which the work order failed for good. */
      public static final String FINAL = "final";

      /** Outcome of a dependency decision after which the work order became PENDING. */
      public static final String MET = "met";

      private Tags() {}
    }

    private final String meterName;
    private final Type type;
    private final String baseUnit;
    private final List<String> tagKeys;
    private final String description;
    private final Source source;

    WorkgateMeter(
        String meterName,
        Type type,
        String baseUnit,
        List<String> tagKeys,
        String description,
        Source source) {
      this.meterName = meterName;
      this.type = type;
      this.baseUnit = baseUnit;
      this.tagKeys = tagKeys;
      this.description = description;
      this.source = source;
    }

    /**
     * The Micrometer name.
     *
     * @return e.g. {@code workgate.work.orders.submitted}
     */
    public String meterName() {
      return meterName;
    }

    /**
     * The kind of meter.
     *
     * @return the type
     */
    public Type type() {
      return type;
    }

    /**
     * The base unit given to Micrometer.
     *
     * @return {@code seconds}, or null for a plain count
     */
    public String baseUnit() {
      return baseUnit;
    }

    /**
     * The tag keys every series of this meter carries.
     *
     * @return an immutable list, empty for a meter without tags
     */
    public List<String> tagKeys() {
      return tagKeys;
    }

    /**
     * The description registered with the meter.
     *
     * @return one line for a person
     */
    public String description() {
      return description;
    }

    /**
     * What the meter reads: a running node, or the store alone.
     *
     * @return {@link Source#STORE} for the meters a binding over a store without a node registers
     */
    public Source source() {
      return source;
    }

    /**
     * The name of the metric family in a Prometheus scrape: dots become underscores, the base unit
     * is appended, and counters end in {@code _total}. A timer's family has the series {@code
     * _bucket}, {@code _count} and {@code _sum}, and a gauge {@code <name>_max} beside it.
     *
     * @return e.g. {@code workgate_work_orders_submitted_total}
     */
    public String prometheusName() {
      String name = meterName.replace('.', '_');
      if (baseUnit != null) {
        name += "_" + baseUnit;
      }
      return type == Type.COUNTER ? name + "_total" : name;
    }

    /**
     * The Prometheus label for a tag key: dots become underscores.
     *
     * @param tagKey a key from {@link Tags}
     * @return e.g. {@code error_code}
     */
    public static String prometheusLabel(String tagKey) {
      return tagKey.replace('.', '_');
    }
  }
}
