package dev.workgate.core.store;

import dev.workgate.core.ResourceRequest;
import dev.workgate.core.Text;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * What one node sharing a store says about itself in the store's node table: its capacity, what it
 * uses now and when it last said so. Each node's scheduler writes its own row on its heartbeat
 * ({@link WorkOrderStore#recordNode}); every node and client reads all rows ({@link
 * WorkOrderStore#nodes}) for the fit check at submit, cluster health and the node list.
 *
 * <p>A node is live while its heartbeat is recent ({@link #isLive}); a row whose heartbeat is old
 * is a node that stopped without removing it (a crash) and is ignored, then pruned.
 *
 * @param id the node id; follows the name rule of {@link Text#requireName}
 * @param slots the most slots the node runs at once, at least 1
 * @param memoryMb the most memory one work order could ever be given there: its memory budget, or
 *     the memory it reads minus the free memory it keeps; 0 when the node does not know (no budget
 *     and no reading yet), which no memory request exceeds
 * @param slotsInUse slots held by running work, 0 to {@code slots}
 * @param memoryMbInUse memory reserved by running work, at least 0
 * @param pressure the node's memory pressure level ({@code NONE}, {@code WARNING}, {@code
 *     CRITICAL}); follows the name rule
 * @param version the Workgate version the node runs; follows the name rule
 * @param startedAt when the node started
 * @param lastHeartbeat when the node wrote this row, by its clock
 */
public record NodeStatus(
    String id,
    int slots,
    long memoryMb,
    int slotsInUse,
    long memoryMbInUse,
    String pressure,
    String version,
    Instant startedAt,
    Instant lastHeartbeat) {

  /**
   * How long a node's row counts after its last heartbeat for the fit check at submit, and is kept:
   * a submit is refused only when no node seen within this time could run it, so a large node that
   * is being redeployed, or down for a while, still counts and its work is accepted and waits. Rows
   * silent for longer are removed by the nodes' heartbeats.
   */
  public static final Duration FORGET_AFTER = Duration.ofHours(1);

  /**
   * Validates the row.
   *
   * @throws IllegalArgumentException naming the field that is out of range
   * @throws NullPointerException if a time is null
   */
  public NodeStatus {
    Text.requireName(id, "NodeStatus.id");
    Text.requireName(pressure, "NodeStatus.pressure");
    Text.requireName(version, "NodeStatus.version");
    Objects.requireNonNull(startedAt, "NodeStatus.startedAt");
    Objects.requireNonNull(lastHeartbeat, "NodeStatus.lastHeartbeat");
    if (slots < 1) {
      throw new IllegalArgumentException("NodeStatus.slots must be at least 1, got " + slots);
    }
    if (memoryMb < 0 || memoryMbInUse < 0) {
      throw new IllegalArgumentException(
          "NodeStatus memory must not be negative, got memoryMb "
              + memoryMb
              + ", memoryMbInUse "
              + memoryMbInUse);
    }
    if (slotsInUse < 0 || slotsInUse > slots) {
      throw new IllegalArgumentException(
          "NodeStatus.slotsInUse must be between 0 and slots (" + slots + "), got " + slotsInUse);
    }
  }

  /**
   * Whether the node's heartbeat is recent enough to count it as running.
   *
   * @param now the reader's time
   * @param ttl how old a heartbeat may be
   * @return true if {@code lastHeartbeat} is no older than {@code ttl} at {@code now}
   */
  public boolean isLive(Instant now, Duration ttl) {
    return !lastHeartbeat.isBefore(now.minus(ttl));
  }

  /**
   * Whether a work order asking for {@code request} could ever run on this node once it is idle. A
   * request without memory (0) needs only slots: the node gives it its memory per slot.
   *
   * @param request what the work order asks for
   * @return true if the slots fit and the memory fits or is unknown
   */
  public boolean couldEverRun(ResourceRequest request) {
    return request.slots() <= slots
        && (memoryMb == 0 || request.memoryMb() == 0 || request.memoryMb() <= memoryMb);
  }
}
