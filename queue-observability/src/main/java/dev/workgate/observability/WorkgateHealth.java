package dev.workgate.observability;

import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.internal.Text;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.StoreView;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.observability.SystemHealth.ComponentHealth;
import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.observability.SystemHealth.HealthStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a Workgate node does its job, for operators and orchestrators: {@link #check()} looks at
 * every part of the node, {@link #liveness()} only at whether the scheduler loop turns, and {@link
 * #readiness()} at whether the node can take work.
 *
 * <pre>{@code
 * try (WorkgateHealth health = WorkgateHealth.of(workgate)) {
 *   SystemHealth now = health.check();
 *   if (now.status() == HealthStatus.UNHEALTHY) {
 *     now.issues().forEach(issue -> log.warn("{}", issue));
 *   }
 * }
 * }</pre>
 *
 * <h2>Components</h2>
 *
 * <ul>
 *   <li>{@value #SCHEDULER}: the loop runs, began a turn within the {@linkplain
 *       Builder#loopStallThreshold stall threshold}, and claims work; steps of its turns that
 *       failed within the last stall threshold are a warning.
 *   <li>{@value #RESOURCES}: memory pressure and the memory probe.
 *   <li>{@value #EXECUTIONS}: sandboxes stuck in creation, and work running past its timeout and
 *       kill grace (a kill that did not take).
 *   <li>{@value #STORE}: a lookup of one work order answers within the {@linkplain
 *       Builder#storePingTimeout ping timeout}, and, on a node, its writes (appends, claims, lease
 *       renewals) succeed: a failed write is a warning, and {@linkplain
 *       Builder#failedWritesThreshold a few in a row} are critical, with their cause (disk full,
 *       read-only, unreachable) and what to do. It turns healthy again by itself on the next write
 *       that succeeds. The ping only reads, so a full disk or a read-only database shows only here.
 *   <li>{@value #RETRIES}: work orders waiting for a retry, in the whole store.
 *   <li>{@value #QUEUES}: work orders waiting per queue ({@code PENDING}, {@code WAITING_RETRY} and
 *       {@code BLOCKED}), in the whole store; and paused queues in which work waits: one paused for
 *       longer than {@link #PAUSED_BACKLOG_AFTER} whose backlog has not shrunk since the previous
 *       check is a warning naming who paused it, when and why.
 * </ul>
 *
 * What each issue means and what to do about it is in {@code docs/observability.md}.
 *
 * <h2>Over a store alone</h2>
 *
 * {@link #ofStore(StoreView, Clock)} checks a store that no node in this process serves (an
 * operator's endpoint, a tool): only the parts the store shows, {@value #STORE}, {@value #RETRIES}
 * and {@value #QUEUES}, with the default thresholds. {@link #check()} reports those three; {@link
 * #readiness()} the {@value #STORE} ping alone; {@link #liveness()} has no component and is {@link
 * HealthStatus#HEALTHY} whenever it is asked: there is no scheduler loop whose stall a restart
 * would cure, and a process that answers is alive.
 *
 * <h2>Time bounds and threads</h2>
 *
 * A check never throws and never blocks longer than its store reads' timeouts: the scheduler,
 * resources, executions and the node's store writes are read from memory, without the store (while
 * writes fail for a full disk, the free space of the store file's file system is asked too, to name
 * it in the advice); the store is read on daemon threads this object owns, at most one per kind of
 * read ({@code workgate-health-ping-<node>} for the ping, {@code workgate-health-counts-<node>} for
 * the counts), made on first use. A read that hangs is not started again until it returns, so a
 * hung store holds one thread, not a pile. {@link #close()} ends the threads. A part whose check
 * throws is reported {@link HealthStatus#UNHEALTHY} with the exception's class and message, and the
 * stack trace goes to the log.
 *
 * <p>{@link #check()} reads the store twice, concurrently: the ping, and the work-order counts by
 * queue and state with the pauses in force (two small queries, one after the other on the counts'
 * thread, from which both {@value #RETRIES} and {@value #QUEUES} are judged; {@code
 * Workgate.stats()} and {@code RetryManager.stats()} would each count again). {@link #readiness()}
 * reads only the ping, and {@link #liveness()} nothing from the store.
 *
 * <p>Times come from {@link Workgate#clock()} (or the clock given to {@link #ofStore}); the store
 * reads' timeouts are real time, as they bound how long a caller waits.
 *
 * <p>Thread-safe: every method may be called from any thread, concurrently; concurrent checks share
 * the store read in flight.
 */
public final class WorkgateHealth implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WorkgateHealth.class);

  /** The scheduler loop's component. */
  public static final String SCHEDULER = "scheduler";

  /** The memory pressure and probe component. */
  public static final String RESOURCES = "resources";

  /** The node's executions' component. */
  public static final String EXECUTIONS = "executions";

  /** The store ping's component. */
  public static final String STORE = "store";

  /** The pending retries' component. */
  public static final String RETRIES = "retries";

  /** The queue depths' component. */
  public static final String QUEUES = "queues";

  /**
   * The least default loop stall threshold, thirty seconds: a turn runs a handful of store queries
   * and takes milliseconds, so a loop that has not begun one for half a minute is blocked (in the
   * store, in a listener), while a long garbage-collection pause or a slow query does not get the
   * node restarted by a liveness probe.
   */
  public static final Duration DEFAULT_MIN_LOOP_STALL_THRESHOLD = Duration.ofSeconds(30);

  /**
   * The default loop stall threshold is at least this many poll intervals: the loop begins a turn
   * at the start of each and waits up to one poll interval between turns when nothing wakes it, so
   * an idle, healthy loop's heartbeat is up to a poll interval old (plus the last turn's length).
   * Ten intervals leave room for slow turns and never mistake an idle loop for a stalled one, even
   * with a poll interval of minutes.
   */
  public static final int DEFAULT_LOOP_STALL_POLL_INTERVALS = 10;

  /**
   * Five minutes in {@code PREPARING}: creating a sandbox takes milliseconds to seconds (a
   * directory, a process, a container), and even a first pull of a large image fits in a few
   * minutes; longer, it hangs (a full disk, a stuck mount, a container runtime that does not
   * answer) while holding its slots.
   */
  public static final Duration DEFAULT_PREPARING_STUCK_THRESHOLD = Duration.ofMinutes(5);

  /**
   * Thirty seconds past timeout plus kill grace: by then the kill has been sent, the grace has run
   * out and the work has been forced; half a minute more covers a loaded node reaping a process
   * tree and recording the outcome, so only a kill that did not take is reported.
   */
  public static final Duration DEFAULT_OVERRUN_SLACK = Duration.ofSeconds(30);

  /**
   * A thousand work orders waiting for a retry: a few are normal (a flaky dependency, a lost
   * lease); a thousand at once means many work orders fail for one cause.
   */
  public static final long DEFAULT_PENDING_RETRIES_WARNING = 1_000;

  /**
   * Two seconds for the ping, a lookup by primary key that answers in milliseconds: longer means
   * the database, its connection pool or the network is in trouble. Short enough that a readiness
   * probe given three seconds gets its answer in time.
   */
  public static final Duration DEFAULT_STORE_PING_TIMEOUT = Duration.ofSeconds(2);

  /**
   * Five seconds for the counts by queue and state, which read the whole projection (an index scan
   * on a large SQL store) and so may take longer than the ping; only {@link #check()} waits for
   * them.
   */
  public static final Duration DEFAULT_COUNTS_TIMEOUT = Duration.ofSeconds(5);

  /**
   * Ten thousand waiting work orders in a queue is a warning. Depth alone does not say how long the
   * backlog takes (that depends on the work and the nodes), so the defaults only flag a queue that
   * grows far past any burst of submits; set per-queue thresholds with {@link Builder#queueDepth}
   * for what a backlog means for your work.
   */
  public static final long DEFAULT_QUEUE_DEPTH_WARNING = 10_000;

  /**
   * A hundred thousand waiting work orders in a queue is critical: ten times the warning, a backlog
   * that will not drain without more nodes or less work.
   */
  public static final long DEFAULT_QUEUE_DEPTH_CRITICAL = 100_000;

  /**
   * Ten minutes: how long a queue may stay paused with work waiting in it before {@value #QUEUES}
   * warns. A pause for a deploy or a short repair of what the queue's work depends on lasts
   * minutes, and work submitted meanwhile waiting for the resume is what the pause is for; work
   * that still waits ten minutes after the pause, in a backlog that does not shrink, is work that a
   * forgotten pause holds back. Judged by the node's clock from the pause's time in the store, so
   * every node and every restart agrees on it. Not a setting: the warning names the pause, and
   * resuming (or cancelling the waiting work) clears it.
   */
  public static final Duration PAUSED_BACKLOG_AFTER = Duration.ofMinutes(10);

  /**
   * Three store writes failed in a row make the store critical: one failure may be a lock timeout
   * or a failover's blip that the next write gets through (a warning meanwhile); three in a row,
   * which with the scheduler's backoff span at least a few turns, fail for a lasting reason (a full
   * disk, a read-only database) that will not pass without an operator.
   */
  public static final int DEFAULT_FAILED_WRITES_THRESHOLD = 3;

  /**
   * The longest store read timeout a builder accepts: a caller (an HTTP probe) blocks that long,
   * and a probe that waits longer than a minute has given up already.
   */
  static final Duration MAX_TIMEOUT = Duration.ofMinutes(1);

  /** The work order the ping looks up; it need not exist. */
  static final WorkOrderId PING_ID = WorkOrderId.of("workgate-health-ping");

  private final Workgate workgate; // null over a store alone
  private final StoreView store;
  private final String subject; // the node id, or "store" over a store alone, for logs and threads
  private final Clock clock;
  private final Duration loopStallThreshold;
  private final Duration storePingTimeout;
  private final Duration countsTimeout;
  private final SchedulerCheck scheduler; // null over a store alone
  private final ResourcesCheck resources; // null over a store alone
  private final ExecutionsCheck executions; // null over a store alone
  private final StoreCheck storeCheck;
  private final RetriesCheck retries;
  private final QueuesCheck queues;
  private final BoundedRead<Boolean> ping;
  private final BoundedRead<QueueReadings> counts;

  /** What the counts read brings back: the counts by queue and state and the pauses in force. */
  record QueueReadings(QueueCounts counts, List<QueueAction> paused) {}

  private WorkgateHealth(Builder b, Duration loopStallThreshold) {
    this.workgate = b.workgate;
    this.store = b.store;
    this.subject = workgate == null ? "store" : workgate.nodeId();
    this.clock = b.clock;
    this.loopStallThreshold = loopStallThreshold;
    this.storePingTimeout = b.storePingTimeout;
    this.countsTimeout = b.countsTimeout;
    this.scheduler =
        workgate == null
            ? null
            : new SchedulerCheck(workgate.node(), loopStallThreshold, clock.instant());
    this.resources =
        workgate == null ? null : new ResourcesCheck(workgate.node(), loopStallThreshold);
    this.executions =
        workgate == null
            ? null
            : new ExecutionsCheck(workgate.node(), b.preparingStuckThreshold, b.overrunSlack);
    this.storeCheck = new StoreCheck(workgate, store, storePingTimeout, b.failedWritesThreshold);
    this.retries = new RetriesCheck(b.pendingRetriesWarning, countsTimeout);
    this.queues =
        new QueuesCheck(
            b.queueDepthWarning,
            b.queueDepthCritical,
            b.queueDepthOverrides,
            countsTimeout,
            PAUSED_BACKLOG_AFTER);
    this.ping =
        new BoundedRead<>(
            "store ping",
            "workgate-health-ping-" + subject,
            () -> store.find(PING_ID).isPresent(),
            clock);
    this.counts =
        new BoundedRead<>(
            "work-order counts",
            "workgate-health-counts-" + subject,
            () -> new QueueReadings(store.counts(), store.pausedQueues()),
            clock);
  }

  /**
   * Health checks with the default thresholds. Creates no thread until the first check that reads
   * the store; {@link #close()} ends the threads.
   *
   * @param workgate the node
   * @return the checks
   * @throws NullPointerException if {@code workgate} is null
   */
  public static WorkgateHealth of(Workgate workgate) {
    return builder(workgate).build();
  }

  /**
   * A builder for health checks with thresholds of one's own.
   *
   * @param workgate the node
   * @return a builder with the defaults
   * @throws NullPointerException if {@code workgate} is null
   */
  public static Builder builder(Workgate workgate) {
    Objects.requireNonNull(workgate, "workgate");
    return new Builder(workgate, workgate.store(), workgate.clock());
  }

  /**
   * Health checks of a store without a node, with the default thresholds: the {@value #STORE} ping
   * and the {@value #RETRIES} and {@value #QUEUES} judged from the counts; see "Over a store alone"
   * in the class description. Creates no thread until the first check that reads the store; {@link
   * #close()} ends the threads and leaves the store open. Its threads are named {@code
   * workgate-health-ping-store} and {@code workgate-health-counts-store}.
   *
   * @param store the store
   * @param clock the clock reports are dated by
   * @return the checks
   * @throws NullPointerException if an argument is null
   */
  public static WorkgateHealth ofStore(StoreView store, Clock clock) {
    return new Builder(
            null, Objects.requireNonNull(store, "store"), Objects.requireNonNull(clock, "clock"))
        .build();
  }

  /**
   * Checks every component; see the class description. Never throws; returns within the longer of
   * the ping and counts timeouts.
   *
   * @return the node's health
   */
  public SystemHealth check() {
    HealthRound round = round(HealthRound.Purpose.CHECK, true, true);
    return workgate == null
        ? run(round, storeCheck, retries, queues)
        : run(round, scheduler, resources, executions, storeCheck, retries, queues);
  }

  /**
   * Whether the node is alive: its scheduler loop runs and began a turn within the stall threshold.
   * Nothing else counts, so that a restart is asked for only when restarting helps (it does not
   * free a full disk nor make a database writable: failing writes turn readiness, not liveness,
   * down); the store is not read. Never throws. Over a store alone, no component and always {@link
   * HealthStatus#HEALTHY}.
   *
   * @return {@link HealthStatus#UNHEALTHY} if the loop does not run or has stalled
   */
  public SystemHealth liveness() {
    HealthRound round = round(HealthRound.Purpose.LIVENESS, false, false);
    return workgate == null ? run(round) : run(round, scheduler);
  }

  /**
   * Whether the node can take work: it is {@linkplain #liveness() alive}, claims work (it is not
   * draining for shutdown), the store answers the ping and its writes do not keep failing, and
   * memory pressure is not critical. A {@link HealthStatus#DEGRADED} node is ready. Over a store
   * alone, only the store ping counts. Never throws; returns within the ping timeout.
   *
   * @return {@link HealthStatus#UNHEALTHY} if the node cannot take work (or the store does not
   *     answer)
   */
  public SystemHealth readiness() {
    HealthRound round = round(HealthRound.Purpose.READINESS, true, false);
    return workgate == null ? run(round, storeCheck) : run(round, scheduler, resources, storeCheck);
  }

  /**
   * The loop stall threshold in use: the one set, or the default for the node's poll interval. Over
   * a store alone, which has no loop, {@link #DEFAULT_MIN_LOOP_STALL_THRESHOLD}, unused.
   *
   * @return the threshold
   */
  public Duration loopStallThreshold() {
    return loopStallThreshold;
  }

  /**
   * Ends the store reads' threads, interrupting a read in flight. Later checks still report the
   * in-memory components, and the store as not checked. Idempotent.
   */
  @Override
  public void close() {
    ping.close();
    counts.close();
  }

  /**
   * A round dated now that begins the store reads it needs at once, so that they run while the
   * in-memory components are judged.
   */
  private HealthRound round(HealthRound.Purpose purpose, boolean pings, boolean counts) {
    Instant now = clock.instant();
    Supplier<BoundedRead.Outcome<Boolean>> pinged = HealthRound.notRead("the store ping");
    if (pings) {
      BoundedRead.Attempt<Boolean> pinging = ping.begin();
      pinged = () -> ping.await(pinging, storePingTimeout);
    }
    Supplier<BoundedRead.Outcome<QueueCounts>> counted =
        HealthRound.notRead("the work-order counts");
    Supplier<BoundedRead.Outcome<List<QueueAction>>> paused =
        HealthRound.notRead("the queue pauses");
    if (counts) {
      BoundedRead.Attempt<QueueReadings> counting = this.counts.begin();
      List<BoundedRead.Outcome<QueueReadings>> read = new ArrayList<>(1); // the round's thread only
      Supplier<BoundedRead.Outcome<QueueReadings>> once =
          () -> {
            if (read.isEmpty()) {
              read.add(this.counts.await(counting, countsTimeout));
            }
            return read.get(0);
          };
      counted = () -> once.get().map(QueueReadings::counts);
      paused = () -> once.get().map(QueueReadings::paused);
    }
    return new HealthRound(now, purpose, pinged, counted, paused);
  }

  /** Runs the checks in order, each on its own, and combines their components. */
  private SystemHealth run(HealthRound round, ComponentCheck... checks) {
    List<ComponentHealth> components = new ArrayList<>(checks.length);
    for (ComponentCheck check : checks) {
      components.add(guarded(check, round));
    }
    return SystemHealth.of(round.now(), components);
  }

  /** Runs one component's check; a check that throws makes its component unhealthy. */
  private ComponentHealth guarded(ComponentCheck check, HealthRound round) {
    String name = check.component();
    try {
      return check.check(round);
    } catch (RuntimeException | LinkageError | AssertionError e) {
      LOG.warn("health check of {} on {} failed", name, subject, e);
      return ComponentHealth.of(
          name,
          Map.of(),
          List.of(
              HealthIssue.critical(
                  name,
                  name + " check failed: " + HealthText.failure(e),
                  "the check could not judge this part of the node; the stack trace is in the"
                      + " node's log (logger "
                      + WorkgateHealth.class.getName()
                      + ")")));
    }
  }

  /**
   * Builds {@link WorkgateHealth}. Setters reject bad values with an {@link
   * IllegalArgumentException} naming the setting and the value; {@link #build()} rejects
   * contradictory settings. Not thread-safe.
   */
  public static final class Builder {
    private final Workgate workgate;
    private final StoreView store;
    private final Clock clock;
    private Duration loopStallThreshold;
    private Duration preparingStuckThreshold = DEFAULT_PREPARING_STUCK_THRESHOLD;
    private Duration overrunSlack = DEFAULT_OVERRUN_SLACK;
    private long pendingRetriesWarning = DEFAULT_PENDING_RETRIES_WARNING;
    private Duration storePingTimeout = DEFAULT_STORE_PING_TIMEOUT;
    private Duration countsTimeout = DEFAULT_COUNTS_TIMEOUT;
    private long queueDepthWarning = DEFAULT_QUEUE_DEPTH_WARNING;
    private long queueDepthCritical = DEFAULT_QUEUE_DEPTH_CRITICAL;
    private int failedWritesThreshold = DEFAULT_FAILED_WRITES_THRESHOLD;
    private final Map<String, long[]> queueDepthOverrides = new LinkedHashMap<>();

    private Builder(Workgate workgate, StoreView store, Clock clock) {
      this.workgate = workgate;
      this.store = store;
      this.clock = clock;
    }

    /**
     * How long the scheduler loop may go without beginning a turn before it counts as stalled.
     * Default: the longer of {@link #DEFAULT_MIN_LOOP_STALL_THRESHOLD} and {@link
     * #DEFAULT_LOOP_STALL_POLL_INTERVALS} poll intervals.
     *
     * @param threshold positive, and longer than the node's poll interval ({@link #build()} checks)
     * @return this builder
     */
    public Builder loopStallThreshold(Duration threshold) {
      this.loopStallThreshold = positive(threshold, "loopStallThreshold");
      return this;
    }

    /**
     * How long an execution may stay in {@code PREPARING} (its sandbox being created) before it
     * counts as stuck. Default {@link #DEFAULT_PREPARING_STUCK_THRESHOLD}.
     *
     * @param threshold positive
     * @return this builder
     */
    public Builder preparingStuckThreshold(Duration threshold) {
      this.preparingStuckThreshold = positive(threshold, "preparingStuckThreshold");
      return this;
    }

    /**
     * How long past its timeout plus the kill grace running work may go on before the kill counts
     * as failed. Default {@link #DEFAULT_OVERRUN_SLACK}.
     *
     * @param slack positive
     * @return this builder
     */
    public Builder overrunSlack(Duration slack) {
      this.overrunSlack = positive(slack, "overrunSlack");
      return this;
    }

    /**
     * Above how many work orders waiting for a retry the retries are a warning. Default {@link
     * #DEFAULT_PENDING_RETRIES_WARNING}.
     *
     * @param count zero or more
     * @return this builder
     */
    public Builder pendingRetriesWarning(long count) {
      this.pendingRetriesWarning = notNegative(count, "pendingRetriesWarning");
      return this;
    }

    /**
     * How long the store ping may take. Default {@link #DEFAULT_STORE_PING_TIMEOUT}.
     *
     * @param timeout positive, at most a minute
     * @return this builder
     */
    public Builder storePingTimeout(Duration timeout) {
      this.storePingTimeout = timeout(timeout, "storePingTimeout");
      return this;
    }

    /**
     * How long counting work orders by queue and state may take. Default {@link
     * #DEFAULT_COUNTS_TIMEOUT}.
     *
     * @param timeout positive, at most a minute
     * @return this builder
     */
    public Builder countsTimeout(Duration timeout) {
      this.countsTimeout = timeout(timeout, "countsTimeout");
      return this;
    }

    /**
     * Above how many waiting work orders a queue is a warning, for queues without their own
     * thresholds. Default {@link #DEFAULT_QUEUE_DEPTH_WARNING}.
     *
     * @param depth zero or more, at most the critical depth ({@link #build()} checks)
     * @return this builder
     */
    public Builder queueDepthWarning(long depth) {
      this.queueDepthWarning = notNegative(depth, "queueDepthWarning");
      return this;
    }

    /**
     * Above how many waiting work orders a queue is critical, for queues without their own
     * thresholds. Default {@link #DEFAULT_QUEUE_DEPTH_CRITICAL}.
     *
     * @param depth zero or more, at least the warning depth ({@link #build()} checks)
     * @return this builder
     */
    public Builder queueDepthCritical(long depth) {
      this.queueDepthCritical = notNegative(depth, "queueDepthCritical");
      return this;
    }

    /**
     * From how many store writes failed in a row the store is critical (and the node not ready);
     * fewer are a warning. Default {@link #DEFAULT_FAILED_WRITES_THRESHOLD}. Over a store alone,
     * unused: only a node writes.
     *
     * @param count at least 1
     * @return this builder
     */
    public Builder failedWritesThreshold(int count) {
      if (count < 1) {
        throw new IllegalArgumentException(
            "failedWritesThreshold must be at least 1, got " + count);
      }
      this.failedWritesThreshold = count;
      return this;
    }

    /**
     * Thresholds of one queue's own, replacing the general ones for it.
     *
     * @param queue the queue
     * @param warning above this many waiting work orders, a warning; zero or more
     * @param critical above this many, critical; at least {@code warning}
     * @return this builder
     */
    public Builder queueDepth(String queue, long warning, long critical) {
      Text.requireName(queue, "queueDepth queue");
      notNegative(warning, "queueDepth warning for queue '" + queue + "'");
      notNegative(critical, "queueDepth critical for queue '" + queue + "'");
      if (warning > critical) {
        throw new IllegalArgumentException(
            "queueDepth for queue '"
                + queue
                + "' needs warning <= critical, got warning "
                + warning
                + " and critical "
                + critical);
      }
      queueDepthOverrides.put(queue, new long[] {warning, critical});
      return this;
    }

    /**
     * Builds the checks. Creates no thread.
     *
     * @return the checks
     * @throws IllegalArgumentException if the queue depth warning is above the critical depth, or
     *     the loop stall threshold set is not longer than the node's poll interval
     */
    public WorkgateHealth build() {
      if (queueDepthWarning > queueDepthCritical) {
        throw new IllegalArgumentException(
            "queueDepthWarning "
                + queueDepthWarning
                + " must not be above queueDepthCritical "
                + queueDepthCritical);
      }
      if (workgate == null) {
        return new WorkgateHealth(this, DEFAULT_MIN_LOOP_STALL_THRESHOLD);
      }
      Duration poll = workgate.node().pollInterval();
      Duration stall = loopStallThreshold;
      if (stall == null) {
        Duration polls = poll.multipliedBy(DEFAULT_LOOP_STALL_POLL_INTERVALS);
        stall =
            polls.compareTo(DEFAULT_MIN_LOOP_STALL_THRESHOLD) > 0
                ? polls
                : DEFAULT_MIN_LOOP_STALL_THRESHOLD;
      } else if (stall.compareTo(poll) <= 0) {
        throw new IllegalArgumentException(
            "loopStallThreshold must be longer than the scheduler's poll interval "
                + Text.duration(poll)
                + ", got "
                + Text.duration(stall)
                + ": an idle loop waits up to a poll interval between turns and would look"
                + " stalled");
      }
      return new WorkgateHealth(this, stall);
    }

    private static Duration positive(Duration value, String setting) {
      if (value == null || value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(
            setting + " must be positive, got " + (value == null ? "null" : Text.duration(value)));
      }
      return value;
    }

    private static Duration timeout(Duration value, String setting) {
      positive(value, setting);
      if (value.compareTo(MAX_TIMEOUT) > 0) {
        throw new IllegalArgumentException(
            setting
                + " must be at most "
                + Text.duration(MAX_TIMEOUT)
                + ", got "
                + Text.duration(value));
      }
      return value;
    }

    private static long notNegative(long value, String setting) {
      if (value < 0) {
        throw new IllegalArgumentException(setting + " must not be negative, got " + value);
      }
      return value;
    }
  }
}
