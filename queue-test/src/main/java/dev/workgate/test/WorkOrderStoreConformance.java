package dev.workgate.test;

import static dev.workgate.core.WorkOrderState.CANCELLED;
import static dev.workgate.core.WorkOrderState.COMPLETED;
import static dev.workgate.core.WorkOrderState.FAILED;
import static dev.workgate.core.WorkOrderState.PENDING;
import static dev.workgate.core.WorkOrderState.PREPARING;
import static dev.workgate.core.WorkOrderState.RUNNING;
import static dev.workgate.core.WorkOrderState.WAITING_RETRY;
import static dev.workgate.test.WorkOrderFixtures.cancellationRequested;
import static dev.workgate.test.WorkOrderFixtures.cancelled;
import static dev.workgate.test.WorkOrderFixtures.claimed;
import static dev.workgate.test.WorkOrderFixtures.completed;
import static dev.workgate.test.WorkOrderFixtures.completedWith;
import static dev.workgate.test.WorkOrderFixtures.failedForGood;
import static dev.workgate.test.WorkOrderFixtures.failedWithRetry;
import static dev.workgate.test.WorkOrderFixtures.leaseExpired;
import static dev.workgate.test.WorkOrderFixtures.newId;
import static dev.workgate.test.WorkOrderFixtures.retryReleased;
import static dev.workgate.test.WorkOrderFixtures.spec;
import static dev.workgate.test.WorkOrderFixtures.started;
import static dev.workgate.test.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.IdempotencyKeyConflictException;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderState.TransitionTable;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Cancellations;
import dev.workgate.core.store.EndedCount;
import dev.workgate.core.store.EventQuery;
import dev.workgate.core.store.EventQuery.EventPage;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.StoreView.LogPage;
import dev.workgate.core.store.StoreView.NodeStatus;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderQuery.Page;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.Claim;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import dev.workgate.spi.WorkOrder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link WorkOrderStore} must meet, as a JUnit Jupiter base class: a store is
 * done when a subclass of this class passes. Workgate's own stores (in-memory, SQLite, PostgreSQL)
 * run it, and a store of your own extends it the same way.
 *
 * <pre>{@code
 * class MyStoreConformanceTest extends WorkOrderStoreConformance {
 *   @Override
 *   protected WorkOrderStore createStore(Clock clock) {
 *     return new MyStore(clock); // new and empty, stamping events with this clock
 *   }
 * }
 * }</pre>
 *
 * <h2>What a subclass implements</h2>
 *
 * <p>One method, {@link #createStore(Clock)}: a new, empty store for one test. Each test calls it
 * once, before the test, and closes the store after it, so a store over a database gets a fresh
 * database, schema or file per test (a JUnit {@code @TempDir} field, or an extension registered
 * with {@code @RegisterExtension} that creates and drops a schema around each test). Resources the
 * store does not own, such as a connection pool, are closed by the subclass after the suite has
 * closed the store (an {@code @AfterEach} of the subclass or its extension runs after the suite's).
 *
 * <h2>The clock</h2>
 *
 * <p>The store must stamp every recorded event ({@code recordedAt}, and the view times derived from
 * it) with the clock it is given, never with the system clock: the suite checks the stamps to the
 * millisecond. The clock is a {@link MutableClock} that starts at {@link
 * MutableClock#DEFAULT_START} and moves only when a test moves it, forward and, in a few tests,
 * back; every time the suite uses is a whole millisecond, so a store that keeps milliseconds or
 * microseconds round-trips them.
 *
 * <h2>What the store needs</h2>
 *
 * <p>No test reopens a store, so the suite runs against a store that keeps nothing across a close
 * (the in-memory one passes); tests of durability across a restart belong in the subclass. The
 * store must be thread-safe: the concurrency tests use real threads (8 to 12) and bounded waits,
 * never sleeps, and the largest claims 10,000 work orders, so a store that serializes every call is
 * slow but passes. A few tests append texts of more than 20,000,000 characters (the store must
 * refuse them or read back what it accepts); Workgate's own stores pass in a 256 MB heap.
 *
 * <h2>Skipping</h2>
 *
 * <p>There is no capability switch: every method of the SPI is part of the contract, and every test
 * applies to every store. A subclass adds its own backend-specific tests, using {@link #store()},
 * {@link #clock()} and the constants here; it should not override or disable the suite's.
 *
 * <p>Test names say the behaviour they check and start with the SPI method they are about. Not
 * thread-safe itself: JUnit runs one test of a class at a time unless told otherwise.
 */
public abstract class WorkOrderStoreConformance {

  /** The queue most tests use. */
  protected static final String QUEUE = "jobs";

  /** A second queue, to check that queues are kept apart. */
  protected static final String OTHER_QUEUE = "other";

  /** The node that claims unless a test names another. */
  protected static final String OWNER = "node-a";

  /** The lease duration of claims unless a test names another. */
  protected static final Duration LEASE = Duration.ofSeconds(30);

  private static final long WAIT_SECONDS = 60;

  private MutableClock clock;
  private Instant t0;
  private WorkOrderStore store;

  /**
   * A new, empty store for one test.
   *
   * @param clock the clock that stamps recorded events; tests move it by hand
   * @return the store; the suite closes it after the test
   */
  protected abstract WorkOrderStore createStore(Clock clock);

  /**
   * The store under test, for backend-specific tests in subclasses.
   *
   * @return the store of the current test
   */
  protected final WorkOrderStore store() {
    return store;
  }

  /**
   * The clock of the current test's store.
   *
   * @return the clock
   */
  protected final MutableClock clock() {
    return clock;
  }

  @BeforeEach
  void openStore() {
    clock = new MutableClock();
    t0 = clock.instant();
    store = createStore(clock);
  }

  @AfterEach
  void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // append

  @Test
  void append_submitted_creates_a_pending_work_order_at_version_1() {
    WorkOrderSpec spec = spec(QUEUE).priority(3).payload(Map.of("task", "build")).build();
    WorkOrderId id = newId();

    List<RecordedEvent> recorded =
        store.append(id, ExpectedVersion.none(), List.of(submitted(spec)));

    assertThat(recorded).hasSize(1);
    RecordedEvent r = recorded.get(0);
    assertThat(r.workOrderId()).isEqualTo(id);
    assertThat(r.version()).isEqualTo(1);
    assertThat(r.position()).isPositive();
    assertThat(r.recordedAt()).isEqualTo(t0);
    assertThat(r.event()).isEqualTo(submitted(spec));
    WorkOrderView view = view(id);
    assertThat(view.id()).isEqualTo(id);
    assertThat(view.state()).isEqualTo(PENDING);
    assertThat(view.version()).isEqualTo(1);
    assertThat(view.attempt()).isZero();
    assertThat(view.queue()).isEqualTo(QUEUE);
    assertThat(view.type()).isEqualTo(spec.type());
    assertThat(view.priority()).isEqualTo(3);
    assertThat(view.spec()).isEqualTo(spec);
    assertThat(view.submittedAt()).isEqualTo(t0);
    assertThat(view.updatedAt()).isEqualTo(t0);
    assertThat(view.availableAt()).isEqualTo(t0);
    assertThat(view.leaseOwner()).isEmpty();
    assertThat(view.leaseExpiresAt()).isEmpty();
    assertThat(view.nextAttemptAt()).isEmpty();
    assertThat(view.lastError()).isEmpty();
    assertThat(store.readStream(id)).containsExactlyElementsOf(recorded);
  }

  @Test
  void append_of_several_events_records_them_in_order_with_consecutive_versions() {
    WorkOrderId id = newId();
    List<WorkOrderEvent> events =
        List.of(submitted(QUEUE), claimed(OWNER, at(30)), started(), cancellationRequested("x"));

    List<RecordedEvent> recorded = store.append(id, ExpectedVersion.none(), events);

    assertThat(recorded).extracting(RecordedEvent::version).containsExactly(1L, 2L, 3L, 4L);
    assertThat(recorded).extracting(RecordedEvent::event).containsExactlyElementsOf(events);
    assertStrictlyRising(recorded);
    assertThat(store.readStream(id)).containsExactlyElementsOf(recorded);
    WorkOrderView view = view(id);
    assertThat(view.state()).isEqualTo(RUNNING);
    assertThat(view.version()).isEqualTo(4);
    assertThat(view.attempt()).isEqualTo(1);
    assertThat(view.leaseOwner()).contains(OWNER);
    assertThat(view.cancellationRequested()).contains("x");
  }

  @Test
  void append_to_an_existing_stream_continues_its_versions_and_stamps_the_store_clock() {
    WorkOrderId id = submit(QUEUE);
    clock.advance(Duration.ofSeconds(5));

    List<RecordedEvent> second =
        store.append(id, ExpectedVersion.exactly(1), List.of(claimed(OWNER, at(35))));
    clock.advance(Duration.ofMillis(1500));
    List<RecordedEvent> third =
        store.append(id, ExpectedVersion.exactly(2), List.of(started(), completed()));

    assertThat(second).extracting(RecordedEvent::version).containsExactly(2L);
    assertThat(second.get(0).recordedAt()).isEqualTo(at(5));
    assertThat(third).extracting(RecordedEvent::version).containsExactly(3L, 4L);
    assertThat(third).extracting(RecordedEvent::recordedAt).containsOnly(at(5).plusMillis(1500));
    assertThat(store.readStream(id))
        .extracting(RecordedEvent::version)
        .containsExactly(1L, 2L, 3L, 4L);
    assertStrictlyRising(store.readStream(id));
    WorkOrderView view = view(id);
    assertThat(view.state()).isEqualTo(COMPLETED);
    assertThat(view.version()).isEqualTo(4);
    assertThat(view.submittedAt()).isEqualTo(t0);
    assertThat(view.updatedAt()).isEqualTo(at(5).plusMillis(1500));
  }

  @Test
  void append_rejects_an_empty_event_list() {
    WorkOrderId id = submit(QUEUE);

    assertThatThrownBy(() -> store.append(id, ExpectedVersion.exactly(1), List.of()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(view(id).version()).isEqualTo(1);
  }

  @Test
  void append_with_expected_none_fails_when_the_stream_exists() {
    WorkOrderId id = submit(QUEUE);
    StoreState before = snapshot(List.of(id), List.of());

    ConcurrencyException e =
        catchThrowableOfType(
            ConcurrencyException.class,
            () -> store.append(id, ExpectedVersion.none(), List.of(claimed(OWNER, at(30)))));

    assertThat(e).as("ConcurrencyException").isNotNull();
    assertThat(e.workOrderId()).isEqualTo(id);
    assertThat(e.expected()).isEqualTo("none");
    assertThat(e.actualVersion()).isEqualTo(1);
    assertThat(e).hasMessageContaining(id.value()).hasMessageContaining("none");
    assertThat(e).hasMessageContaining("version 1");
    assertThat(snapshot(List.of(id), List.of())).isEqualTo(before);
  }

  @Test
  void append_with_expected_exactly_zero_is_the_same_as_none() {
    WorkOrderId fresh = newId();
    store.append(fresh, ExpectedVersion.exactly(0), List.of(submitted(QUEUE)));
    assertThat(view(fresh).version()).isEqualTo(1);

    assertThatThrownBy(
            () -> store.append(fresh, ExpectedVersion.exactly(0), List.of(claimed(OWNER, at(30)))))
        .isInstanceOf(ConcurrencyException.class);
    assertThat(view(fresh).version()).isEqualTo(1);
  }

  @Test
  void append_with_expected_exactly_appends_at_that_version_and_fails_on_a_stale_one() {
    WorkOrderId id = inState(QUEUE, PREPARING);
    store.append(id, ExpectedVersion.exactly(2), List.of(started()));
    StoreState before = snapshot(List.of(id), List.of());

    ConcurrencyException e =
        catchThrowableOfType(
            ConcurrencyException.class,
            () ->
                store.append(
                    id, ExpectedVersion.exactly(2), List.of(cancellationRequested("stale"))));

    assertThat(e).as("ConcurrencyException").isNotNull();
    assertThat(e.workOrderId()).isEqualTo(id);
    assertThat(e.expected()).isEqualTo("exactly 2");
    assertThat(e.actualVersion()).isEqualTo(3);
    assertThat(e)
        .hasMessageContaining(id.value())
        .hasMessageContaining("exactly 2")
        .hasMessageContaining("version 3");
    assertThat(snapshot(List.of(id), List.of())).isEqualTo(before);
  }

  @Test
  void append_with_expected_exactly_fails_when_the_stream_does_not_exist() {
    WorkOrderId id = newId();
    StoreState before = snapshot(List.of(id), List.of());

    ConcurrencyException e =
        catchThrowableOfType(
            ConcurrencyException.class,
            () -> store.append(id, ExpectedVersion.exactly(1), List.of(submitted(QUEUE))));

    assertThat(e).as("ConcurrencyException").isNotNull();
    assertThat(e.workOrderId()).isEqualTo(id);
    assertThat(e.expected()).isEqualTo("exactly 1");
    assertThat(e.actualVersion()).isZero();
    assertThat(e).hasMessageContaining(id.value()).hasMessageContaining("exactly 1");
    assertThat(snapshot(List.of(id), List.of())).isEqualTo(before);
    assertThat(store.find(id)).isEmpty();
  }

  @Test
  void append_with_expected_any_appends_to_a_new_or_an_existing_stream() {
    WorkOrderId id = newId();

    List<RecordedEvent> first = store.append(id, ExpectedVersion.any(), List.of(submitted(QUEUE)));
    List<RecordedEvent> second =
        store.append(id, ExpectedVersion.any(), List.of(claimed(OWNER, at(30)), started()));

    assertThat(first).extracting(RecordedEvent::version).containsExactly(1L);
    assertThat(second).extracting(RecordedEvent::version).containsExactly(2L, 3L);
    assertThat(view(id).state()).isEqualTo(RUNNING);
  }

  @Test
  void append_with_expected_any_still_checks_the_transition() {
    WorkOrderId id = submit(QUEUE);

    assertThatThrownBy(() -> store.append(id, ExpectedVersion.any(), List.of(started())))
        .isInstanceOf(InvalidTransitionException.class);
    assertThat(view(id).state()).isEqualTo(PENDING);
    assertThat(store.readStream(id)).hasSize(1);
  }

  @Test
  void append_rejects_an_event_the_state_machine_does_not_accept() {
    WorkOrderId id = submit(QUEUE);
    StoreState before = snapshot(List.of(id), List.of());

    InvalidTransitionException e =
        catchThrowableOfType(
            InvalidTransitionException.class,
            () -> store.append(id, ExpectedVersion.exactly(1), List.of(started())));

    assertThat(e).as("InvalidTransitionException").isNotNull();
    assertThat(e.workOrderId()).isEqualTo(id);
    assertThat(e.state()).isEqualTo(PENDING);
    assertThat(e.event()).isEqualTo("Started");
    assertThat(e.validEvents())
        .containsExactlyInAnyOrderElementsOf(TransitionTable.validEvents(PENDING))
        .contains("Claimed", "Cancelled");
    assertThat(e)
        .hasMessageContaining(id.value())
        .hasMessageContaining("PENDING")
        .hasMessageContaining("Started")
        .hasMessageContaining("Claimed")
        .hasMessageContaining("Cancelled");
    assertThat(snapshot(List.of(id), List.of())).isEqualTo(before);
  }

  @Test
  void append_rejects_a_first_event_that_is_not_submitted() {
    WorkOrderId id = newId();
    StoreState before = snapshot(List.of(id), List.of());

    InvalidTransitionException e =
        catchThrowableOfType(
            InvalidTransitionException.class,
            () -> store.append(id, ExpectedVersion.none(), List.of(claimed(OWNER, at(30)))));

    assertThat(e).as("InvalidTransitionException").isNotNull();
    assertThat(e.workOrderId()).isEqualTo(id);
    assertThat(e.state()).isNull();
    assertThat(e.event()).isEqualTo("Claimed");
    assertThat(e.validEvents()).containsExactly("Submitted");
    assertThat(snapshot(List.of(id), List.of())).isEqualTo(before);
    assertThat(store.find(id)).isEmpty();
    assertThat(store.readStream(id)).isEmpty();
  }

  @Test
  void append_rejects_a_second_submitted_event() {
    WorkOrderId id = submit(QUEUE);

    InvalidTransitionException e =
        catchThrowableOfType(
            InvalidTransitionException.class,
            () -> store.append(id, ExpectedVersion.exactly(1), List.of(submitted(QUEUE))));

    assertThat(e).as("InvalidTransitionException").isNotNull();
    assertThat(e.state()).isEqualTo(PENDING);
    assertThat(e.event()).isEqualTo("Submitted");
    assertThat(store.readStream(id)).hasSize(1);
  }

  @Test
  void append_rejects_every_event_after_a_terminal_state() {
    for (WorkOrderState terminal : List.of(COMPLETED, FAILED, CANCELLED)) {
      WorkOrderId id = inState(QUEUE, terminal);
      long version = view(id).version();
      for (WorkOrderEvent event :
          List.of(cancelled(), claimed(OWNER, at(30)), retryReleased(), completed())) {
        InvalidTransitionException e =
            catchThrowableOfType(
                InvalidTransitionException.class,
                () -> store.append(id, ExpectedVersion.any(), List.of(event)));
        assertThat(e).as("%s after %s", event, terminal).isNotNull();
        assertThat(e.state()).isEqualTo(terminal);
        assertThat(e.validEvents()).isEmpty();
        assertThat(e).hasMessageContaining(terminal.name());
      }
      assertThat(view(id).state()).isEqualTo(terminal);
      assertThat(view(id).version()).isEqualTo(version);
      assertThat(store.readStream(id)).hasSize((int) version);
    }
  }

  @Test
  void append_of_several_events_writes_none_when_a_later_one_is_rejected() {
    WorkOrderId existing = submit(QUEUE);
    WorkOrderId fresh = newId();
    StoreState before = snapshot(List.of(existing, fresh), List.of());

    assertThatThrownBy(
            () ->
                store.append(
                    existing,
                    ExpectedVersion.exactly(1),
                    List.of(claimed(OWNER, at(30)), completed())))
        .isInstanceOf(InvalidTransitionException.class)
        .hasMessageContaining("PREPARING")
        .hasMessageContaining("Completed");
    assertThatThrownBy(
            () -> store.append(fresh, ExpectedVersion.none(), List.of(submitted(QUEUE), started())))
        .isInstanceOf(InvalidTransitionException.class);

    assertThat(snapshot(List.of(existing, fresh), List.of())).isEqualTo(before);
    assertThat(claim(QUEUE, 10)).extracting(WorkOrderView::id).containsExactly(existing);
  }

  // ---------------------------------------------------------------------------------------------
  // appendAll

  @Test
  void appendAll_writes_every_request_and_returns_the_events_in_request_order() {
    WorkOrderId running = inState(QUEUE, PREPARING);
    WorkOrderId a = newId();
    WorkOrderId b = newId();
    WorkOrderId c = newId();

    List<RecordedEvent> recorded =
        store.appendAll(
            List.of(
                AppendRequest.of(a, ExpectedVersion.none(), submitted(QUEUE)),
                AppendRequest.of(
                    b, ExpectedVersion.none(), submitted(OTHER_QUEUE), claimed(OWNER, at(30))),
                AppendRequest.of(running, ExpectedVersion.exactly(2), started()),
                AppendRequest.of(c, ExpectedVersion.none(), submitted(QUEUE))));

    assertThat(recorded)
        .extracting(RecordedEvent::workOrderId)
        .containsExactly(a, b, b, running, c);
    assertThat(recorded).extracting(RecordedEvent::version).containsExactly(1L, 1L, 2L, 3L, 1L);
    assertStrictlyRising(recorded);
    assertThat(view(a).state()).isEqualTo(PENDING);
    assertThat(view(b).state()).isEqualTo(PREPARING);
    assertThat(view(running).state()).isEqualTo(RUNNING);
    assertThat(view(c).state()).isEqualTo(PENDING);
    assertThat(count(QUEUE, PENDING)).isEqualTo(2);
    assertThat(count(OTHER_QUEUE, PREPARING)).isEqualTo(1);
    List<RecordedEvent> log = wholeLog();
    assertThat(log.subList(log.size() - 5, log.size())).containsExactlyElementsOf(recorded);
  }

  @Test
  void appendAll_applies_requests_for_one_work_order_in_order_and_logs_them_by_position() {
    WorkOrderId a = newId();
    WorkOrderId b = newId();

    List<RecordedEvent> recorded =
        store.appendAll(
            List.of(
                AppendRequest.of(a, ExpectedVersion.none(), submitted(QUEUE)),
                AppendRequest.of(b, ExpectedVersion.none(), submitted(QUEUE)),
                AppendRequest.of(a, ExpectedVersion.exactly(1), claimed(OWNER, at(30))),
                AppendRequest.of(b, ExpectedVersion.exactly(1), cancelled()),
                AppendRequest.of(a, ExpectedVersion.exactly(2), started())));

    assertThat(recorded).extracting(RecordedEvent::workOrderId).containsExactly(a, b, a, b, a);
    assertThat(recorded).extracting(RecordedEvent::version).containsExactly(1L, 1L, 2L, 2L, 3L);
    assertStrictlyRising(recorded);
    List<RecordedEvent> log = wholeLog();
    assertStrictlyRising(log);
    assertThat(log).containsExactlyElementsOf(recorded);
    assertThat(store.readStream(a)).extracting(RecordedEvent::version).containsExactly(1L, 2L, 3L);
    assertThat(view(a).state()).isEqualTo(RUNNING);
    assertThat(view(b).state()).isEqualTo(CANCELLED);
    LogPage firstTwo = store.readLog(0, 2);
    assertThat(firstTwo.events()).containsExactlyElementsOf(recorded.subList(0, 2));
    assertThat(store.readLog(firstTwo.lastPosition(), 10).events())
        .containsExactlyElementsOf(recorded.subList(2, 5));
  }

  @Test
  void appendAll_checks_a_later_request_against_the_version_left_by_an_earlier_one() {
    WorkOrderId a = newId();
    StoreState before = snapshot(List.of(a), List.of());

    ConcurrencyException e =
        catchThrowableOfType(
            ConcurrencyException.class,
            () ->
                store.appendAll(
                    List.of(
                        AppendRequest.of(a, ExpectedVersion.none(), submitted(QUEUE)),
                        AppendRequest.of(a, ExpectedVersion.exactly(2), claimed(OWNER, at(30))))));

    assertThat(e).as("ConcurrencyException").isNotNull();
    assertThat(e.workOrderId()).isEqualTo(a);
    assertThat(e.actualVersion()).isEqualTo(1);
    assertThat(snapshot(List.of(a), List.of())).isEqualTo(before);
  }

  @Test
  void appendAll_with_a_stale_expected_version_in_the_middle_changes_nothing() {
    World w = world();
    AppendRequest stale = AppendRequest.of(w.waiting, ExpectedVersion.exactly(2), retryReleased());

    ConcurrencyException e = assertAppendAllChangesNothing(w, stale, ConcurrencyException.class);

    assertThat(e.workOrderId()).isEqualTo(w.waiting);
    assertThat(e.expected()).isEqualTo("exactly 2");
    assertThat(e.actualVersion()).isEqualTo(3);
  }

  @Test
  void appendAll_with_an_invalid_transition_in_the_middle_changes_nothing() {
    World w = world();
    AppendRequest invalid = AppendRequest.of(w.waiting, ExpectedVersion.exactly(3), started());

    InvalidTransitionException e =
        assertAppendAllChangesNothing(w, invalid, InvalidTransitionException.class);

    assertThat(e.workOrderId()).isEqualTo(w.waiting);
    assertThat(e.state()).isEqualTo(WAITING_RETRY);
    assertThat(e.event()).isEqualTo("Started");
  }

  @Test
  void appendAll_with_an_event_after_a_terminal_state_in_the_middle_changes_nothing() {
    World w = world();
    AppendRequest invalid = AppendRequest.of(w.finished, ExpectedVersion.any(), cancelled());

    InvalidTransitionException e =
        assertAppendAllChangesNothing(w, invalid, InvalidTransitionException.class);

    assertThat(e.state()).isEqualTo(COMPLETED);
  }

  @Test
  void appendAll_with_a_taken_idempotency_key_in_the_middle_changes_nothing() {
    World w = world();
    AppendRequest duplicate =
        AppendRequest.of(
            newId(),
            ExpectedVersion.none(),
            submitted(spec(QUEUE).idempotencyKey(World.PENDING_KEY).build()));

    IdempotencyKeyConflictException e =
        assertAppendAllChangesNothing(w, duplicate, IdempotencyKeyConflictException.class);

    assertThat(e.idempotencyKey()).isEqualTo(World.PENDING_KEY);
    assertThat(e.existingWorkOrderId()).isEqualTo(w.pending);
  }

  @Test
  void appendAll_with_a_key_taken_earlier_in_the_same_batch_changes_nothing() {
    World w = world();
    AppendRequest duplicate =
        AppendRequest.of(
            newId(),
            ExpectedVersion.none(),
            submitted(spec(OTHER_QUEUE).idempotencyKey(World.NEW_KEY_1).build()));

    IdempotencyKeyConflictException e =
        assertAppendAllChangesNothing(w, duplicate, IdempotencyKeyConflictException.class);

    assertThat(e.idempotencyKey()).isEqualTo(World.NEW_KEY_1);
    assertThat(e.existingWorkOrderId()).isEqualTo(w.new1);
  }

  // ---------------------------------------------------------------------------------------------
  // findByIdempotencyKey

  @Test
  void findByIdempotencyKey_returns_the_work_order_that_holds_the_key() {
    WorkOrderId first = submit(spec(QUEUE).idempotencyKey("order-17").build());
    WorkOrderId second = submit(spec(OTHER_QUEUE).idempotencyKey("order-18").build());

    assertThat(store.findByIdempotencyKey("order-17")).contains(first);
    assertThat(store.findByIdempotencyKey("order-18")).contains(second);
  }

  @Test
  void findByIdempotencyKey_is_empty_for_a_key_nobody_holds() {
    submit(spec(QUEUE).idempotencyKey("order-17").build());
    submit(QUEUE);

    assertThat(store.findByIdempotencyKey("order-1")).isEmpty();
    assertThat(store.findByIdempotencyKey("ORDER-17")).isEmpty();
  }

  @Test
  void append_rejects_a_taken_idempotency_key_naming_the_work_order_that_holds_it() {
    WorkOrderId first = submit(spec(QUEUE).idempotencyKey("order-17").build());
    WorkOrderId second = newId();
    StoreState before = snapshot(List.of(first, second), List.of("order-17"));

    IdempotencyKeyConflictException e =
        catchThrowableOfType(
            IdempotencyKeyConflictException.class,
            () ->
                store.append(
                    second,
                    ExpectedVersion.none(),
                    List.of(
                        submitted(
                            spec(OTHER_QUEUE)
                                .idempotencyKey("order-17")
                                .payload("other")
                                .build()))));

    assertThat(e).as("IdempotencyKeyConflictException").isNotNull();
    assertThat(e.idempotencyKey()).isEqualTo("order-17");
    assertThat(e.existingWorkOrderId()).isEqualTo(first);
    assertThat(e).hasMessageContaining("order-17").hasMessageContaining(first.value());
    assertThat(snapshot(List.of(first, second), List.of("order-17"))).isEqualTo(before);
    assertThat(store.find(second)).isEmpty();
  }

  @Test
  void findByIdempotencyKey_keeps_the_key_while_a_terminal_work_order_is_not_purged() {
    WorkOrderId first = submit(spec(QUEUE).idempotencyKey("order-17").build());
    store.append(first, ExpectedVersion.exactly(1), List.of(cancelled()));

    assertThat(store.findByIdempotencyKey("order-17")).contains(first);
    assertThatThrownBy(() -> submit(spec(QUEUE).idempotencyKey("order-17").build()))
        .isInstanceOf(IdempotencyKeyConflictException.class)
        .hasMessageContaining(first.value());
  }

  // ---------------------------------------------------------------------------------------------
  // readStream

  @Test
  void readStream_returns_a_work_orders_events_in_version_order() {
    WorkOrderId a = submit(QUEUE);
    WorkOrderId b = submit(QUEUE);
    store.append(a, ExpectedVersion.exactly(1), List.of(claimed(OWNER, at(30))));
    store.append(b, ExpectedVersion.exactly(1), List.of(cancelled()));
    store.append(a, ExpectedVersion.exactly(2), List.of(started(), completed()));

    List<RecordedEvent> stream = store.readStream(a);

    assertThat(stream).extracting(RecordedEvent::workOrderId).containsOnly(a);
    assertThat(stream).extracting(RecordedEvent::version).containsExactly(1L, 2L, 3L, 4L);
    assertStrictlyRising(stream);
    assertThat(stream)
        .extracting(r -> r.event().type().typeName())
        .containsExactly("Submitted", "Claimed", "Started", "Completed");
    assertThat(store.readStream(b))
        .extracting(r -> r.event().type().typeName())
        .containsExactly("Submitted", "Cancelled");
  }

  @Test
  void readStream_of_an_unknown_work_order_is_empty() {
    submit(QUEUE);

    assertThat(store.readStream(newId())).isEmpty();
  }

  @Test
  void readStream_returns_every_event_type_exactly_as_appended() {
    WorkOrderId origin = inState(QUEUE, FAILED);
    WorkOrderSpec full =
        spec(QUEUE)
            .payload(
                Map.of(
                    "repo",
                    "acme/api",
                    "count",
                    3,
                    "big",
                    12_345_678_901L,
                    "ratio",
                    0.25,
                    "flags",
                    List.of(true, false),
                    "nested",
                    Map.of("empty", Map.of(), "text", "ünïcødé \"quoted\"")))
            .priority(-7)
            .resources(ResourceRequest.of(2, 4096))
            .maxAttempts(5)
            .timeout(Duration.ofMinutes(30))
            .notBefore(at(-3600))
            .idempotencyKey("full-spec")
            .label("team", "platform")
            .label("ticket", "OPS-1")
            .build();
    WorkOrderId id = newId();
    List<WorkOrderEvent> events =
        List.of(
            new WorkOrderEvent.Submitted(full, origin),
            claimed(OWNER, at(30)),
            cancellationRequested("please stop"),
            failedWithRetry(at(60)),
            retryReleased(),
            claimed("node-b", at(90)),
            new WorkOrderEvent.Started("sandbox-\u00e9"),
            leaseExpired(at(120)),
            retryReleased(),
            claimed("node-c", at(150)),
            started(),
            completedWith(42));
    WorkOrderId other = newId();
    List<WorkOrderEvent> otherEvents =
        List.of(
            submitted(spec(OTHER_QUEUE).build()),
            claimed(OWNER, at(30)),
            new WorkOrderEvent.AttemptFailed(new ErrorInfo("HOST_DEFINED", "", false), null, ""));

    List<RecordedEvent> recorded = store.append(id, ExpectedVersion.none(), events);
    List<RecordedEvent> otherRecorded = store.append(other, ExpectedVersion.none(), otherEvents);

    assertThat(store.readStream(id)).containsExactlyElementsOf(recorded);
    assertThat(store.readStream(id))
        .extracting(RecordedEvent::event)
        .containsExactlyElementsOf(events);
    assertThat(store.readStream(other)).containsExactlyElementsOf(otherRecorded);
    assertThat(store.readStream(other))
        .extracting(RecordedEvent::event)
        .containsExactlyElementsOf(otherEvents);
    WorkOrderView view = view(id);
    assertThat(view.spec()).isEqualTo(full);
    assertThat(view.resubmittedFrom()).contains(origin);
    assertThat(view.result()).contains(completedWith(42).result());
    assertThat(view(other).lastError()).contains(new ErrorInfo("HOST_DEFINED", "", false));
  }

  // ---------------------------------------------------------------------------------------------
  // readLog

  @Test
  void readLog_of_an_empty_store_is_empty() {
    LogPage page = store.readLog(0, 10);

    assertThat(page.events()).isEmpty();
    assertThat(page.lastPosition()).isZero();
  }

  @Test
  void readLog_returns_every_event_of_every_stream_in_position_order() {
    List<RecordedEvent> expected = new ArrayList<>();
    WorkOrderId a = newId();
    WorkOrderId b = newId();
    expected.addAll(store.append(a, ExpectedVersion.none(), List.of(submitted(QUEUE))));
    expected.addAll(store.append(b, ExpectedVersion.none(), List.of(submitted(OTHER_QUEUE))));
    clock.advance(Duration.ofSeconds(1));
    claim(QUEUE, 1);
    expected.add(last(store.readStream(a)));
    expected.addAll(store.append(b, ExpectedVersion.exactly(1), List.of(cancelled())));
    expected.addAll(store.append(a, ExpectedVersion.exactly(2), List.of(started(), completed())));

    LogPage page = store.readLog(0, 100);

    assertThat(page.events()).containsExactlyElementsOf(expected);
    assertStrictlyRising(page.events());
    assertThat(page.lastPosition()).isEqualTo(last(expected).position());
  }

  @Test
  void readLog_pages_continue_after_lastPosition_without_gaps_or_duplicates() {
    for (int i = 0; i < 7; i++) {
      WorkOrderId id = inState(i % 2 == 0 ? QUEUE : OTHER_QUEUE, RUNNING);
      store.append(id, ExpectedVersion.exactly(3), List.of(completed()));
    }
    List<RecordedEvent> all = store.readLog(0, 1000).events();
    assertThat(all).hasSize(28);

    List<RecordedEvent> paged = new ArrayList<>();
    long after = 0;
    int pages = 0;
    while (true) {
      LogPage page = store.readLog(after, 3);
      if (page.events().isEmpty()) {
        assertThat(page.lastPosition()).isEqualTo(after);
        break;
      }
      pages++;
      assertThat(page.events()).hasSizeLessThanOrEqualTo(3);
      assertThat(page.events().get(0).position()).isGreaterThan(after);
      assertThat(page.lastPosition()).isEqualTo(last(page.events()).position());
      paged.addAll(page.events());
      after = page.lastPosition();
    }

    assertThat(pages).isEqualTo(10);
    assertThat(paged).containsExactlyElementsOf(all);
  }

  @Test
  void readLog_after_a_position_starts_with_the_event_after_it() {
    for (int i = 0; i < 4; i++) {
      inState(QUEUE, COMPLETED);
    }
    List<RecordedEvent> all = store.readLog(0, 1000).events();

    for (int k = 0; k < all.size() - 1; k++) {
      LogPage page = store.readLog(all.get(k).position(), 2);
      assertThat(page.events()).first().isEqualTo(all.get(k + 1));
    }
  }

  @Test
  void readLog_past_the_end_is_empty_and_keeps_the_position_asked_for() {
    inState(QUEUE, RUNNING);
    long lastPosition = last(store.readLog(0, 1000).events()).position();

    LogPage atEnd = store.readLog(lastPosition, 10);
    LogPage beyond = store.readLog(lastPosition + 100, 10);

    assertThat(atEnd.events()).isEmpty();
    assertThat(atEnd.lastPosition()).isEqualTo(lastPosition);
    assertThat(beyond.events()).isEmpty();
    assertThat(beyond.lastPosition()).isEqualTo(lastPosition + 100);
  }

  @Test
  void readLog_sees_appends_made_after_an_earlier_read() {
    inState(QUEUE, PREPARING);
    LogPage first = store.readLog(0, 100);

    WorkOrderId later = submit(OTHER_QUEUE);
    LogPage next = store.readLog(first.lastPosition(), 100);

    assertThat(next.events()).extracting(RecordedEvent::workOrderId).containsExactly(later);
    assertThat(next.events().get(0).position()).isGreaterThan(first.lastPosition());
  }

  // ---------------------------------------------------------------------------------------------
  // queryEvents

  @Test
  void queryEvents_of_an_empty_store_is_empty() {
    for (EventQuery.Builder q :
        List.of(EventQuery.builder(), EventQuery.builder().oldestFirst().limit(1))) {
      EventPage page = store.queryEvents(q.build());

      assertThat(page.events()).isEmpty();
      assertThat(page.nextCursor()).isEmpty();
      assertThat(page.hasNext()).isFalse();
    }
  }

  @Test
  void queryEvents_returns_the_newest_events_first_and_the_oldest_first_on_request() {
    WorkOrderId a = newId();
    WorkOrderId b = newId();
    List<RecordedEvent> recorded = new ArrayList<>();
    recorded.addAll(store.append(a, ExpectedVersion.none(), List.of(submitted(QUEUE))));
    clock.set(at(1));
    recorded.addAll(store.append(b, ExpectedVersion.none(), List.of(submitted(OTHER_QUEUE))));
    clock.set(at(2));
    recorded.addAll(store.append(a, ExpectedVersion.exactly(1), List.of(cancelled())));
    clock.set(at(3));
    recorded.addAll(store.append(b, ExpectedVersion.exactly(1), List.of(cancelled())));

    EventPage newest = store.queryEvents(EventQuery.builder().build());
    EventPage oldest = store.queryEvents(EventQuery.builder().oldestFirst().build());

    assertThat(newest.events()).containsExactlyElementsOf(reversed(recorded));
    assertThat(newest.nextCursor()).isEmpty();
    assertThat(oldest.events()).containsExactlyElementsOf(recorded);
    assertThat(oldest.events()).containsExactlyElementsOf(wholeLog());
  }

  @Test
  void queryEvents_by_work_order_returns_only_its_events() {
    WorkOrderId a = newId();
    WorkOrderId b = newId();
    store.append(a, ExpectedVersion.none(), List.of(submitted(QUEUE)));
    store.append(b, ExpectedVersion.none(), List.of(submitted(QUEUE)));
    clock.set(at(5));
    store.append(a, ExpectedVersion.exactly(1), List.of(claimed(OWNER, at(60)), started()));
    store.append(b, ExpectedVersion.exactly(1), List.of(cancelled()));
    clock.set(at(6));
    store.append(a, ExpectedVersion.exactly(3), List.of(completed()));

    EventPage newest = store.queryEvents(EventQuery.builder().workOrder(a).build());
    EventPage oldest = store.queryEvents(EventQuery.builder().workOrder(a).oldestFirst().build());

    assertThat(oldest.events()).hasSize(4).containsExactlyElementsOf(store.readStream(a));
    assertThat(newest.events()).containsExactlyElementsOf(reversed(store.readStream(a)));
    assertThat(store.queryEvents(EventQuery.builder().workOrder(b).build()).events())
        .containsExactlyElementsOf(reversed(store.readStream(b)));
    assertThat(store.queryEvents(EventQuery.builder().workOrder(newId()).build()).events())
        .isEmpty();
  }

  @Test
  void queryEvents_by_types_returns_only_events_of_those_types() {
    List<WorkOrderId> ids = appendLifecycles(new Random(11), 15);
    assertThat(ids).hasSize(15);
    List<RecordedEvent> log = wholeLog();

    for (Set<EventType> types :
        List.of(
            Set.of(EventType.CLAIMED),
            Set.of(EventType.ATTEMPT_FAILED),
            Set.of(EventType.SUBMITTED, EventType.CANCELLED),
            Set.of(EventType.STARTED, EventType.COMPLETED, EventType.RETRY_RELEASED),
            EnumSet.allOf(EventType.class))) {
      List<RecordedEvent> expected =
          newestFirst(log.stream().filter(e -> types.contains(e.event().type())).toList());
      assertThat(expected).as("%s", types).isNotEmpty();

      EventPage page =
          store.queryEvents(EventQuery.builder().types(types).limit(EventQuery.MAX_LIMIT).build());

      assertThat(page.events()).as("%s", types).containsExactlyElementsOf(expected);
    }
  }

  @Test
  void queryEvents_by_a_type_that_was_never_recorded_is_empty() {
    for (int i = 0; i < 3; i++) {
      submit(QUEUE);
    }

    EventPage page =
        store.queryEvents(
            EventQuery.builder().types(EventType.COMPLETED, EventType.RETRY_RELEASED).build());

    assertThat(page.events()).isEmpty();
    assertThat(page.nextCursor()).isEmpty();
  }

  @Test
  void queryEvents_by_time_includes_an_event_at_from_and_excludes_one_at_to() {
    List<RecordedEvent> bySecond = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      clock.set(at(i));
      bySecond.addAll(store.append(newId(), ExpectedVersion.none(), List.of(submitted(QUEUE))));
    }

    assertThat(timeQuery(EventQuery.builder().from(at(2)).to(at(5))))
        .containsExactly(bySecond.get(4), bySecond.get(3), bySecond.get(2));
    assertThat(timeQuery(EventQuery.builder().from(at(2)).to(at(5)).oldestFirst()))
        .containsExactly(bySecond.get(2), bySecond.get(3), bySecond.get(4));
    assertThat(timeQuery(EventQuery.builder().from(at(7))))
        .containsExactly(bySecond.get(9), bySecond.get(8), bySecond.get(7));
    assertThat(timeQuery(EventQuery.builder().to(at(2))))
        .containsExactly(bySecond.get(1), bySecond.get(0));
    assertThat(timeQuery(EventQuery.builder().from(at(2).plusMillis(1)).to(at(3).plusMillis(1))))
        .containsExactly(bySecond.get(3));
    assertThat(timeQuery(EventQuery.builder().from(at(4)).to(at(4).plusMillis(1))))
        .containsExactly(bySecond.get(4));
    assertThat(timeQuery(EventQuery.builder().from(at(4).plusMillis(1)).to(at(5)))).isEmpty();
    assertThat(timeQuery(EventQuery.builder().from(at(10)))).isEmpty();
    assertThat(timeQuery(EventQuery.builder().to(at(0)))).isEmpty();
  }

  @Test
  void queryEvents_orders_by_recorded_time_then_position_even_when_the_clock_went_back() {
    clock.set(at(10));
    RecordedEvent late =
        single(store.append(newId(), ExpectedVersion.none(), List.of(submitted(QUEUE))));
    clock.set(at(5));
    List<RecordedEvent> early =
        store.appendAll(
            List.of(
                AppendRequest.of(newId(), ExpectedVersion.none(), submitted(QUEUE)),
                AppendRequest.of(newId(), ExpectedVersion.none(), submitted(QUEUE))));
    clock.set(at(7));
    RecordedEvent middle =
        single(store.append(newId(), ExpectedVersion.none(), List.of(submitted(QUEUE))));
    assertThat(early.get(0).position()).isGreaterThan(late.position());

    assertThat(store.queryEvents(EventQuery.builder().build()).events())
        .containsExactly(late, middle, early.get(1), early.get(0));
    assertThat(store.queryEvents(EventQuery.builder().oldestFirst().build()).events())
        .containsExactly(early.get(0), early.get(1), middle, late);
    EventPage first = store.queryEvents(EventQuery.builder().limit(2).build());
    assertThat(first.events()).containsExactly(late, middle);
    assertThat(
            store
                .queryEvents(
                    EventQuery.builder().limit(2).after(first.nextCursor().orElseThrow()).build())
                .events())
        .containsExactly(early.get(1), early.get(0));
  }

  @Test
  void queryEvents_gives_a_cursor_only_when_more_events_match_than_the_page_holds() {
    List<RecordedEvent> recorded = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      clock.set(at(i));
      recorded.addAll(store.append(newId(), ExpectedVersion.none(), List.of(submitted(QUEUE))));
    }
    List<RecordedEvent> newest = reversed(recorded);

    EventPage exactly = store.queryEvents(EventQuery.builder().limit(5).build());
    EventPage more = store.queryEvents(EventQuery.builder().limit(6).build());
    EventPage fewer = store.queryEvents(EventQuery.builder().limit(4).build());

    assertThat(exactly.events()).containsExactlyElementsOf(newest);
    assertThat(exactly.nextCursor()).isEmpty();
    assertThat(more.events()).containsExactlyElementsOf(newest);
    assertThat(more.nextCursor()).isEmpty();
    assertThat(fewer.events()).containsExactlyElementsOf(newest.subList(0, 4));
    assertThat(fewer.nextCursor()).isPresent();
    assertThat(fewer.nextCursor().orElseThrow()).matches("[A-Za-z0-9._~-]+");
    EventPage rest =
        store.queryEvents(EventQuery.builder().limit(4).after(fewer.nextCursor().get()).build());
    assertThat(rest.events()).containsExactly(newest.get(4));
    assertThat(rest.nextCursor()).isEmpty();
    EventPage one = store.queryEvents(EventQuery.builder().limit(1).oldestFirst().build());
    assertThat(one.events()).containsExactly(recorded.get(0));
    assertThat(one.nextCursor()).isPresent();
  }

  @Test
  void queryEvents_pages_return_every_matching_event_once_in_order_for_several_page_sizes() {
    // 60 Submitted events at one recorded time, 60 Claimed at another, and lifecycles around
    // them while the clock moves on, stands still and goes back.
    List<AppendRequest> batch = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      batch.add(AppendRequest.of(newId(), ExpectedVersion.none(), submitted(QUEUE)));
    }
    store.appendAll(batch);
    clock.advance(Duration.ofSeconds(1));
    assertThat(claim(QUEUE, 60)).hasSize(60);
    List<WorkOrderId> lifecycles = appendLifecycles(new Random(7), 20);
    WorkOrderId one = lifecycles.get(3);
    List<RecordedEvent> log = wholeLog();
    Instant from = at(1);
    Instant to = log.stream().map(RecordedEvent::recordedAt).max(Instant::compareTo).orElseThrow();
    assertThat(log.stream().filter(e -> e.recordedAt().equals(t0)).count()).isEqualTo(60);

    // Builders keep the cursor: each run of a query starts from a new one.
    Map<String, Supplier<EventQuery.Builder>> queries = new LinkedHashMap<>();
    Map<String, Predicate<RecordedEvent>> filters = new LinkedHashMap<>();
    queries.put("all", () -> EventQuery.builder());
    filters.put("all", e -> true);
    queries.put("submitted", () -> EventQuery.builder().types(EventType.SUBMITTED));
    filters.put("submitted", e -> e.event().type() == EventType.SUBMITTED);
    queries.put(
        "claimed+cancelled",
        () -> EventQuery.builder().types(EventType.CLAIMED, EventType.CANCELLED));
    filters.put(
        "claimed+cancelled",
        e -> e.event().type() == EventType.CLAIMED || e.event().type() == EventType.CANCELLED);
    queries.put("range", () -> EventQuery.builder().from(from).to(to));
    filters.put("range", e -> !e.recordedAt().isBefore(from) && e.recordedAt().isBefore(to));
    queries.put("work order", () -> EventQuery.builder().workOrder(one));
    filters.put("work order", e -> e.workOrderId().equals(one));
    queries.put(
        "claimed+submitted in range",
        () -> EventQuery.builder().types(EventType.CLAIMED, EventType.SUBMITTED).from(t0).to(to));
    filters.put(
        "claimed+submitted in range",
        e ->
            (e.event().type() == EventType.CLAIMED || e.event().type() == EventType.SUBMITTED)
                && !e.recordedAt().isBefore(t0)
                && e.recordedAt().isBefore(to));

    for (String name : queries.keySet()) {
      List<RecordedEvent> expectedOldest =
          oldestFirst(log.stream().filter(filters.get(name)).toList());
      assertThat(expectedOldest).as(name).isNotEmpty();
      for (EventQuery.Order order : EventQuery.Order.values()) {
        List<RecordedEvent> expected =
            order == EventQuery.Order.OLDEST_FIRST ? expectedOldest : reversed(expectedOldest);
        for (int limit : new int[] {1, 2, 7, 50, EventQuery.MAX_LIMIT}) {
          String what = name + "/" + order + "/" + limit;
          Pages pages = allPages(queries.get(name).get().order(order), limit);

          assertThat(pages.events()).as(what).containsExactlyElementsOf(expected);
          assertThat(pages.count())
              .as("%s: pages", what)
              .isEqualTo((expected.size() + limit - 1) / limit);
        }
      }
    }
  }

  @Test
  void queryEvents_combines_work_order_types_and_time_range() {
    WorkOrderId a = newId();
    WorkOrderId b = newId();
    store.append(a, ExpectedVersion.none(), List.of(submitted(QUEUE)));
    store.append(b, ExpectedVersion.none(), List.of(submitted(QUEUE)));
    clock.set(at(10));
    RecordedEvent firstClaim =
        single(store.append(a, ExpectedVersion.exactly(1), List.of(claimed(OWNER, at(60)))));
    store.append(b, ExpectedVersion.exactly(1), List.of(claimed(OWNER, at(60))));
    clock.set(at(20));
    RecordedEvent failed =
        single(store.append(a, ExpectedVersion.exactly(2), List.of(failedWithRetry(at(30)))));
    clock.set(at(30));
    store.append(a, ExpectedVersion.exactly(3), List.of(retryReleased()));
    clock.set(at(40));
    RecordedEvent secondClaim =
        single(store.append(a, ExpectedVersion.exactly(4), List.of(claimed(OWNER, at(90)))));
    clock.set(at(50));
    store.append(a, ExpectedVersion.exactly(5), List.of(started(), completed()));

    EventQuery.Builder claimsAndFailuresOfA =
        EventQuery.builder()
            .workOrder(a)
            .types(EventType.CLAIMED, EventType.ATTEMPT_FAILED)
            .from(at(10))
            .to(at(50));

    assertThat(store.queryEvents(claimsAndFailuresOfA.build()).events())
        .containsExactly(secondClaim, failed, firstClaim);
    assertThat(store.queryEvents(claimsAndFailuresOfA.to(at(40)).oldestFirst().build()).events())
        .containsExactly(firstClaim, failed);
    assertThat(
            store
                .queryEvents(
                    EventQuery.builder().workOrder(a).types(EventType.CLAIMED).from(at(11)).build())
                .events())
        .containsExactly(secondClaim);
    assertThat(
            store
                .queryEvents(
                    EventQuery.builder()
                        .workOrder(b)
                        .types(EventType.COMPLETED, EventType.CLAIMED)
                        .to(at(10))
                        .build())
                .events())
        .isEmpty();
  }

  @Test
  void queryEvents_with_nothing_matching_is_empty() {
    appendLifecycles(new Random(3), 5);
    RecordedEvent newest = store.queryEvents(EventQuery.builder().limit(1).build()).events().get(0);
    RecordedEvent oldest =
        store.queryEvents(EventQuery.builder().oldestFirst().limit(1).build()).events().get(0);

    List<EventQuery.Builder> empty =
        List.of(
            EventQuery.builder().workOrder(newId()),
            EventQuery.builder().to(oldest.recordedAt()),
            EventQuery.builder().from(newest.recordedAt().plusMillis(1)),
            EventQuery.builder().after(EventQuery.cursorOf(oldest)),
            EventQuery.builder().oldestFirst().after(EventQuery.cursorOf(newest)),
            EventQuery.builder()
                .types(EventType.SUBMITTED, EventType.CLAIMED)
                .oldestFirst()
                .after(EventQuery.cursorOf(newest)));
    for (EventQuery.Builder q : empty) {
      EventQuery query = q.build();
      EventPage page = store.queryEvents(query);

      assertThat(page.events()).as("%s", query).isEmpty();
      assertThat(page.nextCursor()).as("%s", query).isEmpty();
    }
  }

  @Test
  void queryEvents_paging_oldest_first_reaches_events_appended_after_the_first_page() {
    List<RecordedEvent> before = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      clock.set(at(i));
      before.addAll(store.append(newId(), ExpectedVersion.none(), List.of(submitted(QUEUE))));
    }
    EventPage oldestPage = store.queryEvents(EventQuery.builder().oldestFirst().limit(3).build());
    EventPage newestPage = store.queryEvents(EventQuery.builder().limit(3).build());

    clock.set(at(10));
    List<RecordedEvent> after =
        store.append(newId(), ExpectedVersion.none(), List.of(submitted(QUEUE), cancelled()));

    List<RecordedEvent> oldestRest =
        allPages(EventQuery.builder().oldestFirst().after(oldestPage.nextCursor().orElseThrow()), 3)
            .events();
    List<RecordedEvent> newestRest =
        allPages(EventQuery.builder().after(newestPage.nextCursor().orElseThrow()), 3).events();

    List<RecordedEvent> expected = new ArrayList<>(before.subList(3, 5));
    expected.addAll(after);
    assertThat(oldestRest).containsExactlyElementsOf(expected);
    assertThat(newestRest).containsExactly(before.get(1), before.get(0));
  }

  @Test
  void queryEvents_leaves_out_streams_deleted_by_retention() {
    WorkOrderId done = inState(QUEUE, COMPLETED);
    clock.set(at(100));
    WorkOrderId kept = inState(QUEUE, COMPLETED);
    WorkOrderId live = submit(QUEUE);
    assertThat(store.deleteTerminalBefore(at(50), 10)).isEqualTo(1);

    for (EventQuery.Builder q :
        List.of(
            EventQuery.builder(),
            EventQuery.builder().oldestFirst(),
            EventQuery.builder().types(EventType.SUBMITTED, EventType.COMPLETED),
            EventQuery.builder().types(EventType.COMPLETED),
            EventQuery.builder().to(at(1)),
            EventQuery.builder().workOrder(done))) {
      assertThat(store.queryEvents(q.build()).events())
          .extracting(RecordedEvent::workOrderId)
          .doesNotContain(done);
    }
    assertThat(store.queryEvents(EventQuery.builder().build()).events())
        .extracting(RecordedEvent::workOrderId)
        .containsOnly(kept, live)
        .hasSize(5);
  }

  @Test
  void queryEvents_after_a_cursor_between_two_recorded_times_continues_from_that_time() {
    List<RecordedEvent> atZero =
        store.appendAll(
            List.of(
                AppendRequest.of(newId(), ExpectedVersion.none(), submitted(QUEUE)),
                AppendRequest.of(newId(), ExpectedVersion.none(), submitted(QUEUE))));
    clock.set(at(1));
    List<RecordedEvent> atOne =
        store.appendAll(
            List.of(
                AppendRequest.of(newId(), ExpectedVersion.none(), submitted(QUEUE)),
                AppendRequest.of(newId(), ExpectedVersion.none(), submitted(QUEUE))));
    // Not a cursor of this store: a time between its recorded times, finer than a microsecond.
    String between =
        EventQuery.cursorOf(new RecordedEvent(1, newId(), 1, t0.plusNanos(500), submitted(QUEUE)));

    assertThat(store.queryEvents(EventQuery.builder().after(between).build()).events())
        .containsExactly(atZero.get(1), atZero.get(0));
    assertThat(
            store.queryEvents(EventQuery.builder().oldestFirst().after(between).build()).events())
        .containsExactlyElementsOf(atOne);
  }

  @Test
  void queryEvents_agrees_with_the_log_for_random_queries_and_page_sizes() {
    Random random = new Random(20_250_101);
    List<WorkOrderId> ids = appendLifecycles(random, 30);
    List<RecordedEvent> log = wholeLog();
    Instant first = log.stream().map(RecordedEvent::recordedAt).min(Instant::compareTo).get();
    Instant last = log.stream().map(RecordedEvent::recordedAt).max(Instant::compareTo).get();
    long span = Duration.between(first, last).toMillis() + 2;
    EventType[] allTypes = EventType.values();

    for (int n = 0; n < 60; n++) {
      EventQuery.Builder q = EventQuery.builder();
      List<Predicate<RecordedEvent>> filter = new ArrayList<>();
      if (random.nextInt(4) == 0) {
        WorkOrderId id = ids.get(random.nextInt(ids.size()));
        q.workOrder(id);
        filter.add(e -> e.workOrderId().equals(id));
      }
      if (random.nextBoolean()) {
        Set<EventType> types = EnumSet.noneOf(EventType.class);
        for (int k = random.nextInt(3); k >= 0; k--) {
          types.add(allTypes[random.nextInt(allTypes.length)]);
        }
        q.types(types);
        filter.add(e -> types.contains(e.event().type()));
      }
      Instant from = random.nextInt(3) == 0 ? null : first.plusMillis(random.nextLong(span) - 1);
      Instant to = random.nextInt(3) == 0 ? null : first.plusMillis(random.nextLong(span) + 1);
      if (from != null && to != null && !from.isBefore(to)) {
        Instant swap = from;
        from = to;
        to = swap.plusMillis(1);
      }
      if (from != null) {
        Instant f = from;
        q.from(f);
        filter.add(e -> !e.recordedAt().isBefore(f));
      }
      if (to != null) {
        Instant t = to;
        q.to(t);
        filter.add(e -> e.recordedAt().isBefore(t));
      }
      boolean oldestFirst = random.nextBoolean();
      q.order(oldestFirst ? EventQuery.Order.OLDEST_FIRST : EventQuery.Order.NEWEST_FIRST);
      int limit = new int[] {1, 3, 10, 100}[random.nextInt(4)];
      List<RecordedEvent> expected =
          oldestFirst(log.stream().filter(e -> filter.stream().allMatch(f -> f.test(e))).toList());
      if (!oldestFirst) {
        expected = reversed(expected);
      }
      String what = q.build() + " limit " + limit;

      Pages pages = allPages(q, limit);

      assertThat(pages.events()).as(what).containsExactlyElementsOf(expected);
      assertThat(pages.count())
          .as(what)
          .isEqualTo(Math.max(1, (expected.size() + limit - 1) / limit));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // find

  @Test
  void find_of_an_unknown_work_order_is_empty() {
    submit(QUEUE);

    assertThat(store.find(newId())).isEmpty();
  }

  @Test
  void find_follows_a_work_order_through_its_life() {
    WorkOrderId id = submit(spec(QUEUE).priority(2).build());

    clock.set(at(1));
    WorkOrderView claimed = claimOne(QUEUE);
    assertThat(claimed.id()).isEqualTo(id);
    WorkOrderView v = view(id);
    assertThat(v.state()).isEqualTo(PREPARING);
    assertThat(v.version()).isEqualTo(2);
    assertThat(v.attempt()).isEqualTo(1);
    assertThat(v.leaseOwner()).contains(OWNER);
    assertThat(v.leaseExpiresAt()).contains(at(31));
    assertThat(v.updatedAt()).isEqualTo(at(1));
    assertThat(v.submittedAt()).isEqualTo(t0);

    clock.set(at(2));
    store.append(id, ExpectedVersion.exactly(2), List.of(started()));
    assertThat(view(id).state()).isEqualTo(RUNNING);
    assertThat(view(id).leaseOwner()).contains(OWNER);

    clock.set(at(3));
    store.append(id, ExpectedVersion.exactly(3), List.of(failedWithRetry(at(60))));
    v = view(id);
    assertThat(v.state()).isEqualTo(WAITING_RETRY);
    assertThat(v.nextAttemptAt()).contains(at(60));
    assertThat(v.lastError()).map(ErrorInfo::code).contains(ErrorCodes.TIMEOUT);
    assertThat(v.leaseOwner()).isEmpty();
    assertThat(v.leaseExpiresAt()).isEmpty();
    assertThat(v.attempt()).isEqualTo(1);

    clock.set(at(60));
    store.append(id, ExpectedVersion.exactly(4), List.of(retryReleased()));
    v = view(id);
    assertThat(v.state()).isEqualTo(PENDING);
    assertThat(v.availableAt()).isEqualTo(at(60));
    assertThat(v.nextAttemptAt()).isEmpty();

    clock.set(at(61));
    claim(QUEUE, "node-b", 1, Capacity.unlimited(), at(61));
    v = view(id);
    assertThat(v.attempt()).isEqualTo(2);
    assertThat(v.leaseOwner()).contains("node-b");
    assertThat(v.leaseExpiresAt()).contains(at(91));

    clock.set(at(62));
    store.append(id, ExpectedVersion.exactly(6), List.of(started(), cancellationRequested("stop")));
    assertThat(view(id).cancellationRequested()).contains("stop");
    assertThat(view(id).state()).isEqualTo(RUNNING);

    clock.set(at(63));
    store.append(id, ExpectedVersion.exactly(8), List.of(completedWith(7)));
    v = view(id);
    assertThat(v.state()).isEqualTo(COMPLETED);
    assertThat(v.version()).isEqualTo(9);
    assertThat(v.result()).contains(completedWith(7).result());
    assertThat(v.leaseOwner()).isEmpty();
    assertThat(v.leaseExpiresAt()).isEmpty();
    assertThat(v.updatedAt()).isEqualTo(at(63));
    assertThat(v.submittedAt()).isEqualTo(t0);
  }

  @Test
  void find_matches_the_fold_of_the_work_orders_stream() {
    List<WorkOrderId> ids = new ArrayList<>();
    for (WorkOrderState state : WorkOrderState.values()) {
      ids.add(inState(QUEUE, state));
      clock.advance(Duration.ofSeconds(1));
    }
    ids.add(submit(spec(OTHER_QUEUE).notBefore(at(500)).build()));
    WorkOrderId cycled = inState(QUEUE, WAITING_RETRY);
    clock.advance(Duration.ofSeconds(90));
    store.append(cycled, ExpectedVersion.exactly(3), List.of(retryReleased()));
    clock.advance(Duration.ofSeconds(1));
    claim(QUEUE, "node-b", 10, Capacity.unlimited(), clock.instant());
    ids.add(cycled);

    for (WorkOrderId id : ids) {
      WorkOrder folded = WorkOrder.fold(store.readStream(id));
      assertThat(ViewSnapshot.of(view(id))).as("view of %s", id).isEqualTo(ViewSnapshot.of(folded));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // query

  @Test
  void query_without_filters_returns_every_work_order_in_submission_order() {
    List<WorkOrderId> ids = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      ids.add(inState(i % 3 == 0 ? OTHER_QUEUE : QUEUE, WorkOrderState.values()[i % 7]));
      clock.advance(Duration.ofSeconds(1));
    }

    Page<WorkOrderView> page = store.query(WorkOrderQuery.builder().build());

    assertThat(page.items()).extracting(WorkOrderView::id).containsExactlyElementsOf(ids);
    assertThat(page.hasNext()).isFalse();
    assertThat(page.nextCursor()).isEmpty();
    for (WorkOrderView v : page.items()) {
      assertThat(ViewSnapshot.of(v)).isEqualTo(ViewSnapshot.of(view(v.id())));
    }
  }

  @Test
  void query_of_an_empty_store_or_unknown_queue_is_empty() {
    assertThat(store.query(WorkOrderQuery.builder().build()).items()).isEmpty();
    submit(QUEUE);

    Page<WorkOrderView> page = store.query(WorkOrderQuery.builder().queue("nowhere").build());

    assertThat(page.items()).isEmpty();
    assertThat(page.hasNext()).isFalse();
  }

  @Test
  void query_by_queue_returns_only_that_queue() {
    WorkOrderId a = submit(QUEUE);
    WorkOrderId b = submit(OTHER_QUEUE);
    WorkOrderId c = inState(QUEUE, COMPLETED);
    WorkOrderId d = inState(OTHER_QUEUE, RUNNING);

    assertThat(ids(store.query(WorkOrderQuery.builder().queue(QUEUE).build()).items()))
        .containsExactly(a, c);
    assertThat(ids(store.query(WorkOrderQuery.builder().queue(OTHER_QUEUE).build()).items()))
        .containsExactly(b, d);
  }

  @Test
  void query_by_states_returns_only_those_states() {
    Map<WorkOrderState, WorkOrderId> byState = new EnumMap<>(WorkOrderState.class);
    for (WorkOrderState state : WorkOrderState.values()) {
      byState.put(state, inState(QUEUE, state));
    }
    WorkOrderId otherPending = submit(OTHER_QUEUE);

    assertThat(ids(store.query(WorkOrderQuery.builder().states(PENDING).build()).items()))
        .containsExactly(byState.get(PENDING), otherPending);
    assertThat(
            ids(
                store
                    .query(WorkOrderQuery.builder().states(WAITING_RETRY, CANCELLED).build())
                    .items()))
        .containsExactly(byState.get(WAITING_RETRY), byState.get(CANCELLED));
    assertThat(
            ids(
                store
                    .query(WorkOrderQuery.builder().queue(QUEUE).states(PENDING, RUNNING).build())
                    .items()))
        .containsExactly(byState.get(PENDING), byState.get(RUNNING));
    assertThat(
            store.query(WorkOrderQuery.builder().queue(OTHER_QUEUE).states(FAILED).build()).items())
        .isEmpty();
  }

  @Test
  void query_by_submission_time_includes_from_and_excludes_before() {
    List<WorkOrderId> ids = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      clock.set(at(i));
      ids.add(submit(QUEUE));
    }
    clock.set(at(100));
    store.append(ids.get(3), ExpectedVersion.exactly(1), List.of(cancelled()));

    assertThat(
            ids(
                store
                    .query(WorkOrderQuery.builder().submittedBetween(at(2), at(5)).build())
                    .items()))
        .containsExactlyElementsOf(ids.subList(2, 5));
    assertThat(
            ids(
                store
                    .query(WorkOrderQuery.builder().submittedBetween(at(7), null).build())
                    .items()))
        .containsExactlyElementsOf(ids.subList(7, 10));
    assertThat(
            ids(
                store
                    .query(WorkOrderQuery.builder().submittedBetween(null, at(2)).build())
                    .items()))
        .containsExactlyElementsOf(ids.subList(0, 2));
    assertThat(
            ids(
                store
                    .query(
                        WorkOrderQuery.builder()
                            .submittedBetween(at(2), at(6))
                            .states(CANCELLED)
                            .build())
                    .items()))
        .containsExactly(ids.get(3));
    assertThat(store.query(WorkOrderQuery.builder().submittedBetween(at(4), at(4)).build()).items())
        .isEmpty();
  }

  @Test
  void query_pages_with_a_cursor_without_duplicates_or_gaps_oldest_or_newest_first() {
    record Row(WorkOrderId id, String queue, WorkOrderState state, Instant submittedAt) {}
    List<Row> rows = new ArrayList<>();
    for (int batch = 0; batch < 6; batch++) {
      clock.set(at(batch * 10L));
      List<AppendRequest> requests = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        int n = batch * 40 + i;
        String queue = n % 3 == 0 ? OTHER_QUEUE : QUEUE;
        WorkOrderId id = newId();
        List<WorkOrderEvent> events = new ArrayList<>(List.of(submitted(queue)));
        WorkOrderState state = PENDING;
        if (n % 4 == 1) {
          events.add(claimed(OWNER, at(1000)));
          state = PREPARING;
        } else if (n % 5 == 2) {
          events.add(cancelled());
          state = CANCELLED;
        }
        requests.add(new AppendRequest(id, ExpectedVersion.none(), events));
        rows.add(new Row(id, queue, state, clock.instant()));
      }
      store.appendAll(requests);
    }
    Map<String, Predicate<Row>> filters = new LinkedHashMap<>();
    Map<String, WorkOrderQuery.Builder> queries = new LinkedHashMap<>();
    filters.put("all", r -> true);
    queries.put("all", WorkOrderQuery.builder());
    filters.put("queue", r -> r.queue().equals(QUEUE));
    queries.put("queue", WorkOrderQuery.builder().queue(QUEUE));
    filters.put("pending", r -> r.state() == PENDING);
    queries.put("pending", WorkOrderQuery.builder().states(PENDING));
    filters.put(
        "queue+states+time",
        r ->
            r.queue().equals(QUEUE)
                && (r.state() == PREPARING || r.state() == CANCELLED)
                && !r.submittedAt().isBefore(at(10))
                && r.submittedAt().isBefore(at(50)));
    queries.put(
        "queue+states+time",
        WorkOrderQuery.builder()
            .queue(QUEUE)
            .states(PREPARING, CANCELLED)
            .submittedBetween(at(10), at(50)));

    for (String filter : filters.keySet()) {
      for (WorkOrderQuery.Order order : WorkOrderQuery.Order.values()) {
        List<WorkOrderId> expected =
            rows.stream().filter(filters.get(filter)).map(Row::id).collect(Collectors.toList());
        if (order == WorkOrderQuery.Order.NEWEST_FIRST) {
          Collections.reverse(expected);
        }
        pageThrough(filter + "/" + order, queries.get(filter).order(order), expected);
      }
    }
  }

  /** Pages through a query with several page sizes and checks it returns exactly the expected. */
  private void pageThrough(String name, WorkOrderQuery.Builder query, List<WorkOrderId> expected) {
    assertThat(expected).as(name).isNotEmpty();
    for (int limit : new int[] {1, 7, 50}) {
      List<WorkOrderId> paged = new ArrayList<>();
      long cursor = 0;
      int pages = 0;
      while (true) {
        Page<WorkOrderView> page = store.query(query.after(cursor).limit(limit).build());
        pages++;
        assertThat(pages).as("%s/%d pages", name, limit).isLessThanOrEqualTo(expected.size());
        paged.addAll(ids(page.items()));
        if (!page.hasNext()) {
          break;
        }
        assertThat(page.items())
            .as("%s/%d: a page with a cursor is full", name, limit)
            .hasSize(limit);
        cursor = page.nextCursor().getAsLong();
      }
      assertThat(paged).as("%s/%d", name, limit).containsExactlyElementsOf(expected);
      assertThat(pages)
          .as("%s/%d pages", name, limit)
          .isEqualTo((expected.size() + limit - 1) / limit);
    }
  }

  @Test
  void query_cursor_stays_valid_while_work_orders_change_state() {
    List<WorkOrderId> ids = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      ids.add(submit(QUEUE));
      clock.advance(Duration.ofMillis(10));
    }
    Page<WorkOrderView> first = store.query(WorkOrderQuery.builder().limit(10).build());
    assertThat(ids(first.items())).containsExactlyElementsOf(ids.subList(0, 10));
    Page<WorkOrderView> firstPending =
        store.query(WorkOrderQuery.builder().states(PENDING).limit(10).build());
    assertThat(ids(firstPending.items())).containsExactlyElementsOf(ids.subList(0, 10));

    assertThat(claim(QUEUE, 25)).hasSize(25);
    for (WorkOrderId id : ids.subList(40, 45)) {
      store.append(id, ExpectedVersion.exactly(1), List.of(cancelled()));
    }
    store.append(ids.get(3), ExpectedVersion.exactly(2), List.of(started(), completed()));
    List<WorkOrderId> added = List.of(submit(QUEUE), submit(QUEUE));

    List<WorkOrderView> rest =
        readAllPages(WorkOrderQuery.builder(), first.nextCursor().getAsLong(), 10);
    List<WorkOrderId> expected = new ArrayList<>(ids.subList(10, 60));
    expected.addAll(added);
    assertThat(ids(rest)).containsExactlyElementsOf(expected);
    for (WorkOrderView v : rest) {
      assertThat(v.state()).isEqualTo(view(v.id()).state());
    }
    assertThat(rest.get(5).state()).isEqualTo(PREPARING);
    assertThat(rest.get(30).state()).isEqualTo(CANCELLED);

    List<WorkOrderView> restPending =
        readAllPages(
            WorkOrderQuery.builder().states(PENDING), firstPending.nextCursor().getAsLong(), 10);
    List<WorkOrderId> expectedPending = new ArrayList<>(ids.subList(25, 40));
    expectedPending.addAll(ids.subList(45, 60));
    expectedPending.addAll(added);
    assertThat(ids(restPending)).containsExactlyElementsOf(expectedPending);
  }

  // ---------------------------------------------------------------------------------------------
  // counts

  @Test
  void counts_of_an_empty_store_is_empty() {
    assertThat(store.counts().queues()).isEmpty();
  }

  @Test
  void counts_has_every_state_for_each_queue_with_work_orders() {
    submit(QUEUE);

    QueueCounts counts = store.counts();

    assertThat(counts.queues()).containsOnly(QUEUE);
    assertThat(counts.byState(QUEUE)).containsOnlyKeys(WorkOrderState.values());
    assertThat(counts.byState(QUEUE).get(PENDING)).isEqualTo(1);
    assertThat(counts.byState(QUEUE).values().stream().mapToLong(Long::longValue).sum())
        .isEqualTo(1);
  }

  @Test
  void counts_follow_every_transition() {
    for (WorkOrderState state : WorkOrderState.values()) {
      for (int i = 0; i <= state.ordinal(); i++) {
        inState(QUEUE, state);
      }
    }
    submit(OTHER_QUEUE);
    submit(OTHER_QUEUE);

    QueueCounts counts = store.counts();
    assertThat(counts.queues()).containsOnly(QUEUE, OTHER_QUEUE);
    for (WorkOrderState state : WorkOrderState.values()) {
      assertThat(counts.byState(QUEUE).get(state)).as("%s", state).isEqualTo(state.ordinal() + 1L);
      assertThat(counts.byState(OTHER_QUEUE).get(state))
          .as("%s", state)
          .isEqualTo(state == PENDING ? 2L : 0L);
    }

    WorkOrderId claimed = claimOne(OTHER_QUEUE).id();
    store.append(claimed, ExpectedVersion.exactly(2), List.of(failedWithRetry(at(60))));
    assertThat(count(OTHER_QUEUE, PENDING)).isEqualTo(1);
    assertThat(count(OTHER_QUEUE, PREPARING)).isZero();
    assertThat(count(OTHER_QUEUE, WAITING_RETRY)).isEqualTo(1);
    assertThat(count(QUEUE, PENDING)).isEqualTo(1);
  }

  // ---------------------------------------------------------------------------------------------
  // query filters: types, labels, error code, resubmitted-from

  @Test
  void query_by_types_returns_only_those_types() {
    WorkOrderId a1 = submit(typed(QUEUE, "render"));
    WorkOrderId b1 = submit(typed(QUEUE, "transcode"));
    WorkOrderId c1 = submit(typed(OTHER_QUEUE, "render"));
    WorkOrderId d1 = submit(typed(QUEUE, "index"));
    WorkOrderId a2 = inStateFrom(typed(QUEUE, "render"), COMPLETED);

    assertThat(queried(WorkOrderQuery.builder().types("render"))).containsExactly(a1, c1, a2);
    assertThat(queried(WorkOrderQuery.builder().types("render", "index")))
        .containsExactly(a1, c1, d1, a2);
    assertThat(queried(WorkOrderQuery.builder().types("render").types("transcode")))
        .as("types adds to earlier calls")
        .containsExactly(a1, b1, c1, a2);
    assertThat(queried(WorkOrderQuery.builder().types("render").queue(QUEUE)))
        .containsExactly(a1, a2);
    assertThat(queried(WorkOrderQuery.builder().types("render").states(COMPLETED)))
        .containsExactly(a2);
    assertThat(queried(WorkOrderQuery.builder().types("Render", "rend", "nothing"))).isEmpty();
  }

  @Test
  void query_by_label_matches_key_and_value_exactly_with_dots_quotes_and_empty_values() {
    WorkOrderId prod = submit(labelled(Map.of("env", "prod")));
    WorkOrderId production = submit(labelled(Map.of("env", "production")));
    WorkOrderId empty = submit(labelled(Map.of("env", "")));
    WorkOrderId none = submit(spec(QUEUE).build());
    WorkOrderId dotted = submit(labelled(Map.of("a.b", "x")));
    WorkOrderId nested = submit(labelled(Map.of("a", "{\"b\":\"x\"}")));
    WorkOrderId quoted = submit(labelled(Map.of("say \"hi\"", "it's \"q\" \\ and \\u0000")));
    WorkOrderId nulInPayload =
        submit(
            spec(QUEUE)
                .label("env", "prod")
                .payload(Map.of("text", "a\u0000b", "slash", "\\u0000", "both", "\\\u0000"))
                .build());
    WorkOrderId unicode = submit(labelled(Map.of("région", "Zürich ☃ 𝄞")));

    assertThat(queried(WorkOrderQuery.builder().label("env", "prod")))
        .containsExactly(prod, nulInPayload);
    assertThat(queried(WorkOrderQuery.builder().label("env", "production")))
        .containsExactly(production);
    assertThat(queried(WorkOrderQuery.builder().label("env", "")))
        .as("an empty value matches only an empty value, not a missing label")
        .containsExactly(empty);
    assertThat(queried(WorkOrderQuery.builder().label("env", "pro"))).isEmpty();
    assertThat(queried(WorkOrderQuery.builder().label("ENV", "prod"))).isEmpty();
    assertThat(queried(WorkOrderQuery.builder().label("a.b", "x")))
        .as("a key with a dot is one key, not a path")
        .containsExactly(dotted);
    assertThat(queried(WorkOrderQuery.builder().label("a", "{\"b\":\"x\"}")))
        .containsExactly(nested);
    assertThat(queried(WorkOrderQuery.builder().label("a", "x"))).isEmpty();
    assertThat(queried(WorkOrderQuery.builder().label("say \"hi\"", "it's \"q\" \\ and \\u0000")))
        .containsExactly(quoted);
    assertThat(queried(WorkOrderQuery.builder().label("say \"hi\"", "it's \"q\" \\ and ")))
        .isEmpty();
    assertThat(queried(WorkOrderQuery.builder().label("région", "Zürich ☃ 𝄞")))
        .containsExactly(unicode);
    assertThat(queried(WorkOrderQuery.builder().label("nothing", "x"))).isEmpty();
    assertThat(none).isNotNull();
  }

  @Test
  void query_by_two_labels_returns_only_work_orders_with_both() {
    WorkOrderId both = submit(labelled(Map.of("team", "video", "tier", "gold", "x", "y")));
    WorkOrderId teamOnly = submit(labelled(Map.of("team", "video")));
    WorkOrderId tierOnly = submit(labelled(Map.of("tier", "gold")));
    WorkOrderId otherTier = submit(labelled(Map.of("team", "video", "tier", "silver")));
    WorkOrderId bothAgain = inStateFrom(labelled(Map.of("tier", "gold", "team", "video")), FAILED);

    assertThat(queried(WorkOrderQuery.builder().label("team", "video").label("tier", "gold")))
        .containsExactly(both, bothAgain);
    assertThat(queried(WorkOrderQuery.builder().label("team", "video")))
        .containsExactly(both, teamOnly, otherTier, bothAgain);
    assertThat(
            queried(
                WorkOrderQuery.builder()
                    .label("team", "video")
                    .label("tier", "gold")
                    .label("team", "video")
                    .states(FAILED)))
        .containsExactly(bothAgain);
    assertThat(queried(WorkOrderQuery.builder().label("tier", "gold").label("x", "z"))).isEmpty();
    assertThat(tierOnly).isNotNull();
  }

  @Test
  void query_by_errorCode_matches_the_code_of_the_last_error() {
    WorkOrderId timedOut = inState(QUEUE, WAITING_RETRY);
    WorkOrderId fatal = inState(QUEUE, FAILED);
    WorkOrderId cancelled = inState(OTHER_QUEUE, CANCELLED);
    WorkOrderId clean = inState(QUEUE, COMPLETED);
    WorkOrderId pending = submit(QUEUE);
    WorkOrderId reaped = newId();
    store.append(
        reaped,
        ExpectedVersion.none(),
        List.of(
            submitted(QUEUE),
            claimed(OWNER, at(30)),
            failedWithRetry(at(60)),
            retryReleased(),
            claimed(OWNER, at(90)),
            leaseExpired(at(120))));
    WorkOrderId completedAfterTimeout = newId();
    store.append(
        completedAfterTimeout,
        ExpectedVersion.none(),
        List.of(
            submitted(QUEUE),
            claimed(OWNER, at(30)),
            failedWithRetry(at(60)),
            retryReleased(),
            claimed(OWNER, at(90)),
            started(),
            completed()));

    assertThat(view(completedAfterTimeout).lastError()).isPresent();
    assertThat(queried(WorkOrderQuery.builder().errorCode(ErrorCodes.TIMEOUT)))
        .as("the last error's code, whatever the state")
        .containsExactly(timedOut, completedAfterTimeout);
    assertThat(queried(WorkOrderQuery.builder().errorCode(ErrorCodes.LEASE_EXPIRED)))
        .as("an earlier error does not count")
        .containsExactly(reaped);
    assertThat(queried(WorkOrderQuery.builder().errorCode(ErrorCodes.AGENT_FATAL_ERROR)))
        .containsExactly(fatal);
    assertThat(queried(WorkOrderQuery.builder().errorCode(ErrorCodes.CANCELLED)))
        .containsExactly(cancelled);
    assertThat(
            queried(WorkOrderQuery.builder().errorCode(ErrorCodes.TIMEOUT).states(WAITING_RETRY)))
        .containsExactly(timedOut);
    assertThat(queried(WorkOrderQuery.builder().errorCode("NO_SUCH_CODE"))).isEmpty();
    assertThat(List.of(clean, pending)).doesNotContainNull();
  }

  @Test
  void query_by_resubmittedFrom_returns_the_work_orders_resubmitted_from_that_one() {
    WorkOrderId failed = inState(QUEUE, FAILED);
    WorkOrderId cancelled = inState(QUEUE, CANCELLED);
    WorkOrderId first = resubmit(failed, QUEUE);
    submit(QUEUE);
    WorkOrderId ofCancelled = resubmit(cancelled, OTHER_QUEUE);
    WorkOrderId second = resubmit(failed, OTHER_QUEUE);
    store.append(second, ExpectedVersion.exactly(1), List.of(cancelled()));
    WorkOrderId ofResubmission = resubmit(second, QUEUE);

    assertThat(queried(WorkOrderQuery.builder().resubmittedFrom(failed)))
        .containsExactly(first, second);
    assertThat(queried(WorkOrderQuery.builder().resubmittedFrom(cancelled)))
        .containsExactly(ofCancelled);
    assertThat(queried(WorkOrderQuery.builder().resubmittedFrom(second)))
        .as("only direct resubmissions")
        .containsExactly(ofResubmission);
    assertThat(queried(WorkOrderQuery.builder().resubmittedFrom(failed).queue(OTHER_QUEUE)))
        .containsExactly(second);
    assertThat(queried(WorkOrderQuery.builder().resubmittedFrom(failed).states(PENDING)))
        .containsExactly(first);
    assertThat(queried(WorkOrderQuery.builder().resubmittedFrom(first))).isEmpty();
    assertThat(queried(WorkOrderQuery.builder().resubmittedFrom(newId()))).isEmpty();
  }

  @Test
  void not_resubmitted_leaves_out_the_work_orders_something_was_resubmitted_from() {
    WorkOrderId handled = inState(QUEUE, FAILED);
    WorkOrderId unhandled = inState(QUEUE, FAILED);
    WorkOrderId cancelled = inState(OTHER_QUEUE, CANCELLED);
    WorkOrderId resubmission = resubmit(handled, QUEUE);
    WorkOrderId ofCancelled = resubmit(cancelled, QUEUE);
    WorkOrderId plain = submit(QUEUE);

    assertThat(queried(WorkOrderQuery.builder().states(FAILED).notResubmitted()))
        .containsExactly(unhandled);
    assertThat(queried(WorkOrderQuery.builder().notResubmitted()))
        .containsExactly(unhandled, resubmission, ofCancelled, plain);
    assertThat(
            queried(
                WorkOrderQuery.builder()
                    .notResubmitted()
                    .order(WorkOrderQuery.Order.NEWEST_FIRST)
                    .queue(QUEUE)))
        .containsExactly(plain, ofCancelled, resubmission, unhandled);
    assertThat(
            store.count(
                WorkOrderQuery.builder().states(FAILED, CANCELLED).notResubmitted().build(),
                WorkOrderQuery.CountBy.STATE))
        .containsEntry(FAILED.name(), 1L)
        .containsEntry(CANCELLED.name(), 0L);
    assertThat(
            store.count(
                WorkOrderQuery.builder().notResubmitted().build(), WorkOrderQuery.CountBy.QUEUE))
        .containsExactly(java.util.Map.entry(QUEUE, 4L));
    assertThat(WorkOrderQuery.builder().notResubmitted().build().notResubmitted()).isTrue();
    assertThat(WorkOrderQuery.builder().build().notResubmitted()).isFalse();
  }

  @Test
  void query_combines_every_filter() {
    Fleet fleet = fleet();
    WorkOrderQuery.Builder query =
        WorkOrderQuery.builder()
            .queue(QUEUE)
            .states(FAILED, WAITING_RETRY, PENDING)
            .types("render", "index")
            .label("team", "video")
            .errorCode(ErrorCodes.TIMEOUT)
            .resubmittedFrom(fleet.original())
            .submittedBetween(at(5), at(40));

    List<WorkOrderId> expected = matching(fleet, query.build());

    assertThat(expected).as("the fleet holds matches").isNotEmpty();

    assertThat(queried(query)).containsExactlyElementsOf(expected);
    for (WorkOrderId id : fleet.ids()) {
      WorkOrderView v = view(id);
      boolean each =
          v.queue().equals(QUEUE)
              && EnumSet.of(FAILED, WAITING_RETRY, PENDING).contains(v.state())
              && Set.of("render", "index").contains(v.type())
              && "video".equals(v.labels().get("team"))
              && v.lastError().map(e -> e.code().equals(ErrorCodes.TIMEOUT)).orElse(false)
              && v.resubmittedFrom().equals(Optional.of(fleet.original()))
              && !v.submittedAt().isBefore(at(5))
              && v.submittedAt().isBefore(at(40));
      assertThat(expected.contains(id)).as("%s matches", v).isEqualTo(each);
    }
  }

  @Test
  void query_with_filters_pages_through_exactly_the_matching_work_orders_in_either_order() {
    Fleet fleet = fleet();
    Map<String, WorkOrderQuery.Builder> queries = new LinkedHashMap<>();
    queries.put("type", WorkOrderQuery.builder().types("render"));
    queries.put("label", WorkOrderQuery.builder().label("team", "video"));
    queries.put("two labels", WorkOrderQuery.builder().label("team", "video").label("a.b", "1"));
    queries.put("errorCode", WorkOrderQuery.builder().errorCode(ErrorCodes.TIMEOUT));
    queries.put("resubmittedFrom", WorkOrderQuery.builder().resubmittedFrom(fleet.original()));
    queries.put(
        "combined",
        WorkOrderQuery.builder()
            .queue(QUEUE)
            .types("render", "index")
            .label("team", "video")
            .states(PENDING, FAILED, WAITING_RETRY, COMPLETED));
    for (Map.Entry<String, WorkOrderQuery.Builder> q : queries.entrySet()) {
      for (WorkOrderQuery.Order order : WorkOrderQuery.Order.values()) {
        List<WorkOrderId> expected = matching(fleet, q.getValue().build());
        if (order == WorkOrderQuery.Order.NEWEST_FIRST) {
          Collections.reverse(expected);
        }
        pageThrough(q.getKey() + "/" + order, q.getValue().order(order), expected);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // count

  @Test
  void count_of_an_empty_store_lists_every_state_at_zero_and_no_other_group() {
    WorkOrderQuery all = WorkOrderQuery.builder().build();

    assertThat(store.count(all, WorkOrderQuery.CountBy.STATE)).isEqualTo(stateZeros());
    assertThat(store.count(all, WorkOrderQuery.CountBy.QUEUE)).isEmpty();
    assertThat(store.count(all, WorkOrderQuery.CountBy.TYPE)).isEmpty();
    assertThat(store.count(all, WorkOrderQuery.CountBy.ERROR_CODE)).isEmpty();
  }

  @Test
  void count_groups_the_matching_work_orders_by_each_grouping() {
    inState(QUEUE, PENDING);
    inState(QUEUE, PENDING);
    inState(QUEUE, WAITING_RETRY);
    inState(QUEUE, FAILED);
    inState(OTHER_QUEUE, CANCELLED);
    inState(OTHER_QUEUE, COMPLETED);
    submit(typed(OTHER_QUEUE, "render"));
    WorkOrderQuery all = WorkOrderQuery.builder().build();

    Map<String, Long> byState = stateZeros();
    byState.putAll(
        Map.of("PENDING", 3L, "WAITING_RETRY", 1L, "FAILED", 1L, "CANCELLED", 1L, "COMPLETED", 1L));
    assertThat(store.count(all, WorkOrderQuery.CountBy.STATE)).isEqualTo(byState);
    assertThat(store.count(all, WorkOrderQuery.CountBy.STATE).keySet())
        .containsExactly(
            "BLOCKED",
            "CANCELLED",
            "COMPLETED",
            "FAILED",
            "PENDING",
            "PREPARING",
            "RUNNING",
            "WAITING_RETRY");
    assertThat(store.count(all, WorkOrderQuery.CountBy.QUEUE))
        .containsExactly(Map.entry(QUEUE, 4L), Map.entry(OTHER_QUEUE, 3L));
    assertThat(store.count(all, WorkOrderQuery.CountBy.TYPE))
        .containsExactly(Map.entry("render", 1L), Map.entry(WorkOrderFixtures.TYPE, 6L));
    assertThat(store.count(all, WorkOrderQuery.CountBy.ERROR_CODE))
        .as("only work orders with a last error")
        .containsExactly(
            Map.entry(ErrorCodes.AGENT_FATAL_ERROR, 1L),
            Map.entry(ErrorCodes.CANCELLED, 1L),
            Map.entry(ErrorCodes.TIMEOUT, 1L));
    WorkOrderQuery pendingOfQueue = WorkOrderQuery.builder().queue(QUEUE).states(PENDING).build();
    Map<String, Long> pendingByState = stateZeros();
    pendingByState.put("PENDING", 2L);
    assertThat(store.count(pendingOfQueue, WorkOrderQuery.CountBy.STATE))
        .as("states outside the filter count 0")
        .isEqualTo(pendingByState);
    assertThat(store.count(pendingOfQueue, WorkOrderQuery.CountBy.QUEUE))
        .containsExactly(Map.entry(QUEUE, 2L));
    assertThat(store.count(pendingOfQueue, WorkOrderQuery.CountBy.ERROR_CODE)).isEmpty();
    assertThat(
            store.count(
                WorkOrderQuery.builder().queue("nowhere").build(), WorkOrderQuery.CountBy.QUEUE))
        .isEmpty();
  }

  @Test
  void count_with_every_kind_of_filter_agrees_with_the_matching_views() {
    Fleet fleet = fleet();
    List<WorkOrderQuery> queries =
        List.of(
            WorkOrderQuery.builder().build(),
            WorkOrderQuery.builder().types("render").build(),
            WorkOrderQuery.builder().label("team", "video").build(),
            WorkOrderQuery.builder().label("team", "video").label("a.b", "1").build(),
            WorkOrderQuery.builder().errorCode(ErrorCodes.TIMEOUT).build(),
            WorkOrderQuery.builder().resubmittedFrom(fleet.original()).build(),
            WorkOrderQuery.builder().submittedBetween(at(10), at(30)).states(PENDING).build(),
            WorkOrderQuery.builder()
                .queue(QUEUE)
                .types("render", "index")
                .label("team", "video")
                .errorCode(ErrorCodes.TIMEOUT)
                .build(),
            WorkOrderQuery.builder()
                .queue(OTHER_QUEUE)
                .order(WorkOrderQuery.Order.NEWEST_FIRST)
                .after(3)
                .limit(1)
                .build());
    for (WorkOrderQuery query : queries) {
      for (WorkOrderQuery.CountBy by : WorkOrderQuery.CountBy.values()) {
        Map<String, Long> expected =
            by == WorkOrderQuery.CountBy.STATE ? stateZeros() : new HashMap<>();
        for (WorkOrderId id : fleet.ids()) {
          WorkOrderView v = view(id);
          if (query.matches(v)) {
            by.keyOf(v).ifPresent(k -> expected.merge(k, 1L, Long::sum));
          }
        }

        java.util.SortedMap<String, Long> counted = store.count(query, by);

        assertThat(counted).as("%s by %s", query, by).isEqualTo(expected);
        assertThat(counted.values()).as("%s by %s", query, by).allMatch(n -> n >= 0);
        assertThatThrownBy(() -> counted.put("x", 1L))
            .isInstanceOf(UnsupportedOperationException.class);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // endedPerInterval

  @Test
  void endedPerInterval_counts_work_orders_in_the_interval_they_ended_in_by_how_they_ended() {
    Duration minute = Duration.ofMinutes(1);
    WorkOrderId a = submit(QUEUE);
    WorkOrderId b = inState(QUEUE, RUNNING);
    WorkOrderId c = inState(QUEUE, RUNNING);
    WorkOrderId d = inState(QUEUE, RUNNING);
    WorkOrderId e = inState(OTHER_QUEUE, RUNNING);
    WorkOrderId f = inState(QUEUE, RUNNING);
    WorkOrderId g = submit(QUEUE);
    WorkOrderId h = inState(QUEUE, RUNNING);
    WorkOrderId early = submit(QUEUE);
    clock.set(at(-1));
    store.append(early, ExpectedVersion.exactly(1), List.of(cancelled()));
    clock.set(at(10));
    store.append(b, ExpectedVersion.exactly(3), List.of(completed()));
    clock.set(t0.plus(minute).minusMillis(1));
    store.append(c, ExpectedVersion.exactly(3), List.of(failedForGood()));
    clock.set(t0.plus(minute));
    store.append(a, ExpectedVersion.exactly(1), List.of(cancelled()));
    clock.set(at(125));
    store.append(d, ExpectedVersion.exactly(3), List.of(completed()));
    store.append(e, ExpectedVersion.exactly(3), List.of(completed()));
    store.append(f, ExpectedVersion.exactly(3), List.of(failedWithRetry(at(400))));
    clock.set(at(249));
    store.append(h, ExpectedVersion.exactly(3), List.of(failedForGood()));
    clock.set(at(250));
    store.append(g, ExpectedVersion.exactly(1), List.of(cancelled()));

    List<EndedCount> buckets = store.endedPerInterval(t0, at(250), minute);

    assertThat(buckets)
        .containsExactly(
            new EndedCount(t0, 1, 1, 0),
            new EndedCount(at(60), 0, 0, 1),
            new EndedCount(at(120), 2, 0, 0),
            new EndedCount(at(180), 0, 0, 0),
            new EndedCount(at(240), 0, 1, 0));
    assertThat(store.endedPerInterval(at(-60), at(600), Duration.ofMinutes(11)))
        .containsExactly(new EndedCount(at(-60), 3, 2, 3));
    assertThat(store.endedPerInterval(at(10), at(11), Duration.ofSeconds(1)))
        .containsExactly(new EndedCount(at(10), 1, 0, 0));
    assertThat(store.endedPerInterval(at(11), at(12), Duration.ofSeconds(1)))
        .containsExactly(new EndedCount(at(11), 0, 0, 0));
    assertThat(store.endedPerInterval(at(1000), at(1000 + 1440), Duration.ofSeconds(1)))
        .hasSize(EndedCount.MAX_BUCKETS)
        .allMatch(x -> x.completed() + x.failed() + x.cancelled() == 0);

    store.deleteTerminalBefore(at(100), 100);
    assertThat(store.endedPerInterval(t0, at(250), minute))
        .as("purged work orders are gone")
        .containsExactly(
            new EndedCount(t0, 0, 0, 0),
            new EndedCount(at(60), 0, 0, 0),
            new EndedCount(at(120), 2, 0, 0),
            new EndedCount(at(180), 0, 0, 0),
            new EndedCount(at(240), 0, 1, 0));
  }

  @Test
  void endedPerInterval_rejects_bad_arguments_naming_them() {
    inState(QUEUE, COMPLETED);
    Duration minute = Duration.ofMinutes(1);
    Map<String, Callable<?>> calls = new LinkedHashMap<>();
    calls.put("to", () -> store.endedPerInterval(at(10), at(10), minute));
    calls.put("from", () -> store.endedPerInterval(at(10), at(9), minute));
    calls.put("interval", () -> store.endedPerInterval(at(0), at(10), Duration.ofMillis(999)));
    calls.put("interval ", () -> store.endedPerInterval(at(0), at(10), Duration.ZERO));
    calls.put("interval  ", () -> store.endedPerInterval(at(0), at(10), Duration.ofSeconds(-5)));
    calls.put(
        "microseconds",
        () -> store.endedPerInterval(at(0), at(10), Duration.ofSeconds(1).plusNanos(1)));
    calls.put(
        String.valueOf(EndedCount.MAX_BUCKETS),
        () -> store.endedPerInterval(at(0), at(1441), Duration.ofSeconds(1)));
    calls.put(
        "years",
        () -> store.endedPerInterval(Instant.parse("-0001-12-31T00:00:00Z"), at(0), minute));
    calls.forEach(
        (named, call) ->
            assertThatThrownBy(call::call)
                .as(named)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(named.strip()));
    assertThatThrownBy(() -> store.endedPerInterval(null, at(10), minute))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> store.endedPerInterval(at(0), at(10), null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> store.count(null, WorkOrderQuery.CountBy.STATE))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> store.count(WorkOrderQuery.builder().build(), null))
        .isInstanceOf(NullPointerException.class);
    assertThat(store.endedPerInterval(at(0), at(1440), Duration.ofSeconds(1)))
        .hasSize(EndedCount.MAX_BUCKETS);
    assertThat(store.endedPerInterval(at(0), at(1440).plusMillis(1), Duration.ofSeconds(2)))
        .hasSize(721)
        .last()
        .isEqualTo(new EndedCount(at(1440), 0, 0, 0));
  }

  // ---------------------------------------------------------------------------------------------
  // claim

  @Test
  void claim_takes_higher_priority_first_then_submission_order() {
    WorkOrderId a = submit(spec(QUEUE).priority(0).build());
    WorkOrderId b = submit(spec(QUEUE).priority(5).build());
    WorkOrderId c = submit(spec(QUEUE).priority(0).build());
    WorkOrderId d = submit(spec(QUEUE).priority(5).build());
    WorkOrderId e = submit(spec(QUEUE).priority(-1).build());
    WorkOrderId f = submit(spec(QUEUE).priority(10).build());

    assertThat(ids(claim(QUEUE, 2))).containsExactly(f, b);
    assertThat(ids(claim(QUEUE, 10))).containsExactly(d, a, c, e);
  }

  @Test
  void claim_returns_the_views_after_the_claim_in_claim_order() {
    WorkOrderId low = submit(spec(QUEUE).priority(1).build());
    WorkOrderId high = submit(spec(QUEUE).priority(9).build());

    List<WorkOrderView> claimed = claim(QUEUE, 10);

    assertThat(ids(claimed)).containsExactly(high, low);
    for (WorkOrderView v : claimed) {
      assertThat(v.state()).isEqualTo(PREPARING);
      assertThat(v.version()).isEqualTo(2);
      assertThat(ViewSnapshot.of(v)).isEqualTo(ViewSnapshot.of(view(v.id())));
    }
  }

  @Test
  void claim_recorded_hands_back_the_claimed_events_the_log_holds() {
    WorkOrderId low = submit(spec(QUEUE).priority(1).build());
    WorkOrderId high = submit(spec(QUEUE).priority(9).build());
    submit(spec("other").build());

    List<Claim> claims =
        store.claimRecorded(
            new ClaimRequest(QUEUE, OWNER, 10, Capacity.unlimited(), clock.instant(), LEASE));

    assertThat(claims).extracting(c -> c.view().id()).containsExactly(high, low);
    for (Claim c : claims) {
      List<RecordedEvent> stream = store.readStream(c.view().id());
      assertThat(c.claimed()).isEqualTo(stream.get(stream.size() - 1));
      assertThat(c.claimed().event())
          .isEqualTo(new WorkOrderEvent.Claimed(OWNER, c.view().leaseExpiresAt().orElseThrow()));
      assertThat(ViewSnapshot.of(c.view())).isEqualTo(ViewSnapshot.of(view(c.view().id())));
    }
    assertThat(
            store.claimRecorded(
                new ClaimRequest(QUEUE, OWNER, 10, Capacity.unlimited(), clock.instant(), LEASE)))
        .isEmpty();
  }

  /**
   * The store under test seen as a store that implements {@code claim} but not {@code
   * claimRecorded}: the interface's default {@code claimRecorded} runs, over the real store.
   */
  private WorkOrderStore onlyClaim() {
    return (WorkOrderStore)
        java.lang.reflect.Proxy.newProxyInstance(
            WorkOrderStore.class.getClassLoader(),
            new Class<?>[] {WorkOrderStore.class},
            (proxy, method, args) -> {
              if (method.getName().equals("claimRecorded")) {
                return java.lang.reflect.InvocationHandler.invokeDefault(proxy, method, args);
              }
              try {
                return method.invoke(store, args);
              } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  @Test
  void claim_recorded_of_a_store_that_only_implements_claim_finds_the_events_by_reading() {
    WorkOrderStore onlyClaim = onlyClaim();
    WorkOrderId id = submit(QUEUE);

    List<Claim> claims =
        onlyClaim.claimRecorded(
            new ClaimRequest(QUEUE, OWNER, 10, Capacity.unlimited(), clock.instant(), LEASE));

    assertThat(claims).hasSize(1);
    assertThat(claims.get(0).view().id()).isEqualTo(id);
    List<RecordedEvent> stream = store.readStream(id);
    assertThat(claims.get(0).claimed()).isEqualTo(stream.get(stream.size() - 1));
  }

  @Test
  void claim_takes_only_pending_work_orders() {
    Map<WorkOrderState, WorkOrderId> byState = new EnumMap<>(WorkOrderState.class);
    for (WorkOrderState state : WorkOrderState.values()) {
      byState.put(state, inState(QUEUE, state));
    }
    clock.advance(Duration.ofHours(1));

    List<WorkOrderView> claimed = claim(QUEUE, 100);

    assertThat(ids(claimed)).containsExactly(byState.get(PENDING));
    for (WorkOrderState state : WorkOrderState.values()) {
      if (state != PENDING) {
        assertThat(view(byState.get(state)).state()).isEqualTo(state);
      }
    }
  }

  @Test
  void claim_takes_at_most_limit_work_orders() {
    for (int i = 0; i < 5; i++) {
      submit(QUEUE);
    }

    assertThat(claim(QUEUE, 3)).hasSize(3);
    assertThat(claim(QUEUE, 3)).hasSize(2);
    assertThat(claim(QUEUE, 3)).isEmpty();
    assertThat(count(QUEUE, PREPARING)).isEqualTo(5);
  }

  @Test
  void claim_takes_only_from_the_requested_queue() {
    WorkOrderId mine = submit(QUEUE);
    WorkOrderId other = submit(spec(OTHER_QUEUE).priority(100).build());

    assertThat(ids(claim(QUEUE, 10))).containsExactly(mine);
    assertThat(view(other).state()).isEqualTo(PENDING);
    assertThat(claim("nowhere", 10)).isEmpty();
    assertThat(ids(claim(OTHER_QUEUE, 10))).containsExactly(other);
  }

  @Test
  void claim_of_an_empty_store_returns_nothing() {
    assertThat(claim(QUEUE, 10)).isEmpty();
    assertThat(wholeLog()).isEmpty();
  }

  @Test
  void claim_does_not_take_work_orders_before_their_not_before_time() {
    WorkOrderId later = submit(spec(QUEUE).priority(10).notBefore(at(10)).build());
    WorkOrderId immediate = submit(QUEUE);

    assertThat(ids(claim(QUEUE, OWNER, 10, Capacity.unlimited(), at(10).minusMillis(1))))
        .containsExactly(immediate);
    assertThat(view(later).state()).isEqualTo(PENDING);
    assertThat(view(later).availableAt()).isEqualTo(at(10));

    clock.set(at(10));
    assertThat(ids(claim(QUEUE, OWNER, 10, Capacity.unlimited(), at(10)))).containsExactly(later);
  }

  @Test
  void claim_takes_work_orders_whose_not_before_time_has_passed_on_submission() {
    clock.set(at(100));
    WorkOrderId id = submit(spec(QUEUE).notBefore(at(50)).build());

    assertThat(view(id).availableAt()).isEqualTo(at(100));
    assertThat(ids(claim(QUEUE, OWNER, 10, Capacity.unlimited(), at(100)))).containsExactly(id);
  }

  @Test
  void claim_does_not_take_a_work_order_waiting_for_a_retry_until_it_is_released() {
    WorkOrderId id = inState(QUEUE, WAITING_RETRY);
    Instant retryAt = view(id).nextAttemptAt().orElseThrow();

    clock.set(retryAt.plusSeconds(30));
    assertThat(claim(QUEUE, OWNER, 10, Capacity.unlimited(), clock.instant())).isEmpty();

    store.append(id, ExpectedVersion.exactly(3), List.of(retryReleased()));
    Instant releasedAt = clock.instant();
    assertThat(view(id).availableAt()).isEqualTo(releasedAt);
    assertThat(claim(QUEUE, OWNER, 10, Capacity.unlimited(), releasedAt.minusMillis(1))).isEmpty();

    List<WorkOrderView> claimed = claim(QUEUE, OWNER, 10, Capacity.unlimited(), releasedAt);
    assertThat(ids(claimed)).containsExactly(id);
    assertThat(claimed.get(0).attempt()).isEqualTo(2);
  }

  @Test
  void claim_checks_availability_against_its_own_now_even_after_a_claim_with_a_later_now() {
    WorkOrderId delayed =
        submit(spec(QUEUE).notBefore(at(60)).resources(ResourceRequest.of(2, 0)).build());

    assertThat(claim(QUEUE, "node-ahead", 10, Capacity.of(1, 0), at(120))).isEmpty();
    assertThat(claim(QUEUE, "node-behind", 10, Capacity.unlimited(), at(30))).isEmpty();
    assertThat(view(delayed).state()).isEqualTo(PENDING);

    assertThat(ids(claim(QUEUE, "node-behind", 10, Capacity.unlimited(), at(60))))
        .containsExactly(delayed);
  }

  @Test
  void claim_skips_work_orders_that_do_not_fit() {
    WorkOrderId big = submit(spec(QUEUE, 10, ResourceRequest.of(4, 8192)));
    WorkOrderId memoryHungry = submit(spec(QUEUE, 8, ResourceRequest.of(1, 6000)));
    WorkOrderId small1 = submit(spec(QUEUE, 5, ResourceRequest.of(1, 1024)));
    WorkOrderId small2 = submit(spec(QUEUE, 0, ResourceRequest.of(1, 1024)));

    List<WorkOrderView> claimed = claim(QUEUE, OWNER, 10, Capacity.of(2, 4096), clock.instant());

    assertThat(ids(claimed)).containsExactly(small1, small2);
    assertThat(view(big).state()).isEqualTo(PENDING);
    assertThat(view(memoryHungry).state()).isEqualTo(PENDING);
    assertThat(ids(claim(QUEUE, OWNER, 10, Capacity.of(4, 8192), clock.instant())))
        .containsExactly(big);
    assertThat(ids(claim(QUEUE, OWNER, 10, Capacity.of(1, 6000), clock.instant())))
        .containsExactly(memoryHungry);
  }

  @Test
  void claim_consumes_capacity_cumulatively() {
    WorkOrderId a = submit(spec(QUEUE, 4, ResourceRequest.of(2, 1000)));
    WorkOrderId b = submit(spec(QUEUE, 3, ResourceRequest.of(2, 1000)));
    WorkOrderId c = submit(spec(QUEUE, 2, ResourceRequest.of(2, 1000)));
    WorkOrderId d = submit(spec(QUEUE, 1, ResourceRequest.of(1, 1000)));
    WorkOrderId e = submit(spec(QUEUE, 0, ResourceRequest.of(1, 100)));

    List<WorkOrderView> claimed = claim(QUEUE, OWNER, 10, Capacity.of(5, 2500), clock.instant());

    assertThat(ids(claimed)).containsExactly(a, b, e);
    assertThat(view(c).state()).isEqualTo(PENDING);
    assertThat(view(d).state()).isEqualTo(PENDING);
    assertThat(ids(claim(QUEUE, OWNER, 10, Capacity.of(2, 100_000), clock.instant())))
        .containsExactly(c);
  }

  @Test
  void claim_goes_past_many_work_orders_that_fit_alone_but_not_after_an_earlier_pick() {
    // Each of the ten fits the capacity alone, none after the first pick: a store that reads
    // candidates in pages must read on until it finds the small one behind them.
    WorkOrderId first = submit(spec(QUEUE, 0, ResourceRequest.of(1, 600)));
    List<WorkOrderId> behind = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      behind.add(submit(spec(QUEUE, 0, ResourceRequest.of(1, 500))));
    }
    WorkOrderId small = submit(spec(QUEUE, 0, ResourceRequest.of(1, 400)));

    List<WorkOrderView> claimed = claim(QUEUE, OWNER, 2, Capacity.of(10, 1000), clock.instant());

    assertThat(ids(claimed)).containsExactly(first, small);
    for (WorkOrderId id : behind) {
      assertThat(view(id).state()).isEqualTo(PENDING);
    }
  }

  @Test
  void claim_with_no_free_slots_takes_nothing() {
    WorkOrderId id = submit(spec(QUEUE, 0, ResourceRequest.of(1, 0)));

    assertThat(claim(QUEUE, OWNER, 10, Capacity.of(0, 1_000_000), clock.instant())).isEmpty();
    assertThat(view(id).state()).isEqualTo(PENDING);
    assertThat(store.readStream(id)).hasSize(1);
  }

  @Test
  void claim_counts_a_spec_without_resources_as_one_slot_and_no_memory() {
    WorkOrderId a = submit(QUEUE);
    WorkOrderId b = submit(QUEUE);

    assertThat(ids(claim(QUEUE, OWNER, 10, Capacity.of(1, 0), clock.instant()))).containsExactly(a);
    assertThat(ids(claim(QUEUE, OWNER, 10, Capacity.of(1, 0), clock.instant()))).containsExactly(b);
  }

  @Test
  void claim_sets_the_lease_owner_and_expiry_on_the_view() {
    WorkOrderId id = submit(QUEUE);
    clock.set(at(5));

    List<WorkOrderView> claimed =
        store.claim(
            new ClaimRequest(
                QUEUE, "node-b", 1, Capacity.unlimited(), at(5), Duration.ofSeconds(45)));

    assertThat(claimed).hasSize(1);
    for (WorkOrderView v : List.of(claimed.get(0), view(id))) {
      assertThat(v.id()).isEqualTo(id);
      assertThat(v.state()).isEqualTo(PREPARING);
      assertThat(v.attempt()).isEqualTo(1);
      assertThat(v.version()).isEqualTo(2);
      assertThat(v.leaseOwner()).contains("node-b");
      assertThat(v.leaseExpiresAt()).contains(at(50));
      assertThat(v.updatedAt()).isEqualTo(at(5));
    }
  }

  @Test
  void claim_appends_a_claimed_event_for_each_work_order() {
    List<WorkOrderId> ids = List.of(submit(QUEUE), submit(QUEUE), submit(QUEUE));
    long before = lastLogPosition();
    clock.set(at(7));

    List<WorkOrderView> claimed = claim(QUEUE, "node-b", 10, Capacity.unlimited(), at(7));

    assertThat(ids(claimed)).containsExactlyElementsOf(ids);
    for (WorkOrderId id : ids) {
      RecordedEvent last = last(store.readStream(id));
      assertThat(last.version()).isEqualTo(2);
      assertThat(last.recordedAt()).isEqualTo(at(7));
      assertThat(last.event()).isEqualTo(claimed("node-b", at(7).plus(LEASE)));
    }
    List<RecordedEvent> appended = store.readLog(before, 100).events();
    assertThat(appended).extracting(RecordedEvent::workOrderId).containsExactlyElementsOf(ids);
    assertThat(appended).extracting(r -> r.event().type().typeName()).containsOnly("Claimed");
  }

  @Test
  void claim_starts_a_new_attempt_each_time() {
    WorkOrderId id = submit(QUEUE);

    assertThat(claimOne(QUEUE).attempt()).isEqualTo(1);
    store.append(id, ExpectedVersion.exactly(2), List.of(failedWithRetry(at(10))));
    clock.set(at(10));
    store.append(id, ExpectedVersion.exactly(3), List.of(retryReleased()));
    WorkOrderView second = claim(QUEUE, "node-b", 1, Capacity.unlimited(), at(10)).get(0);

    assertThat(second.attempt()).isEqualTo(2);
    assertThat(second.leaseOwner()).contains("node-b");
    assertThat(store.readStream(id))
        .extracting(RecordedEvent::event)
        .filteredOn(e -> e instanceof WorkOrderEvent.Claimed)
        .hasSize(2);
  }

  @Test
  void claim_never_takes_the_same_work_order_twice() {
    List<WorkOrderId> ids = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      ids.add(submit(QUEUE));
    }

    List<WorkOrderId> claimed = new ArrayList<>();
    claimed.addAll(ids(claim(QUEUE, "node-a", 4, Capacity.unlimited(), clock.instant())));
    claimed.addAll(ids(claim(QUEUE, "node-b", 4, Capacity.unlimited(), clock.instant())));
    claimed.addAll(ids(claim(QUEUE, "node-c", 4, Capacity.unlimited(), clock.instant())));

    assertThat(claimed).doesNotHaveDuplicates().containsExactlyElementsOf(ids);
  }

  // ---------------------------------------------------------------------------------------------
  // claim with a start (ClaimRequest.withStart): Claimed and Started in one step

  /** Names the sandbox of every work order whose type is not "prepared-elsewhere". */
  private static final ClaimRequest.StartOnClaim START =
      claimed ->
          claimed.type().equals("prepared-elsewhere")
              ? Optional.empty()
              : Optional.of("sbx-" + claimed.id().value() + "-" + claimed.attempt());

  private ClaimRequest startingClaim(int limit) {
    return new ClaimRequest(QUEUE, OWNER, limit, Capacity.unlimited(), clock.instant(), LEASE)
        .withStart(START);
  }

  @Test
  void claim_with_a_start_records_claimed_then_started_and_leaves_the_work_order_running() {
    WorkOrderId low = submit(spec(QUEUE).priority(1).build());
    WorkOrderId high = submit(spec(QUEUE).priority(9).build());
    long before = lastLogPosition();
    clock.set(at(7));

    List<Claim> claims = store.claimRecorded(startingClaim(10));

    assertThat(claims).extracting(c -> c.view().id()).containsExactly(high, low);
    for (Claim c : claims) {
      WorkOrderId id = c.view().id();
      List<RecordedEvent> stream = store.readStream(id);
      assertThat(stream).extracting(RecordedEvent::version).containsExactly(1L, 2L, 3L);
      assertThat(stream.get(1).event()).isEqualTo(claimed(OWNER, at(7).plus(LEASE)));
      assertThat(stream.get(2).event())
          .isEqualTo(new WorkOrderEvent.Started("sbx-" + id.value() + "-1"));
      assertThat(stream.get(2).recordedAt()).isEqualTo(at(7));
      assertThat(c.claimed()).isEqualTo(stream.get(1));
      assertThat(c.started()).contains(stream.get(2));
      assertThat(c.view().state()).isEqualTo(RUNNING);
      assertThat(c.view().version()).isEqualTo(3);
      assertThat(c.view().attempt()).isEqualTo(1);
      assertThat(c.view().leaseOwner()).contains(OWNER);
      assertThat(c.view().leaseExpiresAt()).contains(at(7).plus(LEASE));
      assertThat(ViewSnapshot.of(c.view())).isEqualTo(ViewSnapshot.of(view(id)));
      assertThat(ViewSnapshot.of(view(id))).isEqualTo(ViewSnapshot.of(WorkOrder.fold(stream)));
    }
    List<RecordedEvent> appended = store.readLog(before, 100).events();
    assertStrictlyRising(appended);
    assertThat(appended)
        .extracting(r -> r.workOrderId() + " " + r.event().type().typeName())
        .containsExactly(high + " Claimed", high + " Started", low + " Claimed", low + " Started");
    assertThat(count(QUEUE, RUNNING)).isEqualTo(2);
    assertThat(count(QUEUE, PREPARING)).isZero();
    assertThat(store.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
  }

  @Test
  void claim_with_a_start_leaves_the_work_orders_it_names_no_sandbox_for_preparing() {
    WorkOrderId elsewhere =
        submit(WorkOrderSpec.builder("prepared-elsewhere").queue(QUEUE).build());
    WorkOrderId here = submit(QUEUE);

    List<Claim> claims = store.claimRecorded(startingClaim(10));

    assertThat(claims).extracting(c -> c.view().id()).containsExactly(elsewhere, here);
    Claim notStarted = claims.get(0);
    assertThat(notStarted.started()).isEmpty();
    assertThat(notStarted.view().state()).isEqualTo(PREPARING);
    assertThat(notStarted.view().version()).isEqualTo(2);
    assertThat(notStarted.claimed()).isEqualTo(last(store.readStream(elsewhere)));
    assertThat(view(elsewhere).state()).isEqualTo(PREPARING);
    assertThat(claims.get(1).started()).isPresent();
    assertThat(view(here).state()).isEqualTo(RUNNING);
    // The one left PREPARING starts the old way, with its own append.
    assertThat(store.append(elsewhere, ExpectedVersion.exactly(2), List.of(started())))
        .extracting(RecordedEvent::version)
        .containsExactly(3L);
  }

  @Test
  void claim_with_a_start_that_throws_or_names_an_invalid_sandbox_claims_without_starting() {
    WorkOrderId throwing = submit(QUEUE);
    WorkOrderId blank = submit(QUEUE);
    WorkOrderId named = submit(QUEUE);
    ClaimRequest request =
        new ClaimRequest(QUEUE, OWNER, 10, Capacity.unlimited(), clock.instant(), LEASE)
            .withStart(
                claimed -> {
                  if (claimed.id().equals(throwing)) {
                    throw new IllegalStateException("no name for it");
                  }
                  return Optional.of(claimed.id().equals(blank) ? " " : "sandbox-ok");
                });

    List<WorkOrderView> claimed = store.claim(request);

    assertThat(ids(claimed)).containsExactly(throwing, blank, named);
    assertThat(claimed)
        .extracting(WorkOrderView::state)
        .containsExactly(PREPARING, PREPARING, RUNNING);
    assertThat(view(throwing).state()).isEqualTo(PREPARING);
    assertThat(view(blank).state()).isEqualTo(PREPARING);
    assertThat(last(store.readStream(named)).event())
        .isEqualTo(new WorkOrderEvent.Started("sandbox-ok"));
  }

  @Test
  void claim_of_views_with_a_start_returns_them_running() {
    WorkOrderId id = submit(QUEUE);

    List<WorkOrderView> claimed = store.claim(startingClaim(1));

    assertThat(ids(claimed)).containsExactly(id);
    assertThat(claimed.get(0).state()).isEqualTo(RUNNING);
    assertThat(claimed.get(0).version()).isEqualTo(3);
    assertThat(ViewSnapshot.of(claimed.get(0))).isEqualTo(ViewSnapshot.of(view(id)));
  }

  @Test
  void a_work_order_started_by_its_claim_goes_on_like_one_started_by_an_append() {
    WorkOrderId done = submit(QUEUE);
    WorkOrderId renewed = submit(QUEUE);
    store.claim(startingClaim(2));

    assertThat(store.append(done, ExpectedVersion.exactly(3), List.of(completed())))
        .extracting(RecordedEvent::version)
        .containsExactly(4L);
    assertThat(view(done).state()).isEqualTo(COMPLETED);
    assertThat(store.renewLease(renewed, OWNER, 1, at(90))).isTrue();
    assertThat(view(renewed).leaseExpiresAt()).contains(at(90));
    assertThat(view(renewed).version()).isEqualTo(3);
    assertThatThrownBy(() -> store.append(renewed, ExpectedVersion.exactly(2), List.of(started())))
        .isInstanceOf(ConcurrencyException.class);
    assertThat(store.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
  }

  @Test
  void claim_with_a_start_never_takes_the_same_work_order_twice_under_concurrency()
      throws Exception {
    int total = 400;
    List<WorkOrderId> ids = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      ids.add(submit(QUEUE));
    }

    List<List<Claim>> perThread =
        runConcurrently(
            4,
            i -> {
              List<Claim> mine = new ArrayList<>();
              while (true) {
                List<Claim> got =
                    store.claimRecorded(
                        new ClaimRequest(
                                QUEUE, "node-" + i, 7, Capacity.unlimited(), clock.instant(), LEASE)
                            .withStart(START));
                if (got.isEmpty()) {
                  return mine;
                }
                mine.addAll(got);
              }
            });

    List<WorkOrderId> claimed = new ArrayList<>();
    perThread.forEach(list -> list.forEach(c -> claimed.add(c.view().id())));
    assertThat(claimed).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(ids);
    for (WorkOrderId id : ids) {
      assertThat(store.readStream(id))
          .extracting(r -> r.event().type().typeName())
          .containsExactly("Submitted", "Claimed", "Started");
    }
    assertThat(count(QUEUE, RUNNING)).isEqualTo(total);
  }

  @Test
  void claim_recorded_with_a_start_of_a_store_that_only_implements_claim_finds_both_events() {
    WorkOrderStore onlyClaim = onlyClaim();
    WorkOrderId id = submit(QUEUE);

    List<Claim> claims = onlyClaim.claimRecorded(startingClaim(10));

    assertThat(claims).hasSize(1);
    List<RecordedEvent> stream = store.readStream(id);
    assertThat(claims.get(0).claimed()).isEqualTo(stream.get(1));
    assertThat(claims.get(0).started()).contains(stream.get(2));
  }

  // ---------------------------------------------------------------------------------------------
  // renewLease

  @Test
  void renewLease_extends_the_lease_of_the_owner_and_attempt_that_hold_it() {
    WorkOrderId id = submit(QUEUE);
    WorkOrderView claimed = claimOne(QUEUE);
    clock.set(at(20));
    long logBefore = lastLogPosition();

    assertThat(store.renewLease(id, OWNER, 1, at(90))).isTrue();

    WorkOrderView v = view(id);
    assertThat(v.leaseExpiresAt()).contains(at(90));
    assertThat(v.leaseOwner()).contains(OWNER);
    assertThat(v.version()).isEqualTo(claimed.version());
    assertThat(v.updatedAt()).isEqualTo(claimed.updatedAt());
    assertThat(v.state()).isEqualTo(PREPARING);
    assertThat(store.readStream(id)).hasSize(2);
    assertThat(lastLogPosition()).isEqualTo(logBefore);
    assertThat(store.append(id, ExpectedVersion.exactly(2), List.of(started())))
        .extracting(RecordedEvent::version)
        .containsExactly(3L);
  }

  @Test
  void renewLease_works_while_running() {
    WorkOrderId id = inState(QUEUE, RUNNING);

    assertThat(store.renewLease(id, OWNER, 1, at(300))).isTrue();
    assertThat(view(id).leaseExpiresAt()).contains(at(300));
    assertThat(view(id).version()).isEqualTo(3);
  }

  @Test
  void renewLease_is_refused_for_another_owner() {
    WorkOrderId id = submit(QUEUE);
    claimOne(QUEUE);

    assertThat(store.renewLease(id, "node-b", 1, at(90))).isFalse();
    assertThat(view(id).leaseExpiresAt()).contains(at(30));
    assertThat(view(id).leaseOwner()).contains(OWNER);
  }

  @Test
  void renewLease_is_refused_for_another_attempt() {
    WorkOrderId id = submit(QUEUE);
    claimOne(QUEUE);
    assertThat(store.renewLease(id, OWNER, 2, at(90))).isFalse();
    assertThat(store.renewLease(id, OWNER, 0, at(90))).isFalse();
    assertThat(view(id).leaseExpiresAt()).contains(at(30));

    store.append(id, ExpectedVersion.exactly(2), List.of(failedWithRetry(at(10))));
    clock.set(at(10));
    store.append(id, ExpectedVersion.exactly(3), List.of(retryReleased()));
    claim(QUEUE, OWNER, 1, Capacity.unlimited(), at(10));

    assertThat(store.renewLease(id, OWNER, 1, at(100))).isFalse();
    assertThat(view(id).leaseExpiresAt()).contains(at(40));
    assertThat(store.renewLease(id, OWNER, 2, at(100))).isTrue();
    assertThat(view(id).leaseExpiresAt()).contains(at(100));
  }

  @Test
  void renewLease_is_refused_once_the_work_order_moved_on() {
    Map<String, List<WorkOrderEvent>> endings = new LinkedHashMap<>();
    endings.put("completed", List.of(started(), completed()));
    endings.put("failed with retry", List.of(failedWithRetry(at(60))));
    endings.put("reaped", List.of(leaseExpired(at(60))));
    endings.put("failed for good", List.of(failedForGood()));
    endings.put("cancelled", List.of(cancelled()));
    endings.put(
        "cancelled while running", List.of(started(), cancellationRequested("x"), cancelled()));

    for (Map.Entry<String, List<WorkOrderEvent>> ending : endings.entrySet()) {
      WorkOrderId id = inState(QUEUE, PREPARING);
      store.append(id, ExpectedVersion.exactly(2), ending.getValue());
      ViewSnapshot before = ViewSnapshot.of(view(id));

      assertThat(store.renewLease(id, OWNER, 1, at(300))).as(ending.getKey()).isFalse();
      assertThat(ViewSnapshot.of(view(id))).as(ending.getKey()).isEqualTo(before);
    }
  }

  @Test
  void renewLease_is_refused_for_a_pending_or_unknown_work_order() {
    WorkOrderId pending = submit(QUEUE);

    assertThat(store.renewLease(pending, OWNER, 0, at(300))).isFalse();
    assertThat(store.renewLease(pending, OWNER, 1, at(300))).isFalse();
    assertThat(store.renewLease(newId(), OWNER, 1, at(300))).isFalse();
    assertThat(view(pending).leaseExpiresAt()).isEmpty();
    assertThat(view(pending).state()).isEqualTo(PENDING);
  }

  @Test
  void renewLease_moves_the_expiry_that_expiredLeases_sees() {
    WorkOrderId a = submit(QUEUE);
    claimOne(QUEUE);
    WorkOrderId b = submit(QUEUE);
    clock.set(at(10));
    claimOne(QUEUE);
    assertThat(ids(store.expiredLeases(at(30), 10))).containsExactly(a);

    assertThat(store.renewLease(a, OWNER, 1, at(100))).isTrue();

    assertThat(store.expiredLeases(at(30), 10)).isEmpty();
    assertThat(ids(store.expiredLeases(at(99), 10))).containsExactly(b);
    List<WorkOrderView> expired = store.expiredLeases(at(100), 10);
    assertThat(ids(expired)).containsExactly(b, a);
    assertThat(expired.get(1).leaseExpiresAt()).contains(at(100));
  }

  // ---------------------------------------------------------------------------------------------
  // Released

  @Test
  void a_released_work_order_is_pending_at_once_claimable_again_and_counts_its_release() {
    WorkOrderId id = submit(QUEUE);
    WorkOrderView first = claimOne(QUEUE);
    store.append(id, ExpectedVersion.exactly(first.version()), List.of(started()));
    clock.set(at(7));

    store.append(
        id,
        ExpectedVersion.exactly(first.version() + 1),
        List.of(new WorkOrderEvent.Released(ErrorCodes.NODE_SHUTDOWN, "node-a shut down")));

    WorkOrderView released = view(id);
    assertThat(released.state()).isEqualTo(PENDING);
    assertThat(released.attempt()).isEqualTo(1);
    assertThat(released.releases()).isEqualTo(1);
    assertThat(released.chargedAttempts()).isZero();
    assertThat(released.availableAt()).isEqualTo(at(7));
    assertThat(released.leaseOwner()).isEmpty();
    assertThat(released.lastError())
        .contains(ErrorInfo.retryable(ErrorCodes.NODE_SHUTDOWN, "node-a shut down"));
    assertThat(store.expiredLeases(at(1000), 10)).isEmpty();
    assertThat(count(QUEUE, PENDING)).isEqualTo(1);

    WorkOrderView again = claimOne(QUEUE);
    assertThat(again.id()).isEqualTo(id);
    assertThat(again.attempt()).isEqualTo(2);
    assertThat(again.releases()).isEqualTo(1);
    assertThat(again.chargedAttempts()).isEqualTo(1);
    assertThat(again.version()).isGreaterThan(first.version());
    assertThat(store.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
  }

  // ---------------------------------------------------------------------------------------------
  // nodes

  @Test
  void nodes_are_recorded_replaced_listed_by_id_and_removed() {
    assertThat(store.nodes()).isEmpty();
    NodeStatus b = node("node-b", at(1));
    NodeStatus a = node("node-a", at(2));
    store.recordNode(b);
    store.recordNode(a);
    assertThat(store.nodes()).containsExactly(a, b);

    NodeStatus busier =
        new NodeStatus("node-b", 4, 8_192, 3, 6_000, "WARNING", "1.2.3", at(1), at(9));
    store.recordNode(busier);
    assertThat(store.nodes()).containsExactly(a, busier);

    assertThat(store.removeNodes("node-a", null)).isEqualTo(1);
    assertThat(store.removeNodes("node-a", null)).isZero();
    assertThat(store.nodes()).containsExactly(busier);
  }

  @Test
  void nodes_silent_since_a_cutoff_are_removed_and_the_others_kept() {
    NodeStatus old = node("node-old", at(1));
    NodeStatus recent = node("node-new", at(10));
    store.recordNode(old);
    store.recordNode(recent);

    assertThat(store.removeNodes(null, at(10))).isEqualTo(1);

    assertThat(store.nodes()).containsExactly(recent);
    assertThat(store.removeNodes(null, null)).isZero();
  }

  private static NodeStatus node(String id, Instant heartbeat) {
    return new NodeStatus(
        id, 2, 4_096, 1, 1_024, "NORMAL", "1.0.0", heartbeat.minusSeconds(1), heartbeat);
  }

  // ---------------------------------------------------------------------------------------------
  // expiredLeases

  @Test
  void expiredLeases_lists_leases_at_or_before_now_earliest_first() {
    WorkOrderId a = submit(QUEUE);
    claim(QUEUE, OWNER, 1, Capacity.unlimited(), t0);
    WorkOrderId c = submit(QUEUE);
    store.claim(
        new ClaimRequest(QUEUE, OWNER, 1, Capacity.unlimited(), t0, Duration.ofSeconds(60)));
    WorkOrderId d = newId();
    store.append(
        d,
        ExpectedVersion.none(),
        List.of(submitted(OTHER_QUEUE), claimed("node-b", at(20)), started()));
    clock.set(at(5));
    WorkOrderId b = submit(QUEUE);
    store.claim(
        new ClaimRequest(QUEUE, OWNER, 1, Capacity.unlimited(), at(5), Duration.ofSeconds(10)));
    inState(QUEUE, WAITING_RETRY);
    inState(QUEUE, COMPLETED);
    submit(QUEUE);

    assertThat(store.expiredLeases(at(15).minusMillis(1), 10)).isEmpty();
    assertThat(ids(store.expiredLeases(at(15), 10))).containsExactly(b);
    assertThat(ids(store.expiredLeases(at(30), 10))).containsExactly(b, d, a);
    List<WorkOrderView> all = store.expiredLeases(at(1000), 10);
    assertThat(ids(all)).containsExactly(b, d, a, c);
    assertThat(all)
        .extracting(WorkOrderView::state)
        .containsExactly(PREPARING, RUNNING, PREPARING, PREPARING);
    assertThat(all.get(1).leaseOwner()).contains("node-b");
    assertThat(all.get(1).leaseExpiresAt()).contains(at(20));
  }

  @Test
  void expiredLeases_respects_the_limit() {
    List<WorkOrderId> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      clock.set(at(i));
      ids.add(inState(QUEUE, PREPARING));
    }

    assertThat(ids(store.expiredLeases(at(1000), 2))).containsExactlyElementsOf(ids.subList(0, 2));
    assertThat(ids(store.expiredLeases(at(1000), 1))).containsExactly(ids.get(0));
    assertThat(store.expiredLeases(at(1000), 100)).hasSize(5);
  }

  @Test
  void expiredLeases_leaves_out_work_orders_that_no_longer_hold_a_lease() {
    WorkOrderId done = inState(QUEUE, RUNNING);
    WorkOrderId reaped = inState(QUEUE, PREPARING);
    WorkOrderId cancelled = inState(QUEUE, PREPARING);
    WorkOrderId held = inState(QUEUE, PREPARING);
    store.append(done, ExpectedVersion.exactly(3), List.of(completed()));
    store.append(reaped, ExpectedVersion.exactly(2), List.of(leaseExpired(at(60))));
    store.append(cancelled, ExpectedVersion.exactly(2), List.of(cancelled()));

    assertThat(ids(store.expiredLeases(at(1000), 10))).containsExactly(held);
  }

  @Test
  void expiredLeases_lets_a_reaper_win_against_the_late_owner() {
    WorkOrderId id = submit(QUEUE);
    claimOne(QUEUE);
    clock.set(at(31));

    List<WorkOrderView> expired = store.expiredLeases(clock.instant(), 10);
    assertThat(ids(expired)).containsExactly(id);
    long readVersion = expired.get(0).version();
    store.append(id, ExpectedVersion.exactly(readVersion), List.of(leaseExpired(at(60))));

    assertThatThrownBy(
            () -> store.append(id, ExpectedVersion.exactly(readVersion), List.of(started())))
        .isInstanceOf(ConcurrencyException.class);
    assertThat(store.renewLease(id, OWNER, 1, at(90))).isFalse();
    assertThat(view(id).state()).isEqualTo(WAITING_RETRY);
    assertThat(store.expiredLeases(at(1000), 10)).isEmpty();
  }

  // ---------------------------------------------------------------------------------------------
  // dueRetries, nextRetryAt

  @Test
  void dueRetries_lists_waiting_retries_at_or_before_now_earliest_first() {
    WorkOrderId late = retryingAt(at(50));
    WorkOrderId early = retryingAt(at(20));
    WorkOrderId middle = retryingAt(at(30));
    WorkOrderId otherQueue = newId();
    store.append(
        otherQueue,
        ExpectedVersion.none(),
        List.of(submitted(OTHER_QUEUE), claimed(OWNER, at(30)), failedWithRetry(at(40))));
    inState(QUEUE, RUNNING);
    inState(QUEUE, PENDING);

    assertThat(store.dueRetries(at(20).minusMillis(1), 10)).isEmpty();
    assertThat(ids(store.dueRetries(at(20), 10))).containsExactly(early);
    assertThat(ids(store.dueRetries(at(45), 10))).containsExactly(early, middle, otherQueue);
    List<WorkOrderView> all = store.dueRetries(at(1000), 10);
    assertThat(ids(all)).containsExactly(early, middle, otherQueue, late);
    assertThat(all).extracting(WorkOrderView::state).containsOnly(WAITING_RETRY);
    assertThat(all.get(3).nextAttemptAt()).contains(at(50));
  }

  @Test
  void dueRetries_respects_the_limit() {
    WorkOrderId a = retryingAt(at(10));
    WorkOrderId b = retryingAt(at(11));
    retryingAt(at(12));

    assertThat(ids(store.dueRetries(at(100), 2))).containsExactly(a, b);
    assertThat(ids(store.dueRetries(at(100), 1))).containsExactly(a);
  }

  @Test
  void dueRetries_leaves_out_released_and_cancelled_work_orders() {
    WorkOrderId released = retryingAt(at(10));
    WorkOrderId cancelled = retryingAt(at(11));
    WorkOrderId waiting = retryingAt(at(12));
    clock.set(at(20));
    store.append(released, ExpectedVersion.exactly(3), List.of(retryReleased()));
    store.append(cancelled, ExpectedVersion.exactly(3), List.of(cancelled()));

    assertThat(ids(store.dueRetries(at(100), 10))).containsExactly(waiting);
  }

  @Test
  void nextRetryAt_is_the_earliest_retry_time_of_all_queues() {
    assertThat(store.nextRetryAt()).isEmpty();
    WorkOrderId a = retryingAt(at(40));
    assertThat(store.nextRetryAt()).contains(at(40));
    WorkOrderId b = newId();
    store.append(
        b,
        ExpectedVersion.none(),
        List.of(submitted(OTHER_QUEUE), claimed(OWNER, at(30)), failedWithRetry(at(25))));
    assertThat(store.nextRetryAt()).contains(at(25));

    clock.set(at(25));
    store.append(b, ExpectedVersion.exactly(3), List.of(retryReleased()));
    assertThat(store.nextRetryAt()).contains(at(40));

    store.append(a, ExpectedVersion.exactly(3), List.of(cancelled()));
    assertThat(store.nextRetryAt()).isEmpty();
  }

  // ---------------------------------------------------------------------------------------------
  // nextAvailableAt

  @Test
  void nextAvailableAt_is_the_earliest_availability_after_now() {
    submit(spec(QUEUE).notBefore(at(30)).build());
    submit(spec(QUEUE).notBefore(at(10)).build());
    submit(spec(QUEUE).notBefore(at(20)).build());
    submit(QUEUE);
    submit(spec(OTHER_QUEUE).notBefore(at(5)).build());

    assertThat(store.nextAvailableAt(QUEUE, t0)).contains(at(10));
    assertThat(store.nextAvailableAt(QUEUE, at(10).minusMillis(1))).contains(at(10));
    assertThat(store.nextAvailableAt(QUEUE, at(10))).contains(at(20));
    assertThat(store.nextAvailableAt(QUEUE, at(25))).contains(at(30));
    assertThat(store.nextAvailableAt(QUEUE, at(30))).isEmpty();
    assertThat(store.nextAvailableAt(OTHER_QUEUE, t0)).contains(at(5));
    assertThat(store.nextAvailableAt("nowhere", t0)).isEmpty();
  }

  @Test
  void nextAvailableAt_is_empty_when_no_pending_work_is_delayed() {
    assertThat(store.nextAvailableAt(QUEUE, t0)).isEmpty();
    submit(QUEUE);
    inState(QUEUE, WAITING_RETRY);

    assertThat(store.nextAvailableAt(QUEUE, t0)).isEmpty();
  }

  @Test
  void nextAvailableAt_leaves_out_work_orders_that_are_no_longer_pending() {
    WorkOrderId cancelled = submit(spec(QUEUE).notBefore(at(10)).build());
    WorkOrderId claimed = submit(spec(QUEUE).notBefore(at(20)).build());
    submit(spec(QUEUE).notBefore(at(30)).build());
    store.append(cancelled, ExpectedVersion.exactly(1), List.of(cancelled()));
    store.append(claimed, ExpectedVersion.exactly(1), List.of(claimed(OWNER, at(50))));

    assertThat(store.nextAvailableAt(QUEUE, t0)).contains(at(30));
  }

  @Test
  void nextAvailableAt_still_sees_delayed_work_after_a_claim_with_a_later_now() {
    submit(spec(QUEUE).notBefore(at(60)).resources(ResourceRequest.of(2, 0)).build());

    assertThat(claim(QUEUE, "node-ahead", 10, Capacity.of(1, 0), at(120))).isEmpty();

    assertThat(store.nextAvailableAt(QUEUE, at(30))).contains(at(60));
    assertThat(store.nextAvailableAt(QUEUE, at(120))).isEmpty();
  }

  // ---------------------------------------------------------------------------------------------
  // deleteTerminalBefore

  @Test
  void deleteTerminalBefore_deletes_terminal_work_orders_last_updated_before_the_cutoff() {
    WorkOrderId completed = inState(QUEUE, COMPLETED);
    WorkOrderId failed = inState(QUEUE, FAILED);
    WorkOrderId cancelled = inState(OTHER_QUEUE, CANCELLED);
    List<WorkOrderId> live = new ArrayList<>();
    for (WorkOrderState s : List.of(PENDING, PREPARING, RUNNING, WAITING_RETRY)) {
      live.add(inState(QUEUE, s));
    }
    clock.set(at(10));
    WorkOrderId recent = inState(QUEUE, COMPLETED);

    assertThat(store.deleteTerminalBefore(at(10), 100)).isEqualTo(3);

    assertThat(store.find(completed)).isEmpty();
    assertThat(store.find(failed)).isEmpty();
    assertThat(store.find(cancelled)).isEmpty();
    assertThat(store.find(recent)).isPresent();
    for (WorkOrderId id : live) {
      assertThat(store.find(id)).isPresent();
    }
    assertThat(store.deleteTerminalBefore(at(10), 100)).isZero();
    assertThat(store.deleteTerminalBefore(at(10).plusMillis(1), 100)).isEqualTo(1);
    assertThat(store.find(recent)).isEmpty();
  }

  @Test
  void deleteTerminalBefore_deletes_whole_streams() {
    WorkOrderId doomed = newId();
    store.append(
        doomed,
        ExpectedVersion.none(),
        List.of(submitted(spec(QUEUE).idempotencyKey("order-1").build())));
    WorkOrderId keeper = submit(spec(QUEUE).idempotencyKey("order-2").build());
    claimOne(QUEUE);
    store.append(doomed, ExpectedVersion.exactly(2), List.of(started(), completed()));
    store.append(keeper, ExpectedVersion.exactly(1), List.of(cancelled()));
    clock.set(at(100));
    WorkOrderId fresh = inState(QUEUE, RUNNING);
    List<RecordedEvent> logBefore = wholeLog();
    assertThat(count(QUEUE, COMPLETED)).isEqualTo(1);

    clock.advance(Duration.ofDays(1));
    assertThat(store.deleteTerminalBefore(at(0).plusMillis(1), 100)).isEqualTo(2);

    for (WorkOrderId gone : List.of(doomed, keeper)) {
      assertThat(store.readStream(gone)).isEmpty();
      assertThat(store.find(gone)).isEmpty();
    }
    assertThat(wholeLog())
        .containsExactlyElementsOf(
            logBefore.stream().filter(r -> r.workOrderId().equals(fresh)).toList());
    assertThat(store.findByIdempotencyKey("order-1")).isEmpty();
    assertThat(store.findByIdempotencyKey("order-2")).isEmpty();
    assertThat(count(QUEUE, COMPLETED)).isZero();
    assertThat(count(QUEUE, CANCELLED)).isZero();
    assertThat(count(QUEUE, RUNNING)).isEqualTo(1);
    assertThat(ids(store.query(WorkOrderQuery.builder().build()).items())).containsExactly(fresh);

    WorkOrderId again = submit(spec(QUEUE).idempotencyKey("order-1").build());
    assertThat(store.findByIdempotencyKey("order-1")).contains(again);
  }

  @Test
  void deleteTerminalBefore_respects_the_limit_oldest_first() {
    List<WorkOrderId> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      clock.set(at(10 - i * 2L));
      ids.add(inState(QUEUE, COMPLETED));
    }
    clock.set(at(100));

    assertThat(store.deleteTerminalBefore(at(100), 2)).isEqualTo(2);
    assertThat(store.find(ids.get(4))).isEmpty();
    assertThat(store.find(ids.get(3))).isEmpty();
    assertThat(store.find(ids.get(2))).isPresent();
    assertThat(store.deleteTerminalBefore(at(100), 2)).isEqualTo(2);
    assertThat(store.find(ids.get(1))).isEmpty();
    assertThat(store.find(ids.get(0))).isPresent();
    assertThat(store.deleteTerminalBefore(at(100), 2)).isEqualTo(1);
    assertThat(store.deleteTerminalBefore(at(100), 2)).isZero();
    assertThat(store.counts().count(QUEUE, COMPLETED)).isZero();
  }

  @Test
  void deleteTerminalBefore_never_deletes_work_orders_that_are_not_terminal() {
    Map<WorkOrderId, List<RecordedEvent>> streams = new HashMap<>();
    for (WorkOrderState s : List.of(PENDING, PREPARING, RUNNING, WAITING_RETRY)) {
      WorkOrderId id = inState(QUEUE, s);
      streams.put(id, store.readStream(id));
    }
    WorkOrderId requested = inState(QUEUE, RUNNING);
    store.append(requested, ExpectedVersion.exactly(3), List.of(cancellationRequested("x")));
    streams.put(requested, store.readStream(requested));
    clock.advance(Duration.ofDays(365));

    assertThat(store.deleteTerminalBefore(clock.instant(), 100)).isZero();

    streams.forEach((id, stream) -> assertThat(store.readStream(id)).isEqualTo(stream));
    assertThat(wholeLog()).hasSize(streams.values().stream().mapToInt(List::size).sum());
  }

  @Test
  void deleteTerminalBefore_does_not_reuse_positions_of_deleted_events() {
    submit(QUEUE);
    WorkOrderId done = inState(QUEUE, COMPLETED);
    long highest = last(store.readStream(done)).position();
    clock.advance(Duration.ofSeconds(1));

    assertThat(store.deleteTerminalBefore(clock.instant(), 10)).isEqualTo(1);
    List<RecordedEvent> next =
        store.append(newId(), ExpectedVersion.none(), List.of(submitted(QUEUE)));

    assertThat(next.get(0).position()).isGreaterThan(highest);
    assertThat(store.readLog(highest, 10).events()).containsExactlyElementsOf(next);
  }

  // ---------------------------------------------------------------------------------------------
  // dependencies, checkpoints, progress, batches, queue pauses

  /**
   * {@link FlowConformance} against this test's store: every store that passes this suite passes it
   * too.
   */
  @Nested
  class Flow extends FlowConformance {
    @Override
    protected WorkOrderStore store() {
      return store;
    }

    @Override
    protected MutableClock clock() {
      return clock;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // close, bad arguments

  @Test
  void close_makes_every_method_throw_IllegalStateException() {
    WorkOrderId id = submit(QUEUE);
    store.close();

    Map<String, Runnable> calls = new LinkedHashMap<>();
    calls.put("append", () -> store.append(id, ExpectedVersion.exactly(1), List.of(cancelled())));
    calls.put(
        "appendAll",
        () ->
            store.appendAll(
                List.of(AppendRequest.of(newId(), ExpectedVersion.none(), submitted(QUEUE)))));
    calls.put("readStream", () -> store.readStream(id));
    calls.put("readLog", () -> store.readLog(0, 10));
    calls.put("queryEvents", () -> store.queryEvents(EventQuery.builder().build()));
    calls.put("find", () -> store.find(id));
    calls.put("query", () -> store.query(WorkOrderQuery.builder().build()));
    calls.put("counts", () -> store.counts());
    calls.put(
        "count", () -> store.count(WorkOrderQuery.builder().build(), WorkOrderQuery.CountBy.STATE));
    calls.put("endedPerInterval", () -> store.endedPerInterval(t0, at(60), Duration.ofMinutes(1)));
    calls.put("findByIdempotencyKey", () -> store.findByIdempotencyKey("k"));
    calls.put("claim", () -> claim(QUEUE, 1));
    calls.put("renewLease", () -> store.renewLease(id, OWNER, 1, at(60)));
    calls.put("expiredLeases", () -> store.expiredLeases(t0, 10));
    calls.put("dueRetries", () -> store.dueRetries(t0, 10));
    calls.put("nextRetryAt", () -> store.nextRetryAt());
    calls.put("nextAvailableAt", () -> store.nextAvailableAt(QUEUE, t0));
    calls.put("deleteTerminalBefore", () -> store.deleteTerminalBefore(t0, 10));
    calls.put(
        "renewLease with progress",
        () -> store.renewLease(id, OWNER, 1, at(60), new dev.workgate.core.Progress(0, "", t0)));
    calls.put("resolvableBlocked", () -> store.resolvableBlocked(10));
    calls.put("dependents", () -> store.dependents(id));
    calls.put(
        "recordQueueAction",
        () ->
            store.recordQueueAction(
                new dev.workgate.core.store.QueueAction(
                    QUEUE, dev.workgate.core.store.QueueAction.Kind.PAUSE, t0, "ops", "")));
    calls.put("pausedQueues", () -> store.pausedQueues());
    calls.put("queueActions", () -> store.queueActions(QUEUE, 10));
    calls.put(
        "markBatchEnded", () -> store.markBatchEnded(dev.workgate.core.BatchId.of("b"), 1, t0));
    calls.forEach(
        (name, call) ->
            assertThatThrownBy(call::run).as(name).isInstanceOf(IllegalStateException.class));
  }

  @Test
  void close_is_idempotent() {
    store.close();

    assertThatCode(store::close).doesNotThrowAnyException();
    assertThatThrownBy(() -> store.find(newId())).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void methods_with_a_limit_reject_a_limit_below_1() {
    inState(QUEUE, COMPLETED);
    for (int limit : new int[] {0, -1, Integer.MIN_VALUE}) {
      assertThatThrownBy(() -> store.readLog(0, limit))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store.expiredLeases(t0, limit))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store.dueRetries(t0, limit))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store.deleteTerminalBefore(at(100), limit))
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(wholeLog()).hasSize(4);
  }

  // ---------------------------------------------------------------------------------------------
  // concurrency

  @Test
  void concurrent_claimers_take_every_work_order_exactly_once() throws Exception {
    int total = 10_000;
    int claimers = 8;
    WorkOrderSpec[] specs = new WorkOrderSpec[4];
    for (int p = 0; p < specs.length; p++) {
      specs[p] = spec(QUEUE).priority(p).build();
    }
    List<WorkOrderId> seeded = new ArrayList<>(total);
    List<AppendRequest> batch = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      WorkOrderId id = newId();
      seeded.add(id);
      batch.add(AppendRequest.of(id, ExpectedVersion.none(), submitted(specs[i % specs.length])));
      if (batch.size() == 500) {
        store.appendAll(batch);
        batch.clear();
      }
    }
    assertThat(count(QUEUE, PENDING)).isEqualTo(total);
    Instant now = clock.instant();
    CyclicBarrier start = new CyclicBarrier(claimers);

    List<List<WorkOrderView>> results =
        runConcurrently(
            claimers,
            n -> {
              String owner = "node-" + n;
              Random random = new Random(1000L + n);
              start.await(WAIT_SECONDS, TimeUnit.SECONDS);
              List<WorkOrderView> mine = new ArrayList<>();
              while (true) {
                int limit = 1 + random.nextInt(16);
                List<WorkOrderView> got =
                    store.claim(
                        new ClaimRequest(QUEUE, owner, limit, Capacity.unlimited(), now, LEASE));
                if (got.isEmpty()) {
                  return mine;
                }
                if (got.size() > limit) {
                  throw new AssertionError(owner + " got " + got.size() + " > limit " + limit);
                }
                mine.addAll(got);
              }
            });

    Map<WorkOrderId, String> ownerById = new HashMap<>();
    for (int n = 0; n < claimers; n++) {
      for (WorkOrderView v : results.get(n)) {
        String previous = ownerById.put(v.id(), "node-" + n);
        assertThat(previous).as("%s claimed twice", v.id()).isNull();
        assertThat(v.state()).isEqualTo(PREPARING);
        assertThat(v.attempt()).isEqualTo(1);
        assertThat(v.leaseOwner()).contains("node-" + n);
      }
    }
    assertThat(results.stream().mapToInt(List::size).sum()).isEqualTo(total);
    assertThat(ownerById.keySet()).containsExactlyInAnyOrderElementsOf(seeded);
    assertThat(count(QUEUE, PENDING)).isZero();
    assertThat(count(QUEUE, PREPARING)).isEqualTo(total);
    assertThat(claim(QUEUE, 16)).isEmpty();
    for (WorkOrderId id : seeded) {
      List<RecordedEvent> stream = store.readStream(id);
      assertThat(stream).as("stream of %s", id).hasSize(2);
      assertThat(stream.get(1).event())
          .as("claim of %s", id)
          .isInstanceOfSatisfying(
              WorkOrderEvent.Claimed.class,
              c -> assertThat(c.owner()).isEqualTo(ownerById.get(id)));
    }
    Map<WorkOrderId, Long> claimsInLog =
        wholeLog().stream()
            .filter(r -> r.event() instanceof WorkOrderEvent.Claimed)
            .collect(Collectors.groupingBy(RecordedEvent::workOrderId, Collectors.counting()));
    assertThat(claimsInLog).hasSize(total);
    assertThat(new HashSet<>(claimsInLog.values())).containsExactly(1L);
  }

  @Test
  void concurrent_appends_under_the_same_expected_version_let_exactly_one_win() throws Exception {
    WorkOrderId id = inState(QUEUE, PREPARING);
    int writers = 12;
    CyclicBarrier start = new CyclicBarrier(writers);

    List<Object> outcomes =
        runConcurrently(
            writers,
            n -> {
              start.await(WAIT_SECONDS, TimeUnit.SECONDS);
              try {
                return store.append(
                    id, ExpectedVersion.exactly(2), List.of(cancellationRequested("writer-" + n)));
              } catch (ConcurrencyException e) {
                return e;
              }
            });

    List<RecordedEvent> winners = new ArrayList<>();
    List<ConcurrencyException> losers = new ArrayList<>();
    for (Object outcome : outcomes) {
      if (outcome instanceof ConcurrencyException e) {
        losers.add(e);
      } else {
        winners.addAll(castEvents(outcome));
      }
    }
    assertThat(winners).hasSize(1);
    assertThat(losers).hasSize(writers - 1);
    for (ConcurrencyException e : losers) {
      assertThat(e.workOrderId()).isEqualTo(id);
      assertThat(e.expected()).isEqualTo("exactly 2");
      assertThat(e.actualVersion()).isEqualTo(3);
    }
    List<RecordedEvent> stream = store.readStream(id);
    assertThat(stream).hasSize(3);
    assertThat(stream.get(2)).isEqualTo(winners.get(0));
    assertThat(view(id).version()).isEqualTo(3);
  }

  @Test
  void concurrent_submissions_of_one_work_order_let_exactly_one_win() throws Exception {
    WorkOrderId id = newId();
    int writers = 12;
    CyclicBarrier start = new CyclicBarrier(writers);

    List<Object> outcomes =
        runConcurrently(
            writers,
            n -> {
              start.await(WAIT_SECONDS, TimeUnit.SECONDS);
              try {
                return store.append(
                    id,
                    ExpectedVersion.none(),
                    List.of(submitted(spec(QUEUE).payload(Map.of("writer", n)).build())));
              } catch (ConcurrencyException e) {
                return e;
              }
            });

    List<RecordedEvent> winners = new ArrayList<>();
    for (Object outcome : outcomes) {
      if (outcome instanceof ConcurrencyException e) {
        assertThat(e.workOrderId()).isEqualTo(id);
        assertThat(e.expected()).isEqualTo("none");
        assertThat(e.actualVersion()).isEqualTo(1);
      } else {
        winners.addAll(castEvents(outcome));
      }
    }
    assertThat(winners).hasSize(1);
    assertThat(store.readStream(id)).containsExactlyElementsOf(winners);
    assertThat(count(QUEUE, PENDING)).isEqualTo(1);
  }

  @Test
  void concurrent_appends_to_different_work_orders_keep_positions_unique_and_versions_contiguous()
      throws Exception {
    int writers = 8;
    int perWriter = 25;
    CyclicBarrier start = new CyclicBarrier(writers);

    List<List<WorkOrderId>> owned =
        runConcurrently(
            writers,
            n -> {
              List<WorkOrderId> ids = new ArrayList<>();
              for (int i = 0; i < perWriter; i++) {
                ids.add(newId());
              }
              start.await(WAIT_SECONDS, TimeUnit.SECONDS);
              for (WorkOrderId id : ids) {
                store.append(id, ExpectedVersion.none(), List.of(submitted(QUEUE)));
              }
              for (WorkOrderId id : ids) {
                store.append(id, ExpectedVersion.exactly(1), List.of(claimed("node-" + n, at(60))));
              }
              for (WorkOrderId id : ids) {
                store.append(id, ExpectedVersion.exactly(2), List.of(started()));
              }
              for (int i = 0; i < ids.size(); i += 5) {
                List<AppendRequest> batch = new ArrayList<>();
                for (WorkOrderId id : ids.subList(i, Math.min(ids.size(), i + 5))) {
                  batch.add(AppendRequest.of(id, ExpectedVersion.exactly(3), completed()));
                }
                store.appendAll(batch);
              }
              return ids;
            });

    List<RecordedEvent> log = wholeLog();
    assertThat(log).hasSize(writers * perWriter * 4);
    assertStrictlyRising(log);
    Map<WorkOrderId, List<Long>> versionsInLog = new HashMap<>();
    for (RecordedEvent r : log) {
      versionsInLog.computeIfAbsent(r.workOrderId(), k -> new ArrayList<>()).add(r.version());
    }
    List<WorkOrderId> all = owned.stream().flatMap(List::stream).toList();
    assertThat(versionsInLog).containsOnlyKeys(all);
    for (WorkOrderId id : all) {
      assertThat(versionsInLog.get(id))
          .as("log versions of %s", id)
          .containsExactly(1L, 2L, 3L, 4L);
      List<RecordedEvent> stream = store.readStream(id);
      assertThat(stream).extracting(RecordedEvent::version).containsExactly(1L, 2L, 3L, 4L);
      assertStrictlyRising(stream);
      assertThat(view(id).state()).isEqualTo(COMPLETED);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  private Instant at(long seconds) {
    return t0.plusSeconds(seconds);
  }

  private WorkOrderId submit(String queue) {
    return submit(spec(queue).build());
  }

  private WorkOrderId submit(WorkOrderSpec spec) {
    WorkOrderId id = newId();
    store.append(id, ExpectedVersion.none(), List.of(submitted(spec)));
    return id;
  }

  /** A new work order in a queue brought to a state by one append, at the clock's time. */
  private WorkOrderId inState(String queue, WorkOrderState state) {
    return inStateFrom(spec(queue).build(), state);
  }

  /** A new work order of a spec brought to a state by one append, at the clock's time. */
  private WorkOrderId inStateFrom(WorkOrderSpec spec, WorkOrderState state) {
    Instant now = clock.instant();
    List<WorkOrderEvent> events = new ArrayList<>();
    events.add(submitted(spec));
    switch (state) {
      case PENDING -> {}
      case PREPARING -> events.add(claimed(OWNER, now.plus(LEASE)));
      case RUNNING -> events.addAll(List.of(claimed(OWNER, now.plus(LEASE)), started()));
      case COMPLETED ->
          events.addAll(List.of(claimed(OWNER, now.plus(LEASE)), started(), completed()));
      case FAILED ->
          events.addAll(List.of(claimed(OWNER, now.plus(LEASE)), started(), failedForGood()));
      case WAITING_RETRY ->
          events.addAll(
              List.of(claimed(OWNER, now.plus(LEASE)), failedWithRetry(now.plusSeconds(60))));
      case CANCELLED -> events.add(cancelled());
      // Waiting for a work order that the store does not hold: nothing else to submit.
      case BLOCKED ->
          events.set(0, new WorkOrderEvent.Submitted(spec, null, null, List.of(newId())));
    }
    WorkOrderId id = newId();
    store.append(id, ExpectedVersion.none(), events);
    return id;
  }

  /** A spec of a type in a queue. */
  private static WorkOrderSpec typed(String queue, String type) {
    return WorkOrderSpec.builder(type).queue(queue).build();
  }

  /** A spec in {@link #QUEUE} with labels. */
  private static WorkOrderSpec labelled(Map<String, String> labels) {
    WorkOrderSpec.Builder spec = spec(QUEUE);
    labels.forEach(spec::label);
    return spec.build();
  }

  /** A new work order resubmitted from another, pending in a queue. */
  private WorkOrderId resubmit(WorkOrderId from, String queue) {
    WorkOrderId id = newId();
    store.append(
        id,
        ExpectedVersion.none(),
        List.of(new WorkOrderEvent.Submitted(spec(queue).build(), from)));
    return id;
  }

  /** The ids a query returns, read a few at a time through every page. */
  private List<WorkOrderId> queried(WorkOrderQuery.Builder query) {
    return ids(readAllPages(query, 0, 3));
  }

  /** Every state's name at 0, sorted: what counts by state start from. */
  private static Map<String, Long> stateZeros() {
    Map<String, Long> zeros = new java.util.TreeMap<>();
    for (WorkOrderState state : WorkOrderState.values()) {
      zeros.put(state.name(), 0L);
    }
    return zeros;
  }

  /**
   * Work orders that differ in every filtered attribute, each submitted a second after the last.
   *
   * @param original a failed work order that most of the others were resubmitted from
   * @param ids every work order of the fleet, the original first, in submission order
   */
  private record Fleet(WorkOrderId original, List<WorkOrderId> ids) {}

  /**
   * Sixty work orders whose queue, type, labels, history (and so state and last error),
   * resubmission and submission time vary with different periods, so that every combination of
   * filters selects some and leaves out others; the original they are resubmitted from is the
   * first.
   */
  private Fleet fleet() {
    clock.set(at(0));
    WorkOrderId original = inState(QUEUE, FAILED);
    List<WorkOrderId> ids = new ArrayList<>(List.of(original));
    String[] types = {"render", "index", "transcode"};
    for (int i = 0; i < 60; i++) {
      clock.set(at(i));
      WorkOrderSpec.Builder spec =
          WorkOrderSpec.builder(types[i % 3]).queue(i % 4 == 3 ? OTHER_QUEUE : QUEUE);
      if (i % 5 != 4) {
        spec.label("team", i % 5 == 2 ? "audio" : "video");
      }
      if (i % 2 == 0) {
        spec.label("a.b", "1");
      }
      List<WorkOrderEvent> events = new ArrayList<>();
      events.add(new WorkOrderEvent.Submitted(spec.build(), i % 7 == 0 ? null : original));
      Instant lease = clock.instant().plus(LEASE);
      switch (i % 8) {
        case 0 -> {}
        case 1 ->
            events.addAll(
                List.of(claimed(OWNER, lease), failedWithRetry(at(i + 1)), retryReleased()));
        case 2 -> events.addAll(List.of(claimed(OWNER, lease), failedWithRetry(at(i + 100))));
        case 3 -> events.addAll(List.of(claimed(OWNER, lease), started(), failedForGood()));
        case 4 ->
            events.addAll(
                List.of(
                    claimed(OWNER, lease),
                    WorkOrderEvent.AttemptFailed.finalFailure(
                        ErrorInfo.retryable(ErrorCodes.TIMEOUT, "timed out"), "attempts used up")));
        case 5 -> events.addAll(List.of(claimed(OWNER, lease), started(), completed()));
        case 6 -> events.add(cancelled());
        default -> events.addAll(List.of(claimed(OWNER, lease), started()));
      }
      WorkOrderId id = newId();
      store.append(id, ExpectedVersion.none(), events);
      ids.add(id);
    }
    return new Fleet(original, ids);
  }

  /** The fleet's work orders that a query matches by {@link WorkOrderQuery#matches}, in order. */
  private List<WorkOrderId> matching(Fleet fleet, WorkOrderQuery query) {
    List<WorkOrderId> out = new ArrayList<>();
    for (WorkOrderId id : fleet.ids()) {
      if (query.matches(view(id))) {
        out.add(id);
      }
    }
    return out;
  }

  private WorkOrderId retryingAt(Instant retryAt) {
    WorkOrderId id = newId();
    store.append(
        id,
        ExpectedVersion.none(),
        List.of(submitted(QUEUE), claimed(OWNER, at(30)), failedWithRetry(retryAt)));
    return id;
  }

  private List<WorkOrderView> claim(String queue, int limit) {
    return claim(queue, OWNER, limit, Capacity.unlimited(), clock.instant());
  }

  private List<WorkOrderView> claim(
      String queue, String owner, int limit, Capacity capacity, Instant now) {
    return store.claim(new ClaimRequest(queue, owner, limit, capacity, now, LEASE));
  }

  private WorkOrderView claimOne(String queue) {
    List<WorkOrderView> claimed = claim(queue, 1);
    assertThat(claimed).as("claim of one from %s", queue).hasSize(1);
    return claimed.get(0);
  }

  private WorkOrderView view(WorkOrderId id) {
    return store.find(id).orElseThrow(() -> new AssertionError("no view of " + id));
  }

  private long count(String queue, WorkOrderState state) {
    return store.counts().count(queue, state);
  }

  private List<RecordedEvent> wholeLog() {
    List<RecordedEvent> all = new ArrayList<>();
    long after = 0;
    while (true) {
      LogPage page = store.readLog(after, 1000);
      if (page.events().isEmpty()) {
        return all;
      }
      long from = after;
      assertThat(page.events())
          .as("events of readLog(%d, 1000)", from)
          .allSatisfy(r -> assertThat(r.position()).isGreaterThan(from));
      all.addAll(page.events());
      after = page.lastPosition();
    }
  }

  private long lastLogPosition() {
    List<RecordedEvent> log = wholeLog();
    return log.isEmpty() ? 0 : last(log).position();
  }

  private List<WorkOrderView> readAllPages(WorkOrderQuery.Builder query, long cursor, int limit) {
    List<WorkOrderView> all = new ArrayList<>();
    Set<WorkOrderId> seen = new HashSet<>();
    while (true) {
      Page<WorkOrderView> page = store.query(query.after(cursor).limit(limit).build());
      for (WorkOrderView v : page.items()) {
        assertThat(seen.add(v.id())).as("%s returned twice while paging", v.id()).isTrue();
      }
      all.addAll(page.items());
      if (!page.hasNext()) {
        return all;
      }
      assertThat(page.items()).as("a page with a next cursor").isNotEmpty();
      cursor = page.nextCursor().getAsLong();
    }
  }

  /**
   * The events of a lifecycle of one of five kinds (by {@code kind % 5}); the five together hold
   * every event type.
   */
  private List<WorkOrderEvent> lifecycle(int kind) {
    return switch (kind % 5) {
      case 0 -> List.of(submitted(QUEUE));
      case 1 -> List.of(submitted(OTHER_QUEUE), cancelled());
      case 2 -> List.of(submitted(QUEUE), claimed(OWNER, at(600)), started(), completed());
      case 3 ->
          List.of(
              submitted(QUEUE),
              claimed(OWNER, at(600)),
              failedWithRetry(at(60)),
              retryReleased(),
              claimed(OWNER, at(900)),
              started(),
              failedForGood());
      default ->
          List.of(
              submitted(OTHER_QUEUE),
              claimed(OWNER, at(600)),
              started(),
              cancellationRequested("stop"),
              cancelled());
    };
  }

  /**
   * Appends the lifecycles of {@code count} new work orders (kinds 0, 1, 2, … in turn) one event
   * per call, taking the work orders in a random interleaving. Before each call the clock stands
   * still, moves on by a millisecond or a second, or goes back by a second, but never before where
   * it was when this was called.
   *
   * @return the work orders, in the order of their kinds
   */
  private List<WorkOrderId> appendLifecycles(Random random, int count) {
    Instant floor = clock.instant();
    List<WorkOrderId> ids = new ArrayList<>();
    List<List<WorkOrderEvent>> remaining = new ArrayList<>();
    List<Integer> open = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ids.add(newId());
      remaining.add(new ArrayList<>(lifecycle(i)));
      open.add(i);
    }
    long[] versions = new long[count];
    while (!open.isEmpty()) {
      int k = open.get(random.nextInt(open.size()));
      switch (random.nextInt(4)) {
        case 0 -> {}
        case 1 -> clock.advance(Duration.ofMillis(1));
        case 2 -> clock.advance(Duration.ofSeconds(1));
        default -> {
          if (!clock.instant().minusSeconds(1).isBefore(floor)) {
            clock.set(clock.instant().minusSeconds(1));
          }
        }
      }
      WorkOrderEvent next = remaining.get(k).remove(0);
      store.append(ids.get(k), ExpectedVersion.exactly(versions[k]), List.of(next));
      versions[k]++;
      if (remaining.get(k).isEmpty()) {
        open.remove(Integer.valueOf(k));
      }
    }
    return ids;
  }

  /** Every page of a query, and how many pages it took. */
  private record Pages(List<RecordedEvent> events, int count) {}

  /**
   * Reads a query page by page, checking on the way that a page with a cursor is full, the last one
   * has none, and no event comes twice.
   */
  private Pages allPages(EventQuery.Builder query, int limit) {
    List<RecordedEvent> all = new ArrayList<>();
    Set<Long> seen = new HashSet<>();
    int count = 0;
    query.limit(limit);
    while (true) {
      EventPage page = store.queryEvents(query.build());
      count++;
      assertThat(page.events())
          .as("page %d of %s", count, query.build())
          .hasSizeLessThanOrEqualTo(limit);
      for (RecordedEvent e : page.events()) {
        assertThat(seen.add(e.position())).as("%s returned twice", e).isTrue();
      }
      all.addAll(page.events());
      if (page.nextCursor().isEmpty()) {
        return new Pages(all, count);
      }
      assertThat(page.events()).as("a page with a cursor").hasSize(limit);
      assertThat(count).as("pages").isLessThanOrEqualTo(10_000);
      query.after(page.nextCursor().get());
    }
  }

  /** The events of a one-page time query. */
  private List<RecordedEvent> timeQuery(EventQuery.Builder query) {
    EventPage page = store.queryEvents(query.build());
    assertThat(page.nextCursor()).isEmpty();
    return page.events();
  }

  /** Events by recorded time, then position. */
  private static List<RecordedEvent> oldestFirst(List<RecordedEvent> events) {
    List<RecordedEvent> sorted = new ArrayList<>(events);
    sorted.sort(
        (a, b) ->
            a.recordedAt().equals(b.recordedAt())
                ? Long.compare(a.position(), b.position())
                : a.recordedAt().compareTo(b.recordedAt()));
    return sorted;
  }

  /** Events by recorded time, then position, both descending. */
  private static List<RecordedEvent> newestFirst(List<RecordedEvent> events) {
    return reversed(oldestFirst(events));
  }

  private static <T> List<T> reversed(List<T> list) {
    List<T> copy = new ArrayList<>(list);
    Collections.reverse(copy);
    return copy;
  }

  private static <T> T single(List<T> list) {
    assertThat(list).hasSize(1);
    return list.get(0);
  }

  private static <T> T last(List<T> list) {
    assertThat(list).isNotEmpty();
    return list.get(list.size() - 1);
  }

  private static List<WorkOrderId> ids(List<? extends WorkOrderView> views) {
    return views.stream().map(WorkOrderView::id).toList();
  }

  private static void assertStrictlyRising(List<RecordedEvent> events) {
    List<Long> positions = events.stream().map(RecordedEvent::position).toList();
    assertThat(positions).as("positions").isSorted().doesNotHaveDuplicates();
    assertThat(positions).as("positions").allSatisfy(p -> assertThat(p).isPositive());
  }

  private static List<RecordedEvent> castEvents(Object outcome) {
    assertThat(outcome).isInstanceOf(List.class);
    List<RecordedEvent> events = new ArrayList<>();
    for (Object o : (List<?>) outcome) {
      events.add((RecordedEvent) o);
    }
    return events;
  }

  /** Runs one task per thread, all at once, and returns their results in thread order. */
  private static <T> List<T> runConcurrently(int threads, IndexedTask<T> task) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (int n = 0; n < threads; n++) {
        int index = n;
        futures.add(pool.submit((Callable<T>) () -> task.run(index)));
      }
      List<T> results = new ArrayList<>();
      for (Future<T> f : futures) {
        results.add(f.get(WAIT_SECONDS, TimeUnit.SECONDS));
      }
      return results;
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
    }
  }

  @FunctionalInterface
  private interface IndexedTask<T> {
    T run(int index) throws Exception;
  }

  /**
   * A store with a work order in each interesting state and two idempotency keys, and an appendAll
   * batch around it: two new work orders (one with a key), a claim, a completion. A test puts one
   * bad request in the middle.
   */
  private World world() {
    WorkOrderId pending = submit(spec(QUEUE).idempotencyKey(World.PENDING_KEY).build());
    WorkOrderId preparing = inState(QUEUE, PREPARING);
    WorkOrderId running = inState(OTHER_QUEUE, RUNNING);
    WorkOrderId waiting = inState(QUEUE, WAITING_RETRY);
    WorkOrderId completed = newId();
    store.append(
        completed,
        ExpectedVersion.none(),
        List.of(
            submitted(spec(QUEUE).idempotencyKey(World.COMPLETED_KEY).build()),
            claimed(OWNER, at(30)),
            started(),
            completed()));
    submit(spec(QUEUE).notBefore(at(500)).build());
    clock.advance(Duration.ofSeconds(1));
    return new World(
        pending,
        preparing,
        running,
        waiting,
        completed,
        newId(),
        newId(),
        clock.instant().plus(LEASE));
  }

  private record World(
      WorkOrderId pending,
      WorkOrderId preparing,
      WorkOrderId running,
      WorkOrderId waiting,
      WorkOrderId finished,
      WorkOrderId new1,
      WorkOrderId new2,
      Instant leaseExpiresAt) {
    static final String PENDING_KEY = "key-pending";
    static final String COMPLETED_KEY = "key-completed";
    static final String NEW_KEY_1 = "key-new-1";
    static final String NEW_KEY_2 = "key-new-2";

    List<AppendRequest> around(AppendRequest bad) {
      return List.of(
          AppendRequest.of(
              new1,
              ExpectedVersion.none(),
              submitted(spec(QUEUE).idempotencyKey(NEW_KEY_1).build())),
          AppendRequest.of(pending, ExpectedVersion.exactly(1), claimed(OWNER, leaseExpiresAt)),
          AppendRequest.of(preparing, ExpectedVersion.exactly(2), started()),
          bad,
          AppendRequest.of(
              new2,
              ExpectedVersion.none(),
              submitted(spec(OTHER_QUEUE).idempotencyKey(NEW_KEY_2).build()),
              cancelled()),
          AppendRequest.of(running, ExpectedVersion.exactly(3), completed()));
    }

    List<WorkOrderId> ids() {
      return List.of(pending, preparing, running, waiting, finished, new1, new2);
    }

    List<String> keys() {
      return List.of(PENDING_KEY, COMPLETED_KEY, NEW_KEY_1, NEW_KEY_2);
    }
  }

  private <X extends Throwable> X assertAppendAllChangesNothing(
      World w, AppendRequest bad, Class<X> expected) {
    List<WorkOrderId> ids = new ArrayList<>(w.ids());
    ids.add(bad.workOrderId());
    StoreState before = snapshot(ids, w.keys());

    X thrown = catchThrowableOfType(expected, () -> store.appendAll(w.around(bad)));

    assertThat(thrown).as(expected.getSimpleName()).isNotNull();
    assertThat(snapshot(ids, w.keys())).isEqualTo(before);
    assertThat(store.find(w.new1)).isEmpty();
    assertThat(store.findByIdempotencyKey(World.NEW_KEY_1)).isEmpty();

    List<AppendRequest> withoutBad = new ArrayList<>(w.around(bad));
    withoutBad.remove(bad);
    assertThat(store.appendAll(withoutBad)).hasSize(6);
    assertThat(view(w.pending).state()).isEqualTo(PREPARING);
    assertThat(view(w.new2).state()).isEqualTo(CANCELLED);
    assertThat(store.findByIdempotencyKey(World.NEW_KEY_1)).contains(w.new1);
    assertStrictlyRising(wholeLog());
    return thrown;
  }

  /** What a test can observe of a store, to show that a failed call changed nothing. */
  private StoreState snapshot(Collection<WorkOrderId> ids, Collection<String> keys) {
    Map<WorkOrderId, List<RecordedEvent>> streams = new HashMap<>();
    Map<WorkOrderId, Optional<ViewSnapshot>> views = new HashMap<>();
    for (WorkOrderId id : ids) {
      streams.put(id, store.readStream(id));
      views.put(id, store.find(id).map(ViewSnapshot::of));
    }
    Map<String, Optional<WorkOrderId>> holders = new HashMap<>();
    for (String key : keys) {
      holders.put(key, store.findByIdempotencyKey(key));
    }
    QueueCounts counts = store.counts();
    Function<List<WorkOrderView>, List<ViewSnapshot>> states =
        list -> list.stream().map(ViewSnapshot::of).toList();
    Instant far = at(1_000_000);
    Set<String> queues = new HashSet<>(counts.queues());
    Map<String, Optional<Instant>> nextAvailable = new HashMap<>();
    for (String queue : queues) {
      nextAvailable.put(queue, store.nextAvailableAt(queue, clock.instant()));
    }
    return new StoreState(
        wholeLog(),
        streams,
        views,
        counts,
        holders,
        states.apply(readAllPages(WorkOrderQuery.builder(), 0, WorkOrderQuery.MAX_LIMIT)),
        states.apply(store.expiredLeases(far, 1000)),
        states.apply(store.dueRetries(far, 1000)),
        store.nextRetryAt(),
        nextAvailable);
  }

  // ---------------------------------------------------------------------------------------------
  // text limits: whatever a writer accepts, every reader reads back equal

  /** Longer than Jackson's default limit on names (50,000 chars). */
  private static final String KEY_PAST_READER_LIMIT = "k".repeat(50_001);

  /** Longer than Jackson's default limit on strings (20,000,000 chars). */
  private static final String TEXT_PAST_READER_LIMIT = "r".repeat(20_000_001);

  @Test
  void append_never_stores_a_label_key_that_a_reader_could_not_read_back() {
    WorkOrderId good = newId();
    store.append(good, ExpectedVersion.none(), List.of(submitted(QUEUE)));

    Throwable refused =
        catchThrowable(
            () ->
                store.append(
                    newId(),
                    ExpectedVersion.none(),
                    List.of(submitted(spec(QUEUE).label(KEY_PAST_READER_LIMIT, "v").build()))));

    assertThat(refused)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("label key must be at most 200 characters, got 50001");
    assertEveryReaderReadsTheLog();
    assertThat(claimOne(QUEUE).id()).isEqualTo(good);
  }

  @Test
  void append_never_stores_a_label_value_that_a_reader_could_not_read_back() {
    Throwable refused =
        catchThrowable(
            () ->
                store.append(
                    newId(),
                    ExpectedVersion.none(),
                    List.of(submitted(spec(QUEUE).label("k", TEXT_PAST_READER_LIMIT).build()))));

    assertThat(refused)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("label 'k' value must be at most 1000 characters, got 20000001");
    assertThat(wholeLog()).isEmpty();
    assertEveryReaderReadsTheLog();
  }

  @Test
  void cancel_refuses_a_reason_past_its_limit_and_changes_nothing() {
    WorkOrderId id = newId();
    store.append(id, ExpectedVersion.none(), List.of(submitted(QUEUE)));
    StoreState before = snapshot(List.of(id), List.of());

    Throwable refused =
        catchThrowable(() -> Cancellations.request(store, id, TEXT_PAST_READER_LIMIT));

    assertThat(refused)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cancellation reason must be at most 2000 characters, got 20000001");
    assertThat(snapshot(List.of(id), List.of())).isEqualTo(before);
    assertEveryReaderReadsTheLog();
    assertThat(Cancellations.request(store, id, "r".repeat(2000)).result())
        .isEqualTo(Cancellations.Result.CANCELLED);
    assertThat(store.readStream(id).get(1).event())
        .isEqualTo(new WorkOrderEvent.Cancelled("r".repeat(2000)));
    assertEveryReaderReadsTheLog();
  }

  @Test
  void append_of_a_huge_failure_message_keeps_its_start_and_the_log_stays_readable() {
    WorkOrderId id = newId();
    ErrorInfo huge = ErrorInfo.retryable(ErrorCodes.UNKNOWN_ERROR, TEXT_PAST_READER_LIMIT);

    store.append(
        id,
        ExpectedVersion.none(),
        List.of(
            submitted(QUEUE),
            claimed(OWNER, at(30)),
            started(),
            WorkOrderEvent.AttemptFailed.finalFailure(huge, "not retried")));

    String kept = view(id).lastError().orElseThrow().message();
    assertThat(kept)
        .hasSize(8192)
        .startsWith("rrrr")
        .endsWith("… [truncated, 20000001 characters in all]");
    assertThat(store.readStream(id).get(3).event())
        .isEqualTo(WorkOrderEvent.AttemptFailed.finalFailure(huge, "not retried"));
    assertEveryReaderReadsTheLog();
  }

  @Test
  void idempotency_keys_that_differ_only_in_unpaired_surrogates_are_refused_not_merged() {
    for (String key : List.of("key-\uD800", "key-\uD801", "\uDC00key", "k\uD83D")) {
      assertThatThrownBy(() -> spec(QUEUE).idempotencyKey(key).build())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("idempotencyKey")
          .hasMessageContaining("unpaired surrogate");
    }
    WorkOrderId a = newId();
    WorkOrderId b = newId();
    store.append(
        a,
        ExpectedVersion.none(),
        List.of(submitted(spec(QUEUE).idempotencyKey("key-🚀").build())));
    store.append(
        b,
        ExpectedVersion.none(),
        List.of(submitted(spec(QUEUE).idempotencyKey("key-🚁").build())));

    assertThat(store.findByIdempotencyKey("key-🚀")).contains(a);
    assertThat(store.findByIdempotencyKey("key-🚁")).contains(b);
    assertThat(view(a).spec().idempotencyKey()).contains("key-🚀");
    assertEveryReaderReadsTheLog();
  }

  @Test
  void unpaired_surrogates_in_free_text_are_kept_as_u_fffd_by_every_store() {
    WorkOrderId id = newId();
    WorkOrderSpec spec = spec(QUEUE).label("note", "a\uD800b🚀").build();
    assertThat(spec.labels()).containsEntry("note", "a\uFFFDb🚀");
    assertThatThrownBy(() -> spec(QUEUE).payload(Map.of("text", "x\uDC00")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("payload")
        .hasMessageContaining("unpaired surrogate U+DC00");

    store.append(
        id,
        ExpectedVersion.none(),
        List.of(
            submitted(spec),
            claimed(OWNER, at(30)),
            started(),
            new WorkOrderEvent.CancellationRequested("stop\uD800 now"),
            new WorkOrderEvent.Completed(
                com.fasterxml.jackson.databind.node.JsonNodeFactory.instance
                    .objectNode()
                    .put("out\uDBFF", "\uDC00🚀"))));

    WorkOrderView v = view(id);
    assertThat(v.spec().labels()).containsEntry("note", "a\uFFFDb🚀");
    assertThat(v.cancellationRequested()).contains("stop\uFFFD now");
    assertThat(v.result().orElseThrow().get("out\uFFFD").textValue()).isEqualTo("\uFFFD🚀");
    assertEveryReaderReadsTheLog();
  }

  /**
   * Every reader reads every stored event back equal to what {@code append} returned: readLog,
   * readStream, the audit query and find, and rebuildProjection(VERIFY) finds nothing to repair.
   */
  private void assertEveryReaderReadsTheLog() {
    List<RecordedEvent> log = wholeLog();
    Map<WorkOrderId, List<RecordedEvent>> byStream = new LinkedHashMap<>();
    log.forEach(r -> byStream.computeIfAbsent(r.workOrderId(), k -> new ArrayList<>()).add(r));
    byStream.forEach(
        (id, events) -> {
          assertThat(store.readStream(id)).containsExactlyElementsOf(events);
          assertThat(
                  store
                      .queryEvents(EventQuery.builder().workOrder(id).oldestFirst().build())
                      .events())
              .containsExactlyElementsOf(events);
          assertThat(view(id).version()).isEqualTo(events.size());
        });
    List<RecordedEvent> audited = new ArrayList<>();
    EventQuery.Builder q = EventQuery.builder().oldestFirst().limit(EventQuery.MAX_LIMIT);
    EventPage page = store.queryEvents(q.build());
    audited.addAll(page.events());
    while (page.hasNext()) {
      page = store.queryEvents(q.after(page.nextCursor().orElseThrow()).build());
      audited.addAll(page.events());
    }
    assertThat(audited).containsExactlyInAnyOrderElementsOf(log);
    assertThat(store.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
  }

  private record StoreState(
      List<RecordedEvent> log,
      Map<WorkOrderId, List<RecordedEvent>> streams,
      Map<WorkOrderId, Optional<ViewSnapshot>> views,
      QueueCounts counts,
      Map<String, Optional<WorkOrderId>> idempotencyKeys,
      List<ViewSnapshot> queried,
      List<ViewSnapshot> expiredLeases,
      List<ViewSnapshot> dueRetries,
      Optional<Instant> nextRetryAt,
      Map<String, Optional<Instant>> nextAvailableAt) {}
}
