package dev.workgate.core.internal;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.ExpectedVersion;
import java.util.List;
import java.util.Objects;

/**
 * Cancelling a work order with store appends alone, for every caller that cancels: a node ({@code
 * Workgate.cancel}), an admin tool, an HTTP endpoint over a store.
 *
 * <p>{@link #request} reads the work order and appends under {@link ExpectedVersion#exactly} the
 * version it read:
 *
 * <ul>
 *   <li>ended ({@code COMPLETED}, {@code FAILED}, {@code CANCELLED}): nothing is appended ({@link
 *       Result#ALREADY_ENDED});
 *   <li>waiting ({@code PENDING}, {@code WAITING_RETRY}, {@code BLOCKED}): {@code
 *       Cancelled(reason)}, and it has ended ({@link Result#CANCELLED});
 *   <li>active ({@code PREPARING}, {@code RUNNING}): {@code CancellationRequested(reason)} ({@link
 *       Result#CANCELLATION_REQUESTED}), unless a request is recorded already ({@link
 *       Result#ALREADY_REQUESTED}). The node that holds the lease stops the work and appends {@code
 *       Cancelled}: at once if it is the caller, otherwise at its next lease renewal.
 * </ul>
 *
 * If another writer appends between the read and the append, the append fails its version check,
 * nothing is written, and the work order is read again: up to {@value #MAX_ATTEMPTS} times.
 *
 * <pre>{@code
 * Cancellations.Outcome outcome = Cancellations.request(store, id, "not needed any more");
 * if (outcome.result() == Cancellations.Result.CANCELLATION_REQUESTED) {
 *   // it runs: its owner node stops it
 * }
 * }</pre>
 *
 * <p>Thread-safe as far as the store is: concurrent requests for one work order append at most one
 * {@code Cancelled} or one {@code CancellationRequested}, and the others see it.
 */
public final class Cancellations {
  /**
   * Reads and appends at most ten times: a work order changes a few times in its life (claim,
   * start, outcome), so ten lost races in a row mean something appends to it in a loop.
   */
  public static final int MAX_ATTEMPTS = 10;

  private Cancellations() {}

  /** What a request did. */
  public enum Result {
    /** The work order had ended (completed, failed or cancelled); nothing was appended. */
    ALREADY_ENDED,
    /** It was waiting; {@code Cancelled} was appended and it has ended. */
    CANCELLED,
    /** It was active; {@code CancellationRequested} was appended for its owner node to act on. */
    CANCELLATION_REQUESTED,
    /** It was active and its cancellation had been requested before; nothing was appended. */
    ALREADY_REQUESTED
  }

  /**
   * What a request did, and the work order as read right before.
   *
   * @param result what was done
   * @param view the view the decision was taken on: before the append, so its state is the one the
   *     work order was cancelled from (for {@link Result#ALREADY_REQUESTED}, its {@code
   *     cancellationRequested()} holds the earlier reason)
   */
  public record Outcome(Result result, WorkOrderView view) {
    /**
     * Checks the parts.
     *
     * @throws NullPointerException if a part is null
     */
    public Outcome {
      Objects.requireNonNull(result, "result");
      Objects.requireNonNull(view, "view");
    }

    /**
     * Whether the work order is cancelled or on its way to be: every result but {@link
     * Result#ALREADY_ENDED}.
     *
     * @return false if it had already ended
     */
    public boolean cancelledOrRequested() {
      return result != Result.ALREADY_ENDED;
    }

    /**
     * The reason the owner node is asked to stop with: the one recorded first.
     *
     * @param requested the reason given to {@link #request}
     * @return the earlier reason for {@link Result#ALREADY_REQUESTED}, else {@code requested}
     */
    public String effectiveReason(String requested) {
      return view.cancellationRequested().orElse(requested);
    }
  }

  /**
   * Cancels a work order, or asks its owner node to; see the class description.
   *
   * @param store the store
   * @param id the work order
   * @param reason why, for a person; recorded in the event (NUL and unpaired surrogates replaced by
   *     U+FFFD)
   * @return what was done, with the view it was done on
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if there is no such work order, or the reason is longer than
   *     {@link Text#MAX_REASON_LENGTH} (nothing is read or appended then)
   * @throws IllegalStateException if the work order changed under each of {@value #MAX_ATTEMPTS}
   *     attempts
   * @throws StoreException if the store fails
   */
  public static Outcome request(WorkOrderStore store, WorkOrderId id, String reason) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(reason, "reason");
    Text.requireFreeText(reason, "cancellation reason", Text.MAX_REASON_LENGTH);
    for (int i = 0; i < MAX_ATTEMPTS; i++) {
      WorkOrderView view =
          store.find(id).orElseThrow(() -> new IllegalArgumentException("no work order " + id));
      if (view.state().isTerminal()) {
        return new Outcome(Result.ALREADY_ENDED, view);
      }
      if (view.state().isActive() && view.cancellationRequested().isPresent()) {
        return new Outcome(Result.ALREADY_REQUESTED, view);
      }
      boolean waiting = !view.state().isActive();
      WorkOrderEvent event =
          waiting
              ? new WorkOrderEvent.Cancelled(reason)
              : new WorkOrderEvent.CancellationRequested(reason);
      try {
        store.append(id, ExpectedVersion.exactly(view.version()), List.of(event));
      } catch (ConcurrencyException raced) {
        continue; // it changed between the read and the append: read it again
      }
      return new Outcome(waiting ? Result.CANCELLED : Result.CANCELLATION_REQUESTED, view);
    }
    throw new IllegalStateException(
        "work order " + id + " kept changing under " + MAX_ATTEMPTS + " attempts to cancel it");
  }
}
