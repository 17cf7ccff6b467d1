package dev.workgate.test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One-shot timers on a {@link MutableClock}: a task is due at the clock's time when it was
 * scheduled plus its delay, and runs on the thread that calls {@link #fireDue()} once the clock has
 * reached that time, never earlier; tasks due at the same time run in the order they were
 * scheduled. {@link #execute} runs its task at once on the calling thread. Periodic timers are
 * refused: the node driven by hand schedules none. Thread-safe.
 */
final class ClockTimer extends AbstractExecutorService implements ScheduledExecutorService {
  private final MutableClock clock;
  private final List<Task> tasks = new ArrayList<>(); // guarded by this
  private long sequence; // guarded by this
  private volatile boolean shutdown;

  ClockTimer(MutableClock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Runs every task whose time has come, earliest first, on the calling thread. */
  void fireDue() {
    while (true) {
      Task next;
      synchronized (this) {
        Instant now = clock.instant();
        next = null;
        for (Task t : tasks) {
          if (!t.at.isAfter(now) && (next == null || t.before(next))) {
            next = t;
          }
        }
        if (next == null) {
          return;
        }
        tasks.remove(next);
        next.done = true;
      }
      next.command.run();
    }
  }

  /** Timers still waiting for their time. */
  synchronized int pending() {
    return tasks.size();
  }

  @Override
  public synchronized ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    Objects.requireNonNull(command, "command");
    if (shutdown) {
      throw new RejectedExecutionException("the timer is shut down");
    }
    Instant now = clock.instant();
    Instant at;
    try {
      at = now.plus(Duration.of(Math.max(0, delay), unit.toChronoUnit()));
    } catch (ArithmeticException | java.time.DateTimeException tooFar) {
      at = Instant.MAX; // a timeout of centuries never fires
    }
    Task t = new Task(command, at, sequence++);
    tasks.add(t);
    return t;
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException("only Runnable timers are used");
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    throw new UnsupportedOperationException("a node driven by hand has no periodic timers");
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException("a node driven by hand has no periodic timers");
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
  public synchronized List<Runnable> shutdownNow() {
    shutdown = true;
    List<Runnable> left = new ArrayList<>();
    for (Task t : tasks) {
      left.add(t.command);
    }
    tasks.clear();
    return left;
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

  private final class Task implements ScheduledFuture<Object> {
    final Runnable command;
    final Instant at;
    final long seq;
    volatile boolean cancelled;
    volatile boolean done;

    Task(Runnable command, Instant at, long seq) {
      this.command = command;
      this.at = at;
      this.seq = seq;
    }

    boolean before(Task other) {
      int c = at.compareTo(other.at);
      return c < 0 || (c == 0 && seq < other.seq);
    }

    @Override
    public long getDelay(TimeUnit unit) {
      Duration left = Duration.between(clock.instant(), at);
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
        if (done || cancelled) {
          return false;
        }
        cancelled = true;
        tasks.remove(this);
        return true;
      }
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public boolean isDone() {
      return done || cancelled;
    }

    @Override
    public Object get() {
      throw new UnsupportedOperationException("timers are not waited for");
    }

    @Override
    public Object get(long timeout, TimeUnit unit) {
      throw new UnsupportedOperationException("timers are not waited for");
    }
  }
}
