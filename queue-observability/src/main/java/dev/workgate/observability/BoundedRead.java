package dev.workgate.observability;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One kind of store read for the health checks, run on a daemon thread of its own so that a caller
 * waits for it at most a timeout, whatever the store does.
 *
 * <p>At most one read is in flight: a caller that finds one running (started by a concurrent check,
 * or one that hangs since an earlier check) waits for that one, for what is left of its timeout,
 * instead of starting another. A store that hangs therefore holds one thread, never a pile of them.
 * The thread is made on the first read and ended by {@link #close()}.
 *
 * <p>Timeouts are real time, as they bound how long a caller blocks; the start time reported for an
 * unanswered read is by the node's clock, like every other time in a health report.
 *
 * <p>Failures are logged here in full (at WARN when reads start failing, at DEBUG while they go on
 * failing): health messages name only the exception classes, as a store's message can hold secrets.
 * Thread-safe.
 */
final class BoundedRead<T> implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WorkgateHealth.class);

  private final String what;
  private final String threadName;
  private final Callable<T> read;
  private final Clock clock;
  private final Object lock = new Object();
  private ExecutorService thread; // guarded by lock
  private Attempt<T> current; // guarded by lock
  private volatile boolean closed; // written under lock
  private volatile boolean failing; // written by the read thread only

  /**
   * @param what the read, for log lines, e.g. {@code "store ping"}
   * @param threadName the name of its thread
   * @param read the read
   * @param clock the node's clock
   */
  BoundedRead(String what, String threadName, Callable<T> read, Clock clock) {
    this.what = what;
    this.threadName = threadName;
    this.read = read;
    this.clock = clock;
  }

  /** A read to wait for: one in flight, or a new one. Never throws. */
  Attempt<T> begin() {
    synchronized (lock) {
      if (closed) {
        return null;
      }
      if (current != null && !current.future.isDone()) {
        return current.joined();
      }
      Instant startedAt = clock.instant();
      long startNanos = System.nanoTime();
      Future<T> future;
      try {
        if (thread == null) {
          thread =
              Executors.newSingleThreadExecutor(
                  r -> {
                    Thread t = new Thread(r, threadName);
                    t.setDaemon(true);
                    return t;
                  });
        }
        future = thread.submit(this::logged);
      } catch (RuntimeException e) {
        future = CompletableFuture.failedFuture(e);
      }
      current = new Attempt<>(future, startedAt, startNanos, true);
      return current;
    }
  }

  /**
   * Waits for a read until its timeout, counted from when it started, has passed.
   *
   * @param attempt from {@link #begin()}; null once closed
   * @param timeout how long a read may take
   * @return what came of it
   */
  Outcome<T> await(Attempt<T> attempt, Duration timeout) {
    if (attempt == null) {
      return new Outcome<>(Outcome.Kind.CLOSED, null, null, null, false, Duration.ZERO);
    }
    long left = timeout.toNanos() - (System.nanoTime() - attempt.startNanos);
    try {
      T value = attempt.future.get(Math.max(0, left), TimeUnit.NANOSECONDS);
      Duration took = Duration.ofNanos(System.nanoTime() - attempt.startNanos);
      return new Outcome<>(Outcome.Kind.ANSWERED, value, null, attempt.startedAt, false, took);
    } catch (TimeoutException e) {
      return new Outcome<>(
          Outcome.Kind.UNANSWERED, null, null, attempt.startedAt, attempt.startedHere, timeout);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      return new Outcome<>(Outcome.Kind.FAILED, null, cause, attempt.startedAt, false, timeout);
    } catch (CancellationException e) {
      return new Outcome<>(Outcome.Kind.CLOSED, null, null, attempt.startedAt, false, timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Outcome<>(Outcome.Kind.FAILED, null, e, attempt.startedAt, false, timeout);
    }
  }

  private T logged() throws Exception {
    try {
      T value = read.call();
      if (failing) {
        failing = false;
        LOG.info("{} answers again", what);
      }
      return value;
    } catch (Exception | LinkageError | AssertionError e) {
      if (closed) {
        LOG.debug("{} ended by close()", what, e);
      } else if (!failing) {
        failing = true;
        LOG.warn("{} failed; health reports name only the exception's class", what, e);
      } else {
        LOG.debug("{} still fails", what, e);
      }
      throw e;
    }
  }

  /** Ends the thread, interrupting a read in flight. Idempotent. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      if (thread != null) {
        thread.shutdownNow();
      }
    }
  }

  /** A read in flight, and whether the caller that got it started it. */
  static final class Attempt<T> {
    private final Future<T> future;
    private final Instant startedAt;
    private final long startNanos;
    private final boolean startedHere;

    private Attempt(Future<T> future, Instant startedAt, long startNanos, boolean startedHere) {
      this.future = future;
      this.startedAt = startedAt;
      this.startNanos = startNanos;
      this.startedHere = startedHere;
    }

    private Attempt<T> joined() {
      return new Attempt<>(future, startedAt, startNanos, false);
    }
  }

  /**
   * What came of a read.
   *
   * @param kind answered, failed, not answered in time, or not read because closed
   * @param value the answer, when answered
   * @param failure the exception, when failed
   * @param startedAt when the read started, by the node's clock; null when closed
   * @param startedHere whether the caller's own {@link #begin()} started it (else it was in flight)
   * @param took how long it took, when answered; the timeout otherwise
   */
  record Outcome<T>(
      Kind kind,
      T value,
      Throwable failure,
      Instant startedAt,
      boolean startedHere,
      Duration took) {
    enum Kind {
      ANSWERED,
      FAILED,
      UNANSWERED,
      CLOSED
    }

    /** The same outcome with its answer, if any, turned into another value. */
    <U> Outcome<U> map(java.util.function.Function<T, U> f) {
      return new Outcome<>(
          kind, value == null ? null : f.apply(value), failure, startedAt, startedHere, took);
    }
  }
}
