package dev.workgate.observability;

import dev.workgate.NodeView;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.internal.Text;
import dev.workgate.observability.SystemHealth.ComponentHealth;
import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.scheduler.SchedulerStats.UnrunnableWork;
import dev.workgate.scheduler.internal.Scheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The {@value WorkgateHealth#SCHEDULER} component: the loop runs and began a turn within the stall
 * threshold; for a check or readiness also failed turn steps, work no live node can run, and
 * whether the node still claims (draining is a warning for a check, critical for readiness). Reads
 * the {@link NodeView}, never the store. Thread-safe: its only state, the {@link StepFailureWatch},
 * is.
 */
final class SchedulerCheck implements ComponentCheck {
  private final NodeView node;
  private final Duration loopStallThreshold;
  private final StepFailureWatch stepFailures;

  /**
   * @param node the node
   * @param loopStallThreshold how long the loop may go without beginning a turn
   * @param now when the checks were built, from which failed steps are counted
   */
  SchedulerCheck(NodeView node, Duration loopStallThreshold, Instant now) {
    this.node = node;
    this.loopStallThreshold = loopStallThreshold;
    this.stepFailures = new StepFailureWatch(loopStallThreshold, now, node.stepFailureCount());
  }

  @Override
  public String component() {
    return WorkgateHealth.SCHEDULER;
  }

  @Override
  public ComponentHealth check(HealthRound round) {
    Instant now = round.now();
    boolean liveness = round.purpose() == HealthRound.Purpose.LIVENESS;
    boolean running = node.isRunning();
    boolean claiming = node.isClaiming();
    Optional<Instant> beat = node.lastHeartbeat();
    Duration age =
        beat.map(b -> ComponentCheck.nonNegative(Duration.between(b, now))).orElse(Duration.ZERO);
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("nodeId", node.nodeId());
    details.put("running", running);
    if (!liveness) {
      details.put("claiming", claiming);
    }
    beat.ifPresent(b -> details.put("lastHeartbeat", b.toString()));
    details.put("heartbeatAgeMs", age.toMillis());
    details.put("loopStallThresholdMs", loopStallThreshold.toMillis());
    details.put("pollIntervalMs", node.pollInterval().toMillis());
    details.put("activeWork", node.heldWorkOrders());
    List<HealthIssue> issues = new ArrayList<>();
    if (!running) {
      issues.add(
          HealthIssue.critical(
              WorkgateHealth.SCHEDULER,
              "scheduler is not running",
              "call Workgate.start() once the host is ready; a node that was shut down or closed"
                  + " does not run again: restart the process"));
    } else if (age.compareTo(loopStallThreshold) > 0) {
      issues.add(
          HealthIssue.critical(
              WorkgateHealth.SCHEDULER,
              "scheduler loop stalled for "
                  + Text.duration(age)
                  + " (threshold "
                  + Text.duration(loopStallThreshold)
                  + ")",
              "take a thread dump of the node (jstack <pid>) and look at the thread"
                  + " workgate-scheduler-"
                  + node.nodeId()
                  + ": it is blocked in the store or in a listener; if the store component is"
                  + " unhealthy too, fix the store first"));
    }
    if (!liveness) {
      failedSteps(now, details, issues);
      unrunnable(node, details, issues);
    }
    if (running && !claiming && !liveness) {
      String message = "scheduler is not claiming new work: the node is draining for shutdown";
      String recommendation =
          "expected while Workgate.shutdown() runs; if the node is not shutting down, restart it:"
              + " claiming does not resume once stopped";
      issues.add(
          round.purpose() == HealthRound.Purpose.READINESS
              ? HealthIssue.critical(WorkgateHealth.SCHEDULER, message, recommendation)
              : HealthIssue.warning(WorkgateHealth.SCHEDULER, message, recommendation));
    }
    return ComponentHealth.of(WorkgateHealth.SCHEDULER, details, issues);
  }

  /** Turn steps that failed within the last stall threshold: a warning, the turns go on. */
  private void failedSteps(Instant now, Map<String, Object> details, List<HealthIssue> issues) {
    long failedSteps = node.stepFailureCount();
    long recent = stepFailures.failedWithin(now, failedSteps);
    details.put("stepFailures", failedSteps);
    if (recent > 0) {
      issues.add(
          HealthIssue.warning(
              WorkgateHealth.SCHEDULER,
              HealthText.plural(recent, "scheduler turn step")
                  + " failed within the last "
                  + Text.duration(loopStallThreshold)
                  + " (claims, lease renewals, reaping, retry releases); the turns go on",
              "see the store component for failing writes and pings; the steps' errors are in"
                  + " the node's WARN log of "
                  + Scheduler.class.getName()
                  + " (logged at most once a minute per step)"));
    }
  }

  /** Pending work that asks for more than any live node offers: a warning. */
  private static void unrunnable(
      NodeView node, Map<String, Object> details, List<HealthIssue> issues) {
    UnrunnableWork unrunnable = node.unrunnableWork();
    details.put("unrunnableWork", unrunnable.count());
    if (unrunnable.count() > 0) {
      issues.add(
          HealthIssue.warning(
              WorkgateHealth.SCHEDULER,
              HealthText.plural(unrunnable.count(), "pending work order")
                  + " cannot run on any live node (they ask for more slots or memory than any"
                  + " offers) and wait until a node that can joins (for example "
                  + unrunnable.sample().stream()
                      .map(WorkOrderId::value)
                      .collect(Collectors.joining(", "))
                  + ")",
              "start a node with enough slots (maxConcurrent) and memory for them, or cancel"
                  + " them (workgate-admin cancel <id>); each is named once in the WARN log of "
                  + Scheduler.class.getPackageName()
                  + ".NodeHeartbeat"));
    }
  }
}
