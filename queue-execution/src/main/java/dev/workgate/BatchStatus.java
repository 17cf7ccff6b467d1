package dev.workgate;

import dev.workgate.core.BatchId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.StoreView;
import dev.workgate.core.store.WorkOrderQuery;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;

/**
 * Where a batch stands: how many of its work orders are in each state. A work order resubmitted
 * from a member joins the batch in its place, so the counts are over the batch as it stands (the
 * members no work order was resubmitted from); {@link #resubmitted()} counts the ones replaced.
 * Immutable and thread-safe.
 *
 * @param id the batch
 * @param workOrders its work orders as it stands
 * @param resubmitted its work orders that were resubmitted (replaced by another in the batch)
 * @param counts the work orders as it stands by state, every state present
 */
public record BatchStatus(
    BatchId id, long workOrders, long resubmitted, Map<WorkOrderState, Long> counts) {

  /** Checks the fields and copies the counts, adding the states they lack at 0. */
  public BatchStatus {
    Objects.requireNonNull(id, "id");
    EnumMap<WorkOrderState, Long> all = new EnumMap<>(WorkOrderState.class);
    for (WorkOrderState s : WorkOrderState.values()) {
      all.put(s, counts.getOrDefault(s, 0L));
    }
    counts = Collections.unmodifiableMap(all);
  }

  /**
   * Reads a batch's status from a store.
   *
   * @param store the store
   * @param id the batch
   * @return the status; {@link #workOrders()} is 0 for a batch the store does not hold
   */
  public static BatchStatus read(StoreView store, BatchId id) {
    SortedMap<String, Long> current =
        store.count(
            WorkOrderQuery.builder().batch(id).notResubmitted().build(),
            WorkOrderQuery.CountBy.STATE);
    SortedMap<String, Long> all =
        store.count(WorkOrderQuery.builder().batch(id).build(), WorkOrderQuery.CountBy.STATE);
    Map<WorkOrderState, Long> byState = new EnumMap<>(WorkOrderState.class);
    long members = 0;
    for (Map.Entry<String, Long> e : current.entrySet()) {
      byState.put(WorkOrderState.valueOf(e.getKey()), e.getValue());
      members += e.getValue();
    }
    long total = all.values().stream().mapToLong(Long::longValue).sum();
    return new BatchStatus(id, members, total - members, byState);
  }

  /**
   * How many work orders the batch has held in all, the resubmitted ones included.
   *
   * @return {@link #workOrders()} plus {@link #resubmitted()}
   */
  public long submitted() {
    return workOrders + resubmitted;
  }

  /**
   * Whether the batch has ended: it has work orders, and every one has ended (completed, failed or
   * cancelled).
   *
   * @return true once nothing of it is left to run
   */
  public boolean ended() {
    if (workOrders == 0) {
      return false;
    }
    long ended =
        counts.get(WorkOrderState.COMPLETED)
            + counts.get(WorkOrderState.FAILED)
            + counts.get(WorkOrderState.CANCELLED);
    return ended == workOrders;
  }

  /**
   * Whether every work order of the batch completed.
   *
   * @return true if ended and all completed
   */
  public boolean completed() {
    return workOrders > 0 && counts.get(WorkOrderState.COMPLETED) == workOrders;
  }
}
