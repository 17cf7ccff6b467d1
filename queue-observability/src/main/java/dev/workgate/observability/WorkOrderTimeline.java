package dev.workgate.observability;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.spi.WorkOrder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One work order's history as a person reads it: each event with the state it led to, the time
 * since the previous event and since submission, and how long the work order spent in each state in
 * all. Built from the work order's event stream alone; immutable and thread-safe.
 *
 * @param workOrderId the work order
 * @param steps its events in order (oldest first)
 * @param state its state after the last event
 * @param total time from submission to the last event
 */
public record WorkOrderTimeline(
    WorkOrderId workOrderId, List<Step> steps, WorkOrderState state, Duration total) {

  /** Copies the steps, so the timeline never changes. */
  public WorkOrderTimeline {
    Objects.requireNonNull(workOrderId, "workOrderId");
    steps = List.copyOf(steps);
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(total, "total");
  }

  /**
   * One event of the timeline.
   *
   * @param event the stored event
   * @param from the state before it; empty for the submission
   * @param to the state after it
   * @param attempt the attempt after it (0 until the first claim)
   * @param sincePrevious time since the previous event (zero for the first); never negative, though
   *     events written by nodes whose clocks disagree can be recorded out of time order
   * @param sinceSubmitted time since the submission, never negative
   */
  public record Step(
      RecordedEvent event,
      Optional<WorkOrderState> from,
      WorkOrderState to,
      int attempt,
      Duration sincePrevious,
      Duration sinceSubmitted) {

    /** Checks that nothing is missing. */
    public Step {
      Objects.requireNonNull(event, "event");
      Objects.requireNonNull(from, "from");
      Objects.requireNonNull(to, "to");
      Objects.requireNonNull(sincePrevious, "sincePrevious");
      Objects.requireNonNull(sinceSubmitted, "sinceSubmitted");
    }

    /**
     * The event's type.
     *
     * @return the type
     */
    public EventType type() {
      return event.event().type();
    }

    /**
     * When the event was recorded.
     *
     * @return the time
     */
    public Instant at() {
      return event.recordedAt();
    }
  }

  /**
   * Builds the timeline of one work order from its stream.
   *
   * @param stream the work order's events in version order, as {@code readStream} returns them
   * @return the timeline, or empty for an empty stream
   * @throws IllegalArgumentException if the events belong to several work orders, do not start with
   *     {@code Submitted} or skip a version
   * @throws dev.workgate.core.InvalidTransitionException if the stream breaks the state machine
   */
  public static Optional<WorkOrderTimeline> of(List<RecordedEvent> stream) {
    Objects.requireNonNull(stream, "stream");
    if (stream.isEmpty()) {
      return Optional.empty();
    }
    RecordedEvent first = stream.get(0);
    if (!(first.event() instanceof WorkOrderEvent.Submitted)) {
      throw new IllegalArgumentException(
          "the stream of " + first.workOrderId() + " starts with " + first.event().type());
    }
    WorkOrderId id = first.workOrderId();
    Instant submitted = first.recordedAt();
    List<Step> steps = new ArrayList<>(stream.size());
    WorkOrder folded = null;
    Instant previous = submitted;
    for (RecordedEvent e : stream) {
      if (!e.workOrderId().equals(id)) {
        throw new IllegalArgumentException(
            "the stream of " + id + " holds an event of " + e.workOrderId());
      }
      long expected = folded == null ? 1 : folded.version() + 1;
      if (e.version() != expected) {
        throw new IllegalArgumentException(
            "the stream of " + id + " jumps from version " + (expected - 1) + " to " + e.version());
      }
      // The aggregate's own fold gives the state and attempt, as the projection has them.
      Optional<WorkOrderState> from = Optional.ofNullable(folded).map(WorkOrder::state);
      folded = folded == null ? WorkOrder.start(e) : folded.apply(e);
      steps.add(
          new Step(
              e,
              from,
              folded.state(),
              folded.attempt(),
              nonNegative(Duration.between(previous, e.recordedAt())),
              nonNegative(Duration.between(submitted, e.recordedAt()))));
      previous = e.recordedAt();
    }
    WorkOrderState state = folded.state();
    return Optional.of(
        new WorkOrderTimeline(id, steps, state, steps.get(steps.size() - 1).sinceSubmitted()));
  }

  /**
   * How long the work order spent in a state, over all its visits to it: the time from each event
   * that entered the state to the next event that left it. Time in the current state up to now is
   * not counted, since a timeline has no clock.
   *
   * @param state the state
   * @return the total, zero if it never left that state
   */
  public Duration timeIn(WorkOrderState state) {
    Duration sum = Duration.ZERO;
    for (int i = 1; i < steps.size(); i++) {
      Step previous = steps.get(i - 1);
      if (previous.to() == state) {
        sum = sum.plus(steps.get(i).sincePrevious());
      }
    }
    return sum;
  }

  private static Duration nonNegative(Duration d) {
    return d.isNegative() ? Duration.ZERO : d;
  }
}
