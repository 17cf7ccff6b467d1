package dev.workgate.scheduler;

import dev.workgate.core.internal.Text;
import dev.workgate.scheduler.ResourceHealthReport.PressureLevel;
import java.util.Objects;

/**
 * How much a node runs at once and how it reacts to memory pressure: the slot limit, memory per
 * slot, an optional memory budget, the warning and critical thresholds with their hysteresis, and
 * memory the node keeps free for itself. Immutable and thread-safe.
 *
 * <p>Memory settings are in mebibytes (MiB). Thresholds are fractions of total memory in use: a
 * level is entered when the used fraction reaches its threshold and left only when the fraction
 * falls below {@code threshold − hysteresis}, so readings that wobble around a threshold do not
 * make the level flap.
 *
 * <pre>{@code
 * ResourceConfig config = ResourceConfig.builder()
 *     .maxConcurrent(4)
 *     .memoryPerSlotMb(2048)
 *     .memoryBudgetMb(12_288)
 *     .minFreeMemoryMb(512)
 *     .build();
 * }</pre>
 */
public final class ResourceConfig {

  /**
   * Two work orders at once: agents in sandboxes each take several GiB and a CPU or two, so a small
   * node runs two comfortably; raise it on bigger hosts.
   */
  public static final int DEFAULT_MAX_CONCURRENT = 2;

  /**
   * No memory per slot: a work order that declares no memory reserves none, and only the memory
   * actually available (and the budget, if set) limits admission.
   */
  public static final long DEFAULT_MEMORY_PER_SLOT_MB = 0;

  /** No budget: only the memory actually available limits admission. */
  public static final long DEFAULT_MEMORY_BUDGET_MB = 0;

  /**
   * 80 % used is a warning: enough headroom left for the work already running to grow while the
   * node slows its intake.
   */
  public static final double DEFAULT_WARNING_THRESHOLD = 0.80;

  /**
   * 90 % used is critical: the node admits nothing new, so the kernel's OOM killer does not pick
   * one of the running work orders.
   */
  public static final double DEFAULT_CRITICAL_THRESHOLD = 0.90;

  /**
   * Five percentage points: larger than the usual wobble of a reading between two refreshes, small
   * enough that the node resumes soon after memory is freed.
   */
  public static final double DEFAULT_HYSTERESIS = 0.05;

  /** No memory kept back: by default the thresholds alone protect the node. */
  public static final long DEFAULT_MIN_FREE_MEMORY_MB = 0;

  /**
   * A minute: an admitted work order's memory counts as not yet allocated, and is subtracted from
   * the memory a reading finds available, for this long after admission. A sandbox takes seconds to
   * start and grow, and a reading taken meanwhile does not show its memory in use yet.
   */
  public static final java.time.Duration DEFAULT_ALLOCATION_GRACE = java.time.Duration.ofMinutes(1);

  /** The largest slot limit. */
  public static final int MAX_CONCURRENT_LIMIT = 10_000;

  /** The largest memory setting: 2^40 MiB (one exbibyte), far beyond any host. */
  public static final long MEMORY_LIMIT_MB = 1L << 40;

  /** AgentGate's per-slot memory for agent sandboxes: 4 GiB. */
  static final long AGENT_SANDBOX_MEMORY_PER_SLOT_MB = 4096;

  private static final ResourceConfig DEFAULTS = builder().build();
  private static final ResourceConfig AGENT_SANDBOXES =
      builder().maxConcurrent(2).memoryPerSlotMb(AGENT_SANDBOX_MEMORY_PER_SLOT_MB).build();

  private final int maxConcurrent;
  private final long memoryPerSlotMb;
  private final long memoryBudgetMb;
  private final double warningThreshold;
  private final double criticalThreshold;
  private final double hysteresis;
  private final long minFreeMemoryMb;
  private final java.time.Duration allocationGrace;

  private ResourceConfig(Builder b) {
    this.maxConcurrent = b.maxConcurrent;
    this.memoryPerSlotMb = b.memoryPerSlotMb;
    this.memoryBudgetMb = b.memoryBudgetMb;
    this.warningThreshold = b.warningThreshold;
    this.criticalThreshold = b.criticalThreshold;
    this.hysteresis = b.hysteresis;
    this.minFreeMemoryMb = b.minFreeMemoryMb;
    this.allocationGrace = b.allocationGrace;
  }

  /**
   * Two slots, no memory per slot, no budget, warning at 80 %, critical at 90 %, hysteresis 5
   * points, nothing kept free.
   *
   * @return the default configuration
   */
  public static ResourceConfig defaults() {
    return DEFAULTS;
  }

  /**
   * AgentGate's values for agents in sandboxes: two slots and 4096 MiB per slot; the rest as in
   * {@link #defaults()}.
   *
   * @return the preset
   */
  public static ResourceConfig agentSandboxes() {
    return AGENT_SANDBOXES;
  }

  /**
   * A builder that starts from {@link #defaults()}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder that starts from this configuration.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.maxConcurrent = maxConcurrent;
    b.memoryPerSlotMb = memoryPerSlotMb;
    b.memoryBudgetMb = memoryBudgetMb;
    b.warningThreshold = warningThreshold;
    b.criticalThreshold = criticalThreshold;
    b.hysteresis = hysteresis;
    b.minFreeMemoryMb = minFreeMemoryMb;
    b.allocationGrace = allocationGrace;
    return b;
  }

  /**
   * The most slots held at once without memory pressure.
   *
   * @return from 1 to {@link #MAX_CONCURRENT_LIMIT}
   */
  public int maxConcurrent() {
    return maxConcurrent;
  }

  /**
   * Memory reserved per slot by a work order that declares no memory; 0 reserves none.
   *
   * @return MiB, at least 0
   */
  public long memoryPerSlotMb() {
    return memoryPerSlotMb;
  }

  /**
   * The most memory all leases together may reserve; 0 means no budget.
   *
   * @return MiB, at least 0
   */
  public long memoryBudgetMb() {
    return memoryBudgetMb;
  }

  /**
   * The used fraction at which pressure becomes {@link PressureLevel#WARNING}.
   *
   * @return in (0, 1], below the critical threshold
   */
  public double warningThreshold() {
    return warningThreshold;
  }

  /**
   * The used fraction at which pressure becomes {@link PressureLevel#CRITICAL}.
   *
   * @return in (0, 1], above the warning threshold
   */
  public double criticalThreshold() {
    return criticalThreshold;
  }

  /**
   * How far below a threshold the used fraction must fall before the level falls.
   *
   * @return in [0, warning threshold)
   */
  public double hysteresis() {
    return hysteresis;
  }

  /**
   * Memory the node keeps free for itself: admission treats available memory as this much smaller.
   *
   * @return MiB, at least 0
   */
  public long minFreeMemoryMb() {
    return minFreeMemoryMb;
  }

  /**
   * How long after admission a work order's memory counts as not yet allocated.
   *
   * @return zero or positive
   */
  public java.time.Duration allocationGrace() {
    return allocationGrace;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ResourceConfig c
        && c.maxConcurrent == maxConcurrent
        && c.memoryPerSlotMb == memoryPerSlotMb
        && c.memoryBudgetMb == memoryBudgetMb
        && Double.compare(c.warningThreshold, warningThreshold) == 0
        && Double.compare(c.criticalThreshold, criticalThreshold) == 0
        && Double.compare(c.hysteresis, hysteresis) == 0
        && c.minFreeMemoryMb == minFreeMemoryMb
        && c.allocationGrace.equals(allocationGrace);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        maxConcurrent,
        memoryPerSlotMb,
        memoryBudgetMb,
        warningThreshold,
        criticalThreshold,
        hysteresis,
        minFreeMemoryMb,
        allocationGrace);
  }

  @Override
  public String toString() {
    return "ResourceConfig{maxConcurrent="
        + maxConcurrent
        + ", memoryPerSlotMb="
        + memoryPerSlotMb
        + ", memoryBudgetMb="
        + memoryBudgetMb
        + ", warningThreshold="
        + warningThreshold
        + ", criticalThreshold="
        + criticalThreshold
        + ", hysteresis="
        + hysteresis
        + ", minFreeMemoryMb="
        + minFreeMemoryMb
        + ", allocationGrace="
        + allocationGrace
        + "}";
  }

  /**
   * Builds a {@link ResourceConfig}. Each setter rejects a bad value at once with an {@link
   * IllegalArgumentException} that names the setting and the value; {@link #build()} rejects
   * settings that contradict each other. Not thread-safe.
   */
  public static final class Builder {
    private int maxConcurrent = DEFAULT_MAX_CONCURRENT;
    private long memoryPerSlotMb = DEFAULT_MEMORY_PER_SLOT_MB;
    private long memoryBudgetMb = DEFAULT_MEMORY_BUDGET_MB;
    private double warningThreshold = DEFAULT_WARNING_THRESHOLD;
    private double criticalThreshold = DEFAULT_CRITICAL_THRESHOLD;
    private double hysteresis = DEFAULT_HYSTERESIS;
    private long minFreeMemoryMb = DEFAULT_MIN_FREE_MEMORY_MB;
    private java.time.Duration allocationGrace = DEFAULT_ALLOCATION_GRACE;

    private Builder() {}

    /**
     * The most slots held at once without memory pressure.
     *
     * @param slots from 1 to {@link #MAX_CONCURRENT_LIMIT}
     * @return this builder
     */
    public Builder maxConcurrent(int slots) {
      if (slots < 1 || slots > MAX_CONCURRENT_LIMIT) {
        throw new IllegalArgumentException(
            "maxConcurrent must be between 1 and " + MAX_CONCURRENT_LIMIT + ", got " + slots);
      }
      this.maxConcurrent = slots;
      return this;
    }

    /**
     * Memory reserved per slot by a work order that declares no memory; 0 reserves none.
     *
     * @param mb from 0 to {@link #MEMORY_LIMIT_MB}
     * @return this builder
     */
    public Builder memoryPerSlotMb(long mb) {
      this.memoryPerSlotMb = requireMemory(mb, "memoryPerSlotMb");
      return this;
    }

    /**
     * The most memory all leases together may reserve; 0 means no budget, so that only the memory
     * actually available limits admission.
     *
     * @param mb from 0 to {@link #MEMORY_LIMIT_MB}
     * @return this builder
     */
    public Builder memoryBudgetMb(long mb) {
      this.memoryBudgetMb = requireMemory(mb, "memoryBudgetMb");
      return this;
    }

    /**
     * The used fraction at which pressure becomes {@link PressureLevel#WARNING}.
     *
     * @param fraction in (0, 1]
     * @return this builder
     */
    public Builder warningThreshold(double fraction) {
      this.warningThreshold = requireThreshold(fraction, "warningThreshold");
      return this;
    }

    /**
     * The used fraction at which pressure becomes {@link PressureLevel#CRITICAL}.
     *
     * @param fraction in (0, 1]
     * @return this builder
     */
    public Builder criticalThreshold(double fraction) {
      this.criticalThreshold = requireThreshold(fraction, "criticalThreshold");
      return this;
    }

    /**
     * How far below a threshold the used fraction must fall before the level falls; 0 turns
     * hysteresis off.
     *
     * @param fraction in [0, 1), and below the warning threshold at {@link #build()}
     * @return this builder
     */
    public Builder hysteresis(double fraction) {
      if (!(fraction >= 0 && fraction < 1)) {
        throw new IllegalArgumentException(
            "hysteresis must be at least 0 and below 1, got " + fraction);
      }
      this.hysteresis = fraction;
      return this;
    }

    /**
     * Memory the node keeps free for itself (its own JVM, the sandbox runtime, the page cache it
     * needs): admission treats available memory as this much smaller.
     *
     * @param mb from 0 to {@link #MEMORY_LIMIT_MB}
     * @return this builder
     */
    public Builder minFreeMemoryMb(long mb) {
      this.minFreeMemoryMb = requireMemory(mb, "minFreeMemoryMb");
      return this;
    }

    /**
     * How long after admission a work order's memory counts as not yet allocated: it is subtracted
     * from the available memory of every reading in that time.
     *
     * @param grace zero or positive, at most an hour
     * @return this builder
     */
    public Builder allocationGrace(java.time.Duration grace) {
      if (grace == null
          || grace.isNegative()
          || grace.compareTo(java.time.Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException(
            "allocationGrace must be between 0 and 1 hour, got "
                + (grace == null ? null : Text.duration(grace)));
      }
      this.allocationGrace = grace;
      return this;
    }

    /**
     * Builds the configuration.
     *
     * @return the configuration
     * @throws IllegalArgumentException if the warning threshold is not below the critical one, the
     *     hysteresis is not below the warning threshold, or a memory budget is set below the memory
     *     of one slot (no work order that declares no memory could ever run)
     */
    public ResourceConfig build() {
      if (warningThreshold >= criticalThreshold) {
        throw new IllegalArgumentException(
            "warningThreshold must be below criticalThreshold, got warningThreshold "
                + warningThreshold
                + " and criticalThreshold "
                + criticalThreshold);
      }
      if (hysteresis >= warningThreshold) {
        throw new IllegalArgumentException(
            "hysteresis must be below warningThreshold, got hysteresis "
                + hysteresis
                + " and warningThreshold "
                + warningThreshold);
      }
      if (memoryBudgetMb > 0 && memoryPerSlotMb > memoryBudgetMb) {
        throw new IllegalArgumentException(
            "memoryPerSlotMb must not exceed memoryBudgetMb, got memoryPerSlotMb "
                + memoryPerSlotMb
                + " and memoryBudgetMb "
                + memoryBudgetMb);
      }
      return new ResourceConfig(this);
    }

    private static long requireMemory(long mb, String setting) {
      if (mb < 0 || mb > MEMORY_LIMIT_MB) {
        throw new IllegalArgumentException(
            setting + " must be between 0 and " + MEMORY_LIMIT_MB + " MiB, got " + mb);
      }
      return mb;
    }

    private static double requireThreshold(double fraction, String setting) {
      if (!(fraction > 0 && fraction <= 1)) {
        throw new IllegalArgumentException(
            setting + " must be above 0 and at most 1, got " + fraction);
      }
      return fraction;
    }
  }
}
