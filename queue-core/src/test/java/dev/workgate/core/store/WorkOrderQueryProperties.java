package dev.workgate.core.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.ErrorInfo;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderQuery.Page;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * {@link StoreView#query} and {@link StoreView#count} against {@link WorkOrderQuery#matches}: for
 * random work orders (queues, types, labels with dots, quotes and empty values, histories that
 * leave every state and several last errors, resubmissions, submission times that repeat) and
 * random queries combining every filter, paging through the query in either order with a small
 * limit returns exactly the views that {@code matches} accepts, each once, in submission order, and
 * the counts by every grouping are those of the same views. On the in-memory store and on SQLite (a
 * new file per try); the conformance suite runs the fixed cases on PostgreSQL too.
 *
 * <p>Only what the SPI promises is checked: the concatenated pages and the counts. How the items
 * are split into pages beyond the limit is not (a page may legally hold fewer views than the limit
 * when the store skips an unreadable one).
 */
class WorkOrderQueryProperties {

  static final Instant START = Instant.parse("2030-01-01T00:00:00Z");
  static final List<String> QUEUES = List.of("q1", "q2");
  static final List<String> TYPES = List.of("render", "index", "transcode");
  static final List<String> LABEL_KEYS = List.of("team", "a.b", "say \"hi\"");
  static final List<String> LABEL_VALUES = List.of("x", "y", "");
  static final List<String> ERROR_CODES = List.of("TIMEOUT", "OOM", "CANCELLED");

  /** How far a history takes a work order, and so its state and last error. */
  enum History {
    PENDING,
    PREPARING,
    RUNNING,
    COMPLETED,
    WAITING_RETRY,
    FAILED,
    CANCELLED,
    PENDING_AGAIN_AFTER_A_RETRY
  }

  /**
   * One work order to submit.
   *
   * @param queue index into {@link #QUEUES}
   * @param type index into {@link #TYPES}
   * @param labels key index to value index
   * @param history its events after Submitted
   * @param errorCode index into the first two {@link #ERROR_CODES}, for the failures
   * @param resubmittedFrom index of an earlier submission, or -1
   * @param advanceMillis how far the clock moves before it is submitted
   */
  record Submission(
      int queue,
      int type,
      Map<Integer, Integer> labels,
      History history,
      int errorCode,
      int resubmittedFrom,
      int advanceMillis) {}

  /**
   * A query, by indexes into the lists and the submissions.
   *
   * @param queue a queue index or -1
   * @param states the states
   * @param types type indexes
   * @param labels key index to value index
   * @param errorCode an index into {@link #ERROR_CODES} or -1
   * @param resubmittedFrom a submission index (past the end: an id no work order has) or -1
   * @param from a submission whose time is the lower bound, or -1; {@code fromShift} moves it
   * @param before a submission whose time is the upper bound, or -1; {@code beforeShift} moves it
   * @param order the order
   * @param limit the page size
   */
  record QuerySpec(
      int queue,
      Set<WorkOrderState> states,
      Set<Integer> types,
      Map<Integer, Integer> labels,
      int errorCode,
      int resubmittedFrom,
      int from,
      int fromShift,
      int before,
      int beforeShift,
      WorkOrderQuery.Order order,
      int limit) {}

  @Property(tries = 300)
  void in_memory_query_pages_and_counts_are_those_of_the_matching_views(
      @ForAll("submissions") List<Submission> submissions,
      @ForAll("queries") List<QuerySpec> queries) {
    MutableClock clock = MutableClock.startingAt(START);
    try (WorkOrderStore store = Stores.inMemory(clock)) {
      check(store, clock, submissions, queries);
    }
    checkCoverage();
  }

  @Property(tries = 40)
  void sqlite_query_pages_and_counts_are_those_of_the_matching_views(
      @ForAll("submissions") List<Submission> submissions,
      @ForAll("queries") List<QuerySpec> queries) {
    MutableClock clock = MutableClock.startingAt(START);
    Path dir;
    try {
      dir = Files.createTempDirectory("workgate-query-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try (WorkOrderStore store =
        Stores.sqlite(dir.resolve("workgate.db"), SqliteOptions.builder().clock(clock).build())) {
      check(store, clock, submissions, queries);
    } finally {
      delete(dir);
    }
  }

  /**
   * Each kind of outcome happens in at least this share of the queries, in percent: checked where
   * there are enough tries for the shares to be steady (about a thousand queries; the generators
   * are the same for both stores). Seen: about 45% of the queries match some work orders, a quarter
   * of those by label match some, a fifth need more than one page.
   */
  private static void checkCoverage() {
    Statistics.label("query matches some work orders")
        .coverage(c -> c.check(true).percentage(p -> p >= 20));
    Statistics.label("query by label matches some")
        .coverage(c -> c.check(true).percentage(p -> p >= 5));
    Statistics.label("matches span pages").coverage(c -> c.check(true).percentage(p -> p >= 5));
  }

  private static void check(
      WorkOrderStore store,
      MutableClock clock,
      List<Submission> submissions,
      List<QuerySpec> queries) {
    List<WorkOrderId> ids = submit(store, clock, submissions);
    List<Instant> times = new ArrayList<>();
    List<WorkOrderView> views = new ArrayList<>();
    for (WorkOrderId id : ids) {
      WorkOrderView view = store.find(id).orElseThrow();
      views.add(view);
      times.add(view.submittedAt());
    }
    for (QuerySpec spec : queries) {
      WorkOrderQuery.Builder builder = build(spec, ids, times);
      WorkOrderQuery query = builder.build();
      List<WorkOrderId> expected = new ArrayList<>();
      for (WorkOrderView view : views) {
        if (query.matches(view)) {
          expected.add(view.id());
        }
      }
      if (spec.order() == WorkOrderQuery.Order.NEWEST_FIRST) {
        Collections.reverse(expected);
      }

      // The queries must select something often enough for the comparison to mean anything.
      Statistics.label("query matches some work orders").collect(!expected.isEmpty());
      if (!query.labels().isEmpty()) {
        Statistics.label("query by label matches some").collect(!expected.isEmpty());
      }
      Statistics.label("matches span pages").collect(expected.size() > spec.limit());

      assertThat(pageThrough(store, builder, spec.limit(), expected.size()))
          .as("%s", query)
          .containsExactlyElementsOf(expected);
      for (WorkOrderQuery.CountBy by : WorkOrderQuery.CountBy.values()) {
        assertThat(store.count(query, by))
            .as("%s by %s", query, by)
            .isEqualTo(countOf(views, query, by));
      }
    }
  }

  /** The ids of every page of a query, read with the cursor; fails if paging does not progress. */
  private static List<WorkOrderId> pageThrough(
      WorkOrderStore store, WorkOrderQuery.Builder query, int limit, int matching) {
    List<WorkOrderId> out = new ArrayList<>();
    Set<Long> cursors = new HashSet<>();
    long cursor = 0;
    for (int pages = 0; pages <= matching + 1; pages++) {
      Page<WorkOrderView> page = store.query(query.after(cursor).limit(limit).build());
      assertThat(page.items()).as("page size").hasSizeLessThanOrEqualTo(limit);
      page.items().forEach(v -> out.add(v.id()));
      if (!page.hasNext()) {
        return out;
      }
      cursor = page.nextCursor().getAsLong();
      assertThat(cursors.add(cursor)).as("cursor %d given twice", cursor).isTrue();
    }
    throw new AssertionError(
        "paging did not end after " + (matching + 2) + " pages for " + matching + " matches");
  }

  private static Map<String, Long> countOf(
      List<WorkOrderView> views, WorkOrderQuery query, WorkOrderQuery.CountBy by) {
    Map<String, Long> counts = new TreeMap<>();
    if (by == WorkOrderQuery.CountBy.STATE) {
      for (WorkOrderState state : WorkOrderState.values()) {
        counts.put(state.name(), 0L);
      }
    }
    for (WorkOrderView view : views) {
      if (query.matches(view)) {
        by.keyOf(view).ifPresent(key -> counts.merge(key, 1L, Long::sum));
      }
    }
    return counts;
  }

  /**
   * Appends the submissions in order, those at one time in one call, so that submission order is
   * the order of the list.
   */
  private static List<WorkOrderId> submit(
      WorkOrderStore store, MutableClock clock, List<Submission> submissions) {
    List<WorkOrderId> ids = new ArrayList<>();
    List<AppendRequest> batch = new ArrayList<>();
    for (int i = 0; i < submissions.size(); i++) {
      Submission s = submissions.get(i);
      if (s.advanceMillis() > 0 && !batch.isEmpty()) {
        store.appendAll(batch);
        batch.clear();
      }
      clock.advance(Duration.ofMillis(s.advanceMillis()));
      WorkOrderSpec.Builder spec =
          WorkOrderSpec.builder(TYPES.get(s.type())).queue(QUEUES.get(s.queue()));
      s.labels().forEach((k, v) -> spec.label(LABEL_KEYS.get(k), LABEL_VALUES.get(v)));
      WorkOrderId from =
          s.resubmittedFrom() >= 0 && s.resubmittedFrom() < i ? ids.get(s.resubmittedFrom()) : null;
      WorkOrderId id = WorkOrderId.of("wo-" + i + "-" + WorkOrderId.random());
      ids.add(id);
      batch.add(
          new AppendRequest(
              id,
              ExpectedVersion.none(),
              events(new WorkOrderEvent.Submitted(spec.build(), from), s, clock.instant())));
    }
    if (!batch.isEmpty()) {
      store.appendAll(batch);
    }
    return ids;
  }

  private static List<WorkOrderEvent> events(
      WorkOrderEvent.Submitted submitted, Submission s, Instant now) {
    ErrorInfo error = ErrorInfo.retryable(ERROR_CODES.get(s.errorCode()), "attempt failed");
    WorkOrderEvent claimed = new WorkOrderEvent.Claimed("node-a", now.plusSeconds(30));
    WorkOrderEvent started = new WorkOrderEvent.Started("sandbox-1");
    WorkOrderEvent retry =
        WorkOrderEvent.AttemptFailed.retryAt(error, now.plusSeconds(60), "retry");
    List<WorkOrderEvent> events = new ArrayList<>(List.of(submitted));
    switch (s.history()) {
      case PENDING -> {}
      case PREPARING -> events.add(claimed);
      case RUNNING -> events.addAll(List.of(claimed, started));
      case COMPLETED ->
          events.addAll(List.of(claimed, started, new WorkOrderEvent.Completed(null)));
      case WAITING_RETRY -> events.addAll(List.of(claimed, retry));
      case FAILED ->
          events.addAll(
              List.of(claimed, WorkOrderEvent.AttemptFailed.finalFailure(error, "given up")));
      case CANCELLED -> events.add(new WorkOrderEvent.Cancelled("not needed"));
      case PENDING_AGAIN_AFTER_A_RETRY ->
          events.addAll(List.of(claimed, retry, new WorkOrderEvent.RetryReleased()));
    }
    return events;
  }

  private static WorkOrderQuery.Builder build(
      QuerySpec q, List<WorkOrderId> ids, List<Instant> times) {
    WorkOrderQuery.Builder b = WorkOrderQuery.builder().order(q.order());
    if (q.queue() >= 0) {
      b.queue(QUEUES.get(q.queue()));
    }
    b.states(q.states().toArray(new WorkOrderState[0]));
    b.types(q.types().stream().map(TYPES::get).toArray(String[]::new));
    q.labels().forEach((k, v) -> b.label(LABEL_KEYS.get(k), LABEL_VALUES.get(v)));
    if (q.errorCode() >= 0) {
      b.errorCode(ERROR_CODES.get(q.errorCode()));
    }
    if (q.resubmittedFrom() >= 0) {
      b.resubmittedFrom(
          q.resubmittedFrom() < ids.size()
              ? ids.get(q.resubmittedFrom())
              : WorkOrderId.of("wo-nobody"));
    }
    Function<Integer, Instant> timeOf = i -> times.isEmpty() ? START : times.get(i % times.size());
    Instant from = q.from() < 0 ? null : timeOf.apply(q.from()).plusMillis(q.fromShift());
    Instant before = q.before() < 0 ? null : timeOf.apply(q.before()).plusMillis(q.beforeShift());
    if (from != null && before != null && before.isBefore(from)) {
      Instant swap = from;
      from = before;
      before = swap;
    }
    return b.submittedBetween(from, before);
  }

  @Provide
  Arbitrary<List<Submission>> submissions() {
    Arbitrary<Map<Integer, Integer>> labels =
        Arbitraries.maps(
                Arbitraries.integers().between(0, LABEL_KEYS.size() - 1),
                Arbitraries.integers().between(0, LABEL_VALUES.size() - 1))
            .ofMaxSize(LABEL_KEYS.size());
    return Combinators.combine(
            Arbitraries.integers().between(0, QUEUES.size() - 1),
            Arbitraries.integers().between(0, TYPES.size() - 1),
            labels,
            Arbitraries.of(History.class),
            Arbitraries.integers().between(0, 1),
            Arbitraries.integers().between(-1, 20),
            // Two in three at the time of the one before, to make ties in submission time.
            Arbitraries.oneOf(
                Arbitraries.just(0), Arbitraries.just(0), Arbitraries.integers().between(1, 2_000)))
        .as(Submission::new)
        .list()
        .ofMinSize(6)
        .ofMaxSize(25);
  }

  @Provide
  Arbitrary<List<QuerySpec>> queries() {
    // Each filter is left out two times in three, so that a query combines a few of them and
    // still selects work orders often.
    Arbitrary<Integer> queue = sometimes(-1, Arbitraries.integers().between(0, QUEUES.size() - 1));
    Arbitrary<Set<WorkOrderState>> states =
        sometimes(Set.of(), Arbitraries.of(WorkOrderState.class).set().ofMinSize(1).ofMaxSize(4));
    Arbitrary<Set<Integer>> types =
        sometimes(
            Set.of(),
            Arbitraries.integers().between(0, TYPES.size() - 1).set().ofMinSize(1).ofMaxSize(2));
    Arbitrary<Map<Integer, Integer>> labels =
        sometimes(
            Map.of(),
            Arbitraries.maps(
                    Arbitraries.integers().between(0, LABEL_KEYS.size() - 1),
                    Arbitraries.integers().between(0, LABEL_VALUES.size() - 1))
                .ofMinSize(1)
                .ofMaxSize(2));
    Arbitrary<Integer> errorCode =
        sometimes(-1, Arbitraries.integers().between(0, ERROR_CODES.size() - 1));
    Arbitrary<Integer> resubmitted = sometimes(-1, Arbitraries.integers().between(0, 24));
    Arbitrary<Integer> bound = sometimes(-1, Arbitraries.integers().between(0, 23));
    Arbitrary<Integer> shift = Arbitraries.integers().between(-1, 1);
    Arbitrary<WorkOrderQuery.Order> order = Arbitraries.of(WorkOrderQuery.Order.class);
    Arbitrary<Integer> limit = Arbitraries.integers().between(1, 6);
    Arbitrary<Filters> filters =
        Combinators.combine(queue, states, types, labels, errorCode, resubmitted).as(Filters::new);
    Arbitrary<Bounds> bounds = Combinators.combine(bound, shift, bound, shift).as(Bounds::new);
    return Combinators.combine(filters, bounds, order, limit)
        .as(
            (f, t, o, l) ->
                new QuerySpec(
                    f.queue(),
                    f.states(),
                    f.types(),
                    f.labels(),
                    f.errorCode(),
                    f.resubmittedFrom(),
                    t.from(),
                    t.fromShift(),
                    t.before(),
                    t.beforeShift(),
                    o,
                    l))
        .list()
        .ofMinSize(1)
        .ofMaxSize(8);
  }

  /** {@code none} two times in three, else a value of {@code some}. */
  private static <T> Arbitrary<T> sometimes(T none, Arbitrary<T> some) {
    return Arbitraries.oneOf(Arbitraries.just(none), Arbitraries.just(none), some);
  }

  private record Filters(
      int queue,
      Set<WorkOrderState> states,
      Set<Integer> types,
      Map<Integer, Integer> labels,
      int errorCode,
      int resubmittedFrom) {}

  private record Bounds(int from, int fromShift, int before, int beforeShift) {}

  private static void delete(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
