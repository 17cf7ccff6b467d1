package dev.workgate.observability;

import dev.workgate.core.internal.Text;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.observability.SystemHealth.ComponentHealth;
import dev.workgate.observability.SystemHealth.HealthIssue;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@value WorkgateHealth#QUEUES} component: work orders waiting per queue ({@code PENDING},
 * {@code WAITING_RETRY} and {@code BLOCKED}) in the whole store, from the round's counts by queue
 * and state, against the general depth thresholds or a queue's own; and the queues paused, from the
 * pauses read with the counts. Counts that could not be read leave the component unknown (a
 * warning). Blocks only on the round's counts, which {@link WorkgateHealth} bounds.
 *
 * <p><b>Paused queues.</b> A paused queue in which work waits is a warning once it has been paused
 * for {@link WorkgateHealth#PAUSED_BACKLOG_AFTER} (by the round's clock, from the pause's time) and
 * its backlog has not shrunk since the previous round that saw the same pause: work that a pause
 * holds back and nobody drains. A paused queue with an empty backlog, a shrinking one (its work is
 * being cancelled) or a recent pause is only reported in the details. To tell shrinking, the check
 * keeps the backlog each paused queue had at the last round, one entry per queue paused now
 * (entries of resumed queues are dropped).
 *
 * <p>Thread-safe: concurrent rounds may run it; each reads and replaces a queue's entry at once, so
 * of two rounds at the same moment the later compares with the earlier.
 */
final class QueuesCheck implements ComponentCheck {
  private final long queueDepthWarning;
  private final long queueDepthCritical;
  private final Map<String, long[]>
      queueDepthOverrides; // queue -> {warning, critical}; not changed
  private final Duration countsTimeout;
  private final Duration pausedBacklogAfter;

  /** A paused queue's backlog at the last round, and the pause it was under. */
  private record Backlog(Instant pausedAt, long depth) {}

  private final Map<String, Backlog> pausedBacklogs = new ConcurrentHashMap<>();

  /**
   * @param queueDepthWarning above how many waiting work orders a queue is a warning
   * @param queueDepthCritical above how many it is critical
   * @param queueDepthOverrides a queue's own {warning, critical}, replacing the general ones
   * @param countsTimeout how long the counts may take, for the message when they did not answer
   * @param pausedBacklogAfter how long a queue may be paused with work waiting before it warns
   */
  QueuesCheck(
      long queueDepthWarning,
      long queueDepthCritical,
      Map<String, long[]> queueDepthOverrides,
      Duration countsTimeout,
      Duration pausedBacklogAfter) {
    this.queueDepthWarning = queueDepthWarning;
    this.queueDepthCritical = queueDepthCritical;
    this.queueDepthOverrides = Map.copyOf(queueDepthOverrides);
    this.countsTimeout = countsTimeout;
    this.pausedBacklogAfter = pausedBacklogAfter;
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
    paused(round, counts, details, issues);
    return ComponentHealth.of(WorkgateHealth.QUEUES, details, issues);
  }

  /** Judges the paused queues; the pauses were read with the counts, which answered. */
  private void paused(
      HealthRound round,
      QueueCounts counts,
      Map<String, Object> details,
      List<HealthIssue> issues) {
    List<QueueAction> pauses = round.paused().value();
    details.put("pausedQueues", pauses.size());
    details.put("pausedBacklogAfterMs", pausedBacklogAfter.toMillis());
    Set<String> paused = new HashSet<>();
    for (QueueAction pause : pauses) {
      String queue = pause.queue();
      paused.add(queue);
      long depth = counts.depth(queue);
      details.put("paused." + queue + ".by", pause.actor());
      details.put("paused." + queue + ".since", pause.at().toString());
      details.put("paused." + queue + ".reason", pause.reason());
      Backlog before = pausedBacklogs.put(queue, new Backlog(pause.at(), depth));
      boolean shrinking =
          before != null && before.pausedAt().equals(pause.at()) && depth < before.depth();
      Duration pausedFor = ComponentCheck.nonNegative(Duration.between(pause.at(), round.now()));
      if (depth == 0 || shrinking || pausedFor.compareTo(pausedBacklogAfter) < 0) {
        continue;
      }
      issues.add(
          HealthIssue.warning(
              WorkgateHealth.QUEUES,
              "queue '"
                  + queue
                  + "' is paused and "
                  + HealthText.plural(depth, "work order")
                  + (depth == 1 ? " waits" : " wait")
                  + " in it: paused by "
                  + pause.actor()
                  + " since "
                  + pause.at()
                  + " ("
                  + Text.duration(pausedFor)
                  + " ago)"
                  + (pause.reason().isEmpty()
                      ? ""
                      : ", reason: "
                          + HealthText.cut(pause.reason(), HealthText.MAX_QUOTED_MESSAGE)),
              "no node claims from a paused queue: once what it was paused for is done, resume it"
                  + " with `workgate-admin resume "
                  + queue
                  + "` or POST /api/queues/"
                  + queue
                  + "/resume; cancel the waiting work that should not run"));
    }
    pausedBacklogs.keySet().retainAll(paused);
  }
}
