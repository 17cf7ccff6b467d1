package dev.workgate;

import dev.workgate.NodeView.AbandonedCreation;
import dev.workgate.NodeView.AbandonedHandler;
import dev.workgate.NodeView.ActiveExecution;
import dev.workgate.execution.internal.ExecutionManager;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.internal.RetryManager;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.scheduler.ResourceHealthReport;
import dev.workgate.scheduler.ResourceHealthReport.PressureLevel;
import dev.workgate.scheduler.SchedulerStats.UnrunnableWork;
import dev.workgate.scheduler.internal.ResourceMonitor;
import dev.workgate.scheduler.internal.Scheduler;
import dev.workgate.scheduler.internal.SchedulerConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@link NodeView} of a {@link Workgate}: reads its scheduler, resource monitor, execution
 * manager and retry manager, only what each keeps in memory. Holds no state of its own.
 */
final class LiveNodeView implements NodeView {
  private final String nodeId;
  private final Scheduler scheduler;
  private final ResourceMonitor resources;
  private final ExecutionManager executions;
  private final RetryManager retries;

  LiveNodeView(
      String nodeId,
      Scheduler scheduler,
      ResourceMonitor resources,
      ExecutionManager executions,
      RetryManager retries) {
    this.nodeId = nodeId;
    this.scheduler = scheduler;
    this.resources = resources;
    this.executions = executions;
    this.retries = retries;
  }

  @Override
  public String nodeId() {
    return nodeId;
  }

  @Override
  public int maxSlots() {
    return resources.maxSlots();
  }

  @Override
  public int slotsInUse() {
    return resources.activeSlots();
  }

  @Override
  public long reservedMemoryMb() {
    return resources.reservedMemoryMb();
  }

  @Override
  public PressureLevel pressure() {
    return resources.pressure();
  }

  @Override
  public ResourceHealthReport resources() {
    return resources.health();
  }

  @Override
  public Optional<Instant> lastHeartbeat() {
    return scheduler.lastHeartbeat();
  }

  @Override
  public boolean isRunning() {
    return scheduler.isRunning();
  }

  @Override
  public boolean isClaiming() {
    return scheduler.isClaiming();
  }

  @Override
  public int heldWorkOrders() {
    return scheduler.activeWork().size();
  }

  @Override
  public List<ActiveExecution> activeExecutions() {
    return List.copyOf(executions.activeExecutions());
  }

  @Override
  public List<AbandonedHandler> abandonedHandlers() {
    return List.copyOf(executions.abandonedHandlers());
  }

  @Override
  public List<AbandonedCreation> abandonedCreations() {
    return List.copyOf(executions.abandonedCreations());
  }

  @Override
  public long claimedCount() {
    return scheduler.claimedCount();
  }

  @Override
  public long reapedCount() {
    return scheduler.reapedCount();
  }

  @Override
  public long selfFencedCount() {
    return scheduler.selfFencedCount();
  }

  @Override
  public long stepFailureCount() {
    return scheduler.stepFailureCount();
  }

  @Override
  public long turnCount() {
    return scheduler.turnCount();
  }

  @Override
  public UnrunnableWork unrunnableWork() {
    return scheduler.unrunnableWork();
  }

  @Override
  public List<String> queues() {
    return scheduler.config().queues();
  }

  @Override
  public Duration pollInterval() {
    return scheduler.config().pollInterval();
  }

  /** The scheduler settings the node runs with, for the runtime's own tests. */
  SchedulerConfig schedulerConfig() {
    return scheduler.config();
  }

  @Override
  public ResourceConfig resourceConfig() {
    return resources.config();
  }

  @Override
  public Duration killGrace() {
    return executions.killGrace();
  }

  @Override
  public Duration leaseLostGrace() {
    return executions.leaseLostGrace();
  }

  @Override
  public Duration defaultTimeout() {
    return executions.defaultTimeout();
  }

  @Override
  public Duration sandboxCreationTimeout() {
    return executions.sandboxCreationTimeout();
  }

  @Override
  public Duration abandonedHandlerSlotCap() {
    return executions.abandonedHandlerSlotCap();
  }

  @Override
  public RetryPolicy retryPolicy(String queue) {
    return retries.policyFor(Objects.requireNonNull(queue, "queue"));
  }

  @Override
  public String toString() {
    return "NodeView[" + nodeId + "]";
  }
}
