package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.observability.SystemHealth.ComponentHealth;
import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.observability.SystemHealth.HealthStatus;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The health records keep themselves consistent. */
class HealthModelTest {
  static final HealthIssue WARN = HealthIssue.warning("store", "slow", "look");
  static final HealthIssue CRIT = HealthIssue.critical("store", "down", "fix");

  @Test
  void a_component_keeps_its_details_in_order_and_puts_critical_issues_first() {
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("z", 1);
    details.put("a", "x");
    details.put("m", true);

    ComponentHealth c = ComponentHealth.of("store", details, List.of(WARN, CRIT));

    assertThat(c.details().keySet()).containsExactly("z", "a", "m");
    assertThat(c.issues()).containsExactly(CRIT, WARN);
    assertThat(c.status()).isEqualTo(HealthStatus.UNHEALTHY);
    assertThatThrownBy(() -> c.details().put("b", 2))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void a_component_rejects_a_status_its_issues_do_not_make() {
    assertThatThrownBy(
            () -> new ComponentHealth("store", HealthStatus.HEALTHY, Map.of(), List.of(WARN)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("component store has status HEALTHY but its issues make it DEGRADED");
  }

  @Test
  void a_component_rejects_details_that_are_not_small_scalars() {
    assertThatThrownBy(() -> ComponentHealth.of("store", Map.of("at", Instant.EPOCH), List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("detail 'at' must be a String, Boolean, Integer, Long or Double")
        .hasMessageContaining("java.time.Instant");
  }

  @Test
  void a_component_rejects_an_issue_of_another_component() {
    assertThatThrownBy(
            () ->
                ComponentHealth.of(
                    "scheduler", Map.of(), List.of(HealthIssue.warning("store", "m", "r"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("component scheduler cannot hold an issue of component store");
  }

  @Test
  void an_issue_needs_every_text() {
    assertThatThrownBy(() -> HealthIssue.warning("store", " ", "r"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("health issue message must not be blank, got: ' '");
    assertThatThrownBy(() -> new HealthIssue("store", null, "m", "r"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("health issue severity must not be null");
  }

  @Test
  void system_health_rejects_a_status_or_issues_that_do_not_follow_from_its_components() {
    ComponentHealth store = ComponentHealth.of("store", Map.of(), List.of(CRIT));

    assertThatThrownBy(
            () ->
                new SystemHealth(
                    HealthStatus.DEGRADED, Instant.EPOCH, List.of(store), List.of(CRIT)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("system health has status DEGRADED but its components make it UNHEALTHY");
    assertThatThrownBy(
            () ->
                new SystemHealth(HealthStatus.UNHEALTHY, Instant.EPOCH, List.of(store), List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be the components' issues");
    assertThatThrownBy(() -> SystemHealth.of(Instant.EPOCH, List.of(store, store)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("component store appears twice");
  }

  @Test
  void no_components_is_healthy_and_a_component_is_found_by_name() {
    assertThat(SystemHealth.of(Instant.EPOCH, List.of()).status()).isEqualTo(HealthStatus.HEALTHY);

    ComponentHealth store = ComponentHealth.of("store", Map.of(), List.of(WARN));
    SystemHealth health = SystemHealth.of(Instant.EPOCH, List.of(store));

    assertThat(health.component("store")).contains(store);
    assertThat(health.component("queues")).isEmpty();
    assertThat(health.status()).isEqualTo(HealthStatus.DEGRADED);
  }
}
