package dev.workgate;

import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.scheduler.ResourceHealthReport.PressureLevel;
import dev.workgate.scheduler.SchedulerStats;
import java.util.List;
import java.util.Objects;

/**
 * A snapshot of a Workgate node: work orders by queue and state (the whole store), the node's slots
 * and memory pressure, its executions and its scheduler. Immutable and thread-safe.
 *
 * @param counts work orders per queue and state, in the whole store
 * @param activeSlots slots in use on this node
 * @param maxSlots the node's slots
 * @param pressure the node's memory pressure
 * @param executions this node's executions
 * @param scheduler the scheduler's stats
 */
public record QueueStats(
    QueueCounts counts,
    int activeSlots,
    int maxSlots,
    PressureLevel pressure,
    List<NodeView.ActiveExecution> executions,
    SchedulerStats scheduler) {

  /** Copies the executions, so the snapshot never changes ({@link QueueCounts} is immutable). */
  public QueueStats {
    Objects.requireNonNull(counts, "counts");
    executions = List.copyOf(executions);
  }

  /**
   * Work orders in a state, over all queues.
   *
   * @param state the state
   * @return the count
   */
  public long count(WorkOrderState state) {
    return counts.count(state);
  }
}
