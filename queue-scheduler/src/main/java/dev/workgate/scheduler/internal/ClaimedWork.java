package dev.workgate.scheduler.internal;

import dev.workgate.core.Progress;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One work order this node claimed, with the resources reserved for it: what the {@link Scheduler}
 * hands to its {@link WorkDispatcher}. The lease keeper renews its lease until {@link #release()}.
 *
 * <p>It also keeps the expiry of the lease this node last wrote successfully ({@link
 * #leaseExpiresAt()}): if no renewal succeeds before that expiry minus the scheduler's {@link
 * SchedulerConfig#selfFenceMargin() self-fence margin}, the scheduler stops the work itself ({@link
 * #isSelfFenced()}). Thread-safe.
 */
public final class ClaimedWork {
  private final WorkOrderView claimed;
  private final SlotLease slot;
  private final Instant claimedAt;
  private final Scheduler scheduler;
  private final AtomicBoolean released = new AtomicBoolean();
  private final AtomicBoolean cancellationSignalled = new AtomicBoolean();
  private final AtomicBoolean leaseLostSignalled = new AtomicBoolean();
  private final AtomicReference<Instant> leaseExpiresAt;
  private volatile boolean selfFenced;

  /** The attempt's latest progress and whether the store has it yet. */
  private final AtomicReference<Progress> progress = new AtomicReference<>();

  private final AtomicBoolean progressWritten = new AtomicBoolean(true);

  ClaimedWork(
      WorkOrderView claimed,
      SlotLease slot,
      Instant claimedAt,
      Instant leaseExpiresAt,
      Scheduler scheduler) {
    this.claimed = Objects.requireNonNull(claimed, "claimed");
    this.slot = Objects.requireNonNull(slot, "slot");
    this.claimedAt = Objects.requireNonNull(claimedAt, "claimedAt");
    this.leaseExpiresAt =
        new AtomicReference<>(Objects.requireNonNull(leaseExpiresAt, "leaseExpiresAt"));
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
  }

  /**
   * The work order as the claim left it ({@code PREPARING}, or {@code RUNNING} if the claim also
   * started it; this node's lease, the new attempt). Append the next event under its {@link
   * WorkOrderView#version()}.
   *
   * @return the view after the claim
   */
  public WorkOrderView view() {
    return claimed;
  }

  /**
   * Keeps the attempt's latest progress, for the next lease renewal to write: any number of reports
   * between two renewals cost one write.
   *
   * @param latest the progress
   */
  public void reportProgress(Progress latest) {
    progress.set(Objects.requireNonNull(latest, "progress"));
    progressWritten.set(false);
  }

  /**
   * The latest progress while the store does not have it yet, for a renewal to write; marks it
   * taken. Give it back with {@link #progressNotWritten} if the write fails.
   *
   * @return the progress to write, or null when the store has the latest
   */
  Progress takeProgressToWrite() {
    return progressWritten.compareAndSet(false, true) ? progress.get() : null;
  }

  /** A renewal that took the progress did not write it: the next one writes it. */
  void progressNotWritten() {
    progressWritten.set(false);
  }

  /**
   * The latest progress reported, written or not.
   *
   * @return the progress, or empty when none was reported
   */
  public java.util.Optional<Progress> progress() {
    return java.util.Optional.ofNullable(progress.get());
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
   * The expiry of the lease this node last wrote successfully, by the scheduler's clock: the
   * claim's, then the expiry passed to each renewal that answered true. The expiry is computed
   * before the renewal is sent, so it is never later than what the store holds.
   *
   * @return the expiry
   */
  public Instant leaseExpiresAt() {
    return leaseExpiresAt.get();
  }

  /**
   * Whether the scheduler stopped this work itself because no renewal succeeded before its lease's
   * expiry minus the self-fence margin (the store did not answer, or answered too late). {@link
   * WorkDispatcher#leaseLost} was called for it.
   *
   * @return true once self-fenced
   */
  public boolean isSelfFenced() {
    return selfFenced;
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

  boolean isLeaseLostSignalled() {
    return leaseLostSignalled.get();
  }

  /** Marks the work self-fenced: true the first time, if no lost lease was signalled before. */
  boolean markSelfFenced() {
    if (!leaseLostSignalled.compareAndSet(false, true)) {
      return false;
    }
    selfFenced = true;
    return true;
  }

  /** A renewal to {@code expiry} answered true: the lease runs at least until then. */
  void leaseWritten(Instant expiry) {
    leaseExpiresAt.accumulateAndGet(expiry, (a, b) -> b.isAfter(a) ? b : a);
  }

  @Override
  public String toString() {
    return "ClaimedWork{" + claimed.id() + ", attempt " + claimed.attempt() + "}";
  }
}
