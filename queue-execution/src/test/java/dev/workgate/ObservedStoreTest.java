package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.TransitionListener.StateChange;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ObservedStoreTest {
  private static final Duration LEASE = Duration.ofSeconds(30);

  private final MutableClock clock = MutableClock.create();
  private final WorkOrderStore inner = Stores.inMemory(clock);
  private final List<StateChange> heard = new ArrayList<>();
  private final AtomicBoolean watched = new AtomicBoolean(true);
  private final ObservedStore store =
      new ObservedStore(inner, heard::add, watched::get, clock, r -> {});

  @AfterEach
  void close() {
    inner.close();
  }

  /** A heard change as {@code TYPE FROM->TO #attempt}, {@code -} for no state before. */
  private static String transition(StateChange c) {
    return c.type()
        + " "
        + c.from().map(Enum::name).orElse("-")
        + "->"
        + c.to()
        + " #"
        + c.attempt();
  }

  @Test
  void reports_states_attempts_and_times_through_a_failure_a_retry_and_a_success() {
    Instant t0 = clock.instant();
    WorkOrderId id =
        submit(WorkOrderSpec.builder("job").queue("builds").notBefore(t0.plusSeconds(5)).build());
    clock.advance(Duration.ofSeconds(7));
    WorkOrderView claimed = claimOne("builds");
    clock.advance(Duration.ofSeconds(1));
    store.append(
        id,
        ExpectedVersion.exactly(claimed.version()),
        List.of(new WorkOrderEvent.Started("sb-1")));
    clock.advance(Duration.ofSeconds(3));
    store.append(
        id,
        ExpectedVersion.exactly(claimed.version() + 1),
        List.of(
            new WorkOrderEvent.AttemptFailed(
                ErrorInfo.retryable(ErrorCodes.TIMEOUT, "slow"),
                clock.instant().plusSeconds(10),
                "retry")));
    clock.advance(Duration.ofSeconds(10));
    Instant released = clock.instant();
    store.append(
        id,
        ExpectedVersion.exactly(claimed.version() + 2),
        List.of(new WorkOrderEvent.RetryReleased()));
    clock.advance(Duration.ofSeconds(2));
    WorkOrderView again = claimOne("builds");
    store.append(
        id,
        ExpectedVersion.exactly(again.version()),
        List.of(new WorkOrderEvent.Started("sb-2"), new WorkOrderEvent.Completed(null)));

    assertThat(heard)
        .extracting(ObservedStoreTest::transition)
        .containsExactly(
            "SUBMITTED -->PENDING #0",
            "CLAIMED PENDING->PREPARING #1",
            "STARTED PREPARING->RUNNING #1",
            "ATTEMPT_FAILED RUNNING->WAITING_RETRY #1",
            "RETRY_RELEASED WAITING_RETRY->PENDING #1",
            "CLAIMED PENDING->PREPARING #2",
            "STARTED PREPARING->RUNNING #2",
            "COMPLETED RUNNING->COMPLETED #2");
    assertThat(heard).allSatisfy(c -> assertThat(c.queue()).isEqualTo("builds"));
    assertThat(heard).allSatisfy(c -> assertThat(c.submittedAt()).isEqualTo(t0));
    // Waits are measured from when the work became claimable: its notBefore, then its release.
    assertThat(heard.get(1).sinceAvailable()).isEqualTo(Duration.ofSeconds(2));
    assertThat(heard.get(5).availableAt()).isEqualTo(released);
    assertThat(heard.get(5).sinceAvailable()).isEqualTo(Duration.ofSeconds(2));
    assertThat(heard.get(7).sinceSubmitted()).isEqualTo(Duration.ofSeconds(23));
    assertThat(heard)
        .extracting(c -> c.event().version())
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
  }

  @Test
  void a_claim_that_starts_the_work_order_is_reported_as_a_claim_then_a_start() {
    WorkOrderId id = submit(WorkOrderSpec.builder("job").queue("builds").build());
    clock.advance(Duration.ofSeconds(4));

    List<WorkOrderView> claimed =
        store.claim(
            new ClaimRequest("builds", "node-a", 1, Capacity.unlimited(), clock.instant(), LEASE)
                .withStart(v -> Optional.of("sb-" + v.attempt())));

    assertThat(claimed).extracting(WorkOrderView::state).containsExactly(WorkOrderState.RUNNING);
    assertThat(heard)
        .extracting(c -> transition(c) + " v" + c.event().version())
        .containsExactly(
            "SUBMITTED -->PENDING #0 v1",
            "CLAIMED PENDING->PREPARING #1 v2",
            "STARTED PREPARING->RUNNING #1 v3");
    assertThat(heard.get(2).event().event()).isEqualTo(new WorkOrderEvent.Started("sb-1"));
    assertThat(heard.get(2).sinceAvailable()).isEqualTo(Duration.ofSeconds(4));
    // The next append is heard from RUNNING, the state the claim left.
    store.append(id, ExpectedVersion.exactly(3), List.of(new WorkOrderEvent.Completed(null)));
    assertThat(heard.get(3).from()).contains(WorkOrderState.RUNNING);
    assertThat(heard.get(3).to()).isEqualTo(WorkOrderState.COMPLETED);
  }

  @Test
  void a_cancellation_request_is_reported_without_a_state_change() {
    WorkOrderId id = submit(WorkOrderSpec.builder("job").build());
    WorkOrderView claimed = claimOne(WorkOrderSpec.DEFAULT_QUEUE);
    store.append(
        id,
        ExpectedVersion.exactly(claimed.version()),
        List.of(new WorkOrderEvent.CancellationRequested("operator")));

    StateChange last = heard.get(heard.size() - 1);
    assertThat(last.type()).isEqualTo(EventType.CANCELLATION_REQUESTED);
    assertThat(last.from()).contains(WorkOrderState.PREPARING);
    assertThat(last.to()).isEqualTo(WorkOrderState.PREPARING);
    assertThat(last.changesState()).isFalse();
  }

  @Test
  void an_event_another_writer_slipped_in_is_folded_from_the_stream() {
    WorkOrderId id = submit(WorkOrderSpec.builder("job").build());
    WorkOrderView claimed = claimOne(WorkOrderSpec.DEFAULT_QUEUE);
    // Another writer (not through this store) starts the work: the cache is one version behind.
    inner.append(
        id,
        ExpectedVersion.exactly(claimed.version()),
        List.of(new WorkOrderEvent.Started("elsewhere")));
    store.append(id, ExpectedVersion.any(), List.of(new WorkOrderEvent.Completed(null)));

    StateChange last = heard.get(heard.size() - 1);
    assertThat(last.from()).contains(WorkOrderState.RUNNING);
    assertThat(last.to()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(last.attempt()).isEqualTo(1);
  }

  @Test
  void reads_and_reports_nothing_when_nobody_watches() {
    watched.set(false);
    WorkOrderId id = submit(WorkOrderSpec.builder("job").build());
    claimOne(WorkOrderSpec.DEFAULT_QUEUE);

    assertThat(heard).isEmpty();
    assertThat(store.find(id).map(WorkOrderView::state)).contains(WorkOrderState.PREPARING);
  }

  @Test
  void a_failing_listener_does_not_make_a_stored_append_fail() {
    ObservedStore throwing =
        new ObservedStore(
            inner,
            c -> {
              throw new IllegalStateException("listener broke");
            },
            () -> true,
            clock,
            r -> {});
    WorkOrderId id = WorkOrderId.random();
    throwing.append(
        id,
        ExpectedVersion.none(),
        List.of(new WorkOrderEvent.Submitted(WorkOrderSpec.builder("job").build(), null)));

    assertThat(inner.find(id)).isPresent();
  }

  @Test
  void a_listener_error_on_one_claimed_work_order_neither_fails_the_claim_nor_silences_the_rest() {
    List<StateChange> reported = new ArrayList<>();
    ObservedStore picky =
        new ObservedStore(
            inner,
            c -> {
              if (c.type() == EventType.CLAIMED
                  && reported.stream().noneMatch(r -> r.type() == EventType.CLAIMED)) {
                reported.add(c);
                throw new AssertionError("listener bug");
              }
              reported.add(c);
            },
            () -> true,
            clock,
            r -> {});
    for (int i = 0; i < 3; i++) {
      submit(WorkOrderSpec.builder("job").build());
    }

    List<WorkOrderView> claimed =
        picky.claim(
            new ClaimRequest(
                WorkOrderSpec.DEFAULT_QUEUE,
                "node-a",
                3,
                Capacity.unlimited(),
                clock.instant(),
                LEASE));

    assertThat(claimed).hasSize(3);
    assertThat(reported).filteredOn(c -> c.type() == EventType.CLAIMED).hasSize(3);
  }

  private WorkOrderId submit(WorkOrderSpec spec) {
    WorkOrderId id = WorkOrderId.random();
    store.append(id, ExpectedVersion.none(), List.of(new WorkOrderEvent.Submitted(spec, null)));
    return id;
  }

  private WorkOrderView claimOne(String queue) {
    List<WorkOrderView> claimed =
        store.claim(
            new ClaimRequest(queue, "node-a", 1, Capacity.unlimited(), clock.instant(), LEASE));
    assertThat(claimed).hasSize(1);
    return claimed.get(0);
  }
}
