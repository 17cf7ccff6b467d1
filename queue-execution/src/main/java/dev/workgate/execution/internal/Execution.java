package dev.workgate.execution.internal;

import dev.workgate.NodeView;
import dev.workgate.WorkResult;
import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Text;
import dev.workgate.execution.Sandbox;
import dev.workgate.execution.SandboxProvider;
import dev.workgate.execution.SandboxProvider.SandboxRequest;
import dev.workgate.execution.internal.ExecutionManager.ExecutionListener;
import dev.workgate.execution.internal.ExecutionManager.StopReason;
import dev.workgate.execution.internal.OutcomeRecorder.Outcome;
import dev.workgate.scheduler.internal.ClaimedWork;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One attempt on this node, from the claim to the released slot: its lifecycle (PREPARING, RUNNING,
 * CLEANUP) and the steps that move it. It finds the provider and has the sandbox made (on this
 * thread for an in-process provider, otherwise through {@link SandboxCreations}), appends {@code
 * Started} (unless the claim wrote it, which it does for an in-process provider: then the work
 * order is already {@code RUNNING}, and a failed creation is recorded as any failure of a running
 * attempt), runs the work under its timeout, is stopped from outside with a grace before the kill,
 * decides which outcome {@link OutcomeRecorder} records, destroys the sandbox, and ends: it hands
 * the work order to a waiting successor, releases the slot (or leaves it to {@link
 * AbandonedHandlers}) and tells the listeners. Logs under the {@link ExecutionManager}'s logger.
 *
 * <p>Thread-safe: {@link #run()} and {@link #afterCreation()} run on an execution thread, one at a
 * time; {@link #stop} comes from any thread and acts once (an atomic stop reason); its state is
 * volatile, written by the thread that runs the step. The end runs once (an atomic flag) on an
 * execution, creation or timer thread. {@link #successor} is guarded by the monitor of the
 * manager's map of active executions.
 */
final class Execution {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutionManager.class);

  /**
   * What an execution uses of its manager: settings, executors and the parts it works with. One per
   * manager.
   */
  record Parts(
      Map<String, SandboxProvider> providers,
      String nodeId,
      Clock clock,
      Duration killGrace,
      Duration defaultTimeout,
      Duration abandonedHandlerSlotCap,
      Executor executions,
      ScheduledExecutorService timers,
      Executor killers,
      OutcomeRecorder recorder,
      SandboxCreations creations,
      AbandonedHandlers abandoned,
      ActiveExecutions active,
      List<ExecutionListener> listeners) {}

  private final Parts parts;

  final ClaimedWork work;
  final WorkOrderView claimed;
  final String expectedSandboxId;
  private final AtomicReference<StopReason> stopReason = new AtomicReference<>();
  private volatile String stopMessage = "";
  private volatile NodeView.ExecutionStatus status = NodeView.ExecutionStatus.PREPARING;
  private volatile Sandbox sandbox;
  volatile String sandboxId;
  private volatile Instant startedAt;

  /** Progress and checkpoints of the attempt; knows the version of its last own event. */
  private final ExecutionReports reports;

  /** How the attempt ended; set once, by the thread that decides it. */
  private volatile Outcome outcome;

  /** The attempt's timeout while it runs. */
  private volatile ScheduledFuture<?> timeout;

  /** The sandbox being created on a creation thread, if it is made there. */
  private volatile SandboxCreations.Creation creation;

  /** The end of the execution (slot, successor, listeners) has run. */
  private final java.util.concurrent.atomic.AtomicBoolean ended =
      new java.util.concurrent.atomic.AtomicBoolean();

  private volatile ScheduledFuture<?> endCap;

  /**
   * The next attempt of the work order, waiting for this one to end; guarded by the monitor of
   * {@link ActiveExecutions}.
   */
  Execution successor;

  Execution(ClaimedWork work, Parts parts) {
    this.work = work;
    this.parts = parts;
    this.claimed = work.view();
    this.expectedSandboxId = SandboxPaths.name(claimed.id(), claimed.attempt());
    this.reports = new ExecutionReports(work, parts.recorder(), parts.clock());
  }

  /** Whether it has recorded its outcome and waits only for a given-up create to return. */
  boolean endsAfterCreate() {
    SandboxCreations.Creation c = creation;
    return c != null && c.endsAfterCreate();
  }

  Execution lastInChain() {
    Execution e = this;
    while (e.successor != null) {
      e = e.successor;
    }
    return e;
  }

  NodeView.ActiveExecution snapshot() {
    return new NodeView.ActiveExecution(
        claimed.id(),
        claimed.attempt(),
        claimed.queue(),
        Optional.ofNullable(sandboxId),
        work.slot().resources().slots(),
        work.slot().resources().memoryMb(),
        work.claimedAt(),
        Optional.ofNullable(startedAt),
        status,
        claimed.timeout().orElse(parts.defaultTimeout()),
        work.progress());
  }

  void stop(StopReason reason, String message) {
    stop(reason, message, parts.killGrace());
  }

  void stop(StopReason reason, String message, Duration grace) {
    if (!stopReason.compareAndSet(null, reason)) {
      return;
    }
    stopMessage = message;
    SandboxCreations.Creation pending = creation;
    if (pending != null) {
      pending.stop("it was stopped (" + reason.name().toLowerCase(java.util.Locale.ROOT) + ")");
    }
    Sandbox s = sandbox;
    if (s != null) {
      parts.killers().execute(() -> s.kill(grace));
    }
  }

  private void enterMdc() {
    MDC.put("workOrderId", claimed.id().value());
    MDC.put("attempt", Integer.toString(claimed.attempt()));
    MDC.put("queue", claimed.queue());
  }

  private void leaveMdc() {
    MDC.remove("workOrderId");
    MDC.remove("attempt");
    MDC.remove("queue");
  }

  /**
   * The first step, on an execution thread: find the provider and create the sandbox. An in-process
   * provider only makes an object, so its sandbox is made here and the work goes on on this thread;
   * any other creation runs on a creation thread, and the execution continues in {@link
   * #afterCreation} on an execution thread once it ends, times out or is stopped.
   */
  void run() {
    enterMdc();
    boolean continuesElsewhere = false;
    try {
      SandboxProvider provider = parts.providers().get(claimed.type());
      if (provider == null) {
        outcome =
            parts
                .recorder()
                .fail(
                    claimed,
                    ErrorInfo.fatal(
                        ErrorCodes.INVALID_WORK_ORDER,
                        "no handler or sandbox provider for type '"
                            + claimed.type()
                            + "' on "
                            + parts.nodeId()));
        return;
      }
      if (stopReason.get() != null) {
        // Stopped while it waited for a slot's previous attempt to end: no sandbox to make.
        outcome = stopped();
        return;
      }
      if (provider instanceof InProcessSandboxProvider) {
        try {
          created(provider.create(request()));
        } catch (Exception e) {
          outcome = creationFailed(e);
          return;
        }
        proceed();
        return;
      }
      beginCreation(provider);
      continuesElsewhere = true;
    } catch (RuntimeException e) {
      outcome = parts.recorder().failedUnexpectedly(claimed, e);
    } finally {
      if (!continuesElsewhere) {
        finish();
      }
      leaveMdc();
    }
  }

  private SandboxRequest request() {
    return new SandboxRequest(claimed, parts.nodeId(), reports);
  }

  private void created(Sandbox made) {
    sandbox = Objects.requireNonNull(made, "the sandbox provider returned no sandbox");
    sandboxId = made.id();
  }

  private Outcome creationFailed(Throwable e) {
    return parts.recorder().creationFailed(claimed, e);
  }

  /**
   * Starts the provider's create on a creation thread; once it ends, times out or is stopped, the
   * execution continues on an execution thread.
   */
  private void beginCreation(SandboxProvider provider) {
    SandboxCreations.Creation c = parts.creations().creation(claimed, () -> end(false));
    creation = c;
    c.begin(provider, request(), () -> stopReason.get() != null, this::continueAfterCreation);
  }

  /** Once the creation ended, timed out or was stopped: the rest runs on an execution thread. */
  private void continueAfterCreation() {
    creation.cancelTimer();
    try {
      parts.executions().execute(this::afterCreation);
    } catch (RuntimeException rejected) {
      // The manager is closing: no thread will record anything. Destroy and release; the lease,
      // no longer renewed, expires and the work order is reaped.
      LOG.warn(
          "{} attempt {} cannot go on after its sandbox creation: {}",
          claimed.id(),
          claimed.attempt(),
          rejected.toString());
      creation.future().thenAccept(this::created);
      finish();
    }
  }

  private void afterCreation() {
    enterMdc();
    try {
      Sandbox made;
      try {
        made = creation.future().join();
      } catch (CompletionException | java.util.concurrent.CancellationException e) {
        Throwable cause =
            e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof SandboxCreations.CreationStopped) {
          outcome = stopped();
        } else if (cause instanceof SandboxCreations.CreationTimedOut) {
          outcome =
              parts
                  .recorder()
                  .fail(
                      claimed,
                      ErrorInfo.retryable(
                          ErrorCodes.SANDBOX_CREATION_TIMEOUT,
                          "creating the sandbox took longer than "
                              + Text.duration(parts.creations().timeout())
                              + "; the creation was interrupted"));
        } else {
          outcome = creationFailed(cause);
        }
        return;
      }
      created(made);
      proceed();
    } catch (RuntimeException e) {
      outcome = parts.recorder().failedUnexpectedly(claimed, e);
    } finally {
      finish();
      leaveMdc();
    }
  }

  /** With the sandbox made: append Started, run under the timeout, decide the outcome. */
  private void proceed() {
    if (stopReason.get() != null) {
      outcome = stopped();
      return;
    }
    try {
      reports.started(
          startedByClaim() ? claimed.version() : parts.recorder().started(claimed, sandbox.id()));
    } catch (ConcurrencyException | InvalidTransitionException moved) {
      // Cancelled, reaped or otherwise changed while the sandbox was being created.
      outcome =
          stopReason.get() != null
              ? stopped()
              : parts
                  .recorder()
                  .fail(
                      claimed,
                      ErrorInfo.retryable(
                          ErrorCodes.SANDBOX_CREATION_FAILED,
                          "the work order changed while its sandbox was being created"));
      return;
    }
    startedAt = parts.clock().instant();
    status = NodeView.ExecutionStatus.RUNNING;
    Duration limit = claimed.timeout().orElse(parts.defaultTimeout());
    timeout =
        parts
            .timers()
            .schedule(
                () -> stop(StopReason.TIMEOUT, "ran past its timeout of " + Text.duration(limit)),
                TimeUnit.NANOSECONDS.convert(limit), // saturates: no overflow for huge timeouts
                TimeUnit.NANOSECONDS);
    if (stopReason.get() != null) {
      Sandbox s = sandbox;
      parts.killers().execute(() -> s.kill(parts.killGrace()));
    }
    WorkResult result;
    try {
      result = sandbox.run();
    } catch (Exception | Error e) { // an Error of the handler is its failure, recorded
      result = WorkResult.failure(parts.recorder().classify(e));
    }
    if (stopReason.get() != null) {
      outcome = stopped();
    } else if (result.succeeded()) {
      outcome = parts.recorder().complete(claimed, reports.version(), result);
    } else {
      outcome = parts.recorder().fail(claimed, result.error().orElseThrow());
    }
  }

  /**
   * After the outcome, in every outcome: destroy the sandbox, then {@link #end}. A creation that
   * was given up but whose create call ignores its interrupt still holds the node's resources: the
   * execution then stays, in {@code CLEANUP}, until the call returns (and what it made is
   * destroyed), or until {@link ExecutionManager#abandonedHandlerSlotCap()} has passed.
   */
  private void finish() {
    ScheduledFuture<?> t = timeout;
    if (t != null) {
      t.cancel(false);
    }
    status = NodeView.ExecutionStatus.CLEANUP;
    Sandbox s = sandbox;
    if (s != null) {
      try {
        s.destroy();
      } catch (RuntimeException e) {
        LOG.error("destroying sandbox {} of {} failed", s.id(), claimed.id(), e);
      }
    }
    SandboxCreations.Creation c = creation;
    if (c == null || !c.holdEndUntilCreateReturns()) {
      end(false);
      return;
    }
    LOG.debug(
        "{} attempt {} has its outcome recorded, but its given-up sandbox creation has not"
            + " returned; its {} slot(s) stay in use until it does, for {} at most",
        claimed.id(),
        claimed.attempt(),
        work.slot().resources().slots(),
        Text.duration(parts.abandonedHandlerSlotCap()));
    ScheduledFuture<?> cap =
        parts
            .timers()
            .schedule(
                () -> end(true),
                TimeUnit.NANOSECONDS.convert(parts.abandonedHandlerSlotCap()),
                TimeUnit.NANOSECONDS);
    endCap = cap;
    if (ended.get()) {
      cap.cancel(false); // the creation returned meanwhile
    }
  }

  /**
   * The end: hand the work order to a waiting successor, release the slot (or hold it while an
   * abandoned handler's thread still runs), tell the listeners. Once.
   *
   * @param capped the end comes from the cap on a creation that has not returned
   */
  private void end(boolean capped) {
    if (!ended.compareAndSet(false, true)) {
      return;
    }
    ScheduledFuture<?> cap = endCap;
    if (cap != null) {
      cap.cancel(false);
    }
    if (capped) {
      LOG.warn(
          "the sandbox creation of {} attempt {} has not returned after {}; its slot is freed"
              + " while the creation goes on",
          claimed.id(),
          claimed.attempt(),
          Text.duration(parts.abandonedHandlerSlotCap()));
    }
    Sandbox s = sandbox;
    Execution next = parts.active().handOver(this);
    CompletableFuture<Void> stopped = s == null ? null : s.whenStopped().toCompletableFuture();
    if (stopped != null && !stopped.isDone()) {
      parts.abandoned().hold(work, claimed, stopped);
    } else {
      work.release();
    }
    if (next != null) {
      startSuccessor(next);
    }
    Outcome how = outcome == null ? Outcome.DISCARDED : outcome;
    for (ExecutionListener l : parts.listeners()) {
      try {
        l.executionEnded(claimed.id(), claimed.attempt(), how.name());
      } catch (RuntimeException e) {
        LOG.warn("execution listener failed", e);
      }
    }
  }

  /**
   * Whether the claim wrote this attempt's {@code Started} (an in-process sandbox, named before it
   * was made): the execution then appends none of its own.
   */
  private boolean startedByClaim() {
    return claimed.state() == WorkOrderState.RUNNING;
  }

  /** What to record when the work was stopped from outside. */
  private Outcome stopped() {
    return parts.recorder().stopped(claimed, stopReason.get(), stopMessage);
  }

  private void startSuccessor(Execution next) {
    try {
      parts.executions().execute(next::run);
    } catch (RuntimeException e) {
      LOG.warn("{} attempt {} could not start: {}", next.claimed.id(), next.claimed.attempt(), e);
      parts.active().handOver(next);
      next.work.release();
    }
  }
}
