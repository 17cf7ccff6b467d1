package dev.workgate.observability;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;

/**
 * How many of the scheduler's turn steps failed within a recent window, from the scheduler's
 * ever-rising count ({@code Scheduler.stepFailureCount()}) sampled at each health check: the count
 * now minus the count at the oldest sample still inside the window. Failures before the first
 * sample (before the health checks were built) are not counted. Samples are kept only while inside
 * the window, at most {@link #MAX_SAMPLES}.
 *
 * <p>Thread-safe: checks on several threads share it.
 */
final class StepFailureWatch {
  /** Enough samples for a check a second over a few minutes' window; older ones are merged. */
  static final int MAX_SAMPLES = 256;

  private record Sample(Instant at, long count) {}

  private final Duration window;
  private final ArrayDeque<Sample> samples = new ArrayDeque<>(); // guarded by this
  private Sample baseline; // the newest sample that left the window; guarded by this

  StepFailureWatch(Duration window, Instant now, long count) {
    this.window = window;
    this.baseline = new Sample(now, count);
  }

  /**
   * Records the count now and says how many steps failed within the window.
   *
   * @param now the check's time
   * @param count the scheduler's step failures now
   * @return the failures since the oldest sample inside the window (or the newest one before it)
   */
  synchronized long failedWithin(Instant now, long count) {
    Instant since = now.minus(window);
    while (!samples.isEmpty() && samples.peekFirst().at().isBefore(since)) {
      baseline = samples.pollFirst();
    }
    long failed = Math.max(0, count - baseline.count());
    if (samples.size() >= MAX_SAMPLES) {
      baseline = samples.pollFirst();
    }
    samples.addLast(new Sample(now, count));
    return failed;
  }
}
