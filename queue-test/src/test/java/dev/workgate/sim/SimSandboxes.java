package dev.workgate.sim;

import dev.workgate.WorkResult;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderId;
import dev.workgate.execution.Sandbox;
import dev.workgate.execution.SandboxProvider;
import dev.workgate.execution.SandboxProvider.SandboxRecord;
import dev.workgate.execution.SandboxProvider.SandboxRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Simulated sandboxes for every node, tracked in one place so that the invariants can see them.
 * What an attempt does is read from the work order's payload: a plan of behaviours, one per
 * attempt. Creating, running, stopping and destroying take virtual time, during which the calling
 * fiber is parked, so that cancellations, timeouts, lease expiries and crashes land in the middle.
 */
final class SimSandboxes {
  /** What one attempt does. */
  enum Behaviour {
    OK,
    RETRYABLE,
    FATAL,
    THROWS_IO,
    THROWS_RUNTIME,
    HANGS,
    CREATE_FAILS
  }

  /** The life of one sandbox. */
  enum Phase {
    CREATING,
    CREATED,
    RUNNING,
    RAN,
    DESTROYED,
    /** Its node crashed: the work died with it, the directory stays until the node restarts. */
    ORPHANED
  }

  /** One simulated sandbox. */
  final class SimSandbox implements Sandbox {
    final String id;
    final String node;
    final int incarnation;
    final WorkOrderId workOrder;
    final int attempt;
    final long memoryMb;
    final Behaviour behaviour;
    final Duration runFor;
    Phase phase = Phase.CREATING;
    boolean killed;

    /** When its creation began: right after the claim, or once the attempt before it ended. */
    final Instant createdFrom;

    /**
     * When the work began running and when it stopped (ran out, was killed, or died with its node).
     */
    Instant ranFrom;

    Instant ranUntil;

    Instant supersededAt;
    private SimRuntime.Fiber runner;
    private long runToken;

    SimSandbox(
        String node,
        int incarnation,
        WorkOrderId workOrder,
        int attempt,
        long memoryMb,
        Behaviour behaviour,
        Duration runFor) {
      this.id = workOrder.value() + "-a" + attempt + "-" + node;
      this.node = node;
      this.incarnation = incarnation;
      this.workOrder = workOrder;
      this.attempt = attempt;
      this.memoryMb = memoryMb;
      this.behaviour = behaviour;
      this.runFor = runFor;
      this.createdFrom = runtime.now();
    }

    @Override
    public String id() {
      return id;
    }

    @Override
    public Path directory() {
      return Path.of("/sim", node, id);
    }

    @Override
    public WorkResult run() throws Exception {
      phase = Phase.RUNNING;
      ranFrom = runtime.now();
      trace.accept(node + ": " + workOrder + " attempt " + attempt + " runs (" + behaviour + ")");
      runner = runtime.currentFiber();
      runToken = runtime.nextParkToken();
      if (!killed) {
        if (behaviour != Behaviour.HANGS) {
          SimRuntime.Fiber me = runner;
          long token = runToken;
          runtime.after(runFor, node + " work of " + id + " ends", () -> runtime.resume(me, token));
        }
        runtime.park();
      }
      runner = null;
      phase = Phase.RAN;
      ranUntil = runtime.now();
      if (killed) {
        return WorkResult.retryableFailure(ErrorCodes.UNKNOWN_ERROR, "killed");
      }
      switch (behaviour) {
        case OK:
          return WorkResult.ok();
        case RETRYABLE:
          return WorkResult.retryableFailure(ErrorCodes.NETWORK_ERROR, "simulated blip");
        case FATAL:
          return WorkResult.fatalFailure(ErrorCodes.AGENT_FATAL_ERROR, "simulated fatal error");
        case THROWS_IO:
          throw new IOException("simulated connection reset");
        case THROWS_RUNTIME:
          throw new IllegalStateException("simulated handler bug");
        default:
          throw new AssertionError(behaviour);
      }
    }

    @Override
    public void kill(Duration grace) {
      if (killed || phase == Phase.DESTROYED || phase == Phase.ORPHANED) {
        return;
      }
      killed = true;
      trace.accept(node + ": " + id + " killed");
      SimRuntime.Fiber r = runner;
      if (r != null) {
        // Work that hangs ignores the polite request and is forced at the end of the grace.
        Duration stopsAfter =
            behaviour == Behaviour.HANGS ? grace : Duration.ofMillis(stopMillis(workOrder));
        long token = runToken;
        runtime.after(stopsAfter, node + " " + id + " stops", () -> runtime.resume(r, token));
      }
    }

    @Override
    public void destroy() {
      if (phase == Phase.DESTROYED || phase == Phase.ORPHANED) {
        return; // an orphan's node is dead: only its next life's reaper removes it
      }
      if (leakNext && phase == Phase.RAN) {
        leakNext = false; // the checker's own test: a destroy that forgets its directory
        return;
      }
      killed = true;
      SimRuntime.Fiber r = runner;
      if (r != null && r != runtime.currentFiber()) {
        long token = runToken;
        runtime.after(
            Duration.ZERO,
            node + " " + id + " destroyed while running",
            () -> runtime.resume(r, token));
      }
      // Deleting a directory takes a moment: a retry may be claimed meanwhile.
      if (runtime.onFiber() && destroyMillis(workOrder, attempt) > 0) {
        SimRuntime.Fiber me = runtime.currentFiber();
        long token = runtime.nextParkToken();
        runtime.after(
            Duration.ofMillis(destroyMillis(workOrder, attempt)),
            node + " " + id + " deleted",
            () -> runtime.resume(me, token));
        runtime.park();
      }
      phase = Phase.DESTROYED;
      trace.accept(node + ": " + id + " destroyed");
    }
  }

  /** Decides per attempt from the scenario. */
  interface Plan {
    Behaviour behaviour(WorkOrderId id, int attempt);

    Duration createTime(WorkOrderId id, int attempt);

    Duration runTime(WorkOrderId id, int attempt);

    long destroyMillis(WorkOrderId id, int attempt);

    long stopMillis(WorkOrderId id);
  }

  private final SimRuntime runtime;
  private final Plan plan;
  private final java.util.function.Consumer<String> trace;
  final List<SimSandbox> all = new ArrayList<>();

  private boolean leakNext;

  SimSandboxes(
      SimRuntime runtime, Plan plan, java.util.function.Consumer<String> trace, boolean leakOne) {
    this.runtime = runtime;
    this.plan = plan;
    this.trace = trace;
    this.leakNext = leakOne;
  }

  private long destroyMillis(WorkOrderId id, int attempt) {
    return plan.destroyMillis(id, attempt);
  }

  private long stopMillis(WorkOrderId id) {
    return plan.stopMillis(id);
  }

  /** The provider of one node incarnation. */
  SandboxProvider providerFor(String node, int incarnation) {
    return new SandboxProvider() {
      @Override
      public Sandbox create(SandboxRequest request) throws Exception {
        WorkOrderId id = request.workOrder().id();
        int attempt = request.attempt();
        Behaviour b = plan.behaviour(id, attempt);
        SimSandbox sandbox =
            new SimSandbox(
                node,
                incarnation,
                id,
                attempt,
                request.workOrder().resources().memoryMb(),
                b,
                plan.runTime(id, attempt));
        all.add(sandbox);
        Duration creating = plan.createTime(id, attempt);
        if (!creating.isZero()) {
          SimRuntime.Fiber me = runtime.currentFiber();
          long token = runtime.nextParkToken();
          runtime.after(
              creating, node + " sandbox of " + id + " created", () -> runtime.resume(me, token));
          runtime.park();
        }
        if (b == Behaviour.CREATE_FAILS) {
          sandbox.phase = Phase.DESTROYED; // nothing may be left behind
          trace.accept(node + ": sandbox of " + id + " attempt " + attempt + " cannot be created");
          throw new IOException("simulated: no space left for the sandbox");
        }
        sandbox.phase = Phase.CREATED;
        return sandbox;
      }

      @Override
      public List<SandboxRecord> list() {
        List<SandboxRecord> records = new ArrayList<>();
        for (SimSandbox s : all) {
          if (s.node.equals(node) && s.phase != Phase.DESTROYED) {
            records.add(new SandboxRecord(s.id, s.workOrder, s.attempt, s.node, runtime.now()));
          }
        }
        return records;
      }

      @Override
      public void destroyOrphan(SandboxRecord orphan) {
        for (SimSandbox s : all) {
          if (s.id.equals(orphan.sandboxId()) && s.phase != Phase.DESTROYED) {
            if (s.phase != Phase.ORPHANED) {
              throw new AssertionError(
                  node + " destroyed the sandbox " + s.id + " of a live execution as an orphan");
            }
            s.phase = Phase.DESTROYED;
            trace.accept(node + ": orphan " + s.id + " destroyed");
          }
        }
      }
    };
  }

  /** A node crashed: its work dies with it; the directories stay. */
  void crashed(String node) {
    for (SimSandbox s : all) {
      if (s.node.equals(node) && s.phase != Phase.DESTROYED) {
        if (s.phase == Phase.RUNNING) {
          s.ranUntil = runtime.now(); // the work dies with its node
        }
        s.phase = Phase.ORPHANED;
      }
    }
  }
}
