package dev.workgate.spi;

import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Text;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A claim: take up to {@code limit} {@link dev.workgate.core.WorkOrderState#PENDING} work orders of
 * {@code queue} whose availability time is at or before {@code now} and whose resources fit {@code
 * capacity} (what each claimed work order takes is subtracted before the next is considered), in
 * order of priority (higher first), then submission; each gets a lease for {@code owner} until
 * {@code now + leaseDuration}. Immutable, and thread-safe if its {@link #start} is.
 *
 * <p>With a {@link #start}, the claim also starts the work orders whose sandbox needs no
 * preparation: for each claimed work order the store asks {@link StartOnClaim#sandboxId} and, when
 * it names a sandbox, writes {@code Started} with that id right after {@code Claimed}, in the same
 * atomic step. Both events keep their own versions in the log; the work order leaves the claim
 * {@link dev.workgate.core.WorkOrderState#RUNNING} at the version of its {@code Started}, and the
 * {@link Claim} carries both events. A work order for which it names nothing is claimed alone and
 * stays {@link dev.workgate.core.WorkOrderState#PREPARING}, as without a start. Example:
 *
 * <pre>{@code
 * ClaimRequest request =
 *     new ClaimRequest(queue, nodeId, 10, capacity, now, lease)
 *         .withStart(claimed -> Optional.of("sandbox-" + claimed.id().value()));
 * }</pre>
 *
 * @param queue the queue to claim from
 * @param owner the claiming node
 * @param limit the most work orders to claim, at least 1
 * @param capacity free capacity the claimed work orders must fit together
 * @param now the claimer's current time
 * @param leaseDuration how long the leases last unless renewed, positive
 * @param start how to start claimed work orders in the claim, or null to claim only
 */
public record ClaimRequest(
    String queue,
    String owner,
    int limit,
    Capacity capacity,
    Instant now,
    Duration leaseDuration,
    StartOnClaim start) {

  /**
   * Names the sandbox a claimed work order starts in, when its sandbox is known before it is made
   * and making it prepares nothing (an in-process sandbox). The store calls it inside the claim
   * (under its lock, or in its transaction) once per claimed work order, with the work order as the
   * claim left it ({@code PREPARING}, the new attempt, this claim's lease), through {@link
   * ClaimRequest#startIn}: it must be quick, must not call the store, and must be safe to call from
   * any thread. An exception it throws, or a name that {@code Started} would refuse, leaves that
   * work order claimed but not started ({@code PREPARING}), as if it had named nothing.
   */
  @FunctionalInterface
  public interface StartOnClaim {
    /**
     * The sandbox id to record in {@code Started}.
     *
     * @param claimed the work order after its {@code Claimed}
     * @return the sandbox id (a valid name, as {@code Started} requires), or empty to leave the
     *     work order {@code PREPARING}
     */
    Optional<String> sandboxId(WorkOrderView claimed);
  }

  /**
   * Validates the request.
   *
   * @throws IllegalArgumentException naming the bad field
   */
  public ClaimRequest {
    Text.requireName(queue, "claim queue");
    Text.requireName(owner, "claim owner");
    if (limit < 1) {
      throw new IllegalArgumentException("claim limit must be at least 1, got " + limit);
    }
    Objects.requireNonNull(capacity, "capacity");
    Objects.requireNonNull(now, "now");
    if (leaseDuration == null || leaseDuration.isNegative() || leaseDuration.isZero()) {
      throw new IllegalArgumentException(
          "claim leaseDuration must be positive, got " + leaseDuration);
    }
  }

  /**
   * A claim that starts nothing: every claimed work order stays {@code PREPARING}.
   *
   * @param queue the queue to claim from
   * @param owner the claiming node
   * @param limit the most work orders to claim, at least 1
   * @param capacity free capacity the claimed work orders must fit together
   * @param now the claimer's current time
   * @param leaseDuration how long the leases last unless renewed, positive
   * @throws IllegalArgumentException naming the bad field
   */
  public ClaimRequest(
      String queue,
      String owner,
      int limit,
      Capacity capacity,
      Instant now,
      Duration leaseDuration) {
    this(queue, owner, limit, capacity, now, leaseDuration, null);
  }

  /**
   * This request with a start: the claimed work orders {@code start} names a sandbox for are
   * started in the claim.
   *
   * @param start names the sandboxes
   * @return a new request
   * @throws NullPointerException if {@code start} is null
   */
  public ClaimRequest withStart(StartOnClaim start) {
    return new ClaimRequest(
        queue, owner, limit, capacity, now, leaseDuration, Objects.requireNonNull(start, "start"));
  }

  /**
   * The sandbox a claimed work order starts in, as {@link #start} names it: what a store calls for
   * each work order it claims. Never throws: a start that throws, returns null, or names a sandbox
   * {@code Started} would refuse gives empty.
   *
   * @param claimed the work order after its {@code Claimed}
   * @return a valid sandbox id, or empty when the request has no start or it names none
   */
  public Optional<String> startIn(WorkOrderView claimed) {
    if (start == null) {
      return Optional.empty();
    }
    try {
      Optional<String> named = start.sandboxId(claimed);
      if (named == null || named.isEmpty()) {
        return Optional.empty();
      }
      Text.requireName(named.get(), "Started.sandboxId");
      return named;
    } catch (RuntimeException refused) {
      return Optional.empty();
    }
  }

  /**
   * When the leases of this claim expire.
   *
   * @return {@code now + leaseDuration}
   */
  public Instant leaseExpiresAt() {
    return now.plus(leaseDuration);
  }
}
