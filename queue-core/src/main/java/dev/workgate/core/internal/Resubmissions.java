package dev.workgate.core.internal;

import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Resubmission of ended work orders, in one place for the client (by hand) and the scheduler (a
 * dependent cancelled for a dependency that had been resubmitted already): a resubmitted work order
 * replaces a failed or cancelled one, records where it came from and joins its batch, and the
 * dependents its failure cancelled are resubmitted with it, each waiting for the newest incarnation
 * of what it waited for.
 *
 * <p>Thread-safe: holds no state of its own; many callers may resubmit the same work orders at
 * once, and the idempotency key of {@link #once} makes them agree on one resubmission each.
 */
public final class Resubmissions {
  /** The idempotency key prefix of a resubmission made at most once. */
  public static final String KEY_PREFIX = "resubmission-of:";

  private final WorkOrderStore store;
  private final Submissions submissions;

  /**
   * @param store where the work orders are
   * @param submissions the submit path (its depth limits and admission apply)
   */
  public Resubmissions(WorkOrderStore store, Submissions submissions) {
    this.store = store;
    this.submissions = submissions;
  }

  /**
   * Resubmits a failed or cancelled work order; a new work order on every call.
   *
   * @return the new work order
   * @throws IllegalArgumentException if there is no such work order
   * @throws IllegalStateException if it is not FAILED or CANCELLED
   */
  public Submissions.Outcome fresh(WorkOrderId failedOrCancelled) {
    WorkOrderView old = resubmittable(failedOrCancelled);
    WorkOrderSpec spec = old.spec().toBuilder().idempotencyKey(null).build();
    return submissions.submitTracked(spec, failedOrCancelled, old.batch().orElse(null));
  }

  /**
   * Resubmits a failed or cancelled work order at most once, under the key {@code
   * resubmission-of:<id>}: a second call, from anywhere, gets the first resubmission.
   *
   * @return the resubmission, and whether this call created it
   * @throws IllegalArgumentException if there is no such work order
   * @throws IllegalStateException if it is not FAILED or CANCELLED
   */
  public Submissions.Outcome once(WorkOrderId failedOrCancelled) {
    String key = KEY_PREFIX + failedOrCancelled.value();
    Optional<WorkOrderId> earlier = store.findByIdempotencyKey(key);
    if (earlier.isPresent()) {
      return new Submissions.Outcome(earlier.get(), false);
    }
    WorkOrderView old = resubmittable(failedOrCancelled);
    WorkOrderSpec spec = old.spec().toBuilder().idempotencyKey(key).build();
    return submissions.submitTracked(spec, failedOrCancelled, old.batch().orElse(null));
  }

  /**
   * Resubmits, once each, the work orders that were cancelled because this one (or, in turn, one of
   * them) failed ({@code DEPENDENCY_FAILED}), each after what it waits for: the order is
   * topological over the dependencies among them (a work order can only wait for one submitted
   * before it, so there is no cycle), ties in the order they were found. Idempotent: run again
   * after a crash in the middle, it resubmits only what is missing.
   *
   * @param resubmitted the work order that was resubmitted
   * @return the resubmissions, in the order they were made
   */
  public List<Submissions.Outcome> dependents(WorkOrderId resubmitted) {
    Map<WorkOrderId, WorkOrderView> affected = new LinkedHashMap<>();
    ArrayDeque<WorkOrderId> todo = new ArrayDeque<>();
    todo.add(resubmitted);
    while (!todo.isEmpty()) {
      for (WorkOrderId d : store.dependents(todo.poll())) {
        if (affected.containsKey(d)) {
          continue;
        }
        Optional<WorkOrderView> v = store.find(d);
        if (v.isPresent() && cancelledByADependency(v.get())) {
          affected.put(d, v.get());
          todo.add(d);
        }
      }
    }
    List<Submissions.Outcome> out = new ArrayList<>(affected.size());
    for (WorkOrderView v : topological(affected)) {
      out.add(once(v.id()));
    }
    return out;
  }

  /** Whether a work order ended cancelled because a work order it waited for did not complete. */
  public static boolean cancelledByADependency(WorkOrderView v) {
    return v.state() == WorkOrderState.CANCELLED
        && v.lastError().map(e -> ErrorCodes.DEPENDENCY_FAILED.equals(e.code())).orElse(false);
  }

  /** The work orders, each after those of them it waits for; otherwise in the given order. */
  static List<WorkOrderView> topological(Map<WorkOrderId, WorkOrderView> affected) {
    Map<WorkOrderId, Integer> waitingFor = new HashMap<>();
    Map<WorkOrderId, List<WorkOrderId>> before = new HashMap<>();
    for (WorkOrderView v : affected.values()) {
      int n = 0;
      for (WorkOrderId dep : v.dependencies()) {
        if (affected.containsKey(dep)) {
          n++;
          before.computeIfAbsent(dep, k -> new ArrayList<>()).add(v.id());
        }
      }
      waitingFor.put(v.id(), n);
    }
    List<WorkOrderView> out = new ArrayList<>(affected.size());
    ArrayDeque<WorkOrderId> ready = new ArrayDeque<>();
    for (WorkOrderView v : affected.values()) {
      if (waitingFor.get(v.id()) == 0) {
        ready.add(v.id());
      }
    }
    while (!ready.isEmpty()) {
      WorkOrderId id = ready.poll();
      out.add(affected.get(id));
      for (WorkOrderId next : before.getOrDefault(id, List.of())) {
        if (waitingFor.merge(next, -1, Integer::sum) == 0) {
          ready.add(next);
        }
      }
    }
    return out;
  }

  /**
   * The work order, if it may be resubmitted.
   *
   * @throws IllegalArgumentException if there is no such work order
   * @throws IllegalStateException if it is not FAILED or CANCELLED
   */
  public WorkOrderView resubmittable(WorkOrderId failedOrCancelled) {
    WorkOrderView old =
        store
            .find(failedOrCancelled)
            .orElseThrow(() -> new IllegalArgumentException("no work order " + failedOrCancelled));
    if (old.state() != WorkOrderState.FAILED && old.state() != WorkOrderState.CANCELLED) {
      throw new IllegalStateException(
          "only a FAILED or CANCELLED work order can be resubmitted; "
              + failedOrCancelled
              + " is "
              + old.state());
    }
    return old;
  }

  /**
   * Whether some work order was resubmitted from this one.
   *
   * @param id the work order
   * @return true if a resubmission of it exists
   */
  public boolean hasResubmission(WorkOrderId id) {
    return !store
        .query(
            dev.workgate.core.store.WorkOrderQuery.builder().resubmittedFrom(id).limit(1).build())
        .items()
        .isEmpty();
  }
}
