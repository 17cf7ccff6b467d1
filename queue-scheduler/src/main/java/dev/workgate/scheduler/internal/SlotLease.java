package dev.workgate.scheduler.internal;

import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderId;
import java.time.Instant;

/**
 * The slots and memory one admitted work order holds in a {@link ResourceMonitor}, from {@link
 * ResourceMonitor#tryAcquire} until {@link ResourceMonitor#release}. Thread-safe: all fields but
 * the released flag are final, and the flag is volatile.
 */
public final class SlotLease {
  private final ResourceMonitor owner;
  private final WorkOrderId workOrderId;
  private final ResourceRequest resources;
  private final Instant acquiredAt;
  private final long sequence;
  private volatile boolean released;

  SlotLease(
      ResourceMonitor owner,
      WorkOrderId workOrderId,
      ResourceRequest resources,
      Instant acquiredAt,
      long sequence) {
    this.owner = owner;
    this.workOrderId = workOrderId;
    this.resources = resources;
    this.acquiredAt = acquiredAt;
    this.sequence = sequence;
  }

  /**
   * The work order that holds the lease.
   *
   * @return the id
   */
  public WorkOrderId workOrderId() {
    return workOrderId;
  }

  /**
   * What the lease reserves: the effective request (see {@link ResourceMonitor#effective}), which
   * may hold more memory than the work order declared.
   *
   * @return the slots and memory reserved
   */
  public ResourceRequest resources() {
    return resources;
  }

  /**
   * When the monitor granted the lease, by its clock.
   *
   * @return the instant
   */
  public Instant acquiredAt() {
    return acquiredAt;
  }

  /**
   * Whether the lease has been released; once true it stays true.
   *
   * @return true after the first {@link ResourceMonitor#release}
   */
  public boolean isReleased() {
    return released;
  }

  ResourceMonitor owner() {
    return owner;
  }

  long sequence() {
    return sequence;
  }

  /** Marks the lease released; called under the monitor's lock. */
  void markReleased() {
    released = true;
  }

  @Override
  public String toString() {
    return "SlotLease{workOrderId="
        + workOrderId.value()
        + ", resources="
        + resources
        + ", acquiredAt="
        + acquiredAt
        + ", released="
        + released
        + "}";
  }
}
