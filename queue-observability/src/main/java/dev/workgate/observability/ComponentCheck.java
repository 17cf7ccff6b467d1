package dev.workgate.observability;

import dev.workgate.observability.SystemHealth.ComponentHealth;
import java.time.Duration;

/**
 * One component of a health report, judged on its own: {@link WorkgateHealth} builds one check per
 * component and runs each in isolation, so that a check that throws reports only its own component
 * as failed. Implementations are thread-safe: concurrent rounds may run the same check.
 */
interface ComponentCheck {
  /**
   * The component's name, as in the report.
   *
   * @return one of the component names of {@link WorkgateHealth}
   */
  String component();

  /**
   * Judges the component.
   *
   * @param round the round's time, purpose and store reads
   * @return the component's health
   */
  ComponentHealth check(HealthRound round);

  /** A duration that a clock going back made negative, as zero. */
  static Duration nonNegative(Duration d) {
    return d.isNegative() ? Duration.ZERO : d;
  }
}
