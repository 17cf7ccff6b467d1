package dev.workgate.scheduler.internal;

import java.time.Duration;
import java.time.Instant;

/**
 * The start gate of the {@link Scheduler}: spaces starts at least {@link
 * SchedulerConfig#staggerDelay()} apart, and at most {@link SchedulerConfig#maxStartsPerSecond()},
 * with bursts of up to one second's worth (a token bucket).
 *
 * <p>Not thread-safe: only a turn calls it, with the scheduler's turn lock held.
 */
final class StartGate {
  private final Duration stagger;
  private final double ratePerSecond;
  private Instant lastStart;
  private double tokens;
  private Instant refilledAt;

  StartGate(Duration stagger, double ratePerSecond) {
    this.stagger = stagger;
    this.ratePerSecond = ratePerSecond;
    this.tokens = Math.max(1, ratePerSecond);
  }

  /** When the next start may happen: now, or later. */
  Instant opensAt(Instant now) {
    Instant at = now;
    if (!stagger.isZero() && lastStart != null) {
      Instant staggered = lastStart.plus(stagger);
      if (staggered.isAfter(at)) {
        at = staggered;
      }
    }
    if (ratePerSecond > 0) {
      refill(now);
      if (tokens < 1) {
        long nanos = (long) Math.ceil((1 - tokens) / ratePerSecond * 1e9);
        Instant refilled = now.plusNanos(nanos);
        if (refilled.isAfter(at)) {
          at = refilled;
        }
      }
    }
    return at;
  }

  /** How many starts may happen now. */
  int permits(Instant now) {
    int permits = stagger.isZero() ? Integer.MAX_VALUE : 1;
    if (ratePerSecond > 0) {
      refill(now);
      permits = (int) Math.min(permits, Math.floor(tokens));
    }
    return Math.max(0, permits);
  }

  void started(Instant now) {
    lastStart = now;
    if (ratePerSecond > 0) {
      refill(now);
      tokens -= 1;
    }
  }

  private void refill(Instant now) {
    if (refilledAt != null && now.isAfter(refilledAt)) {
      double seconds = Duration.between(refilledAt, now).toNanos() / 1e9;
      tokens = Math.min(Math.max(1, ratePerSecond), tokens + seconds * ratePerSecond);
    }
    if (refilledAt == null || now.isAfter(refilledAt)) {
      refilledAt = now;
    }
  }
}
