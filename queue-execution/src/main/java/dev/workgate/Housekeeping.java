package dev.workgate;

import dev.workgate.execution.internal.OrphanReaper;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's housekeeping: destroying the sandboxes that crashes or failed destroys left behind, at
 * start, on demand and then every reap interval on a thread of its own (none if the interval is
 * zero) until stopped.
 *
 * <p>Thread-safe: the reaper may run on demand from any thread beside the periodic run; {@link
 * #start()} is called once by the node (which guards it), {@link #stop()} from any thread, any
 * number of times.
 */
final class Housekeeping {
  private static final Logger LOG = LoggerFactory.getLogger(Workgate.class);

  private final OrphanReaper orphans;
  private final Duration interval;
  private final ThreadFactory threads;

  /** Runs the periodic orphan reaper once started, if its interval is not zero. */
  private volatile ScheduledExecutorService reaper;

  /**
   * @param orphans the node's orphan reaper
   * @param interval between periodic runs; zero for none
   * @param threads makes the periodic run's thread
   */
  Housekeeping(OrphanReaper orphans, Duration interval, ThreadFactory threads) {
    this.orphans = orphans;
    this.interval = interval;
    this.threads = threads;
  }

  /** Destroys orphaned sandboxes before the node starts; a failure is the caller's. */
  void reapBeforeStart() {
    int reaped = orphans.reap();
    if (reaped > 0) {
      LOG.info("destroyed {} orphaned sandboxes before starting", reaped);
    }
  }

  /** Destroys orphaned sandboxes now; returns how many. */
  int reapNow() {
    return orphans.reap();
  }

  /** Starts the periodic runs, unless the interval is zero. */
  void start() {
    if (!interval.isZero()) {
      ScheduledExecutorService periodic = Executors.newSingleThreadScheduledExecutor(threads);
      long nanos = interval.toNanos();
      periodic.scheduleWithFixedDelay(this::reapPeriodically, nanos, nanos, TimeUnit.NANOSECONDS);
      reaper = periodic;
    }
  }

  /** Stops the periodic runs, interrupting one under way. */
  void stop() {
    ScheduledExecutorService periodic = reaper;
    if (periodic != null) {
      periodic.shutdownNow();
    }
  }

  /** One periodic run of the orphan reaper; a failure is logged and the next run tries again. */
  private void reapPeriodically() {
    try {
      int reaped = orphans.reap();
      if (reaped > 0) {
        LOG.info("destroyed {} orphaned sandboxes", reaped);
      }
    } catch (RuntimeException e) {
      LOG.warn("looking for orphaned sandboxes failed; the next run tries again", e);
    }
  }
}
