package dev.workgate.observability;

import dev.workgate.core.WorkOrderState;
import dev.workgate.observability.SystemHealth.ComponentHealth;
import dev.workgate.observability.SystemHealth.HealthIssue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@value WorkgateHealth#RETRIES} component: work orders waiting for a retry in the whole
 * store, from the round's counts by queue and state; too many is a warning, and counts that could
 * not be read leave the component unknown (a warning). Blocks only on the round's counts, which
 * {@link WorkgateHealth} bounds. Stateless and thread-safe.
 */
final class RetriesCheck implements ComponentCheck {
  private final long pendingRetriesWarning;
  private final Duration countsTimeout;

  /**
   * @param pendingRetriesWarning above how many work orders waiting for a retry to warn
   * @param countsTimeout how long the counts may take, for the message when they did not answer
   */
  RetriesCheck(long pendingRetriesWarning, Duration countsTimeout) {
    this.pendingRetriesWarning = pendingRetriesWarning;
    this.countsTimeout = countsTimeout;
  }

  @Override
  public String component() {
    return WorkgateHealth.RETRIES;
  }

  @Override
  public ComponentHealth check(HealthRound round) {
    Map<String, Object> details = new LinkedHashMap<>();
    Optional<HealthIssue> unavailable =
        round.countsUnavailable(WorkgateHealth.RETRIES, countsTimeout);
    if (unavailable.isPresent()) {
      details.put("pendingRetriesWarning", pendingRetriesWarning);
      return ComponentHealth.of(WorkgateHealth.RETRIES, details, List.of(unavailable.get()));
    }
    long pending = round.counted().value().count(WorkOrderState.WAITING_RETRY);
    details.put("pendingRetries", pending);
    details.put("pendingRetriesWarning", pendingRetriesWarning);
    List<HealthIssue> issues = new ArrayList<>();
    if (pending > pendingRetriesWarning) {
      issues.add(
          HealthIssue.warning(
              WorkgateHealth.RETRIES,
              HealthText.plural(pending, "work order")
                  + " waiting for a retry (warning above "
                  + HealthText.count(pendingRetriesWarning)
                  + ")",
              "many attempts fail with retryable errors: query the WAITING_RETRY work orders,"
                  + " look at their last error codes and fix the common cause (a dependency"
                  + " down, a bad deploy); the retry backoff spaces them out meanwhile"));
    }
    return ComponentHealth.of(WorkgateHealth.RETRIES, details, issues);
  }
}
