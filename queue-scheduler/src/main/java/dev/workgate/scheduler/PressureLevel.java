package dev.workgate.scheduler;

/**
 * How close a node is to running out of memory, as {@link ResourceMonitor} judges it from the used
 * fraction of memory with thresholds and hysteresis (see {@link ResourceConfig}).
 */
public enum PressureLevel {
  /** Below the warning threshold: the node admits up to its full slot limit. */
  NONE,
  /** At or above the warning threshold: the node admits up to half its slot limit. */
  WARNING,
  /** At or above the critical threshold: the node admits nothing new. */
  CRITICAL
}
