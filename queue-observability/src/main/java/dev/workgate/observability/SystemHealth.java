package dev.workgate.observability;

import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.observability.SystemHealth.HealthStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The health of a node at one moment: the worst of its components' statuses, and all their issues
 * in one list, most severe first. Immutable and thread-safe.
 *
 * <p>{@link #of} computes the status and the issue list from the components; the canonical
 * constructor rejects a status or an issue list that does not follow from them, so a value of this
 * type is always consistent.
 *
 * @param status the worst component status; {@link HealthStatus#HEALTHY} without components
 * @param checkedAt when the check began, by the node's clock
 * @param components the components checked, in the order they were checked; names are unique
 * @param issues every component's issues, critical ones first, in component order within a severity
 */
public record SystemHealth(
    HealthStatus status,
    Instant checkedAt,
    List<ComponentHealth> components,
    List<HealthIssue> issues) {

  /**
   * Validates the snapshot and copies its lists.
   *
   * @throws IllegalArgumentException if an argument or element is null, two components share a
   *     name, or the status or issues do not follow from the components
   */
  public SystemHealth {
    if (status == null || checkedAt == null || components == null || issues == null) {
      throw new IllegalArgumentException(
          "system health status, checkedAt, components and issues must not be null");
    }
    requireNoNull(components);
    components = List.copyOf(components);
    Set<String> names = new HashSet<>();
    for (ComponentHealth c : components) {
      if (!names.add(c.name())) {
        throw new IllegalArgumentException("component " + c.name() + " appears twice");
      }
    }
    HealthStatus expected = statusOf(components);
    if (status != expected) {
      throw new IllegalArgumentException(
          "system health has status " + status + " but its components make it " + expected);
    }
    for (HealthIssue issue : issues) {
      if (issue == null) {
        throw new IllegalArgumentException("system health issues must not hold null");
      }
    }
    issues = List.copyOf(issues);
    if (!issues.equals(issuesOf(components))) {
      throw new IllegalArgumentException(
          "system health issues must be the components' issues, most severe first");
    }
  }

  /**
   * A snapshot whose status and issues follow from the components.
   *
   * @param checkedAt when the check began
   * @param components the components checked
   * @return the snapshot
   * @throws IllegalArgumentException as the canonical constructor
   */
  public static SystemHealth of(Instant checkedAt, List<ComponentHealth> components) {
    if (components == null) {
      throw new IllegalArgumentException("system health components must not be null");
    }
    requireNoNull(components);
    return new SystemHealth(statusOf(components), checkedAt, components, issuesOf(components));
  }

  /**
   * A component by name.
   *
   * @param name the component's name
   * @return the component, empty if it was not checked
   */
  public Optional<ComponentHealth> component(String name) {
    for (ComponentHealth c : components) {
      if (c.name().equals(name)) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }

  private static void requireNoNull(List<ComponentHealth> components) {
    for (ComponentHealth c : components) {
      if (c == null) {
        throw new IllegalArgumentException("system health components must not hold null");
      }
    }
  }

  private static HealthStatus statusOf(List<ComponentHealth> components) {
    HealthStatus status = HealthStatus.HEALTHY;
    for (ComponentHealth c : components) {
      status = status.worst(c.status());
    }
    return status;
  }

  private static List<HealthIssue> issuesOf(List<ComponentHealth> components) {
    List<HealthIssue> all = new ArrayList<>();
    for (ComponentHealth c : components) {
      all.addAll(c.issues());
    }
    all.sort(ComponentHealth.MOST_SEVERE_FIRST);
    return List.copyOf(all);
  }

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

  /**
   * One thing wrong with a component: what, how bad, and what an operator should do about it.
   * Immutable and thread-safe.
   *
   * <p>Messages are specific and carry the figures that made the check fire, e.g. {@code "scheduler
   * loop stalled for 42 s (threshold 30 s)"}; recommendations say what to do next. Neither ever
   * holds a stack trace or a store's own error message (those can name database URLs and users);
   * see {@code docs/observability.md}.
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

  /**
   * The health of one part of a node (the scheduler loop, memory, executions, the store, …): its
   * status, a few facts for operators, and its issues. Immutable and thread-safe.
   *
   * <p>The status follows from the issues and nothing else: {@link HealthStatus#HEALTHY} without
   * issues, {@link HealthStatus#UNHEALTHY} with a {@link HealthIssue.Severity#CRITICAL} one, {@link
   * HealthStatus#DEGRADED} otherwise. {@link #of} computes it; the canonical constructor rejects a
   * status that does not match.
   *
   * <p>Details are small scalar facts in a stable order: text, booleans, whole numbers and
   * decimals. Times are ISO-8601 strings; durations are whole milliseconds under a key ending in
   * {@code Ms}.
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
     * @throws IllegalArgumentException if the name is blank, an argument or element is null, a
     *     detail key is blank or its value is not one of the allowed types, an issue names another
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
}
