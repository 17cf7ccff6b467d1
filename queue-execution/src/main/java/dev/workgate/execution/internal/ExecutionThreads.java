package dev.workgate.execution.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The executors of an {@link ExecutionManager}: those the host supplied through its builder, and a
 * pool of the manager's own for each one it did not (executions, timeouts, kills, sandbox
 * creations), which are the only ones {@link #shutdownOwned()} stops.
 *
 * <p>Thread-safe: built once on the building thread and not changed after, except by {@link
 * #shutdownOwned()}, which the pools themselves make safe to call from any thread.
 */
final class ExecutionThreads {
  /** Runs executions: one thread per slot of the node. */
  final ExecutorService executions;

  /** Schedules timeouts and caps. */
  final ScheduledExecutorService timers;

  /** Runs kills, which wait up to the kill grace. */
  final Executor killers;

  /** Runs sandbox creations other than in-process ones. */
  final Executor creators;

  private final List<ExecutorService> owned = new ArrayList<>();

  /**
   * Takes the host's executors and makes the rest.
   *
   * @param nodeId names the threads of the pools made here
   * @param threads threads of the execution pool, when it is made here
   * @param factory makes the threads of the pools made here, or null for named daemon threads
   * @param executor the host's execution executor, or null
   * @param timer the host's timer, or null
   * @param killExecutor the host's kill executor, or null
   * @param creationExecutor the host's creation executor, or null (then the host's execution
   *     executor, if any)
   */
  ExecutionThreads(
      String nodeId,
      int threads,
      ThreadFactory factory,
      ExecutorService executor,
      ScheduledExecutorService timer,
      Executor killExecutor,
      Executor creationExecutor) {
    AtomicInteger n = new AtomicInteger();
    if (executor != null) {
      this.executions = executor;
    } else {
      this.executions =
          Executors.newFixedThreadPool(
              threads,
              factory != null
                  ? factory
                  : r -> daemon(r, "workgate-exec-" + nodeId + "-" + n.incrementAndGet()));
      owned.add(executions);
    }
    if (timer != null) {
      this.timers = timer;
    } else {
      ScheduledThreadPoolExecutor own =
          new ScheduledThreadPoolExecutor(
              1, factory != null ? factory : r -> daemon(r, "workgate-timeouts-" + nodeId));
      // Each attempt schedules its timeout (1 h by default) and cancels it when it ends: without
      // this, every cancelled timer stayed queued until its time, one per attempt on a busy node.
      own.setRemoveOnCancelPolicy(true);
      this.timers = own;
      owned.add(own);
    }
    if (killExecutor != null) {
      this.killers = killExecutor;
    } else {
      ExecutorService pool =
          Executors.newCachedThreadPool(
              factory != null ? factory : r -> daemon(r, "workgate-kill-" + nodeId));
      this.killers = pool;
      owned.add(pool);
    }
    if (creationExecutor != null) {
      this.creators = creationExecutor;
    } else if (executor != null) {
      this.creators = executor; // a host that manages its threads gets no others
    } else {
      AtomicInteger c = new AtomicInteger();
      ExecutorService pool =
          Executors.newCachedThreadPool(
              factory != null
                  ? factory
                  : r -> daemon(r, "workgate-create-" + nodeId + "-" + c.incrementAndGet()));
      this.creators = pool;
      owned.add(pool);
    }
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Timers still queued, or -1 when the timer is not a {@link ScheduledThreadPoolExecutor}. */
  int queuedTimers() {
    return timers instanceof ScheduledThreadPoolExecutor
        ? ((ScheduledThreadPoolExecutor) timers).getQueue().size()
        : -1;
  }

  /** Stops the pools made here, interrupting what runs on them; the host's stay the host's. */
  void shutdownOwned() {
    for (ExecutorService pool : owned) {
      pool.shutdownNow();
    }
  }
}
