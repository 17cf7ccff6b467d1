package dev.workgate.core.store;

import static dev.workgate.core.testing.WorkOrderFixtures.cancellationRequested;
import static dev.workgate.core.testing.WorkOrderFixtures.claimed;
import static dev.workgate.core.testing.WorkOrderFixtures.completed;
import static dev.workgate.core.testing.WorkOrderFixtures.failedWithRetry;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.started;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.internal.Cancellations;
import dev.workgate.core.internal.Cancellations.Outcome;
import dev.workgate.core.internal.Cancellations.Result;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.ExpectedVersion;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CancellationsTest {
  private final MutableClock clock = MutableClock.create();
  private final WorkOrderStore store = Stores.inMemory(clock);
  private final Instant lease = clock.instant().plus(Duration.ofMinutes(5));

  @AfterEach
  void close() {
    store.close();
  }

  private WorkOrderId write(WorkOrderEvent... events) {
    WorkOrderId id = newId();
    List<WorkOrderEvent> all = new ArrayList<>();
    all.add(submitted("jobs"));
    all.addAll(List.of(events));
    store.append(id, ExpectedVersion.none(), all);
    return id;
  }

  private List<EventType> types(WorkOrderId id) {
    return store.readStream(id).stream().map(e -> e.event().type()).toList();
  }

  @Test
  void pending_work_is_cancelled_at_once_with_the_reason() {
    WorkOrderId id = write();

    Outcome outcome = Cancellations.request(store, id, "not needed");

    assertThat(outcome.result()).isEqualTo(Result.CANCELLED);
    assertThat(outcome.view().state()).isEqualTo(WorkOrderState.PENDING);
    assertThat(outcome.cancelledOrRequested()).isTrue();
    assertThat(store.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.CANCELLED);
    RecordedEvent last = store.readStream(id).get(1);
    assertThat(last.event()).isEqualTo(new WorkOrderEvent.Cancelled("not needed"));
  }

  @Test
  void work_waiting_for_a_retry_is_cancelled_at_once() {
    WorkOrderId id =
        write(claimed("node-a", lease), started(), failedWithRetry(lease.plusSeconds(60)));

    Outcome outcome = Cancellations.request(store, id, "give up");

    assertThat(outcome.result()).isEqualTo(Result.CANCELLED);
    assertThat(outcome.view().state()).isEqualTo(WorkOrderState.WAITING_RETRY);
    assertThat(store.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.CANCELLED);
  }

  @Test
  void running_work_gets_a_request_its_owner_acts_on_and_keeps_running() {
    WorkOrderId id = write(claimed("node-a", lease), started());

    Outcome outcome = Cancellations.request(store, id, "operator");

    assertThat(outcome.result()).isEqualTo(Result.CANCELLATION_REQUESTED);
    assertThat(outcome.view().state()).isEqualTo(WorkOrderState.RUNNING);
    assertThat(outcome.view().leaseOwner()).contains("node-a");
    assertThat(outcome.effectiveReason("operator")).isEqualTo("operator");
    assertThat(store.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.RUNNING);
    assertThat(store.find(id).orElseThrow().cancellationRequested()).contains("operator");
    assertThat(types(id)).endsWith(EventType.CANCELLATION_REQUESTED);
  }

  @Test
  void preparing_work_gets_a_request_too() {
    WorkOrderId id = write(claimed("node-a", lease));

    Outcome outcome = Cancellations.request(store, id, "operator");

    assertThat(outcome.result()).isEqualTo(Result.CANCELLATION_REQUESTED);
    assertThat(outcome.view().state()).isEqualTo(WorkOrderState.PREPARING);
  }

  @Test
  void a_second_request_appends_nothing_and_keeps_the_first_reason() {
    WorkOrderId id = write(claimed("node-a", lease), started(), cancellationRequested("first"));

    Outcome outcome = Cancellations.request(store, id, "second");

    assertThat(outcome.result()).isEqualTo(Result.ALREADY_REQUESTED);
    assertThat(outcome.cancelledOrRequested()).isTrue();
    assertThat(outcome.effectiveReason("second")).isEqualTo("first");
    assertThat(store.readStream(id)).hasSize(4);
  }

  @Test
  void ended_work_is_left_alone() {
    WorkOrderId done = write(claimed("node-a", lease), started(), completed());
    WorkOrderId cancelled = write(new WorkOrderEvent.Cancelled("earlier"));

    Outcome outcome = Cancellations.request(store, done, "late");

    assertThat(outcome.result()).isEqualTo(Result.ALREADY_ENDED);
    assertThat(outcome.cancelledOrRequested()).isFalse();
    assertThat(outcome.view().state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(store.readStream(done)).hasSize(4);
    assertThat(Cancellations.request(store, cancelled, "again").result())
        .isEqualTo(Result.ALREADY_ENDED);
    assertThat(store.readStream(cancelled)).hasSize(2);
  }

  @Test
  void an_unknown_work_order_is_an_error() {
    WorkOrderId id = newId();
    assertThatThrownBy(() -> Cancellations.request(store, id, "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("no work order " + id);
  }

  @Test
  void a_claim_between_the_read_and_the_append_is_read_again_and_gets_a_request() {
    WorkOrderId id = write();
    AtomicInteger finds = new AtomicInteger();
    // The first read sees PENDING; a node claims the work order right after it.
    WorkOrderStore racing =
        intercept(
            (name, args) -> {
              if (name.equals("find") && finds.incrementAndGet() == 1) {
                var view = store.find(id);
                store.append(id, ExpectedVersion.exactly(1), List.of(claimed("node-b", lease)));
                return view;
              }
              return null;
            });

    Outcome outcome = Cancellations.request(racing, id, "operator");

    assertThat(finds).hasValue(2);
    assertThat(outcome.result()).isEqualTo(Result.CANCELLATION_REQUESTED);
    assertThat(outcome.view().state()).isEqualTo(WorkOrderState.PREPARING);
    assertThat(types(id))
        .containsExactly(EventType.SUBMITTED, EventType.CLAIMED, EventType.CANCELLATION_REQUESTED);
  }

  @Test
  void a_work_order_that_keeps_changing_is_given_up_after_ten_attempts() {
    WorkOrderId id = write();
    AtomicInteger appends = new AtomicInteger();
    WorkOrderStore alwaysBeaten =
        intercept(
            (name, args) -> {
              if (name.equals("append")) {
                appends.incrementAndGet();
                throw new ConcurrencyException(id, "exactly 1", 2);
              }
              return null;
            });

    assertThatThrownBy(() -> Cancellations.request(alwaysBeaten, id, "x"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("work order " + id + " kept changing under 10 attempts to cancel it");
    assertThat(appends).hasValue(Cancellations.MAX_ATTEMPTS);
    assertThat(store.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.PENDING);
  }

  @Test
  void concurrent_cancels_of_one_work_order_append_exactly_one_cancelled() throws Exception {
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < 20; round++) {
        WorkOrderId id = write();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Outcome>> outcomes = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          String reason = "canceller " + t;
          outcomes.add(
              pool.submit(
                  () -> {
                    go.await();
                    return Cancellations.request(store, id, reason);
                  }));
        }
        go.countDown();
        List<Result> results = new ArrayList<>();
        for (Future<Outcome> f : outcomes) {
          results.add(f.get(10, TimeUnit.SECONDS).result());
        }
        assertThat(results).filteredOn(r -> r == Result.CANCELLED).hasSize(1);
        assertThat(results).filteredOn(r -> r == Result.ALREADY_ENDED).hasSize(threads - 1);
        assertThat(types(id)).containsExactly(EventType.SUBMITTED, EventType.CANCELLED);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void cancels_racing_claims_on_real_threads_end_in_one_consistent_outcome_each() throws Exception {
    int count = 200;
    List<WorkOrderId> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ids.add(write());
    }
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      CountDownLatch go = new CountDownLatch(1);
      Callable<List<Outcome>> canceller =
          () -> {
            go.await();
            List<Outcome> out = new ArrayList<>();
            for (WorkOrderId id : ids) {
              out.add(Cancellations.request(store, id, "operator"));
            }
            return out;
          };
      Future<?> claimer =
          pool.submit(
              () -> {
                go.await();
                for (WorkOrderId id : ids) {
                  try {
                    store.append(id, ExpectedVersion.exactly(1), List.of(claimed("node-a", lease)));
                  } catch (ConcurrencyException cancelledFirst) {
                    // the canceller got there first
                  }
                }
                return null;
              });
      Future<List<Outcome>> first = pool.submit(canceller);
      Future<List<Outcome>> second = pool.submit(canceller);
      go.countDown();
      claimer.get(30, TimeUnit.SECONDS);
      List<Outcome> a = first.get(30, TimeUnit.SECONDS);
      List<Outcome> b = second.get(30, TimeUnit.SECONDS);

      int cancelled = 0;
      int requested = 0;
      for (int i = 0; i < count; i++) {
        WorkOrderId id = ids.get(i);
        List<Result> both = List.of(a.get(i).result(), b.get(i).result());
        List<EventType> types = types(id);
        if (types.contains(EventType.CANCELLED)) {
          // Cancelled while PENDING: never claimed, and the other canceller saw it ended.
          cancelled++;
          assertThat(types)
              .as(id.value())
              .containsExactly(EventType.SUBMITTED, EventType.CANCELLED);
          assertThat(both)
              .as(id.value())
              .containsExactlyInAnyOrder(Result.CANCELLED, Result.ALREADY_ENDED);
        } else {
          // Claimed first: one request recorded, the other canceller saw it.
          requested++;
          assertThat(types)
              .as(id.value())
              .containsExactly(
                  EventType.SUBMITTED, EventType.CLAIMED, EventType.CANCELLATION_REQUESTED);
          assertThat(both)
              .as(id.value())
              .containsExactlyInAnyOrder(Result.CANCELLATION_REQUESTED, Result.ALREADY_REQUESTED);
          assertThat(store.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.PREPARING);
        }
      }
      assertThat(cancelled + requested).isEqualTo(count);
    } finally {
      pool.shutdownNow();
    }
  }

  /** What a test does instead of the store's method; null lets the store answer. */
  private interface Interception {
    Object apply(String method, Object[] args);
  }

  private WorkOrderStore intercept(Interception interception) {
    return (WorkOrderStore)
        Proxy.newProxyInstance(
            WorkOrderStore.class.getClassLoader(),
            new Class<?>[] {WorkOrderStore.class},
            (proxy, method, args) -> {
              Object instead = interception.apply(method.getName(), args);
              if (instead != null) {
                return instead;
              }
              try {
                return method.invoke(store, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }
}
