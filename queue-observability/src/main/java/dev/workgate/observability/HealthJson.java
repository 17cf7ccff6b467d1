package dev.workgate.observability;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.observability.SystemHealth.ComponentHealth;
import dev.workgate.observability.SystemHealth.HealthIssue;
import java.util.Map;

/**
 * Writes a {@link SystemHealth} as the JSON the HTTP endpoint serves:
 *
 * <pre>{@code
 * {"status": "UNHEALTHY", "checkedAt": "2025-01-01T00:00:42Z",
 *  "components": [{"name": "scheduler", "status": "UNHEALTHY",
 *                  "details": {"running": true, "heartbeatAgeMs": 42000, ...},
 *                  "issues": [{"component": "scheduler", "severity": "CRITICAL",
 *                              "message": "...", "recommendation": "..."}]}, ...],
 *  "issues": [ ...every component's issues, most severe first... ]}
 * }</pre>
 *
 * Written field by field, so the output holds only the model's values: no Java class names, no
 * stack traces. Times are ISO-8601 strings. Stateless and thread-safe.
 */
final class HealthJson {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private HealthJson() {}

  static ObjectNode toJson(SystemHealth health) {
    ObjectNode root = NODES.objectNode();
    root.put("status", health.status().name());
    root.put("checkedAt", health.checkedAt().toString());
    ArrayNode components = root.putArray("components");
    for (ComponentHealth c : health.components()) {
      ObjectNode node = components.addObject();
      node.put("name", c.name());
      node.put("status", c.status().name());
      ObjectNode details = node.putObject("details");
      for (Map.Entry<String, Object> e : c.details().entrySet()) {
        putScalar(details, e.getKey(), e.getValue());
      }
      issues(node.putArray("issues"), c);
    }
    ArrayNode issues = root.putArray("issues");
    for (HealthIssue issue : health.issues()) {
      issue(issues.addObject(), issue);
    }
    return root;
  }

  private static void issues(ArrayNode array, ComponentHealth c) {
    for (HealthIssue issue : c.issues()) {
      issue(array.addObject(), issue);
    }
  }

  private static void issue(ObjectNode node, HealthIssue issue) {
    node.put("component", issue.component());
    node.put("severity", issue.severity().name());
    node.put("message", issue.message());
    node.put("recommendation", issue.recommendation());
  }

  /** The value types {@link ComponentHealth} admits; anything else is written as text. */
  private static void putScalar(ObjectNode node, String key, Object value) {
    if (value instanceof Boolean b) {
      node.put(key, b);
    } else if (value instanceof Integer i) {
      node.put(key, i);
    } else if (value instanceof Long l) {
      node.put(key, l);
    } else if (value instanceof Double d) {
      node.put(key, d);
    } else {
      node.put(key, String.valueOf(value));
    }
  }
}
