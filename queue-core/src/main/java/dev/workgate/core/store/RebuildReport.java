package dev.workgate.core.store;

import java.util.List;

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
}
