package dev.workgate.spi;

import dev.workgate.core.ResourceRequest;

/**
 * Free capacity offered to a claim: slots and memory. A claim takes only work orders whose {@link
 * ResourceRequest} fits what is left. Immutable.
 *
 * @param slots free slots, at least 0
 * @param memoryMb free memory in MiB, at least 0
 */
public record Capacity(int slots, long memoryMb) {

  /**
   * Validates the capacity.
   *
   * @throws IllegalArgumentException if a value is negative
   */
  public Capacity {
    if (slots < 0) {
      throw new IllegalArgumentException("capacity.slots must not be negative, got " + slots);
    }
    if (memoryMb < 0) {
      throw new IllegalArgumentException("capacity.memoryMb must not be negative, got " + memoryMb);
    }
  }

  /**
   * Capacity that fits any request.
   *
   * @return unlimited slots and memory
   */
  public static Capacity unlimited() {
    return new Capacity(Integer.MAX_VALUE, Long.MAX_VALUE);
  }

  /**
   * A capacity of the given size.
   *
   * @param slots free slots
   * @param memoryMb free memory in MiB
   * @return the capacity
   */
  public static Capacity of(int slots, long memoryMb) {
    return new Capacity(slots, memoryMb);
  }

  /**
   * Whether a request fits.
   *
   * @param request the request
   * @return true if both its slots and memory fit
   */
  public boolean fits(ResourceRequest request) {
    return request.slots() <= slots && request.memoryMb() <= memoryMb;
  }

  /**
   * What is left after taking a request that fits.
   *
   * @param request the request
   * @return the remaining capacity
   */
  public Capacity minus(ResourceRequest request) {
    return new Capacity(slots - request.slots(), memoryMb - request.memoryMb());
  }
}
