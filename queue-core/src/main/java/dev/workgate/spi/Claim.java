package dev.workgate.spi;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import java.util.Objects;
import java.util.Optional;

/**
 * One work order taken by {@link WorkOrderStore#claimRecorded}: its view after the claim, the
 * {@code Claimed} event the claim wrote and, when the claim also started it ({@link
 * ClaimRequest#start}), its {@code Started} event, so that a caller who reports the claim (a
 * transition listener, an audit trail) needs no second read of the work order's stream.
 *
 * <p>Immutable and thread-safe.
 *
 * @param view the work order after the claim: {@code PREPARING} at the version of {@code claimed},
 *     or {@code RUNNING} at the version of {@code started}
 * @param claimed the {@code Claimed} event the claim recorded
 * @param started the {@code Started} event the claim recorded right after it, if it started the
 *     work order
 */
public record Claim(WorkOrderView view, RecordedEvent claimed, Optional<RecordedEvent> started) {
  /**
   * Checks that the events are the claim (and start) of this view.
   *
   * @throws IllegalArgumentException if {@code claimed} is not a {@code Claimed} event of the
   *     view's work order, or the versions do not end at the view's: {@code claimed} at the view's
   *     version without a start, else {@code Started} of the same work order at the view's version
   *     and {@code claimed} just before it
   */
  public Claim {
    Objects.requireNonNull(view, "view");
    Objects.requireNonNull(claimed, "claimed");
    Objects.requireNonNull(started, "started");
    long claimedAt = started.isPresent() ? view.version() - 1 : view.version();
    if (!(claimed.event() instanceof WorkOrderEvent.Claimed)
        || !claimed.workOrderId().equals(view.id())
        || claimed.version() != claimedAt) {
      throw new IllegalArgumentException(
          "the claimed event must be the Claimed event of "
              + view.id()
              + " at version "
              + claimedAt
              + ", got "
              + claimed.event().type()
              + " of "
              + claimed.workOrderId()
              + " at version "
              + claimed.version());
    }
    if (started.isPresent()) {
      RecordedEvent s = started.get();
      if (!(s.event() instanceof WorkOrderEvent.Started)
          || !s.workOrderId().equals(view.id())
          || s.version() != view.version()) {
        throw new IllegalArgumentException(
            "the started event must be the Started event of "
                + view.id()
                + " at version "
                + view.version()
                + ", got "
                + s.event().type()
                + " of "
                + s.workOrderId()
                + " at version "
                + s.version());
      }
    }
  }

  /**
   * A claim that did not start the work order.
   *
   * @param view the work order after the claim, {@code PREPARING}
   * @param claimed the {@code Claimed} event at the view's version
   * @throws IllegalArgumentException if the event is not the claim of the view
   */
  public Claim(WorkOrderView view, RecordedEvent claimed) {
    this(view, claimed, Optional.empty());
  }
}
