package dev.workgate.spi;

import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import java.util.List;
import java.util.Objects;

/**
 * Events to append to one work order's stream under an expected version. Immutable.
 *
 * @param workOrderId the work order
 * @param expected what the stream must be at before the append
 * @param events one or more events, applied in order
 */
public record AppendRequest(
    WorkOrderId workOrderId, ExpectedVersion expected, List<WorkOrderEvent> events) {

  /**
   * Validates the request and copies the event list.
   *
   * @throws IllegalArgumentException if there are no events
   */
  public AppendRequest {
    Objects.requireNonNull(workOrderId, "workOrderId");
    Objects.requireNonNull(expected, "expected");
    events = List.copyOf(events);
    if (events.isEmpty()) {
      throw new IllegalArgumentException("an append needs at least one event for " + workOrderId);
    }
  }

  /**
   * A request for one or more events.
   *
   * @param workOrderId the work order
   * @param expected the expected version
   * @param events the events
   * @return the request
   */
  public static AppendRequest of(
      WorkOrderId workOrderId, ExpectedVersion expected, WorkOrderEvent... events) {
    return new AppendRequest(workOrderId, expected, List.of(events));
  }
}
