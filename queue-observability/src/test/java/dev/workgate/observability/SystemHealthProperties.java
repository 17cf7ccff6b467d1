package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.observability.SystemHealth.ComponentHealth;
import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.observability.SystemHealth.HealthStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * For any set of components with any issues, a node is as healthy as its worst issue makes it and
 * lists every issue once, most severe first.
 */
class SystemHealthProperties {

  @Property(tries = 500)
  void the_status_is_the_worst_severity_and_issues_come_most_severe_first(
      @ForAll("severitiesPerComponent") List<List<HealthIssue.Severity>> severities) {
    List<ComponentHealth> components = new ArrayList<>();
    List<HealthIssue> all = new ArrayList<>();
    for (int c = 0; c < severities.size(); c++) {
      String name = "component-" + c;
      List<HealthIssue> issues = new ArrayList<>();
      for (int i = 0; i < severities.get(c).size(); i++) {
        issues.add(
            new HealthIssue(name, severities.get(c).get(i), "issue " + i + " of " + name, "act"));
      }
      all.addAll(issues);
      components.add(ComponentHealth.of(name, Map.of(), issues));
    }

    SystemHealth health = SystemHealth.of(Instant.EPOCH, components);

    assertThat(health.status()).isEqualTo(expectedStatus(all));
    for (ComponentHealth c : health.components()) {
      List<HealthIssue> own = new ArrayList<>();
      for (HealthIssue issue : all) {
        if (issue.component().equals(c.name())) {
          own.add(issue);
        }
      }
      assertThat(c.status()).isEqualTo(expectedStatus(own));
    }
    assertThat(health.issues()).containsExactlyInAnyOrderElementsOf(all);
    for (int i = 1; i < health.issues().size(); i++) {
      assertThat(rank(health.issues().get(i - 1)))
          .isGreaterThanOrEqualTo(rank(health.issues().get(i)));
    }
  }

  /** The mapping spelled out, independent of the enums' order: critical → unhealthy, etc. */
  private static HealthStatus expectedStatus(List<HealthIssue> issues) {
    boolean critical = false;
    boolean warning = false;
    for (HealthIssue issue : issues) {
      critical |= issue.severity() == HealthIssue.Severity.CRITICAL;
      warning |= issue.severity() == HealthIssue.Severity.WARNING;
    }
    if (critical) {
      return HealthStatus.UNHEALTHY;
    }
    return warning ? HealthStatus.DEGRADED : HealthStatus.HEALTHY;
  }

  private static int rank(HealthIssue issue) {
    return issue.severity() == HealthIssue.Severity.CRITICAL ? 2 : 1;
  }

  @Provide
  Arbitrary<List<List<HealthIssue.Severity>>> severitiesPerComponent() {
    return Arbitraries.of(HealthIssue.Severity.class).list().ofMaxSize(6).list().ofMaxSize(8);
  }
}
