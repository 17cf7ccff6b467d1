package dev.workgate.test;

import static dev.workgate.core.WorkOrderState.BLOCKED;
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
import static dev.workgate.test.WorkOrderFixtures.failedForGood;
import static dev.workgate.test.WorkOrderFixtures.failedWithRetry;
import static dev.workgate.test.WorkOrderFixtures.newId;
import static dev.workgate.test.WorkOrderFixtures.retryReleased;
import static dev.workgate.test.WorkOrderFixtures.spec;
import static dev.workgate.test.WorkOrderFixtures.started;
import static dev.workgate.test.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.core.BatchId;
import dev.workgate.core.DependencyFailure;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.Progress;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.RebuildReport;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.StoreView.LogPage;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderQuery.Page;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The part of the store contract about work that builds on other work: {@link
 * WorkOrderState#BLOCKED} work orders and their dependencies ({@link
 * WorkOrderStore#resolvableBlocked}, {@link WorkOrderStore#dependents}), checkpoints and progress,
 * batches ({@link WorkOrderQuery.Builder#batch}, {@link WorkOrderStore#markBatchEnded}) and queue
 * pauses ({@link WorkOrderStore#recordQueueAction}, {@link WorkOrderStore#pausedQueues}, {@link
 * WorkOrderStore#queueActions}).
 *
 * <p>{@link WorkOrderStoreConformance} runs it as a nested class against the store of each of its
 * tests, so a store of your own gets it by extending that class; nothing to do here. A subclass
 * gives the store and its clock; the store is new and empty for each test, closed after it, and
 * stamps events with the clock, as {@link WorkOrderStoreConformance} describes.
 *
 * <p>Not thread-safe itself: JUnit runs one test of a class at a time unless told otherwise.
 */
public abstract class FlowConformance {

  /** The queue most tests use. */
  protected static final String QUEUE = "jobs";

  /** A second queue, to check that queues are kept apart. */
  protected static final String OTHER_QUEUE = "other";

  /** The node that claims unless a test names another. */
  protected static final String OWNER = "node-a";

  /** The lease duration of claims. */
  protected static final Duration LEASE = Duration.ofSeconds(30);

  private static final long WAIT_SECONDS = 60;

  private Instant t0;

  /**
   * The store under test: new and empty for each test.
   *
   * @return the store
   */
  protected abstract WorkOrderStore store();

  /**
   * The clock that stamps the store's events.
   *
   * @return the clock
   */
  protected abstract MutableClock clock();

  @BeforeEach
  void startClock() {
    t0 = clock().instant();
  }

  // ---------------------------------------------------------------------------------------------
  // BLOCKED

  @Test
  void append_of_a_submitted_with_dependencies_creates_a_blocked_work_order_no_claim_takes() {
    WorkOrderId pending = submit(QUEUE);
    WorkOrderId done = inState(QUEUE, COMPLETED);
    WorkOrderEvent.Submitted event =
        new WorkOrderEvent.Submitted(
            spec(QUEUE).after(done, pending).notBefore(at(100)).build(),
            null,
            null,
            List.of(done, pending));
    WorkOrderId waiting = newId();

    List<RecordedEvent> recorded = store().append(waiting, ExpectedVersion.none(), List.of(event));

    WorkOrderView v = view(waiting);
    assertThat(v.state()).isEqualTo(BLOCKED);
    assertThat(v.version()).isEqualTo(1);
    assertThat(v.attempt()).isZero();
    assertThat(v.dependencies()).containsExactly(done, pending);
    assertThat(v.spec().after()).containsExactly(done, pending);
    assertThat(v.batch()).isEmpty();
    assertThat(v.leaseOwner()).isEmpty();
    assertThat(v.checkpoint()).isEmpty();
    assertThat(v.progress()).isEmpty();
    assertThat(store().readStream(waiting)).containsExactlyElementsOf(recorded);
    assertThat(recorded.get(0).event()).isEqualTo(event);
    assertThat(store().counts().count(QUEUE, BLOCKED)).isEqualTo(1);
    assertThat(ids(store().query(WorkOrderQuery.builder().states(BLOCKED).build()).items()))
        .containsExactly(waiting);
    assertThat(
            store()
                .count(WorkOrderQuery.builder().build(), WorkOrderQuery.CountBy.STATE)
                .get(BLOCKED.name()))
        .isEqualTo(1);

    assertThat(ids(claim(QUEUE, 10, at(1000)))).containsExactly(pending);
    assertThat(claim(QUEUE, 10, at(1000))).isEmpty();
    assertThat(view(waiting).state()).isEqualTo(BLOCKED);
    assertThat(view(waiting).version()).isEqualTo(1);
    assertThat(store().nextAvailableAt(QUEUE, clock().instant())).isEmpty();
    assertThat(store().expiredLeases(at(1_000_000), 100))
        .extracting(WorkOrderView::id)
        .doesNotContain(waiting);
    assertThat(store().dueRetries(at(1_000_000), 100)).isEmpty();
  }

  @Test
  void
      appendAll_records_dependencies_of_the_work_orders_it_writes_and_none_of_a_batch_it_refuses() {
    WorkOrderId first = newId();
    WorkOrderId waiting = newId();
    store()
        .appendAll(
            List.of(
                AppendRequest.of(first, ExpectedVersion.none(), submitted(QUEUE)),
                AppendRequest.of(waiting, ExpectedVersion.none(), waitingFor(List.of(first)))));
    assertThat(view(waiting).state()).isEqualTo(BLOCKED);
    assertThat(store().dependents(first)).containsExactly(waiting);

    WorkOrderId refused = newId();
    assertThatThrownBy(
            () ->
                store()
                    .appendAll(
                        List.of(
                            AppendRequest.of(
                                refused, ExpectedVersion.none(), waitingFor(List.of(first))),
                            // A second Submitted for a work order that exists: refused.
                            AppendRequest.of(first, ExpectedVersion.exactly(1), submitted(QUEUE)))))
        .isInstanceOf(InvalidTransitionException.class);

    assertThat(store().find(refused)).isEmpty();
    assertThat(store().dependents(first)).containsExactly(waiting);
  }

  @Test
  void append_to_a_blocked_work_order_takes_only_dependenciesMet_dependencyFailed_or_cancelled() {
    WorkOrderId dep = submit(QUEUE);
    WorkOrderId waiting = submitWaiting(List.of(dep), DependencyFailure.CANCEL);
    List<WorkOrderEvent> refused =
        List.of(
            claimed(OWNER, at(30)),
            started(),
            completed(),
            failedWithRetry(at(60)),
            failedForGood(),
            retryReleased(),
            cancellationRequested("stop"),
            released(),
            checkpoint(1, "offset", 1));
    for (WorkOrderEvent event : refused) {
      InvalidTransitionException e =
          catchThrowableOfType(
              InvalidTransitionException.class,
              () -> store().append(waiting, ExpectedVersion.exactly(1), List.of(event)));
      assertThat(e).as("%s in BLOCKED", event.type()).isNotNull();
      assertThat(e.state()).isEqualTo(BLOCKED);
      assertThat(e.validEvents())
          .containsExactlyInAnyOrder("DependenciesMet", "DependencyFailed", "Cancelled");
    }
    assertThat(store().readStream(waiting)).hasSize(1);
    assertThat(view(waiting).version()).isEqualTo(1);

    // Cancelled by hand, as a PENDING work order is.
    store().append(waiting, ExpectedVersion.exactly(1), List.of(cancelled()));

    WorkOrderView v = view(waiting);
    assertThat(v.state()).isEqualTo(CANCELLED);
    assertThat(v.lastError().map(ErrorInfo::code)).contains(ErrorCodes.CANCELLED);
    assertThat(store().resolvableBlocked(10)).isEmpty();
  }

  @Test
  void
      append_of_dependenciesMet_or_dependencyFailed_to_a_work_order_that_is_not_blocked_is_refused() {
    WorkOrderId pending = submit(QUEUE);
    WorkOrderId running = inState(QUEUE, RUNNING);

    for (WorkOrderId id : List.of(pending, running)) {
      long version = view(id).version();
      for (WorkOrderEvent event :
          List.of(
              new WorkOrderEvent.DependenciesMet(),
              new WorkOrderEvent.DependencyFailed(newId(), FAILED))) {
        assertThatThrownBy(
                () -> store().append(id, ExpectedVersion.exactly(version), List.of(event)))
            .as("%s in %s", event.type(), view(id).state())
            .isInstanceOf(InvalidTransitionException.class);
      }
      assertThat(view(id).version()).isEqualTo(version);
    }
  }

  @Test
  void append_of_dependenciesMet_makes_a_blocked_work_order_pending_and_claimable_at_once() {
    WorkOrderId done = inState(QUEUE, COMPLETED);
    WorkOrderId waiting = submitWaiting(List.of(done), DependencyFailure.CANCEL);
    clock().advance(Duration.ofSeconds(5));

    store()
        .append(waiting, ExpectedVersion.exactly(1), List.of(new WorkOrderEvent.DependenciesMet()));

    WorkOrderView v = view(waiting);
    assertThat(v.state()).isEqualTo(PENDING);
    assertThat(v.version()).isEqualTo(2);
    assertThat(v.availableAt()).isEqualTo(at(5));
    assertThat(v.updatedAt()).isEqualTo(at(5));
    assertThat(v.dependencies()).containsExactly(done);
    assertThat(store().counts().count(QUEUE, BLOCKED)).isZero();
    assertThat(store().counts().count(QUEUE, PENDING)).isEqualTo(1);
    assertThat(store().resolvableBlocked(10)).isEmpty();
    WorkOrderView claimed = single(claim(QUEUE, 10, clock().instant()));
    assertThat(claimed.id()).isEqualTo(waiting);
    assertThat(claimed.attempt()).isEqualTo(1);
    assertThat(claimed.dependencies()).containsExactly(done);
  }

  @Test
  void append_of_dependenciesMet_before_a_later_notBefore_makes_it_claimable_only_at_notBefore() {
    WorkOrderId done = inState(QUEUE, COMPLETED);
    WorkOrderId late = submitWaiting(spec(QUEUE).notBefore(at(100)), List.of(done));
    WorkOrderId early = submitWaiting(spec(QUEUE).notBefore(at(5)), List.of(done));
    clock().set(at(10));

    for (WorkOrderId id : List.of(late, early)) {
      store().append(id, ExpectedVersion.exactly(1), List.of(new WorkOrderEvent.DependenciesMet()));
    }

    assertThat(view(late).availableAt()).isEqualTo(at(100));
    assertThat(view(early).availableAt()).isEqualTo(at(10));
    assertThat(ids(claim(QUEUE, 10, at(10)))).containsExactly(early);
    assertThat(store().nextAvailableAt(QUEUE, at(10))).contains(at(100));
    assertThat(claim(QUEUE, 10, at(99))).isEmpty();
    assertThat(ids(claim(QUEUE, 10, at(100)))).containsExactly(late);
  }

  @Test
  void append_of_dependencyFailed_cancels_a_blocked_work_order_with_DEPENDENCY_FAILED() {
    WorkOrderId failed = inState(QUEUE, FAILED);
    WorkOrderId waiting = submitWaiting(List.of(failed), DependencyFailure.CANCEL);
    WorkOrderId gone = newId();
    WorkOrderId orphan = submitWaiting(List.of(gone), DependencyFailure.CANCEL);
    clock().advance(Duration.ofSeconds(2));

    store()
        .append(
            waiting,
            ExpectedVersion.exactly(1),
            List.of(new WorkOrderEvent.DependencyFailed(failed, FAILED)));
    store()
        .append(
            orphan,
            ExpectedVersion.exactly(1),
            List.of(new WorkOrderEvent.DependencyFailed(gone, null)));

    WorkOrderView v = view(waiting);
    assertThat(v.state()).isEqualTo(CANCELLED);
    assertThat(v.updatedAt()).isEqualTo(at(2));
    ErrorInfo error = v.lastError().orElseThrow();
    assertThat(error.code()).isEqualTo(ErrorCodes.DEPENDENCY_FAILED);
    assertThat(error.retryable()).isFalse();
    assertThat(error.message()).contains(failed.value()).contains("FAILED");
    assertThat(view(orphan).lastError().orElseThrow().message())
        .contains(gone.value())
        .contains("no longer exists");
    assertThat(store().counts().count(QUEUE, CANCELLED)).isEqualTo(2);
    assertThat(
            ids(
                store()
                    .query(WorkOrderQuery.builder().errorCode(ErrorCodes.DEPENDENCY_FAILED).build())
                    .items()))
        .containsExactly(waiting, orphan);
    assertThat(claim(QUEUE, 10, at(1000))).isEmpty();
    assertThat(store().resolvableBlocked(10)).isEmpty();
  }

  // ---------------------------------------------------------------------------------------------
  // resolvableBlocked

  @Test
  void resolvableBlocked_lists_a_blocked_work_order_only_once_every_dependency_has_completed() {
    WorkOrderId a = submit(QUEUE);
    WorkOrderId b = submit(QUEUE);
    WorkOrderId waiting = submitWaiting(List.of(a, b), DependencyFailure.CANCEL);
    assertThat(store().resolvableBlocked(10)).isEmpty();

    end(a, completed());
    assertThat(store().resolvableBlocked(10)).isEmpty();

    // A dependency waiting for a retry has not ended.
    store()
        .append(
            b,
            ExpectedVersion.exactly(1),
            List.of(claimed(OWNER, at(30)), started(), failedWithRetry(at(60))));
    assertThat(view(b).state()).isEqualTo(WAITING_RETRY);
    assertThat(store().resolvableBlocked(10)).isEmpty();
    store().append(b, ExpectedVersion.exactly(4), List.of(retryReleased()));
    assertThat(store().resolvableBlocked(10)).isEmpty();

    end(b, completed());

    List<WorkOrderView> resolvable = store().resolvableBlocked(10);
    assertThat(ids(resolvable)).containsExactly(waiting);
    assertThat(resolvable.get(0).state()).isEqualTo(BLOCKED);
    assertThat(resolvable.get(0).version()).isEqualTo(1);
    assertThat(resolvable.get(0).dependencies()).containsExactly(a, b);
  }

  @Test
  void resolvableBlocked_under_CANCEL_lists_it_as_soon_as_one_dependency_failed_or_was_cancelled() {
    WorkOrderId live = submit(QUEUE);
    WorkOrderId failing = submit(QUEUE);
    WorkOrderId cancelling = submit(OTHER_QUEUE);
    WorkOrderId first = submitWaiting(List.of(live, failing), DependencyFailure.CANCEL);
    WorkOrderId second = submitWaiting(List.of(cancelling, live), DependencyFailure.CANCEL);

    end(failing, failedForGood());
    assertThat(ids(store().resolvableBlocked(10))).containsExactly(first);

    store().append(cancelling, ExpectedVersion.exactly(1), List.of(cancelled()));
    assertThat(ids(store().resolvableBlocked(10))).containsExactly(first, second);
    assertThat(view(live).state()).isEqualTo(PENDING);
  }

  @Test
  void resolvableBlocked_counts_a_blocked_dependency_as_live_until_it_is_decided() {
    WorkOrderId failing = submit(QUEUE);
    WorkOrderId middle = submitWaiting(List.of(failing), DependencyFailure.CANCEL);
    WorkOrderId last = submitWaiting(List.of(middle), DependencyFailure.CANCEL);

    end(failing, failedForGood());
    assertThat(ids(store().resolvableBlocked(10))).containsExactly(middle);

    store()
        .append(
            middle,
            ExpectedVersion.exactly(1),
            List.of(new WorkOrderEvent.DependencyFailed(failing, FAILED)));
    assertThat(ids(store().resolvableBlocked(10))).containsExactly(last);
  }

  @Test
  void resolvableBlocked_under_RUN_waits_until_every_dependency_ended_however_it_ended() {
    WorkOrderId failing = submit(QUEUE);
    WorkOrderId cancelling = submit(QUEUE);
    WorkOrderId completing = submit(QUEUE);
    WorkOrderId report =
        submitWaiting(List.of(failing, cancelling, completing), DependencyFailure.RUN);

    end(failing, failedForGood());
    assertThat(store().resolvableBlocked(10)).isEmpty();
    store().append(cancelling, ExpectedVersion.exactly(1), List.of(cancelled()));
    assertThat(store().resolvableBlocked(10)).isEmpty();
    end(completing, completed());

    assertThat(ids(store().resolvableBlocked(10))).containsExactly(report);
    store()
        .append(report, ExpectedVersion.exactly(1), List.of(new WorkOrderEvent.DependenciesMet()));
    assertThat(view(report).state()).isEqualTo(PENDING);
  }

  @Test
  void resolvableBlocked_counts_a_dependency_deleted_by_retention_as_ended_and_failed() {
    WorkOrderId done = inState(QUEUE, COMPLETED);
    WorkOrderId live = submit(QUEUE);
    WorkOrderId cancelling = submitWaiting(List.of(done, live), DependencyFailure.CANCEL);
    WorkOrderId running = submitWaiting(List.of(done, live), DependencyFailure.RUN);
    assertThat(store().resolvableBlocked(10)).isEmpty();
    clock().advance(Duration.ofHours(1));

    assertThat(store().deleteTerminalBefore(clock().instant(), 10)).isEqualTo(1);
    assertThat(store().find(done)).isEmpty();

    assertThat(ids(store().resolvableBlocked(10))).containsExactly(cancelling);
    end(live, completed());
    assertThat(ids(store().resolvableBlocked(10))).containsExactly(cancelling, running);
    // They waited for it, and the store still says so.
    assertThat(store().dependents(done)).containsExactly(cancelling, running);
  }

  @Test
  void resolvableBlocked_is_oldest_first_respects_its_limit_and_leaves_out_decided_ones() {
    WorkOrderId dep = submit(QUEUE);
    List<WorkOrderId> waiting = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      clock().advance(Duration.ofSeconds(1));
      waiting.add(
          submitWaiting(
              List.of(dep), i % 2 == 0 ? DependencyFailure.CANCEL : DependencyFailure.RUN));
    }
    end(dep, completed());

    assertThat(ids(store().resolvableBlocked(10))).containsExactlyElementsOf(waiting);
    assertThat(ids(store().resolvableBlocked(2))).containsExactlyElementsOf(waiting.subList(0, 2));
    assertThat(ids(store().resolvableBlocked(1))).containsExactly(waiting.get(0));

    store()
        .append(
            waiting.get(0),
            ExpectedVersion.exactly(1),
            List.of(new WorkOrderEvent.DependenciesMet()));
    store().append(waiting.get(2), ExpectedVersion.exactly(1), List.of(cancelled()));

    assertThat(ids(store().resolvableBlocked(10))).containsExactly(waiting.get(1), waiting.get(3));
  }

  @Test
  void resolvableBlocked_and_queueActions_reject_a_limit_below_1() {
    for (int limit : new int[] {0, -1, Integer.MIN_VALUE}) {
      assertThatThrownBy(() -> store().resolvableBlocked(limit))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store().queueActions(QUEUE, limit))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store().queueActions(null, limit))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // dependents

  @Test
  void dependents_lists_the_work_orders_that_named_one_in_submission_order_whatever_their_state() {
    WorkOrderId a = submit(QUEUE);
    WorkOrderId b = submit(QUEUE);
    WorkOrderId first = submitWaiting(List.of(a), DependencyFailure.CANCEL);
    WorkOrderId second = submitWaiting(List.of(b, a), DependencyFailure.RUN);
    WorkOrderId third = submitWaiting(List.of(b), DependencyFailure.CANCEL);
    WorkOrderId fourth = submitWaiting(List.of(a), DependencyFailure.CANCEL);
    store().append(first, ExpectedVersion.exactly(1), List.of(cancelled()));
    end(b, completed());
    store()
        .append(third, ExpectedVersion.exactly(1), List.of(new WorkOrderEvent.DependenciesMet()));

    assertThat(store().dependents(a)).containsExactly(first, second, fourth);
    assertThat(store().dependents(b)).containsExactly(second, third);
    assertThat(store().dependents(first)).isEmpty();
    assertThat(store().dependents(newId())).isEmpty();
  }

  @Test
  void deleteTerminalBefore_removes_a_deleted_dependent_from_dependents() {
    WorkOrderId dep = submit(QUEUE);
    WorkOrderId gone = submitWaiting(List.of(dep), DependencyFailure.CANCEL);
    WorkOrderId kept = submitWaiting(List.of(dep), DependencyFailure.CANCEL);
    store().append(gone, ExpectedVersion.exactly(1), List.of(cancelled()));
    clock().advance(Duration.ofHours(1));

    assertThat(store().deleteTerminalBefore(clock().instant(), 10)).isEqualTo(1);

    assertThat(store().find(gone)).isEmpty();
    assertThat(store().dependents(dep)).containsExactly(kept);
    end(dep, completed());
    assertThat(ids(store().resolvableBlocked(10))).containsExactly(kept);
  }

  // ---------------------------------------------------------------------------------------------
  // checkpoints

  @Test
  void append_of_checkpointed_is_taken_only_while_running_and_the_view_keeps_the_latest() {
    WorkOrderId running = inState(QUEUE, RUNNING);
    WorkOrderEvent.Checkpointed first = checkpoint(1, "offset", 100);
    WorkOrderEvent.Checkpointed second = checkpoint(1, "offset", 200);

    store().append(running, ExpectedVersion.exactly(3), List.of(first));
    WorkOrderView v = view(running);
    assertThat(v.state()).isEqualTo(RUNNING);
    assertThat(v.version()).isEqualTo(4);
    assertThat(v.leaseOwner()).contains(OWNER);
    assertThat(v.checkpoint()).contains(first.state());
    store().append(running, ExpectedVersion.exactly(4), List.of(second));
    assertThat(view(running).checkpoint()).contains(second.state());
    assertThat(store().readStream(running))
        .extracting(RecordedEvent::event)
        .endsWith(first, second);

    for (WorkOrderState state : List.of(PENDING, PREPARING, WAITING_RETRY, COMPLETED)) {
      WorkOrderId other = inState(QUEUE, state);
      long version = view(other).version();
      assertThatThrownBy(
              () -> store().append(other, ExpectedVersion.exactly(version), List.of(first)))
          .as("Checkpointed in %s", state)
          .isInstanceOf(InvalidTransitionException.class);
      assertThat(view(other).version()).isEqualTo(version);
      assertThat(view(other).checkpoint()).isEmpty();
    }
  }

  @Test
  void checkpoint_of_a_view_is_a_copy() {
    WorkOrderId running = inState(QUEUE, RUNNING);
    store().append(running, ExpectedVersion.exactly(3), List.of(checkpoint(1, "offset", 1)));

    ((ObjectNode) view(running).checkpoint().orElseThrow()).put("offset", 99);

    assertThat(view(running).checkpoint().orElseThrow().get("offset").asInt()).isEqualTo(1);
  }

  @Test
  void a_checkpoint_is_kept_through_a_release_a_retry_and_later_claims() {
    WorkOrderId id = submit(QUEUE);
    claimOne(QUEUE);
    store().append(id, ExpectedVersion.exactly(2), List.of(started()));
    WorkOrderEvent.Checkpointed first = checkpoint(1, "step", 1);
    store().append(id, ExpectedVersion.exactly(3), List.of(first, released()));
    assertThat(view(id).state()).isEqualTo(PENDING);
    assertThat(view(id).checkpoint()).contains(first.state());

    WorkOrderView again = claimOne(QUEUE);

    assertThat(again.id()).isEqualTo(id);
    assertThat(again.attempt()).isEqualTo(2);
    assertThat(again.checkpoint()).contains(first.state());
    assertThat(view(id).checkpoint()).contains(first.state());
    WorkOrderEvent.Checkpointed second = checkpoint(2, "step", 2);
    store()
        .append(
            id,
            ExpectedVersion.exactly(6),
            List.of(started(), second, failedWithRetry(clock().instant())));
    assertThat(view(id).checkpoint()).contains(second.state());
    store().append(id, ExpectedVersion.exactly(9), List.of(retryReleased()));

    WorkOrderView third = claimOne(QUEUE);

    assertThat(third.attempt()).isEqualTo(3);
    assertThat(third.checkpoint()).contains(second.state());
    store().append(id, ExpectedVersion.exactly(11), List.of(started(), completed()));
    assertThat(view(id).checkpoint()).contains(second.state());
  }

  // ---------------------------------------------------------------------------------------------
  // progress

  @Test
  void renewLease_with_progress_sets_it_a_renewal_without_keeps_it_and_the_next_claim_clears_it() {
    WorkOrderId id = submit(QUEUE);
    claimOne(QUEUE);
    Progress quarter = new Progress(0.25, "a quarter", at(1));
    Progress half = new Progress(0.5, "half way: ünïcødé", at(2));

    assertThat(store().renewLease(id, OWNER, 1, at(60), quarter)).isTrue();
    assertThat(view(id).progress()).contains(quarter);
    assertThat(view(id).leaseExpiresAt()).contains(at(60));

    assertThat(store().renewLease(id, OWNER, 1, at(70), null)).isTrue();
    assertThat(view(id).progress()).contains(quarter);
    assertThat(view(id).leaseExpiresAt()).contains(at(70));
    assertThat(store().renewLease(id, OWNER, 1, at(80))).isTrue();
    assertThat(view(id).progress()).contains(quarter);

    assertThat(store().renewLease(id, "node-b", 1, at(90), half)).isFalse();
    assertThat(store().renewLease(id, OWNER, 2, at(90), half)).isFalse();
    assertThat(view(id).progress()).contains(quarter);
    assertThat(store().renewLease(id, OWNER, 1, at(90), half)).isTrue();
    assertThat(view(id).progress()).contains(half);
    assertThat(view(id).version()).isEqualTo(2);

    // Events of the attempt keep it: the view shows how far the last attempt got.
    store().append(id, ExpectedVersion.exactly(2), List.of(started(), released()));
    assertThat(view(id).state()).isEqualTo(PENDING);
    assertThat(view(id).progress()).contains(half);

    WorkOrderView claimed = claimOne(QUEUE);

    assertThat(claimed.progress()).isEmpty();
    assertThat(view(id).progress()).isEmpty();
    assertThat(view(id).attempt()).isEqualTo(2);
  }

  @Test
  void renewLease_with_progress_writes_no_event_and_rebuildProjection_finds_nothing_to_repair() {
    WorkOrderId id = submit(QUEUE);
    WorkOrderView claimed = claimOne(QUEUE);
    store().append(id, ExpectedVersion.exactly(2), List.of(started()));
    List<RecordedEvent> log = wholeLog();
    Progress progress = new Progress(0.75, "three quarters", at(3));

    // Once with the expiry the claim gave, once with a later one.
    assertThat(store().renewLease(id, OWNER, 1, claimed.leaseExpiresAt().orElseThrow(), progress))
        .isTrue();
    assertThat(store().rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
    assertThat(store().renewLease(id, OWNER, 1, at(120), progress)).isTrue();

    assertThat(wholeLog()).isEqualTo(log);
    assertThat(view(id).version()).isEqualTo(3);
    RebuildReport verify = store().rebuildProjection(RebuildMode.VERIFY);
    assertThat(verify.mismatches()).isEmpty();
    RebuildReport repair = store().rebuildProjection(RebuildMode.REPAIR);
    assertThat(repair.mismatches()).isEmpty();
    assertThat(view(id).progress()).contains(progress);
    assertThat(view(id).leaseExpiresAt()).contains(at(120));
  }

  // ---------------------------------------------------------------------------------------------
  // rebuildProjection

  @Test
  void rebuildProjection_finds_the_new_fields_as_the_log_has_them_and_a_repair_keeps_them() {
    BatchId batch = BatchId.of("batch-rebuild");
    WorkOrderId dep = newId();
    store()
        .append(
            dep,
            ExpectedVersion.none(),
            List.of(new WorkOrderEvent.Submitted(spec(QUEUE).build(), null, batch, List.of())));
    WorkOrderId blocked =
        append(
            new WorkOrderEvent.Submitted(
                spec(QUEUE).after(dep).build(), null, batch, List.of(dep)));
    WorkOrderId met = submitWaiting(List.of(dep), DependencyFailure.RUN);
    store().append(met, ExpectedVersion.exactly(1), List.of(new WorkOrderEvent.DependenciesMet()));
    WorkOrderId failed = submitWaiting(List.of(dep), DependencyFailure.CANCEL);
    store()
        .append(
            failed,
            ExpectedVersion.exactly(1),
            List.of(new WorkOrderEvent.DependencyFailed(dep, CANCELLED)));
    WorkOrderId running = inState(OTHER_QUEUE, RUNNING);
    WorkOrderEvent.Checkpointed checkpoint = checkpoint(1, "rows", 12_345);
    store().append(running, ExpectedVersion.exactly(3), List.of(checkpoint));
    Progress progress = new Progress(1.0, "", at(4));
    assertThat(store().renewLease(running, OWNER, 1, at(300), progress)).isTrue();
    List<WorkOrderId> ids = List.of(dep, blocked, met, failed, running);
    Map<WorkOrderId, ViewSnapshot> before = snapshots(ids);

    RebuildReport verify = store().rebuildProjection(RebuildMode.VERIFY);
    RebuildReport repair = store().rebuildProjection(RebuildMode.REPAIR);

    assertThat(verify.mismatches()).isEmpty();
    assertThat(verify.workOrders()).isEqualTo((long) ids.size());
    assertThat(repair.mismatches()).isEmpty();
    assertThat(snapshots(ids)).isEqualTo(before);
    assertThat(view(blocked).batch()).contains(batch);
    assertThat(view(blocked).dependencies()).containsExactly(dep);
    assertThat(view(running).checkpoint()).contains(checkpoint.state());
    assertThat(view(running).progress()).contains(progress);
    assertThat(store().dependents(dep)).containsExactly(blocked, met, failed);
  }

  // ---------------------------------------------------------------------------------------------
  // batches

  @Test
  void query_by_batch_returns_only_that_batchs_work_orders_and_count_agrees() {
    BatchId batch = BatchId.of("batch-x");
    BatchId other = BatchId.of("batch-y");
    WorkOrderId first =
        append(
            new WorkOrderEvent.Submitted(
                spec(QUEUE).label("team", "a").build(), null, batch, List.of()));
    WorkOrderId elsewhere =
        append(new WorkOrderEvent.Submitted(spec(QUEUE).build(), null, other, List.of()));
    WorkOrderId plain = submit(QUEUE);
    WorkOrderId blocked =
        append(
            new WorkOrderEvent.Submitted(
                spec(OTHER_QUEUE).after(first).build(), null, batch, List.of(first)));
    store().append(first, ExpectedVersion.exactly(1), List.of(cancelled()));
    WorkOrderId resubmitted =
        append(new WorkOrderEvent.Submitted(spec(QUEUE).build(), first, batch, List.of()));

    assertThat(view(first).batch()).contains(batch);
    assertThat(view(plain).batch()).isEmpty();
    assertThat(queried(WorkOrderQuery.builder().batch(batch)))
        .containsExactly(first, blocked, resubmitted);
    assertThat(queried(WorkOrderQuery.builder().batch(other))).containsExactly(elsewhere);
    assertThat(queried(WorkOrderQuery.builder().batch(BatchId.of("no-such-batch")))).isEmpty();
    assertThat(
            queried(WorkOrderQuery.builder().batch(batch).order(WorkOrderQuery.Order.NEWEST_FIRST)))
        .containsExactly(resubmitted, blocked, first);
    assertThat(queried(WorkOrderQuery.builder().batch(batch).states(BLOCKED)))
        .containsExactly(blocked);
    assertThat(queried(WorkOrderQuery.builder().batch(batch).queue(QUEUE)))
        .containsExactly(first, resubmitted);
    assertThat(queried(WorkOrderQuery.builder().batch(batch).label("team", "a")))
        .containsExactly(first);
    assertThat(queried(WorkOrderQuery.builder().batch(batch).resubmittedFrom(first)))
        .containsExactly(resubmitted);
    assertThat(queried(WorkOrderQuery.builder().batch(batch).notResubmitted()))
        .containsExactly(blocked, resubmitted);

    WorkOrderQuery query = WorkOrderQuery.builder().batch(batch).build();
    Map<String, Long> byState = store().count(query, WorkOrderQuery.CountBy.STATE);
    assertThat(byState.get(CANCELLED.name())).isEqualTo(1);
    assertThat(byState.get(BLOCKED.name())).isEqualTo(1);
    assertThat(byState.get(PENDING.name())).isEqualTo(1);
    assertThat(byState.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(3);
    assertThat(store().count(query, WorkOrderQuery.CountBy.QUEUE))
        .containsExactlyEntriesOf(new java.util.TreeMap<>(Map.of(OTHER_QUEUE, 1L, QUEUE, 2L)));
    assertThat(
            store()
                .count(
                    WorkOrderQuery.builder().batch(batch).label("team", "a").build(),
                    WorkOrderQuery.CountBy.TYPE))
        .containsExactly(Map.entry(WorkOrderFixtures.TYPE, 1L));
    for (WorkOrderId id : List.of(first, elsewhere, plain, blocked, resubmitted)) {
      assertThat(query.matches(view(id)))
          .as("%s matches", id)
          .isEqualTo(List.of(first, blocked, resubmitted).contains(id));
    }
  }

  @Test
  void markBatchEnded_is_true_once_per_batch_and_member_count() {
    BatchId batch = BatchId.of("batch-ends");

    assertThat(store().markBatchEnded(batch, 3, at(1))).isTrue();
    assertThat(store().markBatchEnded(batch, 3, at(2))).isFalse();
    assertThat(store().markBatchEnded(batch, 4, at(3))).as("a new count").isTrue();
    assertThat(store().markBatchEnded(BatchId.of("batch-other"), 3, at(3))).isTrue();
    assertThat(store().markBatchEnded(batch, 3, at(4))).isFalse();
    assertThat(store().markBatchEnded(batch, 4, at(4))).isFalse();
  }

  @Test
  void batchesEndedSince_lists_each_batch_with_a_work_order_ended_since_once_in_end_order() {
    BatchId early = BatchId.of("batch-early");
    BatchId late = BatchId.of("batch-late");
    BatchId live = BatchId.of("batch-live");
    WorkOrderId e1 =
        append(new WorkOrderEvent.Submitted(spec(QUEUE).build(), null, early, List.of()));
    WorkOrderId e2 =
        append(new WorkOrderEvent.Submitted(spec(QUEUE).build(), null, early, List.of()));
    WorkOrderId l1 =
        append(new WorkOrderEvent.Submitted(spec(QUEUE).build(), null, late, List.of()));
    append(new WorkOrderEvent.Submitted(spec(QUEUE).build(), null, live, List.of()));
    WorkOrderId loose = submit(QUEUE);

    clock().advance(Duration.ofSeconds(10));
    Instant first = clock().instant();
    store().append(e1, ExpectedVersion.exactly(1), List.of(cancelled()));
    clock().advance(Duration.ofSeconds(10));
    Instant second = clock().instant();
    store().append(l1, ExpectedVersion.exactly(1), List.of(cancelled()));
    store().append(loose, ExpectedVersion.exactly(1), List.of(cancelled()));
    clock().advance(Duration.ofSeconds(10));
    store().append(e2, ExpectedVersion.exactly(1), List.of(cancelled()));

    assertThat(store().batchesEndedSince(first, 10)).containsExactly(early, late);
    assertThat(store().batchesEndedSince(second, 10))
        .as("each once, in order of its first end since the time")
        .containsExactly(late, early);
    assertThat(store().batchesEndedSince(first, 1)).containsExactly(early);
    assertThat(store().batchesEndedSince(clock().instant().plusSeconds(1), 10)).isEmpty();
  }

  @Test
  void markBatchEnded_called_at_once_by_many_threads_is_true_for_exactly_one() throws Exception {
    BatchId batch = BatchId.of("batch-race");
    int threads = 8;
    CyclicBarrier start = new CyclicBarrier(threads);

    List<Boolean> results =
        runConcurrently(
            threads,
            n -> {
              start.await(WAIT_SECONDS, TimeUnit.SECONDS);
              return store().markBatchEnded(batch, 10, clock().instant());
            });

    assertThat(results).containsOnlyOnce(true);
    assertThat(store().markBatchEnded(batch, 10, clock().instant())).isFalse();
  }

  // ---------------------------------------------------------------------------------------------
  // queue pauses

  @Test
  void recordQueueAction_pause_stops_claims_from_that_queue_until_a_resume_and_no_other_queue() {
    WorkOrderId paused = submit(QUEUE);
    WorkOrderId other = submit(OTHER_QUEUE);
    QueueAction pause = new QueueAction(QUEUE, QueueAction.Kind.PAUSE, at(1), "ops", "deploy");

    assertThat(store().recordQueueAction(pause)).isTrue();

    assertThat(claim(QUEUE, 10, at(1000))).isEmpty();
    assertThat(ids(claim(OTHER_QUEUE, 10, clock().instant()))).containsExactly(other);
    // Submits to a paused queue still succeed and wait.
    WorkOrderId later = submit(QUEUE);
    assertThat(view(later).state()).isEqualTo(PENDING);
    assertThat(claim(QUEUE, 10, at(1000))).isEmpty();
    assertThat(store().counts().count(QUEUE, PENDING)).isEqualTo(2);
    assertThat(store().pausedQueues()).containsExactly(pause);

    QueueAction resume = new QueueAction(QUEUE, QueueAction.Kind.RESUME, at(2), "ops", "");
    assertThat(store().recordQueueAction(resume)).isTrue();

    assertThat(store().pausedQueues()).isEmpty();
    assertThat(ids(claim(QUEUE, 10, clock().instant()))).containsExactly(paused, later);
    assertThat(store().queueActions(QUEUE, 10)).containsExactly(resume, pause);
    assertThat(store().queueActions(OTHER_QUEUE, 10)).isEmpty();
  }

  @Test
  void recordQueueAction_of_a_second_pause_or_of_a_resume_of_a_running_queue_writes_nothing() {
    QueueAction resumeFirst = new QueueAction(QUEUE, QueueAction.Kind.RESUME, at(0), "ops", "");
    QueueAction pause = new QueueAction(QUEUE, QueueAction.Kind.PAUSE, at(1), "alice", "first");
    QueueAction again = new QueueAction(QUEUE, QueueAction.Kind.PAUSE, at(2), "bob", "second");
    QueueAction resume = new QueueAction(QUEUE, QueueAction.Kind.RESUME, at(3), "alice", "");
    QueueAction resumeAgain = new QueueAction(QUEUE, QueueAction.Kind.RESUME, at(4), "bob", "");

    assertThat(store().recordQueueAction(resumeFirst)).isFalse();
    assertThat(store().queueActions(null, 10)).isEmpty();
    assertThat(store().recordQueueAction(pause)).isTrue();
    assertThat(store().recordQueueAction(again)).isFalse();
    assertThat(store().pausedQueues()).containsExactly(pause);
    assertThat(store().queueActions(QUEUE, 10)).containsExactly(pause);
    assertThat(store().recordQueueAction(resume)).isTrue();
    assertThat(store().recordQueueAction(resumeAgain)).isFalse();

    assertThat(store().queueActions(QUEUE, 10)).containsExactly(resume, pause);
    assertThat(store().pausedQueues()).isEmpty();
    assertThat(wholeLog()).as("pauses are not events").isEmpty();
  }

  @Test
  void
      pausedQueues_lists_by_queue_and_queueActions_newest_first_even_when_the_clock_stands_still() {
    Instant now = clock().instant();
    QueueAction zetaPause = new QueueAction("zeta", QueueAction.Kind.PAUSE, now, "ops", "1");
    QueueAction alphaPause = new QueueAction("alpha", QueueAction.Kind.PAUSE, now, "ops", "2");
    QueueAction zetaResume = new QueueAction("zeta", QueueAction.Kind.RESUME, now, "ops", "3");
    QueueAction zetaAgain = new QueueAction("zeta", QueueAction.Kind.PAUSE, now, "ops", "4");
    for (QueueAction action : List.of(zetaPause, alphaPause, zetaResume, zetaAgain)) {
      assertThat(store().recordQueueAction(action)).as("%s", action).isTrue();
    }

    assertThat(store().pausedQueues()).containsExactly(alphaPause, zetaAgain);
    assertThat(store().queueActions("zeta", 10)).containsExactly(zetaAgain, zetaResume, zetaPause);
    assertThat(store().queueActions("zeta", 2)).containsExactly(zetaAgain, zetaResume);
    assertThat(store().queueActions("alpha", 10)).containsExactly(alphaPause);
    assertThat(store().queueActions(null, 10))
        .containsExactlyInAnyOrder(zetaPause, alphaPause, zetaResume, zetaAgain);
    assertThat(store().queueActions(null, 3)).hasSize(3);
  }

  @Test
  void queueActions_of_every_queue_lists_the_newest_first() {
    List<QueueAction> actions = new ArrayList<>();
    String[] queues = {"b", "a", "b", "c", "a"};
    for (int i = 0; i < queues.length; i++) {
      clock().advance(Duration.ofSeconds(1));
      String queue = queues[i];
      boolean paused = store().pausedQueues().stream().anyMatch(p -> p.queue().equals(queue));
      QueueAction action =
          new QueueAction(
              queue,
              paused ? QueueAction.Kind.RESUME : QueueAction.Kind.PAUSE,
              clock().instant(),
              "ops-" + i,
              "step " + i);
      assertThat(store().recordQueueAction(action)).isTrue();
      actions.add(0, action);
    }

    assertThat(store().queueActions(null, 10)).containsExactlyElementsOf(actions);
    assertThat(store().queueActions(null, 2)).containsExactlyElementsOf(actions.subList(0, 2));
  }

  @Test
  void recordQueueAction_pause_orders_against_concurrent_claims_no_claim_begun_after_it_takes_work()
      throws Exception {
    int perQueue = 400;
    // Claimers hold off (until the pause) once this many remain, so that both queues still have
    // work when the pause lands, however fast the store claims.
    int keep = 60;
    submitMany(QUEUE, perQueue);
    submitMany(OTHER_QUEUE, perQueue);
    Set<WorkOrderId> ofQueue = new HashSet<>(ids(queryAll(QUEUE)));
    int claimers = 6;
    AtomicBoolean paused = new AtomicBoolean();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger claimedFromQueue = new AtomicInteger();
    AtomicInteger claimedFromOther = new AtomicInteger();
    CountDownLatch enoughClaims = new CountDownLatch(1);
    CountDownLatch afterPause = new CountDownLatch(claimers);
    ExecutorService pool = Executors.newFixedThreadPool(claimers);
    List<Future<List<String>>> results = new ArrayList<>();
    long head;
    for (int n = 0; n < claimers; n++) {
      String queue = n % 3 == 2 ? OTHER_QUEUE : QUEUE;
      String owner = "node-" + n;
      results.add(
          pool.submit(
              () -> {
                List<String> problems = new ArrayList<>();
                int callsAfterPause = 0;
                AtomicInteger mine = queue.equals(QUEUE) ? claimedFromQueue : claimedFromOther;
                while (!stop.get()) {
                  if (!paused.get() && mine.get() >= perQueue - keep) {
                    Thread.onSpinWait();
                    continue;
                  }
                  boolean begunAfterPause = paused.get();
                  List<WorkOrderView> got =
                      store()
                          .claim(
                              new ClaimRequest(
                                  queue, owner, 1, Capacity.unlimited(), clock().instant(), LEASE));
                  if (!got.isEmpty()) {
                    mine.incrementAndGet();
                  }
                  if (queue.equals(QUEUE) && !got.isEmpty()) {
                    if (claimedFromQueue.get() >= 20) {
                      enoughClaims.countDown();
                    }
                    if (begunAfterPause) {
                      problems.add(owner + " claimed " + got.get(0).id() + " after the pause");
                    }
                  }
                  if (begunAfterPause && ++callsAfterPause == 10) {
                    afterPause.countDown();
                  }
                }
                return problems;
              }));
    }
    try {
      assertThat(enoughClaims.await(WAIT_SECONDS, TimeUnit.SECONDS)).as("claims began").isTrue();

      assertThat(
              store()
                  .recordQueueAction(
                      new QueueAction(
                          QUEUE, QueueAction.Kind.PAUSE, clock().instant(), "ops", "race")))
          .isTrue();
      // Every claim of the queue that is in the log now is at or below head; every claim that
      // begins from here on must find the queue paused.
      head = lastLogPosition();
      paused.set(true);
      assertThat(afterPause.await(WAIT_SECONDS, TimeUnit.SECONDS))
          .as("every claimer claimed 10 times after the pause")
          .isTrue();
    } finally {
      stop.set(true);
      pool.shutdown();
      assertThat(pool.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
    }
    List<String> problems = new ArrayList<>();
    for (Future<List<String>> f : results) {
      problems.addAll(f.get());
    }
    assertThat(problems).isEmpty();
    List<RecordedEvent> claims =
        wholeLog().stream().filter(r -> r.event() instanceof WorkOrderEvent.Claimed).toList();
    long lastOfQueue =
        claims.stream()
            .filter(r -> ofQueue.contains(r.workOrderId()))
            .mapToLong(RecordedEvent::position)
            .max()
            .orElseThrow();
    long otherAfter =
        claims.stream()
            .filter(r -> !ofQueue.contains(r.workOrderId()))
            .filter(r -> r.position() > head)
            .count();
    assertThat(lastOfQueue).as("the last claim of the paused queue").isLessThanOrEqualTo(head);
    assertThat(claims.stream().filter(r -> ofQueue.contains(r.workOrderId())).count())
        .isEqualTo(claimedFromQueue.get());
    assertThat(claimedFromQueue.get()).isLessThan(perQueue);
    assertThat(otherAfter).as("claims of the other queue went on").isPositive();
    assertThat(store().counts().count(QUEUE, PENDING)).isEqualTo(perQueue - claimedFromQueue.get());
    assertThat(
            store()
                .recordQueueAction(
                    new QueueAction(QUEUE, QueueAction.Kind.RESUME, clock().instant(), "ops", "")))
        .isTrue();
    assertThat(claim(QUEUE, 1, clock().instant())).hasSize(1);
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  private Instant at(long seconds) {
    return t0.plusSeconds(seconds);
  }

  private WorkOrderId append(WorkOrderEvent.Submitted event) {
    WorkOrderId id = newId();
    store().append(id, ExpectedVersion.none(), List.of(event));
    return id;
  }

  private WorkOrderId submit(String queue) {
    return append(submitted(queue));
  }

  private void submitMany(String queue, int count) {
    List<AppendRequest> batch = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      batch.add(AppendRequest.of(newId(), ExpectedVersion.none(), submitted(queue)));
      if (batch.size() == 200 || i == count - 1) {
        store().appendAll(batch);
        batch.clear();
      }
    }
  }

  /** A Submitted event of a plain spec in {@link #QUEUE} that waits for these work orders. */
  private static WorkOrderEvent.Submitted waitingFor(List<WorkOrderId> dependencies) {
    return new WorkOrderEvent.Submitted(
        spec(QUEUE).after(dependencies.toArray(new WorkOrderId[0])).build(),
        null,
        null,
        dependencies);
  }

  /** A new blocked work order in {@link #QUEUE} that waits for these, under a policy. */
  private WorkOrderId submitWaiting(List<WorkOrderId> dependencies, DependencyFailure policy) {
    return submitWaiting(spec(QUEUE).onDependencyFailure(policy), dependencies);
  }

  private WorkOrderId submitWaiting(WorkOrderSpec.Builder spec, List<WorkOrderId> dependencies) {
    return append(
        new WorkOrderEvent.Submitted(
            spec.after(dependencies.toArray(new WorkOrderId[0])).build(),
            null,
            null,
            dependencies));
  }

  /** Brings a pending, preparing or running work order to its end with a last event. */
  private void end(WorkOrderId id, WorkOrderEvent last) {
    WorkOrderView v = view(id);
    List<WorkOrderEvent> events = new ArrayList<>();
    switch (v.state()) {
      case PENDING ->
          events.addAll(List.of(claimed(OWNER, clock().instant().plus(LEASE)), started()));
      case PREPARING -> events.add(started());
      case RUNNING -> {}
      default -> throw new IllegalStateException(id + " is " + v.state());
    }
    events.add(last);
    store().append(id, ExpectedVersion.exactly(v.version()), events);
  }

  /** A new work order in a queue brought to a state by one append, at the clock's time. */
  private WorkOrderId inState(String queue, WorkOrderState state) {
    Instant now = clock().instant();
    List<WorkOrderEvent> events = new ArrayList<>();
    events.add(submitted(queue));
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
      case BLOCKED -> throw new IllegalArgumentException("use submitWaiting");
    }
    WorkOrderId id = newId();
    store().append(id, ExpectedVersion.none(), events);
    return id;
  }

  private static WorkOrderEvent.Released released() {
    return new WorkOrderEvent.Released(ErrorCodes.NODE_SHUTDOWN, "the node went away");
  }

  private static WorkOrderEvent.Checkpointed checkpoint(int attempt, String field, int value) {
    JsonNode state = JsonNodeFactory.instance.objectNode().put(field, value);
    return new WorkOrderEvent.Checkpointed(attempt, state);
  }

  private List<WorkOrderView> claim(String queue, int limit, Instant now) {
    return store().claim(new ClaimRequest(queue, OWNER, limit, Capacity.unlimited(), now, LEASE));
  }

  private WorkOrderView claimOne(String queue) {
    return single(claim(queue, 1, clock().instant()));
  }

  private WorkOrderView view(WorkOrderId id) {
    return store().find(id).orElseThrow(() -> new AssertionError("no view of " + id));
  }

  private Map<WorkOrderId, ViewSnapshot> snapshots(List<WorkOrderId> ids) {
    Map<WorkOrderId, ViewSnapshot> out = new LinkedHashMap<>();
    for (WorkOrderId id : ids) {
      WorkOrderView v = view(id);
      out.put(id, ViewSnapshot.of(v));
    }
    return out;
  }

  /** The ids a query returns, read two at a time through every page. */
  private List<WorkOrderId> queried(WorkOrderQuery.Builder query) {
    List<WorkOrderId> all = new ArrayList<>();
    long cursor = 0;
    while (true) {
      Page<WorkOrderView> page = store().query(query.after(cursor).limit(2).build());
      all.addAll(ids(page.items()));
      if (!page.hasNext()) {
        return all;
      }
      cursor = page.nextCursor().getAsLong();
    }
  }

  private List<WorkOrderView> queryAll(String queue) {
    List<WorkOrderView> all = new ArrayList<>();
    long cursor = 0;
    while (true) {
      Page<WorkOrderView> page =
          store()
              .query(
                  WorkOrderQuery.builder()
                      .queue(queue)
                      .after(cursor)
                      .limit(WorkOrderQuery.MAX_LIMIT)
                      .build());
      all.addAll(page.items());
      if (!page.hasNext()) {
        return all;
      }
      cursor = page.nextCursor().getAsLong();
    }
  }

  private List<RecordedEvent> wholeLog() {
    List<RecordedEvent> all = new ArrayList<>();
    long after = 0;
    while (true) {
      LogPage page = store().readLog(after, 1000);
      if (page.events().isEmpty()) {
        return all;
      }
      all.addAll(page.events());
      after = page.lastPosition();
    }
  }

  private long lastLogPosition() {
    List<RecordedEvent> log = wholeLog();
    return log.isEmpty() ? 0 : log.get(log.size() - 1).position();
  }

  private static <T> T single(List<T> list) {
    assertThat(list).hasSize(1);
    return list.get(0);
  }

  private static List<WorkOrderId> ids(List<? extends WorkOrderView> views) {
    return views.stream().map(WorkOrderView::id).toList();
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
}
