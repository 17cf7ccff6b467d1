package dev.workgate.execution.internal;

import dev.workgate.NodeView;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Text;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.execution.Sandbox;
import dev.workgate.execution.SandboxProvider;
import dev.workgate.retry.internal.RetryManager;
import dev.workgate.scheduler.internal.ClaimedWork;
import dev.workgate.scheduler.internal.WorkDispatcher;
import dev.workgate.spi.ClaimRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs claimed work: the {@link WorkDispatcher} the scheduler hands claims to. Each execution owns
 * its sandbox from creation to destruction, and nothing else ever destroys it. In order: create the
 * sandbox (a failure is {@code SANDBOX_CREATION_FAILED}, a creation past {@link
 * Builder#sandboxCreationTimeout} {@code SANDBOX_CREATION_TIMEOUT}); append {@code Started} (unless
 * the claim wrote it: see {@link #startOnClaim()}); run under the work order's timeout ({@code
 * TIMEOUT}); append {@code Completed}, {@code Cancelled} or {@code AttemptFailed} with the retry
 * manager's decision; destroy the sandbox; release the slot. The destroy and the release happen in
 * every outcome.
 *
 * <p><b>Creation.</b> A provider's create runs on a creation thread while the execution waits for
 * it without a thread of its own. A cancel, a shutdown or the creation timeout gives up on it at
 * once: the create is interrupted, the execution records its outcome, and a sandbox the create
 * still returns is destroyed, never run. A create that ignores the interrupt keeps its creation
 * thread until it returns, listed by {@link #abandonedCreations()}; its execution stays (in {@code
 * CLEANUP}, holding its slot) until then, or for {@link Builder#abandonedHandlerSlotCap} at most.
 *
 * <p><b>Abandoned work keeps its slot.</b> When a sandbox gives up on work that ignored its stop
 * (see {@link Sandbox#whenStopped()}), the outcome is recorded as usual, but the slot stays
 * reserved until the work really stops, or for {@link Builder#abandonedHandlerSlotCap} at most;
 * such work is listed by {@link #abandonedHandlers()}.
 *
 * <p><b>Fencing.</b> Every outcome is appended only while the work order is still this node's
 * (active, leased to this node, same attempt); when it is not, because the lease was lost and the
 * attempt reaped, the result is discarded, the sandbox killed, and nothing is written.
 *
 * <p><b>One execution per work order.</b> A retry can be claimed while the previous attempt's
 * execution on this node has recorded its outcome but is still destroying its sandbox. The new
 * attempt then waits, holding its slot, and starts only once the previous one has ended, so two
 * attempts of one work order never run side by side on a node.
 *
 * <p>Thread-safe. Executions run on a pool with one thread per slot of the node, or on executors
 * the host supplies ({@link Builder#executor}, {@link Builder#timer}, {@link
 * Builder#killExecutor}).
 */
public final class ExecutionManager implements WorkDispatcher, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutionManager.class);

  /** Ten seconds for work to stop by itself after a cancel or a timeout, then it is killed. */
  public static final Duration DEFAULT_KILL_GRACE = Duration.ofSeconds(10);

  /** A work order without a timeout of its own may run an hour per attempt. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofHours(1);

  /**
   * Five minutes to create a sandbox: room for a provider that clones a repository or pulls an
   * image, far below the hour an attempt may run. A creation that takes longer is taken as hung (a
   * stuck mount, a registry that never answers) and would hold its slot doing nothing.
   */
  public static final Duration DEFAULT_SANDBOX_CREATION_TIMEOUT = Duration.ofMinutes(5);

  /**
   * An abandoned handler keeps its slot for an hour at most, as long as an attempt may run by
   * default: a thread that has ignored its stop for that long is taken as stuck for good, and
   * holding its slot longer would only shrink the node until a restart.
   */
  public static final Duration DEFAULT_ABANDONED_HANDLER_SLOT_CAP = Duration.ofHours(1);

  /** Why an execution was stopped from outside. */
  enum StopReason {
    CANCELLED,
    TIMEOUT,
    LEASE_LOST,
    SHUTDOWN
  }

  private final OutcomeRecorder recorder;
  private final Map<String, SandboxProvider> providers;
  private final String nodeId;
  private final Clock clock;
  private final Duration killGrace;
  private final Duration leaseLostGrace;
  private final Duration defaultTimeout;
  private final Duration abandonedHandlerSlotCap;
  private final SandboxCreations creations;
  private final AbandonedHandlers abandoned;
  private final ExecutionThreads threads;
  private final ActiveExecutions active;
  private final Execution.Parts parts;
  private final List<ExecutionListener> listeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private final Optional<ClaimRequest.StartOnClaim> startOnClaim;

  private ExecutionManager(Builder b) {
    this.recorder = new OutcomeRecorder(b.store, b.retries, b.nodeId);
    this.active = new ActiveExecutions(b.nodeId);
    this.providers = Map.copyOf(b.providers);
    this.startOnClaim =
        providers.values().stream().anyMatch(p -> p instanceof InProcessSandboxProvider)
            ? Optional.of(this::inProcessSandbox)
            : Optional.empty();
    this.nodeId = b.nodeId;
    this.clock = b.clock;
    this.killGrace = b.killGrace;
    this.leaseLostGrace =
        b.leaseLostGrace == null || b.leaseLostGrace.compareTo(b.killGrace) > 0
            ? b.killGrace
            : b.leaseLostGrace;
    this.defaultTimeout = b.defaultTimeout;
    this.abandonedHandlerSlotCap = b.abandonedHandlerSlotCap;
    this.threads =
        new ExecutionThreads(
            nodeId,
            b.threads,
            b.threadFactory,
            b.executor,
            b.timer,
            b.killExecutor,
            b.creationExecutor);
    this.abandoned = new AbandonedHandlers(clock, threads.timers, abandonedHandlerSlotCap);
    this.creations =
        new SandboxCreations(threads.creators, threads.timers, b.creationTimeout, clock);
    this.parts =
        new Execution.Parts(
            providers,
            nodeId,
            clock,
            killGrace,
            defaultTimeout,
            abandonedHandlerSlotCap,
            threads.executions,
            threads.timers,
            threads.killers,
            recorder,
            creations,
            abandoned,
            active,
            listeners);
  }

  /**
   * Checks a kill grace as the builder does, for builders that pass one on.
   *
   * @param grace the grace
   * @return the grace
   * @throws IllegalArgumentException unless it is between 0 and 1 hour
   */
  public static Duration requireKillGrace(Duration grace) {
    if (grace == null || grace.isNegative() || grace.compareTo(Duration.ofHours(1)) > 0) {
      throw new IllegalArgumentException(
          "killGrace must be between 0 and 1 hour, got "
              + (grace == null ? null : Text.duration(grace)));
    }
    return grace;
  }

  /**
   * Checks a default timeout as the builder does, for builders that pass one on.
   *
   * @param timeout the timeout
   * @return the timeout
   * @throws IllegalArgumentException unless it is positive
   */
  public static Duration requireTimeout(Duration timeout) {
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException(
          "defaultTimeout must be positive, got "
              + (timeout == null ? null : Text.duration(timeout)));
    }
    return timeout;
  }

  /**
   * Checks a sandbox creation timeout as the builder does, for builders that pass one on.
   *
   * @param timeout the timeout
   * @return the timeout
   * @throws IllegalArgumentException unless it is positive
   */
  public static Duration requireSandboxCreationTimeout(Duration timeout) {
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException(
          "sandboxCreationTimeout must be positive, got "
              + (timeout == null ? null : Text.duration(timeout)));
    }
    return timeout;
  }

  /**
   * Checks an abandoned handler's slot cap as the builder does, for builders that pass one on.
   *
   * @param cap the cap
   * @return the cap
   * @throws IllegalArgumentException unless it is between 0 and 7 days
   */
  public static Duration requireAbandonedHandlerSlotCap(Duration cap) {
    if (cap == null || cap.isNegative() || cap.compareTo(Duration.ofDays(7)) > 0) {
      throw new IllegalArgumentException(
          "abandonedHandlerSlotCap must be between 0 and 7 days, got "
              + (cap == null ? null : Text.duration(cap)));
    }
    return cap;
  }

  /**
   * A builder.
   *
   * @param store the store
   * @param retries decides failed attempts; uses the same store
   * @param nodeId the node, the owner of its leases
   * @return a new builder
   */
  public static Builder builder(WorkOrderStore store, RetryManager retries, String nodeId) {
    return new Builder(store, retries, nodeId);
  }

  /**
   * Whether a type has a provider.
   *
   * @param type the work-order type
   * @return true if work of that type can run here
   */
  public boolean handles(String type) {
    return providers.containsKey(type);
  }

  /**
   * The providers, by type.
   *
   * @return an immutable map
   */
  public Map<String, SandboxProvider> providers() {
    return providers;
  }

  /**
   * Hears when this node's executions end.
   *
   * @param listener the listener
   */
  public void addListener(ExecutionListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Starts work of an in-process provider in the claim: its sandbox is named {@link
   * SandboxPaths#name} before it exists, and making it touches no disk, so {@code Started} can be
   * written with {@code Claimed} and the handler runs after one store write instead of two. Work of
   * any other provider (a process sandbox, a host's own) is claimed alone and started by its
   * execution once its sandbox is made. Empty when this node has no in-process provider.
   *
   * @return the start the scheduler puts in its claims
   */
  @Override
  public Optional<ClaimRequest.StartOnClaim> startOnClaim() {
    return startOnClaim;
  }

  private Optional<String> inProcessSandbox(WorkOrderView claimed) {
    return providers.get(claimed.type()) instanceof InProcessSandboxProvider
        ? Optional.of(SandboxPaths.name(claimed.id(), claimed.attempt()))
        : Optional.empty();
  }

  /**
   * Runs a claim. When an earlier attempt of the same work order is still ending here (its outcome
   * recorded, its sandbox being destroyed), this one starts once that one has ended.
   *
   * @throws IllegalStateException if the same or a later attempt of the work order is already
   *     executing here
   */
  @Override
  public void dispatch(ClaimedWork work) {
    Execution execution = new Execution(work, parts);
    if (!active.add(execution)) {
      return;
    }
    try {
      threads.executions.execute(execution::run);
    } catch (RuntimeException e) {
      active.removeUnstarted(execution);
      throw e;
    }
  }

  @Override
  public void cancellationRequested(ClaimedWork work, String reason) {
    Execution execution = active.find(work);
    if (execution != null) {
      execution.stop(StopReason.CANCELLED, reason);
    }
  }

  @Override
  public void leaseLost(ClaimedWork work) {
    Execution execution = active.find(work);
    if (execution != null) {
      execution.stop(StopReason.LEASE_LOST, "lease lost", leaseLostGrace);
    }
  }

  /**
   * Stops a local execution because its work order was cancelled: kills the sandbox within the
   * grace period, then appends {@code Cancelled}.
   *
   * @param id the work order
   * @param reason the reason
   * @return true if it executes here
   */
  public boolean cancel(WorkOrderId id, String reason) {
    List<Execution> chain = active.chain(id);
    for (Execution e : chain) {
      e.stop(StopReason.CANCELLED, reason);
    }
    return !chain.isEmpty();
  }

  /**
   * How long stopped work (cancelled, timed out, shut down) may take to end before it is killed.
   *
   * @return the grace
   */
  public Duration killGrace() {
    return killGrace;
  }

  /**
   * How long work whose lease was lost or could not be renewed may take to stop before it is killed
   * (see {@link Builder#leaseLostGrace}).
   *
   * @return the grace, at most {@link #killGrace()}
   */
  public Duration leaseLostGrace() {
    return leaseLostGrace;
  }

  /**
   * The timeout of work orders that set none.
   *
   * @return the default timeout
   */
  public Duration defaultTimeout() {
    return defaultTimeout;
  }

  /**
   * How long a sandbox may take to be created before the creation is given up and recorded as
   * {@code SANDBOX_CREATION_TIMEOUT}.
   *
   * @return the timeout
   */
  public Duration sandboxCreationTimeout() {
    return creations.timeout();
  }

  /**
   * How long an abandoned handler keeps its slot at most.
   *
   * @return the cap
   */
  public Duration abandonedHandlerSlotCap() {
    return abandonedHandlerSlotCap;
  }

  /**
   * Work abandoned after its kill grace whose thread still runs, each holding its slots and memory
   * until it stops or {@link #abandonedHandlerSlotCap()} has passed: for health checks and a gauge.
   * A handler that ignores its cancellation shows here, never silently.
   *
   * @return a snapshot, oldest first
   */
  public List<NodeView.AbandonedHandler> abandonedHandlers() {
    return abandoned.list();
  }

  /**
   * Sandbox creations that were given up (timed out, or their execution stopped) while the
   * provider's create call still runs, ignoring its interrupt: each holds a creation thread, and a
   * sandbox it still returns is destroyed at once, never run. Their executions have ended.
   *
   * @return a snapshot, oldest first
   */
  public List<NodeView.AbandonedCreation> abandonedCreations() {
    return creations.abandoned();
  }

  /**
   * The executions of this node.
   *
   * @return snapshots
   */
  public List<NodeView.ActiveExecution> activeExecutions() {
    List<NodeView.ActiveExecution> list = new ArrayList<>();
    for (Execution e : active.all()) {
      list.add(e.snapshot());
    }
    return list;
  }

  /**
   * The sandbox ids of live executions, which the orphan reaper must never touch.
   *
   * @return a snapshot
   */
  Set<String> liveSandboxIds() {
    return active.sandboxIds();
  }

  /**
   * Whether a work order executes here.
   *
   * @param id the work order
   * @return true while its execution is active
   */
  public boolean isExecuting(WorkOrderId id) {
    return active.contains(id);
  }

  /** Timeout timers still queued: one per running attempt; ended attempts remove theirs. */
  int queuedTimers() {
    return threads.queuedTimers();
  }

  /**
   * Waits for every execution to end. An execution that has recorded its outcome and only waits for
   * a given-up sandbox creation to return (see {@link #abandonedCreations()}) counts as ended:
   * nothing is left to record or to kill, and a create that ignores its interrupt must not hold up
   * a shutdown.
   *
   * @param timeout how long to wait
   * @return true if none is left
   */
  public boolean awaitIdle(Duration timeout) {
    return active.awaitIdle(timeout);
  }

  /**
   * Kills every execution still running for a node shutdown: each is stopped within the grace and
   * released ({@code Released} with {@code NODE_SHUTDOWN}, which costs no attempt; see {@link
   * RetryManager#recordRelease}), so the work runs again on another node or after a restart.
   *
   * @param grace how long each may take to stop by itself
   */
  public void killAllForShutdown(Duration grace) {
    for (Execution e : active.all()) {
      e.stop(StopReason.SHUTDOWN, "node " + nodeId + " shut down", grace);
    }
  }

  /**
   * Stops the pools this manager made; executors the host supplied stay the host's. Executions
   * still running on the manager's own pool are interrupted. Idempotent.
   */
  @Override
  public void close() {
    threads.shutdownOwned();
    // Nothing is claimed any more: abandoned handlers need not hold their slots.
    abandoned.freeAll();
  }

  /** Hears the end of each execution on this node. */
  @FunctionalInterface
  public interface ExecutionListener {
    /**
     * An execution ended and its slot is released.
     *
     * @param id the work order
     * @param attempt the attempt
     * @param outcome {@code COMPLETED}, {@code RETRY}, {@code FAILED}, {@code CANCELLED}, {@code
     *     RELEASED} (given back without counting the attempt: the node shut down) or {@code
     *     DISCARDED} (nothing was recorded: the attempt was no longer this node's)
     */
    void executionEnded(WorkOrderId id, int attempt, String outcome);
  }

  /** Builds an {@link ExecutionManager}. Not thread-safe. */
  public static final class Builder {
    private final WorkOrderStore store;
    private final RetryManager retries;
    private final String nodeId;
    private final Map<String, SandboxProvider> providers = new java.util.LinkedHashMap<>();
    private Clock clock = Clock.systemUTC();
    private Duration killGrace = DEFAULT_KILL_GRACE;
    private Duration leaseLostGrace;
    private Duration defaultTimeout = DEFAULT_TIMEOUT;
    private Duration creationTimeout = DEFAULT_SANDBOX_CREATION_TIMEOUT;
    private Duration abandonedHandlerSlotCap = DEFAULT_ABANDONED_HANDLER_SLOT_CAP;
    private java.util.concurrent.Executor creationExecutor;
    private int threads = 2;
    private ExecutorService executor;
    private ScheduledExecutorService timer;
    private java.util.concurrent.Executor killExecutor;
    private ThreadFactory threadFactory;

    private Builder(WorkOrderStore store, RetryManager retries, String nodeId) {
      this.store = Objects.requireNonNull(store, "store");
      this.retries = Objects.requireNonNull(retries, "retries");
      this.nodeId = dev.workgate.core.internal.Text.requireName(nodeId, "nodeId");
    }

    /**
     * The provider for a work-order type.
     *
     * @param type the type
     * @param provider its provider
     * @return this builder
     */
    public Builder provider(String type, SandboxProvider provider) {
      dev.workgate.core.internal.Text.requireName(type, "provider type");
      if (providers.putIfAbsent(type, Objects.requireNonNull(provider, "provider")) != null) {
        throw new IllegalArgumentException("type '" + type + "' already has a handler or provider");
      }
      return this;
    }

    /**
     * The clock. Default UTC system clock.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * How long work may take to stop after a cancel or timeout before it is killed.
     *
     * @param grace zero or positive, at most an hour
     * @return this builder
     */
    public Builder killGrace(Duration grace) {
      this.killGrace = requireKillGrace(grace);
      return this;
    }

    /**
     * How long work whose lease was lost, or could not be renewed in time (self-fencing), may take
     * to stop before it is killed: it must be dead before another node may take its work order
     * over, so this is shorter than the scheduler's self-fence margin. Default, and never more
     * than, the {@link #killGrace(Duration) kill grace}.
     *
     * @param grace zero or positive, at most an hour
     * @return this builder
     */
    public Builder leaseLostGrace(Duration grace) {
      this.leaseLostGrace = requireKillGrace(grace);
      return this;
    }

    /**
     * The timeout of work orders that set none.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder defaultTimeout(Duration timeout) {
      this.defaultTimeout = requireTimeout(timeout);
      return this;
    }

    /**
     * How long a sandbox may take to be created. Past it the provider's create is interrupted, the
     * attempt is recorded as {@code SANDBOX_CREATION_TIMEOUT} (retryable), and a sandbox the create
     * still returns is destroyed. Default {@link #DEFAULT_SANDBOX_CREATION_TIMEOUT}.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder sandboxCreationTimeout(Duration timeout) {
      this.creationTimeout = requireSandboxCreationTimeout(timeout);
      return this;
    }

    /**
     * How long work abandoned after its kill grace (a handler that ignores its stop) keeps its slot
     * while its thread still runs; after it the slot is freed with a warning. Zero frees it at
     * once. The same cap bounds how long a given-up sandbox creation whose create call ignores its
     * interrupt keeps its execution's slot. Default {@link #DEFAULT_ABANDONED_HANDLER_SLOT_CAP}.
     *
     * @param cap zero or positive, at most 7 days
     * @return this builder
     */
    public Builder abandonedHandlerSlotCap(Duration cap) {
      this.abandonedHandlerSlotCap = requireAbandonedHandlerSlotCap(cap);
      return this;
    }

    /**
     * Runs sandbox creations (other than in-process ones, which make no more than an object) on
     * this executor. The manager never shuts it down. A creation that ignores the interrupt it gets
     * when given up keeps its thread until it returns. Default: the {@link #executor} when one is
     * set, so that a host that manages its threads gets no others; otherwise a cached pool of the
     * manager's own.
     *
     * @param creationExecutor the executor
     * @return this builder
     */
    public Builder creationExecutor(java.util.concurrent.Executor creationExecutor) {
      this.creationExecutor = Objects.requireNonNull(creationExecutor, "creationExecutor");
      return this;
    }

    /**
     * Threads that run executions: one per slot of the node.
     *
     * @param threads at least 1
     * @return this builder
     */
    public Builder threads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be at least 1, got " + threads);
      }
      this.threads = threads;
      return this;
    }

    /**
     * Runs executions on this executor instead of a pool of {@link #threads(int)} threads. Each
     * execution occupies a thread of it while it runs its work, so it needs one thread per slot;
     * sandbox creations also run on it unless a {@link #creationExecutor} is set. The manager never
     * shuts it down. For hosts that manage their threads, and for deterministic simulation.
     *
     * @param executor the executor
     * @return this builder
     */
    public Builder executor(ExecutorService executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Schedules timeouts on this executor instead of a thread of the manager's own. The manager
     * never shuts it down. Every attempt schedules one timeout and cancels it when it ends, so the
     * executor should drop cancelled tasks (a {@link ScheduledThreadPoolExecutor} with {@code
     * setRemoveOnCancelPolicy(true)}), or they stay queued until their time.
     *
     * @param timer the timer
     * @return this builder
     */
    public Builder timer(ScheduledExecutorService timer) {
      this.timer = Objects.requireNonNull(timer, "timer");
      return this;
    }

    /**
     * Runs kills (which wait up to the kill grace) on this executor instead of the manager's own
     * pool. The manager never shuts it down.
     *
     * @param killExecutor the executor
     * @return this builder
     */
    public Builder killExecutor(java.util.concurrent.Executor killExecutor) {
      this.killExecutor = Objects.requireNonNull(killExecutor, "killExecutor");
      return this;
    }

    /**
     * Makes the threads of the pools the manager makes for itself (executions, timeouts, kills,
     * sandbox creations: those not replaced by {@link #executor}, {@link #timer}, {@link
     * #killExecutor} or {@link #creationExecutor}); the manager shuts those pools down on {@link
     * ExecutionManager#close()}. Default: daemon threads named {@code workgate-exec-<node>-<n>},
     * {@code workgate-timeouts-<node>}, {@code workgate-kill-<node>} and {@code
     * workgate-create-<node>-<n>}. The factory is called from several threads and must be
     * thread-safe.
     *
     * @param factory the factory
     * @return this builder
     */
    public Builder threadFactory(ThreadFactory factory) {
      this.threadFactory = Objects.requireNonNull(factory, "threadFactory must not be null");
      return this;
    }

    /**
     * Builds the manager.
     *
     * @return the manager
     */
    public ExecutionManager build() {
      return new ExecutionManager(this);
    }
  }
}
