package dev.workgate.core;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;

/**
 * The Jackson mappers of the core module, and normalisation of the JSON values that events carry
 * (payloads and results).
 *
 * <p>Two mappers, because an event document nests a value inside its own structure (envelope, data,
 * spec): values may nest {@link #MAX_VALUE_DEPTH} deep, and the event mapper has room for that
 * depth plus the envelope, so that every value a spec or event accepts can also be stored and read
 * back.
 */
final class Json {
  /** How deep a payload or result may nest: Jackson's default limit. */
  static final int MAX_VALUE_DEPTH = 1000;

  /** Nesting an event document adds around a value (envelope, data, spec, payload), with room. */
  private static final int EVENT_DEPTH = 8;

  /** Serialises and parses payloads and results, up to {@link #MAX_VALUE_DEPTH}. */
  static final ObjectMapper VALUES = mapper(MAX_VALUE_DEPTH);

  /** Writes and reads event documents. */
  static final ObjectMapper EVENTS = mapper(MAX_VALUE_DEPTH + EVENT_DEPTH);

  private Json() {}

  private static ObjectMapper mapper(int maxDepth) {
    JsonFactory factory =
        JsonFactory.builder()
            .streamReadConstraints(
                StreamReadConstraints.defaults().rebuild().maxNestingDepth(maxDepth).build())
            .streamWriteConstraints(
                StreamWriteConstraints.defaults().rebuild().maxNestingDepth(maxDepth).build())
            .build();
    // Trailing content after the document is malformed input, not something to ignore.
    return JsonMapper.builder(factory)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .build();
  }

  /**
   * A private, canonical JSON tree of a value: serialised and parsed again, so that the tree is
   * exactly what a store will read back (same node types, numbers as Jackson parses them) and the
   * caller's object can change afterwards without touching it.
   *
   * @param value any value Jackson can serialise, or a {@link JsonNode}; not null
   * @param what the name of the value in messages, e.g. {@code "payload"}
   * @return the canonical tree; a missing node becomes a JSON null
   * @throws IllegalArgumentException naming {@code what} and the value's type if Jackson cannot
   *     serialise the value, it nests deeper than {@link #MAX_VALUE_DEPTH}, or it holds a number
   *     that a double cannot represent (it would read back as infinity, which JSON cannot hold)
   */
  static JsonNode canonicalTree(Object value, String what) {
    if (value instanceof JsonNode n && n.isMissingNode()) {
      return NullNode.getInstance();
    }
    JsonNode tree;
    try {
      tree = VALUES.readTree(VALUES.writeValueAsString(value));
    } catch (JsonProcessingException | RuntimeException e) {
      throw new IllegalArgumentException(
          what
              + " of type "
              + value.getClass().getName()
              + " cannot be serialised as JSON: "
              + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e),
          e);
    }
    String infinite = firstInfiniteNumber(tree);
    if (infinite != null) {
      throw new IllegalArgumentException(
          what
              + " of type "
              + value.getClass().getName()
              + " has a number at "
              + infinite
              + " that is too large for a double; it would read back as infinity");
    }
    return tree;
  }

  /** The JSON pointer of the first number that parsed to an infinite double, or null. */
  private static String firstInfiniteNumber(JsonNode root) {
    Deque<Map.Entry<String, JsonNode>> todo = new ArrayDeque<>();
    todo.push(Map.entry("", root));
    while (!todo.isEmpty()) {
      Map.Entry<String, JsonNode> next = todo.pop();
      JsonNode node = next.getValue();
      if (node.isFloatingPointNumber() && !Double.isFinite(node.doubleValue())) {
        return next.getKey().isEmpty() ? "/" : next.getKey();
      }
      if (node.isArray()) {
        for (int i = 0; i < node.size(); i++) {
          todo.push(Map.entry(next.getKey() + "/" + i, node.get(i)));
        }
      } else if (node.isObject()) {
        for (Map.Entry<String, JsonNode> field : node.properties()) {
          todo.push(Map.entry(next.getKey() + "/" + escape(field.getKey()), field.getValue()));
        }
      }
    }
    return null;
  }

  private static String escape(String key) {
    return key.replace("~", "~0").replace("/", "~1");
  }
}
