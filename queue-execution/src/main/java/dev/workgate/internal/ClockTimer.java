package dev.workgate.internal;

import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Internal to Workgate's own modules, not an API: timers on a clock that a test moves by hand.
 *
 * <p>A task is due at the clock's time when it was scheduled plus its delay, and runs on the thread
 * that calls {@link #fireDue()} once the clock has reached that time, never earlier; tasks due at
 * the same time run in the order they were scheduled. A periodic task is scheduled again after each
 * run ({@code scheduleAtFixedRate}: its last due time plus the period; {@code
 * scheduleWithFixedDelay}: the clock's time after the run plus the delay), and, as with {@link
 * java.util.concurrent.ScheduledThreadPoolExecutor}, runs no more once a run throws. What a task
 * returns or throws completes its future; {@code get} waits for another thread to fire it. {@link
 * #execute} runs its task at once on the calling thread. {@link #shutdown()} drops the waiting
 * tasks as {@link #shutdownNow()} does: a node driven by hand fires nothing after it closes.
 *
 * <p>Thread-safe.
 */
public final class ClockTimer extends AbstractExecutorService implements ScheduledExecutorService {
  private final Clock clock;
  private final List<Task<?>> tasks = new ArrayList<>(); // guarded by this
  private long sequence; // guarded by this
  private volatile boolean shutdown;

  /**
   * A timer on a clock.
   *
   * @param clock the clock whose time decides what is due
   * @throws NullPointerException if null
   */
  public ClockTimer(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Runs every task whose time has come, earliest first, on the calling thread. */
  public void fireDue() {
    while (true) {
      Task<?> next;
      synchronized (this) {
        Instant now = clock.instant();
        next = null;
        for (Task<?> t : tasks) {
          if (!t.at.isAfter(now) && (next == null || t.before(next))) {
            next = t;
          }
        }
        if (next == null) {
          return;
        }
        tasks.remove(next);
      }
      if (next.run()) {
        synchronized (this) {
          if (!shutdown && !next.isCancelled()) {
            next.at =
                next.fixedRate ? plus(next.at, next.period) : plus(clock.instant(), next.period);
            next.seq = sequence++;
            tasks.add(next);
          }
        }
      }
    }
  }

  /**
   * When the earliest waiting task is due: what a driver that moves the clock in steps (a
   * simulation) reads to stop the clock there, so that the task fires at its own time and not at
   * the end of a longer step.
   *
   * @return the earliest due time, empty when no task waits
   */
  public synchronized Optional<Instant> nextDue() {
    Instant earliest = null;
    for (Task<?> t : tasks) {
      if (earliest == null || t.at.isBefore(earliest)) {
        earliest = t.at;
      }
    }
    return Optional.ofNullable(earliest);
  }

  /**
   * Tasks still waiting for their time.
   *
   * @return how many
   */
  public synchronized int pending() {
    return tasks.size();
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    Objects.requireNonNull(command, "command");
    return add(Executors.callable(command), delay, unit, null, false);
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    return add(Objects.requireNonNull(callable, "callable"), delay, unit, null, false);
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    return periodic(command, initialDelay, period, unit, true);
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    return periodic(command, initialDelay, delay, unit, false);
  }

  private ScheduledFuture<?> periodic(
      Runnable command, long initialDelay, long period, TimeUnit unit, boolean fixedRate) {
    Objects.requireNonNull(command, "command");
    if (period <= 0) {
      throw new IllegalArgumentException("a periodic timer needs a positive period, got " + period);
    }
    return add(
        Executors.callable(command),
        initialDelay,
        unit,
        Duration.of(period, unit.toChronoUnit()),
        fixedRate);
  }

  private synchronized <V> Task<V> add(
      Callable<V> work, long delay, TimeUnit unit, Duration period, boolean fixedRate) {
    Objects.requireNonNull(unit, "unit");
    if (shutdown) {
      throw new RejectedExecutionException("the timer is shut down");
    }
    Instant at;
    try {
      at = plus(clock.instant(), Duration.of(Math.max(0, delay), unit.toChronoUnit()));
    } catch (ArithmeticException tooFar) {
      at = Instant.MAX; // a timeout of centuries never fires
    }
    Task<V> t = new Task<>(work, at, sequence++, period, fixedRate);
    tasks.add(t);
    return t;
  }

  private static Instant plus(Instant at, Duration by) {
    try {
      return at.plus(by);
    } catch (ArithmeticException | DateTimeException tooFar) {
      return Instant.MAX;
    }
  }

  @Override
  public void execute(Runnable command) {
    Objects.requireNonNull(command, "command");
    if (shutdown) {
      throw new RejectedExecutionException("the timer is shut down");
    }
    command.run();
  }

  @Override
  public void shutdown() {
    shutdownNow();
  }

  @Override
  public List<Runnable> shutdownNow() {
    List<Task<?>> dropped;
    synchronized (this) {
      shutdown = true;
      dropped = new ArrayList<>(tasks);
      tasks.clear();
    }
    List<Runnable> left = new ArrayList<>(dropped.size());
    for (Task<?> t : dropped) {
      t.outcome.cancel(false);
      left.add(t::run);
    }
    return left;
  }

  @Override
  public boolean isShutdown() {
    return shutdown;
  }

  /** Nothing runs on a thread of the timer's own: it has ended once it is shut down. */
  @Override
  public boolean isTerminated() {
    return shutdown;
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return shutdown;
  }

  private final class Task<V> implements ScheduledFuture<V> {
    final Callable<V> work;
    final Duration period; // null for a one-shot task
    final boolean fixedRate;
    final CompletableFuture<V> outcome = new CompletableFuture<>();
    Instant at; // guarded by ClockTimer.this
    long seq; // guarded by ClockTimer.this

    Task(Callable<V> work, Instant at, long seq, Duration period, boolean fixedRate) {
      this.work = work;
      this.at = at;
      this.seq = seq;
      this.period = period;
      this.fixedRate = fixedRate;
    }

    boolean before(Task<?> other) {
      int c = at.compareTo(other.at);
      return c < 0 || (c == 0 && seq < other.seq);
    }

    /** Runs the work once; true if it is periodic and is to run again. */
    boolean run() {
      if (outcome.isDone()) {
        return false;
      }
      try {
        V value = work.call();
        if (period == null) {
          outcome.complete(value);
          return false;
        }
        return true;
      } catch (Throwable t) {
        outcome.completeExceptionally(t);
        return false;
      }
    }

    @Override
    public long getDelay(TimeUnit unit) {
      Instant due;
      synchronized (ClockTimer.this) {
        due = at;
      }
      Duration left = Duration.between(clock.instant(), due);
      try {
        return unit.convert(left);
      } catch (ArithmeticException overflow) {
        return left.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
      }
    }

    @Override
    public int compareTo(Delayed o) {
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      synchronized (ClockTimer.this) {
        if (outcome.isDone() || !outcome.cancel(false)) {
          return false; // ran, failed or was cancelled already
        }
        tasks.remove(this);
        return true;
      }
    }

    @Override
    public boolean isCancelled() {
      return outcome.isCancelled();
    }

    @Override
    public boolean isDone() {
      return outcome.isDone();
    }

    @Override
    public V get() throws InterruptedException, ExecutionException {
      return outcome.get();
    }

    @Override
    public V get(long timeout, TimeUnit unit)
        throws InterruptedException, ExecutionException, TimeoutException {
      return outcome.get(timeout, unit);
    }
  }
}
