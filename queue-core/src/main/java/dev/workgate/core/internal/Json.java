package dev.workgate.core.internal;

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
 *
 * <p>The readers accept strings and names of any length (Jackson's defaults stop at 20,000,000 and
 * 50,000 characters): the limits on what is written live in {@link Text}, far below, and a store's
 * reader must never refuse what a writer accepted, including rows written before those limits.
 * Payloads and results are also limited to {@link Text#MAX_VALUE_BYTES} as JSON.
 */
public final class Json {
  /** How deep a payload or result may nest: Jackson's default limit. */
  public static final int MAX_VALUE_DEPTH = 1000;

  /** Nesting an event document adds around a value (envelope, data, spec, payload), with room. */
  private static final int EVENT_DEPTH = 8;

  /** Serialises and parses payloads and results, up to {@link #MAX_VALUE_DEPTH}. */
  public static final ObjectMapper VALUES = mapper(MAX_VALUE_DEPTH);

  /** Writes and reads event documents. */
  public static final ObjectMapper EVENTS = mapper(MAX_VALUE_DEPTH + EVENT_DEPTH);

  private Json() {}

  private static ObjectMapper mapper(int maxDepth) {
    JsonFactory factory =
        JsonFactory.builder()
            .streamReadConstraints(
                StreamReadConstraints.defaults()
                    .rebuild()
                    .maxNestingDepth(maxDepth)
                    .maxStringLength(Integer.MAX_VALUE)
                    .maxNameLength(Integer.MAX_VALUE)
                    .build())
            .streamWriteConstraints(
                StreamWriteConstraints.defaults().rebuild().maxNestingDepth(maxDepth).build())
            .build();
    // Trailing content after the document is malformed input, not something to ignore.
    return JsonMapper.builder(factory)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .build();
  }

  /**
   * What {@link #canonicalTree} does with an unpaired surrogate in a string or a key: the JDBC
   * drivers would store it as {@code ?} while the in-memory store keeps it.
   */
  public enum Surrogates {
    /** Refuse the value: a caller's payload is data, and data is not changed on the way. */
    REFUSE,
    /** Replace it by U+FFFD: a handler's result, as for free text from a handler. */
    REPLACE
  }

  /**
   * A private, canonical JSON tree of a value: serialised and parsed again, so that the tree is
   * exactly what a store will read back (same node types, numbers as Jackson parses them) and the
   * caller's object can change afterwards without touching it.
   *
   * @param value any value Jackson can serialise, or a {@link JsonNode}; not null
   * @param what the name of the value in messages, e.g. {@code "payload"}
   * @param surrogates what to do with unpaired surrogates
   * @return the canonical tree; a missing node becomes a JSON null
   * @throws IllegalArgumentException naming {@code what} and the value's type if Jackson cannot
   *     serialise the value, it nests deeper than {@link #MAX_VALUE_DEPTH}, it is larger than
   *     {@link Text#MAX_VALUE_BYTES} as JSON, it holds an unpaired surrogate under {@link
   *     Surrogates#REFUSE}, or it holds a number that a double cannot represent (it would read back
   *     as infinity, which JSON cannot hold)
   */
  public static JsonNode canonicalTree(Object value, String what, Surrogates surrogates) {
    if (value instanceof JsonNode n && n.isMissingNode()) {
      return NullNode.getInstance();
    }
    String json;
    JsonNode tree;
    try {
      json = VALUES.writeValueAsString(value);
    } catch (JsonProcessingException | RuntimeException e) {
      throw unserialisable(value, what, e);
    }
    if (Text.limitsApply()) {
      json = checked(json, what, value, surrogates);
    }
    try {
      tree = VALUES.readTree(json);
    } catch (JsonProcessingException | RuntimeException e) {
      throw unserialisable(value, what, e);
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

  private static IllegalArgumentException unserialisable(Object value, String what, Exception e) {
    return new IllegalArgumentException(
        what
            + " of type "
            + value.getClass().getName()
            + " cannot be serialised as JSON: "
            + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e),
        e);
  }

  /**
   * The JSON text with the surrogate rule applied, after checking its size. Jackson writes every
   * char of a string as it is (it escapes only quotes, backslashes and control characters), so an
   * unpaired surrogate in a string or key is an unpaired surrogate in the text.
   */
  private static String checked(String json, String what, Object value, Surrogates surrogates) {
    int bad = Text.firstUnpairedSurrogate(json);
    if (bad >= 0) {
      if (surrogates == Surrogates.REFUSE) {
        throw new IllegalArgumentException(
            what
                + " of type "
                + value.getClass().getName()
                + " holds an unpaired surrogate U+"
                + String.format("%04X", (int) json.charAt(bad))
                + " in a string or key, at character "
                + bad
                + " of its JSON; stores keep only well-formed UTF-16");
      }
      json = Text.storable(json);
    }
    long bytes = utf8Length(json);
    if (bytes > Text.MAX_VALUE_BYTES) {
      throw new IllegalArgumentException(
          what
              + " of type "
              + value.getClass().getName()
              + " must be at most "
              + Text.MAX_VALUE_BYTES
              + " bytes as JSON, got "
              + bytes);
    }
    return json;
  }

  /**
   * The size of a tree as compact JSON, in bytes of UTF-8.
   *
   * @param tree a tree made by {@link #canonicalTree}
   * @return its size
   * @throws IllegalArgumentException if it cannot be written
   */
  public static long byteLength(JsonNode tree) {
    try {
      return utf8Length(VALUES.writeValueAsString(tree));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot write JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** The length in bytes of well-formed UTF-16 text encoded as UTF-8. */
  private static long utf8Length(String s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
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
