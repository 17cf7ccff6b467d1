package dev.workgate.core.internal;

import dev.workgate.spi.EventCodec;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The rules for text the model carries, so that every store keeps it exactly and every reader reads
 * back what a writer accepted:
 *
 * <ul>
 *   <li>Names (queues, types, owners, label keys, idempotency keys, error codes, sandbox ids) are
 *       at most {@link #MAX_NAME_LENGTH} chars, printable and well-formed UTF-16: a control
 *       character or an unpaired surrogate is refused ({@link #requireName}).
 *   <li>Free text for people (error messages, cancellation reasons, retry decisions, label values)
 *       may hold anything but NUL and unpaired surrogates, which are replaced by U+FFFD ({@link
 *       #storable}): PostgreSQL text cannot hold NUL, and the JDBC drivers encode an unpaired
 *       surrogate as {@code ?}, so without the replacement the stores would disagree. Each field
 *       has a maximum length: text a caller gives over it is refused ({@link #requireFreeText});
 *       text that a handler, a sandbox or the engine produces is cut to it with a marker ({@link
 *       #truncate}), so that a huge message never breaks the write that records it.
 * </ul>
 *
 * <p>Every limit is far below what the event codec's JSON reader accepts (it reads strings and
 * names of any length), so a stored event is always readable. Also the one way messages for people
 * write a duration ({@link #duration}). Stateless.
 */
public final class Text {
  /**
   * The longest name, in UTF-16 chars: names are identifiers that appear in indexes, log lines,
   * metric tags and URLs.
   */
  public static final int MAX_NAME_LENGTH = 200;

  /**
   * The longest label value, in UTF-16 chars: labels are for filtering and display, not for data
   * (the payload carries data), and every view of a work order carries all its labels.
   */
  public static final int MAX_LABEL_VALUE_LENGTH = 1_000;

  /** The most labels one spec may carry, for the same reason. */
  public static final int MAX_LABELS = 64;

  /**
   * The longest cancellation reason, in UTF-16 chars: a sentence or a ticket reference, read in
   * lists and timelines.
   */
  public static final int MAX_REASON_LENGTH = 2_000;

  /**
   * The longest error message, in UTF-16 chars (8 KiB): room for an exception's message and the top
   * of a stack trace or an output tail; a longer one from a handler or a sandbox is cut with {@link
   * #truncate}. Full logs belong in the sandbox's files, not in the event log.
   */
  public static final int MAX_ERROR_MESSAGE_LENGTH = 8_192;

  /**
   * The longest retry decision (why a failure is or is not retried), in UTF-16 chars; the engine
   * writes a sentence, longer text is cut with {@link #truncate}.
   */
  public static final int MAX_DECISION_LENGTH = 2_000;

  /**
   * The largest payload or result, in bytes of its JSON encoded as UTF-8 (16 MiB): room for a
   * process result with both output tails at their largest (two of 1 MiB, {@code
   * ProcessSpec.MAX_TAIL_BYTES}, even if escaping makes each six times longer), while a work order
   * stays a row that SQLite and PostgreSQL read whole on every claim without strain. Larger inputs
   * belong in files or object storage, with a reference in the payload.
   */
  public static final int MAX_VALUE_BYTES = 16 << 20;

  private static final String TRUNCATED = "… [truncated, %d characters in all]";

  /**
   * Set while {@link EventCodec} reads a stored event: the limits on lengths, label counts and
   * value sizes apply to what is written, not to what a store already holds (a log written before a
   * limit existed stays readable). The rules every version applied (names, NUL) still hold.
   */
  private static final ThreadLocal<Boolean> READING_STORED = ThreadLocal.withInitial(() -> false);

  /**
   * Runs a read of a stored event with the write limits lifted; see {@link #READING_STORED}.
   *
   * @param read the read
   * @return what it returns
   */
  public static <T> T readingStored(Supplier<T> read) {
    if (READING_STORED.get()) {
      return read.get();
    }
    READING_STORED.set(true);
    try {
      return read.get();
    } finally {
      READING_STORED.set(false);
    }
  }

  /**
   * Whether the write limits apply: true except inside {@link #readingStored}.
   *
   * @return whether to enforce lengths, counts and sizes
   */
  public static boolean limitsApply() {
    return !READING_STORED.get();
  }

  private Text() {}

  /**
   * Checks a name.
   *
   * @param value the name
   * @param field the field's name in the message, e.g. {@code "queue"}
   * @return the name
   * @throws IllegalArgumentException if it is null, blank, longer than {@link #MAX_NAME_LENGTH},
   *     holds a control character or an unpaired surrogate (the message names the field and the
   *     character's position)
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
              + shown(value)
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
    int surrogate = firstUnpairedSurrogate(value);
    if (surrogate >= 0) {
      throw new IllegalArgumentException(
          field
              + " must be well-formed UTF-16, found an unpaired surrogate U+"
              + String.format("%04X", (int) value.charAt(surrogate))
              + " at index "
              + surrogate);
    }
    return value;
  }

  /**
   * Free text with every NUL and every unpaired surrogate replaced by U+FFFD: what every store
   * keeps.
   *
   * @param value the text, not null
   * @return the text as stores keep it; the same instance if nothing needed replacing
   */
  public static String storable(String value) {
    if (value.indexOf('\u0000') < 0 && firstUnpairedSurrogate(value) < 0) {
      return value;
    }
    char[] chars = value.toCharArray();
    for (int i = 0; i < chars.length; i++) {
      char c = chars[i];
      if (c == '\u0000') {
        chars[i] = '\uFFFD';
      } else if (Character.isHighSurrogate(c)) {
        if (i + 1 < chars.length && Character.isLowSurrogate(chars[i + 1])) {
          i++;
        } else {
          chars[i] = '\uFFFD';
        }
      } else if (Character.isLowSurrogate(c)) {
        chars[i] = '\uFFFD';
      }
    }
    return new String(chars);
  }

  /**
   * Free text a caller gives: {@link #storable}, and refused if longer than the field's limit.
   *
   * @param value the text
   * @param field the field's name in the message, e.g. {@code "cancellation reason"}
   * @param maxLength the field's limit in UTF-16 chars
   * @return the text as stores keep it
   * @throws IllegalArgumentException if the text is null or longer than {@code maxLength} (the
   *     message names the field, the limit and the length)
   */
  public static String requireFreeText(String value, String field, int maxLength) {
    if (value == null) {
      throw new IllegalArgumentException(field + " must not be null (use an empty string)");
    }
    if (value.length() > maxLength && limitsApply()) {
      throw new IllegalArgumentException(
          field
              + " must be at most "
              + maxLength
              + " characters, got "
              + value.length()
              + " starting '"
              + storable(shown(value))
              + "…'");
    }
    return storable(value);
  }

  /**
   * Free text that a handler, a sandbox or the engine produces: {@link #storable}, and if longer
   * than the limit, cut so that with the marker {@code "… [truncated, N characters in all]"} it is
   * exactly {@code maxLength} chars long (never inside a surrogate pair). Text within the limit is
   * kept as it is, so applying this twice gives the same text as once.
   *
   * @param value the text, not null
   * @param maxLength the field's limit in UTF-16 chars, not negative; a limit too short for the
   *     marker cuts without one
   * @return the text as stores keep it, at most {@code maxLength} chars
   */
  public static String truncate(String value, int maxLength) {
    String text = storable(value);
    if (text.length() <= maxLength || !limitsApply()) {
      return text;
    }
    String marker = String.format(Locale.ROOT, TRUNCATED, text.length());
    if (marker.length() >= maxLength) {
      marker = "";
    }
    int keep = maxLength - marker.length();
    if (keep > 0 && Character.isHighSurrogate(text.charAt(keep - 1))) {
      keep--;
    }
    return text.substring(0, keep) + marker;
  }

  /** The start of a long value for a message, never ending inside a surrogate pair. */
  private static String shown(String value) {
    int end = Math.min(20, value.length());
    if (end < value.length() && Character.isHighSurrogate(value.charAt(end - 1))) {
      end--;
    }
    return value.substring(0, end);
  }

  /**
   * The index of the first surrogate that is not part of a pair, or -1.
   *
   * @param value the text, not null
   * @return the index or -1
   */
  public static int firstUnpairedSurrogate(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
          i++;
        } else {
          return i;
        }
      } else if (Character.isLowSurrogate(c)) {
        return i;
      }
    }
    return -1;
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
