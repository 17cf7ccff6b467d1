package dev.workgate;

import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How this node's writes to the store fare: appends (submits, starts, outcomes, cancellations,
 * retry releases), claims, lease renewals and retention deletes. A write that changed something
 * counts as a success and ends a run of failures; a write that failed because the store failed (not
 * a refusal such as a version conflict or a rejected transition, which means the store answered)
 * counts as a failure, classified by {@link WriteFailureCause}. A write that found nothing to
 * change (a claim with no work, a renewal of a lease already lost) counts as neither.
 *
 * <p>Read from the node's memory, never from the store: it answers while the store hangs. Immutable
 * and thread-safe.
 *
 * @param consecutiveFailures failed writes since the last successful one; 0 when the last write
 *     that changed something succeeded
 * @param totalFailures failed writes since the node was built
 * @param failuresByCause failed writes since the node was built, by cause; every cause present
 * @param lastFailure the most recent failed write, if any
 * @param lastSuccessAt when a write last succeeded, by the node's clock, if one did
 */
public record StoreWrites(
    long consecutiveFailures,
    long totalFailures,
    Map<WriteFailureCause, Long> failuresByCause,
    Optional<Failure> lastFailure,
    Optional<Instant> lastSuccessAt) {

  /**
   * Copies the map, so the snapshot never changes.
   *
   * @throws IllegalArgumentException if a count is negative
   * @throws NullPointerException if an argument is null
   */
  public StoreWrites {
    if (consecutiveFailures < 0 || totalFailures < 0) {
      throw new IllegalArgumentException(
          "failure counts must not be negative, got consecutiveFailures "
              + consecutiveFailures
              + " and totalFailures "
              + totalFailures);
    }
    Map<WriteFailureCause, Long> all = new EnumMap<>(WriteFailureCause.class);
    for (WriteFailureCause c : WriteFailureCause.values()) {
      all.put(c, failuresByCause.getOrDefault(c, 0L));
    }
    failuresByCause = Map.copyOf(all);
    Objects.requireNonNull(lastFailure, "lastFailure");
    Objects.requireNonNull(lastSuccessAt, "lastSuccessAt");
  }

  /**
   * Whether the last write that counted failed.
   *
   * @return true while {@link #consecutiveFailures()} is above zero
   */
  public boolean failing() {
    return consecutiveFailures > 0;
  }

  /**
   * One failed write.
   *
   * @param at when it failed, by the node's clock
   * @param cause its class
   * @param detail the exception class that told the cause and its SQLState or vendor code (e.g.
   *     {@code org.postgresql.util.PSQLException, SQLState 53100}); never message text that could
   *     carry row content, names or secrets
   */
  public record Failure(Instant at, WriteFailureCause cause, String detail) {
    /**
     * Checks the fields.
     *
     * @throws NullPointerException if an argument is null
     */
    public Failure {
      Objects.requireNonNull(at, "at");
      Objects.requireNonNull(cause, "cause");
      Objects.requireNonNull(detail, "detail");
    }
  }
}
