package dev.workgate.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.internal.Json;
import dev.workgate.spi.EventCodec;
import dev.workgate.spi.EventCodecException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;

/**
 * Hostile input for the decoder: arbitrary text and bytes, and valid events with one thing broken
 * (a field deleted, renamed, retyped, duplicated, made huge or nested very deep; the document cut
 * short; an unknown type or version). Whatever comes in, the decoder either returns an event that
 * survives another round trip, or throws an {@link EventCodecException} whose message names the
 * event and what was wrong. Nothing else may escape: no NullPointerException, ClassCastException,
 * StackOverflowError or Jackson internals.
 */
class EventCodecFuzzProperties {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** Stands for raw JSON text spliced into a written document; a UUID no generator produces. */
  private static final String RAW = "@@raw-2f0c1d9e-7b7a-4c55-9a3e-5d1f0b6a8c44@@";

  /** Stands for a duplicate of an existing key in a written document. */
  private static final String DUP = "@@dup-9c1e8f20-52b4-4d0e-8f5a-1e6b7c3d2a90@@";

  private static final List<String> TYPE_NAMES = allTypeNames();

  // ---- properties ------------------------------------------------------------------------------

  @Property(tries = 400)
  void arbitrary_text_as_event_data_is_decoded_or_rejected_cleanly(
      @ForAll("typeNames") String type,
      @ForAll("versions") int version,
      @ForAll("text") String data) {
    checkDecode(type, version, data, List.of());
    checkFromJson(
        "{\"type\":" + quote(type) + ",\"schemaVersion\":" + version + ",\"data\":" + data + "}");
  }

  @Property(tries = 200)
  void arbitrary_text_as_an_event_document_is_read_or_rejected_cleanly(
      @ForAll("text") String json) {
    checkFromJson(json);
  }

  @Property(tries = 1000)
  void a_valid_event_with_one_thing_broken_is_decoded_or_rejected_naming_it(
      @ForAll("events") WorkOrderEvent event, @ForAll("breakages") Breakage breakage) {
    Broken broken = apply(event, breakage);
    Statistics.collect(broken.kind());
    checkDecode(broken.type(), broken.version(), broken.data(), broken.names());
    checkFromJson(
        "{\"type\":"
            + quote(broken.type())
            + ",\"schemaVersion\":"
            + broken.version()
            + ",\"data\":"
            + broken.data()
            + "}");
  }

  @Property(tries = 40)
  void documents_nested_far_beyond_the_limit_are_rejected_without_overflowing_the_stack(
      @ForAll("events") WorkOrderEvent event,
      @ForAll("depths") int depth,
      @ForAll boolean objects,
      @ForAll("fieldChoice") int fieldChoice) {
    ObjectNode data = dataOf(event);
    List<List<Object>> paths = paths(data);
    List<Object> path = paths.get(Math.floorMod(fieldChoice, paths.size()));
    String text =
        path.isEmpty()
            ? nested(depth, objects)
            : splice(replace(data, path, TextNode.valueOf(RAW)), nested(depth, objects));
    checkDecode(
        event.type().typeName(), 1, text, with(namesOf(path), "malformed JSON", "depth", "nest"));
    checkFromJson(
        "{\"type\":\"" + event.type().typeName() + "\",\"schemaVersion\":1,\"data\":" + text + "}");
    checkFromJson(nested(depth, objects));
  }

  // ---- checks ----------------------------------------------------------------------------------

  /**
   * Decodes and checks the outcome: an event that round-trips, or a codec exception naming the type
   * and, when {@code names} is not empty, one of them.
   */
  static void checkDecode(String type, int version, String data, List<String> names) {
    WorkOrderEvent event;
    try {
      event = EventCodec.decode(type, version, data);
    } catch (EventCodecException e) {
      Statistics.label("outcome").collect("rejected");
      assertThat(e.getMessage()).as("message").isNotBlank();
      if (type != null) {
        assertThat(e.getMessage()).as("names the event type").contains(type);
      }
      if (!names.isEmpty() && !mentionsAny(e.getMessage(), names)) {
        fail("the message '%s' names none of %s", shorten(e.getMessage()), names);
      }
      return;
    } catch (Throwable t) {
      throw new AssertionError(
          "decode(" + shorten(type) + ", " + version + ", " + shorten(data) + ") threw " + t, t);
    }
    Statistics.label("outcome").collect("decoded");
    assertRoundTrips(event);
  }

  static void checkFromJson(String json) {
    WorkOrderEvent event;
    try {
      event = EventCodec.fromJson(json);
    } catch (EventCodecException e) {
      assertThat(e.getMessage()).as("message").isNotBlank();
      return;
    } catch (Throwable t) {
      throw new AssertionError("fromJson(" + shorten(json) + ") threw " + t, t);
    }
    assertRoundTrips(event);
  }

  static void assertRoundTrips(WorkOrderEvent event) {
    EventCodec.EncodedEvent encoded = EventCodec.encode(event);
    assertThat(EventCodec.decode(encoded)).isEqualTo(event);
    assertThat(EventCodec.encode(EventCodec.decode(encoded))).isEqualTo(encoded);
    assertThat(EventCodec.fromJson(EventCodec.toJson(event))).isEqualTo(event);
  }

  /** Whether the message names one of the words, in any case or as a singular. */
  private static boolean mentionsAny(String message, List<String> names) {
    String m = message.toLowerCase(Locale.ROOT);
    for (String name : names) {
      String n = name.toLowerCase(Locale.ROOT).strip();
      if (n.isEmpty()) {
        continue;
      }
      if (m.contains(n)
          || (n.endsWith("s") && n.length() > 2 && m.contains(n.substring(0, n.length() - 1)))) {
        return true;
      }
    }
    return false;
  }

  // ---- generators ------------------------------------------------------------------------------

  /** A valid event, broken in one way, with the words a rejection must name one of. */
  record Broken(String kind, String type, int version, String data, List<String> names) {
    @Override
    public String toString() {
      return kind + ": " + shorten(type) + " v" + version + " " + shorten(data);
    }
  }

  @Provide
  Arbitrary<WorkOrderEvent> events() {
    return EventArbitraries.events();
  }

  @Provide
  Arbitrary<Integer> depths() {
    return Arbitraries.oneOf(
        Arbitraries.integers().between(995, 1015), Arbitraries.of(10_000, 100_000));
  }

  @Provide
  Arbitrary<Integer> fieldChoice() {
    return Arbitraries.integers().between(0, 1000);
  }

  @Provide
  Arbitrary<String> typeNames() {
    return Arbitraries.frequencyOf(
        Tuple.of(6, Arbitraries.of(TYPE_NAMES)),
        Tuple.of(1, Arbitraries.of(TYPE_NAMES).map(t -> t.toLowerCase(Locale.ROOT))),
        Tuple.of(1, Arbitraries.strings().ofMaxLength(20)),
        Tuple.of(1, Arbitraries.just(null)));
  }

  @Provide
  Arbitrary<Integer> versions() {
    return Arbitraries.frequencyOf(
        Tuple.of(8, Arbitraries.just(1)),
        Tuple.of(1, Arbitraries.of(0, 2, -1, Integer.MAX_VALUE, Integer.MIN_VALUE)),
        Tuple.of(1, Arbitraries.integers()));
  }

  /** Text of every kind: unicode, bytes read as UTF-8 or Latin-1, and JSON-like token soup. */
  @Provide
  Arbitrary<String> text() {
    Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(200);
    Arbitrary<String> soup =
        Arbitraries.oneOf(
                Arbitraries.of(
                    "{",
                    "}",
                    "[",
                    "]",
                    ":",
                    ",",
                    "\"",
                    "\\",
                    "\\u",
                    "null",
                    "true",
                    "false",
                    "-",
                    "0",
                    "1e400",
                    "NaN",
                    "Infinity",
                    " ",
                    "\"owner\"",
                    "\"spec\"",
                    "\"type\"",
                    "\"payload\"",
                    "\"result\"",
                    "\"x\"",
                    "1.5",
                    "9223372036854775808"),
                Arbitraries.strings().ofLength(1))
            .list()
            .ofMaxSize(60)
            .map(l -> String.join("", l));
    return Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(200),
        bytes.map(b -> new String(b, StandardCharsets.UTF_8)),
        bytes.map(b -> new String(b, StandardCharsets.ISO_8859_1)),
        soup,
        soup.map(s -> "{" + s + "}"));
  }

  /** The ways of breaking an encoded event. */
  enum Kind {
    RETYPED,
    RAW_LITERAL,
    DELETED,
    RENAMED,
    DUPLICATE_KEY,
    TRUNCATED,
    GARBAGE,
    WRONG_VERSION,
    OTHER_TYPE
  }

  /**
   * One breakage, drawn independently of the event it is applied to (so that jqwik generates and
   * shrinks plain values): the kind, and the choices each kind needs.
   */
  record Breakage(
      Kind kind, int pick, int pick2, JsonNode value, String raw, String name, char garbage) {}

  @Provide
  Arbitrary<Breakage> breakages() {
    return Combinators.combine(
            Arbitraries.of(Kind.class),
            Arbitraries.integers().between(0, 10_000),
            Arbitraries.integers().between(0, 10_000),
            hostileValues(),
            rawLiterals(),
            newNames(),
            Arbitraries.chars().with('{', '}', '[', ']', '"', ',', ':', '\\', '\u0000', 'x'))
        .as(Breakage::new);
  }

  private static final List<Integer> WRONG_VERSIONS =
      List.of(0, 2, -1, Integer.MAX_VALUE, Integer.MIN_VALUE);

  /** Applies a breakage to an event's encoded form. */
  static Broken apply(WorkOrderEvent event, Breakage b) {
    String type = event.type().typeName();
    ObjectNode data = dataOf(event);
    String text = write(data);
    List<List<Object>> all = paths(data);
    List<Object> path = all.get(b.pick() % all.size());
    List<List<Object>> fields =
        all.stream().filter(p -> !p.isEmpty() && p.get(p.size() - 1) instanceof String).toList();
    List<List<Object>> objects =
        all.stream().filter(p -> at(data, p).isObject() && at(data, p).size() > 0).toList();
    return switch (b.kind()) {
      case RETYPED ->
          new Broken("retyped", type, 1, write(replace(data, path, b.value())), namesOf(path));
      case RAW_LITERAL ->
          new Broken(
              "raw literal",
              type,
              1,
              splice(replace(data, path, TextNode.valueOf(RAW)), b.raw()),
              with(namesOf(path), "malformed JSON", "depth", "nest"));
      case DELETED ->
          path.isEmpty()
              ? new Broken("deleted", type, 1, "", List.of("object"))
              : new Broken("deleted", type, 1, write(remove(data, path)), namesOf(path));
      case RENAMED -> {
        if (fields.isEmpty()) {
          yield new Broken("renamed", type, 1, "{" + quote(b.name()) + ":1}", List.of());
        }
        List<Object> field = fields.get(b.pick() % fields.size());
        yield new Broken(
            "renamed",
            type,
            1,
            write(rename(data, field, b.name())),
            with(namesOf(field), b.name()));
      }
      case DUPLICATE_KEY -> {
        if (objects.isEmpty()) {
          yield new Broken("duplicate key", type, 1, "{\"a\":1,\"a\":2}", List.of());
        }
        List<Object> object = objects.get(b.pick() % objects.size());
        List<String> keys = new ArrayList<>();
        at(data, object).fieldNames().forEachRemaining(keys::add);
        String key = keys.get(b.pick2() % keys.size());
        ObjectNode copy = data.deepCopy();
        ((ObjectNode) at(copy, object)).set(DUP, b.value());
        List<Object> field = new ArrayList<>(object);
        field.add(key);
        yield new Broken(
            "duplicate key", type, 1, write(copy).replace(quote(DUP), quote(key)), namesOf(field));
      }
      case TRUNCATED ->
          new Broken(
              "truncated",
              type,
              1,
              text.substring(0, b.pick() % text.length()),
              List.of("malformed JSON", "object"));
      case GARBAGE -> {
        int at = b.pick() % (text.length() + 1);
        yield new Broken(
            "garbage",
            type,
            1,
            text.substring(0, at) + b.garbage() + text.substring(at),
            List.of());
      }
      case WRONG_VERSION -> {
        int v = WRONG_VERSIONS.get(b.pick() % WRONG_VERSIONS.size());
        yield new Broken("wrong version", type, v, text, List.of("schema version " + v));
      }
      case OTHER_TYPE -> {
        List<String> others = new ArrayList<>(TYPE_NAMES);
        others.addAll(List.of(type.toLowerCase(Locale.ROOT), type + " ", "", " ", type + "V2"));
        others.add(b.name());
        yield new Broken("other type", others.get(b.pick() % others.size()), 1, text, List.of());
      }
    };
  }

  /** JSON values of every type and many sizes and shapes, for any field. */
  static Arbitrary<JsonNode> hostileValues() {
    return HOSTILE_VALUES;
  }

  private static final Arbitrary<JsonNode> HOSTILE_VALUES =
      Arbitraries.oneOf(
          Arbitraries.of(
              NullNode.getInstance(),
              BooleanNode.TRUE,
              BooleanNode.FALSE,
              IntNode.valueOf(0),
              IntNode.valueOf(-1),
              IntNode.valueOf(Integer.MIN_VALUE),
              LongNode.valueOf(Long.MAX_VALUE),
              LongNode.valueOf(Long.MIN_VALUE),
              BigIntegerNode.valueOf(BigInteger.TWO.pow(64)),
              BigIntegerNode.valueOf(BigInteger.TEN.pow(900).negate()),
              DoubleNode.valueOf(1.5),
              DoubleNode.valueOf(-0.0),
              DoubleNode.valueOf(Double.MAX_VALUE),
              DoubleNode.valueOf(Double.MIN_VALUE),
              TextNode.valueOf(""),
              TextNode.valueOf(" "),
              TextNode.valueOf("\u0000"),
              TextNode.valueOf("a\nb"),
              TextNode.valueOf("\uD800"),
              TextNode.valueOf("x".repeat(10_000)),
              TextNode.valueOf("é".repeat(20_000)),
              TextNode.valueOf("1"),
              TextNode.valueOf("true"),
              TextNode.valueOf("2030-01-01T00:00:00Z"),
              TextNode.valueOf("+1000000000-01-01T00:00:00Z"),
              TextNode.valueOf("-999999999-01-01T00:00:00Z"),
              TextNode.valueOf("PT1S"),
              TextNode.valueOf("PT0S"),
              TextNode.valueOf("-PT1S"),
              TextNode.valueOf("PT99999999999999999999H"),
              TextNode.valueOf("P1D"),
              NODES.objectNode(),
              NODES.arrayNode(),
              NODES.objectNode().put("slots", 1).put("memoryMb", 0),
              NODES.arrayNode().add("a").add(1)),
          EventArbitraries.jsonTrees(),
          Arbitraries.strings().ofMaxLength(40).map(TextNode::valueOf));

  /** Text no JSON tree writes: numbers out of range, invalid literals, deep nesting. */
  static Arbitrary<String> rawLiterals() {
    return RAW_LITERALS;
  }

  private static final Arbitrary<String> RAW_LITERALS =
      Arbitraries.oneOf(
          Arbitraries.of(
              "1e400",
              "-1e400",
              "1e-400",
              "1E+2147483648",
              "NaN",
              "-Infinity",
              "Infinity",
              "1".repeat(1200),
              "0." + "1".repeat(1200),
              "0x10",
              "01",
              "1.",
              ".5",
              "+1",
              "-",
              "tru",
              "nul",
              "\"unterminated",
              "'single'",
              "\"\\ud800\"",
              "\"\\u00\"",
              "[1,]",
              "{\"a\"}",
              "{\"a\":1,}",
              "/* comment */ 1",
              "",
              "\"" + "x".repeat(200_000) + "\""),
          Combinators.combine(
                  Arbitraries.of(999, 1000, 1001, 1005, 1008, 1009, 10_000),
                  Arbitraries.of(true, false))
              .as(EventCodecFuzzProperties::nested));

  static Arbitrary<String> newNames() {
    return Arbitraries.oneOf(
        Arbitraries.of("", " ", "Owner", "OWNER", "type ", "spec2", "data", "\u0000", "é"),
        Arbitraries.strings().ofMaxLength(12));
  }

  // ---- JSON tree helpers -----------------------------------------------------------------------

  static ObjectNode dataOf(WorkOrderEvent event) {
    try {
      return (ObjectNode) Json.EVENTS.readTree(EventCodec.encode(event).data());
    } catch (JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }

  /** Every node's path, the root first; a step is a field name or an array index. */
  static List<List<Object>> paths(JsonNode root) {
    List<List<Object>> out = new ArrayList<>();
    collect(root, new ArrayList<>(), out);
    return out;
  }

  private static void collect(JsonNode node, List<Object> path, List<List<Object>> out) {
    out.add(List.copyOf(path));
    if (out.size() > 200) {
      return;
    }
    if (node.isObject()) {
      node.fieldNames()
          .forEachRemaining(
              f -> {
                path.add(f);
                collect(node.get(f), path, out);
                path.remove(path.size() - 1);
              });
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        path.add(i);
        collect(node.get(i), path, out);
        path.remove(path.size() - 1);
      }
    }
  }

  static JsonNode at(JsonNode root, List<Object> path) {
    JsonNode n = root;
    for (Object step : path) {
      n = step instanceof String f ? n.get(f) : n.get((Integer) step);
    }
    return n;
  }

  /** A copy with the node at the path replaced; the root path replaces the whole document. */
  static JsonNode replace(ObjectNode root, List<Object> path, JsonNode value) {
    if (path.isEmpty()) {
      return value;
    }
    ObjectNode copy = root.deepCopy();
    JsonNode parent = at(copy, path.subList(0, path.size() - 1));
    Object last = path.get(path.size() - 1);
    if (last instanceof String f) {
      ((ObjectNode) parent).set(f, value);
    } else {
      ((ArrayNode) parent).set((Integer) last, value);
    }
    return copy;
  }

  static JsonNode remove(ObjectNode root, List<Object> path) {
    ObjectNode copy = root.deepCopy();
    JsonNode parent = at(copy, path.subList(0, path.size() - 1));
    Object last = path.get(path.size() - 1);
    if (last instanceof String f) {
      ((ObjectNode) parent).remove(f);
    } else {
      ((ArrayNode) parent).remove((Integer) last);
    }
    return copy;
  }

  static JsonNode rename(ObjectNode root, List<Object> path, String name) {
    ObjectNode copy = root.deepCopy();
    ObjectNode parent = (ObjectNode) at(copy, path.subList(0, path.size() - 1));
    JsonNode value = parent.remove((String) path.get(path.size() - 1));
    parent.set(name, value);
    return copy;
  }

  /** The field names on a path: what a rejection of a change there may name. */
  static List<String> namesOf(List<Object> path) {
    List<String> names = new ArrayList<>();
    for (Object step : path) {
      if (step instanceof String f) {
        names.add(f);
      }
    }
    if (names.isEmpty()) {
      // The whole document replaced: the message names the data or the first field it misses.
      names.addAll(List.of("data", "JSON", "field"));
    }
    return names;
  }

  static List<String> with(List<String> names, String... more) {
    List<String> out = new ArrayList<>(names);
    out.addAll(List.of(more));
    return out;
  }

  /** The written document with the {@link #RAW} placeholder replaced by raw text. */
  static String splice(JsonNode doc, String raw) {
    return write(doc).replace(quote(RAW), raw);
  }

  /** Arrays or objects nested {@code depth} deep around a 1. */
  static String nested(int depth, boolean objects) {
    StringBuilder b = new StringBuilder(depth * 6 + 1);
    b.append((objects ? "{\"a\":" : "[").repeat(depth)).append('1');
    b.append((objects ? "}" : "]").repeat(depth));
    return b.toString();
  }

  static String write(JsonNode node) {
    try {
      return Json.EVENTS.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }

  static String quote(String s) {
    return s == null ? "null" : write(TextNode.valueOf(s));
  }

  static String shorten(String s) {
    return s == null
        ? "null"
        : s.length() <= 300 ? s : s.substring(0, 300) + "…(" + s.length() + " chars)";
  }

  private static List<String> allTypeNames() {
    List<String> names = new ArrayList<>();
    for (EventType t : EventType.values()) {
      names.add(t.typeName());
    }
    return List.copyOf(names);
  }
}
