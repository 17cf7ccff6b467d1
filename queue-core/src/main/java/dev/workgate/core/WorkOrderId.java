package dev.workgate.core;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The identity of a work order: a non-blank string of at most {@value #MAX_LENGTH} characters
 * without control characters. Immutable and thread-safe.
 *
 * @param value the identifier text
 */
public record WorkOrderId(String value) implements Comparable<WorkOrderId> {

  /** Longest accepted identifier; long enough for any UUID or ULID and a prefix. */
  public static final int MAX_LENGTH = 128;

  /**
   * Validates the identifier.
   *
   * @throws IllegalArgumentException if the value is null, blank, too long or has control
   *     characters
   */
  public WorkOrderId {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException("work order id must not be blank, got: " + quote(value));
    }
    if (value.length() > MAX_LENGTH) {
      throw new IllegalArgumentException(
          "work order id must be at most " + MAX_LENGTH + " characters, got " + value.length());
    }
    for (int i = 0; i < value.length(); i++) {
      if (Character.isISOControl(value.charAt(i))) {
        throw new IllegalArgumentException(
            "work order id must not contain control characters, got: " + quote(value));
      }
    }
  }

  /**
   * A new unique identifier: a time-ordered UUID (version 7: 48 bits of Unix milliseconds, then 74
   * random bits). Identifiers created later sort later (to the millisecond), which keeps the
   * indexes of durable stores compact. The random bits come from {@link ThreadLocalRandom}: unique,
   * not secret; do not use work-order ids as credentials.
   *
   * @return a fresh identifier
   */
  public static WorkOrderId random() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long millis = System.currentTimeMillis();
    long high = (millis << 16) | 0x7000L | (random.nextLong() & 0x0FFFL);
    long low = (random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
    return new WorkOrderId(new UUID(high, low).toString());
  }

  /**
   * The identifier with the given text.
   *
   * @param value the identifier text
   * @return the identifier
   * @throws IllegalArgumentException if the value is not a valid identifier
   */
  public static WorkOrderId of(String value) {
    return new WorkOrderId(value);
  }

  @Override
  public int compareTo(WorkOrderId other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }

  private static String quote(String value) {
    return value == null ? "null" : "'" + value + "'";
  }
}
