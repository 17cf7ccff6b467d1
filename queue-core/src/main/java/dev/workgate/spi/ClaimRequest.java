package dev.workgate.spi;

import dev.workgate.core.internal.Text;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * A claim: take up to {@code limit} {@link dev.workgate.core.WorkOrderState#PENDING} work orders of
 * {@code queue} whose availability time is at or before {@code now} and whose resources fit {@code
 * capacity} (what each claimed work order takes is subtracted before the next is considered), in
 * order of priority (higher first), then submission; each gets a lease for {@code owner} until
 * {@code now + leaseDuration}. Immutable.
 *
 * @param queue the queue to claim from
 * @param owner the claiming node
 * @param limit the most work orders to claim, at least 1
 * @param capacity free capacity the claimed work orders must fit together
 * @param now the claimer's current time
 * @param leaseDuration how long the leases last unless renewed, positive
 */
public record ClaimRequest(
    String queue, String owner, int limit, Capacity capacity, Instant now, Duration leaseDuration) {

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
   * When the leases of this claim expire.
   *
   * @return {@code now + leaseDuration}
   */
  public Instant leaseExpiresAt() {
    return now.plus(leaseDuration);
  }
}
