package dev.workgate.admin;

import dev.workgate.core.ErrorInfo;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.ExpectedVersion;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Work orders in each state, written as events, so tests know exactly what the store holds. */
final class Fixtures {
  private Fixtures() {}

  static WorkOrderId pending(WorkOrderStore store, String queue, String type) {
    return write(store, queue, type, List.of());
  }

  static WorkOrderId running(WorkOrderStore store, String queue, Instant leaseUntil) {
    return write(
        store,
        queue,
        "agent-run",
        List.of(
            new WorkOrderEvent.Claimed("node-a", leaseUntil), new WorkOrderEvent.Started("sbx-1")));
  }

  static WorkOrderId completed(WorkOrderStore store, String queue, Instant leaseUntil) {
    return write(
        store,
        queue,
        "agent-run",
        List.of(
            new WorkOrderEvent.Claimed("node-a", leaseUntil),
            new WorkOrderEvent.Started("sbx-2"),
            new WorkOrderEvent.Completed(result("fixed"))));
  }

  /** Completed on its second attempt, after the first failed and was retried. */
  static WorkOrderId completedAfterRetry(WorkOrderStore store, String queue, Instant leaseUntil) {
    return write(
        store,
        queue,
        "agent-run",
        List.of(
            new WorkOrderEvent.Claimed("node-a", leaseUntil),
            new WorkOrderEvent.Started("sbx-4"),
            WorkOrderEvent.AttemptFailed.retryAt(
                new ErrorInfo("NETWORK_ERROR", "connection reset", true),
                leaseUntil,
                "retry: attempt 2 of 4 in 20.000 s after NETWORK_ERROR"),
            new WorkOrderEvent.RetryReleased(),
            new WorkOrderEvent.Claimed("node-b", leaseUntil),
            new WorkOrderEvent.Started("sbx-5"),
            new WorkOrderEvent.Completed(result("fixed on retry"))));
  }

  static WorkOrderId failed(WorkOrderStore store, String queue, Instant leaseUntil) {
    return write(
        store,
        queue,
        "agent-run",
        List.of(
            new WorkOrderEvent.Claimed("node-a", leaseUntil),
            new WorkOrderEvent.Started("sbx-3"),
            WorkOrderEvent.AttemptFailed.finalFailure(
                new ErrorInfo("TIMEOUT", "ran past 1h", false), "not retryable")));
  }

  static WorkOrderId cancelled(WorkOrderStore store, String queue) {
    return write(store, queue, "agent-run", List.of(new WorkOrderEvent.Cancelled("not needed")));
  }

  private static com.fasterxml.jackson.databind.JsonNode result(String text) {
    return StatusCommand.JSON.valueToTree(Map.of("summary", text));
  }

  private static WorkOrderId write(
      WorkOrderStore store, String queue, String type, List<WorkOrderEvent> then) {
    WorkOrderId id = WorkOrderId.random();
    List<WorkOrderEvent> events = new ArrayList<>();
    events.add(
        WorkOrderEvent.Submitted.of(
            WorkOrderSpec.builder(type).queue(queue).payload(Map.of("repo", "acme/api")).build()));
    events.addAll(then);
    store.append(id, ExpectedVersion.none(), events);
    return id;
  }
}
