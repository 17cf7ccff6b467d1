package dev.workgate.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.IdempotencyKeyConflictException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Cancellations;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.StoreView.LogPage;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.statistics.Statistics;

/**
 * The text limits on every store: a property that submits specs, cancels, fails and completes work
 * orders with names, labels, reasons, messages, payloads and results at and beyond every limit (and
 * with NUL, control characters, unpaired surrogates and surrogate pairs cut in half), and checks
 * against its own oracle of the documented limits:
 *
 * <ul>
 *   <li>what the oracle says is refused throws {@link IllegalArgumentException} and changes nothing
 *       (the stream and the log are as before);
 *   <li>what is accepted reads back equal through every reader: readStream, readLog, the audit
 *       query, find, claim; free text is kept with NUL and unpaired surrogates as U+FFFD, and a
 *       handler's message or a decision past its limit is cut to the limit with a marker;
 *   <li>after each try, rebuildProjection(VERIFY) finds the projection consistent.
 * </ul>
 *
 * <p>The oracle is written here from the documented limits, not from {@code Text}. A subclass names
 * the store ({@link #openStore}) and declares the property with the tries that store affords; one
 * store serves all tries of a property (each try uses a queue of its own).
 */
public abstract class TextLimitProperties {
  private static final int MAX_NAME = 200;
  private static final int MAX_LABEL_VALUE = 1_000;
  private static final int MAX_LABELS = 64;
  private static final int MAX_REASON = 2_000;
  private static final int MAX_MESSAGE = 8_192;
  private static final int MAX_DECISION = 2_000;
  private static final int MAX_VALUE_BYTES = 16 << 20;
  private static final String OWNER = "node-a";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final List<String> FILLERS = List.of("a", "é", "字", "🚀");
  private static final List<String> SPECIALS =
      List.of("", "", "\u0000", "\uD800", "\uDC00", "\u0007", " ", "🚁");
  private static final AtomicInteger QUEUES = new AtomicInteger();

  private final MutableClock clock = MutableClock.create();
  private WorkOrderStore store;

  /** How a try ends its work order. */
  public enum Ending {
    /** Cancelled while pending, with the text as the reason. */
    CANCEL_WAITING,
    /** Cancellation requested while running, with the text as the reason, then cancelled. */
    CANCEL_RUNNING,
    /** A handler's failure with the text as message and decision. */
    FAIL,
    /** A handler's success with the text in the result. */
    COMPLETE
  }

  /**
   * One try's input. Its {@code toString} shows lengths and the odd characters, not megabytes.
   *
   * @param type the spec's type
   * @param idempotencyKey the spec's key, or null
   * @param labelKey a label key
   * @param labelValue its value
   * @param extraLabels how many plain labels to add besides
   * @param payloadText the string in the payload {@code {"s": …}}
   * @param ending how the work order ends
   * @param text the reason, message or result text of the ending
   */
  public record Case(
      String type,
      String idempotencyKey,
      String labelKey,
      String labelValue,
      int extraLabels,
      String payloadText,
      Ending ending,
      String text) {
    @Override
    public String toString() {
      return "Case[type="
          + shown(type)
          + ", idempotencyKey="
          + shown(idempotencyKey)
          + ", labelKey="
          + shown(labelKey)
          + ", labelValue="
          + shown(labelValue)
          + ", extraLabels="
          + extraLabels
          + ", payloadText="
          + shown(payloadText)
          + ", ending="
          + ending
          + ", text="
          + shown(text)
          + "]";
    }
  }

  /**
   * A new, empty store.
   *
   * @param clock the clock that stamps events
   * @return the store; closed after the property
   */
  protected abstract WorkOrderStore openStore(Clock clock);

  /** Releases what {@link #openStore} set up, after the store is closed. */
  protected void closeDatabase() {}

  @AfterProperty
  void closeStore() {
    if (store != null) {
      store.close();
      store = null;
    }
    closeDatabase();
  }

  /**
   * Hostile inputs around every limit.
   *
   * @return the cases
   */
  @Provide
  protected Arbitrary<Case> cases() {
    // Each spec field is hostile one time in four, so that about a third of the specs pass and the
    // endings' texts are tried on stored work orders.
    Arbitrary<String> names = text(0, 1, 2, MAX_NAME - 1, MAX_NAME, MAX_NAME + 1, 50_001);
    Arbitrary<String> keys =
        Arbitraries.frequencyOf(
            Tuple.of(2, Arbitraries.strings().alpha().ofLength(16)),
            Tuple.of(1, Arbitraries.just(null)),
            Tuple.of(1, names));
    return Combinators.combine(
            sometimes(names, Arbitraries.just("agent-run")),
            keys,
            sometimes(names, Arbitraries.just("team")),
            sometimes(
                text(0, 1, MAX_LABEL_VALUE - 1, MAX_LABEL_VALUE, MAX_LABEL_VALUE + 1, 20_001),
                Arbitraries.just("payments")),
            sometimes(
                Arbitraries.of(MAX_LABELS - 2, MAX_LABELS - 1, MAX_LABELS), Arbitraries.just(0)),
            sometimes(
                text(0, 7, 1_000, 20_001, MAX_VALUE_BYTES - 8, MAX_VALUE_BYTES - 7),
                Arbitraries.just("task")),
            Arbitraries.of(Ending.class))
        .flatAs(
            (type, key, labelKey, labelValue, extra, payload, ending) ->
                textFor(ending)
                    .map(
                        text ->
                            new Case(
                                type, key, labelKey, labelValue, extra, payload, ending, text)));
  }

  private static <T> Arbitrary<T> sometimes(Arbitrary<T> hostile, Arbitrary<T> plain) {
    return Arbitraries.frequencyOf(Tuple.of(3, plain), Tuple.of(1, hostile));
  }

  private static Arbitrary<String> textFor(Ending ending) {
    return switch (ending) {
      case CANCEL_WAITING, CANCEL_RUNNING ->
          text(0, 1, MAX_REASON - 1, MAX_REASON, MAX_REASON + 1, 3 * MAX_REASON);
      case FAIL -> text(0, 1, MAX_DECISION + 1, MAX_MESSAGE, MAX_MESSAGE + 1, 100_000);
      // {"out":""} is 10 bytes of JSON
      case COMPLETE -> text(0, 5, 1_000, 20_001, MAX_VALUE_BYTES - 10, MAX_VALUE_BYTES - 9);
    };
  }

  /**
   * Text of one of the lengths (give or take a char when a surrogate pair is put in): a filler
   * repeated and cut (so a pair may be cut in half), with one odd character put in somewhere.
   */
  private static Arbitrary<String> text(Integer... lengths) {
    return Combinators.combine(
            Arbitraries.of(lengths),
            Arbitraries.of(FILLERS),
            Arbitraries.of(SPECIALS),
            Arbitraries.integers().between(0, 1000))
        .as(
            (length, filler, special, at) -> {
              StringBuilder b = new StringBuilder(length + 2);
              while (b.length() < length) {
                b.append(filler);
              }
              b.setLength(length);
              if (length > 0 && !special.isEmpty()) {
                int i = (int) ((long) at * (length - 1) / 1000);
                b.replace(i, i + 1, special);
              }
              return b.toString();
            });
  }

  /**
   * The property: see the class comment.
   *
   * @param c one try's input
   */
  protected void check(Case c) {
    if (store == null) {
      store = openStore(clock);
    }
    String queue = "q" + QUEUES.incrementAndGet();
    long logStart = lastPosition();
    List<RecordedEvent> appended = new ArrayList<>();

    // submit
    WorkOrderSpec.Builder b =
        WorkOrderSpec.builder(c.type())
            .queue(queue)
            .idempotencyKey(c.idempotencyKey())
            .payload(Map.of("s", c.payloadText()));
    for (int i = 0; i < c.extraLabels(); i++) {
      b.label("l" + i, "v");
    }
    b.label(c.labelKey(), c.labelValue());
    int labelCount = c.extraLabels() + 1; // hostile keys are fillers, never "l<digits>"
    boolean specOk =
        isName(c.type())
            && (c.idempotencyKey() == null || isName(c.idempotencyKey()))
            && labelCount <= MAX_LABELS
            && isName(c.labelKey())
            && c.labelValue().length() <= MAX_LABEL_VALUE
            && wellFormed(c.payloadText())
            && jsonBytes(Map.of("s", c.payloadText())) <= MAX_VALUE_BYTES;
    WorkOrderSpec spec;
    try {
      spec = b.build();
    } catch (IllegalArgumentException e) {
      Statistics.collect("spec refused");
      assertThat(specOk).as("refused: %s", e.getMessage()).isFalse();
      assertThat(lastPosition()).as("nothing was written").isEqualTo(logStart);
      return;
    }
    Statistics.collect(c.ending() + (textOk(c) ? "" : " past its limit"));
    assertThat(specOk).as("accepted a spec past a limit").isTrue();
    assertThat(spec.labels()).containsEntry(c.labelKey(), storable(c.labelValue()));
    assertThat(spec.payload().get("s").textValue()).isEqualTo(c.payloadText());
    WorkOrderId id = WorkOrderId.random();
    try {
      appended.addAll(
          store.append(id, ExpectedVersion.none(), List.of(WorkOrderEvent.Submitted.of(spec))));
    } catch (IdempotencyKeyConflictException taken) {
      // an earlier try used the same key: the key is held by that work order, and it reads back
      WorkOrderId holder = store.findByIdempotencyKey(c.idempotencyKey()).orElseThrow();
      assertThat(taken.existingWorkOrderId()).isEqualTo(holder);
      assertThat(store.find(holder).orElseThrow().spec().idempotencyKey())
          .contains(c.idempotencyKey());
      assertThat(lastPosition()).isEqualTo(logStart);
      return;
    }

    if (c.ending() == Ending.CANCEL_WAITING) {
      cancel(c, id, appended);
    } else {
      List<WorkOrderView> claimed =
          store.claim(
              new ClaimRequest(
                  queue, OWNER, 1, Capacity.unlimited(), clock.instant(), Duration.ofMinutes(1)));
      assertThat(claimed).extracting(WorkOrderView::id).containsExactly(id);
      assertThat(claimed.get(0).spec()).isEqualTo(spec);
      appended.addAll(store.readStream(id).subList(1, 2));
      appended.addAll(
          store.append(
              id,
              ExpectedVersion.exactly(2),
              List.of(new WorkOrderEvent.Started("sandbox-" + id.value()))));
      switch (c.ending()) {
        case CANCEL_RUNNING -> cancel(c, id, appended);
        case FAIL -> fail(c, id, appended);
        case COMPLETE -> complete(c, id, appended);
        default -> throw new AssertionError(c.ending());
      }
    }

    assertThat(store.readStream(id)).containsExactlyElementsOf(appended);
    assertThat(store.find(id).orElseThrow().spec()).isEqualTo(spec);
    assertEveryReaderReads(id, appended, logStart);
  }

  private void cancel(Case c, WorkOrderId id, List<RecordedEvent> appended) {
    long before = lastPosition();
    Throwable refused = catchThrowable(() -> Cancellations.request(store, id, c.text()));
    if (c.text().length() > MAX_REASON) {
      assertThat(refused)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("at most " + MAX_REASON);
      assertThat(lastPosition()).isEqualTo(before);
      assertThat(store.readStream(id)).containsExactlyElementsOf(appended);
      return;
    }
    assertThat(refused).isNull();
    List<RecordedEvent> stream = store.readStream(id);
    appended.add(stream.get(stream.size() - 1));
    String expected = storable(c.text());
    if (c.ending() == Ending.CANCEL_WAITING) {
      assertThat(stream.get(stream.size() - 1).event())
          .isEqualTo(new WorkOrderEvent.Cancelled(expected));
    } else {
      assertThat(stream.get(stream.size() - 1).event())
          .isEqualTo(new WorkOrderEvent.CancellationRequested(expected));
      WorkOrderView v = store.find(id).orElseThrow();
      assertThat(v.cancellationRequested()).contains(expected);
      appended.addAll(
          store.append(
              id,
              ExpectedVersion.exactly(v.version()),
              List.of(new WorkOrderEvent.Cancelled(v.cancellationRequested().get()))));
    }
  }

  private void fail(Case c, WorkOrderId id, List<RecordedEvent> appended) {
    WorkOrderEvent.AttemptFailed failed =
        WorkOrderEvent.AttemptFailed.finalFailure(ErrorInfo.fatal("E", c.text()), c.text());
    assertCut(failed.error().message(), c.text(), MAX_MESSAGE);
    assertCut(failed.decision(), c.text(), MAX_DECISION);
    appended.addAll(store.append(id, ExpectedVersion.exactly(3), List.of(failed)));
    assertThat(store.find(id).orElseThrow().lastError()).contains(failed.error());
  }

  private void complete(Case c, WorkOrderId id, List<RecordedEvent> appended) {
    long before = lastPosition();
    JsonNode result = NODES.objectNode().put("out", c.text());
    // JSON values keep NUL (it is escaped in the JSON text); only unpaired surrogates are replaced
    String expected = surrogatesReplaced(c.text());
    boolean ok = jsonBytes(Map.of("out", expected)) <= MAX_VALUE_BYTES;
    WorkOrderEvent.Completed completed;
    try {
      completed = new WorkOrderEvent.Completed(result);
    } catch (IllegalArgumentException e) {
      assertThat(ok).as("refused: %s", e.getMessage()).isFalse();
      assertThat(lastPosition()).isEqualTo(before);
      // the attempt still ends: as a failure naming the size, as the execution records it
      appended.addAll(
          store.append(
              id,
              ExpectedVersion.exactly(3),
              List.of(
                  WorkOrderEvent.AttemptFailed.finalFailure(
                      ErrorInfo.fatal("AGENT_FATAL_ERROR", e.getMessage()), "not retried"))));
      return;
    }
    assertThat(ok).as("accepted a result past the limit").isTrue();
    assertThat(completed.result().get("out").textValue()).isEqualTo(expected);
    appended.addAll(store.append(id, ExpectedVersion.exactly(3), List.of(completed)));
    assertThat(store.find(id).orElseThrow().result()).contains(completed.result());
  }

  /** Whether the ending's text is within its limit (a handler's message is cut, never refused). */
  private static boolean textOk(Case c) {
    return switch (c.ending()) {
      case CANCEL_WAITING, CANCEL_RUNNING -> c.text().length() <= MAX_REASON;
      case FAIL -> storable(c.text()).length() <= MAX_MESSAGE;
      case COMPLETE -> jsonBytes(Map.of("out", surrogatesReplaced(c.text()))) <= MAX_VALUE_BYTES;
    };
  }

  /** Free text from a handler: kept if within the limit, else cut to it with the marker. */
  private static void assertCut(String kept, String given, int limit) {
    String full = storable(given);
    if (full.length() <= limit) {
      assertThat(kept).isEqualTo(full);
      return;
    }
    String marker =
        String.format(Locale.ROOT, "… [truncated, %d characters in all]", full.length());
    assertThat(kept).endsWith(marker).hasSizeBetween(limit - 1, limit);
    assertThat(full).startsWith(kept.substring(0, kept.length() - marker.length()));
    assertThat(wellFormed(kept)).isTrue();
  }

  /** readLog, the audit query, find and verify agree with what append returned. */
  private void assertEveryReaderReads(WorkOrderId id, List<RecordedEvent> appended, long logStart) {
    List<RecordedEvent> log = new ArrayList<>();
    long after = logStart;
    while (true) {
      LogPage page = store.readLog(after, 100);
      if (page.events().isEmpty()) {
        break;
      }
      log.addAll(page.events());
      after = page.lastPosition();
    }
    assertThat(log).containsExactlyElementsOf(appended);
    assertThat(store.queryEvents(EventQuery.builder().workOrder(id).oldestFirst().build()).events())
        .containsExactlyElementsOf(appended);
    assertThat(store.find(id).orElseThrow().version()).isEqualTo(appended.size());
    assertThat(store.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
  }

  private long lastPosition() {
    long after = 0;
    while (true) {
      LogPage page = store.readLog(after, 1000);
      if (page.events().isEmpty()) {
        return after;
      }
      after = page.lastPosition();
    }
  }

  // ---- the oracle: the documented rules, written out -------------------------------------------

  private static boolean isName(String s) {
    return s != null
        && !s.isBlank()
        && s.length() <= MAX_NAME
        && s.chars().noneMatch(Character::isISOControl)
        && wellFormed(s);
  }

  private static boolean wellFormed(String s) {
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (Character.isHighSurrogate(ch)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(ch)) {
        return false;
      }
    }
    return true;
  }

  private static String storable(String s) {
    return replaced(s, true);
  }

  private static String surrogatesReplaced(String s) {
    return replaced(s, false);
  }

  private static String replaced(String s, boolean nul) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (Character.isHighSurrogate(ch)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        b.append(ch).append(s.charAt(++i));
      } else if (Character.isSurrogate(ch) || (nul && ch == '\u0000')) {
        b.append('\uFFFD');
      } else {
        b.append(ch);
      }
    }
    return b.toString();
  }

  private static long jsonBytes(Object value) {
    try {
      return JSON.writeValueAsString(value).getBytes(StandardCharsets.UTF_8).length;
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String shown(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder odd = new StringBuilder();
    s.chars()
        .filter(ch -> ch < 0x20 || Character.isSurrogate((char) ch))
        .limit(4)
        .forEach(ch -> odd.append(String.format(" U+%04X", ch)));
    return s.length() + " chars '" + s.substring(0, Math.min(8, s.length())) + "…'" + odd;
  }
}
