package dev.workgate.core;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.core.WorkOrderState.TransitionTable;
import dev.workgate.core.internal.Json;
import dev.workgate.core.internal.Text;
import dev.workgate.spi.EventCodec;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A fact in a work order's life. Each event is one transition of the {@link TransitionTable};
 * events are immutable, thread-safe records and are written to the store as JSON by {@link
 * EventCodec} under their {@link EventType}'s name and schema version.
 */
public sealed interface WorkOrderEvent {

  /**
   * The kind of this event.
   *
   * @return the event type
   */
  EventType type();

  /**
   * The key under which the transition table looks this event up. Usually one per type; {@link
   * AttemptFailed} has two, since a retry time leads to {@link WorkOrderState#WAITING_RETRY} and
   * its absence to {@link WorkOrderState#FAILED}.
   *
   * @return the trigger
   */
  TransitionTable.Trigger trigger();

  /**
   * The work order was submitted. Always the first event of a stream; the work order becomes {@link
   * WorkOrderState#PENDING}, or {@link WorkOrderState#BLOCKED} when it waits for others.
   *
   * @param spec what was submitted
   * @param resubmittedFrom the failed or cancelled work order this one replaces, or null
   * @param batch the batch it belongs to, or null
   * @param dependencies the work orders it waits for, as resolved at submission (the spec's {@code
   *     after} and the work orders of its {@code afterBatches}, each replaced by its newest
   *     resubmission); empty for none; at most {@link WorkOrderSpec#MAX_DEPENDENCIES} plus what its
   *     batches hold, without repeats
   */
  record Submitted(
      WorkOrderSpec spec,
      WorkOrderId resubmittedFrom,
      BatchId batch,
      java.util.List<WorkOrderId> dependencies)
      implements WorkOrderEvent {

    /**
     * The most dependencies one Submitted event may carry: a spec's own and those of its batches.
     */
    public static final int MAX_DEPENDENCIES =
        WorkOrderSpec.MAX_DEPENDENCIES * (1 + WorkOrderSpec.MAX_BATCH_DEPENDENCIES);

    /**
     * Validates the event.
     *
     * @throws IllegalArgumentException if the dependencies repeat one or are too many
     */
    public Submitted {
      Objects.requireNonNull(spec, "Submitted.spec");
      dependencies =
          dependencies == null ? java.util.List.of() : java.util.List.copyOf(dependencies);
      if (dependencies.size() > MAX_DEPENDENCIES) {
        throw new IllegalArgumentException(
            "Submitted.dependencies: at most " + MAX_DEPENDENCIES + ", got " + dependencies.size());
      }
      if (new java.util.HashSet<>(dependencies).size() != dependencies.size()) {
        throw new IllegalArgumentException("Submitted.dependencies must not repeat a work order");
      }
    }

    /**
     * A submission without batch or dependencies.
     *
     * @param spec what was submitted
     * @param resubmittedFrom the failed or cancelled work order this one replaces, or null
     */
    public Submitted(WorkOrderSpec spec, WorkOrderId resubmittedFrom) {
      this(spec, resubmittedFrom, null, java.util.List.of());
    }

    /**
     * A submission that replaces nothing and waits for nothing.
     *
     * @param spec what was submitted
     * @return the event
     */
    public static Submitted of(WorkOrderSpec spec) {
      return new Submitted(spec, null);
    }

    @Override
    public EventType type() {
      return EventType.SUBMITTED;
    }

    @Override
    public TransitionTable.Trigger trigger() {
      return dependencies.isEmpty()
          ? TransitionTable.Trigger.SUBMITTED
          : TransitionTable.Trigger.SUBMITTED_BLOCKED;
    }
  }

  /**
   * Every work order a {@link WorkOrderState#BLOCKED} work order waits for has ended as its policy
   * asks (all {@link WorkOrderState#COMPLETED}, or all ended under {@link DependencyFailure#RUN}):
   * it is {@link WorkOrderState#PENDING}, available at once or at its {@code notBefore}.
   */
  record DependenciesMet() implements WorkOrderEvent {
    @Override
    public EventType type() {
      return EventType.DEPENDENCIES_MET;
    }

    @Override
    public TransitionTable.Trigger trigger() {
      return TransitionTable.Trigger.DEPENDENCIES_MET;
    }
  }

  /**
   * A work order this {@link WorkOrderState#BLOCKED} one waits for ended {@link
   * WorkOrderState#FAILED} or {@link WorkOrderState#CANCELLED} (or no longer exists), and its
   * policy is {@link DependencyFailure#CANCEL}: it is {@link WorkOrderState#CANCELLED}, with the
   * error code {@link ErrorInfo.ErrorCodes#DEPENDENCY_FAILED}.
   *
   * @param dependency the work order that did not complete
   * @param dependencyState the state it ended in, or null if it no longer exists
   */
  record DependencyFailed(WorkOrderId dependency, WorkOrderState dependencyState)
      implements WorkOrderEvent {
    /** Validates the event. */
    public DependencyFailed {
      Objects.requireNonNull(dependency, "DependencyFailed.dependency");
      if (dependencyState == WorkOrderState.COMPLETED) {
        throw new IllegalArgumentException(
            "DependencyFailed.dependencyState: a COMPLETED dependency did not fail");
      }
    }

    /**
     * The reason, for a person.
     *
     * @return e.g. "dependency 0190… ended FAILED"
     */
    public String reason() {
      return "dependency "
          + dependency
          + (dependencyState == null ? " no longer exists" : " ended " + dependencyState);
    }

    @Override
    public EventType type() {
      return EventType.DEPENDENCY_FAILED;
    }

    @Override
    public TransitionTable.Trigger trigger() {
      return TransitionTable.Trigger.DEPENDENCY_FAILED;
    }
  }

  /**
   * A running attempt recorded a checkpoint: state to resume from, which every later attempt of the
   * work order reads ({@link WorkOrderView#checkpoint()}) until a newer one. The state does not
   * change. The runtime appends it only under the attempt's claim, so a superseded attempt cannot.
   *
   * @param attempt the attempt that recorded it
   * @param state the checkpoint, as JSON; at most {@link #MAX_BYTES} bytes
   */
  record Checkpointed(int attempt, JsonNode state) implements WorkOrderEvent {

    /**
     * The largest checkpoint, in bytes of JSON: every claim of the work order reads it, so it is
     * meant for a position and a few facts; larger state belongs in a file or object store that the
     * checkpoint names.
     */
    public static final int MAX_BYTES = 1 << 20;

    /**
     * Keeps a private, canonical copy of the state, as {@link Completed} does with its result.
     *
     * @throws IllegalArgumentException if the state is null or JSON null, larger than {@link
     *     #MAX_BYTES} as JSON, nests deeper than 1000 or holds a number too large for a double, or
     *     the attempt is below 1
     */
    public Checkpointed {
      if (attempt < 1) {
        throw new IllegalArgumentException(
            "Checkpointed.attempt must be at least 1, got " + attempt);
      }
      if (state == null || state.isNull() || state.isMissingNode()) {
        throw new IllegalArgumentException("a checkpoint must not be null");
      }
      state = Json.canonicalTree(state, "checkpoint", Json.Surrogates.REPLACE);
      long bytes = Json.byteLength(state);
      if (bytes > MAX_BYTES) {
        throw new IllegalArgumentException(
            "a checkpoint may be at most " + MAX_BYTES + " bytes as JSON, got " + bytes);
      }
    }

    /**
     * The checkpoint.
     *
     * @return a copy of the state
     */
    @Override
    public JsonNode state() {
      return state.deepCopy();
    }

    @Override
    public EventType type() {
      return EventType.CHECKPOINTED;
    }

    @Override
    public TransitionTable.Trigger trigger() {
      return TransitionTable.Trigger.CHECKPOINTED;
    }
  }

  /**
   * A node claimed the work order for its next attempt and holds a lease on it until {@code
   * leaseExpiresAt} (renewable). The work order becomes {@link WorkOrderState#PREPARING} and its
   * attempt number rises by one.
   *
   * @param owner the claiming node
   * @param leaseExpiresAt when the lease runs out unless renewed
   */
  record Claimed(String owner, Instant leaseExpiresAt) implements WorkOrderEvent {
    /** Validates the event. */
    public Claimed {
      Text.requireName(owner, "Claimed.owner");
      Objects.requireNonNull(leaseExpiresAt, "Claimed.leaseExpiresAt");
    }

    @Override
    public EventType type() {
      return EventType.CLAIMED;
    }

    @Override
    public TransitionTable.Trigger trigger() {
      return TransitionTable.Trigger.CLAIMED;
    }
  }

  /**
   * The sandbox is ready and the work runs: {@link WorkOrderState#RUNNING}.
   *
   * @param sandboxId the sandbox this attempt runs in
   */
  record Started(String sandboxId) implements WorkOrderEvent {
    /**
     * Validates the event.
     *
     * @throws IllegalArgumentException if the sandbox id breaks the name rule of {@link
     *     Text#requireName}
     */
    public Started {
      Text.requireName(sandboxId, "Started.sandboxId");
    }

    @Override
    public EventType type() {
      return EventType.STARTED;
    }

    @Override
    public TransitionTable.Trigger trigger() {
      return TransitionTable.Trigger.STARTED;
    }
  }

  /**
   * The work finished successfully: {@link WorkOrderState#COMPLETED}.
   *
   * @param result what the work produced, or null for nothing
   */
  record Completed(JsonNode result) implements WorkOrderEvent {
    /**
     * Keeps a private, canonical copy of the result (as for a spec's payload: serialised and parsed
     * again), so the event stays immutable and equals itself after a store has written and read it.
     * A JSON null or missing node means no result.
     *
     * <p>Unpaired surrogates in the result's strings and keys are replaced by U+FFFD, as in free
     * text from a handler, so that every store keeps the same result.
     *
     * @throws IllegalArgumentException if the result nests deeper than 1000, holds a number too
     *     large for a double, or is larger than {@link Text#MAX_VALUE_BYTES} as JSON
     */
    public Completed {
      result =
          result == null || result.isNull() || result.isMissingNode()
              ? null
              : Json.canonicalTree(result, "Completed.result", Json.Surrogates.REPLACE);
    }

    /**
     * What the work produced.
     *
     * @return a copy of the result, or null for nothing
     */
    @Override
    public JsonNode result() {
      return result == null ? null : result.deepCopy();
    }

    @Override
    public EventType type() {
      return EventType.COMPLETED;
    }

    @Override
    public TransitionTable.Trigger trigger() {
      return TransitionTable.Trigger.COMPLETED;
    }
  }

  /**
   * An attempt failed. With a retry time the work order waits for it ({@link
   * WorkOrderState#WAITING_RETRY}); without one it has failed for good ({@link
   * WorkOrderState#FAILED}). The retry decision is part of the event, so it survives restarts.
   *
   * @param error what went wrong
   * @param retryAt when the next attempt may start, or null for a final failure
   * @param decision why the retry decision was made, for a person (e.g. "attempts exhausted: 4 of
   *     4"); never null, may be empty; kept as {@link Text#truncate} with {@link
   *     Text#MAX_DECISION_LENGTH} returns it
   */
  record AttemptFailed(ErrorInfo error, Instant retryAt, String decision)
      implements WorkOrderEvent {
    /** Validates the event. */
    public AttemptFailed {
      Objects.requireNonNull(error, "AttemptFailed.error");
      Objects.requireNonNull(decision, "AttemptFailed.decision");
      decision = Text.truncate(decision, Text.MAX_DECISION_LENGTH);
    }

    /**
     * A failure with another attempt at {@code retryAt}.
     *
     * @param error what went wrong
     * @param retryAt when to try again
     * @param decision why
     * @return the event
     */
    public static AttemptFailed retryAt(ErrorInfo error, Instant retryAt, String decision) {
      return new AttemptFailed(error, Objects.requireNonNull(retryAt, "retryAt"), decision);
    }

    /**
     * A final failure.
     *
     * @param error what went wrong
     * @param decision why no retry follows
     * @return the event
     */
    public static AttemptFailed finalFailure(ErrorInfo error, String decision) {
      return new AttemptFailed(error, null, decision);
    }

    @Override
    public EventType type() {
      return EventType.ATTEMPT_FAILED;
    }

    @Override
    public TransitionTable.Trigger trigger() {
      return retryAt == null
          ? TransitionTable.Trigger.ATTEMPT_FAILED_FINAL
          : TransitionTable.Trigger.ATTEMPT_FAILED_WITH_RETRY;
    }
  }

  /**
   * The attempt was given back without counting against the work order's attempts: its node shut
   * down past the grace, died (its lease was reaped), or could not renew its lease and stopped the
   * work itself. The work order is {@link WorkOrderState#PENDING} again and may be claimed at once;
   * {@link WorkOrderView#releases()} rises by one. A separate limit on releases (the retry
   * manager's) ends a work order that kills every node it lands on.
   *
   * @param code why, as an error code ({@code NODE_SHUTDOWN}, {@code LEASE_EXPIRED}, {@code
   *     LEASE_NOT_RENEWED}, or a host's own); follows the name rule of {@link Text#requireName}
   * @param reason the details, for a person; never null, may be empty; kept as {@link
   *     Text#truncate} with {@link Text#MAX_DECISION_LENGTH} returns it
   */
  record Released(String code, String reason) implements WorkOrderEvent {
    /** Validates the event. */
    public Released {
      Text.requireName(code, "Released.code");
      Objects.requireNonNull(reason, "Released.reason");
      reason = Text.truncate(reason, Text.MAX_DECISION_LENGTH);
    }

    @Override
    public EventType type() {
      return EventType.RELEASED;
    }

    @Override
    public TransitionTable.Trigger trigger() {
      return TransitionTable.Trigger.RELEASED;
    }
  }

  /** The retry time came: the work order is {@link WorkOrderState#PENDING} again. */
  record RetryReleased() implements WorkOrderEvent {
    @Override
    public EventType type() {
      return EventType.RETRY_RELEASED;
    }

    @Override
    public TransitionTable.Trigger trigger() {
      return TransitionTable.Trigger.RETRY_RELEASED;
    }
  }

  /**
   * Someone asked to cancel a work order that is executing. Its state does not change: the owner of
   * the execution kills the sandbox and then appends {@link Cancelled}.
   *
   * @param reason why, for a person; never null, may be empty, at most {@link
   *     Text#MAX_REASON_LENGTH} chars
   */
  record CancellationRequested(String reason) implements WorkOrderEvent {
    /**
     * Validates the event; the reason is kept as {@link Text#storable} returns it.
     *
     * @throws NullPointerException if the reason is null
     * @throws IllegalArgumentException if the reason is longer than {@link Text#MAX_REASON_LENGTH}
     */
    public CancellationRequested {
      Objects.requireNonNull(reason, "CancellationRequested.reason");
      reason = Text.requireFreeText(reason, "CancellationRequested.reason", Text.MAX_REASON_LENGTH);
    }

    @Override
    public EventType type() {
      return EventType.CANCELLATION_REQUESTED;
    }

    @Override
    public TransitionTable.Trigger trigger() {
      return TransitionTable.Trigger.CANCELLATION_REQUESTED;
    }
  }

  /**
   * The work order was cancelled: {@link WorkOrderState#CANCELLED}.
   *
   * @param reason why, for a person; never null, may be empty, at most {@link
   *     Text#MAX_REASON_LENGTH} chars
   */
  record Cancelled(String reason) implements WorkOrderEvent {
    /**
     * Validates the event; the reason is kept as {@link Text#storable} returns it.
     *
     * @throws NullPointerException if the reason is null
     * @throws IllegalArgumentException if the reason is longer than {@link Text#MAX_REASON_LENGTH}
     */
    public Cancelled {
      Objects.requireNonNull(reason, "Cancelled.reason");
      reason = Text.requireFreeText(reason, "Cancelled.reason", Text.MAX_REASON_LENGTH);
    }

    @Override
    public EventType type() {
      return EventType.CANCELLED;
    }

    @Override
    public TransitionTable.Trigger trigger() {
      return TransitionTable.Trigger.CANCELLED;
    }
  }

  /**
   * The kinds of {@link WorkOrderEvent}, with the type name and the schema version under which they
   * are written as JSON. The type name is stable forever; the schema version rises when an event's
   * fields change, and readers keep decoding older versions.
   */
  public enum EventType {
    /** {@link WorkOrderEvent.Submitted}. */
    SUBMITTED("Submitted", 2),
    /** {@link WorkOrderEvent.Claimed}. */
    CLAIMED("Claimed", 1),
    /** {@link WorkOrderEvent.Started}. */
    STARTED("Started", 1),
    /** {@link WorkOrderEvent.Completed}. */
    COMPLETED("Completed", 1),
    /** {@link WorkOrderEvent.AttemptFailed}. */
    ATTEMPT_FAILED("AttemptFailed", 1),
    /** {@link WorkOrderEvent.RetryReleased}. */
    RETRY_RELEASED("RetryReleased", 1),
    /** {@link WorkOrderEvent.CancellationRequested}. */
    CANCELLATION_REQUESTED("CancellationRequested", 1),
    /** {@link WorkOrderEvent.Cancelled}. */
    CANCELLED("Cancelled", 1),
    /** {@link WorkOrderEvent.Released}. */
    RELEASED("Released", 1),
    /** {@link WorkOrderEvent.DependenciesMet}. */
    DEPENDENCIES_MET("DependenciesMet", 1),
    /** {@link WorkOrderEvent.DependencyFailed}. */
    DEPENDENCY_FAILED("DependencyFailed", 1),
    /** {@link WorkOrderEvent.Checkpointed}. */
    CHECKPOINTED("Checkpointed", 1);

    private static final Map<String, EventType> BY_NAME =
        Arrays.stream(values())
            .collect(Collectors.toUnmodifiableMap(t -> t.typeName, Function.identity()));

    private final String typeName;
    private final int schemaVersion;

    EventType(String typeName, int schemaVersion) {
      this.typeName = typeName;
      this.schemaVersion = schemaVersion;
    }

    /**
     * The stable name written with the event.
     *
     * @return e.g. {@code "AttemptFailed"}
     */
    public String typeName() {
      return typeName;
    }

    /**
     * The schema version this code writes.
     *
     * @return the current version, at least 1
     */
    public int schemaVersion() {
      return schemaVersion;
    }

    /**
     * The event type with the given type name.
     *
     * @param typeName a name such as {@code "Claimed"}
     * @return the type, or empty when no type has that name
     */
    public static Optional<EventType> ofTypeName(String typeName) {
      return Optional.ofNullable(BY_NAME.get(typeName));
    }
  }
}
