package dev.workgate.scheduler.internal;

import dev.workgate.core.QueueFullException;
import dev.workgate.core.Subscription;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.internal.Submissions;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.retry.internal.RetryManager;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.scheduler.ResourceHealthReport.PressureLevel;
import dev.workgate.scheduler.SchedulerStats;
import dev.workgate.scheduler.SchedulerStats.UnrunnableWork;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's scheduler: a pull loop that claims from the store only what the node can afford and
 * hands each claim, with its reserved resources, to a {@link WorkDispatcher}.
 *
 * <p>Each turn of the loop, in order: records a heartbeat; reads memory ({@link
 * ResourceMonitor#refresh()}); releases due retries ({@link RetryManager#releaseDue}); reaps
 * expired leases of any node by releasing the attempt without charging it ({@link
 * RetryManager#recordRelease}, {@code LEASE_EXPIRED}, or {@code LEASE_NOT_RENEWED} for an attempt
 * this node stopped itself); renews the leases of this node's running work when due (and passes on
 * cancellation requests made elsewhere); writes this node's row in the node table when due ({@link
 * #unrunnableWork()}); then claims what fits, queue by queue, in the store's order (priority, then
 * age), within per-queue limits, the stagger delay and the start rate. Under {@link
 * PressureLevel#WARNING} the slot limit is halved, under {@link PressureLevel#CRITICAL} nothing is
 * claimed. A work order that could run here but has waited longer than the starvation threshold for
 * resources that smaller work keeps taking makes the node hold back every new start until it fits.
 *
 * <p>The loop sleeps until the earliest of: the poll interval, the next retry or delayed work
 * order, the next lease renewal, the end of a stagger. It wakes at once on a {@link #submit} to a
 * served queue, on a {@link ClaimedWork#release()}, on a pressure change and on the store's
 * notifications. An idle node therefore turns once per poll interval and uses no CPU in between. A
 * wake-up that comes within {@link TurnPacer#FULL_TURN_INTERVAL} of the last full turn (and before
 * the time that turn named, and fewer than {@link TurnPacer#MAX_LIGHT_TURNS} times in a row) runs a
 * claim-only turn: reading memory and claiming, nothing else; a sleep that ran its time always ends
 * in a full turn. A busy node thus pays one claim per freed slot, and still runs every step above
 * at least every {@link TurnPacer#FULL_TURN_INTERVAL}. {@link #runOnce()} always runs a full turn.
 *
 * <p><b>Self-fencing.</b> Each claim keeps the expiry of the lease this node last wrote ({@link
 * ClaimedWork#leaseExpiresAt()}). If no renewal has succeeded by that expiry minus the {@link
 * SchedulerConfig#selfFenceMargin() self-fence margin} (the store throws, hangs, or the loop thread
 * is stuck), the node stops the work itself through {@link WorkDispatcher#leaseLost}, once, and
 * renews that lease no more: it expires and is reaped by whichever node reaches the store. Another
 * node reaps only once the lease has expired by its own clock, so with a margin longer than the
 * kill grace plus the clock skew between nodes, the two executions never overlap. The check runs on
 * a watchdog thread of its own while the loop runs (a loop thread blocked inside a hung store call
 * cannot stop anything), at the start of every {@link #runOnce()}, before each renewal, and on
 * {@link #fenceOverdueWork()}. A renewal that throws is tried again on the next full turn rather
 * than a renew interval later.
 *
 * <p>Thread-safe. Turns never overlap: {@link #runOnce()} may be called by a host or a test that
 * drives the loop itself instead of {@link #start()}.
 */
public final class Scheduler implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

  /** The most due retries released per turn. */
  static final int RELEASE_LIMIT = 1_000;

  private final WorkOrderStore store;
  private final ResourceMonitor monitor;
  private final RetryManager retries;
  private final SchedulerConfig config;
  private final Clock clock;
  private final ThreadFactory threadFactory;
  private final ThreadFactory watchdogFactory;
  private final NodeHeartbeat heartbeat;
  private final Submissions submissions;
  private final TurnSteps steps;

  private final Object turnLock = new Object();
  private final Object lifecycleLock = new Object();
  private final LeaseKeeper leases;
  private final Reaper reaper;
  private final BlockedWork blocked;
  private final StarvationGuard starvation;
  private final Claimer claimer;
  private final TurnPacer pacer;
  private final AtomicLong turns = new AtomicLong();
  private volatile Instant lastHeartbeat;
  private volatile boolean running;
  private volatile boolean closed;
  private volatile boolean claiming = true;
  private volatile Thread loopThread; // written under lifecycleLock
  private volatile Thread watchdogThread; // written under lifecycleLock
  private List<Subscription> subscriptions = List.of(); // guarded by lifecycleLock

  private Scheduler(Builder b) {
    this.store = b.store;
    this.config = b.config;
    this.clock = b.clock;
    this.monitor =
        b.monitor != null
            ? b.monitor
            : new ResourceMonitor(ResourceConfig.defaults(), MemoryProbes.system(), b.clock);
    this.retries = b.retries != null ? b.retries : RetryManager.builder(store).clock(clock).build();
    this.threadFactory = b.threadFactory;
    this.watchdogFactory = b.watchdogFactory;
    this.heartbeat = new NodeHeartbeat(store, config, monitor, clock);
    this.steps = new TurnSteps(config.nodeId(), clock);
    this.pacer =
        new TurnPacer(
            store,
            retries,
            config,
            clock,
            steps,
            new WakeSignal(clock, config.pollInterval(), () -> running, () -> running = false));
    this.leases =
        new LeaseKeeper(
            store,
            b.dispatcher,
            config,
            clock,
            new WakeSignal(clock, config.pollInterval(), () -> running, () -> running = false));
    this.reaper = new Reaper(store, retries, config, leases);
    this.blocked = new BlockedWork(store, config.pollInterval());
    this.starvation = new StarvationGuard(store, config, monitor, leases::room);
    this.claimer =
        new Claimer(
            store,
            b.dispatcher,
            monitor,
            retries,
            config,
            clock,
            steps,
            leases,
            new StartGate(config.staggerDelay(), config.maxStartsPerSecond()),
            starvation,
            this);
    this.submissions =
        Submissions.builder(store)
            .clock(clock)
            .ids(b.ids)
            .depthLimits(config::maxQueueDepth)
            .memoryPerSlotMb(monitor.config().memoryPerSlotMb())
            .admission(heartbeat::requireFits)
            .afterSubmit(pacer::wakeIfServed)
            .build();
  }

  /**
   * A builder for a scheduler over a store that hands claims to a dispatcher.
   *
   * @param store the shared store
   * @param dispatcher what runs claimed work
   * @return a new builder
   */
  public static Builder builder(WorkOrderStore store, WorkDispatcher dispatcher) {
    return new Builder(
        Objects.requireNonNull(store, "store"), Objects.requireNonNull(dispatcher, "dispatcher"));
  }

  /**
   * The configuration.
   *
   * @return the config
   */
  public SchedulerConfig config() {
    return config;
  }

  /**
   * The node's resource monitor.
   *
   * @return the monitor
   */
  public ResourceMonitor resources() {
    return monitor;
  }

  /**
   * The retry manager that decides failures and releases retries.
   *
   * @return the manager
   */
  public RetryManager retries() {
    return retries;
  }

  /**
   * The submit path of this node: {@link Submissions} over the store with this node's depth limits
   * ({@link SchedulerConfig#maxQueueDepth}), the monitor's memory per slot, this node's admission
   * check (its own capacity, then the node table) and a wake-up of the loop after a submit to a
   * queue it serves. Every submit through the node ({@code Workgate}, its client, {@link #submit})
   * goes through it.
   *
   * @return the submissions; thread-safe
   */
  public Submissions submissions() {
    return submissions;
  }

  /**
   * Submits a work order through {@link #submissions()}: appends {@code Submitted} and wakes the
   * loop if this node serves the queue. A spec that declares no memory gets the monitor's per-slot
   * default written into it, so every node admits it by the same figure. A second submit with the
   * same idempotency key returns the first work order's id and writes nothing.
   *
   * <p>If the queue has a maximum depth, submits through this node are checked and appended one at
   * a time, so this node never exceeds it; submits through other nodes at the same moment can
   * exceed it by the number of those submits.
   *
   * @param spec what to run
   * @return the work order's id
   * @throws QueueFullException if the queue is at its maximum depth; nothing is written
   * @throws dev.workgate.core.WorkDoesNotFitException if neither this node nor any node in the node
   *     table could ever give it the slots and memory it asks for; nothing is written
   * @throws IllegalStateException if the scheduler is closed
   */
  public WorkOrderId submit(WorkOrderSpec spec) {
    return submit(spec, null);
  }

  /**
   * Submits a work order that replaces a failed or cancelled one, recording where it came from;
   * otherwise as {@link #submit(WorkOrderSpec)}.
   *
   * @param spec what to run
   * @param resubmittedFrom the work order it replaces, or null for a new one
   * @return the new work order's id
   * @throws QueueFullException if the queue is at its maximum depth; nothing is written
   * @throws IllegalStateException if the scheduler is closed
   */
  public WorkOrderId submit(WorkOrderSpec spec, WorkOrderId resubmittedFrom) {
    Objects.requireNonNull(spec, "spec");
    requireOpen();
    return submissions.submit(spec, resubmittedFrom);
  }

  /**
   * Submits many work orders in one atomic append through {@link #submissions()}: one transaction
   * on a durable store, so a batch costs about what one submit costs. Either all are written or, on
   * an exception, none is. Each spec is handled as {@link #submit(WorkOrderSpec)} handles it (the
   * memory default, the idempotency key): a spec whose key is taken, or repeats one earlier in the
   * batch, gets the first work order's id.
   *
   * <p>Maximum queue depths are checked for the whole batch before anything is written: a batch
   * that would take a queue past its limit is refused whole.
   *
   * @param specs what to run, in order; may be empty
   * @return the work orders' ids, in the order of {@code specs}
   * @throws QueueFullException if the batch would take a queue past its maximum depth; nothing is
   *     written
   * @throws IllegalStateException if the scheduler is closed
   */
  public List<WorkOrderId> submitAll(List<WorkOrderSpec> specs) {
    Objects.requireNonNull(specs, "specs");
    requireOpen();
    return submissions.submitAll(specs);
  }

  /**
   * Stops new claims while the loop goes on renewing the leases of running work, releasing retries
   * and reaping: the first step of draining a node for shutdown. Waits for a turn in progress, so
   * that when this returns every claim made has been handed to the dispatcher. Idempotent.
   */
  public void stopClaiming() {
    synchronized (turnLock) {
      claiming = false;
    }
  }

  /**
   * Whether the loop claims new work.
   *
   * @return false after {@link #stopClaiming()}
   */
  public boolean isClaiming() {
    return claiming;
  }

  /** Wakes the loop for a turn as soon as it can take one. */
  public void wake() {
    pacer.wake();
  }

  /**
   * Starts the loop on a thread from the thread factory and subscribes to the store's and the
   * monitor's notifications. Idempotent.
   *
   * @throws IllegalStateException if the scheduler is closed
   */
  public void start() {
    synchronized (lifecycleLock) {
      requireOpen();
      if (loopThread != null) {
        return;
      }
      List<Subscription> subscribed = new ArrayList<>(2);
      try {
        subscribed.add(store.subscribe(pacer::wakeIfServed));
        // The monitor logs the change itself; the loop only needs to look again.
        subscribed.add(
            monitor.addListener(
                new ResourceListener() {
                  @Override
                  public void pressureChanged(
                      PressureLevel from, PressureLevel to, MemoryReading reading) {
                    pacer.wake();
                  }
                }));
        // The watchdog first, so that no claim of the loop runs without it.
        Thread watchdog =
            watchdogFactory.newThread(
                () -> leases.watch(() -> running && watchdogThread == Thread.currentThread()));
        Thread thread = threadFactory.newThread(this::loop);
        running = true;
        watchdogThread = watchdog;
        loopThread = thread;
        watchdog.start();
        thread.start();
        subscriptions = List.copyOf(subscribed);
      } catch (RuntimeException | Error e) {
        running = false;
        loopThread = null;
        watchdogThread = null;
        leases.wakeWatchdog();
        subscribed.forEach(Subscription::close);
        throw e;
      }
    }
  }

  /**
   * Stops the loop after its current turn, and its lease watchdog, and waits for both. Claimed work
   * keeps running and keeps its resources, but its leases are no longer renewed and nothing fences
   * it any more: stop the scheduler after the work has drained. Idempotent; the scheduler can be
   * started again unless closed.
   */
  public void stop() {
    Thread thread;
    Thread watchdog;
    synchronized (lifecycleLock) {
      if (loopThread == null && watchdogThread == null && subscriptions.isEmpty()) {
        return;
      }
      running = false;
      subscriptions.forEach(Subscription::close);
      subscriptions = List.of();
      thread = loopThread;
      loopThread = null;
      watchdog = watchdogThread;
      watchdogThread = null;
    }
    pacer.wake();
    leases.wakeWatchdog();
    join(watchdog);
    join(thread);
  }

  private static void join(Thread thread) {
    if (thread != null && thread != Thread.currentThread()) {
      try {
        thread.join(TimeUnit.SECONDS.toMillis(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Stops the loop for good and removes this node's row from the node table if it wrote one. Does
   * not close the store. Idempotent.
   */
  @Override
  public void close() {
    boolean first;
    synchronized (lifecycleLock) {
      first = !closed;
      closed = true; // no start() from here on
    }
    stop();
    if (first && heartbeat.hasBeaten()) {
      heartbeat.leave();
    }
  }

  /**
   * Pending work orders that no live node could ever run, as the last node heartbeat found them
   * (see {@link UnrunnableWork}).
   *
   * @return the last finding; {@link UnrunnableWork#NONE} before the first heartbeat
   */
  public UnrunnableWork unrunnableWork() {
    return heartbeat.unrunnable();
  }

  /**
   * This node's row as the next heartbeat would write it: capacity, use, pressure.
   *
   * @return the status, stamped now
   */
  public dev.workgate.core.store.StoreView.NodeStatus nodeStatus() {
    return heartbeat.status(clock.instant());
  }

  /**
   * Whether the loop thread runs.
   *
   * @return true between {@link #start()} and {@link #stop()}
   */
  public boolean isRunning() {
    return running;
  }

  /**
   * When the loop last began a turn, read without touching the store: unlike {@link #stats()},
   * which counts work orders in the store, this answers at once even when the store hangs, which a
   * liveness check needs.
   *
   * @return the time by the scheduler's clock, empty before the first turn
   */
  public Optional<Instant> lastHeartbeat() {
    return Optional.ofNullable(lastHeartbeat);
  }

  /**
   * Expired leases this node reaped since the scheduler was built, read without touching the store
   * (the same figure as {@link SchedulerStats#reaped()}).
   *
   * @return the count
   */
  public long reapedCount() {
    return reaper.reapedCount();
  }

  /**
   * Attempts this node stopped itself since the scheduler was built because no renewal of their
   * leases succeeded by the self-fence deadline (the same figure as {@link
   * SchedulerStats#selfFenced()}). Read without touching the store.
   *
   * @return the count; it only rises
   */
  public long selfFencedCount() {
    return leases.selfFencedCount();
  }

  /**
   * How long before a lease expires this node stops work whose lease it could not renew: {@link
   * SchedulerConfig#selfFenceMargin()}. A runtime checks that it exceeds the kill grace of its
   * executions, or the stopped work could still run when another node starts it.
   *
   * @return the margin
   */
  public Duration selfFenceMargin() {
    return config.selfFenceMargin();
  }

  /**
   * Stops every attempt of this node whose lease was not renewed by its self-fence deadline (its
   * {@link ClaimedWork#leaseExpiresAt()} minus the {@link #selfFenceMargin()}): calls {@link
   * WorkDispatcher#leaseLost} for it, once, counts it and logs it at WARN. Touches no store and
   * takes no lock a turn holds, so it runs even while a turn hangs in the store. The watchdog calls
   * it while the loop runs, and {@link #runOnce()} at its start; a host that drives the scheduler
   * by hand on a thread that may hang in the store calls it from another thread.
   *
   * @return the earliest self-fence deadline of the work still running, by the scheduler's clock;
   *     empty when there is none
   */
  public Optional<Instant> fenceOverdueWork() {
    return leases.fenceOverdueWork();
  }

  /**
   * Work orders this node claimed since the scheduler was built (the same figure as {@link
   * SchedulerStats#claimed()}), read without touching the store.
   *
   * @return the count; it only rises
   */
  public long claimedCount() {
    return claimer.claimedCount();
  }

  /**
   * Turns the loop (or {@link #runOnce()}) began since the scheduler was built (the same figure as
   * {@link SchedulerStats#turns()}), read without touching the store.
   *
   * @return the count; it only rises
   */
  public long turnCount() {
    return turns.get();
  }

  /**
   * Steps of this node's turns that failed since the scheduler was built: each failed step (a claim
   * from one queue, reaping, renewing, releasing retries, a next-turn query...) was logged (at most
   * once a minute per step) and the turn went on with the next one. Read without touching the
   * store.
   *
   * @return the count; it only rises
   */
  public long stepFailureCount() {
    return steps.failureCount();
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("scheduler " + config.nodeId() + " is closed");
    }
  }

  private void loop() {
    int failures = 0;
    boolean woken = false; // the first turn, and every turn after a sleep that ran out, is full
    int lightTurns = 0;
    // A thread left over from an earlier start() that outlived stop()'s wait ends here.
    while (running && loopThread == Thread.currentThread()) {
      Instant next;
      try {
        if (!woken || lightTurns >= TurnPacer.MAX_LIGHT_TURNS || fullTurnDue()) {
          lightTurns = 0;
          next = runOnce();
        } else {
          lightTurns++;
          next = claimTurn();
        }
        failures = 0;
      } catch (RuntimeException | LinkageError | AssertionError e) {
        failures++;
        if (failures == 1 || failures % 60 == 0) {
          LOG.warn("scheduler turn on {} failed ({} in a row)", config.nodeId(), failures, e);
        }
        long backoffMillis =
            Math.min(config.pollInterval().toMillis(), 50L << Math.min(failures, 10));
        next = clock.instant().plusMillis(backoffMillis);
      }
      woken = pacer.awaitUntil(next);
    }
  }

  /**
   * Runs one turn of the loop now (see the class description) and says when the next one is due.
   * Hosts and tests that drive the scheduler themselves call this instead of {@link #start()}.
   *
   * @return when the next turn should run, by the scheduler's clock
   * @throws RuntimeException whatever the store throws; the turn stops there
   */
  public Instant runOnce() {
    synchronized (turnLock) {
      Instant now = clock.instant();
      pacer.fullTurnStarted(now); // a turn that throws leaves the next one full too
      lastHeartbeat = now;
      turns.incrementAndGet();
      // First, before any store call can hang: work whose lease could not be renewed stops.
      fenceOverdueWork();
      steps.run("reading resources", monitor::refresh);
      // Each step on its own: a store error in one (an undecodable retry, a claim that throws)
      // must not stop the others, above all the renewal of running work's leases.
      steps.run("releasing due retries", () -> retries.releaseDue(now, RELEASE_LIMIT));
      steps.run("reaping expired leases", () -> reaper.reap(now));
      steps.run("deciding blocked work", () -> blocked.decideIfDue(now));
      if (leases.renewalDue(now)) {
        boolean renewed = steps.run("renewing leases", leases::renewAll, false);
        // A renewal that failed is tried again on the next full turn, not a whole interval later.
        leases.renewalDone(now, renewed);
      }
      steps.run("recording the node's heartbeat", () -> heartbeat.beatIfDue(now));
      Instant gateOpensAt =
          steps.run("claiming", () -> claimer.claimAndDispatch(now, true, claiming), null);
      return pacer.fullTurnEnded(
          now, leases.nextRenewal(), gateOpensAt, leases.fenceOverdueWork().orElse(null));
    }
  }

  /**
   * Whether the loop's next turn must be a full one: none ran yet, the last one failed, the time it
   * named has come, or {@link TurnPacer#FULL_TURN_INTERVAL} has passed since it ran.
   */
  private boolean fullTurnDue() {
    synchronized (turnLock) {
      return pacer.fullTurnDue();
    }
  }

  /**
   * A turn that only claims: what the loop runs when it was woken (a slot freed, work submitted)
   * soon after a full turn. It skips the steps a wake cannot make due (releasing retries, reaping,
   * renewing, the starvation check, the next-turn queries), so that a busy node costs one claim per
   * wake-up rather than half a dozen store calls; those steps run on the next full turn, at most
   * {@link TurnPacer#FULL_TURN_INTERVAL} later. While a starving work order holds capacity back, it
   * claims nothing.
   */
  private Instant claimTurn() {
    synchronized (turnLock) {
      Instant now = clock.instant();
      lastHeartbeat = now;
      turns.incrementAndGet();
      steps.run("reading resources", monitor::refresh);
      Instant next = pacer.claimTurnNext();
      if (!starvation.isHolding()) {
        Instant opensAt =
            steps.run("claiming", () -> claimer.claimAndDispatch(now, false, claiming), null);
        next = TurnPacer.earliest(next, opensAt);
      }
      return TurnPacer.notBeforeMinSleep(now, next);
    }
  }

  /**
   * A work order ended, or was submitted to wait for others, where this node heard it: blocked work
   * may be decidable now. Wakes the loop; its next full turn decides.
   */
  public void dependenciesMayHaveChanged() {
    blocked.wake();
    pacer.wake();
  }

  void released(ClaimedWork work) {
    leases.remove(work);
    monitor.release(work.slot());
    pacer.wake();
  }

  /**
   * The work this node has claimed and not released.
   *
   * @return a snapshot
   */
  public List<ClaimedWork> activeWork() {
    return List.copyOf(leases.claims());
  }

  /**
   * A snapshot of the scheduler: queue depths, active work, the loop's heartbeat and counters.
   *
   * @return the stats
   */
  public SchedulerStats stats() {
    QueueCounts counts = store.counts();
    Map<String, Long> depth = new LinkedHashMap<>();
    for (String queue : config.queues()) {
      depth.put(queue, counts.depth(queue));
    }
    Map<String, Integer> byQueue = new HashMap<>();
    for (ClaimedWork work : leases.claims()) {
      byQueue.merge(work.view().queue(), 1, Integer::sum);
    }
    Instant beat = lastHeartbeat;
    return new SchedulerStats(
        config.nodeId(),
        running,
        Map.copyOf(depth),
        leases.size(),
        Map.copyOf(byQueue),
        claimer.lastClaimAt(),
        Optional.ofNullable(beat),
        beat == null ? Duration.ZERO : Duration.between(beat, clock.instant()),
        turns.get(),
        claimer.claimedCount(),
        reaper.reapedCount(),
        leases.selfFencedCount(),
        starvation.holdingFor(),
        monitor.health());
  }

  /** Builds a {@link Scheduler}. Not thread-safe. */
  public static final class Builder {
    private final WorkOrderStore store;
    private final WorkDispatcher dispatcher;
    private SchedulerConfig config;
    private ResourceMonitor monitor;
    private RetryManager retries;
    private Clock clock = Clock.systemUTC();
    private ThreadFactory threadFactory;
    private ThreadFactory watchdogFactory;
    private java.util.function.Supplier<WorkOrderId> ids = WorkOrderId::random;

    private Builder(WorkOrderStore store, WorkDispatcher dispatcher) {
      this.store = store;
      this.dispatcher = dispatcher;
    }

    /**
     * The configuration. Default {@link SchedulerConfig#defaults()} (a random node id).
     *
     * @param config the config
     * @return this builder
     */
    public Builder config(SchedulerConfig config) {
      this.config = Objects.requireNonNull(config, "config must not be null");
      return this;
    }

    /**
     * The node's resource monitor. Default: {@link ResourceConfig#defaults()} over {@link
     * MemoryProbes#system()}.
     *
     * @param monitor the monitor
     * @return this builder
     */
    public Builder resources(ResourceMonitor monitor) {
      this.monitor = Objects.requireNonNull(monitor, "resources must not be null");
      return this;
    }

    /**
     * The retry manager; it must use the same store. Default: {@link RetryManager} with its default
     * policy over the store and this builder's clock.
     *
     * @param retries the manager
     * @return this builder
     */
    public Builder retries(RetryManager retries) {
      this.retries = Objects.requireNonNull(retries, "retries must not be null");
      return this;
    }

    /**
     * The clock turns run by. Default UTC system clock.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock must not be null");
      return this;
    }

    /**
     * Makes the scheduler's two threads: the lease watchdog's, then the loop's, on each {@link
     * Scheduler#start()}. Default: daemon threads named {@code workgate-lease-watchdog-<node>} and
     * {@code workgate-scheduler-<node>}.
     *
     * @param factory the factory
     * @return this builder
     */
    public Builder threadFactory(ThreadFactory factory) {
      this.threadFactory = Objects.requireNonNull(factory, "threadFactory must not be null");
      this.watchdogFactory = factory;
      return this;
    }

    /**
     * Makes the ids of submitted work orders. Default {@link WorkOrderId#random()}. A replacement
     * must return a new, unique id on every call and be thread-safe; a seeded one makes a
     * simulation replay the same ids.
     *
     * @param ids the id supplier
     * @return this builder
     */
    public Builder ids(java.util.function.Supplier<WorkOrderId> ids) {
      this.ids = Objects.requireNonNull(ids, "ids must not be null");
      return this;
    }

    /**
     * Builds the scheduler; it does nothing until {@link Scheduler#start()} or {@link
     * Scheduler#runOnce()}.
     *
     * @return the scheduler
     */
    public Scheduler build() {
      if (config == null) {
        config = SchedulerConfig.defaults();
      }
      if (threadFactory == null) {
        threadFactory = daemon("workgate-scheduler-" + config.nodeId());
        watchdogFactory = daemon("workgate-lease-watchdog-" + config.nodeId());
      }
      return new Scheduler(this);
    }

    private static ThreadFactory daemon(String name) {
      return runnable -> {
        Thread thread = new Thread(runnable, name);
        thread.setDaemon(true);
        return thread;
      };
    }
  }
}
