package dev.workgate.spi;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import java.util.Objects;

/**
 * One work order taken by {@link WorkOrderStore#claimRecorded}: its view after the claim and the
 * {@code Claimed} event the claim wrote, so that a caller who reports the claim (a transition
 * listener, an audit trail) needs no second read of the work order's stream.
 *
 * <p>Immutable and thread-safe.
 *
 * @param view the work order after the claim
 * @param claimed the {@code Claimed} event the claim recorded, at the view's version
 */
public record Claim(WorkOrderView view, RecordedEvent claimed) {
  /**
   * Checks that the event is the claim of this view.
   *
   * @throws IllegalArgumentException if the event is not a {@code Claimed} event of the view's work
   *     order at the view's version
   */
  public Claim {
    Objects.requireNonNull(view, "view");
    Objects.requireNonNull(claimed, "claimed");
    if (!(claimed.event() instanceof WorkOrderEvent.Claimed)
        || !claimed.workOrderId().equals(view.id())
        || claimed.version() != view.version()) {
      throw new IllegalArgumentException(
          "the claimed event must be the Claimed event of "
              + view.id()
              + " at version "
              + view.version()
              + ", got "
              + claimed.event().type()
              + " of "
              + claimed.workOrderId()
              + " at version "
              + claimed.version());
    }
  }
}
