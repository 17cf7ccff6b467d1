package dev.workgate;

import dev.workgate.execution.ExecutionManager.AbandonedCreation;
import dev.workgate.execution.ExecutionManager.AbandonedHandler;
import dev.workgate.execution.ExecutionManager.ActiveExecution;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.scheduler.PressureLevel;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.scheduler.ResourceHealthReport;
import dev.workgate.scheduler.SchedulerConfig;
import dev.workgate.scheduler.UnrunnableWork;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What a host, metrics and health checks read of one running node: its slots and memory pressure,
 * the loop's heartbeat, the executions it runs, what it claimed, reaped and fenced, and the
 * effective settings the node runs with. Obtained from {@link Workgate#node()}.
 *
 * <p><b>Live and read-only.</b> A {@code NodeView} is not a snapshot: every call reads the node's
 * current value, so two calls may see two moments (read {@link #resources()} for slots, reserved
 * memory and pressure taken together). It has no method that changes the node, and none reads the
 * store: each answers from the node's memory at once, even while the store hangs, which is what a
 * liveness check and a metrics scrape need. Counts ({@code ...Count()}) only rise over the node's
 * life. Lists returned are immutable copies.
 *
 * <p><b>Thread safety.</b> Safe to call from any thread, at any time, before {@link
 * Workgate#start()} and after {@link Workgate#close()} (a closed node reports its last values). No
 * method returns null or throws.
 */
public interface NodeView {

  /**
   * The node's id: the owner name on its leases and its row in the node table.
   *
   * @return the id
   */
  String nodeId();

  /**
   * The slot limit without memory pressure ({@link ResourceConfig#maxConcurrent()}).
   *
   * @return the slots
   */
  int maxSlots();

  /**
   * Slots held now by this node's attempts (and by abandoned handlers that still run).
   *
   * @return the slots in use
   */
  int slotsInUse();

  /**
   * Memory reserved now by the attempts holding slots, MiB.
   *
   * @return the reserved memory
   */
  long reservedMemoryMb();

  /**
   * The memory pressure level as last read.
   *
   * @return the level
   */
  PressureLevel pressure();

  /**
   * The node's resources taken together at one moment: the last memory reading (when and from
   * where), the pressure, slots in use and reserved memory.
   *
   * @return an immutable report
   */
  ResourceHealthReport resources();

  /**
   * When the scheduler loop last began a turn.
   *
   * @return the time by the node's clock; empty before the first turn
   */
  Optional<Instant> lastHeartbeat();

  /**
   * Whether the scheduler loop runs.
   *
   * @return true between {@link Workgate#start()} and its shutdown
   */
  boolean isRunning();

  /**
   * Whether the node still claims new work: false once {@link Workgate#shutdown} began draining.
   *
   * @return whether the node claims
   */
  boolean isClaiming();

  /**
   * Work orders this node holds a lease on now, from their claim until their attempt's outcome is
   * recorded.
   *
   * @return the count
   */
  int heldWorkOrders();

  /**
   * The executions this node runs now (preparing, running or cleaning up).
   *
   * @return an immutable list
   */
  List<ActiveExecution> activeExecutions();

  /**
   * In-process handlers that ignored being stopped and still run, holding their slots.
   *
   * @return an immutable list
   */
  List<AbandonedHandler> abandonedHandlers();

  /**
   * Sandbox creations given up (timed out, cancelled, shut down) that have not returned yet.
   *
   * @return an immutable list
   */
  List<AbandonedCreation> abandonedCreations();

  /**
   * Work orders this node claimed since it was built.
   *
   * @return the count
   */
  long claimedCount();

  /**
   * Expired leases (of any node) this node reaped since it was built.
   *
   * @return the count
   */
  long reapedCount();

  /**
   * Attempts this node stopped itself because it could not renew their leases in time.
   *
   * @return the count
   */
  long selfFencedCount();

  /**
   * Steps of the scheduler's turns that failed (and were logged) since the node was built.
   *
   * @return the count
   */
  long stepFailureCount();

  /**
   * Turns the scheduler began since the node was built.
   *
   * @return the count
   */
  long turnCount();

  /**
   * Pending work no live node can run, as the last heartbeat found it.
   *
   * @return the finding; {@link UnrunnableWork#NONE} before the first heartbeat
   */
  UnrunnableWork unrunnableWork();

  /**
   * The scheduler settings the node runs with (queues, poll interval, lease, renewal, self-fence
   * margin, per-queue concurrency, start rate, ...).
   *
   * @return the immutable configuration
   */
  SchedulerConfig schedulerConfig();

  /**
   * The slot and memory settings the node runs with.
   *
   * @return the immutable configuration
   */
  ResourceConfig resourceConfig();

  /**
   * How long a killed attempt may take to end before it is killed forcibly.
   *
   * @return the kill grace
   */
  Duration killGrace();

  /**
   * How long work whose lease could not be renewed has to stop: half the self-fence margin.
   *
   * @return the grace
   */
  Duration leaseLostGrace();

  /**
   * The timeout of work orders that declare none.
   *
   * @return the timeout
   */
  Duration defaultTimeout();

  /**
   * How long creating a sandbox may take.
   *
   * @return the timeout
   */
  Duration sandboxCreationTimeout();

  /**
   * How long an abandoned in-process handler keeps its slots at most.
   *
   * @return the cap
   */
  Duration abandonedHandlerSlotCap();

  /**
   * The retry policy the node applies to a queue's work orders: the queue's own, or the default.
   *
   * @param queue the queue
   * @return the policy
   * @throws NullPointerException if {@code queue} is null
   */
  RetryPolicy retryPolicy(String queue);
}
