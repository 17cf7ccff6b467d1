package dev.workgate.sim;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.BatchStatus;
import dev.workgate.NodeView;
import dev.workgate.TransitionListener;
import dev.workgate.Workgate;
import dev.workgate.WorkgateClient;
import dev.workgate.WorkgateClient.CancelOutcome;
import dev.workgate.core.BatchId;
import dev.workgate.core.DependencyFailure;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.Progress;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.ProjectionDiff;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.internal.ManualDrive;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.scheduler.ResourceHealthReport.PressureLevel;
import dev.workgate.sim.SimSandboxes.Behaviour;
import dev.workgate.sim.SimSandboxes.Phase;
import dev.workgate.sim.SimSandboxes.SimSandbox;
import dev.workgate.spi.WorkOrder;
import dev.workgate.test.ManualWorkgate;
import dev.workgate.test.SimulatedNodes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * One simulated run of the whole engine: nodes, each a {@link ManualWorkgate} built through {@link
 * Workgate#builder()} as a host builds one (over simulated sandboxes, and a faulty view of one
 * shared in-memory store), turned by the simulation instead of a loop of their own, on the virtual
 * clock of a {@link SimRuntime}, with every choice drawn from one seed. Work orders go to two
 * queues; some wait for others ({@code after}, some running whatever their dependencies became),
 * some come as batches with a work order that waits for the whole batch; some work checkpoints its
 * steps and resumes from the last checkpoint on its next attempt. Faults are injected during a
 * window (crashes, shutdowns, clock jumps, cancels, store failures, memory pressure, partitions,
 * queue pauses, and resubmissions of failed work orders by hand); the invariants are checked after
 * every step, from the store's log; after the window every work order must end within a bound of
 * virtual time. At the end, no two executions of one work order may have overlapped in virtual
 * time, unless the clock jumped meanwhile (a jump is not the bounded clock skew that self-fencing
 * assumes): partitions that cut a node off from the store, with calls that fail or hang, included.
 *
 * <p>The invariants of work that waits, checkpoints and pauses: a dependent is never made
 * claimable, claimed or started before every work order it waits for has completed (or, under
 * {@link DependencyFailure#RUN}, ended), and a {@code DependencyFailed} names one that ended failed
 * or cancelled; no work order of a paused queue is claimed between the pause and the resume; a
 * checkpoint call that returned is the log's last checkpoint of the work order, written while the
 * attempt held it, the view's checkpoint is always the log's last, the steps of a work order's
 * checkpoints only rise, and an attempt begins from the log's last checkpoint; a view's progress is
 * one its current attempt reported; a manual resubmission resubmits the dependents its failure
 * cancelled, each waiting for the new work order; a batch's end is told at most once (exactly once
 * without faults) with the batch as it stands.
 */
final class Simulation {
  /**
   * What a run is made of; the seed decides everything else.
   *
   * @param scrambledIds work order ids that sort in no relation to the order they were submitted
   *     in, as random ids do (by default they sort in submission order, which the trace reads best)
   * @param resubmittedDependencies also check that no dependent is cancelled for a dependency that
   *     had been resubmitted before the decision (it should wait for the resubmission)
   */
  record Config(
      long seed,
      int workOrders,
      int maxNodes,
      boolean faults,
      boolean leakASandbox,
      boolean scrambledIds,
      boolean resubmittedDependencies) {
    static Config of(long seed) {
      return new Config(seed, 24, 3, true, false, false, false);
    }

    Config with(int workOrders, int maxNodes) {
      return new Config(
          seed, workOrders, maxNodes, faults, leakASandbox, scrambledIds, resubmittedDependencies);
    }

    Config scrambled() {
      return new Config(seed, workOrders, maxNodes, faults, leakASandbox, true, false);
    }

    Config checkingResubmittedDependencies() {
      return new Config(seed, workOrders, maxNodes, faults, leakASandbox, scrambledIds, true);
    }

    @Override
    public String toString() {
      return "seed "
          + seed
          + " ("
          + workOrders
          + " work orders, up to "
          + maxNodes
          + " nodes"
          + (faults ? "" : ", no faults")
          + (leakASandbox ? ", one sandbox leaked on purpose" : "")
          + (scrambledIds ? ", scrambled ids" : "")
          + (resubmittedDependencies ? ", checking decisions on resubmitted dependencies" : "")
          + ")";
    }
  }

  /** A broken invariant, with the trace that led to it. */
  static final class Violation extends AssertionError {
    private static final long serialVersionUID = 1L;
    final transient Config config;
    final transient List<String> trace;

    Violation(Config config, String message, List<String> trace, Throwable cause) {
      super(message, cause);
      this.config = config;
      this.trace = List.copyOf(trace);
    }
  }

  /** What a run did. */
  record Outcome(
      long steps,
      Duration virtualTime,
      int completed,
      int failed,
      int cancelled,
      int attempts,
      int crashes,
      int shutdowns,
      int clockJumps,
      int cancels,
      int storeFaults,
      int pressureSpells,
      int partitions,
      int dependents,
      int batches,
      int checkpoints,
      int staleCheckpoints,
      int pauses,
      int resubmits,
      int batchEndsTold,
      int batchEndsUntold,
      List<String> trace) {}

  static final Instant START = Instant.parse("2030-01-01T00:00:00Z");
  static final int MAX_ATTEMPTS = 3;
  static final Duration LEASE = Duration.ofSeconds(20);
  static final Duration POLL = Duration.ofSeconds(2);
  static final Duration KILL_GRACE = Duration.ofSeconds(4);
  static final Duration FAULT_WINDOW = Duration.ofSeconds(90);
  static final long NODE_MEMORY_MB = 2048;
  static final String TYPE = "sim";
  static final List<String> QUEUES = List.of("sim-a", "sim-b");
  static final int MAX_MANUAL_RESUBMITS = 3;

  private final Config config;
  private final SplittableRandom scenario;
  private final SplittableRandom chance;
  private final SimRuntime runtime = new SimRuntime(START);
  private final WorkOrderStore shared;
  private final List<String> trace = new ArrayList<>();
  private final SimSandboxes sandboxes;
  private final Map<WorkOrderId, List<Behaviour>> plans = new LinkedHashMap<>();
  private final Map<WorkOrderId, long[]> timings = new HashMap<>();
  private final List<Node> nodes = new ArrayList<>();
  private final RetryPolicy policy;
  private final ManualWorkgate client;
  private final Set<WorkOrderId> dirty = new LinkedHashSet<>();

  /** When each live execution was first seen without its lease, minus the clock's jumps since. */
  private final Map<String, Instant> superseded = new HashMap<>();

  private Duration jumped = Duration.ZERO;
  private double writeFaultRate;
  private boolean faultsOn;
  private long idCounter;
  private int crashes;
  private int shutdowns;
  private int clockJumps;
  private int cancels;
  private int storeFaults;
  private int pressureSpells;
  private int partitions;
  private int dependentsSubmitted;
  private int batchesSubmitted;
  private int checkpoints;
  private int staleCheckpoints;
  private int pauses;
  private int manualResubmits;
  private int batchEndsTold;

  /** Batches whose last end was never told (with faults: its node crashed, its store failed). */
  private int batchEndsUntold;

  /** Work orders submitted so far by the scenario (resubmissions not counted). */
  private int submitted;

  /** Every work order, as its Submitted event tells, in the order of the log. */
  private final Map<WorkOrderId, Known> known = new LinkedHashMap<>();

  /** What the log told of a work order: where it goes, what it waits for, where it ended. */
  private static final class Known {
    final String queue;
    final List<WorkOrderId> dependencies;
    final DependencyFailure policy;
    final BatchId batch;
    final WorkOrderId resubmittedFrom;
    final List<WorkOrderId> resubmissions = new ArrayList<>();
    long endPosition = -1;
    WorkOrderState endState;

    Known(WorkOrderEvent.Submitted s) {
      this.queue = s.spec().queue();
      this.dependencies = s.dependencies();
      this.policy = s.spec().onDependencyFailure();
      this.batch = s.batch();
      this.resubmittedFrom = s.resubmittedFrom();
    }
  }

  /** The queues paused now, with the log position right after the pause was recorded. */
  private final Map<String, Long> pausedSince = new LinkedHashMap<>();

  /** Pauses and resumes recorded per queue, as the simulation learned them. */
  private final Map<String, Integer> queueActionsRecorded = new HashMap<>();

  /** The batches, with names for the trace (their ids are random). */
  private final Map<BatchId, String> batchNames = new LinkedHashMap<>();

  /** How often each end of a batch (its name and how many work orders it had held) was told. */
  private final Map<String, Integer> batchEnds = new HashMap<>();

  /** Failed work orders resubmitted by hand. */
  private final Set<WorkOrderId> resubmittedByHand = new LinkedHashSet<>();

  /** The progress each attempt ({@code id#attempt}) reported. */
  private final Map<String, Set<Progress>> progressReported = new HashMap<>();

  /** When the clock jumped (the time before each jump). */
  private final List<Instant> jumps = new ArrayList<>();

  Simulation(Config config) {
    this.config = config;
    SplittableRandom root = new SplittableRandom(config.seed());
    this.scenario = root.split();
    this.chance = root.split();
    this.shared = Stores.inMemory(runtime.clock);
    this.policy =
        RetryPolicy.builder()
            .maxAttempts(MAX_ATTEMPTS)
            .baseDelay(Duration.ofSeconds(1))
            .maxDelay(Duration.ofSeconds(15))
            .jitter(Jitter.full())
            .build();
    this.sandboxes =
        new SimSandboxes(
            runtime, new ScenarioPlan(), new ReportChecks(), this::trace, config.leakASandbox());
    // The client submits and cancels straight on the shared store; it is never turned, so it never
    // claims. Its ids are the simulation's, so that a run is repeatable to the id.
    this.client =
        SimulatedNodes.build(
            Workgate.builder()
                .store(shared)
                .sandboxProvider(TYPE, sandboxes.providerFor("client", 1))
                .nodeId("client"),
            runtime.clock,
            runtime.fibersOf("client"),
            this::nextId);
    client.workgate().onTransition(new BatchEndsHeard("client"));
    runtime.timers(this::nextTimer);
  }

  /** When the earliest timer of a live node is due, or null. */
  private Instant nextTimer() {
    Instant earliest = null;
    for (Node n : nodes) {
      if (n.up) {
        Instant due = SimulatedNodes.nextTimerDue(n.workgate).orElse(null);
        if (due != null && (earliest == null || due.isBefore(earliest))) {
          earliest = due;
        }
      }
    }
    return earliest;
  }

  private WorkOrderId nextId() {
    idCounter++;
    return idFor(idCounter);
  }

  /**
   * The id of the n-th work order: {@code wo-001} on; scrambled, a permutation of 1 to 999 that
   * keeps no order.
   */
  private WorkOrderId idFor(long n) {
    if (n > 999) {
      throw new IllegalStateException("a run makes at most 999 work orders");
    }
    return WorkOrderId.of(String.format("wo-%03d", config.scrambledIds() ? n * 367 % 1000 : n));
  }

  void trace(String line) {
    Duration t = Duration.between(START, runtime.now());
    trace.add(String.format("t+%d.%03ds %s", t.toSeconds(), t.toMillisPart(), line));
  }

  /**
   * The simulated machines: each incarnation of a node is a new {@link ManualWorkgate}, whose
   * executions run on fibers of the {@link SimRuntime}.
   */
  final class Node {
    final String id;
    final int slots;
    int incarnation;
    String owner;
    SimStore store;
    ManualWorkgate workgate;
    ManualDrive drive;
    boolean up;
    boolean draining;

    /** What the node's memory probe reads as available: low under simulated pressure. */
    volatile long availableBytes = 60L << 30;

    SimRuntime.Handle turn;
    int turnFailures;

    /** The loop is stuck in a store call that does not return: no turns until the store heals. */
    boolean turnHung;

    Node(String id, int slots) {
      this.id = id;
      this.slots = slots;
    }

    NodeView view() {
      return workgate.workgate().node();
    }

    void start() {
      incarnation++;
      owner = id + "#" + incarnation;
      store =
          new SimStore(
              shared,
              this::writeFault,
              Simulation.this::trace,
              id,
              () -> {
                if (view().pressure() == PressureLevel.CRITICAL) {
                  fail(id + " claimed work under critical memory pressure");
                }
              },
              runtime);
      trace(id + ": starts (incarnation " + incarnation + ", " + slots + " slots)");
      // Building the node reaps the orphans of its earlier life, as start() does on a real one.
      workgate =
          SimulatedNodes.build(
              Workgate.builder()
                  .store(store)
                  .sandboxProvider(TYPE, sandboxes.providerFor(id, incarnation))
                  .nodeId(id)
                  .retryPolicy(policy)
                  .random(new SplittableRandom(scenario.nextLong()))
                  .resources(
                      ResourceConfig.builder()
                          .maxConcurrent(slots)
                          .memoryBudgetMb(NODE_MEMORY_MB)
                          .build())
                  .memoryProbe(() -> new MemoryReading(64L << 30, availableBytes, "sim"))
                  .queues(QUEUES.toArray(String[]::new))
                  .pollInterval(POLL)
                  .leaseDuration(LEASE)
                  .claimBatchSize(4)
                  .killGrace(KILL_GRACE)
                  .defaultTimeout(Duration.ofMinutes(1)),
              runtime.clock,
              runtime.fibersOf(owner),
              null);
      drive = SimulatedNodes.drive(workgate);
      workgate.workgate().onTransition(new BatchEndsHeard(id));
      up = true;
      draining = false;
      turnFailures = 0;
      turnHung = false;
      for (SimSandbox s : sandboxes.all) {
        if (s.node.equals(id) && s.phase == Phase.ORPHANED) {
          fail(id + " restarted but left the orphaned sandbox " + s.id);
        }
      }
      turn = runtime.schedule(runtime.now(), id + " turn", this::turn);
    }

    private int writeFault(String operation) {
      if (!faultsOn || writeFaultRate == 0 || chance.nextDouble() >= writeFaultRate) {
        return 0;
      }
      storeFaults++;
      return chance.nextBoolean() ? 1 : 2;
    }

    void turn() {
      if (!up) {
        return;
      }
      if (store.hangs()) {
        turnHung = true; // the loop thread would block in its first store call
        trace(id + ": turn hangs in the store");
        return;
      }
      Instant next;
      try {
        next = drive.runOnce();
        turnFailures = 0;
      } catch (RuntimeException e) {
        turnFailures++;
        trace(id + ": turn failed: " + e.getMessage());
        next =
            runtime.now().plusMillis(Math.min(POLL.toMillis(), 50L << Math.min(turnFailures, 10)));
      }
      if (draining && view().activeExecutions().isEmpty()) {
        stopped("drained");
        return;
      }
      turn = runtime.schedule(next, id + " turn", this::turn);
    }

    /** Cuts the node off from the store for a while; its calls fail, or hang. */
    void partition(Duration lasting, boolean hang) {
      partitions++;
      trace(
          id
              + ": cut off from the store for "
              + lasting.toMillis()
              + "ms ("
              + (hang ? "calls hang" : "calls fail")
              + ")");
      SimStore cut = store;
      cut.cut(hang);
      if (hang) {
        watchdog(cut);
      }
      runtime.after(
          lasting,
          id + " reconnects",
          () -> {
            cut.heal();
            trace(id + ": reconnected to the store");
            if (up && store == cut && turnHung) {
              turnHung = false;
              turn = runtime.schedule(runtime.now(), id + " turn", this::turn);
            }
          });
    }

    /**
     * The scheduler's lease watchdog, which runs on a thread of its own while the loop thread is
     * stuck in the store: fences overdue work at its deadline.
     */
    private void watchdog(SimStore cut) {
      if (!up || store != cut || !cut.hangs()) {
        return;
      }
      Instant latest = runtime.now().plus(POLL);
      Instant next = drive.fenceOverdueWork().filter(d -> d.isBefore(latest)).orElse(latest);
      runtime.schedule(next, id + " lease watchdog", () -> watchdog(cut));
    }

    void crash() {
      up = false;
      draining = false;
      crashes++;
      trace(id + ": CRASH");
      if (turn != null) {
        turn.cancel();
      }
      store.crash();
      SimulatedNodes.crash(workgate);
      sandboxes.crashed(id);
      runtime.crashFibers(owner);
    }

    void shutdown(Duration grace) {
      shutdowns++;
      trace(id + ": shutdown with " + grace.toSeconds() + "s grace");
      drive.stopClaiming();
      draining = true;
      runtime.after(
          grace,
          id + " shutdown grace over",
          () -> {
            if (up && draining) {
              drive.killAllForShutdown(KILL_GRACE);
            }
          });
    }

    private void stopped(String how) {
      up = false;
      draining = false;
      workgate.close(); // idle: the shutdown it runs kills nothing and waits for nothing
      store.crash(); // nothing of this incarnation may touch the store again
      trace(id + ": stopped (" + how + ")");
    }
  }

  /** The scenario's plans, read by the simulated sandboxes. */
  private final class ScenarioPlan implements SimSandboxes.Plan {
    @Override
    public Behaviour behaviour(WorkOrderId id, int attempt) {
      List<Behaviour> plan = planOf(id);
      return plan.get(Math.min(attempt, plan.size()) - 1);
    }

    @Override
    public Duration createTime(WorkOrderId id, int attempt) {
      return Duration.ofMillis(timingOf(id)[0] * attempt % 2500);
    }

    @Override
    public Duration runTime(WorkOrderId id, int attempt) {
      return Duration.ofMillis(timingOf(id)[1] * attempt % 12_000 + 100);
    }

    @Override
    public long destroyMillis(WorkOrderId id, int attempt) {
      return timingOf(id)[2] * attempt % 2000;
    }

    @Override
    public long stopMillis(WorkOrderId id) {
      return timingOf(id)[3];
    }

    @Override
    public int checkpointSteps(WorkOrderId id) {
      return (int) timingOf(id)[4];
    }
  }

  /** A plan of behaviours, one per attempt: half of them fine, the rest anything. */
  private static List<Behaviour> drawPlan(SplittableRandom r) {
    List<Behaviour> plan = new ArrayList<>();
    Behaviour[] all = Behaviour.values();
    for (int a = 0; a < MAX_ATTEMPTS; a++) {
      int roll = r.nextInt(100);
      plan.add(roll < 50 ? Behaviour.OK : all[r.nextInt(all.length)]);
    }
    return plan;
  }

  /** Creation, run, destruction and stop times, and checkpointed steps (0 for none, or 2 to 5). */
  private static long[] drawTiming(SplittableRandom r) {
    return new long[] {
      r.nextLong(2500),
      r.nextLong(12_000),
      r.nextBoolean() ? 0 : r.nextLong(2000),
      r.nextLong(3000),
      r.nextInt(100) < 40 ? 2 + r.nextInt(4) : 0
    };
  }

  /**
   * The plan of a work order: drawn when the scenario submitted it, or, for one the engine
   * submitted (a resubmission), drawn from the seed and its id, so that a run stays repeatable.
   */
  private List<Behaviour> planOf(WorkOrderId id) {
    return plans.computeIfAbsent(id, k -> drawPlan(derived(k, 1)));
  }

  private long[] timingOf(WorkOrderId id) {
    return timings.computeIfAbsent(id, k -> drawTiming(derived(k, 2)));
  }

  private SplittableRandom derived(WorkOrderId id, int salt) {
    return new SplittableRandom(config.seed() * 1_000_003L + id.value().hashCode() * 31L + salt);
  }

  /** Hears the batch ends a node tells (on exactly one node of all per end). */
  private final class BatchEndsHeard implements TransitionListener {
    private final String where;

    BatchEndsHeard(String where) {
      this.where = where;
    }

    @Override
    public void transition(StateChange change) {}

    @Override
    public void batchEnded(BatchStatus status) {
      // Checked after the step (a batch can end in the submit that made it, before it is named),
      // against the batch as the store held it when told.
      List<WorkOrderView> members =
          shared
              .query(
                  WorkOrderQuery.builder()
                      .batch(status.id())
                      .limit(WorkOrderQuery.MAX_LIMIT)
                      .build())
              .items();
      toldEnds.add(new ToldEnd(where, status, members));
    }
  }

  /** A batch end told: where, the status told, and the batch's work orders when it was told. */
  private record ToldEnd(String where, BatchStatus status, List<WorkOrderView> members) {}

  /** Batch ends told since the last check. */
  private final List<ToldEnd> toldEnds = new ArrayList<>();

  private void checkToldEnds() {
    for (ToldEnd told : toldEnds) {
      BatchStatus status = told.status();
      String name = batchNames.get(status.id());
      if (name == null) {
        fail(told.where() + " told the end of a batch the scenario never submitted");
      }
      String key = name + "/" + status.submitted();
      int times = batchEnds.merge(key, 1, Integer::sum);
      batchEndsTold++;
      trace(
          told.where()
              + ": "
              + name
              + " ended ("
              + status.workOrders()
              + " work orders, "
              + status.counts().get(WorkOrderState.COMPLETED)
              + " completed, "
              + status.resubmitted()
              + " resubmitted)");
      if (times > 1) {
        fail(
            name
                + " ended with "
                + status.submitted()
                + " work orders was told "
                + times
                + " times");
      }
      // The batch as it stood: the members a member of it was resubmitted from are replaced.
      Set<WorkOrderId> replaced = new LinkedHashSet<>();
      Set<WorkOrderId> all = new LinkedHashSet<>();
      told.members().forEach(v -> all.add(v.id()));
      for (WorkOrderView v : told.members()) {
        WorkOrderId from = known.get(v.id()).resubmittedFrom;
        if (from != null && all.contains(from)) {
          replaced.add(from);
        }
      }
      for (WorkOrderView v : told.members()) {
        if (!replaced.contains(v.id()) && !v.state().isTerminal()) {
          fail(name + " was told ended while " + v.id() + " was " + v.state());
        }
      }
      if (!status.ended()
          || status.workOrders() != all.size() - replaced.size()
          || status.resubmitted() != replaced.size()) {
        fail(
            name
                + " was told ended as "
                + status
                + ", but it had "
                + all
                + " with "
                + replaced
                + " replaced");
      }
    }
    toldEnds.clear();
  }

  /** The work orders of a batch that no work order was resubmitted from, by the log. */
  private List<WorkOrderId> currentMembers(BatchId batch) {
    List<WorkOrderId> out = new ArrayList<>();
    known.forEach(
        (id, k) -> {
          if (batch.equals(k.batch) && k.resubmissions.isEmpty()) {
            out.add(id);
          }
        });
    return out;
  }

  /** The newest work order resubmitted, along a chain, from this one; itself when none was. */
  private WorkOrderId newest(WorkOrderId id) {
    WorkOrderId current = id;
    while (!known.get(current).resubmissions.isEmpty()) {
      List<WorkOrderId> next = known.get(current).resubmissions;
      current = next.get(next.size() - 1);
    }
    return current;
  }

  /** Checks the reports of attempts as they are made, against the log. */
  private final class ReportChecks implements SimSandboxes.Checks {
    @Override
    public boolean storeHangs(String node) {
      Node n = node(node);
      return n.store != null && n.store.hangs();
    }

    @Override
    public void resumes(SimSandbox s, Optional<JsonNode> seen) {
      Optional<JsonNode> logged = lastCheckpoint(shared.readStream(s.workOrder));
      if (!seen.equals(logged)) {
        failLater(
            s.id
                + " began from the checkpoint "
                + seen.orElse(null)
                + " but the log's last is "
                + logged.orElse(null));
      }
    }

    @Override
    public void progressed(SimSandbox s, Progress progress) {
      progressReported
          .computeIfAbsent(s.workOrder.value() + "#" + s.attempt, k -> new LinkedHashSet<>())
          .add(progress);
    }

    @Override
    public void checkpointed(SimSandbox s, JsonNode state) {
      checkpoints++;
      List<RecordedEvent> events = shared.readStream(s.workOrder);
      WorkOrderEvent last = events.get(events.size() - 1).event();
      if (!(last instanceof WorkOrderEvent.Checkpointed c)
          || c.attempt() != s.attempt
          || !c.state().equals(state)) {
        failLater(s.id + ": a checkpoint call returned but the log's last event is " + last);
      }
      WorkOrderView v = shared.find(s.workOrder).orElseThrow();
      if (v.state() != WorkOrderState.RUNNING
          || v.attempt() != s.attempt
          || !v.leaseOwner().map(s.node::equals).orElse(false)) {
        failLater(
            s.id
                + " checkpointed while it did not hold the work order ("
                + v.state()
                + "@"
                + v.attempt()
                + " lease "
                + v.leaseOwner().orElse("-")
                + ")");
      }
      if (!v.checkpoint().equals(Optional.of(state))) {
        failLater(
            s.id + ": the view's checkpoint " + v.checkpoint() + " is not the one just recorded");
      }
    }

    @Override
    public void refused(SimSandbox s, int step) {
      staleCheckpoints++;
      WorkOrderView v = shared.find(s.workOrder).orElseThrow();
      if (v.state() == WorkOrderState.RUNNING
          && v.attempt() == s.attempt
          && v.leaseOwner().map(s.node::equals).orElse(false)) {
        failLater(
            s.id + ": checkpoint " + step + " was refused as stale while the attempt holds it");
      }
      List<RecordedEvent> events = shared.readStream(s.workOrder);
      WorkOrderEvent last = events.get(events.size() - 1).event();
      if (last instanceof WorkOrderEvent.Checkpointed c
          && c.attempt() == s.attempt
          && c.state().path("step").asInt() == step) {
        failLater(s.id + ": checkpoint " + step + " was refused as stale but written");
      }
    }
  }

  /** The state of the last Checkpointed event of a stream. */
  private static Optional<JsonNode> lastCheckpoint(List<RecordedEvent> events) {
    for (int i = events.size() - 1; i >= 0; i--) {
      if (events.get(i).event() instanceof WorkOrderEvent.Checkpointed c) {
        return Optional.of(c.state());
      }
    }
    return Optional.empty();
  }

  private void fail(String message) {
    throw new Violation(config, message, trace, null);
  }

  /** The first violation seen where it cannot be thrown (engine callbacks catch what they call). */
  private String pendingViolation;

  private void failLater(String message) {
    trace("VIOLATION: " + message);
    if (pendingViolation == null) {
      pendingViolation = message;
    }
  }

  /** Runs the scenario to the end; throws {@link Violation} when an invariant breaks. */
  Outcome run() {
    // The trace is the record of a run; the engine's own log lines (thousands per seed, with stack
    // traces of the simulated store failures) are silenced while it runs.
    ch.qos.logback.classic.Logger engineLog =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.workgate");
    ch.qos.logback.classic.Level level = engineLog.getLevel();
    engineLog.setLevel(ch.qos.logback.classic.Level.OFF);
    try {
      return runChecked();
    } catch (Violation v) {
      throw v;
    } catch (RuntimeException | AssertionError e) {
      trace("FAILED: " + e);
      throw new Violation(config, "the run failed: " + e, trace, e);
    } finally {
      runtime.close();
      client.close();
      engineLog.setLevel(level);
    }
  }

  private Outcome runChecked() {
    int nodeCount = 1 + scenario.nextInt(config.maxNodes());
    for (int i = 1; i <= nodeCount; i++) {
      nodes.add(new Node("node-" + i, 1 + scenario.nextInt(3)));
    }
    writeFaultRate = config.faults() ? new double[] {0, 0.02, 0.08}[scenario.nextInt(3)] : 0;
    faultsOn = config.faults();
    for (Node n : nodes) {
      n.start();
    }
    for (int i = 0; i < config.workOrders(); i++) {
      runtime.after(Duration.ofMillis(scenario.nextLong(30_000)), "submit", this::submitOne);
    }
    if (config.faults()) {
      scheduleNextFault();
    }
    runtime.after(FAULT_WINDOW, "faults stop", this::faultsStop);
    while (true) {
      String label = runtime.step();
      if (label == null) {
        fail("nothing left to run but work orders are not all terminal");
      }
      check();
      if (!runtime.now().isBefore(START.plus(FAULT_WINDOW)) && !faultsOn && allEnded()) {
        break;
      }
      // Resubmissions add work orders only within the window: the bound is fixed after it.
      Duration bound = livenessBound(known.size());
      if (runtime.now().isAfter(START.plus(FAULT_WINDOW).plus(bound))) {
        fail(
            "liveness: not every work order ended within "
                + bound
                + " after the faults stopped: "
                + notEnded());
      }
    }
    finalChecks();
    int completed = 0;
    int failed = 0;
    int cancelled = 0;
    int attempts = 0;
    for (WorkOrderId id : known.keySet()) {
      WorkOrderView v = shared.find(id).orElseThrow();
      attempts += v.attempt();
      switch (v.state()) {
        case COMPLETED:
          completed++;
          break;
        case FAILED:
          failed++;
          break;
        case CANCELLED:
          cancelled++;
          break;
        default:
          break;
      }
    }
    return new Outcome(
        runtime.steps(),
        Duration.between(START, runtime.now()),
        completed,
        failed,
        cancelled,
        attempts,
        crashes,
        shutdowns,
        clockJumps,
        cancels,
        storeFaults,
        pressureSpells,
        partitions,
        dependentsSubmitted,
        batchesSubmitted,
        checkpoints,
        staleCheckpoints,
        pauses,
        manualResubmits,
        batchEndsTold,
        batchEndsUntold,
        List.copyOf(trace));
  }

  /** The virtual time every work order must end within once faults stop. */
  static Duration livenessBound(int workOrders) {
    // per attempt: creation, the longest timeout, the kill grace and stop, destruction, the retry
    // delay, a lease that must expire first and a poll; attempts one after another, and the work
    // orders through the fewest slots (one), one after another as a chain runs them, each a poll
    // after the one it waits for, and a margin of six.
    Duration perAttempt =
        Duration.ofMillis(2500 + 60_000 + KILL_GRACE.toMillis() + 3000 + 2000 + 15_000)
            .plus(LEASE)
            .plus(POLL.multipliedBy(2));
    return perAttempt.multipliedBy(MAX_ATTEMPTS).plus(POLL).multipliedBy(workOrders + 6L);
  }

  /**
   * One submission of the scenario: a work order alone; one that waits for one or two submitted
   * before it (some to run whatever they became); or a batch of two or three, some of them waiting
   * for an earlier work order, with a work order that waits for the whole batch.
   */
  private void submitOne() {
    int left = config.workOrders() - submitted;
    if (left <= 0) {
      return;
    }
    int roll = scenario.nextInt(100);
    List<WorkOrderId> earlier = new ArrayList<>(known.keySet());
    if (roll < 20 && left >= 3) {
      int size = Math.min(left - 1, 2 + scenario.nextInt(2));
      List<WorkOrderSpec> specs = new ArrayList<>();
      List<WorkOrderId> expected = new ArrayList<>();
      List<String> shown = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        WorkOrderSpec.Builder b = drawSpec(nextExpectedId(i), shown);
        if (!earlier.isEmpty() && scenario.nextInt(100) < 40) {
          WorkOrderId dep = earlier.get(scenario.nextInt(earlier.size()));
          b.after(dep);
          shown.set(shown.size() - 1, shown.get(shown.size() - 1) + " after " + dep);
        }
        specs.add(b.build());
        expected.add(nextExpectedId(i));
      }
      WorkgateClient.Batch batch = client.workgate().submitBatch(specs);
      if (!batch.workOrders().equals(expected)) {
        fail("submitBatch returned " + batch.workOrders() + ", expected " + expected);
      }
      String name = "batch-" + (batchNames.size() + 1);
      batchNames.put(batch.id(), name);
      batchesSubmitted++;
      submitted += size;
      dependentsSubmitted += size;
      trace("client: submitted " + name + ": " + String.join("; ", shown));
      List<String> fanIn = new ArrayList<>();
      WorkOrderSpec.Builder b = drawSpec(nextExpectedId(0), fanIn).afterBatch(batch.id());
      String policy = "";
      if (scenario.nextInt(100) < 30) {
        b.onDependencyFailure(DependencyFailure.RUN);
        policy = ", runs whatever they became";
      }
      WorkOrderId id = submitExpected(b.build());
      dependentsSubmitted++;
      trace("client: submitted " + id + " " + fanIn.get(0) + " after " + name + policy);
    } else if (roll < 45 && !earlier.isEmpty()) {
      List<String> shown = new ArrayList<>();
      WorkOrderSpec.Builder b = drawSpec(nextExpectedId(0), shown);
      List<WorkOrderId> deps = new ArrayList<>();
      for (int i = 0, n = 1 + scenario.nextInt(2); i < n; i++) {
        deps.add(earlier.get(scenario.nextInt(earlier.size())));
      }
      b.after(deps.toArray(WorkOrderId[]::new));
      String policy = "";
      if (scenario.nextInt(100) < 30) {
        b.onDependencyFailure(DependencyFailure.RUN);
        policy = ", runs whatever they became";
      }
      WorkOrderId id = submitExpected(b.build());
      dependentsSubmitted++;
      trace("client: submitted " + id + " " + shown.get(0) + " after " + deps + policy);
    } else {
      List<String> shown = new ArrayList<>();
      WorkOrderId id = submitExpected(drawSpec(nextExpectedId(0), shown).build());
      trace("client: submitted " + id + " " + shown.get(0));
    }
    drainLog();
  }

  private WorkOrderId nextExpectedId(int ahead) {
    return idFor(idCounter + 1 + ahead);
  }

  private WorkOrderId submitExpected(WorkOrderSpec spec) {
    WorkOrderId expected = nextExpectedId(0);
    WorkOrderId id = client.submit(spec);
    if (!id.equals(expected)) {
      fail("submit returned " + id + ", expected " + expected);
    }
    submitted++;
    return id;
  }

  /**
   * Draws a spec and the plan of the work order it will be; adds its description to {@code shown}.
   */
  private WorkOrderSpec.Builder drawSpec(WorkOrderId expected, List<String> shown) {
    List<Behaviour> plan = drawPlan(scenario);
    long[] timing = drawTiming(scenario);
    Duration timeout = Duration.ofSeconds(5 + scenario.nextInt(20));
    ResourceRequest resources = ResourceRequest.of(1, 256L * scenario.nextInt(5));
    String queue = QUEUES.get(scenario.nextInt(QUEUES.size()));
    plans.put(expected, plan);
    timings.put(expected, timing);
    shown.add(
        plan
            + " in "
            + queue
            + " timeout "
            + timeout.toSeconds()
            + "s"
            + (timing[4] > 0 ? " in " + timing[4] + " checkpointed steps" : ""));
    return WorkOrderSpec.builder(TYPE)
        .queue(queue)
        .priority(scenario.nextInt(3))
        .timeout(timeout)
        .resources(resources);
  }

  private void scheduleNextFault() {
    Duration gap = Duration.ofMillis(500 + chance.nextLong(6000));
    runtime.after(
        gap,
        "fault",
        () -> {
          if (!faultsOn) {
            return;
          }
          injectFault();
          scheduleNextFault();
        });
  }

  private void injectFault() {
    int kind = chance.nextInt(112);
    List<Node> live = nodes.stream().filter(n -> n.up && !n.draining).toList();
    if (kind < 20 && !live.isEmpty()) {
      Node n = live.get(chance.nextInt(live.size()));
      n.crash();
      runtime.after(
          Duration.ofMillis(2000 + chance.nextLong(40_000)), n.id + " restart", () -> restart(n));
    } else if (kind < 30 && !live.isEmpty()) {
      Node n = live.get(chance.nextInt(live.size()));
      n.shutdown(Duration.ofMillis(chance.nextLong(8000)));
      runtime.after(
          Duration.ofMillis(15_000 + chance.nextLong(30_000)), n.id + " restart", () -> restart(n));
    } else if (kind < 45) {
      Duration by = Duration.ofMillis(chance.nextLong(LEASE.toMillis() * 2));
      clockJumps++;
      trace("clock jumps " + by.toMillis() + "ms");
      jumps.add(runtime.now());
      runtime.jump(by);
      jumped = jumped.plus(by);
    } else if (kind < 75) {
      cancelOne();
    } else if (kind >= 85 && kind < 95 && !live.isEmpty()) {
      Node n = live.get(chance.nextInt(live.size()));
      if (!n.store.isCutOff()) {
        n.partition(Duration.ofMillis(1000 + chance.nextLong(30_000)), chance.nextBoolean());
      }
    } else if (kind < 85 && !live.isEmpty()) {
      Node n = live.get(chance.nextInt(live.size()));
      n.availableBytes = 2L << 30;
      pressureSpells++;
      trace(n.id + ": memory pressure (2 GiB of 64 free)");
      runtime.after(
          Duration.ofMillis(1000 + chance.nextLong(20_000)),
          n.id + " pressure ends",
          () -> {
            n.availableBytes = 60L << 30;
            trace(n.id + ": memory pressure ends");
          });
    } else if (kind >= 100 && kind < 106) {
      pauseOne();
    } else if (kind >= 106) {
      resubmitOne();
    } else {
      trace("quiet");
    }
  }

  /**
   * Pauses a queue that is not paused, through the client or a node (whose store may fail), and
   * resumes it a while later. The log position right after the pause is where claims of the queue
   * must stop until the resume.
   */
  private void pauseOne() {
    List<String> running = new ArrayList<>();
    for (String q : QUEUES) {
      if (!pausedSince.containsKey(q)) {
        running.add(q);
      }
    }
    if (running.isEmpty()) {
      return;
    }
    String queue = running.get(chance.nextInt(running.size()));
    String by = queueAction(queue, true);
    drainLog();
    if (shared.pausedQueues().stream().anyMatch(a -> a.queue().equals(queue))) {
      pauses++;
      queueActionsRecorded.merge(queue, 1, Integer::sum);
      pausedSince.put(queue, lastPosition);
      trace(by + ": paused " + queue);
      runtime.after(
          Duration.ofMillis(1000 + chance.nextLong(30_000)),
          "resume " + queue,
          () -> resume(queue, chance.nextBoolean()));
    } else {
      trace(by + ": pausing " + queue + " failed");
    }
  }

  /** Resumes a paused queue; tries again a second later if the store failed. */
  private void resume(String queue, boolean throughClient) {
    if (!pausedSince.containsKey(queue)) {
      return;
    }
    String by = throughClient ? queueActionThroughClient(queue, false) : queueAction(queue, false);
    drainLog();
    if (shared.pausedQueues().stream().noneMatch(a -> a.queue().equals(queue))) {
      pausedSince.remove(queue);
      queueActionsRecorded.merge(queue, 1, Integer::sum);
      trace(by + ": resumed " + queue);
    } else {
      trace(by + ": resuming " + queue + " failed");
      runtime.after(Duration.ofSeconds(1), "resume " + queue, () -> resume(queue, true));
    }
  }

  /** Pauses or resumes through a live node (its store may fail), or the client; who did it. */
  private String queueAction(String queue, boolean pause) {
    List<Node> live = nodes.stream().filter(n -> n.up && !n.draining).toList();
    if (live.isEmpty() || chance.nextBoolean()) {
      return queueActionThroughClient(queue, pause);
    }
    Node n = live.get(chance.nextInt(live.size()));
    try {
      if (pause) {
        n.workgate.workgate().pauseQueue(queue, "sim " + n.id, "simulated pause");
      } else {
        n.workgate.workgate().resumeQueue(queue, "sim " + n.id, "simulated resume");
      }
    } catch (RuntimeException e) {
      trace(n.id + ": queue " + (pause ? "pause" : "resume") + " failed: " + e.getMessage());
    }
    return n.id;
  }

  private String queueActionThroughClient(String queue, boolean pause) {
    WorkgateClient c = client.workgate().client();
    boolean done =
        pause
            ? c.pauseQueue(queue, "sim client", "simulated pause")
            : c.resumeQueue(queue, "sim client", "simulated resume");
    if (!done) {
      fail("the client " + (pause ? "paused" : "resumed") + " " + queue + " but it already was");
    }
    return "client";
  }

  /**
   * Resubmits a failed work order by hand, which resubmits, once each, the dependents its failure
   * cancelled (transitively), each waiting for the newest of what it waited for.
   */
  private void resubmitOne() {
    if (manualResubmits >= MAX_MANUAL_RESUBMITS) {
      return;
    }
    List<WorkOrderId> failed = new ArrayList<>();
    for (WorkOrderId id : known.keySet()) {
      if (!resubmittedByHand.contains(id)
          && known.get(id).resubmissions.isEmpty()
          && shared.find(id).orElseThrow().state() == WorkOrderState.FAILED) {
        failed.add(id);
      }
    }
    if (failed.isEmpty()) {
      return;
    }
    WorkOrderId id = failed.get(chance.nextInt(failed.size()));
    // What its failure cancelled, by the log, before the resubmission.
    Set<WorkOrderId> cancelledBy = new LinkedHashSet<>();
    Set<WorkOrderId> reasons = new LinkedHashSet<>(Set.of(id));
    boolean grew = true;
    while (grew) {
      grew = false;
      for (Map.Entry<WorkOrderId, Known> e : known.entrySet()) {
        WorkOrderId d = e.getKey();
        if (!cancelledBy.contains(d) && e.getValue().resubmissions.isEmpty()) {
          WorkOrderId because = failedBecause(d);
          if (because != null && reasons.contains(because)) {
            cancelledBy.add(d);
            reasons.add(d);
            grew = true;
          }
        }
      }
    }
    resubmittedByHand.add(id);
    manualResubmits++;
    WorkgateClient c = client.workgate().client();
    WorkOrderId again;
    if (chance.nextBoolean()) {
      again = c.resubmit(id);
      trace("client: resubmitted " + id + " as " + again);
    } else {
      WorkgateClient.Submission first = c.resubmitOnce(id);
      again = first.id();
      trace("client: resubmitted " + id + " once as " + again);
      if (chance.nextBoolean()) {
        WorkgateClient.Submission second = c.resubmitOnce(id);
        if (second.created() || !second.id().equals(again)) {
          fail("resubmitOnce of " + id + " again gave " + second + ", first " + first);
        }
      }
    }
    drainLog();
    if (!known.get(id).resubmissions.contains(again)) {
      fail(again + " is not recorded as resubmitted from " + id);
    }
    for (WorkOrderId d : cancelledBy) {
      Known old = known.get(d);
      if (old.resubmissions.size() != 1) {
        fail(
            id
                + " was resubmitted, so "
                + d
                + ", which its failure cancelled, must be resubmitted once; it was: "
                + old.resubmissions);
      }
      WorkOrderId dAgain = old.resubmissions.get(0);
      List<WorkOrderId> waits = known.get(dAgain).dependencies;
      for (WorkOrderId dep : old.dependencies) {
        if (reasons.contains(dep) && !waits.contains(newest(dep))) {
          fail(
              dAgain + ", resubmitted from " + d + ", waits for " + waits + ", not " + newest(dep));
        }
      }
      trace("client: " + d + " resubmitted as " + dAgain + " after " + waits);
    }
  }

  /** The dependency whose failure cancelled a work order, or null if it was not cancelled so. */
  private WorkOrderId failedBecause(WorkOrderId id) {
    List<RecordedEvent> events = shared.readStream(id);
    WorkOrderEvent last = events.get(events.size() - 1).event();
    return last instanceof WorkOrderEvent.DependencyFailed f ? f.dependency() : null;
  }

  private void restart(Node n) {
    if (n.up && n.draining) {
      runtime.after(Duration.ofSeconds(1), n.id + " restart", () -> restart(n));
    } else if (!n.up) {
      n.start();
    }
  }

  private void cancelOne() {
    List<WorkOrderId> open = new ArrayList<>();
    for (WorkOrderId id : known.keySet()) {
      if (!shared.find(id).orElseThrow().state().isTerminal()) {
        open.add(id);
      }
    }
    if (open.isEmpty()) {
      return;
    }
    WorkOrderId id = open.get(chance.nextInt(open.size()));
    cancels++;
    // Through Workgate.cancel on the node that runs it (which also stops the local execution at
    // once), or through the client (the owner sees the request at its next renewal).
    String owner = shared.find(id).orElseThrow().leaseOwner().orElse(null);
    for (Node n : nodes) {
      if (n.up && n.id.equals(owner) && chance.nextBoolean()) {
        try {
          boolean taken = n.workgate.workgate().cancel(id, "simulated cancel");
          trace(n.id + ": cancel " + id + " -> " + (taken ? "taken" : "already ended"));
        } catch (RuntimeException e) {
          trace(n.id + ": cancel " + id + " failed: " + e.getMessage());
        }
        dirty.add(id);
        return;
      }
    }
    CancelOutcome outcome = client.workgate().client().requestCancel(id, "simulated cancel");
    trace("client: cancel " + id + " -> " + outcome.result());
    dirty.add(id);
  }

  private void faultsStop() {
    faultsOn = false;
    writeFaultRate = 0;
    trace("faults stop");
    for (String queue : new ArrayList<>(pausedSince.keySet())) {
      resume(queue, true);
    }
    for (Node n : nodes) {
      n.availableBytes = 60L << 30;
    }
    for (Node n : nodes) {
      restart(n);
    }
  }

  private boolean allEnded() {
    if (submitted < config.workOrders()) {
      return false;
    }
    for (WorkOrderId id : known.keySet()) {
      if (!shared.find(id).orElseThrow().state().isTerminal()) {
        return false;
      }
    }
    for (Node n : nodes) {
      if (n.up && !n.view().activeExecutions().isEmpty()) {
        return false;
      }
    }
    return true;
  }

  private List<String> notEnded() {
    List<String> out = new ArrayList<>();
    for (WorkOrderId id : known.keySet()) {
      WorkOrderView v = shared.find(id).orElseThrow();
      if (!v.state().isTerminal()) {
        out.add(id + " " + v.state() + "@" + v.attempt() + " lease " + v.leaseOwner().orElse("-"));
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- invariants

  private void check() {
    if (pendingViolation != null) {
      fail(pendingViolation);
    }
    drainLog();
    checkToldEnds();
    for (WorkOrderId id : dirty) {
      checkWorkOrder(id);
    }
    dirty.clear();
    checkSandboxes();
  }

  private long lastPosition;

  /**
   * Reads the log from where it was read last: each work order with events is checked after the
   * step, and the events are checked against what they follow in the log: a dependent made
   * claimable, claimed or started only after what it waits for ended as its policy asks, a
   * dependency failure only for one that ended failed or cancelled, no claim from a paused queue.
   */
  private void drainLog() {
    while (true) {
      var page = shared.readLog(lastPosition, 500);
      for (RecordedEvent e : page.events()) {
        dirty.add(e.workOrderId());
        logged(e);
      }
      if (page.events().isEmpty()) {
        return;
      }
      lastPosition = page.events().get(page.events().size() - 1).position();
    }
  }

  private void logged(RecordedEvent r) {
    WorkOrderId id = r.workOrderId();
    WorkOrderEvent e = r.event();
    if (e instanceof WorkOrderEvent.Submitted s) {
      known.put(id, new Known(s));
      if (s.resubmittedFrom() != null) {
        Known from = known.get(s.resubmittedFrom());
        if (from == null) {
          fail(id + " was resubmitted from " + s.resubmittedFrom() + ", which the log never had");
        }
        from.resubmissions.add(id);
      }
      return;
    }
    Known k = known.get(id);
    if (k == null) {
      fail(id + " has " + e.getClass().getSimpleName() + " before its Submitted event");
    }
    if (e instanceof WorkOrderEvent.DependenciesMet
        || e instanceof WorkOrderEvent.Claimed
        || e instanceof WorkOrderEvent.Started) {
      for (WorkOrderId dep : k.dependencies) {
        Known d = known.get(dep);
        if (d.endPosition < 0 || d.endPosition > r.position()) {
          fail(
              id + " " + e.getClass().getSimpleName() + " before its dependency " + dep + " ended");
        }
        if (k.policy == DependencyFailure.CANCEL && d.endState != WorkOrderState.COMPLETED) {
          fail(
              id
                  + " "
                  + e.getClass().getSimpleName()
                  + " though its dependency "
                  + dep
                  + " ended "
                  + d.endState);
        }
      }
    }
    if (e instanceof WorkOrderEvent.Claimed) {
      Long since = pausedSince.get(k.queue);
      if (since != null && r.position() > since) {
        fail(id + " was claimed at " + r.position() + " from " + k.queue + ", paused at " + since);
      }
    }
    if (e instanceof WorkOrderEvent.DependencyFailed f) {
      Known d = known.get(f.dependency());
      if (config.resubmittedDependencies() && d != null && !d.resubmissions.isEmpty()) {
        fail(
            id
                + " was cancelled because "
                + f.dependency()
                + " ended "
                + f.dependencyState()
                + ", which had been resubmitted as "
                + d.resubmissions
                + " before the decision");
      }
      if (k.policy != DependencyFailure.CANCEL
          || !k.dependencies.contains(f.dependency())
          || d == null
          || d.endPosition < 0
          || d.endState != f.dependencyState()
          || d.endState == WorkOrderState.COMPLETED) {
        fail(
            id
                + " was cancelled because "
                + f.dependency()
                + " ended "
                + f.dependencyState()
                + ", but it "
                + (d == null || d.endPosition < 0 ? "has not ended" : "ended " + d.endState)
                + " (waits for "
                + k.dependencies
                + ", policy "
                + k.policy
                + ")");
      }
    }
    WorkOrderState ended = endState(e);
    if (ended != null) {
      if (k.endPosition >= 0) {
        fail(id + " ended twice: " + k.endState + ", then " + ended);
      }
      k.endPosition = r.position();
      k.endState = ended;
    }
  }

  /** The state an event ends its work order in, or null if it does not end it. */
  private static WorkOrderState endState(WorkOrderEvent e) {
    if (e instanceof WorkOrderEvent.Completed) {
      return WorkOrderState.COMPLETED;
    }
    if (e instanceof WorkOrderEvent.Cancelled || e instanceof WorkOrderEvent.DependencyFailed) {
      return WorkOrderState.CANCELLED;
    }
    if (e instanceof WorkOrderEvent.AttemptFailed f && f.retryAt() == null) {
      return WorkOrderState.FAILED;
    }
    return null;
  }

  private void checkWorkOrder(WorkOrderId id) {
    WorkOrderView view = shared.find(id).orElse(null);
    List<RecordedEvent> events = shared.readStream(id);
    if (view == null) {
      fail(id + " has events but no view");
    }
    WorkOrder folded = WorkOrder.fold(events);
    if (view instanceof WorkOrder) {
      List<String> diff = ProjectionDiff.differences((WorkOrder) view, folded);
      if (!diff.isEmpty()) {
        fail(id + ": the view is not the fold of its events: " + diff);
      }
    } else if (view.state() != folded.state() || view.version() != folded.version()) {
      fail(id + ": the view is not the fold of its events");
    }
    // Released attempts (a shutdown past its grace, a reaped lease) are not charged.
    if (view.chargedAttempts() > MAX_ATTEMPTS) {
      fail(
          id
              + " reached charged attempt "
              + view.chargedAttempts()
              + " of at most "
              + MAX_ATTEMPTS
              + " ("
              + view.releases()
              + " released)");
    }
    int terminal = 0;
    for (int i = 0; i < events.size(); i++) {
      WorkOrderEvent e = events.get(i).event();
      if (endState(e) != null) {
        terminal++;
        if (i != events.size() - 1) {
          fail(id + ": events after its terminal event " + e);
        }
      }
    }
    if (terminal != (view.state().isTerminal() ? 1 : 0)) {
      fail(id + " is " + view.state() + " with " + terminal + " terminal events");
    }
    // Checkpoints: written by the attempt of the time, their steps only rise, and the view's is
    // the log's last, whatever crashed or restarted.
    int claims = 0;
    int lastStep = 0;
    for (RecordedEvent r : events) {
      if (r.event() instanceof WorkOrderEvent.Claimed) {
        claims++;
      } else if (r.event() instanceof WorkOrderEvent.Checkpointed c) {
        if (c.attempt() != claims) {
          fail(id + ": a checkpoint of attempt " + c.attempt() + " during attempt " + claims);
        }
        int step = c.state().path("step").asInt();
        if (step <= lastStep) {
          fail(id + ": checkpoint step " + step + " after step " + lastStep);
        }
        lastStep = step;
      }
    }
    if (!view.checkpoint().equals(lastCheckpoint(events))) {
      fail(
          id
              + ": the view's checkpoint "
              + view.checkpoint().orElse(null)
              + " is not the log's last "
              + lastCheckpoint(events).orElse(null));
    }
    if (view.progress().isPresent()) {
      Set<Progress> reported =
          progressReported.getOrDefault(id.value() + "#" + view.attempt(), Set.of());
      if (!reported.contains(view.progress().get())) {
        fail(
            id
                + " shows the progress "
                + view.progress().get()
                + ", which its attempt "
                + view.attempt()
                + " did not report");
      }
    }
    for (RecordedEvent r : events) {
      if (r.event() instanceof WorkOrderEvent.AttemptFailed) {
        String message = ((WorkOrderEvent.AttemptFailed) r.event()).error().message();
        // Failures the engine makes up itself, which no simulated fault explains.
        if (message.contains("dispatch failed") || message.contains("did not fit")) {
          fail(id + " attempt failed for no simulated reason: " + message);
        }
      }
    }
    if (view.state() == WorkOrderState.COMPLETED) {
      Behaviour b = new ScenarioPlan().behaviour(id, view.attempt());
      if (b != Behaviour.OK) {
        fail(id + " completed at attempt " + view.attempt() + " whose work was " + b);
      }
    }
    if (view.state() == WorkOrderState.FAILED
        && view.lastError().map(e -> e.code().equals(ErrorCodes.AGENT_FATAL_ERROR)).orElse(false)) {
      Behaviour b = new ScenarioPlan().behaviour(id, view.attempt());
      if (b != Behaviour.FATAL) {
        fail(id + " failed fatally at attempt " + view.attempt() + " whose work was " + b);
      }
    }
  }

  /** The longest an execution may go on after losing its lease, while its node lives. */
  static Duration supersededTolerance() {
    // the lost lease is seen at the next renewal, then the work is killed within the grace
    return LEASE.dividedBy(3).plus(POLL).plus(KILL_GRACE).plusSeconds(4);
  }

  private void checkSandboxes() {
    Map<WorkOrderId, List<SimSandbox>> live = new HashMap<>();
    Map<String, Integer> held = new HashMap<>();
    Map<String, Long> memory = new HashMap<>();
    Map<String, Set<String>> executing = new HashMap<>();
    for (SimSandbox s : sandboxes.all) {
      if (s.phase == Phase.DESTROYED || s.phase == Phase.ORPHANED) {
        continue;
      }
      Node node = node(s.node);
      if (node.incarnation != s.incarnation || !node.up) {
        fail("sandbox " + s.id + " of a stopped incarnation is still " + s.phase);
      }
      held.merge(s.node, 1, Integer::sum);
      memory.merge(s.node, s.memoryMb, Long::sum);
      Set<String> attempts =
          executing.computeIfAbsent(
              s.node,
              k -> {
                Set<String> ids = new java.util.HashSet<>();
                for (NodeView.ActiveExecution e : node.view().activeExecutions()) {
                  ids.add(e.workOrderId().value() + "#" + e.attempt());
                }
                // A creation given up while it runs: its sandbox is destroyed when create returns.
                for (NodeView.AbandonedCreation c : node.view().abandonedCreations()) {
                  ids.add(c.workOrderId().value() + "#" + c.attempt());
                }
                return ids;
              });
      if (!attempts.contains(s.workOrder.value() + "#" + s.attempt)) {
        fail("sandbox " + s.id + " outlived its execution (" + s.phase + ")");
      }
      if (s.phase == Phase.RUNNING) {
        live.computeIfAbsent(s.workOrder, k -> new ArrayList<>()).add(s);
        WorkOrderView v = shared.find(s.workOrder).orElseThrow();
        boolean current =
            v.state().isActive()
                && v.attempt() == s.attempt
                && v.leaseOwner().map(s.node::equals).orElse(false);
        if (current) {
          superseded.remove(s.id);
        } else {
          // Measured on a clock without the jumps: a jump is not time the node had to act.
          Instant steady = runtime.now().minus(jumped);
          Instant since = superseded.computeIfAbsent(s.id, k -> steady);
          if (Duration.between(since, steady).compareTo(supersededTolerance()) > 0) {
            fail(
                "execution "
                    + s.id
                    + " still runs "
                    + Duration.between(since, steady).toSeconds()
                    + "s after losing its lease ("
                    + v.state()
                    + "@"
                    + v.attempt()
                    + " lease "
                    + v.leaseOwner().orElse("-")
                    + ")");
          }
        }
      }
    }
    for (Map.Entry<WorkOrderId, List<SimSandbox>> e : live.entrySet()) {
      List<SimSandbox> running = e.getValue();
      if (running.size() > 1) {
        Set<String> onNodes = new LinkedHashSet<>();
        int current = 0;
        for (SimSandbox s : running) {
          if (!onNodes.add(s.node)) {
            fail(
                e.getKey()
                    + " runs twice on "
                    + s.node
                    + ": "
                    + running.stream().map(x -> x.id).toList());
          }
          if (!superseded.containsKey(s.id)) {
            current++;
          }
        }
        if (current > 1) {
          fail(e.getKey() + " has two live executions holding its lease");
        }
      }
    }
    for (Node n : nodes) {
      if (!n.up) {
        continue;
      }
      if (held.getOrDefault(n.id, 0) > n.slots) {
        fail(n.id + " holds " + held.get(n.id) + " sandboxes on " + n.slots + " slots");
      }
      if (memory.getOrDefault(n.id, 0L) > NODE_MEMORY_MB) {
        fail(n.id + " reserved " + memory.get(n.id) + " MiB of " + NODE_MEMORY_MB);
      }
      if (n.view().slotsInUse() > n.slots) {
        fail(n.id + " counts " + n.view().slotsInUse() + " slots in use of " + n.slots);
      }
    }
  }

  private Node node(String id) {
    for (Node n : nodes) {
      if (n.id.equals(id)) {
        return n;
      }
    }
    throw new IllegalStateException(id);
  }

  private void finalChecks() {
    if (pendingViolation != null) {
      fail(pendingViolation);
    }
    for (WorkOrderId id : known.keySet()) {
      checkWorkOrder(id);
    }
    checkQueueActions();
    checkBatches();
    for (SimSandbox s : sandboxes.all) {
      if (s.phase != Phase.DESTROYED) {
        fail("sandbox " + s.id + " is left " + s.phase + " at the end");
      }
    }
    for (Node n : nodes) {
      if (n.up && n.view().slotsInUse() != 0) {
        fail(n.id + " still holds " + n.view().slotsInUse() + " slots at the end");
      }
    }
    if (runtime.liveFibers() != 0) {
      fail(runtime.liveFibers() + " fibers still live at the end");
    }
    checkNoOverlap();
  }

  /** Every pause and resume is recorded, in turn, and no queue is left paused. */
  private void checkQueueActions() {
    if (!shared.pausedQueues().isEmpty()) {
      fail("queues left paused at the end: " + shared.pausedQueues());
    }
    for (String queue : QUEUES) {
      List<QueueAction> actions = shared.queueActions(queue, 1000);
      int expected = queueActionsRecorded.getOrDefault(queue, 0);
      if (actions.size() != expected) {
        fail(queue + " has " + actions.size() + " recorded pauses and resumes, not " + expected);
      }
      for (int i = 0; i < actions.size(); i++) {
        // newest first: the last action is a resume, the one before it a pause, and so on
        QueueAction.Kind kind = i % 2 == 0 ? QueueAction.Kind.RESUME : QueueAction.Kind.PAUSE;
        if (actions.get(i).kind() != kind) {
          fail(queue + ": the recorded pauses and resumes do not alternate: " + actions);
        }
      }
    }
  }

  /**
   * Every batch has ended as its work orders stand, as its status and a query by batch tell;
   * without faults its end was told exactly once.
   */
  private void checkBatches() {
    for (Map.Entry<BatchId, String> b : batchNames.entrySet()) {
      String name = b.getValue();
      BatchStatus status = client.workgate().batch(b.getKey());
      List<WorkOrderId> members = currentMembers(b.getKey());
      long resubmitted =
          known.values().stream()
              .filter(k -> b.getKey().equals(k.batch) && !k.resubmissions.isEmpty())
              .count();
      Map<WorkOrderState, Long> counts = new java.util.EnumMap<>(WorkOrderState.class);
      for (WorkOrderState st : WorkOrderState.values()) {
        counts.put(st, 0L);
      }
      for (WorkOrderId m : members) {
        counts.merge(shared.find(m).orElseThrow().state(), 1L, Long::sum);
      }
      if (!status.ended()
          || status.workOrders() != members.size()
          || status.resubmitted() != resubmitted
          || !status.counts().equals(counts)) {
        fail(
            name
                + ": status "
                + status
                + ", but by the log it has "
                + members
                + " ("
                + counts
                + "), "
                + resubmitted
                + " resubmitted");
      }
      long byQuery =
          shared
              .query(
                  WorkOrderQuery.builder()
                      .batch(b.getKey())
                      .limit(WorkOrderQuery.MAX_LIMIT)
                      .build())
              .items()
              .size();
      if (byQuery != members.size() + resubmitted) {
        fail(name + ": a query by batch finds " + byQuery + " work orders");
      }
      Integer told = batchEnds.get(name + "/" + status.submitted());
      if (told == null) {
        batchEndsUntold++;
        trace(name + ": its end was never told");
      }
      if (!config.faults() && (told == null || told != 1)) {
        fail(name + ": its end was told " + (told == null ? 0 : told) + " times without faults");
      }
    }
  }

  /**
   * No two executions of one work order ran at the same time, unless the clock jumped between a
   * lease before the first one's sandbox was made and the start of the second: a jump makes leases
   * and fence deadlines pass at once, before anything could stop the work, which no margin covers
   * (as a process paused for longer than the margin).
   */
  private void checkNoOverlap() {
    Map<WorkOrderId, List<SimSandbox>> ran = new HashMap<>();
    for (SimSandbox s : sandboxes.all) {
      if (s.ranFrom != null) {
        ran.computeIfAbsent(s.workOrder, k -> new ArrayList<>()).add(s);
      }
    }
    for (List<SimSandbox> list : ran.values()) {
      list.sort(java.util.Comparator.comparing((SimSandbox s) -> s.ranFrom));
      for (int i = 0; i < list.size(); i++) {
        for (int j = i + 1; j < list.size(); j++) {
          SimSandbox first = list.get(i);
          SimSandbox second = list.get(j);
          Instant firstEnd = first.ranUntil == null ? runtime.now() : first.ranUntil;
          if (!second.ranFrom.isBefore(firstEnd) || !first.ranFrom.isBefore(firstEnd)) {
            continue;
          }
          Instant from = first.createdFrom.minus(LEASE);
          boolean jumped = false;
          for (Instant jump : jumps) {
            jumped |= !jump.isBefore(from) && !jump.isAfter(second.ranFrom);
          }
          if (!jumped) {
            fail(
                "executions overlap: "
                    + first.id
                    + " ran "
                    + first.ranFrom
                    + ".."
                    + firstEnd
                    + " and "
                    + second.id
                    + " from "
                    + second.ranFrom);
          }
        }
      }
    }
  }
}
