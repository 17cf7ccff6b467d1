package dev.workgate;

/**
 * Test access to a node's scheduler for the observability tests, which turn a node that was not
 * started and drain one without stopping it: what health and metrics must report in between. Not
 * for what the node shows: that is read through {@link Workgate#node()}.
 */
public final class NodeParts {
  private NodeParts() {}

  /** Runs one turn of the node's scheduler on the calling thread. */
  public static void runOnce(Workgate w) {
    w.scheduler().runOnce();
  }

  /** Stops the node claiming new work, as the start of a shutdown does. */
  public static void stopClaiming(Workgate w) {
    w.scheduler().stopClaiming();
  }
}
