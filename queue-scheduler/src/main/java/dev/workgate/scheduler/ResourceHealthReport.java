package dev.workgate.scheduler;

import dev.workgate.scheduler.internal.ResourceMonitor;
import java.time.Instant;

/**
 * A snapshot of a node's resources for health endpoints and logs: memory as last read, pressure,
 * slots and reserved memory. Immutable.
 *
 * <p>Before the first successful reading the memory fields are 0, {@code readAt} is null and the
 * source is {@link #NO_READING}.
 *
 * @param memoryTotalMb total memory at the last reading, MiB
 * @param memoryUsedMb used memory at the last reading, MiB
 * @param memoryAvailableMb available memory at the last reading, MiB
 * @param pressure the current pressure level
 * @param activeSlots slots held by unreleased leases
 * @param maxSlots the slot limit without pressure
 * @param reservedMemoryMb memory reserved by unreleased leases, MiB
 * @param readAt when the last successful reading was taken, or null if none was
 * @param source where the last reading came from, or {@link #NO_READING}
 */
public record ResourceHealthReport(
    long memoryTotalMb,
    long memoryUsedMb,
    long memoryAvailableMb,
    PressureLevel pressure,
    int activeSlots,
    int maxSlots,
    long reservedMemoryMb,
    Instant readAt,
    String source) {

  /** The source of a report made before any successful reading. */
  public static final String NO_READING = "none";

  /**
   * Whether the memory fields come from a reading.
   *
   * @return false before the first successful reading
   */
  public boolean hasReading() {
    return readAt != null;
  }

  /**
   * How close a node is to running out of memory, as {@link ResourceMonitor} judges it from the
   * used fraction of memory with thresholds and hysteresis (see {@link ResourceConfig}).
   */
  public enum PressureLevel {
    /** Below the warning threshold: the node admits up to its full slot limit. */
    NONE,
    /** At or above the warning threshold: the node admits up to half its slot limit. */
    WARNING,
    /** At or above the critical threshold: the node admits nothing new. */
    CRITICAL
  }
}
