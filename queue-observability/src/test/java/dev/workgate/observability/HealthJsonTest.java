package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.observability.SystemHealth.ComponentHealth;
import dev.workgate.observability.SystemHealth.HealthIssue;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JSON the HTTP endpoint serves. */
class HealthJsonTest {

  @Test
  void the_json_has_status_time_components_with_details_and_issues_and_all_issues() {
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("running", true);
    details.put("heartbeatAgeMs", 42_000L);
    details.put("activeWork", 2);
    details.put("usedFraction", 0.5);
    details.put("lastHeartbeat", "2025-01-01T00:00:00Z");
    HealthIssue stalled =
        HealthIssue.critical(
            "scheduler", "scheduler loop stalled for 42 s (threshold 30 s)", "take a thread dump");
    HealthIssue deep = HealthIssue.warning("queues", "queue 'a' holds 11 work orders", "add nodes");
    SystemHealth health =
        SystemHealth.of(
            Instant.parse("2025-01-01T00:00:42Z"),
            List.of(
                ComponentHealth.of("queues", Map.of("depth.a", 11L), List.of(deep)),
                ComponentHealth.of("scheduler", details, List.of(stalled))));

    ObjectNode json = HealthJson.toJson(health);

    assertThat(json.get("status").asText()).isEqualTo("UNHEALTHY");
    assertThat(json.get("checkedAt").asText()).isEqualTo("2025-01-01T00:00:42Z");
    JsonNode scheduler = json.get("components").get(1);
    assertThat(scheduler.get("name").asText()).isEqualTo("scheduler");
    assertThat(scheduler.get("status").asText()).isEqualTo("UNHEALTHY");
    assertThat(scheduler.get("details").get("running").isBoolean()).isTrue();
    assertThat(scheduler.get("details").get("heartbeatAgeMs").asLong()).isEqualTo(42_000L);
    assertThat(scheduler.get("details").get("activeWork").isInt()).isTrue();
    assertThat(scheduler.get("details").get("usedFraction").asDouble()).isEqualTo(0.5);
    assertThat(scheduler.get("details").get("lastHeartbeat").asText())
        .isEqualTo("2025-01-01T00:00:00Z");
    JsonNode issue = scheduler.get("issues").get(0);
    assertThat(issue.get("component").asText()).isEqualTo("scheduler");
    assertThat(issue.get("severity").asText()).isEqualTo("CRITICAL");
    assertThat(issue.get("message").asText())
        .isEqualTo("scheduler loop stalled for 42 s (threshold 30 s)");
    assertThat(issue.get("recommendation").asText()).isEqualTo("take a thread dump");
    assertThat(json.get("issues")).hasSize(2);
    assertThat(json.get("issues").get(0).get("severity").asText()).isEqualTo("CRITICAL");
    assertThat(json.get("issues").get(1).get("component").asText()).isEqualTo("queues");
    assertThat(json.get("components").get(0).get("details").get("depth.a").asLong()).isEqualTo(11);
  }

  @Test
  void the_json_holds_no_java_class_names() {
    SystemHealth health =
        SystemHealth.of(
            Instant.EPOCH, List.of(ComponentHealth.of("store", Map.of("pingMs", 3L), List.of())));

    String text = HealthJson.toJson(health).toString();

    assertThat(text).doesNotContain("dev.workgate").doesNotContain("java.").doesNotContain("@");
    assertThat(text)
        .isEqualTo(
            "{\"status\":\"HEALTHY\",\"checkedAt\":\"1970-01-01T00:00:00Z\",\"components\":"
                + "[{\"name\":\"store\",\"status\":\"HEALTHY\",\"details\":{\"pingMs\":3},"
                + "\"issues\":[]}],\"issues\":[]}");
  }
}
