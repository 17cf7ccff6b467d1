package dev.workgate.observability;

import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.observability.SystemHealth.ComponentHealth;
import dev.workgate.observability.SystemHealth.HealthIssue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@value WorkgateHealth#QUEUES} component: work orders waiting per queue ({@code PENDING} and
 * {@code WAITING_RETRY}) in the whole store, from the round's counts by queue and state, against
 * the general depth thresholds or a queue's own; counts that could not be read leave the component
 * unknown (a warning). Blocks only on the round's counts, which {@link WorkgateHealth} bounds.
 * Stateless and thread-safe.
 */
final class QueuesCheck implements ComponentCheck {
  private final long queueDepthWarning;
  private final long queueDepthCritical;
  private final Map<String, long[]>
      queueDepthOverrides; // queue -> {warning, critical}; not changed
  private final Duration countsTimeout;

  /**
   * @param queueDepthWarning above how many waiting work orders a queue is a warning
   * @param queueDepthCritical above how many it is critical
   * @param queueDepthOverrides a queue's own {warning, critical}, replacing the general ones
   * @param countsTimeout how long the counts may take, for the message when they did not answer
   */
  QueuesCheck(
      long queueDepthWarning,
      long queueDepthCritical,
      Map<String, long[]> queueDepthOverrides,
      Duration countsTimeout) {
    this.queueDepthWarning = queueDepthWarning;
    this.queueDepthCritical = queueDepthCritical;
    this.queueDepthOverrides = Map.copyOf(queueDepthOverrides);
    this.countsTimeout = countsTimeout;
  }

  @Override
  public String component() {
    return WorkgateHealth.QUEUES;
  }

  @Override
  public ComponentHealth check(HealthRound round) {
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("queueDepthWarning", queueDepthWarning);
    details.put("queueDepthCritical", queueDepthCritical);
    Optional<HealthIssue> unavailable =
        round.countsUnavailable(WorkgateHealth.QUEUES, countsTimeout);
    if (unavailable.isPresent()) {
      return ComponentHealth.of(WorkgateHealth.QUEUES, details, List.of(unavailable.get()));
    }
    List<HealthIssue> issues = new ArrayList<>();
    QueueCounts counts = round.counted().value();
    for (String queue : counts.queues()) {
      long depth = counts.depth(queue);
      details.put("depth." + queue, depth);
      long[] limits = queueDepthOverrides.get(queue);
      long warning = limits == null ? queueDepthWarning : limits[0];
      long critical = limits == null ? queueDepthCritical : limits[1];
      String recommendation =
          "work arrives faster than it is finished: add nodes or slots serving '"
              + queue
              + "', check that the nodes serving it claim work (their scheduler component), or"
              + " set maxQueueDepth so that submits are refused before the queue grows further";
      if (depth > critical) {
        issues.add(
            HealthIssue.critical(
                WorkgateHealth.QUEUES,
                "queue '"
                    + queue
                    + "' holds "
                    + HealthText.plural(depth, "waiting work order")
                    + " (critical above "
                    + HealthText.count(critical)
                    + ")",
                recommendation));
      } else if (depth > warning) {
        issues.add(
            HealthIssue.warning(
                WorkgateHealth.QUEUES,
                "queue '"
                    + queue
                    + "' holds "
                    + HealthText.plural(depth, "waiting work order")
                    + " (warning above "
                    + HealthText.count(warning)
                    + ")",
                recommendation));
      }
    }
    return ComponentHealth.of(WorkgateHealth.QUEUES, details, issues);
  }
}
