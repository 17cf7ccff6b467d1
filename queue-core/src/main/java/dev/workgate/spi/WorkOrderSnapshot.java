package dev.workgate.spi;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import java.time.Instant;

/**
 * Every field of a work order's view, as a store keeps it in its projection: what {@link
 * WorkOrder#snapshot()} gives and {@link WorkOrder#restore(WorkOrderSnapshot)} takes. Stores that
 * keep the projection outside the heap write these fields to columns and read them back. Immutable.
 *
 * @param id the work order
 * @param spec what was submitted
 * @param resubmittedFrom the work order this one was resubmitted from, or null
 * @param state the current state
 * @param attempt the number of claims so far
 * @param version the version of the last event
 * @param submittedAt when Submitted was recorded
 * @param updatedAt when the last event was recorded
 * @param availableAt when the work order may next be claimed
 * @param leaseOwner who holds the lease, or null
 * @param leaseExpiresAt when the lease runs out, or null
 * @param lastError the last failure, or null
 * @param nextAttemptAt when a waiting retry is due, or null
 * @param result the result of a completed work order, or null
 * @param cancellationReason the reason of a pending cancellation request, or null
 * @param releases how many attempts were released without counting
 * @param batch the batch it belongs to, or null
 * @param dependencies the work orders it waits for (from its Submitted event), never null
 * @param checkpoint the latest checkpoint, or null
 * @param progress the current or last attempt's progress, or null
 */
public record WorkOrderSnapshot(
    WorkOrderId id,
    WorkOrderSpec spec,
    WorkOrderId resubmittedFrom,
    WorkOrderState state,
    int attempt,
    long version,
    Instant submittedAt,
    Instant updatedAt,
    Instant availableAt,
    String leaseOwner,
    Instant leaseExpiresAt,
    ErrorInfo lastError,
    Instant nextAttemptAt,
    JsonNode result,
    String cancellationReason,
    int releases,
    dev.workgate.core.BatchId batch,
    java.util.List<WorkOrderId> dependencies,
    JsonNode checkpoint,
    dev.workgate.core.Progress progress) {

  /** Checks the fields that must not be null; copies the dependencies. */
  public WorkOrderSnapshot {
    dependencies = dependencies == null ? java.util.List.of() : java.util.List.copyOf(dependencies);
  }

  /**
   * This snapshot with another lease expiry (a renewal).
   *
   * @param leaseExpiresAt the new value
   * @return a copy with only that field changed
   */
  public WorkOrderSnapshot withLeaseExpiresAt(Instant leaseExpiresAt) {
    return new WorkOrderSnapshot(
        id,
        spec,
        resubmittedFrom,
        state,
        attempt,
        version,
        submittedAt,
        updatedAt,
        availableAt,
        leaseOwner,
        leaseExpiresAt,
        lastError,
        nextAttemptAt,
        result,
        cancellationReason,
        releases,
        batch,
        dependencies,
        checkpoint,
        progress);
  }

  /**
   * This snapshot with another progress (a renewal, or a repair keeping the row's).
   *
   * @param progress the new value
   * @return a copy with only that field changed
   */
  public WorkOrderSnapshot withProgress(dev.workgate.core.Progress progress) {
    return new WorkOrderSnapshot(
        id,
        spec,
        resubmittedFrom,
        state,
        attempt,
        version,
        submittedAt,
        updatedAt,
        availableAt,
        leaseOwner,
        leaseExpiresAt,
        lastError,
        nextAttemptAt,
        result,
        cancellationReason,
        releases,
        batch,
        dependencies,
        checkpoint,
        progress);
  }
}
