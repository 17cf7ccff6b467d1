package dev.workgate.core;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The current state of one work order, as its store's projection holds it: the fold of its events.
 * Implementations are immutable snapshots and thread-safe.
 */
public interface WorkOrderView {
  /**
   * The id.
   *
   * @return the id
   */
  WorkOrderId id();

  /**
   * The queue.
   *
   * @return the queue name
   */
  String queue();

  /**
   * The type.
   *
   * @return the type name
   */
  String type();

  /**
   * The current state.
   *
   * @return the state
   */
  WorkOrderState state();

  /**
   * The current attempt: 0 before the first claim, then 1, 2, ... (each claim starts one, so the
   * number is unique per claim of the work order, including claims that ended in a {@link
   * WorkOrderEvent.Released release}).
   *
   * @return the attempt number
   */
  int attempt();

  /**
   * How many attempts were released ({@link WorkOrderEvent.Released}): given back because their
   * node shut down past the grace, died or could not renew its lease. They do not count against the
   * work order's attempts: see {@link #chargedAttempts()}.
   *
   * @return at least 0, at most {@link #attempt()}
   */
  int releases();

  /**
   * The attempts that count against the retry policy's {@code maxAttempts}: {@link #attempt()}
   * minus {@link #releases()}.
   *
   * @return at least 0
   */
  default int chargedAttempts() {
    return attempt() - releases();
  }

  /**
   * The priority; higher runs first.
   *
   * @return the priority
   */
  int priority();

  /**
   * The stream version: the number of events the work order has.
   *
   * @return the version, at least 1
   */
  long version();

  /**
   * When the Submitted event was recorded.
   *
   * @return the time
   */
  Instant submittedAt();

  /**
   * When the last event was recorded.
   *
   * @return the time
   */
  Instant updatedAt();

  /**
   * When the next attempt may start, while the work order is {@link WorkOrderState#WAITING_RETRY}.
   *
   * @return the retry time, or empty in every other state
   */
  Optional<Instant> nextAttemptAt();

  /**
   * The error of the latest failed attempt or the cancellation.
   *
   * @return the error, or empty when nothing failed
   */
  Optional<ErrorInfo> lastError();

  /**
   * What the work produced, once {@link WorkOrderState#COMPLETED}.
   *
   * @return a copy of the result, or empty
   */
  Optional<JsonNode> result();

  /**
   * The full submitted spec.
   *
   * @return the spec
   */
  WorkOrderSpec spec();

  /**
   * The resources the work order occupies when it runs.
   *
   * @return the spec's request, or {@link ResourceRequest#DEFAULT} when it named none
   */
  default ResourceRequest resources() {
    return spec().resources().orElse(ResourceRequest.DEFAULT);
  }

  /**
   * The payload.
   *
   * @return a copy of the payload
   */
  default JsonNode payload() {
    return spec().payload();
  }

  /**
   * The attempts allowed by the spec.
   *
   * @return the spec's limit, or empty to use the queue's retry policy
   */
  default OptionalInt maxAttempts() {
    return spec().maxAttempts();
  }

  /**
   * The per-attempt timeout of the spec.
   *
   * @return the timeout, or empty
   */
  default Optional<Duration> timeout() {
    return spec().timeout();
  }

  /**
   * The labels of the spec.
   *
   * @return an immutable map
   */
  default Map<String, String> labels() {
    return spec().labels();
  }

  /**
   * The idempotency key of the spec.
   *
   * @return the key, or empty
   */
  default Optional<String> idempotencyKey() {
    return spec().idempotencyKey();
  }

  /**
   * When a {@link WorkOrderState#PENDING} work order may be claimed: its {@code notBefore} (or its
   * submission time) at first, the release time after a retry.
   *
   * @return the availability time
   */
  Instant availableAt();

  /**
   * The node that holds the lease, while {@link WorkOrderState#PREPARING} or {@link
   * WorkOrderState#RUNNING}.
   *
   * @return the owner, or empty
   */
  Optional<String> leaseOwner();

  /**
   * When the lease runs out unless renewed, while the work order is held.
   *
   * @return the expiry, or empty
   */
  Optional<Instant> leaseExpiresAt();

  /**
   * The reason given when cancellation of an executing work order was requested.
   *
   * @return the reason, or empty when none was requested
   */
  Optional<String> cancellationRequested();

  /**
   * The failed or cancelled work order this one was resubmitted from.
   *
   * @return its id, or empty
   */
  Optional<WorkOrderId> resubmittedFrom();

  /**
   * The work orders this one waits for, as resolved when it was submitted: while it is {@link
   * WorkOrderState#BLOCKED} it waits for each to complete.
   *
   * @return an immutable list; empty for none
   */
  java.util.List<WorkOrderId> dependencies();

  /**
   * The batch this work order belongs to.
   *
   * @return the batch, or empty
   */
  Optional<BatchId> batch();

  /**
   * The latest checkpoint any attempt of this work order recorded.
   *
   * @return a copy of the checkpoint, or empty when none was recorded
   */
  Optional<JsonNode> checkpoint();

  /**
   * How far the current or last attempt got, as it last reported (written with its lease renewal,
   * so it may lag by up to one renewal interval). Cleared by the next claim.
   *
   * @return the progress, or empty when the attempt reported none
   */
  Optional<Progress> progress();
}
