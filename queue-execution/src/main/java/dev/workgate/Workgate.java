package dev.workgate;

import dev.workgate.NodeView.StoreWrites;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.Subscription;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Text;
import dev.workgate.core.store.StoreView;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.execution.SandboxProvider;
import dev.workgate.execution.internal.ExecutionManager;
import dev.workgate.internal.ManualDrive;
import dev.workgate.retry.ErrorClassifier;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.internal.RetryManager;
import dev.workgate.scheduler.MemoryProbe;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.scheduler.internal.ResourceMonitor;
import dev.workgate.scheduler.internal.Scheduler;
import dev.workgate.scheduler.internal.SchedulerConfig;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The whole queue embedded in a host: a store, a scheduler that claims what the node can afford, an
 * execution manager that owns every sandbox, and a retry manager, wired together.
 *
 * <pre>{@code
 * try (Workgate workgate = Workgate.builder()
 *     .store(Stores.sqlite(Path.of("workgate-data/workgate.db")))
 *     .handler("greet", ctx -> WorkResult.ok("hello " + ctx.payload(String.class)))
 *     .build()) {
 *   workgate.start();
 *   WorkOrderId id = workgate.submit(WorkOrderSpec.builder("greet").payload("world").build());
 *   WorkOrderView done = workgate.await(id, Duration.ofSeconds(30));
 * }
 * }</pre>
 *
 * <p>Thread-safe: every method may be called from any thread. The store passed in stays the host's:
 * {@link #close()} does not close it (the default in-memory store is closed).
 */
public final class Workgate implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Workgate.class);

  /**
   * Orphaned sandboxes are looked for every ten minutes besides at start: a sandbox whose destroy
   * failed (a file still open, a process that outlived its kill) goes within minutes instead of at
   * the next restart, while listing the sandbox roots stays rare enough to cost nothing.
   */
  public static final Duration DEFAULT_ORPHAN_REAP_INTERVAL = Duration.ofMinutes(10);

  /** Transition lines are debugging detail by default; see {@link Builder#transitionLogLevel}. */
  public static final Level DEFAULT_TRANSITION_LOG_LEVEL = Level.DEBUG;

  /**
   * The logger of the line written for each transition this node stores, at the level set with
   * {@link Builder#transitionLogLevel(Level)}; configure it apart from the rest to keep or drop
   * those lines.
   */
  public static final String TRANSITION_LOGGER = "dev.workgate.transitions";

  private final WorkOrderStore hostStore;
  private final boolean ownsStore;
  private final ObservedStore store;

  /** {@link #store} as hosts may see it: reads and retention only. */
  private final StoreView storeView;

  private final NodeView node;
  private final RetryManager retries;
  private final ResourceMonitor resources;
  private final ExecutionManager executions;
  private final Scheduler scheduler;
  private final WorkgateClient client;
  private final Housekeeping housekeeping;

  /** Runs this node's in-process handlers; shut down once its executions have ended. */
  private final ExecutorService handlerPool;

  private final Duration pollInterval;
  private final Transitions transitions;
  private final Completions completions;
  private final BatchEnds batchEnds;

  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Clock clock;
  private final String nodeId;
  private final SandboxRoot sandboxRoot;

  /** Turns this node by hand, on its caller's thread; null for a node that runs its own loop. */
  private final ManualDrive drive;

  private Workgate(Builder b, SchedulerConfig config) {
    NodeAssembly parts = new NodeAssembly(b, config);
    this.sandboxRoot = parts.sandboxRoot;
    this.transitions = parts.transitions;
    this.hostStore = parts.hostStore;
    this.ownsStore = parts.ownsStore;
    this.store = parts.store;
    this.completions = parts.completions;
    this.batchEnds = parts.batchEnds;
    this.retries = parts.retries;
    this.resources = parts.resources;
    this.handlerPool = parts.handlerPool;
    this.executions = parts.executions;
    this.scheduler = parts.scheduler;
    this.housekeeping = parts.housekeeping;
    this.client = parts.client;
    this.storeView = parts.storeView;
    this.node = parts.node;
    this.clock = b.clock;
    this.nodeId = config.nodeId();
    this.drive = b.drive;
    this.pollInterval = config.pollInterval();
  }

  /**
   * A builder with the defaults: in-memory store, 2 slots, the default retry policy, a random node
   * id, the queue {@code default}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts the node: destroys sandboxes a crash left behind, then starts claiming. Idempotent.
   *
   * @throws IllegalStateException if closed, or if the node is built with {@link
   *     Builder#manualDrive} (its driver turns it)
   */
  public void start() {
    requireOpen();
    if (drive != null) {
      throw new IllegalStateException(
          "this node is driven by hand (Builder.manualDrive): it runs no loop of its own; turn it"
              + " with its driver instead of start()");
    }
    if (!started.compareAndSet(false, true)) {
      return;
    }
    try {
      housekeeping.reapBeforeStart();
      scheduler.start();
    } catch (RuntimeException | Error e) {
      started.set(false); // a later start() tries again
      throw e;
    }
    completions.start(pollInterval);
    batchEnds.start(completions.watcher(), pollInterval);
    housekeeping.start();
  }

  /**
   * Submits a work order.
   *
   * @param spec what to run
   * @return its id (the first work order's id for a taken idempotency key)
   * @throws dev.workgate.core.QueueFullException if its queue is at its maximum depth
   * @throws IllegalArgumentException if no handler or sandbox provider serves its type
   * @throws IllegalStateException if closed
   */
  public WorkOrderId submit(WorkOrderSpec spec) {
    Objects.requireNonNull(spec, "spec");
    requireOpen();
    requireType(spec.type());
    return client.submit(spec);
  }

  /**
   * Submits many work orders in one atomic append (one transaction on a durable store): the way to
   * enqueue a batch. All are written or, on an exception, none is; see {@link
   * WorkgateClient#submitAll} for idempotency keys and queue depths.
   *
   * @param specs what to run; may be empty
   * @return their ids, in the order of {@code specs}
   * @throws dev.workgate.core.QueueFullException if the batch would take a queue past its maximum
   *     depth; nothing is written
   * @throws IllegalArgumentException if no handler or sandbox provider serves a spec's type;
   *     nothing is written
   * @throws IllegalStateException if closed
   */
  public List<WorkOrderId> submitAll(List<WorkOrderSpec> specs) {
    Objects.requireNonNull(specs, "specs");
    requireOpen();
    for (WorkOrderSpec spec : specs) {
      requireType(Objects.requireNonNull(spec, "specs holds a null spec").type());
    }
    return client.submitAll(specs);
  }

  /**
   * Submits work orders as one batch; see {@link WorkgateClient#submitBatch}.
   *
   * @param specs what to run; at least one
   * @return the batch and its work orders' ids
   * @throws IllegalArgumentException if no handler or sandbox provider serves a spec's type, the
   *     list is empty, or a spec waits for something that does not exist; nothing is written
   * @throws dev.workgate.core.QueueFullException as {@link #submitAll}
   * @throws IllegalStateException if closed
   */
  public WorkgateClient.Batch submitBatch(List<WorkOrderSpec> specs) {
    Objects.requireNonNull(specs, "specs");
    requireOpen();
    for (WorkOrderSpec spec : specs) {
      requireType(Objects.requireNonNull(spec, "specs holds a null spec").type());
    }
    return client.submitBatch(specs);
  }

  /**
   * Where a batch stands; see {@link WorkgateClient#batch}.
   *
   * @param id the batch
   * @return its status
   * @throws IllegalArgumentException if there is no such batch
   */
  public BatchStatus batch(dev.workgate.core.BatchId id) {
    requireOpen();
    return client.batch(id);
  }

  /**
   * A future that completes with a batch's status once every work order of it has ended (on any
   * node; work ended elsewhere is noticed within the poll interval).
   *
   * @param id the batch
   * @return the future; completed already if the batch has ended
   * @throws IllegalArgumentException if there is no such batch
   */
  public CompletableFuture<BatchStatus> completion(dev.workgate.core.BatchId id) {
    Objects.requireNonNull(id, "id");
    requireOpen();
    return completions.of(id);
  }

  /**
   * Pauses a queue on every node; see {@link WorkgateClient#pauseQueue}.
   *
   * @param queue the queue
   * @param actor who pauses it
   * @param reason why
   * @return true if paused now, false if it already was
   */
  public boolean pauseQueue(String queue, String actor, String reason) {
    requireOpen();
    return client.pauseQueue(queue, actor, reason);
  }

  /**
   * Resumes a paused queue; see {@link WorkgateClient#resumeQueue}.
   *
   * @param queue the queue
   * @param actor who resumes it
   * @param reason why
   * @return true if resumed now, false if it was not paused
   */
  public boolean resumeQueue(String queue, String actor, String reason) {
    requireOpen();
    return client.resumeQueue(queue, actor, reason);
  }

  private void requireType(String type) {
    if (!executions.handles(type)) {
      throw new IllegalArgumentException(
          "no handler or sandbox provider for work-order type '"
              + type
              + "'; register one with Workgate.builder().handler(…) or .sandboxProvider(…)");
    }
  }

  /**
   * Cancels a work order: at once if it waits ({@code PENDING}, {@code WAITING_RETRY}, {@code
   * BLOCKED}); if it runs, the request is recorded and its owner kills the sandbox within its grace
   * period and appends {@code Cancelled} (on this node at once, on another node at its next lease
   * renewal).
   *
   * @param id the work order
   * @param reason why, for a person; at most {@link
   *     dev.workgate.core.internal.Text#MAX_REASON_LENGTH} chars
   * @return false if it had already ended
   * @throws IllegalArgumentException if there is no such work order or the reason is too long
   *     (nothing is recorded then)
   * @throws IllegalStateException if it kept changing under ten attempts to cancel it
   */
  public boolean cancel(WorkOrderId id, String reason) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(reason, "reason");
    WorkgateClient.CancelOutcome outcome = client.requestCancel(id, reason);
    if (outcome.view().state().isActive()) {
      // Requested now or before: if this node runs it, it stops at once rather than at renewal.
      executions.cancel(id, outcome.effectiveReason(reason));
    }
    return outcome.cancelledOrRequested();
  }

  /**
   * Submits a new work order with the spec of a failed or cancelled one, recording where it came
   * from. The old one is never revived. Its idempotency key is not carried over.
   *
   * @param failedOrCancelled the ended work order
   * @return the new work order's id
   * @throws IllegalArgumentException if there is no such work order
   * @throws IllegalStateException if it is not {@code FAILED} or {@code CANCELLED}
   */
  public WorkOrderId resubmit(WorkOrderId failedOrCancelled) {
    requireOpen();
    return client.resubmit(failedOrCancelled);
  }

  /**
   * A work order's current state.
   *
   * @param id the work order
   * @return its view, empty if unknown
   */
  public Optional<WorkOrderView> find(WorkOrderId id) {
    return client.find(id);
  }

  /**
   * A work order's events, oldest first.
   *
   * @param id the work order
   * @return the events, empty if unknown
   */
  public List<RecordedEvent> history(WorkOrderId id) {
    return client.history(id);
  }

  /**
   * This node's client: the submit, cancel, resubmit and reads that this node's own methods
   * delegate to, with this node's admission (its capacity, then the node table) and depth limits.
   * Unlike {@link #submit}, it submits any type, also one this node has no handler for, for another
   * node to run. Thread-safe. It lives as long as the node: its {@link WorkgateClient#close()} does
   * nothing.
   *
   * @return the client
   */
  public WorkgateClient client() {
    return client;
  }

  /**
   * Waits until a work order ends.
   *
   * @param id the work order
   * @param timeout how long to wait
   * @return its view in a terminal state
   * @throws TimeoutException if it has not ended in time
   * @throws IllegalArgumentException if there is no such work order
   */
  public WorkOrderView await(WorkOrderId id, Duration timeout) throws TimeoutException {
    try {
      return completion(id).get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TimeoutException("interrupted while waiting for " + id);
    } catch (ExecutionException e) {
      throw new IllegalStateException("waiting for " + id + " failed", e.getCause());
    }
  }

  /**
   * A future that completes with the work order's view once it ends (on any node).
   *
   * @param id the work order
   * @return the future; completed already if it has ended
   * @throws IllegalArgumentException if there is no such work order
   */
  public CompletableFuture<WorkOrderView> completion(WorkOrderId id) {
    requireOpen();
    return completions.of(id);
  }

  /**
   * Adds a listener for every transition this node makes.
   *
   * @param listener the listener
   * @return its registration; closing it removes the listener
   */
  public Subscription onTransition(TransitionListener listener) {
    return transitions.add(listener);
  }

  /**
   * Counts by queue and state, slots, pressure, executions, the scheduler's stats and the queues
   * paused. Reads the store twice: the counts and the pauses in force (each once).
   *
   * @return a snapshot
   */
  public QueueStats stats() {
    return new QueueStats(
        store.counts(),
        resources.activeSlots(),
        resources.maxSlots(),
        resources.pressure(),
        executions.activeExecutions(),
        scheduler.stats(),
        store.pausedQueues());
  }

  /**
   * The store this node works on, read-only: every call goes to the store passed to the builder (or
   * the default in-memory one), through the runtime. Use it for reads (views, streams, the log,
   * audit queries, counts, the node table) and for retention ({@link
   * StoreView#deleteTerminalBefore}, which an in-memory store needs on a long-running node: see
   * docs/operations.md). It has no method that changes a work order, and it cannot be cast to
   * {@link WorkOrderStore}: change work orders through this class's methods or {@link #client()},
   * which keep the node's bookkeeping.
   *
   * @return the read-only view, the same object every time; thread-safe
   */
  public StoreView store() {
    return storeView;
  }

  /**
   * How this node's writes to the store fare (failed in a row, in all and by cause, the last
   * failure and the last success), read from memory without the store; health and metrics read it.
   *
   * @return a snapshot
   */
  public StoreWrites storeWrites() {
    return store.writes();
  }

  /**
   * The clock this node reads.
   *
   * @return the clock
   */
  public Clock clock() {
    return clock;
  }

  /**
   * Where this node's sandboxes are created (in-process ones under {@code in-process}).
   *
   * @return the sandbox root, which exists
   */
  public Path sandboxRoot() {
    return sandboxRoot.path();
  }

  /**
   * The node's id: the owner name on its leases.
   *
   * @return the id
   */
  public String nodeId() {
    return nodeId;
  }

  /**
   * What this node is doing, read from its memory without the store: slots and pressure, the loop's
   * heartbeat, active and abandoned executions, claimed, reaped and self-fenced counts, and the
   * settings it runs with. What health checks, metrics and consoles read.
   *
   * @return the live read-only view, the same object every time; thread-safe
   */
  public NodeView node() {
    return node;
  }

  /** The scheduler; for the tests of this package, which drive turns and draining by hand. */
  Scheduler scheduler() {
    return scheduler;
  }

  /** The execution manager; for the tests of this package. */
  ExecutionManager executions() {
    return executions;
  }

  /** The retry manager; for the tests of this package, which record failures as a reaper would. */
  RetryManager retries() {
    return retries;
  }

  /**
   * Destroys sandboxes left behind by crashes now (it also runs at {@link #start()} and then every
   * {@link Builder#orphanReapInterval}).
   *
   * @return how many were destroyed
   */
  public int reapOrphans() {
    return housekeeping.reapNow();
  }

  /**
   * Drains the node: stops claiming, lets running work finish within {@code grace} (leases are
   * still renewed meanwhile), then kills what still runs and releases it ({@code Released} with
   * {@code NODE_SHUTDOWN}): the work order is {@code PENDING} again without its attempt counted, so
   * that a redeploy never costs an attempt, and runs again on another node or after a restart (a
   * work order released more often than the retry manager's release cap fails as {@code POISONED}).
   * Then stops the loop. Idempotent.
   *
   * @param grace how long running work may go on
   */
  public void shutdown(Duration grace) {
    Objects.requireNonNull(grace, "grace");
    scheduler.stopClaiming();
    if (!executions.awaitIdle(grace)) {
      executions.killAllForShutdown(Duration.ZERO);
      if (!executions.awaitIdle(Duration.ofSeconds(30))) {
        LOG.warn("executions still running 30 s after they were killed for shutdown");
      }
    }
    // The executions have ended (or were given up on): no handler starts any more. A handler that
    // ignored its kill keeps its thread until it returns; close() interrupts it once more.
    handlerPool.shutdown();
    housekeeping.stop();
    scheduler.close();
  }

  /** Shuts down with no grace for running work, and releases the runtime's threads. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    shutdown(Duration.ZERO);
    completions.stopWatching();
    executions.close();
    handlerPool.shutdownNow();
    completions.failWaiting();
    if (ownsStore) {
      hostStore.close();
    }
    sandboxRoot.removeIfTemporary();
  }

  private void requireOpen() {
    if (closed.get()) {
      throw new IllegalStateException("Workgate is closed");
    }
  }

  /** Builds a {@link Workgate}. Not thread-safe. */
  public static final class Builder {
    // The settings NodeAssembly reads are package-private; the rest only build() reads.
    WorkOrderStore store;
    final Map<String, WorkHandler> handlers = new LinkedHashMap<>();
    final Map<String, SandboxProvider> providers = new LinkedHashMap<>();
    private final SchedulerConfig.Builder scheduler = SchedulerConfig.builder();
    int maxConcurrent = ResourceConfig.DEFAULT_MAX_CONCURRENT;
    long memoryPerSlotMb = ResourceConfig.DEFAULT_MEMORY_PER_SLOT_MB;

    /** The first of maxConcurrent and memoryPerSlotMb set, as "setting(value)"; null if neither. */
    private String slotsSetBy;

    ResourceConfig resourceConfig;
    RetryPolicy retryPolicy = RetryPolicy.defaults();
    final Map<String, RetryPolicy> queuePolicies = new LinkedHashMap<>();
    private final Set<String> concurrencyQueues = new LinkedHashSet<>();
    ErrorClassifier errorClassifier = ErrorClassifier.defaults();
    RandomGenerator random;
    int retryBatchSize = RetryManager.DEFAULT_BATCH_SIZE;
    ThreadFactory threadFactory;
    int maxReleases = RetryManager.DEFAULT_MAX_RELEASES;
    Level transitionLogLevel = DEFAULT_TRANSITION_LOG_LEVEL;
    Clock clock = Clock.systemUTC();
    Path sandboxRoot;
    Duration killGrace = ExecutionManager.DEFAULT_KILL_GRACE;
    Duration defaultTimeout = ExecutionManager.DEFAULT_TIMEOUT;
    Duration sandboxCreationTimeout = ExecutionManager.DEFAULT_SANDBOX_CREATION_TIMEOUT;
    Duration abandonedHandlerSlotCap = ExecutionManager.DEFAULT_ABANDONED_HANDLER_SLOT_CAP;
    Duration orphanReapInterval = DEFAULT_ORPHAN_REAP_INTERVAL;
    MemoryProbe memoryProbe;
    ManualDrive drive;

    private Builder() {}

    /**
     * Internal to Workgate's test kit ({@code dev.workgate.test.ManualWorkgate}), not for hosts:
     * the node runs no thread of its own. Its kills and in-process handlers run on the thread that
     * turns it with {@link ManualDrive#runOnce()}, its executions and sandbox creations there too
     * or on {@link ManualDrive#attempts()} where the drive says, its timers on {@link
     * ManualDrive#timer()}; {@link Workgate#start()} is refused, and no scheduler loop, watchdog,
     * completions watcher or orphan housekeeping ever runs. Every other setting keeps its meaning;
     * the {@link #threadFactory} is not used. Default: none, a node with its own threads.
     *
     * @param drive the drive, for one node only
     * @return this builder
     * @throws NullPointerException if null
     */
    public Builder manualDrive(ManualDrive drive) {
      this.drive = Objects.requireNonNull(drive, "manualDrive must not be null");
      return this;
    }

    /**
     * The store. Default: a new in-memory store, closed with the runtime.
     *
     * @param store the store; the host closes it
     * @return this builder
     */
    public Builder store(WorkOrderStore store) {
      this.store = Objects.requireNonNull(store, "store must not be null");
      return this;
    }

    /**
     * In-process work for a type.
     *
     * @param type the work-order type
     * @param handler the handler
     * @return this builder
     */
    public Builder handler(String type, WorkHandler handler) {
      Text.requireName(type, "handler type");
      Objects.requireNonNull(handler, "handler must not be null");
      if (handlers.containsKey(type) || providers.containsKey(type)) {
        throw new IllegalArgumentException("type '" + type + "' already has a handler or provider");
      }
      handlers.put(type, handler);
      return this;
    }

    /**
     * A sandbox provider for a type, e.g. a {@link dev.workgate.execution.ProcessSandboxProvider}.
     *
     * @param type the work-order type
     * @param provider the provider
     * @return this builder
     */
    public Builder sandboxProvider(String type, SandboxProvider provider) {
      Text.requireName(type, "sandbox provider type");
      Objects.requireNonNull(provider, "provider must not be null");
      if (handlers.containsKey(type) || providers.containsKey(type)) {
        throw new IllegalArgumentException("type '" + type + "' already has a handler or provider");
      }
      providers.put(type, provider);
      return this;
    }

    /**
     * The node's slots (AgentGate's default is 2).
     *
     * @param slots from 1 to 10,000
     * @return this builder
     */
    public Builder maxConcurrent(int slots) {
      if (slots < 1 || slots > 10_000) {
        throw new IllegalArgumentException(
            "maxConcurrent must be between 1 and 10000, got " + slots);
      }
      this.maxConcurrent = slots;
      if (slotsSetBy == null) {
        slotsSetBy = "maxConcurrent(" + slots + ")";
      }
      return this;
    }

    /**
     * Memory charged per slot to work orders that declare none.
     *
     * @param mb zero (not counted) or positive
     * @return this builder
     */
    public Builder memoryPerSlotMb(long mb) {
      if (mb < 0) {
        throw new IllegalArgumentException("memoryPerSlotMb must not be negative, got " + mb);
      }
      this.memoryPerSlotMb = mb;
      if (slotsSetBy == null) {
        slotsSetBy = "memoryPerSlotMb(" + mb + ")";
      }
      return this;
    }

    /**
     * The node's whole resource configuration: slots, memory per slot, a memory budget, memory kept
     * free, the pressure thresholds and their hysteresis, the allocation grace. Use it instead of
     * {@link #maxConcurrent} and {@link #memoryPerSlotMb}, which set only the first two.
     *
     * <pre>{@code
     * Workgate.builder().resources(ResourceConfig.builder()
     *     .maxConcurrent(4).memoryPerSlotMb(2048).memoryBudgetMb(12_288).build())
     * }</pre>
     *
     * @param config the configuration
     * @return this builder
     */
    public Builder resources(ResourceConfig config) {
      this.resourceConfig = Objects.requireNonNull(config, "resources must not be null");
      return this;
    }

    /**
     * The retry policy of every queue without one of its own ({@link #retryPolicy(String,
     * RetryPolicy)}). Default {@link RetryPolicy#defaults()}. A work order's own {@code
     * maxAttempts} overrides its policy's.
     *
     * @param policy the policy
     * @return this builder
     * @throws NullPointerException if null
     */
    public Builder retryPolicy(RetryPolicy policy) {
      this.retryPolicy = Objects.requireNonNull(policy, "retryPolicy must not be null");
      return this;
    }

    /**
     * The retry policy of one queue, in place of the default {@link #retryPolicy(RetryPolicy)}: a
     * queue whose failures mean something else (a build whose failure is final). Setting it again
     * for the same queue replaces it. The policy is applied by the node that ran the failed
     * attempt, so the queue must be one this node serves ({@link #queues}).
     *
     * @param queue a queue this node serves
     * @param policy its policy
     * @return this builder
     * @throws IllegalArgumentException if the queue name is not a valid name; {@link #build()}
     *     refuses a queue this node does not serve
     * @throws NullPointerException if the policy is null
     */
    public Builder retryPolicy(String queue, RetryPolicy policy) {
      Text.requireName(queue, "retryPolicy queue");
      queuePolicies.put(
          queue, Objects.requireNonNull(policy, "retryPolicy for queue " + queue + " is null"));
      return this;
    }

    /**
     * Turns what a handler or a sandbox throws into an error: its code and whether it may be
     * retried (the queue's retry policy then decides with its {@code retryOn} and {@code
     * neverRetryOn}). Default {@link ErrorClassifier#defaults()}; see docs/retry.md. A {@link
     * dev.workgate.execution.ProcessSandboxProvider} maps exit codes with a classifier of its own.
     *
     * <pre>{@code
     * Workgate.builder().errorClassifier(ErrorClassifier.builder()
     *     .exception(QuotaExceededException.class, "QUOTA_EXCEEDED")
     *     .code("QUOTA_EXCEEDED", false)
     *     .build())
     * }</pre>
     *
     * @param classifier the classifier
     * @return this builder
     * @throws NullPointerException if null
     */
    public Builder errorClassifier(ErrorClassifier classifier) {
      this.errorClassifier = Objects.requireNonNull(classifier, "errorClassifier must not be null");
      return this;
    }

    /**
     * Where retry jitter draws from; seed it to repeat a run's retry delays. The node uses it under
     * a lock of its own, so it need not be thread-safe, and nothing else should use it. Default a
     * new {@link java.util.SplittableRandom}.
     *
     * @param random the generator
     * @return this builder
     * @throws NullPointerException if null
     */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random must not be null");
      return this;
    }

    /**
     * How many due retries are released per store transaction. Default 100.
     *
     * @param size from 1 to 10,000
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder retryBatchSize(int size) {
      this.retryBatchSize = RetryManager.requireBatchSize(size, "retryBatchSize");
      return this;
    }

    /**
     * How often a work order may be released (its node shut down past the grace, died, or could not
     * renew its lease: attempts that cost nothing) before the next release fails it as {@code
     * POISONED}. Default 5.
     *
     * @param releases from 0 to 1,000
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder maxReleases(int releases) {
      this.maxReleases = RetryManager.requireMaxReleases(releases);
      return this;
    }

    /**
     * The clock.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock must not be null");
      return this;
    }

    /**
     * The node's id: the owner of its leases and sandboxes. Keep it stable across restarts of the
     * same node so that the orphan reaper recognises the node's previous life.
     *
     * @param id the id
     * @return this builder
     */
    public Builder nodeId(String id) {
      scheduler.nodeId(id);
      return this;
    }

    /**
     * Where sandbox directories are created; in-process sandboxes go to {@code <root>/in-process}.
     * Used as given, created {@code 0700} if missing. Default: beside the store's file when the
     * store is a SQLite file ({@code <file>.sandboxes}), otherwise a directory of this user and
     * node under {@code java.io.tmpdir} ({@code workgate-sandboxes-<user>-<node>}), created {@code
     * 0700}, which {@link #build()} refuses to use if it exists and is not a directory of this user
     * with mode {@code 0700}.
     *
     * @param root the directory
     * @return this builder
     */
    public Builder sandboxRoot(Path root) {
      this.sandboxRoot = Objects.requireNonNull(root, "sandboxRoot must not be null");
      return this;
    }

    /**
     * The queues this node claims from, replacing {@code default}.
     *
     * @param names queue names
     * @return this builder
     */
    public Builder queues(String... names) {
      scheduler.queues(names);
      return this;
    }

    /**
     * A maximum number of waiting work orders ({@code PENDING}, {@code WAITING_RETRY} or {@code
     * BLOCKED}) for a queue: a submit through this node to a queue at its limit throws {@link
     * dev.workgate.core.QueueFullException}. Any queue may have one, served here or not: the limit
     * is checked by the submitting node, and a node may submit to queues that other nodes serve.
     * Setting it again for the same queue replaces it.
     *
     * @param queue the queue
     * @param limit at least 1
     * @return this builder
     * @throws IllegalArgumentException if the queue name or the limit is bad
     */
    public Builder maxQueueDepth(String queue, long limit) {
      scheduler.maxQueueDepth(queue, limit);
      return this;
    }

    /**
     * The most work orders of a queue this node runs at once, whatever its free slots: a queue of
     * work that hits a rate-limited service, or that must not take the whole node. Setting it again
     * for the same queue replaces it. The limit is this node's, not the cluster's.
     *
     * @param queue a queue this node serves
     * @param limit at least 1
     * @return this builder
     * @throws IllegalArgumentException if the queue name or the limit is bad; {@link #build()}
     *     refuses a queue this node does not serve
     */
    public Builder queueConcurrency(String queue, int limit) {
      scheduler.queueConcurrency(queue, limit);
      concurrencyQueues.add(queue);
      return this;
    }

    /**
     * The most starts per second on this node, across its queues, with bursts of up to one second's
     * worth (a token bucket over the node's {@link #clock}). Default 0, no limit. It applies beside
     * {@link #staggerDelay}: a start waits for both.
     *
     * @param rate 0 for no limit, else positive and at most 1,000,000
     * @return this builder
     * @throws IllegalArgumentException if out of range or not a number
     */
    public Builder maxStartsPerSecond(double rate) {
      scheduler.maxStartsPerSecond(rate);
      return this;
    }

    /**
     * How long a work order that could run on this node waits for resources that smaller work keeps
     * taking before the node reserves them for it. Default 1 min.
     *
     * @param threshold positive, at most an hour
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder starvationThreshold(Duration threshold) {
      scheduler.starvationThreshold(threshold);
      return this;
    }

    /**
     * How often the leases of running work are renewed. Default a third of the {@link
     * #leaseDuration}, so that a lease survives two missed renewals.
     *
     * @param interval positive, at most an hour; {@link #build()} refuses one not shorter than the
     *     lease, and one that with the {@link #selfFenceMargin} leaves no time to renew
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder renewInterval(Duration interval) {
      scheduler.renewInterval(interval);
      return this;
    }

    /**
     * The most work orders one claim takes (one store transaction). Default 16.
     *
     * @param size from 1 to 1,000
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder claimBatchSize(int size) {
      scheduler.claimBatchSize(size);
      return this;
    }

    /**
     * The most expired leases this node reaps per turn. Default 100.
     *
     * @param size from 1 to 10,000
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder reapBatchSize(int size) {
      scheduler.reapBatchSize(size);
      return this;
    }

    /**
     * Makes every thread the node starts: the scheduler's loop and lease watchdog, the execution
     * threads (one per slot), the timeout, kill and sandbox-creation threads, the threads that run
     * in-process handlers, the completion watcher and the orphan housekeeping thread. The node
     * starts the threads it gets and shuts down every pool it made on {@link Workgate#close()} (the
     * handler pool once the executions have ended), so a factory of non-daemon threads does not
     * keep the JVM alive past {@code close()}; until then it does. The factory is called from
     * several threads and must be thread-safe. An in-process handler's thread is renamed {@code
     * workgate-handler-<sandbox>} while it runs the handler and named back afterwards. A {@link
     * dev.workgate.execution.ProcessSandboxProvider} has a factory of its own for its output
     * threads. Default: daemon threads named {@code workgate-<role>-<node id>}.
     *
     * @param factory the factory
     * @return this builder
     * @throws NullPointerException if null
     */
    public Builder threadFactory(ThreadFactory factory) {
      this.threadFactory = Objects.requireNonNull(factory, "threadFactory must not be null");
      return this;
    }

    /**
     * The scheduler's safety-net poll interval. Default 1 s.
     *
     * @param interval positive
     * @return this builder
     */
    public Builder pollInterval(Duration interval) {
      scheduler.pollInterval(interval);
      return this;
    }

    /**
     * How long a claim's lease lasts unless renewed. Default 30 s.
     *
     * @param duration positive
     * @return this builder
     */
    public Builder leaseDuration(Duration duration) {
      scheduler.leaseDuration(duration);
      return this;
    }

    /**
     * How long before its lease expires a node stops work whose lease it could not renew (a
     * partition, a store that does not answer), so that it is dead before another node may take the
     * work order over. Work stopped this way gets half the margin to stop before it is killed (at
     * most the kill grace); the other half covers clock skew between nodes. Default half the lease
     * (15 s for the default lease of 30 s); see docs/execution.md.
     *
     * @param margin positive; the margin plus the renew interval must be shorter than the lease
     * @return this builder
     * @throws IllegalArgumentException if not positive; {@link #build()} checks it against the
     *     lease
     */
    public Builder selfFenceMargin(Duration margin) {
      scheduler.selfFenceMargin(margin);
      return this;
    }

    /**
     * The least time between two starts on this node. Default 0.
     *
     * @param delay zero or positive
     * @return this builder
     */
    public Builder staggerDelay(Duration delay) {
      scheduler.staggerDelay(delay);
      return this;
    }

    /**
     * How long work may take to stop after a cancel or timeout before it is killed. Default 10 s.
     *
     * @param grace zero or positive
     * @return this builder
     */
    public Builder killGrace(Duration grace) {
      this.killGrace = ExecutionManager.requireKillGrace(grace);
      return this;
    }

    /**
     * The per-attempt timeout of work orders that set none. Default 1 h.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder defaultTimeout(Duration timeout) {
      this.defaultTimeout = ExecutionManager.requireTimeout(timeout);
      return this;
    }

    /**
     * How long a sandbox may take to be created before the creation is interrupted and the attempt
     * recorded as {@code SANDBOX_CREATION_TIMEOUT} (retryable). Default 5 min: a creation that
     * takes longer is taken as hung.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder sandboxCreationTimeout(Duration timeout) {
      this.sandboxCreationTimeout = ExecutionManager.requireSandboxCreationTimeout(timeout);
      return this;
    }

    /**
     * How long a handler that ignored its stop, and was abandoned after the kill grace, keeps its
     * slot while its thread still runs; after it the slot is freed with a warning. Default 1 h.
     *
     * @param cap zero (free at once) or positive, at most 7 days
     * @return this builder
     */
    public Builder abandonedHandlerSlotCap(Duration cap) {
      this.abandonedHandlerSlotCap = ExecutionManager.requireAbandonedHandlerSlotCap(cap);
      return this;
    }

    /**
     * How often the node looks for orphaned sandboxes (left by a crash, or whose destroy failed)
     * besides at {@link Workgate#start()}, on a daemon thread of its own that {@link
     * Workgate#shutdown} and {@link Workgate#close()} stop. A sandbox of a live execution is never
     * touched. Default {@link #DEFAULT_ORPHAN_REAP_INTERVAL} (10 min); {@link Duration#ZERO} runs
     * it at start only.
     *
     * @param interval zero, or from 1 second to 1 day
     * @return this builder
     */
    public Builder orphanReapInterval(Duration interval) {
      if (interval == null
          || interval.isNegative()
          || (!interval.isZero() && interval.compareTo(Duration.ofSeconds(1)) < 0)
          || interval.compareTo(Duration.ofDays(1)) > 0) {
        throw new IllegalArgumentException(
            "orphanReapInterval must be zero (off) or between 1 second and 1 day, got "
                + (interval == null ? null : Text.duration(interval)));
      }
      this.orphanReapInterval = interval;
      return this;
    }

    /**
     * How the node reads its free memory. Default: the container's memory (cgroup v2) where there
     * is one, else the host's ({@code /proc/meminfo}), else the JVM's; each reading is reused for a
     * short while.
     *
     * @param probe the probe
     * @return this builder
     */
    public Builder memoryProbe(MemoryProbe probe) {
      this.memoryProbe = Objects.requireNonNull(probe, "memoryProbe must not be null");
      return this;
    }

    /**
     * The level of the line logged for each transition this node stores (logger {@value
     * #TRANSITION_LOGGER}): work-order id, event, states, queue, attempt and error code, never a
     * payload. Default {@code DEBUG}: at thousands of work orders a second, an INFO line each is
     * more than most logs want.
     *
     * @param level the level
     * @return this builder
     */
    public Builder transitionLogLevel(Level level) {
      this.transitionLogLevel = Objects.requireNonNull(level, "transitionLogLevel");
      return this;
    }

    /**
     * Builds the runtime; call {@link Workgate#start()} to begin.
     *
     * @return the runtime
     *     <p>Settings that contradict each other are refused here, naming both: {@link #resources}
     *     beside {@link #maxConcurrent} or {@link #memoryPerSlotMb}; a {@link #renewInterval} not
     *     shorter than the {@link #leaseDuration}; a {@link #selfFenceMargin} that with the renew
     *     interval fills the lease; a {@link #queueConcurrency} or a {@link #retryPolicy(String,
     *     RetryPolicy)} for a queue this node does not serve (it would never apply). A {@link
     *     #maxQueueDepth} may name any queue. Setting a single-valued setting twice is not a
     *     conflict: the last value wins.
     * @return the runtime
     * @throws IllegalArgumentException if no handler or sandbox provider is registered, or settings
     *     conflict as above
     * @throws IllegalStateException if the sandbox root cannot be created, or the default one under
     *     {@code java.io.tmpdir} exists and is not private to this user
     */
    public Workgate build() {
      if (resourceConfig != null && slotsSetBy != null) {
        throw new IllegalArgumentException(
            "resources(ResourceConfig) conflicts with "
                + slotsSetBy
                + ": set maxConcurrent and memoryPerSlotMb in the ResourceConfig, not beside it");
      }
      SchedulerConfig config = scheduler.build(); // lease, renew interval and self-fence margin
      for (String queue : concurrencyQueues) {
        requireServed(config, "queueConcurrency", queue);
      }
      for (String queue : queuePolicies.keySet()) {
        requireServed(config, "retryPolicy", queue);
      }
      if (handlers.isEmpty() && providers.isEmpty()) {
        throw new IllegalArgumentException(
            "register at least one handler or sandbox provider: nothing could run");
      }
      return new Workgate(this, config);
    }

    private static void requireServed(SchedulerConfig config, String setting, String queue) {
      if (!config.serves(queue)) {
        throw new IllegalArgumentException(
            setting
                + " names queue '"
                + queue
                + "', which this node does not serve (queues "
                + config.queues()
                + "): it would never apply; add the queue with queues(…) or drop the setting");
      }
    }
  }
}
