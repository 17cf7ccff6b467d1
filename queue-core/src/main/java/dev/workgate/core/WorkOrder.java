package dev.workgate.core;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The work-order aggregate: the fold of a work order's events. {@link #fold} and {@link #apply} are
 * the only ways a state is computed; each event passes through the {@link TransitionTable} and must
 * carry the next version.
 *
 * <p>Immutable and thread-safe: {@code apply} returns a new instance.
 *
 * <p>One field is not the fold of events alone: a lease renewal ({@link #withLeaseExpiresAt})
 * extends the lease in the projection without an event, so that heartbeats do not grow the log. The
 * log records who took the lease and until when it was first granted.
 */
public final class WorkOrder implements WorkOrderView {
  private final WorkOrderId id;
  private final WorkOrderSpec spec;
  private final WorkOrderId resubmittedFrom;
  private final WorkOrderState state;
  private final int attempt;
  private final long version;
  private final Instant submittedAt;
  private final Instant updatedAt;
  private final Instant availableAt;
  private final String leaseOwner;
  private final Instant leaseExpiresAt;
  private final ErrorInfo lastError;
  private final Instant nextAttemptAt;
  private final JsonNode result;
  private final String cancellationReason;

  private WorkOrder(
      WorkOrderId id,
      WorkOrderSpec spec,
      WorkOrderId resubmittedFrom,
      WorkOrderState state,
      int attempt,
      long version,
      Instant submittedAt,
      Instant updatedAt,
      Instant availableAt,
      String leaseOwner,
      Instant leaseExpiresAt,
      ErrorInfo lastError,
      Instant nextAttemptAt,
      JsonNode result,
      String cancellationReason) {
    this.id = id;
    this.spec = spec;
    this.resubmittedFrom = resubmittedFrom;
    this.state = state;
    this.attempt = attempt;
    this.version = version;
    this.submittedAt = submittedAt;
    this.updatedAt = updatedAt;
    this.availableAt = availableAt;
    this.leaseOwner = leaseOwner;
    this.leaseExpiresAt = leaseExpiresAt;
    this.lastError = lastError;
    this.nextAttemptAt = nextAttemptAt;
    this.result = result;
    this.cancellationReason = cancellationReason;
  }

  /**
   * Folds a whole stream.
   *
   * @param events the work order's events in version order, starting with Submitted
   * @return the aggregate
   * @throws IllegalArgumentException if the stream is empty, mixes work orders or skips versions
   * @throws InvalidTransitionException if an event is not accepted in the state it meets
   */
  public static WorkOrder fold(List<RecordedEvent> events) {
    Iterator<RecordedEvent> it = events.iterator();
    if (!it.hasNext()) {
      throw new IllegalArgumentException("cannot fold an empty stream");
    }
    WorkOrder order = start(it.next());
    while (it.hasNext()) {
      order = order.apply(it.next());
    }
    return order;
  }

  /**
   * Starts an aggregate from its first event.
   *
   * @param first the first event, which must be Submitted at version 1
   * @return the aggregate
   * @throws IllegalArgumentException if the version is not 1
   * @throws InvalidTransitionException if the event is not Submitted
   */
  public static WorkOrder start(RecordedEvent first) {
    return start(first.workOrderId(), first.event(), first.version(), first.recordedAt());
  }

  /**
   * Starts an aggregate from its first event, before the event has a log position.
   *
   * @param id the work order
   * @param event the first event, which must be Submitted
   * @param version must be 1
   * @param recordedAt when the event is recorded
   * @return the aggregate
   */
  public static WorkOrder start(
      WorkOrderId id, WorkOrderEvent event, long version, Instant recordedAt) {
    Objects.requireNonNull(id, "id");
    TransitionTable.next(id, null, event);
    if (version != 1) {
      throw new IllegalArgumentException(
          "work order " + id + ": the first event must have version 1, got " + version);
    }
    WorkOrderEvent.Submitted s = (WorkOrderEvent.Submitted) event;
    Instant available = s.spec().notBefore().filter(t -> t.isAfter(recordedAt)).orElse(recordedAt);
    return new WorkOrder(
        id,
        s.spec(),
        s.resubmittedFrom(),
        WorkOrderState.PENDING,
        0,
        1,
        recordedAt,
        recordedAt,
        available,
        null,
        null,
        null,
        null,
        null,
        null);
  }

  /**
   * Applies the next event of the stream.
   *
   * @param event the event, whose version must be this version + 1
   * @return the new aggregate
   * @throws IllegalArgumentException if the event belongs to another work order or its version is
   *     not the next
   * @throws InvalidTransitionException if the transition table rejects the event in this state
   */
  public WorkOrder apply(RecordedEvent event) {
    if (!event.workOrderId().equals(id)) {
      throw new IllegalArgumentException(
          "event of work order " + event.workOrderId() + " applied to work order " + id);
    }
    return apply(event.event(), event.version(), event.recordedAt());
  }

  /**
   * Applies the next event, before it has a log position.
   *
   * @param event the event
   * @param eventVersion must be this version + 1
   * @param at when the event is recorded
   * @return the new aggregate
   * @throws IllegalArgumentException if the version is not the next
   * @throws InvalidTransitionException if the transition table rejects the event in this state
   */
  public WorkOrder apply(WorkOrderEvent event, long eventVersion, Instant at) {
    WorkOrderState to = TransitionTable.next(id, state, event);
    if (eventVersion != version + 1) {
      throw new IllegalArgumentException(
          "work order "
              + id
              + " is at version "
              + version
              + "; the next event must have version "
              + (version + 1)
              + ", got "
              + eventVersion);
    }
    Objects.requireNonNull(at, "at");
    int nextAttempt = attempt;
    Instant available = availableAt;
    String owner = leaseOwner;
    Instant expires = leaseExpiresAt;
    ErrorInfo error = lastError;
    Instant retryAt = null;
    JsonNode out = result;
    String cancelReason = cancellationReason;
    switch (event.type()) {
      case CLAIMED -> {
        WorkOrderEvent.Claimed c = (WorkOrderEvent.Claimed) event;
        nextAttempt = attempt + 1;
        owner = c.owner();
        expires = c.leaseExpiresAt();
        cancelReason = null;
      }
      case COMPLETED -> {
        out = ((WorkOrderEvent.Completed) event).result();
        owner = null;
        expires = null;
      }
      case ATTEMPT_FAILED -> {
        WorkOrderEvent.AttemptFailed f = (WorkOrderEvent.AttemptFailed) event;
        error = f.error();
        retryAt = f.retryAt();
        owner = null;
        expires = null;
      }
      case RETRY_RELEASED -> available = at;
      case CANCELLATION_REQUESTED ->
          cancelReason = ((WorkOrderEvent.CancellationRequested) event).reason();
      case CANCELLED -> {
        error = ErrorInfo.fatal(ErrorCodes.CANCELLED, ((WorkOrderEvent.Cancelled) event).reason());
        owner = null;
        expires = null;
      }
      case STARTED, SUBMITTED -> {
        // Started changes only the state; Submitted never gets here (the table rejects it).
      }
    }
    return new WorkOrder(
        id,
        spec,
        resubmittedFrom,
        to,
        nextAttempt,
        eventVersion,
        submittedAt,
        at,
        available,
        owner,
        expires,
        error,
        retryAt,
        out,
        cancelReason);
  }

  /**
   * This work order with its lease extended (a renewal, which appends no event).
   *
   * @param expiresAt the new expiry
   * @return the new aggregate
   * @throws IllegalStateException if no lease is held
   */
  public WorkOrder withLeaseExpiresAt(Instant expiresAt) {
    Objects.requireNonNull(expiresAt, "expiresAt");
    if (leaseOwner == null) {
      throw new IllegalStateException("work order " + id + " in state " + state + " has no lease");
    }
    return new WorkOrder(
        id,
        spec,
        resubmittedFrom,
        state,
        attempt,
        version,
        submittedAt,
        updatedAt,
        availableAt,
        leaseOwner,
        expiresAt,
        lastError,
        nextAttemptAt,
        result,
        cancellationReason);
  }

  /**
   * All fields of this aggregate, for a store that keeps its projection in columns.
   *
   * @return the snapshot
   */
  public WorkOrderSnapshot snapshot() {
    return new WorkOrderSnapshot(
        id,
        spec,
        resubmittedFrom,
        state,
        attempt,
        version,
        submittedAt,
        updatedAt,
        availableAt,
        leaseOwner,
        leaseExpiresAt,
        lastError,
        nextAttemptAt,
        result,
        cancellationReason);
  }

  /**
   * An aggregate from a projection row that a store wrote from {@link #snapshot()}. Checks the
   * invariants that every fold keeps, so that a damaged row is refused instead of served.
   *
   * @param s the snapshot
   * @return the aggregate
   * @throws IllegalArgumentException naming the work order and the broken invariant
   */
  public static WorkOrder restore(WorkOrderSnapshot s) {
    Objects.requireNonNull(s, "snapshot");
    Objects.requireNonNull(s.id(), "id");
    String problem = restoreProblem(s);
    if (problem != null) {
      throw new IllegalArgumentException(
          "work order " + s.id() + ": projection row is inconsistent: " + problem);
    }
    return new WorkOrder(
        s.id(),
        s.spec(),
        s.resubmittedFrom(),
        s.state(),
        s.attempt(),
        s.version(),
        s.submittedAt(),
        s.updatedAt(),
        s.availableAt(),
        s.leaseOwner(),
        s.leaseExpiresAt(),
        s.lastError(),
        s.nextAttemptAt(),
        s.result(),
        s.cancellationReason());
  }

  private static String restoreProblem(WorkOrderSnapshot s) {
    if (s.spec() == null || s.state() == null) {
      return "spec and state are required";
    }
    if (s.submittedAt() == null || s.updatedAt() == null || s.availableAt() == null) {
      return "submittedAt, updatedAt and availableAt are required";
    }
    if (s.version() < 1 || s.attempt() < 0) {
      return "version must be at least 1 and attempt at least 0, got version "
          + s.version()
          + ", attempt "
          + s.attempt();
    }
    boolean leased = s.leaseOwner() != null;
    if (leased != (s.leaseExpiresAt() != null)) {
      return "lease owner and lease expiry must be both present or both absent";
    }
    if (s.state().isActive() != leased) {
      return "state " + s.state() + (leased ? " must not hold a lease" : " must hold a lease");
    }
    if ((s.state() == WorkOrderState.WAITING_RETRY) != (s.nextAttemptAt() != null)) {
      return "a retry time must be present exactly in state WAITING_RETRY, state is " + s.state();
    }
    if (s.result() != null && s.state() != WorkOrderState.COMPLETED) {
      return "only a COMPLETED work order has a result, state is " + s.state();
    }
    return null;
  }

  @Override
  public WorkOrderId id() {
    return id;
  }

  @Override
  public String queue() {
    return spec.queue();
  }

  @Override
  public String type() {
    return spec.type();
  }

  @Override
  public WorkOrderState state() {
    return state;
  }

  @Override
  public int attempt() {
    return attempt;
  }

  @Override
  public int priority() {
    return spec.priority();
  }

  @Override
  public long version() {
    return version;
  }

  @Override
  public Instant submittedAt() {
    return submittedAt;
  }

  @Override
  public Instant updatedAt() {
    return updatedAt;
  }

  @Override
  public Optional<Instant> nextAttemptAt() {
    return Optional.ofNullable(nextAttemptAt);
  }

  @Override
  public Optional<ErrorInfo> lastError() {
    return Optional.ofNullable(lastError);
  }

  @Override
  public Optional<JsonNode> result() {
    return result == null ? Optional.empty() : Optional.of(result.deepCopy());
  }

  @Override
  public WorkOrderSpec spec() {
    return spec;
  }

  @Override
  public Instant availableAt() {
    return availableAt;
  }

  @Override
  public Optional<String> leaseOwner() {
    return Optional.ofNullable(leaseOwner);
  }

  @Override
  public Optional<Instant> leaseExpiresAt() {
    return Optional.ofNullable(leaseExpiresAt);
  }

  @Override
  public Optional<String> cancellationRequested() {
    return Optional.ofNullable(cancellationReason);
  }

  @Override
  public Optional<WorkOrderId> resubmittedFrom() {
    return Optional.ofNullable(resubmittedFrom);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WorkOrder w
        && id.equals(w.id)
        && spec.equals(w.spec)
        && Objects.equals(resubmittedFrom, w.resubmittedFrom)
        && state == w.state
        && attempt == w.attempt
        && version == w.version
        && submittedAt.equals(w.submittedAt)
        && updatedAt.equals(w.updatedAt)
        && availableAt.equals(w.availableAt)
        && Objects.equals(leaseOwner, w.leaseOwner)
        && Objects.equals(leaseExpiresAt, w.leaseExpiresAt)
        && Objects.equals(lastError, w.lastError)
        && Objects.equals(nextAttemptAt, w.nextAttemptAt)
        && Objects.equals(result, w.result)
        && Objects.equals(cancellationReason, w.cancellationReason);
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, state, version);
  }

  @Override
  public String toString() {
    return "WorkOrder[id="
        + id
        + ", queue="
        + spec.queue()
        + ", type="
        + spec.type()
        + ", state="
        + state
        + ", attempt="
        + attempt
        + ", version="
        + version
        + (leaseOwner == null ? "" : ", lease=" + leaseOwner + " until " + leaseExpiresAt)
        + (nextAttemptAt == null ? "" : ", nextAttemptAt=" + nextAttemptAt)
        + (lastError == null ? "" : ", lastError=" + lastError)
        + "]";
  }
}
