package dev.workgate.observability;

import dev.workgate.core.internal.Text;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.observability.SystemHealth.HealthIssue;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One run of the health checks ({@code check()}, {@code liveness()} or {@code readiness()}): its
 * time, what it is for, and the store reads begun for it, each awaited once by the first check that
 * needs it. Not thread-safe: confined to the thread that runs the round.
 */
final class HealthRound {
  /** What the round is for, where the same part is judged differently. */
  enum Purpose {
    CHECK,
    LIVENESS,
    READINESS
  }

  private final Instant now;
  private final Purpose purpose;
  private final Supplier<BoundedRead.Outcome<Boolean>> ping;
  private final Supplier<BoundedRead.Outcome<QueueCounts>> counts;
  private final Supplier<BoundedRead.Outcome<List<QueueAction>>> pauses;
  private BoundedRead.Outcome<Boolean> pinged;
  private BoundedRead.Outcome<QueueCounts> counted;
  private BoundedRead.Outcome<List<QueueAction>> paused;

  /**
   * A round that does not read the pauses.
   *
   * @param now the round's time
   * @param purpose what the round is for
   * @param ping awaits the store ping begun for the round
   * @param counts awaits the work-order counts begun for the round
   */
  HealthRound(
      Instant now,
      Purpose purpose,
      Supplier<BoundedRead.Outcome<Boolean>> ping,
      Supplier<BoundedRead.Outcome<QueueCounts>> counts) {
    this(now, purpose, ping, counts, notRead("the queue pauses"));
  }

  /**
   * @param now the round's time
   * @param purpose what the round is for
   * @param ping awaits the store ping begun for the round
   * @param counts awaits the work-order counts begun for the round
   * @param pauses awaits the pauses in force, read with the counts
   */
  HealthRound(
      Instant now,
      Purpose purpose,
      Supplier<BoundedRead.Outcome<Boolean>> ping,
      Supplier<BoundedRead.Outcome<QueueCounts>> counts,
      Supplier<BoundedRead.Outcome<List<QueueAction>>> pauses) {
    this.now = now;
    this.purpose = purpose;
    this.ping = ping;
    this.counts = counts;
    this.pauses = pauses;
  }

  /** A read that a round of this purpose does not begin: asking for it is a bug. */
  static <T> Supplier<T> notRead(String what) {
    return () -> {
      throw new IllegalStateException(what + " is not read in this round");
    };
  }

  Instant now() {
    return now;
  }

  Purpose purpose() {
    return purpose;
  }

  /** What came of the store ping, waiting for it the first time. */
  BoundedRead.Outcome<Boolean> pinged() {
    if (pinged == null) {
      pinged = ping.get();
    }
    return pinged;
  }

  /** What came of the counts by queue and state, waiting for them the first time. */
  BoundedRead.Outcome<QueueCounts> counted() {
    if (counted == null) {
      counted = counts.get();
    }
    return counted;
  }

  /** What came of reading the pauses in force, waiting for them the first time. */
  BoundedRead.Outcome<List<QueueAction>> paused() {
    if (paused == null) {
      paused = pauses.get();
    }
    return paused;
  }

  /**
   * A warning when the counts could not be read: the store component reports the store itself, so a
   * part judged from the counts is only unknown, not broken.
   *
   * @param component the component judged from the counts
   * @param timeout the counts' timeout, for the message
   * @return the warning, or empty when the counts were read
   */
  Optional<HealthIssue> countsUnavailable(String component, Duration timeout) {
    BoundedRead.Outcome<QueueCounts> outcome = counted();
    String why;
    switch (outcome.kind()) {
      case ANSWERED:
        return Optional.empty();
      case UNANSWERED:
        why = "the store did not answer within " + Text.duration(timeout);
        break;
      case FAILED:
        why = "the store failed with " + HealthText.classesOnly(outcome.failure());
        break;
      default:
        why = "this WorkgateHealth is closed";
    }
    return Optional.of(
        HealthIssue.warning(
            component,
            "work-order counts unavailable: " + why,
            "see the store component; if the store answers pings, counting by queue and state is"
                + " slow on this store: look at the database's load or raise countsTimeout"));
  }
}
