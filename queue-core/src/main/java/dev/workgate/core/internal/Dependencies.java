package dev.workgate.core.internal;

import dev.workgate.core.BatchId;
import dev.workgate.core.DependencyFailure;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.StoreView;
import dev.workgate.core.store.WorkOrderQuery;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The rules of work that waits for other work, in one place for the client that submits and
 * resubmits and the node that decides: what a spec's {@code after} and {@code afterBatches} resolve
 * to, and when a blocked work order may run or must be cancelled.
 *
 * <p>Stateless; thread-safe.
 */
public final class Dependencies {

  /** The longest chain of resubmissions followed from one work order to its newest. */
  static final int MAX_RESUBMISSION_HOPS = 100;

  private Dependencies() {}

  /**
   * The work orders a spec waits for, each replaced by its newest resubmission: its {@code after}
   * ids in order, then the work orders of its batches (those not resubmitted, in submission order),
   * without repeats.
   *
   * @param store where they are
   * @param spec the spec
   * @return their views, in that order
   * @throws IllegalArgumentException naming a work order or batch that does not exist, or if they
   *     are more than a Submitted event may carry
   */
  public static List<WorkOrderView> resolve(StoreView store, WorkOrderSpec spec) {
    Map<WorkOrderId, WorkOrderView> out = new LinkedHashMap<>();
    for (WorkOrderId id : spec.after()) {
      WorkOrderView v =
          store
              .find(id)
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "after: work order "
                              + id
                              + " does not exist (a work order can wait only"
                              + " for one submitted before it)"));
      WorkOrderView newest = newest(store, v);
      out.putIfAbsent(newest.id(), newest);
    }
    for (BatchId batch : spec.afterBatches()) {
      List<WorkOrderView> members = currentMembers(store, batch);
      if (members.isEmpty()) {
        throw new IllegalArgumentException(
            "afterBatch: batch " + batch + " does not exist (it has no work orders)");
      }
      members.forEach(v -> out.putIfAbsent(v.id(), v));
    }
    if (out.size() > WorkOrderEvent.Submitted.MAX_DEPENDENCIES) {
      throw new IllegalArgumentException(
          "a work order may wait for at most "
              + WorkOrderEvent.Submitted.MAX_DEPENDENCIES
              + " others, its spec names "
              + out.size());
    }
    return List.copyOf(out.values());
  }

  /**
   * The newest work order resubmitted, directly or along a chain, from this one; itself when none
   * was.
   *
   * @param store where they are
   * @param view the work order
   * @return the newest incarnation
   */
  public static WorkOrderView newest(StoreView store, WorkOrderView view) {
    WorkOrderView current = view;
    for (int hop = 0; hop < MAX_RESUBMISSION_HOPS; hop++) {
      List<WorkOrderView> next =
          store
              .query(
                  WorkOrderQuery.builder()
                      .resubmittedFrom(current.id())
                      .order(WorkOrderQuery.Order.NEWEST_FIRST)
                      .limit(1)
                      .build())
              .items();
      if (next.isEmpty()) {
        return current;
      }
      current = next.get(0);
    }
    return current;
  }

  /**
   * The work orders of a batch that no work order was resubmitted from: the batch as it stands, in
   * submission order.
   *
   * @param store where they are
   * @param batch the batch
   * @return their views
   */
  public static List<WorkOrderView> currentMembers(StoreView store, BatchId batch) {
    List<WorkOrderView> out = new ArrayList<>();
    WorkOrderQuery.Builder q =
        WorkOrderQuery.builder().batch(batch).notResubmitted().limit(WorkOrderQuery.MAX_LIMIT);
    WorkOrderQuery.Page<WorkOrderView> page = store.query(q.build());
    out.addAll(page.items());
    while (page.hasNext()) {
      page = store.query(q.after(page.nextCursor().getAsLong()).build());
      out.addAll(page.items());
    }
    return out;
  }

  /**
   * What a blocked work order's dependencies decide now: {@code DependenciesMet} when all completed
   * (or, under {@link DependencyFailure#RUN}, all ended), {@code DependencyFailed} for the first
   * that failed or was cancelled (or no longer exists) under {@link DependencyFailure#CANCEL},
   * nothing while one is still live.
   *
   * @param spec the blocked work order's spec
   * @param dependencies what it waits for, in order, each with its view as read now, or empty if it
   *     no longer exists
   * @return the event to append, or empty to go on waiting
   */
  public static Optional<WorkOrderEvent> decide(
      WorkOrderSpec spec, Map<WorkOrderId, Optional<WorkOrderView>> dependencies) {
    boolean cancel = spec.onDependencyFailure() == DependencyFailure.CANCEL;
    boolean live = false;
    for (Map.Entry<WorkOrderId, Optional<WorkOrderView>> d : dependencies.entrySet()) {
      WorkOrderState state = d.getValue().map(WorkOrderView::state).orElse(null);
      if (state == WorkOrderState.COMPLETED) {
        continue;
      }
      if (state == null || state == WorkOrderState.FAILED || state == WorkOrderState.CANCELLED) {
        if (cancel) {
          return Optional.of(new WorkOrderEvent.DependencyFailed(d.getKey(), state));
        }
      } else {
        live = true;
      }
    }
    return live ? Optional.empty() : Optional.of(new WorkOrderEvent.DependenciesMet());
  }

  /**
   * Reads what a blocked work order waits for and decides, as {@link #decide(WorkOrderSpec, Map)}.
   *
   * @param store where they are
   * @param blocked the blocked work order
   * @return the event to append, or empty to go on waiting
   */
  public static Optional<WorkOrderEvent> decide(StoreView store, WorkOrderView blocked) {
    Map<WorkOrderId, Optional<WorkOrderView>> deps = new LinkedHashMap<>();
    for (WorkOrderId id : blocked.dependencies()) {
      deps.put(id, store.find(id));
    }
    return decide(blocked.spec(), deps);
  }
}
