package dev.workgate.core;

/**
 * The rules for text the model carries, so that every store keeps it exactly: names (queues, types,
 * owners, idempotency keys, error codes) are short and printable; free text for people (error
 * messages, cancellation reasons) may hold anything but NUL, which PostgreSQL text cannot store and
 * which is replaced by U+FFFD. Stateless.
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
}
