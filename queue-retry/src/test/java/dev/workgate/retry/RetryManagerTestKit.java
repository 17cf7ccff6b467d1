package dev.workgate.retry;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.WorkOrderFixtures;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Puts work orders into the states the retry tests start from, through the store's own operations
 * (submit, claim, start), as the scheduler and the execution manager will.
 */
final class RetryManagerTestKit {
  static final String NODE = "node-1";
  static final Duration LEASE = Duration.ofMinutes(10);

  private final WorkOrderStore store;
  private final Clock clock;

  RetryManagerTestKit(WorkOrderStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
  }

  WorkOrderSpec.Builder spec(String queue) {
    return WorkOrderFixtures.spec(queue);
  }

  WorkOrderId submit(String queue) {
    return submit(spec(queue).build());
  }

  WorkOrderId submit(WorkOrderSpec spec) {
    WorkOrderId id = WorkOrderFixtures.newId();
    store.append(id, ExpectedVersion.none(), List.of(WorkOrderEvent.Submitted.of(spec)));
    return id;
  }

  /** Submits {@code n} work orders in one append, in order. */
  List<WorkOrderId> submitMany(String queue, int n) {
    List<WorkOrderId> ids = new ArrayList<>();
    List<AppendRequest> requests = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      WorkOrderId id = WorkOrderFixtures.newId();
      ids.add(id);
      requests.add(
          AppendRequest.of(
              id, ExpectedVersion.none(), WorkOrderEvent.Submitted.of(spec(queue).build())));
    }
    store.appendAll(requests);
    return ids;
  }

  WorkOrderView view(WorkOrderId id) {
    return store.find(id).orElseThrow(() -> new AssertionError("no work order " + id));
  }

  /** Claims exactly this work order (PREPARING); it must be the only claimable one of its queue. */
  WorkOrderView claim(WorkOrderId id) {
    WorkOrderView pending = view(id);
    List<WorkOrderView> claimed =
        store.claim(
            new ClaimRequest(
                pending.queue(), NODE, 1, Capacity.unlimited(), clock.instant(), LEASE));
    if (claimed.size() != 1 || !claimed.get(0).id().equals(id)) {
      throw new AssertionError("expected to claim " + id + " but claimed " + claimed);
    }
    return claimed.get(0);
  }

  WorkOrderView start(WorkOrderView preparing) {
    store.append(
        preparing.id(),
        ExpectedVersion.exactly(preparing.version()),
        List.of(new WorkOrderEvent.Started("sandbox-" + preparing.attempt())));
    return view(preparing.id());
  }

  /** Claims and starts a pending work order: RUNNING. */
  WorkOrderView running(WorkOrderId id) {
    return start(claim(id));
  }

  WorkOrderEvent.AttemptFailed lastFailure(WorkOrderId id) {
    WorkOrderEvent.AttemptFailed last = null;
    for (RecordedEvent e : store.readStream(id)) {
      if (e.event() instanceof WorkOrderEvent.AttemptFailed f) {
        last = f;
      }
    }
    if (last == null) {
      throw new AssertionError("no AttemptFailed for " + id);
    }
    return last;
  }

  long count(WorkOrderId id, EventType type) {
    return store.readStream(id).stream().filter(e -> e.event().type() == type).count();
  }

  /**
   * The store, except that each due query is followed by a cancellation of {@code victim}, as if
   * another node cancelled it between the query and the release.
   */
  WorkOrderStore cancellingAfterDueQuery(WorkOrderId victim) {
    return (WorkOrderStore)
        Proxy.newProxyInstance(
            WorkOrderStore.class.getClassLoader(),
            new Class<?>[] {WorkOrderStore.class},
            (proxy, method, args) -> {
              Object result;
              try {
                result = method.invoke(store, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
              if (method.getName().equals("dueRetries")) {
                WorkOrderView waiting = view(victim);
                if (!waiting.state().isTerminal()) {
                  store.append(
                      victim,
                      ExpectedVersion.exactly(waiting.version()),
                      List.of(new WorkOrderEvent.Cancelled("cancelled by another node")));
                }
              }
              return result;
            });
  }
}
