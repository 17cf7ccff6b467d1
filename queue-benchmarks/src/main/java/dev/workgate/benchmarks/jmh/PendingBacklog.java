package dev.workgate.benchmarks.jmh;

import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.ClaimRequest;
import java.util.List;

/**
 * The PENDING work orders of {@link WorkOrders#QUEUE} that a durable store's claim benchmark takes
 * from, counted so that they can be topped up outside the measured code before they run out. Not
 * thread-safe: each instance belongs to one {@code Scope.Thread} state.
 */
final class PendingBacklog {
  /** Work orders added at a time when the backlog runs low. */
  static final int TOP_UP = 10_000;

  /** Work orders per {@code appendAll} (one transaction) while topping up. */
  static final int SUBMIT_BATCH = 500;

  private final WorkOrderStore store;
  private int pending;

  /**
   * A backlog of a store whose queue has no PENDING work orders yet.
   *
   * @param store the store
   */
  PendingBacklog(WorkOrderStore store) {
    this.store = store;
  }

  /**
   * Makes sure at least {@code needed} work orders are PENDING, adding {@value #TOP_UP} at a time.
   *
   * @param needed how many the next claim takes
   */
  void ensure(int needed) {
    while (pending < needed) {
      WorkOrders.submit(store, TOP_UP, WorkOrders.QUEUE, SUBMIT_BATCH);
      pending += TOP_UP;
    }
  }

  /**
   * Claims exactly {@code request.limit()} work orders.
   *
   * @param request the claim
   * @return the claimed views
   * @throws IllegalStateException if the store returned fewer: the figure would be wrong
   */
  List<WorkOrderView> claim(ClaimRequest request) {
    List<WorkOrderView> got = store.claim(request);
    if (got.size() != request.limit()) {
      throw new IllegalStateException(
          "the backlog ran dry: a claim of "
              + request.limit()
              + " got "
              + got.size()
              + " with "
              + pending
              + " counted as pending");
    }
    pending -= got.size();
    return got;
  }
}
