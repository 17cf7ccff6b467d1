package dev.workgate.scheduler;

/**
 * Reads how much memory a node has and how much of it is available. {@link MemoryProbes} makes the
 * usual ones; tests pass a lambda.
 *
 * <p>Implementations must be safe to call from any thread; {@link ResourceMonitor} calls one at a
 * time.
 */
@FunctionalInterface
public interface MemoryProbe {

  /**
   * Takes one reading.
   *
   * @return the reading, never null
   * @throws java.io.UncheckedIOException if a file or system interface cannot be read
   * @throws RuntimeException if the reading cannot be made for another reason, such as content that
   *     does not parse; {@link ResourceMonitor#refresh()} catches it and keeps its last reading
   */
  MemoryReading read();
}
