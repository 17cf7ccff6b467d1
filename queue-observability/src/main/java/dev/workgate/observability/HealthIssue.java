package dev.workgate.observability;

/**
 * One thing wrong with a component: what, how bad, and what an operator should do about it.
 * Immutable and thread-safe.
 *
 * <p>Messages are specific and carry the figures that made the check fire, e.g. {@code "scheduler
 * loop stalled for 42 s (threshold 30 s)"}; recommendations say what to do next. Neither ever holds
 * a stack trace or a store's own error message (those can name database URLs and users); see {@code
 * docs/observability.md}.
 *
 * @param component the component it belongs to, e.g. {@code "scheduler"}
 * @param severity how bad it is
 * @param message what is wrong, for a person
 * @param recommendation what to do about it, for a person
 */
public record HealthIssue(
    String component, Severity severity, String message, String recommendation) {

  /** How bad an issue is, and what it makes of its component. */
  public enum Severity {
    /** Needs attention; makes its component {@link HealthStatus#DEGRADED}. */
    WARNING,
    /** The component does not do its job; makes it {@link HealthStatus#UNHEALTHY}. */
    CRITICAL;

    /**
     * The status a component with an issue of this severity (and none worse) has.
     *
     * @return {@link HealthStatus#DEGRADED} for a warning, {@link HealthStatus#UNHEALTHY} for a
     *     critical issue
     */
    public HealthStatus status() {
      return this == CRITICAL ? HealthStatus.UNHEALTHY : HealthStatus.DEGRADED;
    }
  }

  /**
   * Validates the issue.
   *
   * @throws IllegalArgumentException if a text is null or blank, or the severity is null
   */
  public HealthIssue {
    requireText(component, "component");
    if (severity == null) {
      throw new IllegalArgumentException("health issue severity must not be null");
    }
    requireText(message, "message");
    requireText(recommendation, "recommendation");
  }

  private static void requireText(String value, String field) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(
          "health issue "
              + field
              + " must not be blank, got: "
              + (value == null ? "null" : "'" + value + "'"));
    }
  }

  /**
   * A warning.
   *
   * @param component the component
   * @param message what is wrong
   * @param recommendation what to do
   * @return the issue
   */
  public static HealthIssue warning(String component, String message, String recommendation) {
    return new HealthIssue(component, Severity.WARNING, message, recommendation);
  }

  /**
   * A critical issue.
   *
   * @param component the component
   * @param message what is wrong
   * @param recommendation what to do
   * @return the issue
   */
  public static HealthIssue critical(String component, String message, String recommendation) {
    return new HealthIssue(component, Severity.CRITICAL, message, recommendation);
  }

  @Override
  public String toString() {
    return severity + " " + component + ": " + message + " (" + recommendation + ")";
  }
}
