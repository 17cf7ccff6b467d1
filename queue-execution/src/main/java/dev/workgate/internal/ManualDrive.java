package dev.workgate.internal;

import dev.workgate.core.WorkOrderId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Internal to Workgate's own modules, not an API: the seams of a node that runs no thread of its
 * own, for {@code dev.workgate.test.ManualWorkgate} and the project's deterministic simulation. It
 * may change or go in any release.
 *
 * <p>A {@link dev.workgate.Workgate} built with {@code Workgate.Builder.manualDrive(drive)} runs
 * executions, sandbox creations, kills and in-process handlers on {@link #callerThread()} (the
 * thread that calls {@link #runOnce()}), schedules attempt timeouts and the other timers of its
 * execution manager on {@link #timer()}, never starts its scheduler loop, watchdog, completions
 * watcher or orphan housekeeping ({@code start()} is refused), and binds its scheduler to this
 * drive: {@link #runOnce()} runs one full turn of the loop on the caller's thread. Every other
 * behaviour of the node is unchanged.
 *
 * <p>A drive made with {@link #ManualDrive(ScheduledExecutorService, ExecutorService, Supplier)}
 * runs the node's executions and sandbox creations on the given executor instead, so that an
 * attempt may block across turns: a simulation runs each on a cooperative thread of its own (a
 * fiber that runs only while the simulation waits for it, and parks in the simulation's code); such
 * threads must never wait for each other inside the store, so drive them over a store that does not
 * group appends across callers (the in-memory store). Such a drive may also name the ids of the
 * work orders submitted through the node, so that a run is repeatable to the id. The node's lease
 * watchdog, draining and kills for shutdown, which a node's own threads would run, are then the
 * driver's to call: {@link #fenceOverdueWork()}, {@link #stopClaiming()}, {@link
 * #killAllForShutdown(Duration)}.
 *
 * <p>Thread-safe; one drive serves one node.
 */
public final class ManualDrive {
  /** What a node binds to its drive: the parts of it that its own threads would run. */
  public interface Node {
    /**
     * Runs one full turn of the scheduler on the calling thread.
     *
     * @return when the next turn is due, by the node's clock
     */
    Instant turn();

    /**
     * The lease watchdog's check: fences the work whose lease could not be renewed in time.
     *
     * @return the earliest self-fence deadline of the work still running; empty when none
     */
    Optional<Instant> fenceOverdueWork();

    /** Stops claiming, as a shutdown does first; running work goes on and is renewed. */
    void stopClaiming();

    /**
     * Kills every execution still running for a shutdown; each is released without counting its
     * attempt.
     *
     * @param grace how long each may take to stop by itself
     */
    void killAllForShutdown(Duration grace);
  }

  private final ScheduledExecutorService timer;
  private final ExecutorService callerThread = new CallerThread();
  private final ExecutorService attempts;
  private final Supplier<WorkOrderId> ids;
  private final AtomicLong attemptsEnded = new AtomicLong();
  private volatile Node node;

  /**
   * A drive whose node schedules its timers on {@code timer} and runs everything else on the
   * caller's thread.
   *
   * @param timer runs the node's timers (attempt timeouts, creation timeouts, caps) when their time
   *     comes; its {@code execute} must run the task at once on the calling thread
   * @throws NullPointerException if null
   */
  public ManualDrive(ScheduledExecutorService timer) {
    this.timer = Objects.requireNonNull(timer, "timer");
    this.attempts = callerThread;
    this.ids = null;
  }

  /**
   * A drive whose node runs its executions and sandbox creations on {@code attempts} (see the class
   * description), schedules its timers on {@code timer}, and runs kills and turns on the caller's
   * thread.
   *
   * @param timer as for {@link #ManualDrive(ScheduledExecutorService)}
   * @param attempts runs each execution and each sandbox creation; whatever runs on it must never
   *     wait in the node's code for another of its tasks
   * @param ids makes the ids of the work orders submitted through the node, or null for random ones
   * @throws NullPointerException if {@code timer} or {@code attempts} is null
   */
  public ManualDrive(
      ScheduledExecutorService timer, ExecutorService attempts, Supplier<WorkOrderId> ids) {
    this.timer = Objects.requireNonNull(timer, "timer");
    this.attempts = Objects.requireNonNull(attempts, "attempts");
    this.ids = ids;
  }

  /**
   * The node's timers.
   *
   * @return the timer given to the constructor
   */
  public ScheduledExecutorService timer() {
    return timer;
  }

  /**
   * An executor that runs each task at once on the thread that hands it over; shutting it down only
   * makes it refuse later tasks.
   *
   * @return the executor, the same every time
   */
  public ExecutorService callerThread() {
    return callerThread;
  }

  /**
   * Runs the node's executions and sandbox creations.
   *
   * @return {@link #callerThread()}, or the executor given to the constructor
   */
  public ExecutorService attempts() {
    return attempts;
  }

  /**
   * The ids of the work orders submitted through the node.
   *
   * @return the supplier given to the constructor; empty for random ids
   */
  public Optional<Supplier<WorkOrderId>> ids() {
    return Optional.ofNullable(ids);
  }

  /**
   * Called once by the node being built: what its own threads would run.
   *
   * @param node the node's scheduler and executions
   * @throws IllegalStateException if a node is bound already
   */
  public synchronized void bind(Node node) {
    Objects.requireNonNull(node, "node");
    if (this.node != null) {
      throw new IllegalStateException("this ManualDrive drives a node already");
    }
    this.node = node;
  }

  /**
   * Runs one full turn of the bound node's scheduler on the calling thread: releases due retries,
   * reaps, renews, claims what fits and starts each claimed attempt; on the caller's thread (the
   * default) each runs to its end before this returns.
   *
   * @return when the next turn is due, by the node's clock
   * @throws IllegalStateException if no node is bound
   */
  public Instant runOnce() {
    return bound().turn();
  }

  /**
   * Runs the bound node's lease watchdog once, on the calling thread: what its watchdog thread does
   * while a turn hangs in the store. Touches no store.
   *
   * @return the earliest self-fence deadline of the work still running; empty when none
   * @throws IllegalStateException if no node is bound
   */
  public Optional<Instant> fenceOverdueWork() {
    return bound().fenceOverdueWork();
  }

  /**
   * Stops the bound node claiming, as {@code Workgate.shutdown} does first; running work goes on
   * and turns still renew its leases.
   *
   * @throws IllegalStateException if no node is bound
   */
  public void stopClaiming() {
    bound().stopClaiming();
  }

  /**
   * Kills what still runs on the bound node for a shutdown, as {@code Workgate.shutdown} does once
   * its grace is over: each execution is stopped within {@code grace} and released.
   *
   * @param grace how long each may take to stop by itself
   * @throws IllegalStateException if no node is bound
   */
  public void killAllForShutdown(Duration grace) {
    bound().killAllForShutdown(Objects.requireNonNull(grace, "grace"));
  }

  private Node bound() {
    Node n = node;
    if (n == null) {
      throw new IllegalStateException("no Workgate is built with this ManualDrive");
    }
    return n;
  }

  /** Called by the node each time one of its attempts ends, whatever its outcome. */
  public void attemptEnded() {
    attemptsEnded.incrementAndGet();
  }

  /**
   * How many attempts of the node have ended since it was built.
   *
   * @return the count
   */
  public long attemptsEnded() {
    return attemptsEnded.get();
  }

  /** Runs each task on the thread that hands it over. */
  private static final class CallerThread extends AbstractExecutorService {
    private volatile boolean shutdown;

    @Override
    public void execute(Runnable command) {
      Objects.requireNonNull(command, "command");
      if (shutdown) {
        throw new java.util.concurrent.RejectedExecutionException("the node is shut down");
      }
      command.run();
    }

    @Override
    public void shutdown() {
      shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
      shutdown = true;
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return shutdown;
    }

    @Override
    public boolean isTerminated() {
      return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return shutdown;
    }
  }
}
