package dev.workgate.core.testing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.core.BatchId;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Every observable field of a {@link WorkOrderView} as a record, so that views of different classes
 * (each backend has its own) compare by value in assertions.
 *
 * <p>Progress is left out: renewals write it without an event, so it is not the fold of the log
 * that the tests compare views with; tests about progress compare it apart.
 *
 * <p>queue-test keeps a package-private copy for its store conformance suite, since queue-core's
 * tests cannot depend on that module.
 */
public record ViewSnapshot(
    WorkOrderId id,
    String queue,
    String type,
    WorkOrderState state,
    int attempt,
    int priority,
    long version,
    Instant submittedAt,
    Instant updatedAt,
    Instant availableAt,
    Optional<Instant> nextAttemptAt,
    Optional<ErrorInfo> lastError,
    Optional<JsonNode> result,
    WorkOrderSpec spec,
    ResourceRequest resources,
    Optional<String> leaseOwner,
    Optional<Instant> leaseExpiresAt,
    Optional<String> cancellationRequested,
    Optional<WorkOrderId> resubmittedFrom,
    int releases,
    Optional<BatchId> batch,
    List<WorkOrderId> dependencies,
    Optional<JsonNode> checkpoint) {

  /**
   * Snapshots a view.
   *
   * @param v the view
   * @return its fields
   */
  public static ViewSnapshot of(WorkOrderView v) {
    return new ViewSnapshot(
        v.id(),
        v.queue(),
        v.type(),
        v.state(),
        v.attempt(),
        v.priority(),
        v.version(),
        v.submittedAt(),
        v.updatedAt(),
        v.availableAt(),
        v.nextAttemptAt(),
        v.lastError(),
        v.result(),
        v.spec(),
        v.resources(),
        v.leaseOwner(),
        v.leaseExpiresAt(),
        v.cancellationRequested(),
        v.resubmittedFrom(),
        v.releases(),
        v.batch(),
        v.dependencies(),
        v.checkpoint());
  }
}
