package dev.workgate.observability;

import dev.workgate.NodeView;
import dev.workgate.core.internal.Text;
import dev.workgate.observability.SystemHealth.ComponentHealth;
import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.scheduler.ResourceHealthReport;
import dev.workgate.scheduler.ResourceHealthReport.PressureLevel;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@value WorkgateHealth#RESOURCES} component: memory pressure (critical stops new work, a
 * warning halves the slots) and whether the memory probe reads at all, or only long ago. Reads the
 * node's resource readings in memory ({@link NodeView#resources()}), never the store. Stateless and
 * thread-safe.
 */
final class ResourcesCheck implements ComponentCheck {
  private final NodeView node;
  private final Duration loopStallThreshold;

  /**
   * @param node the node
   * @param loopStallThreshold how much older than the last turn a memory reading may be
   */
  ResourcesCheck(NodeView node, Duration loopStallThreshold) {
    this.node = node;
    this.loopStallThreshold = loopStallThreshold;
  }

  @Override
  public String component() {
    return WorkgateHealth.RESOURCES;
  }

  @Override
  public ComponentHealth check(HealthRound round) {
    ResourceHealthReport r = node.resources();
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("pressure", r.pressure().name());
    details.put("memoryUsedMb", r.memoryUsedMb());
    details.put("memoryTotalMb", r.memoryTotalMb());
    details.put("memoryAvailableMb", r.memoryAvailableMb());
    details.put("activeSlots", r.activeSlots());
    details.put("maxSlots", r.maxSlots());
    details.put("reservedMemoryMb", r.reservedMemoryMb());
    details.put("memorySource", r.source());
    if (r.hasReading()) {
      details.put("memoryReadAt", r.readAt().toString());
    }
    List<HealthIssue> issues = new ArrayList<>();
    String used =
        HealthText.count(r.memoryUsedMb())
            + " of "
            + HealthText.count(r.memoryTotalMb())
            + " MiB used ("
            + (r.memoryTotalMb() == 0 ? 0 : r.memoryUsedMb() * 100 / r.memoryTotalMb())
            + " %)";
    String relieve =
        "find what holds the memory (running work orders, other processes in the container);"
            + " the node takes more work once use falls below the threshold minus the hysteresis;"
            + " if it persists, lower maxConcurrent, declare memory per work order, or give the"
            + " node more memory";
    if (r.pressure() == PressureLevel.CRITICAL) {
      issues.add(
          HealthIssue.critical(
              WorkgateHealth.RESOURCES,
              "memory pressure CRITICAL: " + used + "; the node starts no new work",
              relieve));
    } else if (r.pressure() == PressureLevel.WARNING) {
      issues.add(
          HealthIssue.warning(
              WorkgateHealth.RESOURCES,
              "memory pressure WARNING: "
                  + used
                  + "; the node runs at most "
                  + Math.max(1, r.maxSlots() / 2)
                  + " of its "
                  + r.maxSlots()
                  + " slots",
              relieve));
    }
    Optional<Instant> beat = node.lastHeartbeat();
    String probeAdvice =
        "look in the node's log for 'Memory probe failed' and fix the probe (cgroup files,"
            + " /proc/meminfo); meanwhile";
    if (!r.hasReading()) {
      issues.add(
          HealthIssue.warning(
              WorkgateHealth.RESOURCES,
              beat.isEmpty()
                  ? "no memory reading yet: memory is first read on the scheduler's first turn"
                  : "no memory reading: the memory probe has failed on every turn since the node"
                      + " started",
              beat.isEmpty()
                  ? "start the node (Workgate.start()); if it is started, see the scheduler"
                      + " component"
                  : probeAdvice + " only the slot limit and the memory budget limit admission"));
    } else if (beat.isPresent()) {
      Duration stale = ComponentCheck.nonNegative(Duration.between(r.readAt(), beat.get()));
      if (stale.compareTo(loopStallThreshold) > 0) {
        issues.add(
            HealthIssue.warning(
                WorkgateHealth.RESOURCES,
                "last memory reading is "
                    + Text.duration(stale)
                    + " older than the scheduler's last turn (threshold "
                    + Text.duration(loopStallThreshold)
                    + "): the memory probe fails, and pressure stays "
                    + r.pressure()
                    + " as last read",
                probeAdvice + " the node admits work by an old reading"));
      }
    }
    return ComponentHealth.of(WorkgateHealth.RESOURCES, details, issues);
  }
}
