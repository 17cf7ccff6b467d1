package dev.workgate.scheduler;

import dev.workgate.scheduler.internal.MemoryProbes;
import dev.workgate.scheduler.internal.ResourceMonitor;

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

  /**
   * One reading of a node's memory: how much there is and how much is available, as a {@link
   * MemoryProbe} saw it. Immutable and thread-safe.
   *
   * @param totalBytes the memory this process may use in all (a container's limit, else the host's
   *     memory), more than 0
   * @param availableBytes the part of it still available, from 0 to {@code totalBytes}
   * @param source where the reading came from, e.g. {@code "cgroup v2 /sys/fs/cgroup"}, {@code
   *     "/proc/meminfo"} or {@code "jvm"}; not blank
   */
  public record MemoryReading(long totalBytes, long availableBytes, String source) {

    /** Bytes in a mebibyte. */
    public static final long BYTES_PER_MIB = 1024L * 1024L;

    /**
     * Validates the reading.
     *
     * @throws IllegalArgumentException if total is not positive, available is negative or above
     *     total, or the source is null or blank
     */
    public MemoryReading {
      if (totalBytes <= 0) {
        throw new IllegalArgumentException(
            "memory reading totalBytes must be positive, got " + totalBytes);
      }
      if (availableBytes < 0 || availableBytes > totalBytes) {
        throw new IllegalArgumentException(
            "memory reading availableBytes must be between 0 and totalBytes "
                + totalBytes
                + ", got "
                + availableBytes);
      }
      if (source == null || source.isBlank()) {
        throw new IllegalArgumentException(
            "memory reading source must not be blank, got: "
                + (source == null ? "null" : "'" + source + "'"));
      }
    }

    /**
     * Memory in use: total minus available.
     *
     * @return bytes, from 0 to {@link #totalBytes()}
     */
    public long usedBytes() {
      return totalBytes - availableBytes;
    }

    /**
     * The used share of the total.
     *
     * @return from 0.0 to 1.0
     */
    public double usedFraction() {
      return (double) usedBytes() / (double) totalBytes;
    }

    /**
     * Available memory in whole mebibytes, rounded down.
     *
     * @return MiB, at least 0
     */
    public long availableMb() {
      return availableBytes / BYTES_PER_MIB;
    }

    /**
     * Total memory in whole mebibytes, rounded down.
     *
     * @return MiB, at least 0
     */
    public long totalMb() {
      return totalBytes / BYTES_PER_MIB;
    }

    /**
     * Used memory in whole mebibytes, rounded down.
     *
     * @return MiB, at least 0
     */
    public long usedMb() {
      return usedBytes() / BYTES_PER_MIB;
    }
  }
}
