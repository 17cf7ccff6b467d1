package dev.workgate.core.store;

import dev.workgate.core.WorkOrderId;
import java.util.List;
import java.util.Objects;

/**
 * What {@link WorkOrderStore#rebuildProjection} found. Immutable.
 *
 * @param workOrders how many work orders the log holds (each was folded and compared)
 * @param events how many events were replayed
 * @param mismatches the rows that differed from the log, by work order
 * @param repaired true if the differing rows were rewritten ({@link RebuildMode#REPAIR})
 */
public record RebuildReport(
    long workOrders, long events, List<ProjectionMismatch> mismatches, boolean repaired) {
  /** Copies the list. */
  public RebuildReport {
    mismatches = List.copyOf(mismatches);
  }

  /**
   * Whether the projection matched the log.
   *
   * @return true if no row differed
   */
  public boolean consistent() {
    return mismatches.isEmpty();
  }

  /** What {@link WorkOrderStore#rebuildProjection} does with rows that differ from the log. */
  public enum RebuildMode {
    /** Only report differences; change nothing. */
    VERIFY,
    /** Report differences and rewrite the differing rows from the log. */
    REPAIR
  }

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
}
