package dev.workgate.observability;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
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
}
