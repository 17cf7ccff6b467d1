package dev.workgate.core;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The identity of a batch: the work orders one {@code submitBatch} call submitted together, and the
 * work orders later resubmitted from them. The same rule as {@link WorkOrderId}: a non-blank string
 * of at most {@value #MAX_LENGTH} characters without control characters. Immutable and thread-safe.
 *
 * @param value the identifier text
 */
public record BatchId(String value) implements Comparable<BatchId> {

  /** Longest accepted identifier. */
  public static final int MAX_LENGTH = WorkOrderId.MAX_LENGTH;

  /**
   * Validates the identifier.
   *
   * @throws IllegalArgumentException if the value is null, blank, too long or has control
   *     characters
   */
  public BatchId {
    try {
      WorkOrderId.of(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage().replace("work order id", "batch id"), null);
    }
  }

  /**
   * A new unique identifier (a random UUID); unique, not secret.
   *
   * @return a fresh identifier
   */
  public static BatchId random() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    return new BatchId(new UUID(random.nextLong(), random.nextLong()).toString());
  }

  /**
   * The identifier with the given text.
   *
   * @param value the identifier text
   * @return the identifier
   * @throws IllegalArgumentException if the value is not a valid identifier
   */
  public static BatchId of(String value) {
    return new BatchId(value);
  }

  @Override
  public int compareTo(BatchId other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
