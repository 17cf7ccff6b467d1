package dev.workgate.core.store;

import dev.workgate.core.WorkOrderId;
import java.util.Objects;

/**
 * One projection row that differs from the fold of its work order's events. Immutable.
 *
 * @param workOrderId the work order
 * @param difference what differs, e.g. {@code "state: row RUNNING, log PREPARING"} or {@code "row
 *     missing"}
 */
public record ProjectionMismatch(WorkOrderId workOrderId, String difference) {
  /** Validates the record. */
  public ProjectionMismatch {
    Objects.requireNonNull(workOrderId, "workOrderId");
    Objects.requireNonNull(difference, "difference");
  }
}
