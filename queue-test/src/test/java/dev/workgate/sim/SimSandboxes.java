package dev.workgate.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.WorkResult;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.StaleAttemptException;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.StoreException;
import dev.workgate.execution.AttemptReports;
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
import java.util.Optional;

/**
 * Simulated sandboxes for every node, tracked in one place so that the invariants can see them.
 * What an attempt does is read from the scenario's plan of the work order: a behaviour per attempt,
 * and for some work orders a number of steps, each ended with a progress report and a durable
 * checkpoint ({@code {"step": n}}), which a later attempt resumes from: it does only the steps
 * after the checkpoint it finds. Asked to stop, such work records the step it is in before it
 * stops. Creating, running, stopping and destroying take virtual time, during which the calling
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
    final AttemptReports reports;
    Phase phase = Phase.CREATING;
    boolean killed;

    /** The step its checkpoint said the work had done when it began, and the last step it did. */
    int resumedFrom;

    int lastStep;

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
        Duration runFor,
        AttemptReports reports) {
      this.id = workOrder.value() + "-a" + attempt + "-" + node;
      this.node = node;
      this.incarnation = incarnation;
      this.workOrder = workOrder;
      this.attempt = attempt;
      this.memoryMb = memoryMb;
      this.behaviour = behaviour;
      this.runFor = runFor;
      this.reports = reports;
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
      int steps = plan.checkpointSteps(workOrder);
      boolean stale = false;
      if (!killed) {
        if (behaviour == Behaviour.HANGS) {
          sleep(null);
        } else if (steps == 0) {
          sleep(runFor);
        } else {
          Optional<JsonNode> seen = reports.lastCheckpoint();
          checks.resumes(this, seen);
          resumedFrom = seen.map(c -> c.path("step").asInt()).orElse(0);
          lastStep = resumedFrom;
          Duration each = Duration.ofMillis(Math.max(1, runFor.toMillis() / steps));
          for (int step = resumedFrom + 1; step <= steps && !killed && !stale; step++) {
            sleep(each);
            // Asked to stop, the work ends the step it is in and records it before it exits, as
            // work that checkpoints on SIGTERM does: accepted while the attempt holds the work
            // order (a timeout, a cancel, a shutdown), refused once another holds it.
            stale = !report(step, steps);
          }
        }
      }
      runner = null;
      phase = Phase.RAN;
      ranUntil = runtime.now();
      if (killed) {
        return WorkResult.retryableFailure(ErrorCodes.UNKNOWN_ERROR, "killed");
      }
      if (stale) {
        return WorkResult.retryableFailure(ErrorCodes.UNKNOWN_ERROR, "stale attempt");
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

    /**
     * Parks the running fiber for a while of work, or until killed ({@code null}: until killed).
     */
    private void sleep(Duration work) {
      runner = runtime.currentFiber();
      runToken = runtime.nextParkToken();
      if (work != null) {
        SimRuntime.Fiber me = runner;
        long token = runToken;
        runtime.after(work, node + " work of " + id + " ends", () -> runtime.resume(me, token));
      }
      runtime.park();
    }

    /**
     * Ends a step: its progress, and its checkpoint, which the simulation checks against the log.
     *
     * @return false if the checkpoint was refused because the attempt no longer holds the work
     *     order: the work stops
     */
    private boolean report(int step, int steps) {
      dev.workgate.core.Progress progress =
          new dev.workgate.core.Progress(
              step / (double) steps, "step " + step + " of " + steps, runtime.now());
      reports.progress(progress.fraction(), progress.message());
      checks.progressed(this, progress);
      ObjectNode state = JsonNodeFactory.instance.objectNode();
      state.put("step", step);
      state.put("attempt", attempt);
      if (checks.storeHangs(node)) {
        // A report channel that would block: the work goes on without this checkpoint.
        trace.accept(node + ": " + id + " checkpoint " + step + " skipped (store unreachable)");
        return true;
      }
      try {
        reports.checkpoint(state);
      } catch (StaleAttemptException refused) {
        trace.accept(node + ": " + id + " checkpoint " + step + " refused: stale attempt");
        checks.refused(this, step);
        return false;
      } catch (StoreException failed) {
        // Written or not: the log tells; the work goes on.
        trace.accept(node + ": " + id + " checkpoint " + step + " failed: " + failed.getMessage());
        return true;
      }
      lastStep = step;
      trace.accept(node + ": " + id + " checkpoint " + step + " of " + steps);
      checks.checkpointed(this, state);
      return true;
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

    /** How many checkpointed steps the work order's work has; 0: none, it runs in one piece. */
    int checkpointSteps(WorkOrderId id);
  }

  /** What the simulation checks of an attempt's reports, as they are made. */
  interface Checks {
    /** Whether a store call of the node would not return now (a partition of the hanging kind). */
    boolean storeHangs(String node);

    /** The attempt begins its steps from the checkpoint it was given. */
    void resumes(SimSandbox sandbox, Optional<JsonNode> checkpoint);

    /** The attempt reported progress. */
    void progressed(SimSandbox sandbox, dev.workgate.core.Progress progress);

    /** A checkpoint call returned. */
    void checkpointed(SimSandbox sandbox, JsonNode state);

    /** A checkpoint was refused as stale. */
    void refused(SimSandbox sandbox, int step);
  }

  private final SimRuntime runtime;
  private final Plan plan;
  private final Checks checks;
  private final java.util.function.Consumer<String> trace;
  final List<SimSandbox> all = new ArrayList<>();

  private boolean leakNext;

  SimSandboxes(
      SimRuntime runtime,
      Plan plan,
      Checks checks,
      java.util.function.Consumer<String> trace,
      boolean leakOne) {
    this.runtime = runtime;
    this.plan = plan;
    this.checks = checks;
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
                plan.runTime(id, attempt),
                request.reports());
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
