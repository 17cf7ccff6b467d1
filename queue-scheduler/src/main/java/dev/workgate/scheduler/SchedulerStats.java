package dev.workgate.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
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
    ResourceHealthReport resources) {}
