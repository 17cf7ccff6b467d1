package dev.workgate.observability;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.Workgate;
import dev.workgate.WorkgateClient;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.StoreView;
import dev.workgate.core.store.WorkOrderStore;
import java.time.Clock;
import java.time.Instant;

/**
 * What the HTTP routes read and change: a running node, or a store alone. The routes ask only this,
 * so the same parsing, checks and rendering serve both.
 */
interface Backend {
  /** The store the work orders, timelines and audit events are read from. */
  StoreView store();

  /**
   * The {@code /api/queue/stats} document.
   *
   * @param now when, by the endpoint's clock
   */
  ObjectNode stats(Instant now);

  /**
   * Cancels a work order, or asks its owner node to.
   *
   * @throws IllegalArgumentException if there is no such work order
   * @throws IllegalStateException if it kept changing while being cancelled
   */
  Cancel cancel(WorkOrderId id, String reason);

  /**
   * What a cancel did.
   *
   * @param cancelled false if the work order had already ended
   * @param outcome the store-level outcome's name, or null where the backend does not tell one
   */
  record Cancel(boolean cancelled, String outcome) {}

  /**
   * Submits and resubmits: the node's own client, or a client over the store alone. Either way the
   * same checks apply as for a submit in the host's code (idempotency, queue depth, the node-table
   * fit check).
   */
  WorkgateClient client();

  static Backend of(Workgate workgate) {
    return new Backend() {
      @Override
      public StoreView store() {
        return workgate.store();
      }

      @Override
      public ObjectNode stats(Instant now) {
        return JsonViews.stats(workgate.stats(), now);
      }

      @Override
      public Cancel cancel(WorkOrderId id, String reason) {
        return new Cancel(workgate.cancel(id, reason), null);
      }

      @Override
      public WorkgateClient client() {
        return workgate.client();
      }
    };
  }

  /**
   * A store without a node: counts only, and changes through a {@link WorkgateClient} over the
   * store, as a producer-only service makes them (cancel by {@link WorkgateClient#requestCancel}).
   *
   * @param clock the endpoint's clock, for the client's node-table checks
   */
  static Backend of(WorkOrderStore store, Clock clock) {
    WorkgateClient client = WorkgateClient.builder(store).clock(clock).build();
    return new Backend() {
      @Override
      public StoreView store() {
        return StoreView.readOnly(store);
      }

      @Override
      public ObjectNode stats(Instant now) {
        return JsonViews.storeStats(store.counts(), now);
      }

      @Override
      public Cancel cancel(WorkOrderId id, String reason) {
        WorkgateClient.CancelOutcome outcome = client.requestCancel(id, reason);
        return new Cancel(outcome.cancelledOrRequested(), outcome.result().name());
      }

      @Override
      public WorkgateClient client() {
        return client;
      }
    };
  }
}
