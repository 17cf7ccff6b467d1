package dev.workgate.core;

import java.time.Duration;
import java.util.Locale;

/**
 * The rules for text the model carries, so that every store keeps it exactly: names (queues, types,
 * owners, idempotency keys, error codes) are short and printable; free text for people (error
 * messages, cancellation reasons) may hold anything but NUL, which PostgreSQL text cannot store and
 * which is replaced by U+FFFD. Also the one way messages for people write a duration ({@link
 * #duration}). Stateless.
 */
public final class Text {
  /** The longest name, in UTF-16 chars. */
  public static final int MAX_NAME_LENGTH = 200;

  private Text() {}

  /**
   * Checks a name.
   *
   * @param value the name
   * @param field the field's name in the message, e.g. {@code "queue"}
   * @return the name
   * @throws IllegalArgumentException if it is null, blank, longer than {@link #MAX_NAME_LENGTH} or
   *     holds a control character (the message names the field and the character's position)
   */
  public static String requireName(String value, String field) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(
          field + " must not be blank, got: " + (value == null ? "null" : "'" + value + "'"));
    }
    if (value.length() > MAX_NAME_LENGTH) {
      throw new IllegalArgumentException(
          field
              + " must be at most "
              + MAX_NAME_LENGTH
              + " characters, got "
              + value.length()
              + " starting '"
              + value.substring(0, 20)
              + "…'");
    }
    for (int i = 0; i < value.length(); i++) {
      if (Character.isISOControl(value.charAt(i))) {
        throw new IllegalArgumentException(
            field
                + " must not contain control characters, found U+"
                + String.format("%04X", (int) value.charAt(i))
                + " at index "
                + i);
      }
    }
    return value;
  }

  /**
   * Free text with every NUL replaced by U+FFFD.
   *
   * @param value the text, not null
   * @return the text as stores keep it
   */
  public static String storable(String value) {
    return value.indexOf('\u0000') < 0 ? value : value.replace('\u0000', '\uFFFD');
  }

  /**
   * A duration as messages for people write it, the same everywhere in the product (event log,
   * exceptions, logs, the demo and the CLI): {@code 850ms}, {@code 20.0s}, {@code 12.4s}, {@code
   * 3m05s}, {@code 2h07m}, {@code 3d04h}. Below a minute it keeps a tenth of a second, truncated;
   * above, the two largest units. A negative duration gets a leading {@code -}.
   *
   * @param d the duration, not null
   * @return the text
   */
  public static String duration(Duration d) {
    if (d.isNegative()) {
      // The most negative duration has no positive counterpart; a second less is no different.
      return "-"
          + duration(d.getSeconds() == Long.MIN_VALUE ? d.plusSeconds(1).negated() : d.negated());
    }
    long s = d.getSeconds();
    if (s < 60) {
      long ms = d.toMillis();
      return ms < 1_000
          ? ms + "ms"
          : String.format(Locale.ROOT, "%d.%ds", ms / 1000, (ms % 1000) / 100);
    }
    if (s < 3_600) {
      return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
    if (s < 86_400) {
      return String.format(Locale.ROOT, "%dh%02dm", s / 3_600, (s % 3_600) / 60);
    }
    return String.format(Locale.ROOT, "%dd%02dh", s / 86_400, (s % 86_400) / 3_600);
  }
}
