package dev.workgate.execution.internal;

import dev.workgate.NodeView;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Text;
import dev.workgate.execution.Sandbox;
import dev.workgate.execution.SandboxProvider;
import dev.workgate.execution.SandboxProvider.SandboxRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sandbox creation under a timeout: a provider's create runs on a creation thread while its
 * execution waits without a thread of its own. The creation timeout or a stop gives up on it at
 * once: the create is interrupted, the execution goes on, and a sandbox the create still returns is
 * destroyed, never run. A create that ignores its interrupt keeps its creation thread until it
 * returns and is listed meanwhile as an {@link NodeView.AbandonedCreation}. Logs under the {@link
 * ExecutionManager}'s logger.
 *
 * <p>Thread-safe: one per manager, the given-up creations still running are a concurrent map. Each
 * {@link Creation} is begun on its execution thread, run on a creation thread, given up on the
 * timer's thread or a stopping thread; its lock guards the creating thread and the flags that say
 * how far the create got, and a creation is given up under it (see {@link Creation#giveUp}).
 */
final class SandboxCreations {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutionManager.class);

  private final Executor creators;
  private final ScheduledExecutorService timers;
  private final Duration timeout;
  private final Clock clock;
  private final Map<Creation, NodeView.AbandonedCreation> lingering = new ConcurrentHashMap<>();

  SandboxCreations(
      Executor creators, ScheduledExecutorService timers, Duration timeout, Clock clock) {
    this.creators = creators;
    this.timers = timers;
    this.timeout = timeout;
    this.clock = clock;
  }

  /** How long a sandbox may take to be created. */
  Duration timeout() {
    return timeout;
  }

  /** Given-up creations whose create still runs, oldest first. */
  List<NodeView.AbandonedCreation> abandoned() {
    List<NodeView.AbandonedCreation> list = new ArrayList<>(lingering.values());
    list.sort(Comparator.comparing(NodeView.AbandonedCreation::abandonedAt));
    return list;
  }

  /**
   * A creation for one attempt, not yet begun.
   *
   * @param claimed the work order as claimed
   * @param endLate ends the execution when a given-up create returns after the execution asked to
   *     end once it does (see {@link Creation#holdEndUntilCreateReturns})
   */
  Creation creation(WorkOrderView claimed, Runnable endLate) {
    return new Creation(claimed, endLate);
  }

  /** Completes a creation given up because it took longer than the creation timeout. */
  static final class CreationTimedOut extends Exception {
    private static final long serialVersionUID = 1L;

    CreationTimedOut() {
      super("sandbox creation timed out", null, false, false);
    }
  }

  /** Completes a creation given up because the execution was stopped. */
  static final class CreationStopped extends Exception {
    private static final long serialVersionUID = 1L;

    CreationStopped() {
      super("sandbox creation stopped", null, false, false);
    }
  }

  /** The creation of one attempt's sandbox. */
  final class Creation {
    private final WorkOrderView claimed;
    private final Runnable endLate;

    /** The sandbox being created; completed early when given up. */
    private final CompletableFuture<Sandbox> pending = new CompletableFuture<>();

    private volatile ScheduledFuture<?> timer;
    private final Object lock = new Object();

    /** The thread running the provider's create; guarded by lock. */
    private Thread creatingThread;

    /** The creation was given up while the provider's create still ran; guarded by lock. */
    private boolean lingers;

    /** The provider's create was called; guarded by lock. */
    private boolean createStarted;

    /** The create call returned and what it made is handed over or destroyed; guarded by lock. */
    private boolean createDone;

    /**
     * The outcome is recorded and the execution ends once create returns; written under lock, read
     * without it by the manager's idle check.
     */
    private volatile boolean endAfterCreate;

    private Creation(WorkOrderView claimed, Runnable endLate) {
      this.claimed = claimed;
      this.endLate = endLate;
    }

    /** The sandbox, or why there is none; complete once created, failed or given up. */
    CompletableFuture<Sandbox> future() {
      return pending;
    }

    /**
     * On the execution thread: starts the provider's create on a creation thread, with the creation
     * timeout on the timer. Whichever comes first (the sandbox, a failure, the timeout, a stop)
     * completes {@link #future()} and runs {@code whenDone}.
     *
     * @param stopped whether the execution was stopped before the creation could be given up
     */
    void begin(
        SandboxProvider provider,
        SandboxRequest request,
        BooleanSupplier stopped,
        Runnable whenDone) {
      timer =
          timers.schedule(
              () -> giveUp(new CreationTimedOut(), "it took longer than " + Text.duration(timeout)),
              TimeUnit.NANOSECONDS.convert(timeout),
              TimeUnit.NANOSECONDS);
      if (stopped.getAsBoolean()) {
        giveUp(new CreationStopped(), "it was stopped");
      }
      pending.whenComplete((made, failure) -> whenDone.run());
      Map<String, String> mdc = org.slf4j.MDC.getCopyOfContextMap();
      try {
        creators.execute(() -> create(provider, request, mdc));
      } catch (RuntimeException rejected) { // the manager is closing
        pending.completeExceptionally(rejected);
      }
    }

    /** Gives the creation up because its execution was stopped. */
    void stop(String reason) {
      giveUp(new CreationStopped(), reason);
    }

    /** Cancels the creation timeout once the creation has ended. */
    void cancelTimer() {
      ScheduledFuture<?> t = timer;
      if (t != null) {
        t.cancel(false);
      }
    }

    /**
     * On a creation thread: runs the provider's create and hands its sandbox over, or destroys it.
     */
    private void create(SandboxProvider provider, SandboxRequest request, Map<String, String> mdc) {
      synchronized (lock) {
        if (pending.isDone()) {
          return; // given up before it started: nothing to make
        }
        creatingThread = Thread.currentThread();
        createStarted = true;
      }
      if (mdc != null) {
        org.slf4j.MDC.setContextMap(mdc);
      }
      Sandbox made = null;
      Throwable failure = null;
      boolean lingered;
      try {
        made = provider.create(request);
        if (made == null) {
          failure = new IllegalStateException("the sandbox provider returned no sandbox");
        }
      } catch (Throwable t) { // an Error of the provider fails the creation, recorded like any
        failure = t;
      } finally {
        synchronized (lock) {
          creatingThread = null;
          lingered = lingers;
          // An interrupt from giving up lands only while create runs: clear it before the thread
          // goes back to its pool.
          Thread.interrupted();
        }
        org.slf4j.MDC.clear();
      }
      boolean handedOver =
          failure == null ? pending.complete(made) : pending.completeExceptionally(failure);
      if (!handedOver && made != null) {
        // Given up (timed out or stopped) while the provider was still creating it: it is nobody's.
        try {
          made.destroy();
        } catch (RuntimeException e) {
          LOG.error(
              "destroying sandbox {} of {}, created after its creation was given up, failed",
              made.id(),
              claimed.id(),
              e);
        }
      }
      boolean endNow;
      synchronized (lock) {
        createDone = true;
        endNow = endAfterCreate;
      }
      if (lingered) {
        lingering.remove(this);
        LOG.info(
            "the sandbox creation of {} attempt {} given up earlier returned{}",
            claimed.id(),
            claimed.attempt(),
            made != null ? "; its sandbox " + made.id() + " was destroyed" : " without a sandbox");
      }
      if (endNow) {
        endLate.run();
      }
    }

    /**
     * Gives up the creation unless it has ended: interrupts the provider's create, if it runs, and
     * completes {@link #future()} with {@code why}, in that order and under the lock, so that the
     * execution goes on with the create already interrupted, and the create (which hands its result
     * over only after taking the lock) cannot complete it first. A create still running is listed
     * by {@link #abandoned()} until it returns.
     */
    private void giveUp(Exception why, String reason) {
      boolean running;
      synchronized (lock) {
        if (pending.isDone()) {
          return;
        }
        Thread t = creatingThread;
        running = t != null;
        if (running) {
          lingers = true;
          lingering.put(
              this,
              new NodeView.AbandonedCreation(
                  claimed.id(), claimed.attempt(), claimed.queue(), clock.instant()));
          t.interrupt();
        }
        pending.completeExceptionally(why);
      }
      LOG.warn(
          "gave up creating the sandbox of {} attempt {} because {}{}",
          claimed.id(),
          claimed.attempt(),
          reason,
          running
              ? "; its create was interrupted, and a sandbox it still returns will be destroyed"
              : "");
    }

    /**
     * Once the execution's outcome is recorded: decides whether its end waits for the create to
     * return, which it does when the creation was given up while the provider's create still runs.
     * Then the create ends the execution when it returns (through {@code endLate}).
     *
     * @return true if the end waits for the create
     */
    boolean holdEndUntilCreateReturns() {
      // Decided by the creation's own future, which is complete by now: the flag that lists the
      // creation as abandoned may be set a moment after it.
      boolean givenUp = givenUp();
      synchronized (lock) {
        boolean waitForCreate = givenUp && createStarted && !createDone;
        endAfterCreate = waitForCreate;
        return waitForCreate;
      }
    }

    /** Whether the execution has recorded its outcome and waits only for the create to return. */
    boolean endsAfterCreate() {
      return endAfterCreate;
    }

    /**
     * Whether the creation was given up (timed out or stopped) rather than ended by the provider.
     */
    private boolean givenUp() {
      if (!pending.isCompletedExceptionally()) {
        return false;
      }
      try {
        pending.join();
        return false;
      } catch (CompletionException e) {
        return e.getCause() instanceof CreationStopped || e.getCause() instanceof CreationTimedOut;
      }
    }
  }
}
