package dev.workgate.observability;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The health of one part of a node (the scheduler loop, memory, executions, the store, …): its
 * status, a few facts for operators, and its issues. Immutable and thread-safe.
 *
 * <p>The status follows from the issues and nothing else: {@link HealthStatus#HEALTHY} without
 * issues, {@link HealthStatus#UNHEALTHY} with a {@link HealthIssue.Severity#CRITICAL} one, {@link
 * HealthStatus#DEGRADED} otherwise. {@link #of} computes it; the canonical constructor rejects a
 * status that does not match.
 *
 * <p>Details are small scalar facts in a stable order: text, booleans, whole numbers and decimals.
 * Times are ISO-8601 strings; durations are whole milliseconds under a key ending in {@code Ms}.
 *
 * @param name the component, e.g. {@code "scheduler"}
 * @param status its status
 * @param details facts for operators, in insertion order; values are {@link String}, {@link
 *     Boolean}, {@link Integer}, {@link Long} or {@link Double}
 * @param issues what is wrong, most severe first when made by {@link #of}
 */
public record ComponentHealth(
    String name, HealthStatus status, Map<String, Object> details, List<HealthIssue> issues) {

  /** Most severe first; the order among equals is kept. */
  static final Comparator<HealthIssue> MOST_SEVERE_FIRST =
      Comparator.comparing(HealthIssue::severity).reversed();

  /**
   * Validates the component and copies its collections.
   *
   * @throws IllegalArgumentException if the name is blank, an argument or element is null, a detail
   *     key is blank or its value is not one of the allowed types, an issue names another
   *     component, or the status does not follow from the issues
   */
  public ComponentHealth {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException(
          "component name must not be blank, got: " + (name == null ? "null" : "'" + name + "'"));
    }
    if (status == null || details == null || issues == null) {
      throw new IllegalArgumentException(
          "component " + name + ": status, details and issues must not be null");
    }
    Map<String, Object> copy = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : details.entrySet()) {
      if (e.getKey() == null || e.getKey().isBlank()) {
        throw new IllegalArgumentException("component " + name + ": a detail key is blank");
      }
      if (!isScalar(e.getValue())) {
        throw new IllegalArgumentException(
            "component "
                + name
                + ": detail '"
                + e.getKey()
                + "' must be a String, Boolean, Integer, Long or Double, got "
                + (e.getValue() == null ? "null" : e.getValue().getClass().getName()));
      }
      copy.put(e.getKey(), e.getValue());
    }
    details = Collections.unmodifiableMap(copy);
    for (HealthIssue issue : issues) {
      if (issue == null) {
        throw new IllegalArgumentException("component " + name + ": an issue is null");
      }
      if (!issue.component().equals(name)) {
        throw new IllegalArgumentException(
            "component " + name + " cannot hold an issue of component " + issue.component());
      }
    }
    issues = List.copyOf(issues);
    HealthStatus expected = statusOf(issues);
    if (status != expected) {
      throw new IllegalArgumentException(
          "component " + name + " has status " + status + " but its issues make it " + expected);
    }
  }

  /**
   * A component whose status follows from its issues, which are put most severe first.
   *
   * @param name the component
   * @param details facts for operators (see the class description for the allowed values)
   * @param issues what is wrong; empty for a healthy component
   * @return the component
   * @throws IllegalArgumentException as the canonical constructor
   */
  public static ComponentHealth of(
      String name, Map<String, Object> details, List<HealthIssue> issues) {
    if (issues == null) {
      throw new IllegalArgumentException("component " + name + ": issues must not be null");
    }
    List<HealthIssue> sorted = new ArrayList<>(issues);
    if (sorted.contains(null)) {
      throw new IllegalArgumentException("component " + name + ": an issue is null");
    }
    sorted.sort(MOST_SEVERE_FIRST);
    return new ComponentHealth(name, statusOf(sorted), details, sorted);
  }

  /** The status a set of issues makes: the worst of their severities, or healthy without any. */
  static HealthStatus statusOf(List<HealthIssue> issues) {
    HealthStatus status = HealthStatus.HEALTHY;
    for (HealthIssue issue : issues) {
      status = status.worst(issue.severity().status());
    }
    return status;
  }

  private static boolean isScalar(Object value) {
    return value instanceof String
        || value instanceof Boolean
        || value instanceof Integer
        || value instanceof Long
        || value instanceof Double;
  }
}
