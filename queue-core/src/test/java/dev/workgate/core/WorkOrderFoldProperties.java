package dev.workgate.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderState.TransitionTable;
import dev.workgate.spi.WorkOrder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;

/** Folding any sequence of events through {@link WorkOrder} agrees with the design's table. */
class WorkOrderFoldProperties {
  private static final WorkOrderId ID = WorkOrderId.of("wo-fold");
  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00.000000001Z");

  @Property(tries = 1000)
  void folding_succeeds_with_versions_1_to_n_or_fails_at_the_first_rejected_event(
      @ForAll("sequences") List<WorkOrderEvent> events) {
    List<RecordedEvent> recorded = record(events);
    int rejected = -1;
    WorkOrderState state = null;
    for (int i = 0; i < events.size(); i++) {
      Optional<WorkOrderState> next = DesignTable.next(state, events.get(i));
      if (next.isEmpty()) {
        rejected = i;
        break;
      }
      state = next.get();
    }
    Statistics.label("outcome").collect(rejected < 0 ? "folds" : "rejected");
    Statistics.label("length")
        .collect(events.size() < 5 ? "1-4" : events.size() < 10 ? "5-9" : "10+");

    if (rejected < 0) {
      WorkOrder folded = WorkOrder.fold(recorded);
      assertThat(folded.state()).isEqualTo(state);
      assertThat(folded.version()).isEqualTo(events.size());
      assertPrefixesFoldWithRisingVersions(recorded, events.size());
      assertConsistent(folded, recorded);
    } else {
      WorkOrderState before = state;
      WorkOrderEvent bad = events.get(rejected);
      assertThatThrownBy(() -> WorkOrder.fold(recorded))
          .isInstanceOfSatisfying(
              InvalidTransitionException.class,
              e -> {
                assertThat(e.workOrderId()).isEqualTo(ID);
                assertThat(e.state()).isEqualTo(before);
                assertThat(e.event()).isEqualTo(bad.type().typeName());
                assertThat(e.validEvents())
                    .isEqualTo(
                        before == null ? Set.of("Submitted") : TransitionTable.validEvents(before));
              });
      assertPrefixesFoldWithRisingVersions(recorded, rejected);
    }
  }

  private static void assertPrefixesFoldWithRisingVersions(List<RecordedEvent> recorded, int n) {
    if (n == 0) {
      return;
    }
    WorkOrder order = WorkOrder.start(recorded.get(0));
    assertThat(order.version()).isEqualTo(1);
    for (int i = 1; i < n; i++) {
      order = order.apply(recorded.get(i));
      assertThat(order.version()).isEqualTo(i + 1);
    }
    assertThat(WorkOrder.fold(recorded.subList(0, n))).isEqualTo(order);
  }

  /** What the fold must say about a valid stream, whatever its events. */
  private static void assertConsistent(WorkOrder w, List<RecordedEvent> recorded) {
    List<WorkOrderEvent> events = recorded.stream().map(RecordedEvent::event).toList();
    WorkOrderEvent last = events.get(events.size() - 1);
    long claims = events.stream().filter(e -> e instanceof WorkOrderEvent.Claimed).count();
    assertThat(w.attempt()).isEqualTo(claims);
    long releases = events.stream().filter(e -> e instanceof WorkOrderEvent.Released).count();
    assertThat(w.releases()).isEqualTo(releases);
    assertThat(w.chargedAttempts()).isEqualTo(claims - releases);
    if (last instanceof WorkOrderEvent.Released r) {
      assertThat(w.state()).isEqualTo(WorkOrderState.PENDING);
      assertThat(w.lastError()).contains(ErrorInfo.retryable(r.code(), r.reason()));
      assertThat(w.cancellationRequested()).isEmpty();
    }
    assertThat(w.id()).isEqualTo(ID);
    assertThat(w.spec()).isEqualTo(((WorkOrderEvent.Submitted) events.get(0)).spec());
    assertThat(w.submittedAt()).isEqualTo(recorded.get(0).recordedAt());
    assertThat(w.updatedAt()).isEqualTo(recorded.get(recorded.size() - 1).recordedAt());
    assertThat(w.leaseOwner().isPresent()).isEqualTo(w.state().isActive());
    assertThat(w.leaseExpiresAt().isPresent()).isEqualTo(w.state().isActive());
    assertThat(w.nextAttemptAt().isPresent()).isEqualTo(w.state() == WorkOrderState.WAITING_RETRY);
    if (w.state().isActive()) {
      WorkOrderEvent.Claimed claim = lastOf(events, WorkOrderEvent.Claimed.class);
      assertThat(w.leaseOwner()).contains(claim.owner());
      assertThat(w.leaseExpiresAt()).contains(claim.leaseExpiresAt());
    }
    if (w.state() == WorkOrderState.WAITING_RETRY) {
      assertThat(w.nextAttemptAt()).contains(((WorkOrderEvent.AttemptFailed) last).retryAt());
    }
    if (w.state() == WorkOrderState.COMPLETED) {
      assertThat(w.result())
          .isEqualTo(Optional.ofNullable(((WorkOrderEvent.Completed) last).result()));
    } else {
      assertThat(w.result()).isEmpty();
    }
    if (w.state() == WorkOrderState.CANCELLED && last instanceof WorkOrderEvent.Cancelled c) {
      assertThat(w.lastError()).contains(ErrorInfo.fatal(ErrorCodes.CANCELLED, c.reason()));
    }
    if (last instanceof WorkOrderEvent.DependencyFailed f) {
      assertThat(w.state()).isEqualTo(WorkOrderState.CANCELLED);
      assertThat(w.lastError()).contains(ErrorInfo.fatal(ErrorCodes.DEPENDENCY_FAILED, f.reason()));
      assertThat(f.reason()).contains(f.dependency().value());
    }
    WorkOrderEvent.Submitted first = (WorkOrderEvent.Submitted) events.get(0);
    assertThat(w.dependencies()).isEqualTo(first.dependencies());
    assertThat(w.batch()).isEqualTo(Optional.ofNullable(first.batch()));
    if (w.state() == WorkOrderState.BLOCKED) {
      assertThat(w.dependencies()).isNotEmpty();
    }
    WorkOrderEvent.Checkpointed checkpoint = lastOf(events, WorkOrderEvent.Checkpointed.class);
    assertThat(w.checkpoint())
        .isEqualTo(Optional.ofNullable(checkpoint).map(WorkOrderEvent.Checkpointed::state));
    assertThat(w.progress()).as("progress is never in the log").isEmpty();
    if (w.state() == WorkOrderState.FAILED || w.state() == WorkOrderState.WAITING_RETRY) {
      assertThat(w.lastError()).contains(((WorkOrderEvent.AttemptFailed) last).error());
    }
    // availableAt: notBefore (if later than submission) until the first RetryReleased, Released
    // or DependenciesMet, then the time of the latest of them (for DependenciesMet, notBefore if
    // later than that time).
    int lastRelease = -1;
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i) instanceof WorkOrderEvent.RetryReleased
          || events.get(i) instanceof WorkOrderEvent.Released
          || events.get(i) instanceof WorkOrderEvent.DependenciesMet) {
        lastRelease = i;
      }
    }
    if (lastRelease >= 0 && events.get(lastRelease) instanceof WorkOrderEvent.DependenciesMet) {
      Instant met = recorded.get(lastRelease).recordedAt();
      assertThat(w.availableAt())
          .isEqualTo(w.spec().notBefore().filter(nb -> nb.isAfter(met)).orElse(met));
    } else if (lastRelease >= 0) {
      assertThat(w.availableAt()).isEqualTo(recorded.get(lastRelease).recordedAt());
    } else {
      Instant submitted = recorded.get(0).recordedAt();
      Instant expected = w.spec().notBefore().filter(nb -> nb.isAfter(submitted)).orElse(submitted);
      assertThat(w.availableAt()).isEqualTo(expected);
    }
  }

  private static <T> T lastOf(List<WorkOrderEvent> events, Class<T> type) {
    T found = null;
    for (WorkOrderEvent e : events) {
      if (type.isInstance(e)) {
        found = type.cast(e);
      }
    }
    return found;
  }

  private static List<RecordedEvent> record(List<WorkOrderEvent> events) {
    List<RecordedEvent> recorded = new ArrayList<>();
    Instant at = T0;
    for (int i = 0; i < events.size(); i++) {
      recorded.add(new RecordedEvent(100 + 3L * i, ID, i + 1, at, events.get(i)));
      at = at.plus(Duration.ofMillis(1 + (i * 7919L) % 5000)).plusNanos(i);
    }
    return recorded;
  }

  /**
   * Event sequences of three kinds: any events at all (mostly rejected at once); walks that follow
   * the design's table; and such walks with one event of any type inserted somewhere.
   */
  @Provide
  Arbitrary<List<WorkOrderEvent>> sequences() {
    Arbitrary<List<WorkOrderEvent>> random =
        EventArbitraries.events().list().ofMinSize(1).ofMaxSize(8);
    Arbitrary<List<WorkOrderEvent>> walks = walks();
    Arbitrary<List<WorkOrderEvent>> walksWithRogue =
        Combinators.combine(walks, EventArbitraries.events(), Arbitraries.integers().between(0, 40))
            .as(
                (walk, rogue, at) -> {
                  List<WorkOrderEvent> list = new ArrayList<>(walk);
                  list.add(Math.min(at, list.size()), rogue);
                  return list;
                });
    return Arbitraries.frequencyOf(
        Tuple.of(1, random), Tuple.of(3, walks), Tuple.of(2, walksWithRogue));
  }

  /** Walks through the design's table: each step takes one of the events the state accepts. */
  private static Arbitrary<List<WorkOrderEvent>> walks() {
    List<Arbitrary<WorkOrderEvent>> perTrigger = new ArrayList<>();
    for (TransitionTable.Trigger trigger : TransitionTable.Trigger.values()) {
      if (trigger.eventType() != WorkOrderEvent.EventType.SUBMITTED) {
        perTrigger.add(lightEventsOf(trigger));
      }
    }
    Arbitrary<List<WorkOrderEvent>> choicesPerStep = Combinators.combine(perTrigger).as(l -> l);
    Arbitrary<List<Integer>> picks =
        Arbitraries.integers().between(0, 1000).list().ofMinSize(5).ofMaxSize(20);
    return Combinators.combine(
            EventArbitraries.submittedEvents(), choicesPerStep.list().ofSize(20), picks)
        .as(
            (submitted, steps, pick) -> {
              List<WorkOrderEvent> walk = new ArrayList<>();
              walk.add(submitted);
              WorkOrderState state = DesignTable.next(null, submitted).orElseThrow();
              for (int i = 0; i < pick.size(); i++) {
                WorkOrderState from = state;
                List<WorkOrderEvent> valid =
                    steps.get(i).stream()
                        .filter(e -> DesignTable.next(from, e).isPresent())
                        .toList();
                if (valid.isEmpty()) {
                  break; // terminal
                }
                // Three times in four, stay out of terminal states, so that walks get long.
                List<WorkOrderEvent> onward =
                    valid.stream()
                        .filter(e -> !DesignTable.next(from, e).orElseThrow().isTerminal())
                        .toList();
                int p = pick.get(i);
                WorkOrderEvent e =
                    p % 4 != 0 && !onward.isEmpty()
                        ? onward.get(p / 4 % onward.size())
                        : valid.get(p % valid.size());
                walk.add(e);
                state = DesignTable.next(from, e).orElseThrow();
              }
              return walk;
            });
  }

  /** Events of a trigger with a few field values: cheap to generate, enough to tell folds apart. */
  private static Arbitrary<WorkOrderEvent> lightEventsOf(TransitionTable.Trigger trigger) {
    Arbitrary<Instant> times =
        Arbitraries.longs()
            .between(-3_600_000, 3_600_000)
            .map(ms -> T0.plusMillis(ms).plusNanos(7));
    Arbitrary<String> words = Arbitraries.of("a", "b", "", "node-1", "node-2");
    Arbitrary<ErrorInfo> errors =
        Arbitraries.of(
            ErrorInfo.retryable(ErrorCodes.TIMEOUT, "slow"),
            ErrorInfo.retryable(ErrorCodes.LEASE_EXPIRED, ""),
            ErrorInfo.fatal(ErrorCodes.AGENT_FATAL_ERROR, "boom"));
    return switch (trigger) {
      case SUBMITTED, SUBMITTED_BLOCKED -> EventArbitraries.eventsOf(trigger);
      case DEPENDENCIES_MET -> Arbitraries.just(new WorkOrderEvent.DependenciesMet());
      case DEPENDENCY_FAILED ->
          Arbitraries.of(WorkOrderState.FAILED, WorkOrderState.CANCELLED)
              .injectNull(0.3)
              .map(s -> new WorkOrderEvent.DependencyFailed(WorkOrderId.of("wo-dep"), s));
      case CHECKPOINTED ->
          Combinators.combine(
                  Arbitraries.integers().between(1, 5), Arbitraries.of("1", "{\"at\":2}"))
              .as((attempt, json) -> new WorkOrderEvent.Checkpointed(attempt, parse(json)));
      case CLAIMED ->
          Combinators.combine(words.filter(w -> !w.isBlank()), times)
              .as(WorkOrderEvent.Claimed::new);
      case STARTED -> Arbitraries.of("sb-1", "sb-2").map(WorkOrderEvent.Started::new);
      case COMPLETED ->
          Arbitraries.of("null", "1", "{\"ok\":true}", "[1,\"x\"]")
              .map(json -> new WorkOrderEvent.Completed(parse(json)));
      case ATTEMPT_FAILED_WITH_RETRY ->
          Combinators.combine(errors, times, words).as(WorkOrderEvent.AttemptFailed::new);
      case ATTEMPT_FAILED_FINAL ->
          Combinators.combine(errors, words)
              .as((error, decision) -> new WorkOrderEvent.AttemptFailed(error, null, decision));
      case RETRY_RELEASED -> Arbitraries.just(new WorkOrderEvent.RetryReleased());
      case CANCELLATION_REQUESTED -> words.map(WorkOrderEvent.CancellationRequested::new);
      case CANCELLED -> words.map(WorkOrderEvent.Cancelled::new);
      case RELEASED ->
          Combinators.combine(
                  Arbitraries.of(ErrorCodes.NODE_SHUTDOWN, ErrorCodes.LEASE_EXPIRED), words)
              .as(WorkOrderEvent.Released::new);
    };
  }

  private static JsonNode parse(String json) {
    try {
      return new ObjectMapper().readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
