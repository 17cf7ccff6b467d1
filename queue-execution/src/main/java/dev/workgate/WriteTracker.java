package dev.workgate;

import dev.workgate.NodeView.StoreWrites;
import dev.workgate.NodeView.WriteFailureCause;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts this node's store writes that failed and remembers the last failure and the last success,
 * for {@link StoreWrites}. A run of failures is logged once at WARN when it begins (with its cause,
 * never the database's message), and at INFO when a write succeeds again; runs that begin within
 * {@link #LOG_INTERVAL} of the last one logged are not, so a store that fails now and then does not
 * flood the log. The callers log the exceptions themselves.
 *
 * <p>Thread-safe; writes on many threads update it concurrently, and a snapshot taken meanwhile may
 * be a write or two behind.
 */
final class WriteTracker {
  private static final Logger LOG = LoggerFactory.getLogger(WriteTracker.class);

  /** The least time between two logged runs of failures. */
  static final Duration LOG_INTERVAL = Duration.ofMinutes(1);

  private final Clock clock;
  private final AtomicLong consecutive = new AtomicLong();
  private final AtomicLong total = new AtomicLong();
  private final AtomicLongArray byCause = new AtomicLongArray(WriteFailureCause.values().length);
  private volatile StoreWrites.Failure last;
  private volatile Instant lastSuccessAt;
  private volatile Instant runLoggedAt; // when the last logged run began
  private volatile boolean runLogged; // whether the current run's start was logged

  WriteTracker(Clock clock) {
    this.clock = clock;
  }

  /** A write changed something: a run of failures ends. */
  void succeeded() {
    lastSuccessAt = clock.instant();
    if (consecutive.get() == 0) {
      return; // the common case costs no write to a shared counter
    }
    long ended = consecutive.getAndSet(0);
    if (ended > 0 && runLogged) {
      runLogged = false;
      LOG.info("store writes succeed again after {} failed write(s)", ended);
    }
  }

  /**
   * A write threw.
   *
   * @param failure what it threw
   * @return whether it counted as a failure of the store (a refusal does not)
   */
  boolean failed(Throwable failure) {
    WriteFailureClassifier.Classified c;
    try {
      c = WriteFailureClassifier.classify(failure);
    } catch (RuntimeException unexpected) {
      // Classifying must never hide the write's own exception.
      c =
          new WriteFailureClassifier.Classified(
              WriteFailureCause.OTHER, failure.getClass().getName());
    }
    if (c == null) {
      return false;
    }
    Instant now = clock.instant();
    last = new StoreWrites.Failure(now, c.cause(), c.detail());
    total.incrementAndGet();
    byCause.incrementAndGet(c.cause().ordinal());
    Instant logged = runLoggedAt;
    if (consecutive.incrementAndGet() == 1
        && (logged == null || !now.isBefore(logged.plus(LOG_INTERVAL)))) {
      runLoggedAt = now;
      runLogged = true;
      LOG.warn(
          "a store write failed: {} ({}); health reports the store once writes keep failing, and"
              + " this is logged again when a write succeeds",
          c.cause().label(),
          c.detail());
    }
    return true;
  }

  StoreWrites snapshot() {
    Map<WriteFailureCause, Long> counts = new EnumMap<>(WriteFailureCause.class);
    for (WriteFailureCause cause : WriteFailureCause.values()) {
      counts.put(cause, byCause.get(cause.ordinal()));
    }
    return new StoreWrites(
        consecutive.get(),
        total.get(),
        counts,
        Optional.ofNullable(last),
        Optional.ofNullable(lastSuccessAt));
  }
}
