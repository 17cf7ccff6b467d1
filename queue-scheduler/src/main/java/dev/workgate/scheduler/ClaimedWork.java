package dev.workgate.scheduler;

import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One work order this node claimed, with the resources reserved for it: what the {@link Scheduler}
 * hands to its {@link WorkDispatcher}. The lease keeper renews its lease until {@link #release()}.
 * Thread-safe.
 */
public final class ClaimedWork {
  private final WorkOrderView claimed;
  private final SlotLease slot;
  private final Instant claimedAt;
  private final Scheduler scheduler;
  private final AtomicBoolean released = new AtomicBoolean();
  private final AtomicBoolean cancellationSignalled = new AtomicBoolean();
  private final AtomicBoolean leaseLostSignalled = new AtomicBoolean();

  ClaimedWork(WorkOrderView claimed, SlotLease slot, Instant claimedAt, Scheduler scheduler) {
    this.claimed = Objects.requireNonNull(claimed, "claimed");
    this.slot = Objects.requireNonNull(slot, "slot");
    this.claimedAt = Objects.requireNonNull(claimedAt, "claimedAt");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
  }

  /**
   * The work order as the claim left it ({@code PREPARING}, this node's lease, the new attempt).
   * Append the next event under its {@link WorkOrderView#version()}.
   *
   * @return the view after the claim
   */
  public WorkOrderView view() {
    return claimed;
  }

  /**
   * The work order.
   *
   * @return its id
   */
  public WorkOrderId id() {
    return claimed.id();
  }

  /**
   * The attempt this claim started.
   *
   * @return at least 1
   */
  public int attempt() {
    return claimed.attempt();
  }

  /**
   * The resources reserved for this work.
   *
   * @return the slot lease
   */
  public SlotLease slot() {
    return slot;
  }

  /**
   * When the scheduler claimed it, by its clock.
   *
   * @return the time
   */
  public Instant claimedAt() {
    return claimedAt;
  }

  /**
   * Gives the resources back and stops renewing the lease: call it once the work no longer uses the
   * node (its sandbox is destroyed), in every outcome. Wakes the scheduler, which may start waiting
   * work at once. Idempotent.
   *
   * @return true the first time
   */
  public boolean release() {
    if (!released.compareAndSet(false, true)) {
      return false;
    }
    scheduler.released(this);
    return true;
  }

  /**
   * Whether {@link #release()} was called.
   *
   * @return true once released
   */
  public boolean isReleased() {
    return released.get();
  }

  boolean markCancellationSignalled() {
    return cancellationSignalled.compareAndSet(false, true);
  }

  boolean markLeaseLostSignalled() {
    return leaseLostSignalled.compareAndSet(false, true);
  }

  @Override
  public String toString() {
    return "ClaimedWork{" + claimed.id() + ", attempt " + claimed.attempt() + "}";
  }
}
