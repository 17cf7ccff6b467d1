package dev.workgate.internal;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Internal to Workgate's own modules, not an API: the seams of a node that runs no thread of its
 * own, for {@code dev.workgate.test.ManualWorkgate}. It may change or go in any release.
 *
 * <p>A {@link dev.workgate.Workgate} built with {@code Workgate.Builder.manualDrive(drive)} runs
 * executions, sandbox creations, kills and in-process handlers on {@link #callerThread()} (the
 * thread that calls {@link #runOnce()}), schedules attempt timeouts and the other timers of its
 * execution manager on {@link #timer()}, never starts its scheduler loop, watchdog, completions
 * watcher or orphan housekeeping ({@code start()} is refused), and binds its scheduler's turn to
 * this drive: {@link #runOnce()} runs one full turn of the loop on the caller's thread. Every other
 * behaviour of the node is unchanged.
 *
 * <p>Thread-safe; one drive serves one node.
 */
public final class ManualDrive {
  private final ScheduledExecutorService timer;
  private final ExecutorService callerThread = new CallerThread();
  private final AtomicLong attemptsEnded = new AtomicLong();
  private volatile Supplier<Instant> turn;

  /**
   * A drive whose node schedules its timers on {@code timer}.
   *
   * @param timer runs the node's timers (attempt timeouts, creation timeouts, caps) when their time
   *     comes; its {@code execute} must run the task at once on the calling thread
   * @throws NullPointerException if null
   */
  public ManualDrive(ScheduledExecutorService timer) {
    this.timer = Objects.requireNonNull(timer, "timer");
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
   * Called once by the node being built: what one turn of its scheduler is.
   *
   * @param turn runs one full turn and returns when the next one is due
   * @throws IllegalStateException if a node is bound already
   */
  public synchronized void bind(Supplier<Instant> turn) {
    Objects.requireNonNull(turn, "turn");
    if (this.turn != null) {
      throw new IllegalStateException("this ManualDrive drives a node already");
    }
    this.turn = turn;
  }

  /**
   * Runs one full turn of the bound node's scheduler on the calling thread: releases due retries,
   * reaps, renews, claims what fits and runs each claimed attempt to its end before returning.
   *
   * @return when the next turn is due, by the node's clock
   * @throws IllegalStateException if no node is bound
   */
  public Instant runOnce() {
    Supplier<Instant> t = turn;
    if (t == null) {
      throw new IllegalStateException("no Workgate is built with this ManualDrive");
    }
    return t.get();
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
