package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WorkOrderTimelineTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private final WorkOrderId id = WorkOrderId.random();
  private final List<RecordedEvent> stream = new ArrayList<>();

  private void add(long seconds, WorkOrderEvent event) {
    stream.add(
        new RecordedEvent(
            stream.size() + 10, id, stream.size() + 1, T0.plusSeconds(seconds), event));
  }

  @Test
  void durations_between_events_and_time_in_each_state() {
    add(0, new WorkOrderEvent.Submitted(WorkOrderSpec.builder("job").build(), null));
    add(4, new WorkOrderEvent.Claimed("node", T0.plusSeconds(60)));
    add(5, new WorkOrderEvent.Started("sb"));
    add(
        15,
        new WorkOrderEvent.AttemptFailed(
            ErrorInfo.retryable(ErrorCodes.TIMEOUT, "slow"), T0.plusSeconds(45), "retry"));
    add(45, new WorkOrderEvent.RetryReleased());
    add(47, new WorkOrderEvent.Claimed("node", T0.plusSeconds(120)));
    add(48, new WorkOrderEvent.Started("sb2"));
    add(50, new WorkOrderEvent.CancellationRequested("operator"));
    add(51, new WorkOrderEvent.Cancelled("operator"));

    WorkOrderTimeline t = WorkOrderTimeline.of(stream).orElseThrow();

    assertThat(t.state()).isEqualTo(WorkOrderState.CANCELLED);
    assertThat(t.total()).isEqualTo(Duration.ofSeconds(51));
    assertThat(t.steps())
        .extracting(WorkOrderTimeline.Step::attempt)
        .containsExactly(0, 1, 1, 1, 1, 2, 2, 2, 2);
    assertThat(t.steps().get(3).sincePrevious()).isEqualTo(Duration.ofSeconds(10));
    assertThat(t.steps().get(7).from()).contains(WorkOrderState.RUNNING);
    assertThat(t.steps().get(7).to()).isEqualTo(WorkOrderState.RUNNING);
    assertThat(t.timeIn(WorkOrderState.PENDING)).isEqualTo(Duration.ofSeconds(4 + 2));
    assertThat(t.timeIn(WorkOrderState.PREPARING)).isEqualTo(Duration.ofSeconds(1 + 1));
    assertThat(t.timeIn(WorkOrderState.RUNNING)).isEqualTo(Duration.ofSeconds(10 + 3));
    assertThat(t.timeIn(WorkOrderState.WAITING_RETRY)).isEqualTo(Duration.ofSeconds(30));
    assertThat(t.timeIn(WorkOrderState.CANCELLED)).isZero();
  }

  @Test
  void clocks_that_disagree_give_zero_not_negative_durations() {
    add(10, new WorkOrderEvent.Submitted(WorkOrderSpec.builder("job").build(), null));
    add(8, new WorkOrderEvent.Claimed("node", T0.plusSeconds(60)));

    WorkOrderTimeline t = WorkOrderTimeline.of(stream).orElseThrow();

    assertThat(t.steps().get(1).sincePrevious()).isZero();
    assertThat(t.total()).isZero();
  }

  @Test
  void an_empty_stream_has_no_timeline_and_a_broken_one_is_refused() {
    assertThat(WorkOrderTimeline.of(List.of())).isEmpty();

    add(0, new WorkOrderEvent.Claimed("node", T0));
    assertThatThrownBy(() -> WorkOrderTimeline.of(stream))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("starts with CLAIMED");

    stream.clear();
    add(0, new WorkOrderEvent.Submitted(WorkOrderSpec.builder("job").build(), null));
    stream.add(new RecordedEvent(99, id, 3, T0, new WorkOrderEvent.RetryReleased()));
    assertThatThrownBy(() -> WorkOrderTimeline.of(stream))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("jumps from version 1 to 3");
  }
}
