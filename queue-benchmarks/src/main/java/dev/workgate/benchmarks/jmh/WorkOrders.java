package dev.workgate.benchmarks.jmh;

import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The work orders the store benchmarks submit and claim: one spec shape with a small JSON payload
 * (as a host submits them), in one queue, built outside the measured code. Stateless; its methods
 * are safe from any thread.
 */
final class WorkOrders {
  /** The queue every benchmark submits to and claims from. */
  static final String QUEUE = "default";

  /** The claiming node. */
  static final String OWNER = "node-1";

  /** Long enough that no lease runs out during a trial. */
  static final Duration LEASE = Duration.ofMinutes(30);

  private WorkOrders() {}

  /**
   * A submission with a small payload, like the ones of the queue-core throughput benchmarks.
   *
   * @param i a number that makes the payload and priority vary
   * @param queue the queue
   * @return the event
   */
  static WorkOrderEvent.Submitted submission(int i, String queue) {
    return WorkOrderEvent.Submitted.of(
        WorkOrderSpec.builder("agent-run")
            .queue(queue)
            .payload(Map.of("repo", "acme/api", "issue", i))
            .priority(i % 3)
            .build());
  }

  /**
   * Appends of {@code n} new work orders with fresh ids, one Submitted each.
   *
   * @param n how many
   * @param queue their queue
   * @return the requests
   */
  static List<AppendRequest> newSubmissions(int n, String queue) {
    List<AppendRequest> requests = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      requests.add(
          AppendRequest.of(WorkOrderId.random(), ExpectedVersion.none(), submission(i, queue)));
    }
    return requests;
  }

  /**
   * Submits {@code n} new work orders, {@code batch} per {@code appendAll} (one transaction each).
   *
   * @param store the store
   * @param n how many
   * @param queue their queue
   * @param batch work orders per call
   */
  static void submit(WorkOrderStore store, int n, String queue, int batch) {
    for (int done = 0; done < n; done += batch) {
      store.appendAll(newSubmissions(Math.min(batch, n - done), queue));
    }
  }

  /**
   * A claim of up to {@code limit} work orders of {@link #QUEUE} available now, with unlimited
   * capacity.
   *
   * @param limit the most to claim
   * @return the request
   */
  static ClaimRequest claimNow(int limit) {
    return new ClaimRequest(QUEUE, OWNER, limit, Capacity.unlimited(), Instant.now(), LEASE);
  }
}
