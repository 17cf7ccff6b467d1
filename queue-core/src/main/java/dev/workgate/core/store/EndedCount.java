package dev.workgate.core.store;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * How many work orders ended in one interval, by how they ended: one bucket of {@link
 * StoreView#endedPerInterval}. Immutable and thread-safe.
 *
 * @param start the start of the interval (inclusive); it ends where the next bucket starts, the
 *     last one at the {@code to} of the call
 * @param completed work orders that ended {@link dev.workgate.core.WorkOrderState#COMPLETED} in it
 * @param failed work orders that ended {@link dev.workgate.core.WorkOrderState#FAILED} in it
 * @param cancelled work orders that ended {@link dev.workgate.core.WorkOrderState#CANCELLED} in it
 */
public record EndedCount(Instant start, long completed, long failed, long cancelled) {

  /** The shortest interval: a store's times are finer, but a chart of ended work is not. */
  public static final Duration MIN_INTERVAL = Duration.ofSeconds(1);

  /**
   * The most buckets one call returns: a day by the minute. A call is one grouped statement, and
   * its answer one list that a chart draws.
   */
  public static final int MAX_BUCKETS = 1_440;

  /** The earliest {@code from} accepted: the start of year 0. */
  private static final Instant EARLIEST = Instant.parse("0000-01-01T00:00:00Z");

  /**
   * The latest {@code to} accepted: the end of year 9999. Within these bounds every time and span
   * is a count of microseconds that a {@code long} holds, which is how the durable stores keep and
   * compute times.
   */
  private static final Instant LATEST = Instant.parse("+10000-01-01T00:00:00Z");

  /**
   * Checks the fields.
   *
   * @throws NullPointerException if {@code start} is null
   * @throws IllegalArgumentException if a count is negative, naming it
   */
  public EndedCount {
    Objects.requireNonNull(start, "start");
    if (completed < 0 || failed < 0 || cancelled < 0) {
      throw new IllegalArgumentException(
          "EndedCount counts must not be negative, got completed "
              + completed
              + ", failed "
              + failed
              + ", cancelled "
              + cancelled
              + " at "
              + start);
    }
  }

  /**
   * The start of each bucket that {@link StoreView#endedPerInterval endedPerInterval(from, to,
   * interval)} returns, after checking its arguments as every store does: {@code from + k *
   * interval} for {@code k = 0, 1, …} while before {@code to}. For store implementations.
   *
   * @param from the start of the first bucket (inclusive)
   * @param to the end of the last bucket (exclusive)
   * @param interval the length of each bucket but possibly the last, which ends at {@code to}
   * @return the starts, oldest first, at least one and at most {@link #MAX_BUCKETS}
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code from} is not before {@code to}, either lies outside
   *     the years 0 to 9999, {@code interval} is shorter than {@link #MIN_INTERVAL} or not a whole
   *     number of microseconds (the precision the durable stores keep times in), or there would be
   *     more than {@link #MAX_BUCKETS} buckets; the message names the argument and its value
   */
  public static List<Instant> bucketStarts(Instant from, Instant to, Duration interval) {
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(to, "to");
    Objects.requireNonNull(interval, "interval");
    if (!from.isBefore(to)) {
      throw new IllegalArgumentException(
          "endedPerInterval from must be before to, got from " + from + " and to " + to);
    }
    if (from.isBefore(EARLIEST) || to.isAfter(LATEST)) {
      throw new IllegalArgumentException(
          "endedPerInterval from and to must lie within the years 0 to 9999, got from "
              + from
              + " and to "
              + to);
    }
    if (interval.compareTo(MIN_INTERVAL) < 0) {
      throw new IllegalArgumentException(
          "endedPerInterval interval must be at least " + MIN_INTERVAL + ", got " + interval);
    }
    if (interval.getNano() % 1_000 != 0) {
      throw new IllegalArgumentException(
          "endedPerInterval interval must be a whole number of microseconds (the precision stores"
              + " keep times in), got "
              + interval);
    }
    Duration span = Duration.between(from, to);
    long whole = span.dividedBy(interval);
    long buckets = interval.multipliedBy(whole).equals(span) ? whole : whole + 1;
    if (buckets > MAX_BUCKETS) {
      throw new IllegalArgumentException(
          "endedPerInterval interval "
              + interval
              + " makes "
              + buckets
              + " buckets of [from "
              + from
              + ", to "
              + to
              + "); at most "
              + MAX_BUCKETS
              + " are allowed: give a longer interval or a shorter range");
    }
    List<Instant> starts = new ArrayList<>((int) buckets);
    for (int k = 0; k < buckets; k++) {
      starts.add(from.plus(interval.multipliedBy(k)));
    }
    return Collections.unmodifiableList(starts);
  }
}
