package dev.workgate.scheduler;

import dev.workgate.core.WorkOrderId;
import dev.workgate.scheduler.internal.SchedulerConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A snapshot of one node's scheduler. Immutable and thread-safe.
 *
 * @param nodeId the node
 * @param running whether the loop thread runs
 * @param queueDepth work orders waiting ({@code PENDING} or {@code WAITING_RETRY}) per served queue
 * @param activeWork work this node has claimed and not yet released
 * @param activeByQueue the same per queue
 * @param lastClaimAt when this node last claimed work
 * @param lastHeartbeat when the loop last began a turn; empty before the first
 * @param heartbeatAge how long ago that was, by the scheduler's clock ({@link Duration#ZERO} before
 *     the first turn)
 * @param turns turns run since the scheduler was built
 * @param claimed work orders claimed since then
 * @param reaped expired leases this node reaped since then
 * @param selfFenced attempts this node stopped itself since then because it could not renew their
 *     leases in time (see {@link SchedulerConfig#selfFenceMargin()})
 * @param reservingFor the work order capacity is held back for, if one has starved
 * @param resources the resource monitor's report
 */
public record SchedulerStats(
    String nodeId,
    boolean running,
    Map<String, Long> queueDepth,
    int activeWork,
    Map<String, Integer> activeByQueue,
    Optional<Instant> lastClaimAt,
    Optional<Instant> lastHeartbeat,
    Duration heartbeatAge,
    long turns,
    long claimed,
    long reaped,
    long selfFenced,
    Optional<String> reservingFor,
    ResourceHealthReport resources) {

  /**
   * Pending work orders that no live node could ever run: they ask for more slots or memory than
   * any node that heartbeats in the node table offers (this node included), so they would wait
   * forever. The scheduler looks on each node heartbeat at the oldest 100 pending work orders of
   * each queue it serves: work that cannot run is never claimed, so it stays at the head of its
   * priority and is found there. Immutable.
   *
   * @param count how many were found
   * @param sample some of their ids, at most {@value #SAMPLE}
   * @param checkedAt when the scheduler last looked, empty before its first heartbeat
   */
  public record UnrunnableWork(int count, List<WorkOrderId> sample, Optional<Instant> checkedAt) {
    /** The most ids {@link #sample} holds. */
    public static final int SAMPLE = 10;

    /** Nothing found, nothing checked yet. */
    public static final UnrunnableWork NONE = new UnrunnableWork(0, List.of(), Optional.empty());

    /** Copies the sample and checks the count. */
    public UnrunnableWork {
      if (count < 0) {
        throw new IllegalArgumentException("count must not be negative, got " + count);
      }
      sample = List.copyOf(sample);
      Objects.requireNonNull(checkedAt, "checkedAt");
    }
  }
}
