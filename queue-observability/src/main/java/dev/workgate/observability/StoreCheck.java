package dev.workgate.observability;

import dev.workgate.Workgate;
import dev.workgate.core.internal.Text;
import dev.workgate.core.store.StoreView;
import dev.workgate.observability.SystemHealth.ComponentHealth;
import dev.workgate.observability.SystemHealth.HealthIssue;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@value WorkgateHealth#STORE} component: the ping of the round answers in time, a node's own
 * writes do not keep failing (judged by {@link StoreWriteCheck}), and no rows are quarantined.
 * Blocks only on the round's ping, which {@link WorkgateHealth} bounds; the writes and the
 * quarantined rows are read from memory. Stateless and thread-safe.
 */
final class StoreCheck implements ComponentCheck {
  /** The logger that names each quarantined row, for the store's recommendation. */
  static final String QUARANTINE_LOGGER = "dev.workgate.core.internal.jdbc.Quarantine";

  private final Workgate workgate; // null over a store alone
  private final StoreView store;
  private final Duration storePingTimeout;
  private final int failedWritesThreshold;

  /**
   * @param workgate the node, or null over a store alone (no writes of its own to judge)
   * @param store the store
   * @param storePingTimeout how long the ping may take, for details and messages
   * @param failedWritesThreshold failed writes in a row from which the store is critical
   */
  StoreCheck(
      Workgate workgate, StoreView store, Duration storePingTimeout, int failedWritesThreshold) {
    this.workgate = workgate;
    this.store = store;
    this.storePingTimeout = storePingTimeout;
    this.failedWritesThreshold = failedWritesThreshold;
  }

  @Override
  public String component() {
    return WorkgateHealth.STORE;
  }

  @Override
  public ComponentHealth check(HealthRound round) {
    Instant now = round.now();
    BoundedRead.Outcome<Boolean> pinged = round.pinged();
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("pingTimeoutMs", storePingTimeout.toMillis());
    String recommendation =
        "check the database: its load, locks, connection pool and the network to it"
            + (workgate == null
                ? ""
                : "; the scheduler loop is probably waiting on it too (see the scheduler"
                    + " component)");
    List<HealthIssue> issues = new ArrayList<>();
    switch (pinged.kind()) {
      case ANSWERED:
        details.put("pingMs", pinged.took().toMillis());
        break;
      case UNANSWERED:
        details.put("pingStartedAt", pinged.startedAt().toString());
        issues.add(
            HealthIssue.critical(
                WorkgateHealth.STORE,
                pinged.startedHere()
                    ? "store did not answer within " + Text.duration(storePingTimeout)
                    : "store has not answered a ping started "
                        + Text.duration(
                            ComponentCheck.nonNegative(Duration.between(pinged.startedAt(), now)))
                        + " ago (timeout "
                        + Text.duration(storePingTimeout)
                        + "); no new ping starts until it returns",
                recommendation));
        break;
      case FAILED:
        issues.add(
            HealthIssue.critical(
                WorkgateHealth.STORE,
                "store ping failed with "
                    + HealthText.classesOnly(pinged.failure())
                    + "; the store's own message is only in the node's log, as it can name the"
                    + " database and its user",
                recommendation
                    + "; the full error is logged by "
                    + WorkgateHealth.class.getName()));
        break;
      default:
        issues.add(
            HealthIssue.critical(
                WorkgateHealth.STORE,
                "store not checked: this WorkgateHealth is closed",
                "create a new WorkgateHealth; a closed one does not read the store"));
    }
    if (workgate != null) {
      StoreWriteCheck.judge(
          workgate.storeWrites(), localFile(), failedWritesThreshold, now, details, issues);
    }
    // Read from the store instance's memory, not from the database: answers while it hangs.
    long quarantined = quarantinedRows();
    if (quarantined >= 0) {
      details.put("quarantinedRows", quarantined);
    }
    if (quarantined > 0) {
      issues.add(
          HealthIssue.warning(
              WorkgateHealth.STORE,
              quarantined
                  + " unreadable row(s) quarantined: their work orders are skipped by claims and"
                  + " their events by reads of the whole log",
              "find them in the WARN log of "
                  + QUARANTINE_LOGGER
                  + " (work order and position) or with rebuildProjection(VERIFY), then upgrade"
                  + " the node if a newer Workgate wrote them, or repair or remove them; see the"
                  + " runbook in docs/operations.md"));
    }
    return ComponentHealth.of(WorkgateHealth.STORE, details, issues);
  }

  /** The store's local file, if it has one and says so. */
  private Optional<Path> localFile() {
    try {
      return store.localFile();
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * The store's quarantined rows, or -1 if a store in front of it fails to say (the ping tells).
   */
  private long quarantinedRows() {
    try {
      return store.quarantinedRows();
    } catch (RuntimeException e) {
      return -1;
    }
  }
}
