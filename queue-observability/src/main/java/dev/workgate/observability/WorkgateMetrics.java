package dev.workgate.observability;

import dev.workgate.NodeView;
import dev.workgate.StateChange;
import dev.workgate.Workgate;
import dev.workgate.WriteFailureCause;
import dev.workgate.core.ErrorCodes;
import dev.workgate.core.Text;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.StoreView;
import dev.workgate.core.store.Subscription;
import dev.workgate.execution.ExecutionManager;
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
 * WorkgateMeter#WORK_ORDERS_OLDEST_PENDING_AGE} and {@link WorkgateMeter#RETRIES_PENDING} are read
 * from one snapshot, refreshed at most once per {@link Builder#storeCacheTtl(Duration)} (default 1
 * s, by the Workgate's clock) however many meters and scrapes ask. A refresh makes one {@code
 * counts()} call and one small {@code query} per queue with PENDING work. A failing read keeps the
 * last values and logs at WARN at most once a minute; a gauge never throws. {@link
 * WorkgateMeter#STORE_READINGS_AGE} tells how old the values are. Queues that first appear in the
 * store later (submitted by other nodes) get their gauges at the first refresh that sees them.
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
        for (String queue : workgate.node().schedulerConfig().queues()) {
          registerQueueMeters(queues.tag(queue));
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
    for (ExecutionManager.Status status : ExecutionManager.Status.values()) {
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
    if (workgate == null) {
      return; // over a store alone: no events are heard, so no counters
    }
    counter(WorkgateMeter.WORK_ORDERS_SUBMITTED, queueTag);
    counter(WorkgateMeter.WORK_ORDERS_COMPLETED, queueTag);
    counter(WorkgateMeter.WORK_ORDERS_CANCELLED, queueTag);
    counter(WorkgateMeter.RETRIES_RELEASED, queueTag);
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
    }
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
    for (ExecutionManager.ActiveExecution e : workgate.node().activeExecutions()) {
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

  private static double countExecutions(NodeView node, ExecutionManager.Status status) {
    int n = 0;
    for (ExecutionManager.ActiveExecution e : node.activeExecutions()) {
      if (e.status() == status) {
        n++;
      }
    }
    return n;
  }

  private static double oldestPreparingSeconds(NodeView node, Clock clock) {
    Instant oldest = null;
    for (ExecutionManager.ActiveExecution e : node.activeExecutions()) {
      if (e.status() == ExecutionManager.Status.PREPARING
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
}
