package dev.workgate.execution.internal;

import dev.workgate.WorkResult;
import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.StaleAttemptException;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.execution.internal.ExecutionManager.StopReason;
import dev.workgate.retry.internal.RetryManager;
import dev.workgate.spi.ExpectedVersion;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records what became of an attempt in the store: its {@code Started}, and then the sandbox's
 * result, the reason it was stopped or the exception that escaped it, as {@code Completed}, {@code
 * AttemptFailed} (with the {@link RetryManager}'s decision), {@code Released} or {@code Cancelled}.
 * A result over the size limit fails the attempt for good. Every outcome is fenced: it is appended
 * only while the work order is still this node's attempt (active, leased to this node, same
 * attempt), re-read and retried a few times on a race, and discarded otherwise. Logs under the
 * {@link ExecutionManager}'s logger.
 *
 * <p>Thread-safe and holds no state of its own: one per manager, called on the execution thread of
 * the attempt whose outcome it records.
 */
final class OutcomeRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutionManager.class);

  /** How an execution ended, as its listeners hear it. */
  enum Outcome {
    COMPLETED,
    RETRY,
    FAILED,
    CANCELLED,
    RELEASED,
    DISCARDED
  }

  private final WorkOrderStore store;
  private final RetryManager retries;
  private final String nodeId;

  OutcomeRecorder(WorkOrderStore store, RetryManager retries, String nodeId) {
    this.store = store;
    this.retries = retries;
    this.nodeId = nodeId;
  }

  /** What the retry manager's classifier makes of an exception. */
  ErrorInfo classify(Throwable e) {
    return retries.classifier().classify(e);
  }

  /**
   * Appends {@code Started} right after the claim.
   *
   * @return the version it left
   * @throws ConcurrencyException if the work order changed since it was claimed
   * @throws InvalidTransitionException if it may not start any more
   */
  long started(WorkOrderView claimed, String sandboxId) {
    List<RecordedEvent> started =
        store.append(
            claimed.id(),
            ExpectedVersion.exactly(claimed.version()),
            List.of(new WorkOrderEvent.Started(sandboxId)));
    return started.get(started.size() - 1).version();
  }

  Outcome creationFailed(WorkOrderView claimed, Throwable e) {
    return fail(
        claimed, ErrorInfo.retryable(ErrorCodes.SANDBOX_CREATION_FAILED, classify(e).message()));
  }

  /**
   * Records a failure that escaped the steps of an execution: most often the store refusing to
   * record an outcome (a full disk, a lost database). When recording the failure fails too, nothing
   * more can be done here: the outcome is discarded, the work order stays as the store last saw it,
   * and its lease, no longer renewed, expires and is reaped, so the work order is retried or failed
   * by the retry policy. The exception never escapes the execution thread.
   */
  Outcome failedUnexpectedly(WorkOrderView claimed, RuntimeException e) {
    LOG.error("execution of {} failed unexpectedly", claimed.id(), e);
    try {
      return fail(claimed, classify(e));
    } catch (RuntimeException again) {
      LOG.error(
          "could not record the outcome of {} attempt {} ({}); its lease expires and the"
              + " work order is reaped and retried",
          claimed.id(),
          claimed.attempt(),
          again.getClass().getSimpleName());
      return Outcome.DISCARDED;
    }
  }

  /** What to record when the work was stopped from outside. */
  Outcome stopped(WorkOrderView claimed, StopReason reason, String message) {
    switch (reason) {
      case CANCELLED:
        return cancelled(claimed, message);
      case TIMEOUT:
        return fail(claimed, ErrorInfo.retryable(ErrorCodes.TIMEOUT, message));
      case SHUTDOWN:
        // The node went away, not the work: give the attempt back without charging it.
        return release(claimed, ErrorCodes.NODE_SHUTDOWN, message);
      case LEASE_LOST:
        LOG.warn("{} lost its lease: its result is discarded", claimed.id());
        return Outcome.DISCARDED;
      default:
        throw new IllegalStateException("unknown stop reason " + reason);
    }
  }

  /**
   * Records a successful result.
   *
   * @param startedVersion the version the attempt's {@code Started} left, or 0 if unknown
   */
  Outcome complete(WorkOrderView claimed, long startedVersion, WorkResult result) {
    WorkOrderEvent.Completed completed;
    try {
      completed = new WorkOrderEvent.Completed(result.output().orElse(null));
    } catch (IllegalArgumentException tooLarge) {
      // Over the size limit of a result: running the work again would produce it again.
      return fail(
          claimed,
          ErrorInfo.fatal(
              ErrorCodes.AGENT_FATAL_ERROR,
              "the work succeeded but its result cannot be recorded: " + tooLarge.getMessage()));
    }
    if (startedVersion > 0) {
      // Nothing appended since our Started (no cancel request, no reaper, no other owner): the
      // attempt is still ours and Completed goes in without reading the work order first.
      try {
        return appendCompleted(claimed, startedVersion, completed);
      } catch (ConcurrencyException changed) {
        LOG.debug("{} changed while it ran; reading it before recording", claimed.id());
      }
    }
    return appendIfOurs(
        claimed,
        v -> {
          if (v.cancellationRequested().isPresent()) {
            return appendCancelled(v, v.cancellationRequested().get());
          }
          return appendCompleted(claimed, v.version(), completed);
        });
  }

  /**
   * Appends a checkpoint under the attempt's fencing: first under the version the attempt last
   * wrote, and when something else was appended since (a cancellation request), under the version
   * read again while the attempt still holds the work order and it is {@code RUNNING}.
   *
   * @param claimed the attempt's work order as claimed
   * @param knownVersion the version the attempt's last own event left
   * @param event the checkpoint
   * @return the version the checkpoint left
   * @throws StaleAttemptException if the attempt no longer holds the work order
   */
  long checkpoint(WorkOrderView claimed, long knownVersion, WorkOrderEvent.Checkpointed event) {
    if (knownVersion > 0) {
      try {
        return store
            .append(claimed.id(), ExpectedVersion.exactly(knownVersion), List.of(event))
            .get(0)
            .version();
      } catch (ConcurrencyException changed) {
        LOG.debug(
            "{} changed since its last event; reading it before its checkpoint", claimed.id());
      }
    }
    for (int i = 0; i < 5; i++) {
      Optional<WorkOrderView> current =
          ours(claimed).filter(v -> v.state() == dev.workgate.core.WorkOrderState.RUNNING);
      if (current.isEmpty()) {
        throw new StaleAttemptException(claimed.id(), claimed.attempt(), "checkpoint");
      }
      try {
        return store
            .append(claimed.id(), ExpectedVersion.exactly(current.get().version()), List.of(event))
            .get(0)
            .version();
      } catch (ConcurrencyException raced) {
        LOG.debug("{} changed while recording a checkpoint; reading it again", claimed.id());
      }
    }
    throw new StaleAttemptException(claimed.id(), claimed.attempt(), "checkpoint");
  }

  /** Records a failure, with the retry manager's decision, unless a cancellation was requested. */
  Outcome fail(WorkOrderView claimed, ErrorInfo error) {
    return appendIfOurs(
        claimed,
        v -> {
          if (v.cancellationRequested().isPresent()) {
            return appendCancelled(v, v.cancellationRequested().get());
          }
          return retries.recordFailure(v, error).willRetry() ? Outcome.RETRY : Outcome.FAILED;
        });
  }

  private Outcome appendCompleted(
      WorkOrderView claimed, long version, WorkOrderEvent.Completed completed) {
    store.append(claimed.id(), ExpectedVersion.exactly(version), List.of(completed));
    return Outcome.COMPLETED;
  }

  private Outcome cancelled(WorkOrderView claimed, String reason) {
    return appendIfOurs(claimed, v -> appendCancelled(v, reason));
  }

  private Outcome appendCancelled(WorkOrderView v, String reason) {
    store.append(
        v.id(),
        ExpectedVersion.exactly(v.version()),
        List.of(new WorkOrderEvent.Cancelled(reason)));
    return Outcome.CANCELLED;
  }

  /**
   * Gives the attempt back without counting it ({@code Released}, or {@code Cancelled} if a
   * cancellation was requested, or a final {@code POISONED} failure past the release cap).
   */
  private Outcome release(WorkOrderView claimed, String code, String reason) {
    return appendIfOurs(
        claimed,
        v ->
            switch (retries.recordRelease(v, code, reason)) {
              case RELEASED -> Outcome.RELEASED;
              case CANCELLED -> Outcome.CANCELLED;
              case POISONED -> Outcome.FAILED;
            });
  }

  /** The work order as it is now, if it is still this node's attempt. */
  private Optional<WorkOrderView> ours(WorkOrderView claimed) {
    return store
        .find(claimed.id())
        .filter(
            v ->
                v.state().isActive()
                    && v.attempt() == claimed.attempt()
                    && v.leaseOwner().map(nodeId::equals).orElse(false));
  }

  /** Appends under the current version while the attempt is ours; a few tries on a race. */
  private Outcome appendIfOurs(WorkOrderView claimed, Function<WorkOrderView, Outcome> append) {
    for (int i = 0; i < 5; i++) {
      Optional<WorkOrderView> current = ours(claimed);
      if (current.isEmpty()) {
        LOG.warn(
            "{} attempt {} is no longer held by {}: outcome discarded",
            claimed.id(),
            claimed.attempt(),
            nodeId);
        return Outcome.DISCARDED;
      }
      try {
        return append.apply(current.get());
      } catch (ConcurrencyException raced) {
        LOG.debug("{} changed while recording its outcome; reading it again", claimed.id());
      }
    }
    LOG.warn("{} kept changing: outcome discarded", claimed.id());
    return Outcome.DISCARDED;
  }
}
