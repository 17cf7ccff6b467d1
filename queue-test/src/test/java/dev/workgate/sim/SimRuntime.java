package dev.workgate.sim;

import dev.workgate.test.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The deterministic core of the simulation: a virtual clock (the {@link MutableClock} every node is
 * built on), a queue of tasks ordered by virtual time and then by the order they were scheduled,
 * the nodes' own timers (which fire when the clock reaches them), and fibers. A fiber is a real
 * thread that runs only while the controller waits for it: control passes back and forth
 * explicitly, so exactly one thread runs at any moment and a run depends on nothing but its seed.
 * Engine code that blocks (an execution waiting for its sandbox) runs on a fiber and parks at
 * simulated blocking points.
 *
 * <p>Not thread-safe in the usual sense: it relies on there being one running thread at a time.
 */
final class SimRuntime {
  /** Thrown into a parked fiber of a crashed node so that it unwinds without doing anything. */
  static final class Crashed extends Error {
    private static final long serialVersionUID = 1L;

    Crashed() {
      super("node crashed", null, false, false);
    }
  }

  private record Task(Instant at, long seq, String label, Runnable body, Handle handle)
      implements Comparable<Task> {
    @Override
    public int compareTo(Task o) {
      int c = at.compareTo(o.at);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  /** A scheduled task that can be cancelled. */
  static final class Handle {
    private boolean cancelled;
    private boolean done;

    boolean cancel() {
      if (done || cancelled) {
        return false;
      }
      cancelled = true;
      return true;
    }
  }

  /** A fiber: a thread that runs only when handed control. */
  final class Fiber {
    final String label;
    final String owner;
    private final Semaphore go = new Semaphore(0);
    private Carrier carrier;
    private boolean finished;
    private boolean parked;
    private boolean crash;
    private long parks;

    Fiber(String label, String owner) {
      this.label = label;
      this.owner = owner;
    }

    boolean isParked() {
      return parked;
    }

    boolean isFinished() {
      return finished;
    }
  }

  final MutableClock clock;
  private final PriorityQueue<Task> tasks = new PriorityQueue<>();
  private final Semaphore back = new Semaphore(0);
  private final List<Fiber> fibers = new ArrayList<>();

  /** Threads that ran a fiber to its end and wait for the next one: a thread each costs. */
  private final java.util.ArrayDeque<Carrier> idle = new java.util.ArrayDeque<>();

  private int carriers;

  /** Owners (node incarnations) that crashed: nothing of theirs runs again. */
  private final java.util.Set<String> crashed = new java.util.HashSet<>();

  private final ThreadLocal<Fiber> current = new ThreadLocal<>();
  private long seq;
  private Throwable fiberFailure;
  private long steps;

  /** When the earliest timer of the live nodes is due, or null when none waits. */
  private Supplier<Instant> nextTimer = () -> null;

  SimRuntime(Instant start) {
    this.clock = new MutableClock(start);
  }

  /** Where {@link #step()} reads when the nodes' timers are next due. */
  void timers(Supplier<Instant> nextTimer) {
    this.nextTimer = nextTimer;
  }

  Instant now() {
    return clock.instant();
  }

  long steps() {
    return steps;
  }

  Handle schedule(Instant at, String label, Runnable body) {
    Handle handle = new Handle();
    Instant when = at.isBefore(now()) ? now() : at;
    tasks.add(new Task(when, seq++, label, body, handle));
    return handle;
  }

  Handle after(Duration delay, String label, Runnable body) {
    return schedule(now().plus(delay), label, body);
  }

  /** When the next task is due, or null when none is left. */
  Instant nextDue() {
    Task t = tasks.peek();
    return t == null ? null : t.at;
  }

  /**
   * Runs what comes next: the nodes' timers that are due before the next task (the clock moves to
   * their time, which fires them), or else the next task, moving the clock to its time. Returns its
   * label, or null when nothing is left. A fiber's failure (an exception that escaped engine code
   * on it) is rethrown here.
   */
  String step() {
    Task t;
    while ((t = tasks.peek()) != null && t.handle.cancelled) {
      tasks.poll();
    }
    Instant timerAt = nextTimer.get();
    if (timerAt != null && (t == null || !timerAt.isAfter(t.at))) {
      steps++;
      if (timerAt.isAfter(now())) {
        clock.set(timerAt);
      } else {
        clock.advance(Duration.ZERO); // due now: fires it
      }
      rethrowFiberFailure();
      Instant still = nextTimer.get();
      if (still != null && !still.isAfter(now())) {
        throw new IllegalStateException("a timer due at " + still + " did not fire");
      }
      return "timers";
    }
    if (t == null) {
      return null;
    }
    tasks.poll();
    t.handle.done = true;
    if (t.at.isAfter(now())) {
      clock.set(t.at);
    }
    steps++;
    t.body.run();
    rethrowFiberFailure();
    return t.label;
  }

  private void rethrowFiberFailure() {
    if (fiberFailure != null) {
      Throwable f = fiberFailure;
      fiberFailure = null;
      throw new AssertionError("engine code failed on a fiber: " + f, f);
    }
  }

  /**
   * Moves the clock forward at once: the nodes' timers due meanwhile fire now, tasks due before the
   * new time run late, in order.
   */
  void jump(Duration by) {
    clock.advance(by);
  }

  /**
   * The thread a fiber runs on: one runs fibers one after another, each from its start to its end,
   * so that a run starts as many threads as it has fibers at once, not as it has fibers.
   */
  private final class Carrier implements Runnable {
    private final Semaphore assigned = new Semaphore(0);
    private Fiber fiber;
    private Runnable body;
    private boolean retired;

    @Override
    public void run() {
      while (true) {
        assigned.acquireUninterruptibly();
        if (retired) {
          return;
        }
        Fiber f = fiber;
        Thread.interrupted(); // a fresh start: no interrupt meant for the fiber before
        current.set(f);
        try {
          body.run();
        } catch (Crashed expected) {
          // its node is gone: nothing more happens on it
        } catch (Throwable t) {
          fiberFailure = t;
        } finally {
          current.remove();
          fiber = null;
          body = null;
          f.finished = true;
          idle.push(this);
          back.release();
        }
      }
    }
  }

  /** Starts a fiber now (as the next task at the current time). */
  Fiber startFiber(String label, String owner, Runnable body) {
    Fiber fiber = new Fiber(label, owner);
    fiber.crash = crashed.contains(owner);
    fibers.add(fiber);
    schedule(
        now(),
        "start " + label,
        () -> {
          if (fiber.crash) {
            fiber.finished = true; // its node died before it could start
            return;
          }
          Carrier carrier = idle.poll();
          if (carrier == null) {
            carrier = new Carrier();
            Thread thread = new Thread(carrier, "sim-fiber-" + (++carriers));
            thread.setDaemon(true);
            thread.start();
          }
          carrier.fiber = fiber;
          carrier.body = body;
          fiber.carrier = carrier;
          fiber.parked = false;
          carrier.assigned.release();
          back.acquireUninterruptibly();
        });
    return fiber;
  }

  private void transfer(Fiber fiber) {
    fiber.parked = false;
    fiber.go.release();
    back.acquireUninterruptibly();
  }

  /** Whether the calling thread is a fiber. */
  boolean onFiber() {
    return current.get() != null;
  }

  /**
   * Parks the calling fiber until {@link #resume} is called for it; returns control to the
   * controller meanwhile.
   *
   * @throws Crashed if its node crashed while it was parked
   */
  void park() {
    Fiber fiber = current.get();
    if (fiber == null) {
      throw new IllegalStateException("park() outside a fiber");
    }
    fiber.parks++;
    fiber.parked = true;
    back.release();
    fiber.go.acquireUninterruptibly();
    if (fiber.crash) {
      throw new Crashed();
    }
  }

  Fiber currentFiber() {
    return current.get();
  }

  /** The token of the calling fiber's next {@link #park()}, for {@link #resume(Fiber, long)}. */
  long nextParkToken() {
    return current.get().parks + 1;
  }

  /**
   * Hands control to a fiber parked at the park the token names, until it parks again or ends; does
   * nothing when it has moved on (a second wake-up for the same park). Controller only.
   */
  void resume(Fiber fiber, long token) {
    if (fiber.finished || !fiber.parked || fiber.parks != token) {
      return;
    }
    transfer(fiber);
    rethrowFiberFailure();
  }

  /** Unwinds every parked fiber of an owner by throwing {@link Crashed} into it. */
  void crashFibers(String owner) {
    crashed.add(owner);
    for (Fiber f : new ArrayList<>(fibers)) {
      if (f.owner.equals(owner) && !f.finished) {
        f.crash = true;
        if (f.carrier == null) {
          continue; // not started yet: its start task sees the flag
        }
        transfer(f);
      }
    }
    fibers.removeIf(f -> f.finished);
  }

  /**
   * Ends the run: every fiber still parked is unwound and every thread ends, so that none is left
   * behind.
   */
  void close() {
    for (Fiber f : new ArrayList<>(fibers)) {
      if (!f.finished && f.carrier != null) {
        f.crash = true;
        transfer(f);
      }
    }
    fibers.clear();
    tasks.clear();
    for (Carrier c : idle) {
      c.retired = true;
      c.assigned.release();
    }
    idle.clear();
  }

  int liveFibers() {
    fibers.removeIf(f -> f.finished);
    return fibers.size();
  }

  /** Executions: each task is a fiber of the node. */
  ExecutorServiceOnFibers fibersOf(String owner) {
    return new ExecutorServiceOnFibers(owner);
  }

  /**
   * The lifecycle of the simulation's executors: shutting down only refuses new tasks, and nothing
   * is left to wait for, because every task is a fiber of the runtime.
   */
  private abstract static class SimExecutor extends AbstractExecutorService {
    boolean shutdown;

    @Override
    public void shutdown() {
      shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
      shutdown = true;
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return shutdown;
    }

    @Override
    public boolean isTerminated() {
      return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return shutdown;
    }
  }

  /** An executor whose tasks run as fibers owned by a node. */
  final class ExecutorServiceOnFibers extends SimExecutor {
    private final String owner;
    private int n;

    ExecutorServiceOnFibers(String owner) {
      this.owner = owner;
    }

    @Override
    public void execute(Runnable command) {
      if (shutdown) {
        throw new java.util.concurrent.RejectedExecutionException(
            "executor of " + owner + " shut down");
      }
      startFiber(owner + "-exec-" + (++n), owner, command);
    }
  }
}
