package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.cancellationRequested;
import static dev.workgate.core.testing.WorkOrderFixtures.cancelled;
import static dev.workgate.core.testing.WorkOrderFixtures.completed;
import static dev.workgate.core.testing.WorkOrderFixtures.completedWith;
import static dev.workgate.core.testing.WorkOrderFixtures.failedForGood;
import static dev.workgate.core.testing.WorkOrderFixtures.failedWithRetry;
import static dev.workgate.core.testing.WorkOrderFixtures.leaseExpired;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.retryReleased;
import static dev.workgate.core.testing.WorkOrderFixtures.spec;
import static dev.workgate.core.testing.WorkOrderFixtures.started;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.workgate.core.BatchId;
import dev.workgate.core.DependencyFailure;
import dev.workgate.core.Progress;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.jdbc.JdbcTestKit.RawTables;
import dev.workgate.core.store.RebuildReport;
import dev.workgate.core.store.RebuildReport.ProjectionMismatch;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.core.testing.ViewSnapshot;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import dev.workgate.spi.WorkOrder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * {@link WorkOrderStore#rebuildProjection} of a JDBC store, against random histories: after any
 * history the projection is the fold of the log; rows damaged with SQL (a changed state, a deleted
 * row, a changed version) are exactly the ones VERIFY reports; REPAIR rewrites them, after which
 * VERIFY finds nothing and every view is the fold again.
 *
 * <p>A subclass names the database ({@link #openDatabase()}) and declares the property with the
 * number of tries its database affords, calling {@link #checkRebuild}.
 */
abstract class JdbcRebuildProjectionProperties {

  static final List<String> QUEUES = List.of("jobs", "other");
  static final Duration LEASE = Duration.ofSeconds(30);

  /** What {@link DamageKind#CHANGE_PROGRESS} writes. */
  static final Progress DAMAGED_PROGRESS =
      new Progress(0.5, "damaged", Instant.parse("2001-01-01T00:00:00Z"));

  /** One database for one try; closing it deletes it. */
  interface Database extends AutoCloseable {
    WorkOrderStore open(Clock clock);

    RawTables raw();

    @Override
    void close();
  }

  /**
   * A new, empty database.
   *
   * @return the database
   */
  abstract Database openDatabase();

  // ---------------------------------------------------------------------------------------------
  // the property

  /** What a history does, step by step, to the work order at {@code target} (mod their count). */
  enum Kind {
    CLAIM,
    START,
    COMPLETE,
    FAIL_WITH_RETRY,
    FAIL_FOR_GOOD,
    RELEASE_RETRY,
    CANCEL,
    REQUEST_CANCELLATION,
    RENEW_LEASE,
    CHECKPOINT,
    RESOLVE_BLOCKED,
    ADVANCE_CLOCK,
    REAP_EXPIRED_LEASES,
    PURGE_TERMINAL
  }

  record Step(Kind kind, int target, int amount) {}

  /**
   * Work orders to submit (each a queue index, priority, delay in seconds, batch (0 for none), how
   * many earlier work orders it waits for, and whether it runs when one of them fails), then steps.
   */
  record History(List<int[]> submissions, List<Step> steps) {
    @Override
    public String toString() {
      return "History[submissions="
          + submissions.stream()
              .map(
                  s ->
                      "(q"
                          + s[0]
                          + " p"
                          + s[1]
                          + " delay "
                          + s[2]
                          + "s batch "
                          + s[3]
                          + " after "
                          + s[4]
                          + (s[5] == 1 ? " RUN" : "")
                          + ")")
              .toList()
          + ", steps="
          + steps
          + "]";
    }
  }

  enum DamageKind {
    CHANGE_STATE,
    CHANGE_CHECKPOINT,
    CHANGE_BATCH,
    /** Not a mismatch: progress is written without an event. */
    CHANGE_PROGRESS,
    DELETE_ROW,
    CHANGE_VERSION
  }

  record Damage(DamageKind kind, int target) {}

  @Provide
  Arbitrary<History> histories() {
    Arbitrary<int[]> submission =
        Combinators.combine(
                Arbitraries.integers().between(0, QUEUES.size() - 1),
                Arbitraries.integers().between(-2, 2),
                Arbitraries.integers().between(0, 3).map(d -> d == 3 ? 120 : 0),
                Arbitraries.integers().between(0, 2),
                Arbitraries.frequency(Tuple.of(3, 0), Tuple.of(2, 1), Tuple.of(1, 2)),
                Arbitraries.integers().between(0, 1))
            .as((q, p, d, batch, after, run) -> new int[] {q, p, d, batch, after, run});
    Arbitrary<Step> step =
        Combinators.combine(
                Arbitraries.frequency(
                    Tuple.of(5, Kind.CLAIM),
                    Tuple.of(3, Kind.START),
                    Tuple.of(3, Kind.COMPLETE),
                    Tuple.of(2, Kind.FAIL_WITH_RETRY),
                    Tuple.of(1, Kind.FAIL_FOR_GOOD),
                    Tuple.of(2, Kind.RELEASE_RETRY),
                    Tuple.of(1, Kind.CANCEL),
                    Tuple.of(1, Kind.REQUEST_CANCELLATION),
                    Tuple.of(2, Kind.RENEW_LEASE),
                    Tuple.of(3, Kind.CHECKPOINT),
                    Tuple.of(3, Kind.RESOLVE_BLOCKED),
                    Tuple.of(2, Kind.ADVANCE_CLOCK),
                    Tuple.of(1, Kind.REAP_EXPIRED_LEASES),
                    Tuple.of(1, Kind.PURGE_TERMINAL)),
                Arbitraries.integers().between(0, 99),
                Arbitraries.integers().between(0, 20))
            .as(Step::new);
    return Combinators.combine(
            submission.list().ofMinSize(1).ofMaxSize(8), step.list().ofMinSize(5).ofMaxSize(50))
        .as(History::new);
  }

  @Provide
  Arbitrary<List<Damage>> damages() {
    return Combinators.combine(
            Arbitraries.of(DamageKind.class), Arbitraries.integers().between(0, 99))
        .as(Damage::new)
        .list()
        .ofMinSize(1)
        .ofMaxSize(3);
  }

  /** The property: see the class comment. */
  void checkRebuild(History history, List<Damage> damages) {
    try (Database db = openDatabase()) {
      MutableClock clock = MutableClock.create();
      WorkOrderStore store = db.open(clock);
      try {
        Run run = new Run(store, clock);
        run.play(history);

        RebuildReport clean = store.rebuildProjection(RebuildMode.VERIFY);
        assertThat(clean.mismatches()).as("mismatches after the history").isEmpty();
        assertThat(clean.workOrders()).isEqualTo(run.ids.size());
        assertThat(clean.events()).isEqualTo(JdbcTestKit.wholeLog(store).size());
        assertThat(clean.repaired()).isFalse();
        Map<WorkOrderId, ViewSnapshot> expected = run.expectedViews();
        assertThat(run.views()).isEqualTo(expected);
        assertThat(run.progress()).isEqualTo(run.expectedProgress());
        collectStatistics(store, run);

        if (run.ids.isEmpty()) {
          return;
        }
        Map<WorkOrderId, DamageKind> damaged = damage(db.raw(), store, run.ids, damages);
        Set<WorkOrderId> reported = new LinkedHashSet<>(damaged.keySet());
        damaged.forEach(
            (id, kind) -> {
              if (kind == DamageKind.CHANGE_PROGRESS) {
                reported.remove(id);
                run.progress.put(
                    id, Map.entry(store.find(id).orElseThrow().attempt(), DAMAGED_PROGRESS));
              }
            });

        RebuildReport verify = store.rebuildProjection(RebuildMode.VERIFY);
        assertThat(mismatchIds(verify)).isEqualTo(reported);
        assertThat(verify.repaired()).isFalse();
        for (Map.Entry<WorkOrderId, DamageKind> d : damaged.entrySet()) {
          if (d.getValue() == DamageKind.DELETE_ROW) {
            assertThat(store.find(d.getKey())).as("VERIFY restored %s", d.getKey()).isEmpty();
          } else if (d.getValue() == DamageKind.CHANGE_PROGRESS) {
            assertThat(store.find(d.getKey()).orElseThrow().progress()).contains(DAMAGED_PROGRESS);
          } else {
            assertThat(store.find(d.getKey()).map(ViewSnapshot::of))
                .as("VERIFY changed %s", d.getKey())
                .isNotEqualTo(Optional.of(expected.get(d.getKey())));
          }
        }
        assertThat(store.rebuildProjection(RebuildMode.VERIFY).mismatches())
            .as("a second VERIFY")
            .isEqualTo(verify.mismatches());

        RebuildReport repair = store.rebuildProjection(RebuildMode.REPAIR);
        assertThat(mismatchIds(repair)).isEqualTo(reported);
        assertThat(repair.repaired()).isEqualTo(!reported.isEmpty());
        assertThat(store.rebuildProjection(RebuildMode.VERIFY).mismatches())
            .as("VERIFY after REPAIR")
            .isEmpty();
        // A repair writes the log's fold; a deleted row loses a renewal that no event recorded.
        for (WorkOrderId id : damaged.keySet()) {
          if (damaged.get(id) == DamageKind.DELETE_ROW) {
            run.renewed.remove(id);
            run.progress.remove(id);
          }
        }
        Map<WorkOrderId, ViewSnapshot> repaired = run.expectedViews();
        assertThat(run.views()).isEqualTo(repaired);
        // A repair keeps the progress a row holds (the batch, dependencies and checkpoint come
        // from the log, in the snapshots).
        assertThat(run.progress()).isEqualTo(run.expectedProgress());
        assertThat(store.counts()).isEqualTo(counts(repaired.values()));
      } finally {
        store.close();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // examples

  @Example
  void a_row_that_breaks_the_invariants_of_a_work_order_is_reported_and_repaired() {
    try (Database db = openDatabase()) {
      WorkOrderStore store = db.open(MutableClock.create());
      try {
        WorkOrderId pending = newId();
        WorkOrderId other = newId();
        store.appendAll(
            List.of(
                AppendRequest.of(pending, ExpectedVersion.none(), submitted("jobs")),
                AppendRequest.of(other, ExpectedVersion.none(), submitted("jobs"))));
        // RUNNING without a lease: no fold can produce this row.
        db.raw().update("UPDATE {work_orders} SET state = 'RUNNING' WHERE id = ?", pending.value());

        RebuildReport verify = store.rebuildProjection(RebuildMode.VERIFY);
        assertThat(mismatchIds(verify)).containsExactly(pending);
        RebuildReport repair = store.rebuildProjection(RebuildMode.REPAIR);
        assertThat(mismatchIds(repair)).containsExactly(pending);

        assertThat(store.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
        assertThat(store.find(pending).map(WorkOrderView::state)).contains(WorkOrderState.PENDING);
      } finally {
        store.close();
      }
    }
  }

  @Example
  void a_row_without_events_is_reported_and_removed_by_repair() {
    try (Database db = openDatabase()) {
      WorkOrderStore store = db.open(MutableClock.create());
      try {
        WorkOrderId real = newId();
        store.append(real, ExpectedVersion.none(), List.of(submitted("jobs")));
        WorkOrderId orphan = WorkOrderId.of("orphan-" + real.value());
        copyRow(db.raw(), real, orphan);
        assertThat(db.raw().value("SELECT COUNT(*) FROM {work_orders}")).hasToString("2");

        RebuildReport verify = store.rebuildProjection(RebuildMode.VERIFY);
        assertThat(mismatchIds(verify)).containsExactly(orphan);
        assertThat(verify.workOrders()).isEqualTo(1);
        RebuildReport repair = store.rebuildProjection(RebuildMode.REPAIR);
        assertThat(mismatchIds(repair)).containsExactly(orphan);

        assertThat(store.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
        assertThat(db.raw().value("SELECT COUNT(*) FROM {work_orders}")).hasToString("1");
        assertThat(store.find(orphan)).isEmpty();
        assertThat(store.find(real)).isPresent();
      } finally {
        store.close();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  /** Plays a history against a store and knows what each view must be. */
  static final class Run {
    final WorkOrderStore store;
    final MutableClock clock;
    final List<WorkOrderId> ids = new ArrayList<>();

    /** Renewed leases: attempt and expiry, which no event records. */
    final Map<WorkOrderId, Map.Entry<Integer, Instant>> renewed = new HashMap<>();

    /** Progress written with renewals: the attempt and the progress, which no event records. */
    final Map<WorkOrderId, Map.Entry<Integer, Progress>> progress = new HashMap<>();

    Run(WorkOrderStore store, MutableClock clock) {
      this.store = store;
      this.clock = clock;
    }

    void play(History history) {
      List<AppendRequest> batch = new ArrayList<>();
      for (int[] s : history.submissions()) {
        WorkOrderId id = newId();
        ids.add(id);
        var spec = spec(QUEUES.get(s[0])).priority(s[1]);
        if (s[2] > 0) {
          spec.notBefore(clock.instant().plusSeconds(s[2]));
        }
        // Dependencies on work orders submitted before it (in this batch or an earlier one).
        List<WorkOrderId> after = new ArrayList<>();
        for (int k = 0; k < s[4] && ids.size() > 1; k++) {
          WorkOrderId dep = ids.get((ids.size() - 2 + 5 * k) % (ids.size() - 1));
          if (!after.contains(dep)) {
            after.add(dep);
          }
        }
        spec.after(after.toArray(new WorkOrderId[0]))
            .onDependencyFailure(s[5] == 1 ? DependencyFailure.RUN : DependencyFailure.CANCEL);
        BatchId inBatch = s[3] == 0 ? null : BatchId.of("batch-" + s[3]);
        batch.add(
            AppendRequest.of(
                id,
                ExpectedVersion.none(),
                new WorkOrderEvent.Submitted(spec.build(), null, inBatch, after)));
        if (ids.size() % 3 == 0) {
          store.appendAll(batch);
          batch.clear();
          clock.advance(Duration.ofMillis(3));
        }
      }
      if (!batch.isEmpty()) {
        store.appendAll(batch);
      }
      for (Step step : history.steps()) {
        clock.advance(Duration.ofMillis(1));
        apply(step);
      }
    }

    private void apply(Step step) {
      if (ids.isEmpty()) {
        return;
      }
      WorkOrderView v = pick(step);
      WorkOrderId id = v.id();
      WorkOrderState state = v.state();
      boolean held = state == WorkOrderState.PREPARING || state == WorkOrderState.RUNNING;
      Instant now = clock.instant();
      int amount = step.amount();
      switch (step.kind()) {
        case CLAIM ->
            store.claim(
                new ClaimRequest(
                    v.queue(),
                    "node-" + amount % 2,
                    1 + amount % 3,
                    Capacity.unlimited(),
                    now,
                    LEASE));
        case START -> {
          if (state == WorkOrderState.PREPARING) {
            append(v, started());
          }
        }
        case COMPLETE -> {
          if (state == WorkOrderState.RUNNING) {
            append(v, amount % 3 == 0 ? completedWith(amount) : completed());
          }
        }
        case FAIL_WITH_RETRY -> {
          if (held) {
            append(v, failedWithRetry(now.plusSeconds(1 + amount)));
          }
        }
        case FAIL_FOR_GOOD -> {
          if (held) {
            append(v, failedForGood());
          }
        }
        case RELEASE_RETRY -> {
          if (state == WorkOrderState.WAITING_RETRY) {
            Instant due = v.nextAttemptAt().orElseThrow();
            if (due.isAfter(now)) {
              clock.set(due);
            }
            append(v, retryReleased());
          }
        }
        case CANCEL -> {
          if (!state.isTerminal()) {
            append(v, cancelled());
          }
        }
        case REQUEST_CANCELLATION -> {
          if (held) {
            append(v, cancellationRequested("reason " + amount));
          }
        }
        case RENEW_LEASE -> {
          if (held) {
            Instant expiry = v.leaseExpiresAt().orElseThrow().plusMillis(1000L * (1 + amount));
            Progress p =
                amount % 2 == 0 ? null : new Progress(amount / 20.0, "step " + amount, now);
            assertThat(store.renewLease(id, v.leaseOwner().orElseThrow(), v.attempt(), expiry, p))
                .as("renewal of %s", id)
                .isTrue();
            renewed.put(id, Map.entry(v.attempt(), expiry));
            if (p != null) {
              progress.put(id, Map.entry(v.attempt(), p));
            }
          }
        }
        case CHECKPOINT -> {
          WorkOrderEvent checkpoint =
              held
                  ? new WorkOrderEvent.Checkpointed(
                      v.attempt(), JsonNodeFactory.instance.objectNode().put("step", amount))
                  : null;
          if (state == WorkOrderState.RUNNING) {
            append(v, checkpoint);
          } else if (state == WorkOrderState.PREPARING) {
            store.append(id, ExpectedVersion.exactly(v.version()), List.of(started(), checkpoint));
          }
        }
        case RESOLVE_BLOCKED -> {
          for (WorkOrderView blocked : store.resolvableBlocked(1 + amount % 3)) {
            append(blocked, decide(blocked));
          }
        }
        case ADVANCE_CLOCK -> clock.advance(Duration.ofMillis(137L * (1 + amount)));
        case REAP_EXPIRED_LEASES -> {
          for (WorkOrderView expired : store.expiredLeases(now, 10)) {
            append(expired, leaseExpired(now.plusSeconds(1 + amount)));
          }
        }
        case PURGE_TERMINAL -> {
          // Only work orders that ended a while ago: recent terminal states stay to be checked.
          int deleted = store.deleteTerminalBefore(now.minusMillis(200L * amount), 1 + amount % 2);
          List<WorkOrderId> gone = ids.stream().filter(i -> store.find(i).isEmpty()).toList();
          assertThat(gone).hasSize(deleted);
          for (WorkOrderId g : gone) {
            assertThat(store.readStream(g)).as("stream of purged %s", g).isEmpty();
          }
          ids.removeAll(gone);
        }
      }
    }

    /**
     * The work order at the step's target, or the next one (cyclically) in a state the step acts
     * on, so that most steps change something.
     */
    private WorkOrderView pick(Step step) {
      Set<WorkOrderState> wanted =
          switch (step.kind()) {
            case START -> Set.of(WorkOrderState.PREPARING);
            case COMPLETE -> Set.of(WorkOrderState.RUNNING);
            case FAIL_WITH_RETRY, FAIL_FOR_GOOD, REQUEST_CANCELLATION, RENEW_LEASE ->
                Set.of(WorkOrderState.PREPARING, WorkOrderState.RUNNING);
            case RELEASE_RETRY -> Set.of(WorkOrderState.WAITING_RETRY);
            case CHECKPOINT -> Set.of(WorkOrderState.RUNNING, WorkOrderState.PREPARING);
            case CANCEL ->
                Set.of(
                    WorkOrderState.BLOCKED,
                    WorkOrderState.PENDING,
                    WorkOrderState.PREPARING,
                    WorkOrderState.RUNNING,
                    WorkOrderState.WAITING_RETRY);
            default -> Set.of(WorkOrderState.values());
          };
      WorkOrderView first = null;
      for (int i = 0; i < ids.size(); i++) {
        WorkOrderView v = store.find(ids.get((step.target() + i) % ids.size())).orElseThrow();
        if (first == null) {
          first = v;
        }
        if (wanted.contains(v.state())) {
          return v;
        }
      }
      return first;
    }

    /** What a node appends to a blocked work order that can be decided. */
    private WorkOrderEvent decide(WorkOrderView blocked) {
      for (WorkOrderId dep : blocked.dependencies()) {
        Optional<WorkOrderState> s = store.find(dep).map(WorkOrderView::state);
        boolean failed =
            s.isEmpty() || s.get() == WorkOrderState.FAILED || s.get() == WorkOrderState.CANCELLED;
        if (failed && blocked.spec().onDependencyFailure() == DependencyFailure.CANCEL) {
          return new WorkOrderEvent.DependencyFailed(dep, s.orElse(null));
        }
      }
      return new WorkOrderEvent.DependenciesMet();
    }

    private void append(WorkOrderView v, WorkOrderEvent event) {
      store.append(v.id(), ExpectedVersion.exactly(v.version()), List.of(event));
    }

    /** What each view must be: the fold of its stream, with a renewed lease's expiry. */
    Map<WorkOrderId, ViewSnapshot> expectedViews() {
      Map<WorkOrderId, ViewSnapshot> out = new LinkedHashMap<>();
      for (WorkOrderId id : ids) {
        WorkOrder fold = WorkOrder.fold(store.readStream(id));
        Map.Entry<Integer, Instant> r = renewed.get(id);
        if (r != null && fold.leaseOwner().isPresent() && fold.attempt() == r.getKey()) {
          fold = fold.withLeaseExpiresAt(r.getValue());
        }
        out.put(id, ViewSnapshot.of(fold));
      }
      return out;
    }

    /** What each view's progress must be: the last written in its current attempt, if any. */
    Map<WorkOrderId, Optional<Progress>> expectedProgress() {
      Map<WorkOrderId, Optional<Progress>> out = new LinkedHashMap<>();
      for (WorkOrderId id : ids) {
        int attempt = WorkOrder.fold(store.readStream(id)).attempt();
        Map.Entry<Integer, Progress> p = progress.get(id);
        out.put(
            id, p != null && p.getKey() == attempt ? Optional.of(p.getValue()) : Optional.empty());
      }
      return out;
    }

    Map<WorkOrderId, Optional<Progress>> progress() {
      Map<WorkOrderId, Optional<Progress>> out = new LinkedHashMap<>();
      for (WorkOrderId id : ids) {
        out.put(id, store.find(id).orElseThrow().progress());
      }
      return out;
    }

    Map<WorkOrderId, ViewSnapshot> views() {
      Map<WorkOrderId, ViewSnapshot> out = new LinkedHashMap<>();
      for (WorkOrderId id : ids) {
        out.put(
            id,
            ViewSnapshot.of(store.find(id).orElseThrow(() -> new AssertionError("no view " + id))));
      }
      return out;
    }
  }

  /**
   * Damages the projection rows of distinct work orders with SQL.
   *
   * @return the damaged work orders and how
   */
  static Map<WorkOrderId, DamageKind> damage(
      RawTables raw, WorkOrderStore store, List<WorkOrderId> ids, List<Damage> damages) {
    Map<WorkOrderId, DamageKind> done = new LinkedHashMap<>();
    for (Damage d : damages) {
      WorkOrderId id = ids.get(d.target() % ids.size());
      if (done.containsKey(id)) {
        continue;
      }
      WorkOrderView v = store.find(id).orElseThrow();
      DamageKind kind = d.kind();
      Optional<WorkOrderState> other = safeOtherState(v);
      if (kind == DamageKind.CHANGE_STATE && other.isEmpty()) {
        kind = DamageKind.CHANGE_VERSION;
      }
      int rows =
          switch (kind) {
            case CHANGE_CHECKPOINT ->
                raw.update(
                    "UPDATE {work_orders} SET checkpoint = '{\"damaged\":true}' WHERE id = ?",
                    id.value());
            case CHANGE_BATCH ->
                raw.update(
                    "UPDATE {work_orders} SET batch_id = 'damaged-batch' WHERE id = ?", id.value());
            case CHANGE_PROGRESS ->
                raw.update(
                    "UPDATE {work_orders} SET progress = ? WHERE id = ?",
                    Row.progressJson(DAMAGED_PROGRESS),
                    id.value());
            case CHANGE_STATE ->
                raw.update(
                    "UPDATE {work_orders} SET state = ? WHERE id = ?",
                    other.orElseThrow().name(),
                    id.value());
            case DELETE_ROW -> raw.update("DELETE FROM {work_orders} WHERE id = ?", id.value());
            case CHANGE_VERSION ->
                raw.update(
                    "UPDATE {work_orders} SET version = version + 5 WHERE id = ?", id.value());
          };
      assertThat(rows).as("rows damaged for %s", id).isEqualTo(1);
      done.put(id, kind);
    }
    return done;
  }

  /** Another state that keeps the row's invariants (lease, retry time, result), if there is one. */
  static Optional<WorkOrderState> safeOtherState(WorkOrderView v) {
    return Optional.ofNullable(
        switch (v.state()) {
          case PENDING -> WorkOrderState.CANCELLED;
          case CANCELLED, FAILED -> WorkOrderState.PENDING;
          case PREPARING -> WorkOrderState.RUNNING;
          case RUNNING -> WorkOrderState.PREPARING;
          case COMPLETED -> v.result().isPresent() ? null : WorkOrderState.FAILED;
          case WAITING_RETRY -> null;
          case BLOCKED -> WorkOrderState.CANCELLED;
        });
  }

  /** Inserts a copy of a projection row under another id, without events. */
  static void copyRow(RawTables raw, WorkOrderId from, WorkOrderId to) {
    Set<String> columns =
        new LinkedHashSet<>(
            raw.query("SELECT * FROM {work_orders} WHERE id = ?", from.value()).get(0).keySet());
    String values =
        columns.stream()
            .map(
                c ->
                    switch (c) {
                      case "id" -> "?";
                      case "seq" -> "(SELECT MAX(seq) + 1 FROM {work_orders})";
                      case "idempotency_key" -> "NULL";
                      default -> c;
                    })
            .collect(Collectors.joining(", "));
    raw.update(
        "INSERT INTO {work_orders} ("
            + String.join(", ", columns)
            + ") SELECT "
            + values
            + " FROM {work_orders} WHERE id = ?",
        to.value(),
        from.value());
  }

  /** How many histories reach each of the fields version 5 added, for the property's report. */
  private static void collectStatistics(WorkOrderStore store, Run run) {
    Set<String> reached = new java.util.TreeSet<>();
    for (WorkOrderId id : run.ids) {
      WorkOrderView v = store.find(id).orElseThrow();
      if (v.state() == WorkOrderState.BLOCKED) {
        reached.add("blocked");
      }
      if (!v.dependencies().isEmpty() && v.state() != WorkOrderState.BLOCKED) {
        reached.add("decided");
      }
      v.batch().ifPresent(b -> reached.add("batch"));
      v.checkpoint().ifPresent(c -> reached.add("checkpoint"));
      v.progress().ifPresent(p -> reached.add("progress"));
    }
    for (String what : List.of("blocked", "decided", "batch", "checkpoint", "progress")) {
      net.jqwik.api.statistics.Statistics.label(what).collect(reached.contains(what));
    }
  }

  static Set<WorkOrderId> mismatchIds(RebuildReport report) {
    Set<WorkOrderId> ids = new LinkedHashSet<>();
    for (ProjectionMismatch m : report.mismatches()) {
      assertThat(ids.add(m.workOrderId())).as("%s reported twice", m.workOrderId()).isTrue();
      assertThat(m.difference()).isNotBlank();
    }
    return ids;
  }

  /** What {@link WorkOrderStore#counts()} must be for these views. */
  static QueueCounts counts(Iterable<ViewSnapshot> views) {
    QueueCounts.Builder out = QueueCounts.builder();
    for (ViewSnapshot v : views) {
      out.add(v.queue(), v.state(), 1);
    }
    return out.build();
  }
}
