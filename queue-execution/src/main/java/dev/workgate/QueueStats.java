package dev.workgate;

import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.scheduler.ResourceHealthReport.PressureLevel;
import dev.workgate.scheduler.SchedulerStats;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A snapshot of a Workgate node: work orders by queue and state (the whole store), the queues
 * paused (the whole store), the node's slots and memory pressure, its executions and its scheduler.
 * Immutable and thread-safe.
 *
 * @param counts work orders per queue and state, in the whole store ({@link WorkOrderState#BLOCKED}
 *     included: see {@link #blocked()})
 * @param activeSlots slots in use on this node
 * @param maxSlots the node's slots
 * @param pressure the node's memory pressure
 * @param executions this node's executions, each with the progress it last reported
 * @param scheduler the scheduler's stats
 * @param paused the pauses in force, one per paused queue (who paused it, when and why), sorted by
 *     queue; empty when no queue is paused
 */
public record QueueStats(
    QueueCounts counts,
    int activeSlots,
    int maxSlots,
    PressureLevel pressure,
    List<NodeView.ActiveExecution> executions,
    SchedulerStats scheduler,
    List<QueueAction> paused) {

  /**
   * Copies the lists, so the snapshot never changes ({@link QueueCounts} is immutable), and sorts
   * the pauses by queue.
   *
   * @throws IllegalArgumentException if a pause is a resume, or two pauses name one queue
   * @throws NullPointerException if the counts or a list is null
   */
  public QueueStats {
    Objects.requireNonNull(counts, "counts");
    executions = List.copyOf(executions);
    List<QueueAction> sorted = new ArrayList<>(paused);
    sorted.sort(Comparator.comparing(QueueAction::queue));
    for (int i = 0; i < sorted.size(); i++) {
      QueueAction p = sorted.get(i);
      if (p.kind() != QueueAction.Kind.PAUSE) {
        throw new IllegalArgumentException(
            "paused lists pauses only; got a " + p.kind() + " of queue '" + p.queue() + "'");
      }
      if (i > 0 && sorted.get(i - 1).queue().equals(p.queue())) {
        throw new IllegalArgumentException("queue '" + p.queue() + "' is paused twice");
      }
    }
    paused = List.copyOf(sorted);
  }

  /**
   * A snapshot without pauses: every queue claimed from.
   *
   * @param counts work orders per queue and state, in the whole store
   * @param activeSlots slots in use on this node
   * @param maxSlots the node's slots
   * @param pressure the node's memory pressure
   * @param executions this node's executions
   * @param scheduler the scheduler's stats
   */
  public QueueStats(
      QueueCounts counts,
      int activeSlots,
      int maxSlots,
      PressureLevel pressure,
      List<NodeView.ActiveExecution> executions,
      SchedulerStats scheduler) {
    this(counts, activeSlots, maxSlots, pressure, executions, scheduler, List.of());
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

  /**
   * Work orders waiting for their dependencies ({@link WorkOrderState#BLOCKED}), over all queues.
   * They count toward their queue's depth, and no node claims them until the scheduler decides
   * them.
   *
   * @return the count
   */
  public long blocked() {
    return counts.count(WorkOrderState.BLOCKED);
  }

  /**
   * Work orders of one queue waiting for their dependencies.
   *
   * @param queue the queue
   * @return the count; 0 for a queue without work orders
   */
  public long blocked(String queue) {
    return counts.count(queue, WorkOrderState.BLOCKED);
  }

  /**
   * The pause in force on a queue.
   *
   * @param queue the queue
   * @return who paused it, when and why; empty when it is not paused
   */
  public Optional<QueueAction> pause(String queue) {
    for (QueueAction p : paused) {
      if (p.queue().equals(queue)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /**
   * Whether a queue is paused: no node claims from it until it is resumed.
   *
   * @param queue the queue
   * @return true if paused
   */
  public boolean isPaused(String queue) {
    return pause(queue).isPresent();
  }
}
