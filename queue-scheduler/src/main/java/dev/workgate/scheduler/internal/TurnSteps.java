package dev.workgate.scheduler.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the steps of a {@link Scheduler} turn apart: a step that throws is counted, logged at WARN
 * at most once per {@link #STEP_LOG_INTERVAL} per step (with how many failed in between), and the
 * turn goes on with the next step. Logs under the scheduler's logger.
 *
 * <p>Thread-safe: turns call it with the scheduler's turn lock held (which guards each step's log
 * record); the failure count may be read from any thread.
 */
final class TurnSteps {
  private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

  /**
   * The least time between two WARN logs of the same failing step: a store that fails every turn
   * (turns run every poll interval, or many times a second when woken) logs once a minute, with the
   * count of failures in between, rather than flooding the log.
   */
  static final Duration STEP_LOG_INTERVAL = Duration.ofMinutes(1);

  private final String nodeId;
  private final Clock clock;
  private final AtomicLong failures = new AtomicLong();
  private final Map<String, StepLog> logs = new ConcurrentHashMap<>();

  TurnSteps(String nodeId, Clock clock) {
    this.nodeId = nodeId;
    this.clock = clock;
  }

  /** Runs a step that returns nothing; see {@link #run(String, Supplier, Object)}. */
  void run(String what, Runnable step) {
    run(
        what,
        () -> {
          step.run();
          return null;
        },
        null);
  }

  /**
   * Runs one step of a turn: a failure is counted ({@link #failureCount()}), logged at WARN at most
   * once per {@link #STEP_LOG_INTERVAL} per step (with how many failed in between), and the turn
   * goes on with the next step.
   *
   * @return what the step returned, or {@code fallback} if it failed
   */
  <T> T run(String what, Supplier<T> step, T fallback) {
    try {
      return step.get();
    } catch (RuntimeException e) {
      failures.incrementAndGet();
      StepLog log = logs.computeIfAbsent(what, k -> new StepLog());
      Instant now = clock.instant();
      log.failures++;
      if (log.loggedAt == null || !now.isBefore(log.loggedAt.plus(STEP_LOG_INTERVAL))) {
        LOG.warn(
            "{} on {} failed ({} time(s) since this was last logged); the turn goes on",
            what,
            nodeId,
            log.failures,
            e);
        log.loggedAt = now;
        log.failures = 0;
      }
      return fallback;
    }
  }

  /** Steps that failed since the scheduler was built; it only rises. */
  long failureCount() {
    return failures.get();
  }

  /** When a step's failure was last logged, and how many failed since; guarded by turnLock. */
  private static final class StepLog {
    Instant loggedAt;
    long failures;
  }
}
