package dev.workgate;

import dev.workgate.execution.internal.ExecutionManager;
import dev.workgate.scheduler.internal.SchedulerConfig;

/**
 * Test access to a node's parts for tests outside this package, which check what only a part shows
 * (the execution manager's queued timers). Not for public behaviour: that is read through {@link
 * Workgate#node()}.
 */
public final class NodeParts {
  private NodeParts() {}

  /** The scheduler settings the node runs with. */
  public static SchedulerConfig schedulerConfig(Workgate w) {
    return ((LiveNodeView) w.node()).schedulerConfig();
  }

  /** The node's execution manager. */
  public static ExecutionManager executions(Workgate w) {
    return w.executions();
  }
}
