package dev.workgate.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.core.internal.Text;
import dev.workgate.spi.EventCodec;
import dev.workgate.spi.EventCodecException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.Tuple.Tuple2;
import net.jqwik.api.statistics.Statistics;

/**
 * Hostile input for the spec builder and for the JSON a spec is read from (the Submitted event that
 * every store and the CLI read back): every value is random, many are wrong. The builder either
 * returns a spec that keeps every documented invariant, or throws an {@link
 * IllegalArgumentException} naming the first wrong field in the order {@link
 * WorkOrderSpec.Builder#build()} checks them; the reader either returns that spec or an {@link
 * EventCodecException} naming a field.
 */
class WorkOrderSpecFuzzProperties {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final List<String> SPEC_FIELDS =
      List.of(
          "type",
          "queue",
          "payload",
          "priority",
          "resources",
          "slots",
          "memoryMb",
          "maxAttempts",
          "timeout",
          "notBefore",
          "idempotencyKey",
          "label");

  /**
   * A payload as given, and whether the builder must accept it. Equal by description: jqwik hashes
   * generated values, and a list holding itself or a tree 10,000 deep cannot be hashed.
   */
  record Payload(Object value, boolean valid, String shown) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Payload p && p.shown.equals(shown);
    }

    @Override
    public int hashCode() {
      return shown.hashCode();
    }

    @Override
    public String toString() {
      return (valid ? "valid " : "invalid ") + shown;
    }
  }

  @Property(tries = 600, seed = "171201599385716796")
  void build_gives_a_spec_that_keeps_its_invariants_or_rejects_naming_the_first_bad_field(
      @ForAll("names") String type,
      @ForAll("names") String queue,
      @ForAll int priority,
      @ForAll("attempts") Integer maxAttempts,
      @ForAll("timeouts") Duration timeout,
      @ForAll("optionalNames") String idempotencyKey,
      @ForAll("labels") List<Tuple2<String, String>> labels,
      @ForAll("payloads") Payload payload) {
    WorkOrderSpec.Builder b =
        WorkOrderSpec.builder(type).queue(queue).priority(priority).payload(payload.value());
    if (maxAttempts != null) {
      b.maxAttempts(maxAttempts);
    }
    b.timeout(timeout).idempotencyKey(idempotencyKey);
    labels.forEach(l -> b.label(l.get1(), l.get2()));

    String expectedField = firstBadField(type, queue, maxAttempts, timeout, idempotencyKey, labels);
    if (expectedField == null && !payload.valid()) {
      expectedField = "payload";
    }
    Statistics.collect(expectedField == null ? "built" : expectedField);
    WorkOrderSpec spec;
    try {
      spec = b.build();
    } catch (IllegalArgumentException e) {
      if (expectedField == null) {
        fail("a valid spec was rejected: %s", e.getMessage());
      }
      assertThat(e.getMessage()).as("message names the field").contains(expectedField);
      return;
    } catch (Throwable t) {
      throw new AssertionError("build() threw " + t, t);
    }
    assertThat(expectedField).as("build() accepted a spec with a bad field").isNull();

    assertThat(spec.type()).isEqualTo(type);
    assertThat(spec.queue()).isEqualTo(queue);
    assertThat(spec.priority()).isEqualTo(priority);
    assertThat(spec.maxAttempts().isPresent()).isEqualTo(maxAttempts != null);
    spec.maxAttempts().ifPresent(a -> assertThat(a).isEqualTo(maxAttempts).isPositive());
    assertThat(spec.timeout().orElse(null)).isEqualTo(timeout);
    spec.timeout().ifPresent(t -> assertThat(t.isNegative() || t.isZero()).isFalse());
    assertThat(spec.idempotencyKey().orElse(null)).isEqualTo(idempotencyKey);
    Map<String, String> expectedLabels = new LinkedHashMap<>();
    labels.forEach(l -> expectedLabels.put(l.get1(), Text.storable(l.get2())));
    assertThat(spec.labels()).isEqualTo(expectedLabels);
    assertThat(spec.payload())
        .isEqualTo(payload.value() == null ? NODES.nullNode() : canonical(payload.value()));
    assertThat(spec.toBuilder().build()).isEqualTo(spec).hasSameHashCodeAs(spec);
    WorkOrderEvent.Submitted submitted = WorkOrderEvent.Submitted.of(spec);
    assertThat(EventCodec.decode(EventCodec.encode(submitted))).isEqualTo(submitted);
  }

  @Property(tries = 300)
  void resource_requests_are_made_or_rejected_naming_the_setting(
      @ForAll int slots, @ForAll long memoryMb) {
    ResourceRequest r;
    try {
      r = ResourceRequest.of(slots, memoryMb);
    } catch (IllegalArgumentException e) {
      assertThat(e.getMessage()).contains(slots < 1 ? "resources.slots" : "resources.memoryMb");
      return;
    }
    assertThat(slots).isPositive();
    assertThat(memoryMb).isNotNegative();
    WorkOrderSpec spec = WorkOrderSpec.builder("t").resources(r).build();
    assertThat(spec.resources()).contains(r);
    assertThat(EventCodec.fromJson(EventCodec.toJson(WorkOrderEvent.Submitted.of(spec))))
        .isEqualTo(WorkOrderEvent.Submitted.of(spec));
  }

  @Property(tries = 300)
  void a_spec_document_of_random_fields_is_read_as_the_spec_or_rejected_naming_a_field(
      @ForAll("specFields") Map<String, JsonNode> fields) {
    ObjectNode spec = NODES.objectNode();
    spec.setAll(fields);
    ObjectNode data = NODES.objectNode();
    data.set("spec", spec);
    String json = EventCodecFuzzProperties.write(data);
    WorkOrderEvent.Submitted read;
    try {
      read = (WorkOrderEvent.Submitted) EventCodec.decode("Submitted", 1, json);
    } catch (EventCodecException e) {
      Statistics.collect("rejected");
      assertThat(e.getMessage()).startsWith("event Submitted v1: ");
      if (SPEC_FIELDS.stream().noneMatch(f -> e.getMessage().contains(f))) {
        fail("'%s' names no field of the spec", e.getMessage());
      }
      return;
    } catch (Throwable t) {
      throw new AssertionError(
          "decode threw " + t + " for " + EventCodecFuzzProperties.shorten(json), t);
    }
    Statistics.collect("read");
    WorkOrderSpec s = read.spec();
    assertThat(s.type()).isEqualTo(fields.get("type").textValue());
    assertThat(s.queue()).isEqualTo(fields.get("queue").textValue());
    assertThat(s.priority()).isEqualTo(fields.get("priority").intValue());
    // A stored spec is read without the write limits (it may predate them), and so rebuilt here.
    assertThat(Text.readingStored(() -> read.spec().toBuilder().build())).isEqualTo(s);
    EventCodecFuzzProperties.assertRoundTrips(read);
  }

  // ---- the oracle ------------------------------------------------------------------------------

  /** The first field build() must reject, in the order it checks them, or null. */
  static String firstBadField(
      String type,
      String queue,
      Integer maxAttempts,
      Duration timeout,
      String idempotencyKey,
      List<Tuple2<String, String>> labels) {
    if (!isName(type)) {
      return "type";
    }
    if (!isName(queue)) {
      return "queue";
    }
    if (maxAttempts != null && maxAttempts < 1) {
      return "maxAttempts";
    }
    if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
      return "timeout";
    }
    if (idempotencyKey != null && !isName(idempotencyKey)) {
      return "idempotencyKey";
    }
    // A blank key or a null value is refused whatever follows; a value is a builder setting, so a
    // later label(key, value) replaces an earlier one and only the last value's length counts.
    Map<String, String> last = new LinkedHashMap<>();
    for (Tuple2<String, String> l : labels) {
      if (!isName(l.get1()) || l.get2() == null) {
        return "label";
      }
      last.put(l.get1(), l.get2());
    }
    for (String value : last.values()) {
      if (value.length() > Text.MAX_LABEL_VALUE_LENGTH) {
        return "label";
      }
    }
    return null;
  }

  /**
   * The documented rule for names: not blank, at most 200 chars, no control characters, no unpaired
   * surrogates.
   */
  static boolean isName(String s) {
    return s != null
        && !s.isBlank()
        && s.length() <= Text.MAX_NAME_LENGTH
        && s.chars().noneMatch(Character::isISOControl)
        && Text.firstUnpairedSurrogate(s) < 0;
  }

  private static JsonNode canonical(Object value) {
    return EventCodecFuzzProperties.dataOf(
            WorkOrderEvent.Submitted.of(WorkOrderSpec.builder("t").payload(value).build()))
        .get("spec")
        .get("payload");
  }

  // ---- generators ------------------------------------------------------------------------------

  /** Names good and bad: empty, blank, control characters, 10k characters, any unicode. */
  @Provide
  Arbitrary<String> names() {
    return Arbitraries.frequencyOf(
        Tuple.of(4, EventArbitraries.nonBlankText()),
        Tuple.of(
            2,
            Arbitraries.of(
                "",
                " ",
                "\t\n",
                "\u2003",
                "a\u0000b",
                "a\u007fb",
                "x\u0085",
                "\uD800",
                "é🚀",
                "x".repeat(200),
                "x".repeat(201),
                "x".repeat(10_000))),
        Tuple.of(1, Arbitraries.strings().ofMaxLength(30)),
        Tuple.of(1, Arbitraries.strings().ofMinLength(150).ofMaxLength(250)),
        Tuple.of(1, Arbitraries.just(null)));
  }

  @Provide
  Arbitrary<String> optionalNames() {
    return Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(null)), Tuple.of(2, names()));
  }

  @Provide
  Arbitrary<Integer> attempts() {
    return Arbitraries.integers().injectNull(0.3);
  }

  @Provide
  Arbitrary<Duration> timeouts() {
    return Arbitraries.frequencyOf(
        Tuple.of(1, Arbitraries.just(null)),
        Tuple.of(
            1,
            Arbitraries.of(
                Duration.ZERO,
                Duration.ofNanos(1),
                Duration.ofNanos(-1),
                Duration.ofSeconds(Long.MAX_VALUE, 999_999_999),
                Duration.ofSeconds(Long.MIN_VALUE))),
        Tuple.of(
            3,
            Combinators.combine(Arbitraries.longs(), Arbitraries.integers().between(0, 999_999_999))
                .as(Duration::ofSeconds)));
  }

  @Provide
  Arbitrary<List<Tuple2<String, String>>> labels() {
    Arbitrary<String> values =
        Arbitraries.oneOf(EventArbitraries.anyText(), Arbitraries.of("", "x".repeat(10_000)))
            .injectNull(0.05);
    return Combinators.combine(names(), values).as(Tuple::of).list().ofMaxSize(4);
  }

  @Provide
  Arbitrary<Payload> payloads() {
    Arbitrary<Payload> valid =
        Arbitraries.oneOf(
            EventArbitraries.payloads()
                .map(p -> new Payload(p, true, p + " (" + (p == null ? "" : p.getClass()) + ")")),
            Arbitraries.of(
                new Payload("x".repeat(10_000), true, "10k chars"),
                new Payload(WorkOrderSpecTest.nested(1000), true, "nested 1000"),
                new Payload(Map.of("k", List.of(1, 2.5, "é")), true, "map")));
    List<Object> cycle = new ArrayList<>();
    cycle.add(cycle);
    Map<String, Object> nullKey = new HashMap<>();
    nullKey.put(null, 1);
    Arbitrary<Payload> invalid =
        Arbitraries.of(
            new Payload(WorkOrderSpecTest.nested(1001), false, "nested 1001"),
            new Payload(WorkOrderSpecTest.nested(10_000), false, "nested 10000"),
            new Payload(DecimalNode.valueOf(new BigDecimal("1e400")), false, "1e400"),
            new Payload(List.of(new BigDecimal("-1e309")), false, "[-1e309]"),
            new Payload(new Object(), false, "new Object()"),
            // The core mapper has no java.time module: documented as "any value Jackson can
            // serialise", so an Instant is refused, naming the payload.
            new Payload(Instant.EPOCH, false, "an Instant"),
            new Payload(cycle, false, "a list holding itself"),
            new Payload(nullKey, false, "a map with a null key"));
    return Arbitraries.frequencyOf(Tuple.of(5, valid), Tuple.of(1, invalid));
  }

  /** The fields of a spec document, each valid, missing or any hostile JSON value. */
  @Provide
  Arbitrary<Map<String, JsonNode>> specFields() {
    Arbitrary<JsonNode> hostile = EventCodecFuzzProperties.hostileValues();
    Arbitrary<JsonNode> text = names().filter(s -> s != null).map(NODES::textNode);
    Map<String, Arbitrary<JsonNode>> valid = new LinkedHashMap<>();
    valid.put("type", text);
    valid.put("queue", text);
    valid.put("payload", EventArbitraries.jsonTrees());
    valid.put("priority", Arbitraries.integers().map(NODES::numberNode));
    valid.put(
        "resources",
        EventArbitraries.resourceRequests()
            .map(r -> NODES.objectNode().put("slots", r.slots()).put("memoryMb", r.memoryMb())));
    valid.put("maxAttempts", Arbitraries.integers().map(NODES::numberNode));
    valid.put("timeout", timeouts().filter(t -> t != null).map(t -> NODES.textNode(t.toString())));
    valid.put("notBefore", EventArbitraries.instants().map(t -> NODES.textNode(t.toString())));
    valid.put("idempotencyKey", text);
    valid.put(
        "labels",
        Arbitraries.maps(names().filter(s -> s != null), EventArbitraries.anyText())
            .ofMaxSize(3)
            .map(
                m -> {
                  ObjectNode o = NODES.objectNode();
                  m.forEach(o::put);
                  return o;
                }));
    List<Arbitrary<Tuple2<String, JsonNode>>> each = new ArrayList<>();
    valid.forEach(
        (name, good) ->
            each.add(
                Arbitraries.frequencyOf(
                        Tuple.of(6, good),
                        Tuple.of(1, hostile),
                        Tuple.of(1, Arbitraries.just(null)))
                    .map(v -> Tuple.of(name, v))));
    return Combinators.combine(each)
        .as(
            list -> {
              Map<String, JsonNode> m = new LinkedHashMap<>();
              list.forEach(
                  t -> {
                    if (t.get2() != null) {
                      m.put(t.get1(), t.get2());
                    }
                  });
              return m;
            });
  }
}
