package dev.workgate;

import dev.workgate.execution.ExecutionManager;

/**
 * Test access to a node's parts for tests outside this package, which check what only a part shows
 * (the execution manager's queued timers). Not for public behaviour: that is read through {@link
 * Workgate#node()}.
 */
public final class NodeParts {
  private NodeParts() {}

  /** The node's execution manager. */
  public static ExecutionManager executions(Workgate w) {
    return w.executions();
  }
}
