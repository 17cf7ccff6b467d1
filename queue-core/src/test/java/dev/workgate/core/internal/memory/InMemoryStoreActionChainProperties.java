package dev.workgate.core.internal.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.workgate.core.BatchId;
import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.DependencyFailure;
import dev.workgate.core.DesignTable;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.IdempotencyKeyConflictException;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.Progress;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderState.TransitionTable;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Dependencies;
import dev.workgate.core.store.EventQuery;
import dev.workgate.core.store.EventQuery.EventPage;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.StoreView.LogPage;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderQuery.Page;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.ViewSnapshot;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import dev.workgate.spi.WorkOrder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.state.Action;
import net.jqwik.api.state.ActionChain;
import net.jqwik.api.state.Transformer;
import net.jqwik.api.statistics.Statistics;

/**
 * Stateful test of the in-memory store: random chains of submit (sometimes into a batch), submit
 * after other work (BLOCKED), decide blocked work, claim, start, checkpoint, complete, fail,
 * release, cancel, expire, renew (sometimes with progress), pause and resume a queue, mark a batch
 * ended, purge, advance-time and deliberately invalid appends, with the store's invariants checked
 * after every step. Priorities include the int extremes, and claims are sometimes made with the
 * claimer's clock a few seconds off the store's (nodes' clocks differ).
 *
 * <p>The model holds the store, a settable clock, the ids submitted and what the test itself knows
 * (leases granted and renewed, progress reported, idempotency keys taken, terminal states seen,
 * queues paused and when, batch ends marked, the streams of purged work orders). Every action
 * checks its own outcome against an oracle written here from the SPI contract; the invariants check
 * what must hold whatever happened: each view is the fold of its stream (up to lease renewals and
 * progress), versions run 1..n and log positions rise, nothing leaves a terminal state, a terminal
 * work order has exactly one terminal event and it is the last, counts and queries (by batch too)
 * agree with the views, no work order is held by two leases, the lease, retry and availability
 * indexes agree with the views, a dependent leaves BLOCKED only as its dependencies allow, no claim
 * takes work from a paused queue, a checkpoint is the last Checkpointed event of its stream, and
 * the paused queues, queue actions and dependents are those the model expects.
 */
class InMemoryStoreActionChainProperties {

  static final List<String> QUEUES = List.of("q-a", "q-b");
  static final List<String> OWNERS = List.of("node-1", "node-2");
  static final List<String> KEYS = List.of("key-1", "key-2", "key-3");
  static final List<BatchId> BATCHES = List.of(BatchId.of("batch-1"), BatchId.of("batch-2"));
  static final Instant START = Instant.parse("2030-01-01T00:00:00.000000001Z");
  static final int ALL = 10_000;

  @Property(tries = 1000)
  void the_in_memory_store_keeps_its_invariants_after_every_step(
      @ForAll("chains") ActionChain<Model> chain) {
    chain
        .withInvariant("each view is the fold of its stream", Model::viewsAreFoldsOfStreams)
        .withInvariant("versions run 1..n, positions rise", Model::versionsAndPositions)
        .withInvariant("terminal states are final", Model::terminalStatesAreFinal)
        .withInvariant("counts and queries agree with views", Model::countsAndQueries)
        .withInvariant("one lease at a time", Model::oneLeaseAtATime)
        .withInvariant("indexes agree with views", Model::indexesAgreeWithViews)
        .withInvariant("audit queries agree with the log", Model::auditQueriesAgreeWithTheLog)
        .withInvariant(
            "a dependent leaves BLOCKED only as its dependencies allow",
            Model::dependentsLeaveBlockedOnlyAsAllowed)
        .withInvariant("no claim from a paused queue", Model::noClaimFromAPausedQueue)
        .withInvariant(
            "the checkpoint is the last Checkpointed event", Model::checkpointIsTheLastCheckpointed)
        .withInvariant(
            "paused queues, queue actions and dependents agree with the model",
            Model::queueActionsAndDependents)
        .run();

    // The chains must reach the interesting situations often enough for the invariants to mean
    // something: each of these happens in at least the given share of the chains.
    for (Map.Entry<String, Double> expected : COVERAGE.entrySet()) {
      String what = expected.getKey();
      Statistics.label(what).collect(chain.finalState().orElseThrow().happened.contains(what));
      Statistics.label(what).coverage(c -> c.check(true).percentage(p -> p >= expected.getValue()));
    }
  }

  /** Situations the chains must reach, and in what share of chains at least (in percent). */
  static final Map<String, Double> COVERAGE =
      Map.ofEntries(
          Map.entry("claimed", 90.0),
          Map.entry("claimed several at once", 50.0),
          Map.entry("claim left work it could not fit", 50.0),
          Map.entry("completed", 30.0),
          Map.entry("failed for good", 50.0),
          Map.entry("released a retry", 50.0),
          Map.entry("cancelled while active", 15.0),
          Map.entry("reaped an expired lease", 50.0),
          Map.entry("renewed a lease", 50.0),
          Map.entry("refused a taken idempotency key", 50.0),
          Map.entry("purged", 40.0),
          Map.entry("claimed again after a retry", 30.0),
          Map.entry("submitted blocked work", 80.0),
          Map.entry("decided a blocked work order", 40.0),
          Map.entry("cancelled by a failed dependency", 35.0),
          Map.entry("ran after a failed dependency", 5.0),
          Map.entry("claimed work whose dependencies were met", 4.0),
          Map.entry("cancelled while blocked", 15.0),
          Map.entry("checkpointed", 25.0),
          Map.entry("refused a checkpoint outside RUNNING", 30.0),
          Map.entry("checkpoint kept across a retry", 1.5),
          Map.entry("reported progress", 40.0),
          Map.entry("kept progress through a renewal without it", 8.0),
          Map.entry("refused a claim from a paused queue", 25.0),
          Map.entry("refused a pause or resume already in force", 65.0),
          Map.entry("submitted into a batch", 90.0),
          Map.entry("marked a batch ended", 65.0));

  /**
   * The state the design says an event leads to: {@link DesignTable}'s rows, with those of work
   * that waits for other work and of checkpoints written out here from the SPI contract (a
   * Submitted event with dependencies starts BLOCKED; BLOCKED leaves by DependenciesMet to PENDING,
   * by DependencyFailed or Cancelled to CANCELLED and by nothing else; Checkpointed is accepted
   * only while RUNNING and changes no state).
   */
  static Optional<WorkOrderState> designNext(WorkOrderState from, WorkOrderEvent event) {
    if (from == null) {
      return event instanceof WorkOrderEvent.Submitted s
          ? Optional.of(
              s.dependencies().isEmpty() ? WorkOrderState.PENDING : WorkOrderState.BLOCKED)
          : Optional.empty();
    }
    if (from == WorkOrderState.BLOCKED) {
      if (event instanceof WorkOrderEvent.DependenciesMet) {
        return Optional.of(WorkOrderState.PENDING);
      }
      return event instanceof WorkOrderEvent.DependencyFailed
              || event instanceof WorkOrderEvent.Cancelled
          ? Optional.of(WorkOrderState.CANCELLED)
          : Optional.empty();
    }
    if (event instanceof WorkOrderEvent.Checkpointed) {
      return from == WorkOrderState.RUNNING ? Optional.of(from) : Optional.empty();
    }
    if (event instanceof WorkOrderEvent.DependenciesMet
        || event instanceof WorkOrderEvent.DependencyFailed) {
      return Optional.empty();
    }
    return DesignTable.next(from, event);
  }

  @Provide
  Arbitrary<ActionChain<Model>> chains() {
    return ActionChain.startWith(Model::new)
        .withAction(6, new Submit())
        .withAction(6, new Claim())
        .withAction(3, new Append("start", s -> s == WorkOrderState.PREPARING, Model::started))
        .withAction(3, new Append("complete", s -> s == WorkOrderState.RUNNING, Model::completed))
        .withAction(
            2,
            new Append(
                "fail retryable",
                WorkOrderState::isActive,
                Model::retryable,
                v -> v.checkpoint().isPresent()))
        .withAction(1, new Append("fail fatal", WorkOrderState::isActive, Model::fatal))
        .withAction(
            1, new Append("request cancellation", WorkOrderState::isActive, Model::requested))
        .withAction(
            1,
            new Append("cancel", s -> !s.isTerminal(), Model::cancelled, v -> v.state().isActive()))
        .withAction(3, new ReleaseRetry())
        .withAction(2, new ExpireLease())
        .withAction(3, new RenewLease())
        .withAction(2, new AdvanceTime())
        .withAction(3, new InvalidAppend())
        .withAction(1, new Purge())
        .withAction(2, new SubmitBlocked())
        .withAction(2, new Decide())
        .withAction(4, new Checkpoint())
        .withAction(2, new PauseOrResume())
        .withAction(1, new MarkBatchEnded())
        .withMaxTransformations(65);
  }

  // ---------------------------------------------------------------------------------------------
  // The model

  /** A lease as the test granted and renewed it. */
  record Lease(String owner, int attempt, Instant expiresAt) {}

  /**
   * Every observable field of a view: those of {@link ViewSnapshot} and what waiting for other
   * work, batches, checkpoints and progress added.
   */
  record FullView(
      ViewSnapshot fields,
      List<WorkOrderId> dependencies,
      Optional<BatchId> batch,
      Optional<JsonNode> checkpoint,
      Optional<Progress> progress) {

    static FullView of(WorkOrderView v) {
      return new FullView(
          ViewSnapshot.of(v), v.dependencies(), v.batch(), v.checkpoint(), v.progress());
    }

    FullView withProgress(Optional<Progress> p) {
      return new FullView(fields, dependencies, batch, checkpoint, p);
    }
  }

  /** When a queue was paused: the log's head then, and at its resume (MAX_VALUE while paused). */
  record PauseWindow(String queue, long pausedAfter, long resumedAfter) {}

  /** All a store shows, to prove that a rejected call changed nothing. */
  record Snapshot(
      List<RecordedEvent> log,
      QueueCounts counts,
      Map<WorkOrderId, FullView> views,
      Map<WorkOrderId, List<RecordedEvent>> streams,
      Map<String, Optional<WorkOrderId>> keys,
      Optional<Instant> nextRetryAt,
      List<QueueAction> pausedQueues,
      List<QueueAction> queueActions,
      Map<WorkOrderId, List<WorkOrderId>> dependents,
      List<WorkOrderView> resolvableBlocked) {}

  static final class Model {
    final ActionChainClock clock = new ActionChainClock(START);
    final WorkOrderStore store = Stores.inMemory(clock);
    final List<WorkOrderId> ids = new ArrayList<>();
    final Map<WorkOrderId, Lease> leases = new HashMap<>();
    final Map<String, WorkOrderId> keys = new HashMap<>();
    final Map<WorkOrderId, WorkOrderView> terminalSeen = new HashMap<>();

    /** The progress each work order's view must show: set by renewals, cleared by claims. */
    final Map<WorkOrderId, Progress> progress = new HashMap<>();

    /** The queues paused now, by name, with the pause in force. */
    final TreeMap<String, QueueAction> paused = new TreeMap<>();

    /** Every pause and resume recorded, oldest first. */
    final List<QueueAction> queueActions = new ArrayList<>();

    final List<PauseWindow> pauseWindows = new ArrayList<>();

    /** The batch ends marked: "batch members". */
    final Set<String> batchEnds = new HashSet<>();

    /** The streams of purged work orders, and the log's head when they went. */
    final Map<WorkOrderId, List<RecordedEvent>> purgedStreams = new HashMap<>();

    final Map<WorkOrderId, Long> purgedAfter = new HashMap<>();
    long lastPosition;
    int submissions;
    int batchKeys;
    final Set<String> happened = new HashSet<>();

    WorkOrderView view(WorkOrderId id) {
      return store.find(id).orElseThrow(() -> new AssertionError("no view for " + id));
    }

    List<WorkOrderView> views() {
      return ids.stream().map(this::view).toList();
    }

    List<WorkOrderId> idsWhere(Predicate<WorkOrderState> state) {
      return ids.stream().filter(id -> state.test(view(id).state())).toList();
    }

    /**
     * One of the candidates, those whose view matches {@code preferred} picked as often as all of
     * them together: to reach situations that need one work order to go through several steps.
     */
    Arbitrary<WorkOrderId> preferring(
        List<WorkOrderId> candidates, Predicate<WorkOrderView> preferred) {
      List<WorkOrderId> matching =
          candidates.stream().filter(id -> preferred.test(view(id))).toList();
      return matching.isEmpty()
          ? Arbitraries.of(candidates)
          : Arbitraries.frequencyOf(
              Tuple.of(1, Arbitraries.of(candidates)), Tuple.of(1, Arbitraries.of(matching)));
    }

    int submissionOrder(WorkOrderId id) {
      return ids.indexOf(id);
    }

    Snapshot snapshot() {
      Map<WorkOrderId, FullView> views = new LinkedHashMap<>();
      Map<WorkOrderId, List<RecordedEvent>> streams = new LinkedHashMap<>();
      Map<WorkOrderId, List<WorkOrderId>> dependents = new LinkedHashMap<>();
      for (WorkOrderId id : ids) {
        views.put(id, FullView.of(view(id)));
        streams.put(id, store.readStream(id));
        dependents.put(id, store.dependents(id));
      }
      for (WorkOrderId id : purgedStreams.keySet()) {
        dependents.put(id, store.dependents(id));
      }
      Map<String, Optional<WorkOrderId>> keyHolders = new TreeMap<>();
      for (String key : KEYS) {
        keyHolders.put(key, store.findByIdempotencyKey(key));
      }
      return new Snapshot(
          store.readLog(0, ALL).events(),
          store.counts(),
          views,
          streams,
          keyHolders,
          store.nextRetryAt(),
          store.pausedQueues(),
          store.queueActions(null, ALL),
          dependents,
          store.resolvableBlocked(ALL));
    }

    /** Checks that a call fails as expected and changes nothing. */
    void assertRejectedWithoutChange(Runnable call, Class<? extends Throwable> type) {
      Snapshot before = snapshot();
      assertThatThrownBy(call::run).isInstanceOf(type);
      assertThat(snapshot()).isEqualTo(before);
    }

    /** Appends one event the table accepts and checks what the store recorded. */
    void appendAccepted(WorkOrderId id, WorkOrderEvent event, boolean anyVersion) {
      WorkOrderView before = view(id);
      WorkOrderState expectedState = designNext(before.state(), event).orElseThrow();
      Instant now = clock.instant();
      ExpectedVersion expected =
          anyVersion ? ExpectedVersion.any() : ExpectedVersion.exactly(before.version());

      List<RecordedEvent> recorded = store.append(id, expected, List.of(event));

      assertThat(recorded).hasSize(1);
      RecordedEvent r = recorded.get(0);
      assertThat(r.workOrderId()).isEqualTo(id);
      assertThat(r.version()).isEqualTo(before.version() + 1);
      assertThat(r.position()).isGreaterThan(lastPosition);
      assertThat(r.recordedAt()).isEqualTo(now);
      assertThat(r.event()).isEqualTo(event);
      lastPosition = r.position();
      WorkOrderView after = view(id);
      assertThat(after.state()).isEqualTo(expectedState);
      assertThat(after.version()).isEqualTo(before.version() + 1);
      assertThat(after.updatedAt()).isEqualTo(now);
      if (before.state().isActive() && !expectedState.isActive()) {
        leases.remove(id);
      }
      if (expectedState == WorkOrderState.COMPLETED) {
        happened.add("completed");
      } else if (expectedState == WorkOrderState.FAILED) {
        happened.add("failed for good");
      } else if (expectedState == WorkOrderState.CANCELLED && before.state().isActive()) {
        happened.add("cancelled while active");
      } else if (event instanceof WorkOrderEvent.Cancelled
          && before.state() == WorkOrderState.BLOCKED) {
        happened.add("cancelled while blocked");
      } else if (event instanceof WorkOrderEvent.RetryReleased) {
        happened.add("released a retry");
      }
      if (event instanceof WorkOrderEvent.RetryReleased) {
        assertThat(after.availableAt()).isEqualTo(now);
      }
    }

    // Events of the simple actions, made from a random number.

    WorkOrderEvent started(int n) {
      return new WorkOrderEvent.Started("sandbox-" + n);
    }

    WorkOrderEvent completed(int n) {
      return new WorkOrderEvent.Completed(
          n % 3 == 0 ? null : JsonNodeFactory.instance.objectNode().put("n", n));
    }

    WorkOrderEvent retryable(int n) {
      Instant retryAt = clock.instant().plusMillis(n % 120_000 - 10_000);
      return WorkOrderEvent.AttemptFailed.retryAt(
          ErrorInfo.retryable(n % 2 == 0 ? ErrorCodes.TIMEOUT : ErrorCodes.NETWORK_ERROR, "#" + n),
          retryAt,
          "retry " + n);
    }

    WorkOrderEvent fatal(int n) {
      return WorkOrderEvent.AttemptFailed.finalFailure(
          ErrorInfo.fatal(ErrorCodes.AGENT_FATAL_ERROR, "#" + n), "fatal " + n);
    }

    WorkOrderEvent requested(int n) {
      return new WorkOrderEvent.CancellationRequested("please stop " + n);
    }

    WorkOrderEvent cancelled(int n) {
      return new WorkOrderEvent.Cancelled(n % 2 == 0 ? "" : "cancelled " + n);
    }

    // ---------------------------------------------------------------------------------------------
    // Invariants

    void viewsAreFoldsOfStreams() {
      for (WorkOrderId id : ids) {
        List<RecordedEvent> stream = store.readStream(id);
        WorkOrder folded = WorkOrder.fold(stream);
        WorkOrderView view = view(id);
        WorkOrder expected = folded;
        Lease lease = leases.get(id);
        if (folded.leaseOwner().isPresent()) {
          Instant foldedExpiry = folded.leaseExpiresAt().orElseThrow();
          Instant viewExpiry = view.leaseExpiresAt().orElseThrow();
          assertThat(viewExpiry).as("lease of %s", id).isAfterOrEqualTo(foldedExpiry);
          expected = folded.withLeaseExpiresAt(viewExpiry);
          assertThat(lease).as("lease the test granted to %s", id).isNotNull();
          assertThat(new Lease(view.leaseOwner().orElseThrow(), view.attempt(), viewExpiry))
              .isEqualTo(lease);
        } else {
          assertThat(lease).as("lease of %s after it ended", id).isNull();
        }
        // Progress is not in the log: the view shows what the model saw reported since the claim.
        assertThat(FullView.of(view))
            .as("view of %s", id)
            .isEqualTo(FullView.of(expected).withProgress(Optional.ofNullable(progress.get(id))));
      }
      assertThat(store.find(WorkOrderId.of("never-submitted"))).isEmpty();
      assertThat(store.readStream(WorkOrderId.of("never-submitted"))).isEmpty();
    }

    void versionsAndPositions() {
      List<RecordedEvent> log = new ArrayList<>();
      long after = 0;
      while (true) {
        LogPage page = store.readLog(after, 7);
        if (page.events().isEmpty()) {
          assertThat(page.lastPosition()).isEqualTo(after);
          break;
        }
        assertThat(page.events()).hasSizeLessThanOrEqualTo(7);
        assertThat(page.lastPosition())
            .isEqualTo(page.events().get(page.events().size() - 1).position());
        log.addAll(page.events());
        after = page.lastPosition();
      }
      assertThat(log).isEqualTo(store.readLog(0, ALL).events());
      long previous = 0;
      Map<WorkOrderId, List<RecordedEvent>> byId = new LinkedHashMap<>();
      for (RecordedEvent e : log) {
        assertThat(e.position()).isGreaterThan(previous);
        previous = e.position();
        List<RecordedEvent> events = byId.computeIfAbsent(e.workOrderId(), k -> new ArrayList<>());
        assertThat(e.version()).as("version of %s", e).isEqualTo(events.size() + 1L);
        events.add(e);
      }
      assertThat(previous).isLessThanOrEqualTo(lastPosition); // purges may remove the newest
      assertThat(byId.keySet()).containsExactlyInAnyOrderElementsOf(ids);
      for (WorkOrderId id : ids) {
        List<RecordedEvent> stream = store.readStream(id);
        assertThat(stream).isEqualTo(byId.get(id));
        assertThat(view(id).version()).isEqualTo(stream.size());
        assertThat(view(id).submittedAt()).isEqualTo(stream.get(0).recordedAt());
      }
    }

    void terminalStatesAreFinal() {
      for (WorkOrderId id : ids) {
        WorkOrderView view = view(id);
        WorkOrderView seen = terminalSeen.get(id);
        if (seen != null) {
          assertThat(FullView.of(view)).as("terminal %s", id).isEqualTo(FullView.of(seen));
        } else if (view.state().isTerminal()) {
          terminalSeen.put(id, view);
        }
        List<RecordedEvent> stream = store.readStream(id);
        List<Integer> terminalEvents = new ArrayList<>();
        for (int i = 0; i < stream.size(); i++) {
          if (isTerminalEvent(stream.get(i).event())) {
            terminalEvents.add(i);
          }
        }
        if (view.state().isTerminal()) {
          assertThat(terminalEvents)
              .as("terminal events of %s", id)
              .containsExactly(stream.size() - 1);
        } else {
          assertThat(terminalEvents).as("terminal events of %s", id).isEmpty();
        }
      }
    }

    /**
     * Whether an event ends a work order: Completed, a final AttemptFailed, Cancelled (from any
     * state, BLOCKED included) and DependencyFailed.
     */
    static boolean isTerminalEvent(WorkOrderEvent e) {
      return e instanceof WorkOrderEvent.Completed
          || e instanceof WorkOrderEvent.Cancelled
          || e instanceof WorkOrderEvent.DependencyFailed
          || (e instanceof WorkOrderEvent.AttemptFailed f && f.retryAt() == null);
    }

    void countsAndQueries() {
      List<WorkOrderView> views = views();
      QueueCounts.Builder expected = QueueCounts.builder();
      for (WorkOrderView v : views) {
        expected.add(v.queue(), v.state(), 1);
      }
      assertThat(store.counts()).isEqualTo(expected.build());

      assertThat(queryAll(WorkOrderQuery.builder().limit(3))).containsExactlyElementsOf(ids);
      for (String queue : QUEUES) {
        for (WorkOrderState state : WorkOrderState.values()) {
          List<WorkOrderId> matching =
              views.stream()
                  .filter(v -> v.queue().equals(queue) && v.state() == state)
                  .map(WorkOrderView::id)
                  .toList();
          assertThat(queryAll(WorkOrderQuery.builder().queue(queue).states(state).limit(2)))
              .as("query %s %s", queue, state)
              .containsExactlyElementsOf(matching);
        }
      }
      for (String key : KEYS) {
        assertThat(store.findByIdempotencyKey(key)).isEqualTo(Optional.ofNullable(keys.get(key)));
      }
      for (BatchId batch : BATCHES) {
        List<WorkOrderView> members =
            views.stream().filter(v -> v.batch().equals(Optional.of(batch))).toList();
        Map<String, Long> byState = new TreeMap<>();
        for (WorkOrderState state : WorkOrderState.values()) {
          byState.put(state.name(), members.stream().filter(v -> v.state() == state).count());
        }
        assertThat(
                store.count(
                    WorkOrderQuery.builder().batch(batch).build(), WorkOrderQuery.CountBy.STATE))
            .as("count of %s by state", batch)
            .isEqualTo(byState);
        assertThat(queryAll(WorkOrderQuery.builder().batch(batch).limit(2)))
            .as("query of %s", batch)
            .containsExactlyElementsOf(ids(members));
      }
    }

    private List<WorkOrderId> queryAll(WorkOrderQuery.Builder query) {
      List<WorkOrderId> found = new ArrayList<>();
      long cursor = 0;
      while (true) {
        Page<WorkOrderView> page = store.query(query.after(cursor).build());
        page.items().forEach(v -> found.add(v.id()));
        if (!page.hasNext()) {
          return found;
        }
        assertThat(page.items()).isNotEmpty();
        cursor = page.nextCursor().getAsLong();
      }
    }

    void oneLeaseAtATime() {
      for (WorkOrderId id : ids) {
        boolean held = false;
        int claims = 0;
        for (RecordedEvent r : store.readStream(id)) {
          WorkOrderEvent e = r.event();
          if (e instanceof WorkOrderEvent.Claimed) {
            assertThat(held).as("%s claimed while held, at version %s", id, r.version()).isFalse();
            held = true;
            claims++;
          } else if (e instanceof WorkOrderEvent.AttemptFailed
              || e instanceof WorkOrderEvent.Completed
              || e instanceof WorkOrderEvent.Cancelled) {
            held = false;
          }
        }
        WorkOrderView view = view(id);
        assertThat(view.state().isActive()).isEqualTo(held);
        assertThat(view.leaseOwner().isPresent()).isEqualTo(held);
        assertThat(view.leaseExpiresAt().isPresent()).isEqualTo(held);
        assertThat(view.attempt()).isEqualTo(claims);
        assertThat(leases.containsKey(id)).isEqualTo(held);
      }
    }

    /**
     * Every audit query returns the log's events in (recorded time, position) order, whatever the
     * appends, claims and purges before: the store's per-type lists stay sorted and complete.
     */
    void auditQueriesAgreeWithTheLog() {
      List<RecordedEvent> oldest = new ArrayList<>(store.readLog(0, ALL).events());
      oldest.sort(
          Comparator.comparing(RecordedEvent::recordedAt)
              .thenComparingLong(RecordedEvent::position));
      List<RecordedEvent> newest = new ArrayList<>(oldest);
      Collections.reverse(newest);
      assertThat(auditPages(EventQuery.builder().oldestFirst(), 3)).isEqualTo(oldest);
      assertThat(auditPages(EventQuery.builder(), 4)).isEqualTo(newest);
      for (EventType type : EventType.values()) {
        assertThat(auditPages(EventQuery.builder().types(type), EventQuery.MAX_LIMIT))
            .as("events of type %s", type)
            .isEqualTo(newest.stream().filter(e -> e.event().type() == type).toList());
      }
      for (WorkOrderId id : ids) {
        assertThat(auditPages(EventQuery.builder().workOrder(id).oldestFirst(), 2))
            .as("events of %s", id)
            .isEqualTo(oldest.stream().filter(e -> e.workOrderId().equals(id)).toList());
      }
    }

    private List<RecordedEvent> auditPages(EventQuery.Builder query, int limit) {
      List<RecordedEvent> all = new ArrayList<>();
      query.limit(limit);
      while (true) {
        EventPage page = store.queryEvents(query.build());
        all.addAll(page.events());
        if (page.nextCursor().isEmpty()) {
          return all;
        }
        assertThat(page.events()).hasSize(limit);
        query.after(page.nextCursor().get());
      }
    }

    /**
     * Judged from the log (and the streams of purged work orders as they were): each dependency was
     * submitted before its dependent; every DependenciesMet came when each dependency had COMPLETED
     * (policy CANCEL) or had ended or was gone (policy RUN); every DependencyFailed, only under
     * policy CANCEL, names a dependency that was FAILED or CANCELLED then, or gone, with that
     * state.
     */
    void dependentsLeaveBlockedOnlyAsAllowed() {
      for (WorkOrderId id : ids) {
        WorkOrderView view = view(id);
        if (view.dependencies().isEmpty()) {
          continue;
        }
        List<RecordedEvent> stream = store.readStream(id);
        for (WorkOrderId dep : view.dependencies()) {
          assertThat(streamOf(dep).get(0).position())
              .as("%s submitted before its dependent %s", dep, id)
              .isLessThan(stream.get(0).position());
        }
        boolean cancel = view.spec().onDependencyFailure() == DependencyFailure.CANCEL;
        for (RecordedEvent r : stream) {
          if (r.event() instanceof WorkOrderEvent.DependenciesMet) {
            for (WorkOrderId dep : view.dependencies()) {
              Optional<WorkOrderState> then = stateBefore(dep, r.position());
              assertThat(
                      cancel
                          ? then.equals(Optional.of(WorkOrderState.COMPLETED))
                          : then.map(WorkOrderState::isTerminal).orElse(true))
                  .as(
                      "%s (%s) met its dependencies at %s, when %s was %s",
                      id, view.spec().onDependencyFailure(), r.position(), dep, then)
                  .isTrue();
            }
          } else if (r.event() instanceof WorkOrderEvent.DependencyFailed f) {
            Optional<WorkOrderState> then = stateBefore(f.dependency(), r.position());
            assertThat(cancel).as("policy of %s, cancelled by %s", id, f).isTrue();
            assertThat(view.dependencies()).as("dependencies of %s", id).contains(f.dependency());
            assertThat(then)
                .as("%s, at %s", f, r.position())
                .isEqualTo(Optional.ofNullable(f.dependencyState()));
            assertThat(
                    then.map(s -> s == WorkOrderState.FAILED || s == WorkOrderState.CANCELLED)
                        .orElse(true))
                .as("%s, at %s", f, r.position())
                .isTrue();
          }
        }
      }
    }

    /** A work order's stream: from the store, or as it was when purged. */
    List<RecordedEvent> streamOf(WorkOrderId id) {
      List<RecordedEvent> stream = purgedStreams.getOrDefault(id, store.readStream(id));
      assertThat(stream).as("stream of %s", id).isNotEmpty();
      return stream;
    }

    /** A work order's state just before a log position; empty if it had been purged by then. */
    Optional<WorkOrderState> stateBefore(WorkOrderId id, long position) {
      Long purgedAt = purgedAfter.get(id);
      if (purgedAt != null && purgedAt < position) {
        return Optional.empty();
      }
      List<RecordedEvent> before =
          streamOf(id).stream().filter(e -> e.position() < position).toList();
      return Optional.of(WorkOrder.fold(before).state());
    }

    /**
     * No Claimed event of a queue lies between the log's head when the queue was paused and its
     * head when it was resumed (or the end of the log while it is still paused).
     */
    void noClaimFromAPausedQueue() {
      if (pauseWindows.isEmpty()) {
        return;
      }
      for (RecordedEvent r : store.readLog(0, ALL).events()) {
        if (r.event() instanceof WorkOrderEvent.Claimed) {
          String queue = view(r.workOrderId()).queue();
          for (PauseWindow w : pauseWindows) {
            assertThat(
                    w.queue().equals(queue)
                        && r.position() > w.pausedAfter()
                        && r.position() <= w.resumedAfter())
                .as("%s claimed from %s, paused by %s", r, queue, w)
                .isFalse();
          }
        }
      }
    }

    void checkpointIsTheLastCheckpointed() {
      for (WorkOrderId id : ids) {
        Optional<JsonNode> last = Optional.empty();
        for (RecordedEvent r : store.readStream(id)) {
          if (r.event() instanceof WorkOrderEvent.Checkpointed c) {
            last = Optional.of(c.state());
          }
        }
        assertThat(view(id).checkpoint()).as("checkpoint of %s", id).isEqualTo(last);
      }
    }

    void queueActionsAndDependents() {
      assertThat(store.pausedQueues()).isEqualTo(List.copyOf(paused.values()));
      List<QueueAction> newest = new ArrayList<>(queueActions);
      Collections.reverse(newest);
      assertThat(store.queueActions(null, ALL)).isEqualTo(newest);
      for (String queue : QUEUES) {
        List<QueueAction> ofQueue = newest.stream().filter(a -> a.queue().equals(queue)).toList();
        assertThat(store.queueActions(queue, ALL)).as("actions on %s", queue).isEqualTo(ofQueue);
        assertThat(store.queueActions(queue, 1))
            .as("newest action on %s", queue)
            .isEqualTo(ofQueue.stream().limit(1).toList());
      }
      List<WorkOrderId> named = new ArrayList<>(ids);
      named.addAll(purgedStreams.keySet());
      for (WorkOrderId id : named) {
        assertThat(store.dependents(id))
            .as("dependents of %s", id)
            .isEqualTo(ids.stream().filter(d -> view(d).dependencies().contains(id)).toList());
      }
    }

    /**
     * What a blocked work order's dependencies decide now, by the contract: under policy CANCEL a
     * DependencyFailed for the first (in order) that is FAILED, CANCELLED or gone; else
     * DependenciesMet once all COMPLETED (CANCEL) or all ended or gone (RUN); else nothing yet.
     */
    Optional<WorkOrderEvent> expectedDecision(WorkOrderView blocked) {
      boolean cancel = blocked.spec().onDependencyFailure() == DependencyFailure.CANCEL;
      boolean live = false;
      for (WorkOrderId dep : blocked.dependencies()) {
        WorkOrderState state = ids.contains(dep) ? view(dep).state() : null;
        boolean failed =
            state == null || state == WorkOrderState.FAILED || state == WorkOrderState.CANCELLED;
        if (failed && cancel) {
          return Optional.of(new WorkOrderEvent.DependencyFailed(dep, state));
        }
        live |= state != null && !state.isTerminal();
      }
      return live ? Optional.empty() : Optional.of(new WorkOrderEvent.DependenciesMet());
    }

    /** The BLOCKED work orders that can be decided now, oldest first. */
    List<WorkOrderId> expectedResolvable() {
      return ids.stream()
          .filter(id -> view(id).state() == WorkOrderState.BLOCKED)
          .filter(id -> expectedDecision(view(id)).isPresent())
          .toList();
    }

    void indexesAgreeWithViews() {
      assertThat(ids(store.resolvableBlocked(ALL))).isEqualTo(expectedResolvable());
      Instant now = clock.instant();
      for (Duration skew :
          List.of(
              Duration.ZERO, Duration.ofSeconds(-5), Duration.ofSeconds(5), Duration.ofHours(1))) {
        Instant at = now.plus(skew);
        assertThat(ids(store.expiredLeases(at, ALL))).isEqualTo(expectedExpiredLeases(at));
        assertThat(ids(store.dueRetries(at, ALL))).isEqualTo(expectedDueRetries(at));
        for (String queue : QUEUES) {
          assertThat(store.nextAvailableAt(queue, at))
              .as("nextAvailableAt(%s, %s)", queue, at)
              .isEqualTo(
                  views().stream()
                      .filter(v -> v.queue().equals(queue) && v.state() == WorkOrderState.PENDING)
                      .map(WorkOrderView::availableAt)
                      .filter(t -> t.isAfter(at))
                      .min(Comparator.naturalOrder()));
        }
      }
      assertThat(store.nextRetryAt())
          .isEqualTo(
              views().stream()
                  .filter(v -> v.state() == WorkOrderState.WAITING_RETRY)
                  .map(v -> v.nextAttemptAt().orElseThrow())
                  .min(Comparator.naturalOrder()));
    }

    List<WorkOrderId> expectedExpiredLeases(Instant now) {
      return views().stream()
          .filter(v -> v.state().isActive() && !v.leaseExpiresAt().orElseThrow().isAfter(now))
          .sorted(
              Comparator.comparing((WorkOrderView v) -> v.leaseExpiresAt().orElseThrow())
                  .thenComparingInt(v -> submissionOrder(v.id())))
          .map(WorkOrderView::id)
          .toList();
    }

    List<WorkOrderId> expectedDueRetries(Instant now) {
      return views().stream()
          .filter(
              v ->
                  v.state() == WorkOrderState.WAITING_RETRY
                      && !v.nextAttemptAt().orElseThrow().isAfter(now))
          .sorted(
              Comparator.comparing((WorkOrderView v) -> v.nextAttemptAt().orElseThrow())
                  .thenComparingInt(v -> submissionOrder(v.id())))
          .map(WorkOrderView::id)
          .toList();
    }

    static List<WorkOrderId> ids(List<WorkOrderView> views) {
      return views.stream().map(WorkOrderView::id).toList();
    }

    @Override
    public String toString() {
      return "Model[now="
          + clock.instant()
          + ", "
          + ids.stream()
              .map(id -> store.find(id).map(v -> id + ":" + v.state() + "@v" + v.version()))
              .flatMap(Optional::stream)
              .collect(Collectors.joining(", "))
          + "]";
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Actions

  /** Submits a work order; a repeated idempotency key must be refused without change. */
  static final class Submit implements Action.Independent<Model> {
    @Override
    public Arbitrary<Transformer<Model>> transformer() {
      Arbitrary<Integer> priorities =
          Arbitraries.frequencyOf(
              Tuple.of(8, Arbitraries.integers().between(-2, 2)),
              Tuple.of(1, Arbitraries.of(Integer.MIN_VALUE, Integer.MAX_VALUE)));
      Arbitrary<ResourceRequest> resources =
          Combinators.combine(
                  Arbitraries.integers().between(1, 3), Arbitraries.of(0L, 512L, 2048L, 4096L))
              .as(ResourceRequest::of)
              .injectNull(0.3);
      Arbitrary<Long> notBeforeMillis =
          Arbitraries.longs().between(-30_000, 120_000).injectNull(0.6);
      Arbitrary<String> keys = Arbitraries.of(KEYS).injectNull(0.6);
      return Combinators.combine(
              Arbitraries.of(QUEUES),
              priorities,
              resources,
              notBeforeMillis,
              keys,
              Arbitraries.of(BATCHES).injectNull(0.6))
          .as(
              (queue, priority, request, notBefore, key, batch) ->
                  Transformer.mutate(
                      "submit to "
                          + queue
                          + " priority "
                          + priority
                          + (request == null ? "" : " " + request)
                          + (notBefore == null ? "" : " notBefore now+" + notBefore + "ms")
                          + (key == null ? "" : " key " + key)
                          + (batch == null ? "" : " in " + batch),
                      m -> submit(m, queue, priority, request, notBefore, key, batch)));
    }

    private static void submit(
        Model m,
        String queue,
        int priority,
        ResourceRequest request,
        Long notBefore,
        String key,
        BatchId batch) {
      Instant now = m.clock.instant();
      WorkOrderId id = WorkOrderId.of("wo-" + ++m.submissions);
      WorkOrderSpec.Builder b =
          WorkOrderSpec.builder("job").queue(queue).priority(priority).idempotencyKey(key);
      if (request != null) {
        b.resources(request);
      }
      if (notBefore != null) {
        b.notBefore(now.plusMillis(notBefore));
      }
      WorkOrderEvent.Submitted submitted =
          new WorkOrderEvent.Submitted(b.build(), null, batch, List.of());
      WorkOrderId holder = key == null ? null : m.keys.get(key);
      if (holder != null) {
        Snapshot before = m.snapshot();
        assertThatThrownBy(() -> m.store.append(id, ExpectedVersion.none(), List.of(submitted)))
            .isInstanceOfSatisfying(
                IdempotencyKeyConflictException.class,
                e -> {
                  assertThat(e.idempotencyKey()).isEqualTo(key);
                  assertThat(e.existingWorkOrderId()).isEqualTo(holder);
                });
        assertThat(m.snapshot()).isEqualTo(before);
        assertThat(m.store.find(id)).isEmpty();
        m.happened.add("refused a taken idempotency key");
        return;
      }
      WorkOrderView view = appendSubmitted(m, id, submitted);
      if (key != null) {
        m.keys.put(key, id);
      }
      assertThat(view.state()).isEqualTo(WorkOrderState.PENDING);
      assertThat(view.dependencies()).isEmpty();
    }

    /** Appends a Submitted event to a new stream and checks what the store recorded. */
    static WorkOrderView appendSubmitted(
        Model m, WorkOrderId id, WorkOrderEvent.Submitted submitted) {
      Instant now = m.clock.instant();
      List<RecordedEvent> recorded = m.store.append(id, ExpectedVersion.none(), List.of(submitted));
      assertThat(recorded).hasSize(1);
      RecordedEvent r = recorded.get(0);
      assertThat(r.version()).isEqualTo(1);
      assertThat(r.position()).isGreaterThan(m.lastPosition);
      assertThat(r.recordedAt()).isEqualTo(now);
      assertThat(r.event()).isEqualTo(submitted);
      m.lastPosition = r.position();
      m.ids.add(id);
      WorkOrderView view = m.view(id);
      assertThat(view.attempt()).isZero();
      assertThat(view.batch()).isEqualTo(Optional.ofNullable(submitted.batch()));
      assertThat(view.checkpoint()).isEmpty();
      assertThat(view.progress()).isEmpty();
      Instant notBeforeAt = submitted.spec().notBefore().orElse(now);
      assertThat(view.availableAt()).isEqualTo(notBeforeAt.isAfter(now) ? notBeforeAt : now);
      if (submitted.batch() != null) {
        m.happened.add("submitted into a batch");
      }
      return view;
    }
  }

  /**
   * Submits a work order that waits for one to three others of the model (under policy CANCEL or
   * RUN, sometimes into a batch): it is BLOCKED, and each of them lists it among its dependents.
   */
  static final class SubmitBlocked implements Action.Dependent<Model> {
    @Override
    public boolean precondition(Model m) {
      return !m.ids.isEmpty();
    }

    @Override
    public Arbitrary<Transformer<Model>> transformer(Model state) {
      List<WorkOrderId> candidates = List.copyOf(state.ids);
      return Combinators.combine(
              Arbitraries.of(candidates)
                  .list()
                  .uniqueElements()
                  .ofMinSize(1)
                  .ofMaxSize(Math.min(3, candidates.size())),
              Arbitraries.of(QUEUES),
              Arbitraries.integers().between(-2, 2),
              Arbitraries.longs().between(-30_000, 120_000).injectNull(0.6),
              Arbitraries.frequencyOf(
                  Tuple.of(3, Arbitraries.just(DependencyFailure.CANCEL)),
                  Tuple.of(1, Arbitraries.just(DependencyFailure.RUN))),
              Arbitraries.of(BATCHES).injectNull(0.7))
          .as(
              (deps, queue, priority, notBefore, policy, batch) ->
                  Transformer.mutate(
                      "submit to "
                          + queue
                          + " priority "
                          + priority
                          + " after "
                          + deps
                          + (policy == DependencyFailure.RUN ? " (run on failure)" : "")
                          + (notBefore == null ? "" : " notBefore now+" + notBefore + "ms")
                          + (batch == null ? "" : " in " + batch),
                      m -> submit(m, deps, queue, priority, notBefore, policy, batch)));
    }

    private static void submit(
        Model m,
        List<WorkOrderId> deps,
        String queue,
        int priority,
        Long notBefore,
        DependencyFailure policy,
        BatchId batch) {
      if (!m.ids.containsAll(deps)) {
        return; // shrinking replayed this step without one of the work orders it waits for
      }
      WorkOrderId id = WorkOrderId.of("wo-" + ++m.submissions);
      WorkOrderSpec.Builder b =
          WorkOrderSpec.builder("job")
              .queue(queue)
              .priority(priority)
              .after(deps.toArray(WorkOrderId[]::new))
              .onDependencyFailure(policy);
      if (notBefore != null) {
        b.notBefore(m.clock.instant().plusMillis(notBefore));
      }
      WorkOrderSpec spec = b.build();
      // Nothing in the chain is resubmitted, so the spec's dependencies resolve to themselves.
      assertThat(Model.ids(Dependencies.resolve(m.store, spec))).isEqualTo(deps);
      Map<WorkOrderId, List<WorkOrderId>> dependents = new LinkedHashMap<>();
      for (WorkOrderId dep : deps) {
        dependents.put(dep, m.store.dependents(dep));
      }

      WorkOrderView view =
          Submit.appendSubmitted(m, id, new WorkOrderEvent.Submitted(spec, null, batch, deps));

      assertThat(view.state()).isEqualTo(WorkOrderState.BLOCKED);
      assertThat(view.dependencies()).isEqualTo(deps);
      assertThat(view.spec().onDependencyFailure()).isEqualTo(policy);
      for (WorkOrderId dep : deps) {
        List<WorkOrderId> expected = new ArrayList<>(dependents.get(dep));
        expected.add(id);
        assertThat(m.store.dependents(dep)).as("dependents of %s", dep).isEqualTo(expected);
      }
      m.happened.add("submitted blocked work");
    }
  }

  /**
   * Decides blocked work as the scheduler does: reads {@code resolvableBlocked} (checked against
   * the model's own computation, with several limits), asks {@link Dependencies#decide} for one of
   * them (checked against the model's decision), appends it under the version read and checks the
   * outcome; a second decider holding the same version then loses without changing anything.
   */
  static final class Decide implements Action.Dependent<Model> {
    @Override
    public boolean precondition(Model m) {
      return !m.idsWhere(s -> s == WorkOrderState.BLOCKED).isEmpty();
    }

    @Override
    public Arbitrary<Transformer<Model>> transformer(Model state) {
      return Combinators.combine(
              Arbitraries.integers().between(1, 4), Arbitraries.integers().between(0, 100))
          .as(
              (limit, pick) ->
                  Transformer.mutate(
                      "decide blocked work (limit " + limit + ", pick " + pick + ")",
                      m -> decide(m, limit, pick)));
    }

    private static void decide(Model m, int limit, int pick) {
      List<WorkOrderId> expected = m.expectedResolvable();
      List<WorkOrderView> resolvable = m.store.resolvableBlocked(ALL);
      assertThat(Model.ids(resolvable)).as("resolvable blocked work").isEqualTo(expected);
      assertThat(Model.ids(m.store.resolvableBlocked(limit)))
          .as("resolvable blocked work, limit %s", limit)
          .isEqualTo(expected.subList(0, Math.min(limit, expected.size())));
      for (WorkOrderId id : m.idsWhere(s -> s == WorkOrderState.BLOCKED)) {
        WorkOrderView v = m.view(id);
        assertThat(Dependencies.decide(m.store, v))
            .as("decision for %s", id)
            .isEqualTo(m.expectedDecision(v));
      }
      if (resolvable.isEmpty()) {
        return;
      }
      WorkOrderView read = resolvable.get(pick % resolvable.size());
      assertThat(FullView.of(read)).isEqualTo(FullView.of(m.view(read.id())));
      WorkOrderEvent decision = Dependencies.decide(m.store, read).orElseThrow();
      Instant now = m.clock.instant();

      // The view read is the current one, so this appends under the version read.
      m.appendAccepted(read.id(), decision, false);

      WorkOrderView after = m.view(read.id());
      m.happened.add("decided a blocked work order");
      if (decision instanceof WorkOrderEvent.DependencyFailed f) {
        assertThat(after.state()).isEqualTo(WorkOrderState.CANCELLED);
        ErrorInfo error = after.lastError().orElseThrow();
        assertThat(error.code()).isEqualTo(ErrorCodes.DEPENDENCY_FAILED);
        assertThat(error.retryable()).isFalse();
        assertThat(error.message()).contains(f.dependency().value());
        assertThat(read.dependencies()).contains(f.dependency());
        Optional<WorkOrderState> dependency =
            m.ids.contains(f.dependency())
                ? Optional.of(m.view(f.dependency()).state())
                : Optional.empty();
        assertThat(Optional.ofNullable(f.dependencyState())).isEqualTo(dependency);
        assertThat(dependency).isNotEqualTo(Optional.of(WorkOrderState.COMPLETED));
        m.happened.add("cancelled by a failed dependency");
      } else {
        assertThat(decision).isEqualTo(new WorkOrderEvent.DependenciesMet());
        assertThat(after.state()).isEqualTo(WorkOrderState.PENDING);
        Instant notBefore = read.spec().notBefore().orElse(now);
        assertThat(after.availableAt()).isEqualTo(notBefore.isAfter(now) ? notBefore : now);
        if (read.dependencies().stream()
            .anyMatch(d -> !m.ids.contains(d) || m.view(d).state() != WorkOrderState.COMPLETED)) {
          m.happened.add("ran after a failed dependency");
        }
      }
      // Another node read the same version and decided too: its append loses.
      m.assertRejectedWithoutChange(
          () ->
              m.store.append(read.id(), ExpectedVersion.exactly(read.version()), List.of(decision)),
          ConcurrencyException.class);
    }
  }

  /**
   * Appends a checkpoint for the running attempt of a running work order. (In any other state the
   * same append is refused and changes nothing: see {@link Invalid#CHECKPOINT_OUTSIDE_RUNNING}.)
   */
  static final class Checkpoint implements Action.Dependent<Model> {
    @Override
    public boolean precondition(Model m) {
      return !m.idsWhere(s -> s == WorkOrderState.RUNNING).isEmpty();
    }

    @Override
    public Arbitrary<Transformer<Model>> transformer(Model state) {
      return Combinators.combine(
              Arbitraries.of(state.idsWhere(s -> s == WorkOrderState.RUNNING)),
              Arbitraries.integers().between(0, 1_000_000))
          .as(
              (id, n) ->
                  Transformer.mutate("checkpoint " + id + " #" + n, m -> checkpoint(m, id, n)));
    }

    static void checkpoint(Model m, WorkOrderId id, int n) {
      if (!m.ids.contains(id)) {
        return; // shrinking replayed this step after the work order was purged
      }
      WorkOrderView before = m.view(id);
      JsonNode state =
          n % 4 == 0
              ? TextNode.valueOf("step " + n)
              : JsonNodeFactory.instance.objectNode().put("step", n % 10).put("note", "#" + n);
      WorkOrderEvent.Checkpointed event =
          new WorkOrderEvent.Checkpointed(Math.max(1, before.attempt()), state);
      if (before.state() == WorkOrderState.RUNNING) {
        m.appendAccepted(id, event, n % 5 == 0);
        assertThat(m.view(id).checkpoint()).contains(event.state());
        m.happened.add("checkpointed");
      } else {
        m.assertRejectedWithoutChange(
            () -> m.store.append(id, ExpectedVersion.exactly(before.version()), List.of(event)),
            InvalidTransitionException.class);
        m.happened.add("refused a checkpoint outside RUNNING");
      }
    }
  }

  /**
   * Pauses or resumes a queue: true and recorded when that changes its state, false and nothing
   * written when it is already so. A paused queue is mostly resumed soon, so that pauses are short
   * and claims go on around them.
   */
  static final class PauseOrResume implements Action.Dependent<Model> {
    @Override
    public Arbitrary<Transformer<Model>> transformer(Model state) {
      Arbitrary<Tuple.Tuple2<String, QueueAction.Kind>> what =
          state.paused.isEmpty()
              ? Arbitraries.frequencyOf(
                  Tuple.of(1, Arbitraries.of(QUEUES).map(q -> Tuple.of(q, QueueAction.Kind.PAUSE))),
                  Tuple.of(
                      2, Arbitraries.of(QUEUES).map(q -> Tuple.of(q, QueueAction.Kind.RESUME))))
              : Arbitraries.frequencyOf(
                  Tuple.of(
                      6,
                      Arbitraries.of(List.copyOf(state.paused.keySet()))
                          .map(q -> Tuple.of(q, QueueAction.Kind.RESUME))),
                  Tuple.of(
                      1, Arbitraries.of(QUEUES).map(q -> Tuple.of(q, QueueAction.Kind.PAUSE))));
      return Combinators.combine(
              what,
              Arbitraries.of("operator", OWNERS.get(0)),
              Arbitraries.integers().between(0, 1000))
          .as(
              (queueAndKind, actor, n) ->
                  Transformer.mutate(
                      queueAndKind.get2() + " " + queueAndKind.get1() + " by " + actor,
                      m -> act(m, queueAndKind.get1(), queueAndKind.get2(), actor, n)));
    }

    private static void act(Model m, String queue, QueueAction.Kind kind, String actor, int n) {
      QueueAction action =
          new QueueAction(queue, kind, m.clock.instant(), actor, n % 3 == 0 ? "" : "reason " + n);
      Snapshot before = m.snapshot();
      if (m.paused.containsKey(queue) == (kind == QueueAction.Kind.PAUSE)) {
        assertThat(m.store.recordQueueAction(action)).as("%s again", kind).isFalse();
        assertThat(m.snapshot()).isEqualTo(before);
        m.happened.add("refused a pause or resume already in force");
        return;
      }
      assertThat(m.store.recordQueueAction(action)).as(kind.toString()).isTrue();
      m.queueActions.add(action);
      if (kind == QueueAction.Kind.PAUSE) {
        m.paused.put(queue, action);
        m.pauseWindows.add(new PauseWindow(queue, m.lastPosition, Long.MAX_VALUE));
      } else {
        m.paused.remove(queue);
        for (int i = 0; i < m.pauseWindows.size(); i++) {
          PauseWindow w = m.pauseWindows.get(i);
          if (w.queue().equals(queue) && w.resumedAfter() == Long.MAX_VALUE) {
            m.pauseWindows.set(i, new PauseWindow(queue, w.pausedAfter(), m.lastPosition));
          }
        }
      }
      assertThat(m.store.pausedQueues()).isEqualTo(List.copyOf(m.paused.values()));
      assertThat(m.store.queueActions(queue, 1)).containsExactly(action);
      // A pause or resume writes no event and changes no work order.
      Snapshot after = m.snapshot();
      assertThat(after.log()).isEqualTo(before.log());
      assertThat(after.views()).isEqualTo(before.views());
    }
  }

  /** Marks a batch ended with a count: true the first time for that count, false ever after. */
  static final class MarkBatchEnded implements Action.Independent<Model> {
    @Override
    public Arbitrary<Transformer<Model>> transformer() {
      return Combinators.combine(Arbitraries.of(BATCHES), Arbitraries.integers().between(0, 1))
          .as(
              (batch, extra) ->
                  Transformer.mutate(
                      "mark " + batch + " ended (members + " + extra + ")",
                      m -> mark(m, batch, extra)));
    }

    private static void mark(Model m, BatchId batch, int extra) {
      long members =
          m.views().stream().filter(v -> v.batch().equals(Optional.of(batch))).count() + extra;
      boolean first = m.batchEnds.add(batch.value() + " " + members);
      Instant now = m.clock.instant();
      Snapshot before = m.snapshot();
      assertThat(m.store.markBatchEnded(batch, members, now))
          .as("first end of %s with %s", batch, members)
          .isEqualTo(first);
      assertThat(m.store.markBatchEnded(batch, members, now))
          .as("end of %s with %s again", batch, members)
          .isFalse();
      assertThat(m.snapshot()).isEqualTo(before);
      if (first) {
        m.happened.add("marked a batch ended");
      }
    }
  }

  /**
   * Claims from a queue, sometimes with the claimer's clock a little ahead of or behind the
   * store's, and checks exactly which work orders the contract says must be taken, in which order.
   */
  static final class Claim implements Action.Independent<Model> {
    @Override
    public Arbitrary<Transformer<Model>> transformer() {
      Arbitrary<Capacity> capacities =
          Arbitraries.frequencyOf(
              Tuple.of(1, Arbitraries.just(Capacity.unlimited())),
              Tuple.of(
                  3,
                  Combinators.combine(
                          Arbitraries.integers().between(0, 5),
                          Arbitraries.of(0L, 1024L, 4096L, 8192L, Long.MAX_VALUE))
                      .as(Capacity::of)));
      Arbitrary<Long> skewMillis =
          Arbitraries.frequencyOf(
              Tuple.of(3, Arbitraries.just(0L)),
              Tuple.of(1, Arbitraries.longs().between(-5_000, 5_000)));
      return Combinators.combine(
              Arbitraries.of(QUEUES),
              Arbitraries.of(OWNERS),
              Arbitraries.integers().between(1, 4),
              capacities,
              Arbitraries.longs().between(0, 5_000),
              skewMillis,
              Arbitraries.integers().between(1, 60))
          .as(
              (queue, owner, limit, capacity, advance, skew, leaseSeconds) ->
                  Transformer.mutate(
                      String.format(
                          "claim %s by %s limit %d %s after %dms (claimer clock %+dms) lease %ds",
                          queue, owner, limit, capacity, advance, skew, leaseSeconds),
                      m ->
                          claim(
                              m,
                              queue,
                              owner,
                              limit,
                              capacity,
                              Duration.ofMillis(advance),
                              Duration.ofMillis(skew),
                              Duration.ofSeconds(leaseSeconds))));
    }

    private static void claim(
        Model m,
        String queue,
        String owner,
        int limit,
        Capacity capacity,
        Duration advance,
        Duration skew,
        Duration lease) {
      m.clock.advance(advance);
      Instant now = m.clock.instant().plus(skew);
      Map<WorkOrderId, WorkOrderView> before =
          m.views().stream().collect(Collectors.toMap(WorkOrderView::id, Function.identity()));
      List<WorkOrderId> expected = expectedClaim(m, queue, now, limit, capacity);

      List<WorkOrderView> claimed =
          m.store.claim(new ClaimRequest(queue, owner, limit, capacity, now, lease));

      assertThat(Model.ids(claimed)).as("claimed at %s", now).isEqualTo(expected);
      if (!claimed.isEmpty()) {
        m.happened.add("claimed");
      }
      if (claimed.size() > 1) {
        m.happened.add("claimed several at once");
      }
      boolean workLeft = m.views().stream().anyMatch(v -> available(v, queue, now));
      if (m.paused.containsKey(queue)) {
        if (workLeft) {
          m.happened.add("refused a claim from a paused queue");
        }
      } else if (claimed.size() < limit && workLeft) {
        m.happened.add("claim left work it could not fit");
      }
      if (claimed.stream().anyMatch(v -> v.attempt() > 1)) {
        m.happened.add("claimed again after a retry");
      }
      for (WorkOrderView v : claimed) {
        WorkOrderView was = before.get(v.id());
        assertThat(was.state()).isEqualTo(WorkOrderState.PENDING);
        assertThat(v.state()).isEqualTo(WorkOrderState.PREPARING);
        assertThat(v.leaseOwner()).contains(owner);
        assertThat(v.leaseExpiresAt()).contains(now.plus(lease));
        assertThat(v.attempt()).isEqualTo(was.attempt() + 1);
        assertThat(v.version()).isEqualTo(was.version() + 1);
        assertThat(v.progress()).as("progress of %s after a claim", v.id()).isEmpty();
        assertThat(v.checkpoint())
            .as("checkpoint of %s after a claim", v.id())
            .isEqualTo(was.checkpoint());
        assertThat(FullView.of(m.view(v.id()))).isEqualTo(FullView.of(v));
        m.progress.remove(v.id());
        if (v.attempt() > 1 && v.checkpoint().isPresent()) {
          m.happened.add("checkpoint kept across a retry");
        }
        if (!v.dependencies().isEmpty()) {
          m.happened.add("claimed work whose dependencies were met");
        }
        List<RecordedEvent> stream = m.store.readStream(v.id());
        RecordedEvent last = stream.get(stream.size() - 1);
        assertThat(last.event()).isEqualTo(new WorkOrderEvent.Claimed(owner, now.plus(lease)));
        assertThat(last.position()).isGreaterThan(m.lastPosition);
        assertThat(last.recordedAt()).isEqualTo(m.clock.instant());
        m.lastPosition = last.position();
        assertThat(m.leases).doesNotContainKey(v.id());
        m.leases.put(v.id(), new Lease(owner, v.attempt(), now.plus(lease)));
      }
      for (WorkOrderView v : m.views()) {
        if (!expected.contains(v.id())) {
          assertThat(FullView.of(v)).isEqualTo(FullView.of(before.get(v.id())));
        }
      }
    }

    private static boolean available(WorkOrderView v, String queue, Instant now) {
      return v.queue().equals(queue)
          && v.state() == WorkOrderState.PENDING
          && !v.availableAt().isAfter(now);
    }

    /**
     * The contract: nothing from a paused queue; else PENDING (never BLOCKED) work orders of the
     * queue available at or before {@code now}, higher priority first, then submission order; each
     * taken if it fits what is left, until the limit.
     */
    private static List<WorkOrderId> expectedClaim(
        Model m, String queue, Instant now, int limit, Capacity capacity) {
      if (m.paused.containsKey(queue)) {
        return List.of();
      }
      List<WorkOrderView> candidates =
          m.views().stream()
              .filter(v -> available(v, queue, now))
              .sorted(
                  Comparator.comparingInt(WorkOrderView::priority)
                      .reversed()
                      .thenComparingInt(v -> m.submissionOrder(v.id())))
              .toList();
      List<WorkOrderId> taken = new ArrayList<>();
      Capacity left = capacity;
      for (WorkOrderView v : candidates) {
        if (taken.size() == limit) {
          break;
        }
        if (left.fits(v.resources())) {
          taken.add(v.id());
          left = left.minus(v.resources());
        }
      }
      return taken;
    }
  }

  /** Appends an event that the state of a chosen work order accepts. */
  static final class Append implements Action.Dependent<Model> {
    private final String name;
    private final Predicate<WorkOrderState> inState;
    private final BiFunction<Model, Integer, WorkOrderEvent> event;
    private final Predicate<WorkOrderView> preferred;

    Append(
        String name,
        Predicate<WorkOrderState> inState,
        BiFunction<Model, Integer, WorkOrderEvent> event) {
      this(name, inState, event, v -> false);
    }

    /** An append that picks work orders matching {@code preferred} more often than others. */
    Append(
        String name,
        Predicate<WorkOrderState> inState,
        BiFunction<Model, Integer, WorkOrderEvent> event,
        Predicate<WorkOrderView> preferred) {
      this.name = name;
      this.inState = inState;
      this.event = event;
      this.preferred = preferred;
    }

    @Override
    public boolean precondition(Model m) {
      return !m.idsWhere(inState).isEmpty();
    }

    @Override
    public Arbitrary<Transformer<Model>> transformer(Model state) {
      return Combinators.combine(
              state.preferring(state.idsWhere(inState), preferred),
              Arbitraries.integers().between(0, 1_000_000),
              Arbitraries.of(false, false, false, true))
          .as(
              (id, n, any) ->
                  Transformer.mutate(
                      name + " " + id + (any ? " (any version)" : ""),
                      m -> {
                        // Shrinking may replay this step where the work order has moved on.
                        if (m.ids.contains(id) && inState.test(m.view(id).state())) {
                          m.appendAccepted(id, event.apply(m, n), any);
                        }
                      }));
    }
  }

  /**
   * Advances time (sometimes, when nothing is due then, on to the earliest retry time), reads the
   * due retries and releases one of them.
   */
  static final class ReleaseRetry implements Action.Dependent<Model> {
    @Override
    public boolean precondition(Model m) {
      return !m.idsWhere(s -> s == WorkOrderState.WAITING_RETRY).isEmpty();
    }

    @Override
    public Arbitrary<Transformer<Model>> transformer(Model state) {
      return Combinators.combine(
              Arbitraries.longs().between(0, 60_000), Arbitraries.integers().between(0, 100))
          .as(
              (advance, pick) ->
                  Transformer.mutate(
                      "release a due retry after " + advance + "ms",
                      m -> {
                        m.clock.advance(Duration.ofMillis(advance));
                        Optional<Instant> next = m.store.nextRetryAt();
                        if (pick % 2 == 0
                            && next.isPresent()
                            && next.get().isAfter(m.clock.instant())) {
                          m.clock.set(next.get());
                        }
                        Instant now = m.clock.instant();
                        List<WorkOrderView> due = m.store.dueRetries(now, ALL);
                        assertThat(Model.ids(due)).isEqualTo(m.expectedDueRetries(now));
                        if (!due.isEmpty()) {
                          assertThat(Model.ids(m.store.dueRetries(now, 1)))
                              .containsExactly(due.get(0).id());
                          // Every other release takes one that holds a checkpoint, if one is due.
                          List<WorkOrderView> checkpointed =
                              due.stream().filter(v -> v.checkpoint().isPresent()).toList();
                          List<WorkOrderView> from =
                              pick % 3 == 0 && !checkpointed.isEmpty() ? checkpointed : due;
                          WorkOrderView target = from.get(pick / 3 % from.size());
                          assertThat(FullView.of(target))
                              .isEqualTo(FullView.of(m.view(target.id())));
                          m.appendAccepted(target.id(), new WorkOrderEvent.RetryReleased(), false);
                        }
                      }));
    }
  }

  /**
   * Lets a lease run out, reaps it as the scheduler does (AttemptFailed LEASE_EXPIRED under the
   * version read from expiredLeases), then lets the late owner try to write: it must lose.
   */
  static final class ExpireLease implements Action.Dependent<Model> {
    @Override
    public boolean precondition(Model m) {
      return !m.idsWhere(WorkOrderState::isActive).isEmpty();
    }

    @Override
    public Arbitrary<Transformer<Model>> transformer(Model state) {
      return Combinators.combine(
              state.preferring(
                  state.idsWhere(WorkOrderState::isActive), v -> v.checkpoint().isPresent()),
              Arbitraries.longs().between(0, 2_000),
              Arbitraries.longs().between(0, 60_000).injectNull(0.4))
          .as(
              (id, past, retryIn) ->
                  Transformer.mutate(
                      "expire the lease of "
                          + id
                          + " ("
                          + past
                          + "ms past it, "
                          + (retryIn == null ? "final" : "retry in " + retryIn + "ms")
                          + ")",
                      m -> expire(m, id, past, retryIn)));
    }

    private static void expire(Model m, WorkOrderId id, long pastMillis, Long retryIn) {
      if (!m.ids.contains(id) || !m.view(id).state().isActive()) {
        return; // shrinking replayed this step where the work order has moved on
      }
      Instant expiry = m.view(id).leaseExpiresAt().orElseThrow();
      Instant target = expiry.plusMillis(pastMillis);
      if (m.clock.instant().isBefore(target)) {
        m.clock.set(target);
      }
      Instant now = m.clock.instant();
      List<WorkOrderView> expired = m.store.expiredLeases(now, ALL);
      assertThat(Model.ids(expired)).isEqualTo(m.expectedExpiredLeases(now));
      WorkOrderView read =
          expired.stream().filter(v -> v.id().equals(id)).findFirst().orElseThrow();
      Lease lease = m.leases.get(id);
      WorkOrderEvent.AttemptFailed reaped =
          new WorkOrderEvent.AttemptFailed(
              ErrorInfo.retryable(
                  ErrorCodes.LEASE_EXPIRED, "lease of " + lease.owner() + " ran out"),
              retryIn == null ? null : now.plusMillis(retryIn),
              "reaped");
      m.appendAccepted(id, reaped, false);
      m.happened.add("reaped an expired lease");

      // The late owner wakes up: its append under the version it knew loses, its renewal fails.
      m.assertRejectedWithoutChange(
          () ->
              m.store.append(
                  id,
                  ExpectedVersion.exactly(read.version()),
                  List.of(new WorkOrderEvent.Completed(null))),
          ConcurrencyException.class);
      Snapshot before = m.snapshot();
      assertThat(m.store.renewLease(id, lease.owner(), lease.attempt(), now.plusSeconds(60)))
          .isFalse();
      assertThat(m.snapshot()).isEqualTo(before);
    }
  }

  /** Renews a lease as its holder; renewals by anyone else, or for another attempt, fail. */
  static final class RenewLease implements Action.Dependent<Model> {
    @Override
    public boolean precondition(Model m) {
      return !m.idsWhere(WorkOrderState::isActive).isEmpty();
    }

    @Override
    public Arbitrary<Transformer<Model>> transformer(Model state) {
      return Combinators.combine(
              state.preferring(
                  state.idsWhere(WorkOrderState::isActive), v -> v.progress().isPresent()),
              Arbitraries.longs().between(1, 120_000),
              Arbitraries.integers().between(0, 100).injectNull(0.5))
          .as(
              (id, extendMillis, percent) ->
                  Transformer.mutate(
                      "renew the lease of "
                          + id
                          + " by "
                          + extendMillis
                          + "ms"
                          + (percent == null ? "" : " with progress " + percent + "%"),
                      m -> renew(m, id, Duration.ofMillis(extendMillis), percent)));
    }

    private static void renew(Model m, WorkOrderId id, Duration extend, Integer percent) {
      if (!m.ids.contains(id)) {
        return; // shrinking replayed this step after the work order was purged
      }
      WorkOrderView before = m.view(id);
      if (!before.state().isActive()) {
        return; // shrinking replayed this step where the work order has moved on
      }
      Lease lease = m.leases.get(id);
      Instant expiresAt =
          (m.clock.instant().isAfter(lease.expiresAt()) ? m.clock.instant() : lease.expiresAt())
              .plus(extend);
      String other = OWNERS.get(0).equals(lease.owner()) ? OWNERS.get(1) : OWNERS.get(0);
      Progress progress =
          percent == null
              ? null
              : new Progress(percent / 100.0, "step " + percent, m.clock.instant());

      Snapshot untouched = m.snapshot();
      assertThat(m.store.renewLease(id, other, lease.attempt(), expiresAt, progress)).isFalse();
      assertThat(m.store.renewLease(id, lease.owner(), lease.attempt() + 1, expiresAt, progress))
          .isFalse();
      assertThat(m.store.renewLease(id, lease.owner(), lease.attempt() - 1, expiresAt)).isFalse();
      assertThat(m.snapshot()).isEqualTo(untouched);

      assertThat(m.store.renewLease(id, lease.owner(), lease.attempt(), expiresAt, progress))
          .isTrue();
      m.leases.put(id, new Lease(lease.owner(), lease.attempt(), expiresAt));
      m.happened.add("renewed a lease");
      if (progress != null) {
        m.progress.put(id, progress);
        m.happened.add("reported progress");
      } else if (m.progress.containsKey(id)) {
        m.happened.add("kept progress through a renewal without it");
      }
      WorkOrderView after = m.view(id);
      assertThat(after.progress()).isEqualTo(Optional.ofNullable(m.progress.get(id)));
      assertThat(after.leaseExpiresAt()).contains(expiresAt);
      assertThat(after.version()).isEqualTo(before.version());
      assertThat(after.updatedAt()).isEqualTo(before.updatedAt());
      assertThat(m.store.readStream(id)).isEqualTo(untouched.streams().get(id));
      assertThat(m.store.readLog(0, ALL).events()).isEqualTo(untouched.log());
    }
  }

  /**
   * Deletes terminal work orders last updated before a cutoff, oldest first: whole streams, views
   * and idempotency keys go; everything else stays as it was.
   */
  static final class Purge implements Action.Independent<Model> {
    @Override
    public Arbitrary<Transformer<Model>> transformer() {
      return Combinators.combine(
              Arbitraries.longs().between(-600_000, 1), Arbitraries.integers().between(1, 3))
          .as(
              (offset, limit) ->
                  Transformer.mutate(
                      "purge terminal work orders updated before now"
                          + offset
                          + "ms, limit "
                          + limit,
                      m -> purge(m, m.clock.instant().plusMillis(offset), limit)));
    }

    private static void purge(Model m, Instant cutoff, int limit) {
      List<WorkOrderId> expected =
          m.views().stream()
              .filter(v -> v.state().isTerminal() && v.updatedAt().isBefore(cutoff))
              .sorted(
                  Comparator.comparing(WorkOrderView::updatedAt)
                      .thenComparingInt(v -> m.submissionOrder(v.id())))
              .limit(limit)
              .map(WorkOrderView::id)
              .toList();
      Snapshot before = m.snapshot();

      assertThat(m.store.deleteTerminalBefore(cutoff, limit)).isEqualTo(expected.size());
      if (!expected.isEmpty()) {
        m.happened.add("purged");
      }

      for (WorkOrderId id : expected) {
        assertThat(m.store.find(id)).isEmpty();
        assertThat(m.store.readStream(id)).isEmpty();
        m.ids.remove(id);
        m.terminalSeen.remove(id);
        m.keys.values().remove(id);
        m.progress.remove(id);
        m.purgedStreams.put(id, before.streams().get(id));
        m.purgedAfter.put(id, m.lastPosition);
      }
      assertThat(m.store.readLog(0, ALL).events())
          .isEqualTo(
              before.log().stream().filter(e -> !expected.contains(e.workOrderId())).toList());
      for (WorkOrderId id : m.ids) {
        assertThat(FullView.of(m.view(id))).isEqualTo(before.views().get(id));
        assertThat(m.store.readStream(id)).isEqualTo(before.streams().get(id));
      }
    }
  }

  /** Time passes. */
  static final class AdvanceTime implements Action.Independent<Model> {
    @Override
    public Arbitrary<Transformer<Model>> transformer() {
      return Combinators.combine(
              Arbitraries.longs().between(0, 600_000), Arbitraries.integers().between(0, 999_999))
          .as(
              (millis, nanos) ->
                  Transformer.mutate(
                      "advance " + millis + "ms " + nanos + "ns",
                      m -> m.clock.advance(Duration.ofMillis(millis).plusNanos(nanos))));
    }
  }

  /** Appends that must be refused, each of which must change nothing. */
  static final class InvalidAppend implements Action.Dependent<Model> {
    @Override
    public boolean precondition(Model m) {
      return !m.ids.isEmpty();
    }

    @Override
    public Arbitrary<Transformer<Model>> transformer(Model state) {
      return Combinators.combine(
              Arbitraries.of(List.copyOf(state.ids)),
              Arbitraries.of(List.copyOf(state.ids)),
              Arbitraries.of(Invalid.values()),
              Arbitraries.integers().between(0, 1000))
          .as(
              (id, other, kind, n) ->
                  Transformer.mutate(
                      "invalid append to " + id + ": " + kind + " #" + n,
                      m -> {
                        // Shrinking may replay this step after one of them was purged.
                        if (m.ids.contains(id) && m.ids.contains(other)) {
                          kind.attempt(m, id, other, n);
                        }
                      }));
    }
  }

  enum Invalid {
    /** A version that is not the stream's: ahead, behind, or "none" for an existing stream. */
    WRONG_EXPECTED_VERSION {
      @Override
      void attempt(Model m, WorkOrderId id, WorkOrderId other, int n) {
        WorkOrderView v = m.view(id);
        ExpectedVersion wrong =
            switch (n % 3) {
              case 0 -> ExpectedVersion.exactly(v.version() + 1 + n % 5);
              case 1 -> ExpectedVersion.exactly(v.version() - 1);
              default -> ExpectedVersion.none();
            };
        WorkOrderEvent event = acceptedOrAny(v.state(), n);
        Snapshot before = m.snapshot();
        if (v.state().isTerminal()) {
          assertThatThrownBy(() -> m.store.append(id, wrong, List.of(event)))
              .isInstanceOfAny(ConcurrencyException.class, InvalidTransitionException.class);
        } else {
          assertThatThrownBy(() -> m.store.append(id, wrong, List.of(event)))
              .isInstanceOfSatisfying(
                  ConcurrencyException.class,
                  e -> {
                    assertThat(e.workOrderId()).isEqualTo(id);
                    assertThat(e.actualVersion()).isEqualTo(v.version());
                  });
        }
        assertThat(m.snapshot()).isEqualTo(before);
      }
    },
    /** An event the table does not accept in the current state, under the right version. */
    REJECTED_EVENT {
      @Override
      void attempt(Model m, WorkOrderId id, WorkOrderId other, int n) {
        WorkOrderView v = m.view(id);
        List<WorkOrderEvent> rejected = rejectedIn(v.state());
        WorkOrderEvent event = rejected.get(n % rejected.size());
        Snapshot before = m.snapshot();
        assertThatThrownBy(
                () ->
                    m.store.append(
                        id,
                        n % 2 == 0 ? ExpectedVersion.exactly(v.version()) : ExpectedVersion.any(),
                        List.of(event)))
            .isInstanceOfSatisfying(
                InvalidTransitionException.class,
                e -> {
                  assertThat(e.workOrderId()).isEqualTo(id);
                  assertThat(e.state()).isEqualTo(v.state());
                  assertThat(e.event()).isEqualTo(event.type().typeName());
                  assertThat(e.validEvents()).isEqualTo(TransitionTable.validEvents(v.state()));
                });
        assertThat(m.snapshot()).isEqualTo(before);
      }
    },
    /** Two appends in one call, the first valid: the second fails, so the first is not written. */
    BATCH_WITH_ONE_BAD_REQUEST {
      @Override
      void attempt(Model m, WorkOrderId id, WorkOrderId other, int n) {
        WorkOrderView v = m.view(id);
        WorkOrderView o = m.view(other);
        List<AppendRequest> requests = new ArrayList<>();
        long version = v.version();
        if (!v.state().isTerminal()) {
          WorkOrderEvent ok = acceptedOrAny(v.state(), n);
          requests.add(AppendRequest.of(id, ExpectedVersion.exactly(version), ok));
          if (id.equals(other)) {
            // the second request must expect the version the first leaves
            requests.add(
                AppendRequest.of(
                    id, ExpectedVersion.exactly(version), acceptedOrAny(o.state(), n)));
            m.assertRejectedWithoutChange(
                () -> m.store.appendAll(requests), ConcurrencyException.class);
            return;
          }
        }
        List<WorkOrderEvent> rejected = rejectedIn(o.state());
        requests.add(
            AppendRequest.of(
                other, ExpectedVersion.exactly(o.version()), rejected.get(n % rejected.size())));
        m.assertRejectedWithoutChange(
            () -> m.store.appendAll(requests), InvalidTransitionException.class);
      }
    },
    /** A checkpoint for a work order that is not RUNNING (one that is checkpoints as it should). */
    CHECKPOINT_OUTSIDE_RUNNING {
      @Override
      void attempt(Model m, WorkOrderId id, WorkOrderId other, int n) {
        Checkpoint.checkpoint(m, id, n);
      }
    },
    /** A new work order whose Submitted event expects a stream that is not there. */
    NEW_STREAM_WITH_A_VERSION {
      @Override
      void attempt(Model m, WorkOrderId id, WorkOrderId other, int n) {
        WorkOrderId fresh = WorkOrderId.of("never-" + n);
        WorkOrderEvent submitted = DesignTable.sample(TransitionTable.Trigger.SUBMITTED);
        m.assertRejectedWithoutChange(
            () -> m.store.append(fresh, ExpectedVersion.exactly(1 + n % 3), List.of(submitted)),
            ConcurrencyException.class);
      }
    },
    /** A new stream that starts with something other than Submitted. */
    NEW_STREAM_WITHOUT_SUBMITTED {
      @Override
      void attempt(Model m, WorkOrderId id, WorkOrderId other, int n) {
        WorkOrderId fresh = WorkOrderId.of("never-" + n);
        List<WorkOrderEvent> rejected = rejectedIn(null);
        m.assertRejectedWithoutChange(
            () ->
                m.store.append(
                    fresh, ExpectedVersion.none(), List.of(rejected.get(n % rejected.size()))),
            InvalidTransitionException.class);
      }
    },
    /** Submitting an existing work order again. */
    SUBMITTED_AGAIN {
      @Override
      void attempt(Model m, WorkOrderId id, WorkOrderId other, int n) {
        WorkOrderView v = m.view(id);
        WorkOrderEvent submitted = WorkOrderEvent.Submitted.of(v.spec());
        m.assertRejectedWithoutChange(
            () -> m.store.append(id, ExpectedVersion.exactly(v.version()), List.of(submitted)),
            InvalidTransitionException.class);
      }
    },
    /** Two new work orders in one call with the same, so far unused, idempotency key. */
    ONE_KEY_TWICE_IN_A_BATCH {
      @Override
      void attempt(Model m, WorkOrderId id, WorkOrderId other, int n) {
        String key = "batch-key-" + ++m.batchKeys;
        WorkOrderEvent submitted =
            WorkOrderEvent.Submitted.of(WorkOrderSpec.builder("job").idempotencyKey(key).build());
        m.assertRejectedWithoutChange(
            () ->
                m.store.appendAll(
                    List.of(
                        AppendRequest.of(
                            WorkOrderId.of("never-a"), ExpectedVersion.none(), submitted),
                        AppendRequest.of(
                            WorkOrderId.of("never-b"), ExpectedVersion.none(), submitted))),
            IdempotencyKeyConflictException.class);
        assertThat(m.store.findByIdempotencyKey(key)).isEmpty();
      }
    },
    /** A key that an existing work order holds, in a batch after a valid append. */
    TAKEN_KEY_AFTER_A_VALID_APPEND {
      @Override
      void attempt(Model m, WorkOrderId id, WorkOrderId other, int n) {
        String key = KEYS.get(n % KEYS.size());
        WorkOrderView v = m.view(id);
        if (!m.keys.containsKey(key) || v.state().isTerminal()) {
          return;
        }
        WorkOrderEvent submitted =
            WorkOrderEvent.Submitted.of(WorkOrderSpec.builder("job").idempotencyKey(key).build());
        m.assertRejectedWithoutChange(
            () ->
                m.store.appendAll(
                    List.of(
                        AppendRequest.of(
                            id, ExpectedVersion.exactly(v.version()), acceptedOrAny(v.state(), n)),
                        AppendRequest.of(
                            WorkOrderId.of("never-c"), ExpectedVersion.none(), submitted))),
            IdempotencyKeyConflictException.class);
      }
    };

    abstract void attempt(Model m, WorkOrderId id, WorkOrderId other, int n);

    /** An event the design accepts in the state, or (in a terminal state) any event. */
    static WorkOrderEvent acceptedOrAny(WorkOrderState state, int n) {
      List<WorkOrderEvent> accepted = new ArrayList<>();
      for (TransitionTable.Trigger t : TransitionTable.Trigger.values()) {
        WorkOrderEvent e = DesignTable.sample(t);
        if (state.isTerminal() || designNext(state, e).isPresent()) {
          accepted.add(e);
        }
      }
      return accepted.get(n % accepted.size());
    }

    /** The events the design rejects in the state (null: a stream without events). */
    static List<WorkOrderEvent> rejectedIn(WorkOrderState state) {
      List<WorkOrderEvent> rejected = new ArrayList<>();
      for (TransitionTable.Trigger t : TransitionTable.Trigger.values()) {
        WorkOrderEvent e = DesignTable.sample(t);
        if (designNext(state, e).isEmpty()) {
          rejected.add(e);
        }
      }
      return rejected;
    }
  }

  /** A clock the test sets; time only moves forward. */
  static final class ActionChainClock extends Clock {
    private Instant now;

    ActionChainClock(Instant start) {
      this.now = start;
    }

    void advance(Duration d) {
      assertThat(d.isNegative()).isFalse();
      now = now.plus(d);
    }

    void set(Instant t) {
      assertThat(t).isAfterOrEqualTo(now);
      now = t;
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException("the test clock is UTC only");
    }
  }
}
