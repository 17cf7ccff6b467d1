package dev.workgate.spi;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.core.BatchId;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.Progress;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderState.TransitionTable;
import dev.workgate.core.WorkOrderView;
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
 * <p>Two fields are not the fold of events alone: a lease renewal ({@link #withLeaseExpiresAt})
 * extends the lease in the projection without an event, so that heartbeats do not grow the log, and
 * carries the attempt's latest progress ({@link #withProgress}). The log records who took the lease
 * and until when it was first granted; progress is not in the log at all (a fold has none, and the
 * next claim clears it).
 */
public final class WorkOrder implements WorkOrderView {
  private final WorkOrderSnapshot s;

  private WorkOrder(WorkOrderSnapshot s) {
    this.s = s;
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
        new WorkOrderSnapshot(
            id,
            s.spec(),
            s.resubmittedFrom(),
            s.dependencies().isEmpty() ? WorkOrderState.PENDING : WorkOrderState.BLOCKED,
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
            null,
            0,
            s.batch(),
            s.dependencies(),
            null,
            null));
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
    if (!event.workOrderId().equals(s.id())) {
      throw new IllegalArgumentException(
          "event of work order " + event.workOrderId() + " applied to work order " + s.id());
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
    WorkOrderState to = TransitionTable.next(s.id(), s.state(), event);
    if (eventVersion != s.version() + 1) {
      throw new IllegalArgumentException(
          "work order "
              + s.id()
              + " is at version "
              + s.version()
              + "; the next event must have version "
              + (s.version() + 1)
              + ", got "
              + eventVersion);
    }
    Objects.requireNonNull(at, "at");
    int nextAttempt = s.attempt();
    Instant available = s.availableAt();
    String owner = s.leaseOwner();
    Instant expires = s.leaseExpiresAt();
    ErrorInfo error = s.lastError();
    Instant retryAt = null;
    JsonNode out = s.result();
    String cancelReason = s.cancellationReason();
    int releases = s.releases();
    JsonNode checkpoint = s.checkpoint();
    Progress progress = s.progress();
    switch (event.type()) {
      case CLAIMED -> {
        WorkOrderEvent.Claimed c = (WorkOrderEvent.Claimed) event;
        nextAttempt = s.attempt() + 1;
        owner = c.owner();
        expires = c.leaseExpiresAt();
        cancelReason = null;
        progress = null;
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
      case RELEASED -> {
        WorkOrderEvent.Released r = (WorkOrderEvent.Released) event;
        error = ErrorInfo.retryable(r.code(), r.reason());
        available = at;
        owner = null;
        expires = null;
        cancelReason = null;
        releases = s.releases() + 1;
      }
      case DEPENDENCIES_MET ->
          available = s.spec().notBefore().filter(t -> t.isAfter(at)).orElse(at);
      case DEPENDENCY_FAILED ->
          error =
              ErrorInfo.fatal(
                  ErrorCodes.DEPENDENCY_FAILED, ((WorkOrderEvent.DependencyFailed) event).reason());
      case CHECKPOINTED -> checkpoint = ((WorkOrderEvent.Checkpointed) event).state();
      case STARTED, SUBMITTED -> {
        // Started changes only the state; Submitted never gets here (the table rejects it).
      }
    }
    return new WorkOrder(
        new WorkOrderSnapshot(
            s.id(),
            s.spec(),
            s.resubmittedFrom(),
            to,
            nextAttempt,
            eventVersion,
            s.submittedAt(),
            at,
            available,
            owner,
            expires,
            error,
            retryAt,
            out,
            cancelReason,
            releases,
            s.batch(),
            s.dependencies(),
            checkpoint,
            progress));
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
    if (s.leaseOwner() == null) {
      throw new IllegalStateException(
          "work order " + s.id() + " in state " + s.state() + " has no lease");
    }
    return new WorkOrder(s.withLeaseExpiresAt(expiresAt));
  }

  /**
   * This work order with its attempt's latest progress: what a lease renewal writes (it appends no
   * event), and what a repair of the projection keeps from the row it replaces.
   *
   * @param progress the progress
   * @return the new aggregate
   */
  public WorkOrder withProgress(Progress progress) {
    Objects.requireNonNull(progress, "progress");
    return new WorkOrder(s.withProgress(progress));
  }

  /**
   * All fields of this aggregate, for a store that keeps its projection in columns.
   *
   * @return the snapshot
   */
  public WorkOrderSnapshot snapshot() {
    return s;
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
    return new WorkOrder(s);
  }

  private static String restoreProblem(WorkOrderSnapshot s) {
    if (s.spec() == null || s.state() == null) {
      return "spec and state are required";
    }
    if (s.submittedAt() == null || s.updatedAt() == null || s.availableAt() == null) {
      return "submittedAt, updatedAt and availableAt are required";
    }
    if (s.releases() < 0 || s.releases() > s.attempt()) {
      return "releases must be between 0 and the attempt, got releases "
          + s.releases()
          + ", attempt "
          + s.attempt();
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
    if ((s.state() == WorkOrderState.BLOCKED) && s.dependencies().isEmpty()) {
      return "a BLOCKED work order must wait for at least one other";
    }
    if (s.result() != null && s.state() != WorkOrderState.COMPLETED) {
      return "only a COMPLETED work order has a result, state is " + s.state();
    }
    return null;
  }

  @Override
  public WorkOrderId id() {
    return s.id();
  }

  @Override
  public String queue() {
    return s.spec().queue();
  }

  @Override
  public String type() {
    return s.spec().type();
  }

  @Override
  public WorkOrderState state() {
    return s.state();
  }

  @Override
  public int attempt() {
    return s.attempt();
  }

  @Override
  public int priority() {
    return s.spec().priority();
  }

  @Override
  public long version() {
    return s.version();
  }

  @Override
  public Instant submittedAt() {
    return s.submittedAt();
  }

  @Override
  public Instant updatedAt() {
    return s.updatedAt();
  }

  @Override
  public Optional<Instant> nextAttemptAt() {
    return Optional.ofNullable(s.nextAttemptAt());
  }

  @Override
  public Optional<ErrorInfo> lastError() {
    return Optional.ofNullable(s.lastError());
  }

  @Override
  public Optional<JsonNode> result() {
    return s.result() == null ? Optional.empty() : Optional.of(s.result().deepCopy());
  }

  @Override
  public WorkOrderSpec spec() {
    return s.spec();
  }

  @Override
  public Instant availableAt() {
    return s.availableAt();
  }

  @Override
  public Optional<String> leaseOwner() {
    return Optional.ofNullable(s.leaseOwner());
  }

  @Override
  public Optional<Instant> leaseExpiresAt() {
    return Optional.ofNullable(s.leaseExpiresAt());
  }

  @Override
  public int releases() {
    return s.releases();
  }

  @Override
  public Optional<String> cancellationRequested() {
    return Optional.ofNullable(s.cancellationReason());
  }

  @Override
  public Optional<WorkOrderId> resubmittedFrom() {
    return Optional.ofNullable(s.resubmittedFrom());
  }

  @Override
  public java.util.List<WorkOrderId> dependencies() {
    return s.dependencies();
  }

  @Override
  public Optional<BatchId> batch() {
    return Optional.ofNullable(s.batch());
  }

  @Override
  public Optional<JsonNode> checkpoint() {
    return s.checkpoint() == null ? Optional.empty() : Optional.of(s.checkpoint().deepCopy());
  }

  @Override
  public Optional<Progress> progress() {
    return Optional.ofNullable(s.progress());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WorkOrder w && s.equals(w.s);
  }

  @Override
  public int hashCode() {
    return Objects.hash(s.id(), s.state(), s.version());
  }

  @Override
  public String toString() {
    return "WorkOrder[id="
        + s.id()
        + ", queue="
        + s.spec().queue()
        + ", type="
        + s.spec().type()
        + ", state="
        + s.state()
        + ", attempt="
        + s.attempt()
        + (s.releases() == 0 ? "" : ", releases=" + s.releases())
        + ", version="
        + s.version()
        + (s.leaseOwner() == null
            ? ""
            : ", lease=" + s.leaseOwner() + " until " + s.leaseExpiresAt())
        + (s.nextAttemptAt() == null ? "" : ", nextAttemptAt=" + s.nextAttemptAt())
        + (s.lastError() == null ? "" : ", lastError=" + s.lastError())
        + "]";
  }
}
