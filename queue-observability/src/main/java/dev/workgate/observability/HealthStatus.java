package dev.workgate.observability;

/**
 * How healthy a component, or a whole node, is. The constants are declared from best to worst, so
 * their {@link #compareTo order} ranks them; a node is as healthy as its worst component.
 *
 * <p>An HTTP endpoint serves {@link #UNHEALTHY} as 503 and the others as 200: a {@link #DEGRADED}
 * node still does its job and needs a person's attention, not a restart or less traffic.
 */
public enum HealthStatus {
  /** Nothing to report. */
  HEALTHY,
  /** Works, but something needs attention: at least one {@link HealthIssue.Severity#WARNING}. */
  DEGRADED,
  /** Does not do its job: at least one {@link HealthIssue.Severity#CRITICAL}. */
  UNHEALTHY;

  /**
   * The worse of this status and another.
   *
   * @param other another status
   * @return the one declared later
   * @throws NullPointerException if {@code other} is null
   */
  public HealthStatus worst(HealthStatus other) {
    return other.compareTo(this) > 0 ? other : this;
  }
}
