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
}
