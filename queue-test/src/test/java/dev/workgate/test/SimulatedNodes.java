package dev.workgate.test;

import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.internal.ManualDrive;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;

/**
 * The deterministic simulation's way into the package-private hooks of {@link ManualWorkgate} (test
 * code only): nodes whose attempts run on the simulation's fibers, their drive, their next timer,
 * and a crash.
 */
public final class SimulatedNodes {
  private SimulatedNodes() {}

  /**
   * A node whose executions and sandbox creations run on {@code attempts}.
   *
   * @param builder the node's settings
   * @param clock the simulation's clock, shared by every node
   * @param attempts runs each execution and creation (a fiber each)
   * @param ids the ids of work orders submitted through the node, or null for random ones
   * @return the node, built (orphans reaped, as a real node does at start)
   */
  public static ManualWorkgate build(
      Workgate.Builder builder,
      MutableClock clock,
      ExecutorService attempts,
      Supplier<WorkOrderId> ids) {
    return ManualWorkgate.of(builder, clock, timer -> new ManualDrive(timer, attempts, ids));
  }

  /**
   * The drive that turns the node: its turns, watchdog, draining and kills for shutdown.
   *
   * @param node the node
   * @return its drive
   */
  public static ManualDrive drive(ManualWorkgate node) {
    return node.drive();
  }

  /**
   * When the node's earliest timer is due.
   *
   * @param node the node
   * @return the time; empty when none waits or the node is closed or crashed
   */
  public static Optional<Instant> nextTimerDue(ManualWorkgate node) {
    return node.nextTimerDue();
  }

  /**
   * Drops the node as a process that dies (see {@link ManualWorkgate#crash()}).
   *
   * @param node the node
   */
  public static void crash(ManualWorkgate node) {
    node.crash();
  }
}
