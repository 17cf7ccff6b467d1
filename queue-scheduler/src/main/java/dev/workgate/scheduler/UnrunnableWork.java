package dev.workgate.scheduler;

import dev.workgate.core.WorkOrderId;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Pending work orders that no live node could ever run: they ask for more slots or memory than any
 * node that heartbeats in the node table offers (this node included), so they would wait forever.
 * The scheduler looks on each node heartbeat at the oldest {@value NodeHeartbeat#SCAN_PER_QUEUE}
 * pending work orders of each queue it serves: work that cannot run is never claimed, so it stays
 * at the head of its priority and is found there. Immutable.
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
