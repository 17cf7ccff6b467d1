package dev.workgate.observability;

import dev.workgate.NodeView;
import dev.workgate.NodeView.ActiveExecution;
import dev.workgate.core.internal.Text;
import dev.workgate.observability.SystemHealth.ComponentHealth;
import dev.workgate.observability.SystemHealth.HealthIssue;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@value WorkgateHealth#EXECUTIONS} component: work running past its timeout, kill grace and
 * slack (a kill that did not take) is critical; sandboxes stuck in creation, in-process handlers
 * that ignored being stopped and given-up creations that have not returned are warnings. Reads the
 * {@link NodeView}, never the store. Stateless and thread-safe.
 */
final class ExecutionsCheck implements ComponentCheck {
  private final NodeView node;
  private final Duration preparingStuckThreshold;
  private final Duration overrunSlack;

  /**
   * @param node the node
   * @param preparingStuckThreshold how long an execution may stay preparing
   * @param overrunSlack how long past timeout plus kill grace running work may go on
   */
  ExecutionsCheck(NodeView node, Duration preparingStuckThreshold, Duration overrunSlack) {
    this.node = node;
    this.preparingStuckThreshold = preparingStuckThreshold;
    this.overrunSlack = overrunSlack;
  }

  @Override
  public String component() {
    return WorkgateHealth.EXECUTIONS;
  }

  @Override
  public ComponentHealth check(HealthRound round) {
    Instant now = round.now();
    List<ActiveExecution> active = node.activeExecutions();
    Duration killGrace = node.killGrace();
    int preparing = 0;
    int running = 0;
    int cleanup = 0;
    List<ActiveExecution> stuck = new ArrayList<>();
    List<ActiveExecution> overrun = new ArrayList<>();
    for (ActiveExecution e : active) {
      switch (e.status()) {
        case PREPARING:
          preparing++;
          if (Duration.between(e.claimedAt(), now).compareTo(preparingStuckThreshold) > 0) {
            stuck.add(e);
          }
          break;
        case RUNNING:
          running++;
          if (e.startedAt().isPresent()
              && Duration.between(e.startedAt().get(), now)
                      .compareTo(allowedRun(e.timeout(), killGrace))
                  > 0) {
            overrun.add(e);
          }
          break;
        default:
          cleanup++;
      }
    }
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("active", active.size());
    details.put("preparing", preparing);
    details.put("running", running);
    details.put("cleanup", cleanup);
    details.put("preparingStuckThresholdMs", preparingStuckThreshold.toMillis());
    details.put("killGraceMs", killGrace.toMillis());
    details.put("overrunSlackMs", overrunSlack.toMillis());
    List<HealthIssue> issues = new ArrayList<>();
    if (!overrun.isEmpty()) {
      issues.add(overrun(overrun, killGrace, now));
    }
    if (!stuck.isEmpty()) {
      issues.add(stuck(stuck, now));
    }
    abandoned(node, now, details, issues);
    return ComponentHealth.of(WorkgateHealth.EXECUTIONS, details, issues);
  }

  /** Running work past timeout, kill grace and slack: the kill did not take; critical. */
  private HealthIssue overrun(List<ActiveExecution> overrun, Duration killGrace, Instant now) {
    ActiveExecution oldest = overrun.get(0);
    for (ActiveExecution e : overrun) {
      if (e.startedAt().get().isBefore(oldest.startedAt().get())) {
        oldest = e;
      }
    }
    String sandbox = oldest.sandboxId().orElse("?");
    return HealthIssue.critical(
        WorkgateHealth.EXECUTIONS,
        HealthText.plural(overrun.size(), "execution")
            + " running past timeout + kill grace + "
            + Text.duration(overrunSlack)
            + ": the kill did not take; the oldest, work order "
            + oldest.workOrderId()
            + " in queue '"
            + oldest.queue()
            + "', started "
            + Text.duration(Duration.between(oldest.startedAt().get(), now))
            + " ago with timeout "
            + Text.duration(oldest.timeout())
            + " and kill grace "
            + Text.duration(killGrace),
        "end the work by hand: its process tree (sandbox "
            + sandbox
            + ") or, for an in-process handler, its thread workgate-handler-"
            + sandbox
            + "; it holds its slots until it ends. Handlers must stop when interrupted or"
            + " when WorkContext.cancellationRequested() turns true");
  }

  /** Executions preparing longer than the threshold: sandbox creation hangs; a warning. */
  private HealthIssue stuck(List<ActiveExecution> stuck, Instant now) {
    ActiveExecution oldest = stuck.get(0);
    for (ActiveExecution e : stuck) {
      if (e.claimedAt().isBefore(oldest.claimedAt())) {
        oldest = e;
      }
    }
    return HealthIssue.warning(
        WorkgateHealth.EXECUTIONS,
        HealthText.plural(stuck.size(), "execution")
            + " preparing for more than "
            + Text.duration(preparingStuckThreshold)
            + "; the oldest, work order "
            + oldest.workOrderId()
            + " in queue '"
            + oldest.queue()
            + "', for "
            + Text.duration(Duration.between(oldest.claimedAt(), now)),
        "sandbox creation hangs: check the sandbox provider of that work order's type"
            + " (disk space, mounts, the container runtime, image pulls) and the node's log"
            + " for the work order; its slots stay held until creation returns");
  }

  /**
   * In-process handlers that ignored being stopped, and sandbox creations given up but not
   * returned: both still hold their slots; warnings.
   */
  private static void abandoned(
      NodeView node, Instant now, Map<String, Object> details, List<HealthIssue> issues) {
    List<NodeView.AbandonedHandler> abandoned = node.abandonedHandlers();
    List<NodeView.AbandonedCreation> givenUp = node.abandonedCreations();
    details.put("abandonedHandlers", abandoned.size());
    details.put("abandonedCreations", givenUp.size());
    if (!abandoned.isEmpty()) {
      NodeView.AbandonedHandler oldest = abandoned.get(0);
      for (NodeView.AbandonedHandler a : abandoned) {
        if (a.abandonedAt().isBefore(oldest.abandonedAt())) {
          oldest = a;
        }
      }
      int slots = abandoned.stream().mapToInt(NodeView.AbandonedHandler::slotsHeld).sum();
      issues.add(
          HealthIssue.warning(
              WorkgateHealth.EXECUTIONS,
              HealthText.plural(abandoned.size(), "in-process handler")
                  + " ignored being stopped and still run, holding "
                  + HealthText.plural(slots, "slot")
                  + "; the oldest, work order "
                  + oldest.workOrderId()
                  + " attempt "
                  + oldest.attempt()
                  + " in queue '"
                  + oldest.queue()
                  + "', for "
                  + Text.duration(Duration.between(oldest.abandonedAt(), now)),
              "the outcome is recorded and the slots come back when the threads end (or after"
                  + " the abandoned-handler slot cap, "
                  + Text.duration(node.abandonedHandlerSlotCap())
                  + "); fix the handler: it must return when interrupted or when"
                  + " WorkContext.cancellationRequested() turns true; a thread dump shows it as"
                  + " workgate-handler-<sandbox>"));
    }
    if (!givenUp.isEmpty()) {
      issues.add(
          HealthIssue.warning(
              WorkgateHealth.EXECUTIONS,
              HealthText.plural(givenUp.size(), "sandbox creation")
                  + " given up (timed out, cancelled or shut down) but not returned yet; the"
                  + " first, work order "
                  + givenUp.get(0).workOrderId()
                  + " in queue '"
                  + givenUp.get(0).queue()
                  + "'; each keeps its slots until its create returns",
              "the sandbox provider's create ignores interruption: check what it waits on"
                  + " (the container runtime, image pulls, mounts)"));
    }
  }

  /** Timeout + kill grace + slack, saturating rather than overflowing for huge timeouts. */
  private Duration allowedRun(Duration timeout, Duration killGrace) {
    try {
      return timeout.plus(killGrace).plus(overrunSlack);
    } catch (ArithmeticException tooLong) {
      return Duration.ofSeconds(Long.MAX_VALUE);
    }
  }
}
