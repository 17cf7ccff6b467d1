package dev.workgate.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.spi.WorkOrder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WorkOrderTest {
  private static final WorkOrderId ID = WorkOrderId.of("wo-1");
  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00.000000007Z");
  private static final ErrorInfo TIMEOUT = ErrorInfo.retryable(ErrorCodes.TIMEOUT, "too slow");

  /** Builds a stream of one work order: each event one second after the one before. */
  private static final class Stream {
    final List<RecordedEvent> events = new ArrayList<>();

    Stream add(WorkOrderEvent event) {
      int version = events.size() + 1;
      events.add(new RecordedEvent(10L * version, ID, version, at(version), event));
      return this;
    }

    WorkOrder fold() {
      return WorkOrder.fold(events);
    }
  }

  /** When the event of a version is recorded. */
  private static Instant at(int version) {
    return T0.plusSeconds(version - 1);
  }

  private static WorkOrderSpec spec() {
    return WorkOrderSpec.builder("build").queue("ci").priority(3).build();
  }

  private static Stream submitted() {
    return new Stream().add(WorkOrderEvent.Submitted.of(spec()));
  }

  private static Stream claimed() {
    return submitted().add(new WorkOrderEvent.Claimed("node-1", at(2).plusSeconds(30)));
  }

  private static Stream running() {
    return claimed().add(new WorkOrderEvent.Started("sb-1"));
  }

  @Test
  void a_submitted_work_order_is_pending_at_version_1_with_attempt_0_and_no_lease() {
    WorkOrder w = submitted().fold();

    assertThat(w.id()).isEqualTo(ID);
    assertThat(w.state()).isEqualTo(WorkOrderState.PENDING);
    assertThat(w.version()).isEqualTo(1);
    assertThat(w.attempt()).isZero();
    assertThat(w.spec()).isEqualTo(spec());
    assertThat(w.queue()).isEqualTo("ci");
    assertThat(w.type()).isEqualTo("build");
    assertThat(w.priority()).isEqualTo(3);
    assertThat(w.resources()).isEqualTo(ResourceRequest.DEFAULT);
    assertThat(w.submittedAt()).isEqualTo(T0);
    assertThat(w.updatedAt()).isEqualTo(T0);
    assertThat(w.availableAt()).isEqualTo(T0);
    assertThat(w.leaseOwner()).isEmpty();
    assertThat(w.leaseExpiresAt()).isEmpty();
    assertThat(w.lastError()).isEmpty();
    assertThat(w.nextAttemptAt()).isEmpty();
    assertThat(w.result()).isEmpty();
    assertThat(w.cancellationRequested()).isEmpty();
    assertThat(w.resubmittedFrom()).isEmpty();
  }

  @Test
  void a_resubmission_records_where_it_came_from() {
    WorkOrderId old = WorkOrderId.of("wo-0");
    WorkOrder w = new Stream().add(new WorkOrderEvent.Submitted(spec(), old)).fold();
    assertThat(w.resubmittedFrom()).contains(old);
  }

  @Test
  void availableAt_is_notBefore_when_it_lies_after_the_submission() {
    Instant later = T0.plus(Duration.ofHours(1));
    WorkOrder w =
        new Stream()
            .add(WorkOrderEvent.Submitted.of(spec().toBuilder().notBefore(later).build()))
            .fold();
    assertThat(w.availableAt()).isEqualTo(later);
  }

  @Test
  void availableAt_is_the_submission_time_when_notBefore_has_passed_or_equals_it() {
    for (Instant notBefore : List.of(T0.minusSeconds(5), T0)) {
      WorkOrder w =
          new Stream()
              .add(WorkOrderEvent.Submitted.of(spec().toBuilder().notBefore(notBefore).build()))
              .fold();
      assertThat(w.availableAt()).isEqualTo(T0);
    }
  }

  @Test
  void a_claim_takes_the_lease_and_starts_the_next_attempt() {
    WorkOrder w = claimed().fold();

    assertThat(w.state()).isEqualTo(WorkOrderState.PREPARING);
    assertThat(w.version()).isEqualTo(2);
    assertThat(w.attempt()).isEqualTo(1);
    assertThat(w.leaseOwner()).contains("node-1");
    assertThat(w.leaseExpiresAt()).contains(at(2).plusSeconds(30));
    assertThat(w.updatedAt()).isEqualTo(at(2));
    assertThat(w.submittedAt()).isEqualTo(T0);
    assertThat(w.availableAt()).isEqualTo(T0);
  }

  @Test
  void started_changes_only_the_state_version_and_update_time() {
    WorkOrder before = claimed().fold();
    WorkOrder w = running().fold();

    assertThat(w.state()).isEqualTo(WorkOrderState.RUNNING);
    assertThat(w.version()).isEqualTo(3);
    assertThat(w.updatedAt()).isEqualTo(at(3));
    assertThat(w.attempt()).isEqualTo(before.attempt());
    assertThat(w.leaseOwner()).isEqualTo(before.leaseOwner());
    assertThat(w.leaseExpiresAt()).isEqualTo(before.leaseExpiresAt());
  }

  @Test
  void completed_keeps_the_result_and_releases_the_lease() {
    ObjectNode result = JsonNodeFactory.instance.objectNode().put("ok", true);
    WorkOrder w = running().add(new WorkOrderEvent.Completed(result)).fold();

    assertThat(w.state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(w.result()).contains(result);
    assertThat(w.leaseOwner()).isEmpty();
    assertThat(w.leaseExpiresAt()).isEmpty();
    assertThat(w.lastError()).isEmpty();
  }

  @Test
  void completed_without_a_result_has_none() {
    WorkOrder w = running().add(new WorkOrderEvent.Completed(null)).fold();
    assertThat(w.state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(w.result()).isEmpty();
  }

  @Test
  void the_result_returned_is_a_copy() {
    ObjectNode result = JsonNodeFactory.instance.objectNode().put("n", 1);
    WorkOrder w = running().add(new WorkOrderEvent.Completed(result)).fold();

    result.put("n", 2);
    ((ObjectNode) w.result().orElseThrow()).put("n", 3);

    assertThat(w.result()).contains(JsonNodeFactory.instance.objectNode().put("n", 1));
  }

  @Test
  void a_failure_with_a_retry_time_waits_for_it_and_keeps_the_error() {
    Instant retryAt = T0.plusSeconds(600);
    WorkOrder w =
        running().add(WorkOrderEvent.AttemptFailed.retryAt(TIMEOUT, retryAt, "1 of 3")).fold();

    assertThat(w.state()).isEqualTo(WorkOrderState.WAITING_RETRY);
    assertThat(w.nextAttemptAt()).contains(retryAt);
    assertThat(w.lastError()).contains(TIMEOUT);
    assertThat(w.leaseOwner()).isEmpty();
    assertThat(w.leaseExpiresAt()).isEmpty();
    assertThat(w.attempt()).isEqualTo(1);
  }

  @Test
  void a_failure_in_preparing_without_a_retry_time_is_final() {
    ErrorInfo error = ErrorInfo.fatal(ErrorCodes.SANDBOX_CREATION_FAILED, "no image");
    WorkOrder w = claimed().add(WorkOrderEvent.AttemptFailed.finalFailure(error, "fatal")).fold();

    assertThat(w.state()).isEqualTo(WorkOrderState.FAILED);
    assertThat(w.lastError()).contains(error);
    assertThat(w.nextAttemptAt()).isEmpty();
    assertThat(w.leaseOwner()).isEmpty();
  }

  @Test
  void a_released_retry_is_pending_again_available_from_the_release_time() {
    Instant retryAt = T0.plusSeconds(3);
    WorkOrder w =
        running()
            .add(WorkOrderEvent.AttemptFailed.retryAt(TIMEOUT, retryAt, "retry"))
            .add(new WorkOrderEvent.RetryReleased())
            .fold();

    assertThat(w.state()).isEqualTo(WorkOrderState.PENDING);
    assertThat(w.availableAt()).isEqualTo(at(5));
    assertThat(w.nextAttemptAt()).isEmpty();
    assertThat(w.lastError()).as("the error of the failed attempt stays").contains(TIMEOUT);
    assertThat(w.attempt()).isEqualTo(1);
  }

  @Test
  void the_next_claim_starts_attempt_two_with_the_new_owner() {
    WorkOrder w =
        running()
            .add(WorkOrderEvent.AttemptFailed.retryAt(TIMEOUT, T0, "retry"))
            .add(new WorkOrderEvent.RetryReleased())
            .add(new WorkOrderEvent.Claimed("node-2", at(6).plusSeconds(60)))
            .fold();

    assertThat(w.state()).isEqualTo(WorkOrderState.PREPARING);
    assertThat(w.attempt()).isEqualTo(2);
    assertThat(w.version()).isEqualTo(6);
    assertThat(w.leaseOwner()).contains("node-2");
    assertThat(w.leaseExpiresAt()).contains(at(6).plusSeconds(60));
  }

  @Test
  void cancellation_requested_keeps_the_state_and_lease_and_records_the_reason() {
    WorkOrder w = running().add(new WorkOrderEvent.CancellationRequested("user asked")).fold();

    assertThat(w.state()).isEqualTo(WorkOrderState.RUNNING);
    assertThat(w.version()).isEqualTo(4);
    assertThat(w.cancellationRequested()).contains("user asked");
    assertThat(w.leaseOwner()).contains("node-1");
  }

  @Test
  void cancelled_is_terminal_with_a_cancelled_error_and_no_lease() {
    WorkOrder w =
        running()
            .add(new WorkOrderEvent.CancellationRequested("user asked"))
            .add(new WorkOrderEvent.Cancelled("killed"))
            .fold();

    assertThat(w.state()).isEqualTo(WorkOrderState.CANCELLED);
    assertThat(w.lastError()).contains(ErrorInfo.fatal(ErrorCodes.CANCELLED, "killed"));
    assertThat(w.leaseOwner()).isEmpty();
    assertThat(w.leaseExpiresAt()).isEmpty();
    assertThat(w.cancellationRequested()).contains("user asked");
  }

  @Test
  void a_pending_work_order_can_be_cancelled_directly() {
    WorkOrder w = submitted().add(new WorkOrderEvent.Cancelled("")).fold();
    assertThat(w.state()).isEqualTo(WorkOrderState.CANCELLED);
    assertThat(w.lastError()).contains(ErrorInfo.fatal(ErrorCodes.CANCELLED, ""));
  }

  @Test
  void a_new_claim_clears_a_cancellation_request_of_an_earlier_attempt() {
    WorkOrder w =
        running()
            .add(new WorkOrderEvent.CancellationRequested("stop"))
            .add(WorkOrderEvent.AttemptFailed.retryAt(TIMEOUT, T0, "retry"))
            .add(new WorkOrderEvent.RetryReleased())
            .add(new WorkOrderEvent.Claimed("node-2", T0.plusSeconds(99)))
            .fold();
    assertThat(w.cancellationRequested()).isEmpty();
  }

  @Test
  void folding_an_empty_stream_is_rejected() {
    assertThatThrownBy(() -> WorkOrder.fold(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("empty");
  }

  @Test
  void a_stream_that_does_not_start_with_submitted_is_rejected() {
    List<RecordedEvent> events =
        List.of(new RecordedEvent(1, ID, 1, T0, new WorkOrderEvent.Started("sb")));
    assertThatThrownBy(() -> WorkOrder.fold(events))
        .isInstanceOfSatisfying(
            InvalidTransitionException.class,
            e -> {
              assertThat(e.state()).isNull();
              assertThat(e.event()).isEqualTo("Started");
              assertThat(e.validEvents()).containsExactly("Submitted");
            });
  }

  @Test
  void a_first_event_with_a_version_other_than_1_is_rejected() {
    List<RecordedEvent> events =
        List.of(new RecordedEvent(1, ID, 2, T0, WorkOrderEvent.Submitted.of(spec())));
    assertThatThrownBy(() -> WorkOrder.fold(events))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("wo-1")
        .hasMessageContaining("version 1")
        .hasMessageContaining("got 2");
  }

  @Test
  void a_version_gap_is_rejected_naming_the_expected_and_actual_version() {
    WorkOrder w = submitted().fold();
    RecordedEvent gap = new RecordedEvent(5, ID, 3, T0, new WorkOrderEvent.Claimed("n", T0));
    assertThatThrownBy(() -> w.apply(gap))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("wo-1")
        .hasMessageContaining("version 2")
        .hasMessageContaining("got 3");
  }

  @Test
  void a_repeated_version_is_rejected() {
    WorkOrder w = claimed().fold();
    RecordedEvent repeat = new RecordedEvent(30, ID, 2, T0, new WorkOrderEvent.Started("sb"));
    assertThatThrownBy(() -> w.apply(repeat)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void an_event_of_another_work_order_is_rejected_naming_both() {
    WorkOrder w = submitted().fold();
    RecordedEvent other =
        new RecordedEvent(20, WorkOrderId.of("wo-2"), 2, T0, new WorkOrderEvent.Claimed("n", T0));
    assertThatThrownBy(() -> w.apply(other))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("wo-2")
        .hasMessageContaining("wo-1");
  }

  @Test
  void a_stream_with_an_event_of_another_work_order_is_rejected() {
    Stream s = submitted();
    s.events.add(
        new RecordedEvent(20, WorkOrderId.of("wo-2"), 2, T0, new WorkOrderEvent.Claimed("n", T0)));
    assertThatThrownBy(s::fold).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void an_event_the_table_rejects_throws_naming_work_order_state_event_and_valid_events() {
    WorkOrder w = submitted().fold();
    assertThatThrownBy(() -> w.apply(new WorkOrderEvent.Started("sb"), 2, T0))
        .isInstanceOfSatisfying(
            InvalidTransitionException.class,
            e -> {
              assertThat(e.workOrderId()).isEqualTo(ID);
              assertThat(e.state()).isEqualTo(WorkOrderState.PENDING);
              assertThat(e.event()).isEqualTo("Started");
              assertThat(e.validEvents()).containsExactlyInAnyOrder("Claimed", "Cancelled");
              assertThat(e.getMessage())
                  .contains("wo-1", "PENDING", "Started", "Claimed", "Cancelled");
            });
  }

  @Test
  void apply_returns_a_new_aggregate_and_leaves_the_old_one_unchanged() {
    WorkOrder before = submitted().fold();
    WorkOrder after = before.apply(new WorkOrderEvent.Claimed("n", T0), 2, T0.plusSeconds(1));

    assertThat(before.state()).isEqualTo(WorkOrderState.PENDING);
    assertThat(before.version()).isEqualTo(1);
    assertThat(after.state()).isEqualTo(WorkOrderState.PREPARING);
    assertThat(after).isNotEqualTo(before);
  }

  @Test
  void withLeaseExpiresAt_extends_only_the_lease() {
    WorkOrder w = running().fold();
    Instant later = T0.plus(Duration.ofHours(2));

    WorkOrder renewed = w.withLeaseExpiresAt(later);

    assertThat(renewed.leaseExpiresAt()).contains(later);
    assertThat(renewed.leaseOwner()).isEqualTo(w.leaseOwner());
    assertThat(renewed.version()).isEqualTo(w.version());
    assertThat(renewed.updatedAt()).isEqualTo(w.updatedAt());
    assertThat(renewed.state()).isEqualTo(w.state());
    assertThat(renewed.attempt()).isEqualTo(w.attempt());
    assertThat(renewed).isNotEqualTo(w);
    assertThat(renewed.withLeaseExpiresAt(w.leaseExpiresAt().orElseThrow())).isEqualTo(w);
    assertThat(w.leaseExpiresAt()).contains(at(2).plusSeconds(30));
  }

  @Test
  void withLeaseExpiresAt_without_a_lease_is_rejected() {
    WorkOrder pending = submitted().fold();
    assertThatThrownBy(() -> pending.withLeaseExpiresAt(T0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("wo-1")
        .hasMessageContaining("PENDING")
        .hasMessageContaining("no lease");
  }

  @Test
  void a_renewed_lease_survives_a_cancellation_request_and_ends_with_the_attempt() {
    Instant later = T0.plus(Duration.ofHours(2));
    WorkOrder renewed = running().fold().withLeaseExpiresAt(later);

    WorkOrder requested = renewed.apply(new WorkOrderEvent.CancellationRequested("x"), 4, at(4));
    WorkOrder failed =
        requested.apply(WorkOrderEvent.AttemptFailed.finalFailure(TIMEOUT, "final"), 5, at(5));

    assertThat(requested.leaseExpiresAt()).contains(later);
    assertThat(failed.leaseExpiresAt()).isEmpty();
  }

  @Test
  void folds_of_the_same_stream_are_equal() {
    assertThat(running().fold()).isEqualTo(running().fold()).hasSameHashCodeAs(running().fold());
  }

  @Test
  void toString_names_id_state_attempt_version_and_lease() {
    assertThat(running().fold().toString())
        .contains("wo-1", "RUNNING", "attempt=1", "version=3", "node-1");
  }

  // ---------------------------------------------------------------------------------------------
  // dependencies, checkpoints, progress

  private static Stream blocked(WorkOrderSpec spec) {
    return new Stream()
        .add(
            new WorkOrderEvent.Submitted(
                spec, null, BatchId.of("b-1"), List.of(WorkOrderId.of("wo-dep"))));
  }

  @Test
  void a_submission_with_dependencies_is_blocked_keeping_them_and_its_batch() {
    WorkOrder w = blocked(spec()).fold();

    assertThat(w.state()).isEqualTo(WorkOrderState.BLOCKED);
    assertThat(w.dependencies()).containsExactly(WorkOrderId.of("wo-dep"));
    assertThat(w.batch()).contains(BatchId.of("b-1"));
    assertThat(w.leaseOwner()).isEmpty();
    assertThat(w.attempt()).isZero();
  }

  @Test
  void dependenciesMet_makes_it_pending_available_at_once_or_at_a_later_notBefore() {
    WorkOrder now = blocked(spec()).add(new WorkOrderEvent.DependenciesMet()).fold();
    WorkOrder later =
        blocked(spec().toBuilder().notBefore(at(10)).build())
            .add(new WorkOrderEvent.DependenciesMet())
            .fold();
    WorkOrder earlier =
        blocked(spec().toBuilder().notBefore(at(1)).build())
            .add(new WorkOrderEvent.DependenciesMet())
            .fold();

    assertThat(now.state()).isEqualTo(WorkOrderState.PENDING);
    assertThat(now.availableAt()).isEqualTo(at(2));
    assertThat(later.availableAt()).isEqualTo(at(10));
    assertThat(earlier.availableAt()).isEqualTo(at(2));
  }

  @Test
  void dependencyFailed_cancels_it_with_a_fatal_DEPENDENCY_FAILED_naming_the_dependency() {
    WorkOrder w =
        blocked(spec())
            .add(
                new WorkOrderEvent.DependencyFailed(
                    WorkOrderId.of("wo-dep"), WorkOrderState.FAILED))
            .fold();

    assertThat(w.state()).isEqualTo(WorkOrderState.CANCELLED);
    assertThat(w.lastError())
        .contains(ErrorInfo.fatal(ErrorCodes.DEPENDENCY_FAILED, "dependency wo-dep ended FAILED"));
  }

  @Test
  void restore_refuses_a_blocked_snapshot_without_dependencies() {
    WorkOrder w = blocked(spec()).fold();
    var s = w.snapshot();
    var bad =
        new dev.workgate.spi.WorkOrderSnapshot(
            s.id(),
            s.spec(),
            s.resubmittedFrom(),
            s.state(),
            s.attempt(),
            s.version(),
            s.submittedAt(),
            s.updatedAt(),
            s.availableAt(),
            s.leaseOwner(),
            s.leaseExpiresAt(),
            s.lastError(),
            s.nextAttemptAt(),
            s.result(),
            s.cancellationReason(),
            s.releases(),
            s.batch(),
            List.of(),
            s.checkpoint(),
            s.progress());

    assertThatThrownBy(() -> WorkOrder.restore(bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("BLOCKED");
  }

  @Test
  void a_checkpoint_is_kept_by_every_later_event_and_replaced_by_a_newer_one() {
    ObjectNode first = JsonNodeFactory.instance.objectNode().put("step", 1);
    ObjectNode second = JsonNodeFactory.instance.objectNode().put("step", 2);
    Stream s =
        running()
            .add(new WorkOrderEvent.Checkpointed(1, first))
            .add(new WorkOrderEvent.Released(ErrorCodes.NODE_SHUTDOWN, "gone"));
    first.put("step", 99);

    assertThat(s.fold().checkpoint())
        .contains(JsonNodeFactory.instance.objectNode().put("step", 1));
    s.add(new WorkOrderEvent.Claimed("node-2", at(5).plusSeconds(30)));
    assertThat(s.fold().checkpoint().orElseThrow().get("step").asInt()).isEqualTo(1);
    s.add(new WorkOrderEvent.Started("sb-2")).add(new WorkOrderEvent.Checkpointed(2, second));
    assertThat(s.fold().checkpoint()).contains(second);
    s.fold().checkpoint().map(c -> ((ObjectNode) c).put("step", 7));
    assertThat(s.fold().checkpoint()).contains(second);
  }

  @Test
  void withProgress_is_kept_by_events_of_the_attempt_and_cleared_by_the_next_claim() {
    Progress half = new Progress(0.5, "half", at(3));
    WorkOrder w = running().fold().withProgress(half);

    assertThat(w.progress()).contains(half);
    assertThat(w.version()).isEqualTo(3);
    WorkOrder released =
        w.apply(new WorkOrderEvent.Released(ErrorCodes.NODE_SHUTDOWN, "gone"), 4, at(4));
    assertThat(released.progress()).contains(half);
    assertThat(released.apply(new WorkOrderEvent.Claimed("node-2", at(9)), 5, at(5)).progress())
        .isEmpty();
    // A repair of the projection keeps the row's progress whatever the state.
    assertThat(released.withProgress(half).progress()).contains(half);
    assertThatThrownBy(() -> new Progress(1.5, "", at(1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Progress(Double.NaN, "", at(1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(new Progress(1, "x".repeat(500), at(1)).message())
        .hasSizeLessThanOrEqualTo(Progress.MAX_MESSAGE_LENGTH);
  }
}
