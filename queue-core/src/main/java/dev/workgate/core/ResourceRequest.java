package dev.workgate.core;

/**
 * The capacity a work order needs while it runs: scheduler slots (weighted, at least one) and
 * memory in mebibytes (zero means "no memory declared"). Immutable and thread-safe.
 *
 * @param slots slots the work order occupies, at least 1
 * @param memoryMb memory the work order needs in MiB, at least 0
 */
public record ResourceRequest(int slots, long memoryMb) {

  /** One slot and no declared memory: what a work order needs when its spec names nothing. */
  public static final ResourceRequest DEFAULT = new ResourceRequest(1, 0);

  /**
   * Validates the request.
   *
   * @throws IllegalArgumentException if slots &lt; 1 or memoryMb &lt; 0
   */
  public ResourceRequest {
    if (slots < 1) {
      throw new IllegalArgumentException("resources.slots must be at least 1, got " + slots);
    }
    if (memoryMb < 0) {
      throw new IllegalArgumentException(
          "resources.memoryMb must not be negative, got " + memoryMb);
    }
  }

  /**
   * A request for the given slots and memory.
   *
   * @param slots slots, at least 1
   * @param memoryMb memory in MiB, at least 0
   * @return the request
   * @throws IllegalArgumentException if a value is out of range
   */
  public static ResourceRequest of(int slots, long memoryMb) {
    return new ResourceRequest(slots, memoryMb);
  }

  /**
   * This request with a per-slot memory default applied: itself if it declares memory or the
   * default is 0, else {@code memoryPerSlotMb × slots} (saturating at {@link Long#MAX_VALUE}). The
   * one formula by which a submit writes the default into a spec and a node reserves memory, so
   * every node and client admits a work order by the same figure.
   *
   * @param memoryPerSlotMb the memory per slot in MiB, at least 0; 0 applies no default
   * @return the effective request
   * @throws IllegalArgumentException if {@code memoryPerSlotMb} is negative
   */
  public ResourceRequest withMemoryDefault(long memoryPerSlotMb) {
    if (memoryPerSlotMb < 0) {
      throw new IllegalArgumentException(
          "memoryPerSlotMb must not be negative, got " + memoryPerSlotMb);
    }
    if (memoryMb > 0 || memoryPerSlotMb == 0) {
      return this;
    }
    long high = Math.multiplyHigh(memoryPerSlotMb, slots);
    long low = memoryPerSlotMb * slots;
    return new ResourceRequest(slots, high == 0 && low >= 0 ? low : Long.MAX_VALUE);
  }
}
