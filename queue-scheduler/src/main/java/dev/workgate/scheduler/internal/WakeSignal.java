package dev.workgate.scheduler.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * A wake-up flag a {@link Scheduler} thread sleeps on: wakes set it, the sleeper consumes it. The
 * loop sleeps on one, the lease watchdog on another.
 *
 * <p>Thread-safe: any thread wakes, one thread sleeps; a lock of its own guards the flag.
 */
final class WakeSignal {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition woken = lock.newCondition();
  private final Clock clock;
  private final Duration longest;
  private final BooleanSupplier running;
  private final Runnable interrupted;
  private boolean pending;

  /**
   * @param clock the scheduler's clock
   * @param longest the longest sleep: the poll interval
   * @param running while false, a sleep ends at once
   * @param interrupted called when the sleeping thread is interrupted (it stops the scheduler)
   */
  WakeSignal(Clock clock, Duration longest, BooleanSupplier running, Runnable interrupted) {
    this.clock = clock;
    this.longest = longest;
    this.running = running;
    this.interrupted = interrupted;
  }

  void wake() {
    lock.lock();
    try {
      pending = true;
      woken.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Sleeps until {@code until} by the scheduler's clock (at most a poll interval) or a wake.
   *
   * @return true if a wake ended the sleep (or was already pending), false if it ran its time
   */
  boolean awaitUntil(Instant until) {
    long nanos = Duration.between(clock.instant(), until).toNanos();
    nanos = Math.max(0, Math.min(nanos, longest.toNanos()));
    lock.lock();
    try {
      while (!pending && nanos > 0 && running.getAsBoolean()) {
        nanos = woken.awaitNanos(nanos);
      }
      boolean wasWoken = pending;
      pending = false;
      return wasWoken;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      interrupted.run();
      return false;
    } finally {
      lock.unlock();
    }
  }
}
