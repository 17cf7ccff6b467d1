package dev.workgate.execution.internal;

import dev.workgate.core.WorkOrderId;
import dev.workgate.scheduler.internal.ClaimedWork;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The executions of a node, by work order: the active one of each work order, and behind it, in
 * {@link Execution#successor}, a later attempt waiting for it to end, so that two attempts of one
 * work order never run side by side. An ending execution hands its work order over to its successor
 * here, and waiters for idleness are woken. Logs under the {@link ExecutionManager}'s logger.
 *
 * <p>Thread-safe: every change and every walk of a chain holds the monitor of the map of heads,
 * which also guards {@link Execution#successor} and is what {@link #awaitIdle} waits on; a dispatch
 * thread adds, execution, creation and timer threads hand over, any thread reads.
 */
final class ActiveExecutions {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutionManager.class);

  private final String nodeId;
  private final Map<WorkOrderId, Execution> heads = new ConcurrentHashMap<>();

  ActiveExecutions(String nodeId) {
    this.nodeId = nodeId;
  }

  /**
   * Adds an execution: active at once, or waiting behind an earlier attempt still ending here.
   *
   * @return true if it is active and is to run now, false if it waits
   * @throws IllegalStateException if the same or a later attempt of the work order is already
   *     executing here
   */
  boolean add(Execution execution) {
    ClaimedWork work = execution.work;
    synchronized (heads) {
      Execution previous = heads.get(work.id());
      if (previous != null) {
        Execution last = previous.lastInChain();
        if (last.claimed.attempt() >= work.attempt()) {
          throw new IllegalStateException(
              work.id()
                  + " attempt "
                  + last.claimed.attempt()
                  + " is already executing on "
                  + nodeId);
        }
        last.successor = execution;
        LOG.debug(
            "{} attempt {} waits for attempt {} to end on {}",
            work.id(),
            work.attempt(),
            last.claimed.attempt(),
            nodeId);
        return false;
      }
      heads.put(work.id(), execution);
      return true;
    }
  }

  /** Takes back an execution just added as active that could not be started. */
  void removeUnstarted(Execution execution) {
    synchronized (heads) {
      heads.remove(execution.work.id(), execution);
    }
  }

  /**
   * Hands the work order of an ending (or unstartable) execution to its successor, or removes it,
   * and wakes the waiters for idleness.
   *
   * @return the successor, now active, or null
   */
  Execution handOver(Execution ended) {
    synchronized (heads) {
      Execution next = ended.successor;
      if (next != null) {
        heads.replace(ended.claimed.id(), ended, next);
      } else {
        heads.remove(ended.claimed.id(), ended);
      }
      heads.notifyAll();
      return next;
    }
  }

  /** The execution of this claim: the active one or one waiting behind it. */
  Execution find(ClaimedWork work) {
    synchronized (heads) {
      for (Execution e = heads.get(work.id()); e != null; e = e.successor) {
        if (e.work == work) {
          return e;
        }
      }
      return null;
    }
  }

  /** The active execution of a work order and any waiting behind it. */
  List<Execution> chain(WorkOrderId id) {
    List<Execution> chain = new ArrayList<>();
    synchronized (heads) {
      for (Execution e = heads.get(id); e != null; e = e.successor) {
        chain.add(e);
      }
    }
    return chain;
  }

  /** Every execution, active or waiting. */
  List<Execution> all() {
    List<Execution> all = new ArrayList<>();
    synchronized (heads) {
      for (Execution head : heads.values()) {
        for (Execution e = head; e != null; e = e.successor) {
          all.add(e);
        }
      }
    }
    return all;
  }

  /** The sandbox ids of every execution: its sandbox's, and the one it is to have. */
  Set<String> sandboxIds() {
    Set<String> ids = new HashSet<>();
    for (Execution e : all()) {
      String id = e.sandboxId;
      if (id != null) {
        ids.add(id);
      }
      ids.add(e.expectedSandboxId);
    }
    return ids;
  }

  /** Whether a work order has an active execution. */
  boolean contains(WorkOrderId id) {
    return heads.containsKey(id);
  }

  /** Waits until {@link #idle()}; see {@link ExecutionManager#awaitIdle}. */
  boolean awaitIdle(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (heads) {
      while (!idle()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(heads, Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return idle();
        }
      }
      return true;
    }
  }

  /** No execution is left but those waiting only for a given-up creation; guarded by heads. */
  private boolean idle() {
    for (Execution head : heads.values()) {
      for (Execution e = head; e != null; e = e.successor) {
        if (!e.endsAfterCreate()) {
          return false;
        }
      }
    }
    return true;
  }
}
