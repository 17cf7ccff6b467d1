package dev.workgate.core.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Short names for the specs, ids and events that tests build over and over, so that a test reads as
 * the story it tells: {@code submitted(spec("jobs").priority(5).build())}, {@code claimed("node-a",
 * expiry)}, {@code failedWithRetry(retryAt)}.
 *
 * <p>Every value is valid for its type; tests that need an odd value build it themselves. Stateless
 * apart from the id counter, and thread-safe.
 *
 * <p>queue-test keeps a package-private copy for its store conformance suite, since queue-core's
 * tests cannot depend on that module.
 */
public final class WorkOrderFixtures {

  /** The type of every spec built here. */
  public static final String TYPE = "test-job";

  private static final AtomicLong IDS = new AtomicLong();

  private WorkOrderFixtures() {}

  /**
   * A fresh id, unique within this JVM and readable in failure messages: {@code wo-42-<random>}.
   *
   * @return the id
   */
  public static WorkOrderId newId() {
    return WorkOrderId.of("wo-" + IDS.incrementAndGet() + "-" + WorkOrderId.random());
  }

  /**
   * A spec builder of type {@value #TYPE} for a queue; callers add what their test is about.
   *
   * @param queue the queue
   * @return the builder
   */
  public static WorkOrderSpec.Builder spec(String queue) {
    return WorkOrderSpec.builder(TYPE).queue(queue);
  }

  /**
   * A spec of type {@value #TYPE} with a priority and resources.
   *
   * @param queue the queue
   * @param priority the priority
   * @param resources the resources
   * @return the spec
   */
  public static WorkOrderSpec spec(String queue, int priority, ResourceRequest resources) {
    return spec(queue).priority(priority).resources(resources).build();
  }

  /**
   * A submission of a plain spec to a queue.
   *
   * @param queue the queue
   * @return the event
   */
  public static WorkOrderEvent.Submitted submitted(String queue) {
    return WorkOrderEvent.Submitted.of(spec(queue).build());
  }

  /**
   * A submission of a spec.
   *
   * @param spec the spec
   * @return the event
   */
  public static WorkOrderEvent.Submitted submitted(WorkOrderSpec spec) {
    return WorkOrderEvent.Submitted.of(spec);
  }

  /**
   * A claim with a lease.
   *
   * @param owner the claiming node
   * @param leaseExpiresAt when the lease runs out
   * @return the event
   */
  public static WorkOrderEvent.Claimed claimed(String owner, Instant leaseExpiresAt) {
    return new WorkOrderEvent.Claimed(owner, leaseExpiresAt);
  }

  /**
   * The sandbox is ready.
   *
   * @return the event, with sandbox id {@code sandbox-1}
   */
  public static WorkOrderEvent.Started started() {
    return new WorkOrderEvent.Started("sandbox-1");
  }

  /**
   * Success without a result.
   *
   * @return the event
   */
  public static WorkOrderEvent.Completed completed() {
    return new WorkOrderEvent.Completed(null);
  }

  /**
   * Success with a small JSON result {@code {"ok":true,"value":value}}.
   *
   * @param value a number to put in the result
   * @return the event
   */
  public static WorkOrderEvent.Completed completedWith(int value) {
    JsonNode result = JsonNodeFactory.instance.objectNode().put("ok", true).put("value", value);
    return new WorkOrderEvent.Completed(result);
  }

  /**
   * A retryable {@code TIMEOUT} failure with another attempt at {@code retryAt}.
   *
   * @param retryAt when to try again
   * @return the event
   */
  public static WorkOrderEvent.AttemptFailed failedWithRetry(Instant retryAt) {
    return WorkOrderEvent.AttemptFailed.retryAt(
        ErrorInfo.retryable(ErrorCodes.TIMEOUT, "attempt timed out"), retryAt, "retry scheduled");
  }

  /**
   * A final {@code AGENT_FATAL_ERROR} failure.
   *
   * @return the event
   */
  public static WorkOrderEvent.AttemptFailed failedForGood() {
    return WorkOrderEvent.AttemptFailed.finalFailure(
        ErrorInfo.fatal(ErrorCodes.AGENT_FATAL_ERROR, "agent gave up"), "not retryable");
  }

  /**
   * What a reaper appends for a lease that ran out: a retryable {@code LEASE_EXPIRED} failure.
   *
   * @param retryAt when to try again
   * @return the event
   */
  public static WorkOrderEvent.AttemptFailed leaseExpired(Instant retryAt) {
    return WorkOrderEvent.AttemptFailed.retryAt(
        ErrorInfo.retryable(ErrorCodes.LEASE_EXPIRED, "lease ran out"), retryAt, "reaped");
  }

  /**
   * The retry time came.
   *
   * @return the event
   */
  public static WorkOrderEvent.RetryReleased retryReleased() {
    return new WorkOrderEvent.RetryReleased();
  }

  /**
   * A request to cancel an executing work order.
   *
   * @param reason why
   * @return the event
   */
  public static WorkOrderEvent.CancellationRequested cancellationRequested(String reason) {
    return new WorkOrderEvent.CancellationRequested(reason);
  }

  /**
   * A cancellation.
   *
   * @return the event, with reason {@code "cancelled by test"}
   */
  public static WorkOrderEvent.Cancelled cancelled() {
    return new WorkOrderEvent.Cancelled("cancelled by test");
  }
}
