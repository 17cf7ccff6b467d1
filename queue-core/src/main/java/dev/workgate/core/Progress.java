package dev.workgate.core;

import dev.workgate.core.internal.Text;
import java.time.Instant;
import java.util.Objects;

/**
 * How far a running attempt got, as it last reported: kept with the attempt's lease renewal, so it
 * may lag the report by up to one renewal interval. Immutable and thread-safe.
 *
 * @param fraction between 0 and 1
 * @param message for a person, may be empty, at most {@link #MAX_MESSAGE_LENGTH} chars
 * @param reportedAt when the attempt reported it
 */
public record Progress(double fraction, String message, Instant reportedAt) {

  /** The longest message kept, in chars; a longer one is cut. */
  public static final int MAX_MESSAGE_LENGTH = 200;

  /**
   * Validates the progress; the message is kept as {@link Text#truncate} returns it.
   *
   * @throws IllegalArgumentException if the fraction is not between 0 and 1 (NaN included)
   * @throws NullPointerException if the message or time is null
   */
  public Progress {
    if (!(fraction >= 0.0 && fraction <= 1.0)) {
      throw new IllegalArgumentException("progress must be between 0 and 1, got " + fraction);
    }
    Objects.requireNonNull(message, "progress message");
    Objects.requireNonNull(reportedAt, "progress reportedAt");
    message = Text.truncate(Text.storable(message), MAX_MESSAGE_LENGTH);
  }
}
