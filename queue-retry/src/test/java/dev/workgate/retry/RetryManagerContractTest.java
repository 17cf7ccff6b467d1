package dev.workgate.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.core.testing.WorkOrderFixtures;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.retry.internal.RetryDecision;
import dev.workgate.retry.internal.RetryListener;
import dev.workgate.retry.internal.RetryManager;
import dev.workgate.retry.internal.RetryStats;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a {@link RetryManager} does, checked against each store: subclasses supply the store, so the
 * manager behaves identically on the in-memory, SQLite and PostgreSQL stores.
 */
abstract class RetryManagerContractTest {

  /** Five seconds, ×2, no jitter: delays are exact. */
  static final RetryPolicy EXACT =
      RetryPolicy.builder().baseDelay(Duration.ofSeconds(5)).jitter(Jitter.none()).build();

  static final ErrorInfo TIMEOUT = ErrorInfo.retryable(ErrorCodes.TIMEOUT, "ran past 10 min");
  static final ErrorInfo FATAL = ErrorInfo.fatal(ErrorCodes.AGENT_FATAL_ERROR, "gave up");

  MutableClock clock;
  WorkOrderStore store;
  RetryManagerTestKit kit;
  RecordingListener heard;
  RetryManager retries;

  /**
   * A new, empty store stamping events with {@code clock}.
   *
   * @param clock the clock
   * @return the store; the test closes it
   */
  protected abstract WorkOrderStore createStore(Clock clock);

  @BeforeEach
  void open() {
    clock = MutableClock.create();
    store = createStore(clock);
    kit = new RetryManagerTestKit(store, clock);
    heard = new RecordingListener();
    retries = manager(RetryManager.builder(store).defaultPolicy(EXACT));
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  RetryManager manager(RetryManager.Builder builder) {
    return builder.clock(clock).listener(heard).build();
  }

  @Test
  void a_retryable_failure_schedules_the_next_attempt_after_the_policy_delay() {
    WorkOrderView running = kit.running(kit.submit("default"));

    RetryDecision decision = retries.recordFailure(running, TIMEOUT);

    Instant due = clock.instant().plusSeconds(5);
    assertThat(decision.outcome()).isEqualTo(RetryDecision.Outcome.RETRY);
    assertThat(decision.retryAt()).contains(due);
    assertThat(decision.reason()).isEqualTo("retry: attempt 2 of 4 in 5.000 s after TIMEOUT");
    WorkOrderView after = kit.view(running.id());
    assertThat(after.state()).isEqualTo(WorkOrderState.WAITING_RETRY);
    assertThat(after.nextAttemptAt()).contains(due);
    assertThat(after.lastError()).contains(TIMEOUT);
    WorkOrderEvent.AttemptFailed failed = kit.lastFailure(running.id());
    assertThat(failed.retryAt()).isEqualTo(due);
    assertThat(failed.decision()).isEqualTo(decision.reason());
    assertThat(heard.scheduled).containsExactly(decision);
  }

  @Test
  void delays_grow_with_each_attempt() {
    WorkOrderId id = kit.submit("default");
    List<Duration> delays = new ArrayList<>();
    for (int attempt = 1; attempt <= 3; attempt++) {
      RetryDecision decision = retries.recordFailure(kit.running(id), TIMEOUT);
      delays.add(decision.delay().orElseThrow());
      clock.set(decision.retryAt().orElseThrow());
      assertThat(retries.releaseDue(clock.instant(), 10)).isEqualTo(1);
    }
    assertThat(delays)
        .containsExactly(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(20));
  }

  @Test
  void the_last_allowed_attempt_fails_for_good_with_attempts_exhausted() {
    WorkOrderId id = kit.submit("default");
    RetryDecision last = null;
    for (int attempt = 1; attempt <= 4; attempt++) {
      last = retries.recordFailure(kit.running(id), TIMEOUT);
      last.retryAt().ifPresent(at -> clock.set(at));
      retries.releaseDue(clock.instant(), 10);
    }

    assertThat(last.outcome()).isEqualTo(RetryDecision.Outcome.EXHAUSTED);
    assertThat(last.reason()).isEqualTo("attempts exhausted: 4 of 4");
    WorkOrderView failed = kit.view(id);
    assertThat(failed.state()).isEqualTo(WorkOrderState.FAILED);
    assertThat(failed.attempt()).isEqualTo(4);
    assertThat(kit.lastFailure(id).retryAt()).isNull();
    assertThat(kit.lastFailure(id).decision()).isEqualTo("attempts exhausted: 4 of 4");
    assertThat(heard.scheduled).hasSize(3);
    assertThat(heard.exhausted).containsExactly(last);
    assertThat(retries.stats().exhausted()).isEqualTo(1);
  }

  @Test
  void a_release_costs_no_attempt_so_a_single_attempt_work_order_runs_again() {
    WorkOrderId id = kit.submit(WorkOrderFixtures.spec("default").maxAttempts(1).build());
    WorkOrderView running = kit.running(id);

    RetryManager.ReleaseOutcome outcome =
        retries.recordRelease(running, ErrorCodes.NODE_SHUTDOWN, "node-a shut down");

    assertThat(outcome).isEqualTo(RetryManager.ReleaseOutcome.RELEASED);
    WorkOrderView pending = kit.view(id);
    assertThat(pending.state()).isEqualTo(WorkOrderState.PENDING);
    assertThat(pending.releases()).isEqualTo(1);
    assertThat(pending.chargedAttempts()).isZero();
    assertThat(heard.releases).containsExactly(id + ": NODE_SHUTDOWN");
    assertThat(retries.stats().attemptsReleased()).isEqualTo(1);

    WorkOrderView second = kit.running(id);
    assertThat(second.attempt()).isEqualTo(2);
    RetryDecision decision = retries.recordFailure(second, TIMEOUT);
    assertThat(decision.outcome()).isEqualTo(RetryDecision.Outcome.EXHAUSTED);
    assertThat(decision.reason()).isEqualTo("attempts exhausted: 1 of 1");
  }

  @Test
  void released_attempts_do_not_shorten_the_retries_left() {
    WorkOrderId id = kit.submit(WorkOrderFixtures.spec("default").maxAttempts(2).build());
    retries.recordRelease(kit.running(id), ErrorCodes.LEASE_EXPIRED, "node-b died");
    retries.recordRelease(kit.running(id), ErrorCodes.LEASE_EXPIRED, "node-c died");

    RetryDecision decision = retries.recordFailure(kit.running(id), TIMEOUT);

    assertThat(decision.outcome()).isEqualTo(RetryDecision.Outcome.RETRY);
    assertThat(decision.retryAt()).contains(clock.instant().plusSeconds(5));
    assertThat(decision.reason()).startsWith("retry: attempt 2 of 2");
  }

  @Test
  void a_release_past_the_limit_fails_the_work_order_as_poisoned() {
    RetryManager strict = manager(RetryManager.builder(store).defaultPolicy(EXACT).maxReleases(2));
    WorkOrderId id = kit.submit("default");
    strict.recordRelease(kit.running(id), ErrorCodes.NODE_SHUTDOWN, "deploy 1");
    strict.recordRelease(kit.running(id), ErrorCodes.LEASE_EXPIRED, "crash");

    RetryManager.ReleaseOutcome outcome =
        strict.recordRelease(kit.running(id), ErrorCodes.NODE_SHUTDOWN, "deploy 2");

    assertThat(outcome).isEqualTo(RetryManager.ReleaseOutcome.POISONED);
    WorkOrderView failed = kit.view(id);
    assertThat(failed.state()).isEqualTo(WorkOrderState.FAILED);
    assertThat(failed.lastError().orElseThrow().code()).isEqualTo(ErrorCodes.POISONED);
    assertThat(failed.lastError().orElseThrow().retryable()).isFalse();
    assertThat(failed.lastError().orElseThrow().message()).contains("NODE_SHUTDOWN: deploy 2");
    assertThat(kit.lastFailure(id).decision())
        .isEqualTo("release limit reached: released 2 time(s) before, at most 2 allowed");
    assertThat(strict.stats().poisoned()).isEqualTo(1);
    assertThat(heard.releases).last().isEqualTo(id + ": NODE_SHUTDOWN POISONED");
  }

  @Test
  void a_release_of_work_whose_cancellation_was_requested_cancels_it() {
    WorkOrderView running = kit.running(kit.submit("default"));
    store.append(
        running.id(),
        dev.workgate.spi.ExpectedVersion.exactly(running.version()),
        List.of(new WorkOrderEvent.CancellationRequested("not needed")));

    RetryManager.ReleaseOutcome outcome =
        retries.recordRelease(kit.view(running.id()), ErrorCodes.NODE_SHUTDOWN, "bye");

    assertThat(outcome).isEqualTo(RetryManager.ReleaseOutcome.CANCELLED);
    assertThat(kit.view(running.id()).state()).isEqualTo(WorkOrderState.CANCELLED);
    assertThat(kit.view(running.id()).lastError().orElseThrow().message()).isEqualTo("not needed");
  }

  @Test
  void a_release_under_a_stale_view_writes_nothing() {
    WorkOrderView running = kit.running(kit.submit("default"));
    retries.recordRelease(running, ErrorCodes.NODE_SHUTDOWN, "first");

    assertThatThrownBy(() -> retries.recordRelease(running, ErrorCodes.NODE_SHUTDOWN, "second"))
        .isInstanceOf(ConcurrencyException.class);
    assertThat(kit.view(running.id()).releases()).isEqualTo(1);
  }

  @Test
  void max_releases_rejects_values_out_of_range() {
    assertThatThrownBy(() -> RetryManager.builder(store).maxReleases(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxReleases must be between 0 and 1000, got -1");
  }

  @Test
  void an_error_that_is_not_retryable_fails_at_once() {
    WorkOrderView running = kit.running(kit.submit("default"));

    RetryDecision decision = retries.recordFailure(running, FATAL);

    assertThat(decision.reason()).isEqualTo("not retryable: AGENT_FATAL_ERROR");
    assertThat(decision.retryAt()).isEmpty();
    assertThat(kit.view(running.id()).state()).isEqualTo(WorkOrderState.FAILED);
    assertThat(kit.lastFailure(running.id()).decision())
        .isEqualTo("not retryable: AGENT_FATAL_ERROR");
    assertThat(heard.notRetried).containsExactly(decision);
    assertThat(heard.scheduled).isEmpty();
    assertThat(retries.stats().notRetried()).isEqualTo(1);
  }

  @Test
  void the_spec_max_attempts_overrides_the_queue_policy() {
    WorkOrderId fewer = kit.submit(kit.spec("default").maxAttempts(2).build());
    WorkOrderId more = kit.submit(kit.spec("once").maxAttempts(3).build());
    RetryManager m =
        manager(
            RetryManager.builder(store).defaultPolicy(EXACT).policy("once", RetryPolicy.none()));

    RetryDecision first = m.recordFailure(kit.running(fewer), TIMEOUT);
    clock.set(first.retryAt().orElseThrow());
    m.releaseDue(clock.instant(), 10);
    RetryDecision second = m.recordFailure(kit.running(fewer), TIMEOUT);
    RetryDecision onceButThree = m.recordFailure(kit.running(more), TIMEOUT);

    assertThat(first.maxAttempts()).isEqualTo(2);
    assertThat(second.reason()).isEqualTo("attempts exhausted: 2 of 2");
    assertThat(onceButThree.willRetry()).isTrue();
    assertThat(onceButThree.maxAttempts()).isEqualTo(3);
  }

  @Test
  void each_queue_has_its_own_policy() {
    RetryManager m =
        manager(
            RetryManager.builder(store)
                .defaultPolicy(EXACT)
                .policy("builds", RetryPolicy.none())
                .policy(
                    "slow",
                    EXACT.toBuilder().baseDelay(Duration.ofMinutes(1)).maxAttempts(2).build()));

    RetryDecision build = m.recordFailure(kit.running(kit.submit("builds")), TIMEOUT);
    RetryDecision slow = m.recordFailure(kit.running(kit.submit("slow")), TIMEOUT);
    RetryDecision other = m.recordFailure(kit.running(kit.submit("other")), TIMEOUT);

    assertThat(build.reason()).isEqualTo("attempts exhausted: 1 of 1");
    assertThat(slow.delay()).contains(Duration.ofMinutes(1));
    assertThat(slow.maxAttempts()).isEqualTo(2);
    assertThat(other.delay()).contains(Duration.ofSeconds(5));
    assertThat(m.policyFor("builds")).isEqualTo(RetryPolicy.none());
    assertThat(m.policyFor("unknown")).isEqualTo(EXACT);
  }

  @Test
  void the_policy_code_lists_override_what_the_error_says() {
    RetryManager m =
        manager(
            RetryManager.builder(store)
                .defaultPolicy(
                    EXACT.toBuilder().neverRetryOn("QUOTA").retryOn("FLAKY_FATAL").build()));

    RetryDecision quota =
        m.recordFailure(kit.running(kit.submit("default")), ErrorInfo.retryable("QUOTA", "429"));
    RetryDecision flaky =
        m.recordFailure(
            kit.running(kit.submit("default")), ErrorInfo.fatal("FLAKY_FATAL", "said final"));

    assertThat(quota.reason()).isEqualTo("not retryable: QUOTA");
    assertThat(quota.error()).isEqualTo(ErrorInfo.fatal("QUOTA", "429"));
    assertThat(kit.view(quota.workOrderId()).lastError()).contains(ErrorInfo.fatal("QUOTA", "429"));
    assertThat(flaky.willRetry()).isTrue();
    assertThat(kit.view(flaky.workOrderId()).lastError())
        .contains(ErrorInfo.retryable("FLAKY_FATAL", "said final"));
  }

  @Test
  void a_failure_while_preparing_is_decided_like_one_while_running() {
    WorkOrderView preparing = kit.claim(kit.submit("default"));
    assertThat(preparing.state()).isEqualTo(WorkOrderState.PREPARING);

    RetryDecision decision =
        retries.recordFailure(
            preparing, ErrorInfo.retryable(ErrorCodes.SANDBOX_CREATION_FAILED, "no disk"));

    assertThat(decision.willRetry()).isTrue();
    assertThat(kit.view(preparing.id()).state()).isEqualTo(WorkOrderState.WAITING_RETRY);
  }

  @Test
  void decide_writes_nothing_and_tells_no_one() {
    WorkOrderView running = kit.running(kit.submit("default"));

    RetryDecision decision = retries.decide(running, TIMEOUT);

    assertThat(decision.willRetry()).isTrue();
    assertThat(kit.view(running.id()).version()).isEqualTo(running.version());
    assertThat(heard.all()).isEmpty();
    assertThat(retries.stats().scheduled()).isZero();
  }

  @Test
  void deciding_about_a_work_order_without_a_live_attempt_is_rejected() {
    WorkOrderView pending = kit.view(kit.submit("default"));

    assertThatThrownBy(() -> retries.decide(pending, TIMEOUT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(pending.id().value())
        .hasMessageContaining("PENDING");
    assertThat(kit.view(pending.id()).version()).isEqualTo(pending.version());
  }

  @Test
  void a_stale_view_is_refused_and_nothing_is_written() {
    WorkOrderView claimed = kit.claim(kit.submit("default"));
    kit.start(claimed);

    assertThatThrownBy(() -> retries.recordFailure(claimed, TIMEOUT))
        .isInstanceOf(ConcurrencyException.class);
    assertThat(kit.view(claimed.id()).state()).isEqualTo(WorkOrderState.RUNNING);
    assertThat(heard.all()).isEmpty();
    assertThat(retries.stats().scheduled()).isZero();
  }

  @Test
  void a_retry_is_released_at_its_due_time_and_not_before() {
    RetryDecision decision = retries.recordFailure(kit.running(kit.submit("default")), TIMEOUT);
    Instant due = decision.retryAt().orElseThrow();

    assertThat(retries.releaseDue(due.minusNanos(1_000), 10)).isZero();
    assertThat(kit.view(decision.workOrderId()).state()).isEqualTo(WorkOrderState.WAITING_RETRY);
    clock.set(due);
    assertThat(retries.releaseDue(due, 10)).isEqualTo(1);
    assertThat(retries.releaseDue(due, 10)).isZero();

    WorkOrderView pending = kit.view(decision.workOrderId());
    assertThat(pending.state()).isEqualTo(WorkOrderState.PENDING);
    assertThat(kit.count(decision.workOrderId(), EventType.RETRY_RELEASED)).isEqualTo(1);
    assertThat(heard.released).extracting(WorkOrderView::id).containsExactly(pending.id());
    assertThat(heard.released.get(0).state()).isEqualTo(WorkOrderState.WAITING_RETRY);
    assertThat(kit.claim(pending.id()).attempt()).isEqualTo(2);
  }

  @Test
  void next_due_time_is_the_earliest_waiting_retry() {
    assertThat(retries.nextDueTime()).isEmpty();
    WorkOrderId later = kit.submit("default");
    WorkOrderId sooner = kit.submit("default");
    Instant laterDue = retries.recordFailure(kit.running(later), TIMEOUT).retryAt().orElseThrow();
    clock.advance(Duration.ofSeconds(1));
    RetryManager quick =
        manager(
            RetryManager.builder(store)
                .defaultPolicy(EXACT.toBuilder().baseDelay(Duration.ofSeconds(1)).build()));
    Instant soonerDue = quick.recordFailure(kit.running(sooner), TIMEOUT).retryAt().orElseThrow();

    assertThat(soonerDue).isBefore(laterDue);
    assertThat(retries.nextDueTime()).contains(soonerDue);
    clock.set(soonerDue);
    retries.releaseDue(soonerDue, 10);
    assertThat(retries.nextDueTime()).contains(laterDue);
    clock.set(laterDue);
    retries.releaseDue(laterDue, 10);
    assertThat(retries.nextDueTime()).isEmpty();
  }

  @Test
  void release_takes_the_earliest_first_up_to_the_limit_in_batches() {
    RetryManager batched = manager(RetryManager.builder(store).defaultPolicy(EXACT).batchSize(7));
    List<Instant> dueTimes = new ArrayList<>();
    List<WorkOrderId> ids = kit.submitMany("default", 40);
    for (WorkOrderId id : ids) {
      dueTimes.add(batched.recordFailure(kit.running(id), TIMEOUT).retryAt().orElseThrow());
      clock.advance(Duration.ofMillis(3));
    }
    clock.set(dueTimes.get(dueTimes.size() - 1));

    assertThat(batched.releaseDue(clock.instant(), 25)).isEqualTo(25);
    assertThat(heard.released)
        .extracting(WorkOrderView::id)
        .containsExactlyElementsOf(ids.subList(0, 25));
    assertThat(batched.releaseDue(clock.instant(), 1_000)).isEqualTo(15);
    assertThat(batched.releaseDue(clock.instant(), 1_000)).isZero();
    for (WorkOrderId id : ids) {
      assertThat(kit.view(id).state()).isEqualTo(WorkOrderState.PENDING);
      assertThat(kit.count(id, EventType.RETRY_RELEASED)).isEqualTo(1);
    }
    assertThat(batched.stats().released()).isEqualTo(40);
  }

  @Test
  void release_skips_a_retry_cancelled_after_the_due_query() {
    List<WorkOrderId> ids = kit.submitMany("default", 3);
    Instant due = null;
    for (WorkOrderId id : ids) {
      due = retries.recordFailure(kit.running(id), TIMEOUT).retryAt().orElseThrow();
    }
    clock.set(due);
    WorkOrderId cancelledMeanwhile = ids.get(1);
    RetryManager racing =
        manager(
            RetryManager.builder(kit.cancellingAfterDueQuery(cancelledMeanwhile))
                .defaultPolicy(EXACT));

    assertThat(racing.releaseDue(due, 10)).isEqualTo(2);
    assertThat(kit.view(cancelledMeanwhile).state()).isEqualTo(WorkOrderState.CANCELLED);
    assertThat(kit.view(ids.get(0)).state()).isEqualTo(WorkOrderState.PENDING);
    assertThat(kit.view(ids.get(2)).state()).isEqualTo(WorkOrderState.PENDING);
    assertThat(kit.count(cancelledMeanwhile, EventType.RETRY_RELEASED)).isZero();
  }

  @Test
  void a_waiting_retry_can_be_cancelled_and_is_then_never_released() {
    RetryDecision decision = retries.recordFailure(kit.running(kit.submit("default")), TIMEOUT);
    WorkOrderId id = decision.workOrderId();

    assertThat(retries.cancel(id, "user asked")).isTrue();
    clock.set(decision.retryAt().orElseThrow());

    assertThat(retries.releaseDue(clock.instant(), 10)).isZero();
    assertThat(kit.view(id).state()).isEqualTo(WorkOrderState.CANCELLED);
    assertThat(heard.cancelled).containsExactly(id + ": user asked");
    assertThat(retries.cancel(id, "again")).isFalse();
    assertThat(retries.stats().cancelled()).isEqualTo(1);
    assertThat(retries.nextDueTime()).isEmpty();
  }

  @Test
  void cancel_leaves_work_orders_that_do_not_wait_for_a_retry_alone() {
    WorkOrderId pending = kit.submit("waiting");
    WorkOrderId running = kit.running(kit.submit("default")).id();

    assertThat(retries.cancel(pending, "no")).isFalse();
    assertThat(retries.cancel(running, "no")).isFalse();
    assertThat(kit.view(pending).state()).isEqualTo(WorkOrderState.PENDING);
    assertThat(kit.view(running).state()).isEqualTo(WorkOrderState.RUNNING);
    assertThatThrownBy(() -> retries.cancel(WorkOrderId.of("no-such-order"), "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no-such-order");
    assertThat(heard.all()).isEmpty();
  }

  @Test
  void stats_count_the_schedule_and_what_this_manager_did() {
    RetryDecision a = retries.recordFailure(kit.running(kit.submit("q1")), TIMEOUT);
    retries.recordFailure(kit.running(kit.submit("q2")), TIMEOUT);
    retries.recordFailure(kit.running(kit.submit("q2")), FATAL);
    clock.set(a.retryAt().orElseThrow());
    retries.releaseDue(clock.instant(), 1);

    RetryStats stats = retries.stats();

    assertThat(stats.pendingRetries()).isEqualTo(1);
    assertThat(stats.nextDueAt()).isPresent();
    assertThat(stats.scheduled()).isEqualTo(2);
    assertThat(stats.released()).isEqualTo(1);
    assertThat(stats.notRetried()).isEqualTo(1);
    assertThat(stats.exhausted()).isZero();
  }

  @Test
  void a_failing_listener_neither_undoes_the_change_nor_silences_the_others() {
    RecordingListener second = new RecordingListener();
    RetryManager m =
        RetryManager.builder(store)
            .defaultPolicy(EXACT)
            .clock(clock)
            .listener(
                new RetryListener() {
                  @Override
                  public void retryScheduled(RetryDecision decision) {
                    throw new IllegalStateException("listener bug");
                  }
                })
            .listener(second)
            .build();

    RetryDecision decision = m.recordFailure(kit.running(kit.submit("default")), TIMEOUT);

    assertThat(kit.view(decision.workOrderId()).state()).isEqualTo(WorkOrderState.WAITING_RETRY);
    assertThat(second.scheduled).containsExactly(decision);
  }

  @Test
  void a_removed_listener_hears_nothing_more() {
    RecordingListener late = new RecordingListener();
    var subscription = retries.addListener(late);
    retries.recordFailure(kit.running(kit.submit("default")), TIMEOUT);
    subscription.close();
    subscription.close();
    retries.recordFailure(kit.running(kit.submit("default")), TIMEOUT);

    assertThat(late.scheduled).hasSize(1);
    assertThat(heard.scheduled).hasSize(2);
  }

  @Test
  void threads_releasing_together_release_each_retry_exactly_once() throws Exception {
    List<WorkOrderId> ids = kit.submitMany("default", 120);
    Instant due = null;
    for (WorkOrderId id : ids) {
      due = retries.recordFailure(kit.running(id), TIMEOUT).retryAt().orElseThrow();
    }
    clock.set(due);
    Instant now = due;
    int threads = 4;
    CyclicBarrier start = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        RetryManager own = manager(RetryManager.builder(store).defaultPolicy(EXACT).batchSize(5));
        Callable<Integer> task =
            () -> {
              start.await(10, TimeUnit.SECONDS);
              int mine = 0;
              while (!store.dueRetries(now, 1).isEmpty()) {
                mine += own.releaseDue(now, 7);
              }
              return mine;
            };
        results.add(pool.submit(task));
      }
      int total = 0;
      for (Future<Integer> result : results) {
        total += result.get(60, TimeUnit.SECONDS);
      }
      assertThat(total).isEqualTo(ids.size());
    } finally {
      pool.shutdownNow();
    }
    Set<WorkOrderId> heardOnce = new HashSet<>();
    for (WorkOrderView view : heard.released) {
      assertThat(heardOnce.add(view.id())).as("released twice: %s", view.id()).isTrue();
    }
    assertThat(heardOnce).containsExactlyInAnyOrderElementsOf(ids);
    for (WorkOrderId id : ids) {
      assertThat(kit.count(id, EventType.RETRY_RELEASED)).isEqualTo(1);
    }
  }

  @Test
  void a_lease_expiry_and_a_network_error_retry_by_default() {
    RetryManager m = manager(RetryManager.builder(store));
    ErrorClassifier classifier = m.classifier();

    RetryDecision lease =
        m.recordFailure(
            kit.running(kit.submit("default")),
            classifier.classify(ErrorCodes.LEASE_EXPIRED, "node-1 stopped renewing"));
    RetryDecision network =
        m.recordFailure(
            kit.running(kit.submit("default")),
            classifier.classify(new java.net.ConnectException("refused")));

    assertThat(lease.willRetry()).isTrue();
    assertThat(network.error().code()).isEqualTo(ErrorCodes.NETWORK_ERROR);
    assertThat(network.willRetry()).isTrue();
    Duration delay = network.delay().orElseThrow();
    assertThat(delay).isBetween(Duration.ofMillis(4_500), Duration.ofMillis(5_500));
  }

  /** Records every call, as text or values, in order. Thread-safe. */
  static final class RecordingListener implements RetryListener {
    final List<RetryDecision> scheduled = Collections.synchronizedList(new ArrayList<>());
    final List<WorkOrderView> released = Collections.synchronizedList(new ArrayList<>());
    final List<RetryDecision> exhausted = Collections.synchronizedList(new ArrayList<>());
    final List<RetryDecision> notRetried = Collections.synchronizedList(new ArrayList<>());
    final List<String> cancelled = Collections.synchronizedList(new ArrayList<>());
    final List<String> releases = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void attemptReleased(WorkOrderView released, String code, boolean poisoned) {
      releases.add(released.id() + ": " + code + (poisoned ? " POISONED" : ""));
    }

    @Override
    public void retryScheduled(RetryDecision decision) {
      scheduled.add(decision);
    }

    @Override
    public void retryReleased(WorkOrderView waiting) {
      released.add(waiting);
    }

    @Override
    public void retriesExhausted(RetryDecision decision) {
      exhausted.add(decision);
    }

    @Override
    public void failedWithoutRetry(RetryDecision decision) {
      notRetried.add(decision);
    }

    @Override
    public void retryCancelled(WorkOrderView waiting, String reason) {
      cancelled.add(waiting.id() + ": " + reason);
    }

    List<Object> all() {
      List<Object> all = new ArrayList<>();
      all.addAll(scheduled);
      all.addAll(released);
      all.addAll(exhausted);
      all.addAll(notRetried);
      all.addAll(cancelled);
      return all;
    }
  }
}
