package dev.workgate.sim;

import dev.workgate.NodeView;
import dev.workgate.Workgate;
import dev.workgate.WorkgateClient.CancelOutcome;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.ProjectionDiff;
import dev.workgate.core.store.Stores;
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
import java.util.Set;
import java.util.SplittableRandom;

/**
 * One simulated run of the whole engine: nodes, each a {@link ManualWorkgate} built through {@link
 * Workgate#builder()} as a host builds one (over simulated sandboxes, and a faulty view of one
 * shared in-memory store), turned by the simulation instead of a loop of their own, on the virtual
 * clock of a {@link SimRuntime}, with every choice drawn from one seed. Faults are injected during
 * a window; the invariants are checked after every step; after the window every work order must end
 * within a bound of virtual time. At the end, no two executions of one work order may have
 * overlapped in virtual time, unless the clock jumped meanwhile (a jump is not the bounded clock
 * skew that self-fencing assumes): partitions that cut a node off from the store, with calls that
 * fail or hang, included.
 */
final class Simulation {
  /** What a run is made of; the seed decides everything else. */
  record Config(long seed, int workOrders, int maxNodes, boolean faults, boolean leakASandbox) {
    static Config of(long seed) {
      return new Config(seed, 24, 3, true, false);
    }

    Config with(int workOrders, int maxNodes) {
      return new Config(seed, workOrders, maxNodes, faults, leakASandbox);
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
      List<String> trace) {}

  static final Instant START = Instant.parse("2030-01-01T00:00:00Z");
  static final int MAX_ATTEMPTS = 3;
  static final Duration LEASE = Duration.ofSeconds(20);
  static final Duration POLL = Duration.ofSeconds(2);
  static final Duration KILL_GRACE = Duration.ofSeconds(4);
  static final Duration FAULT_WINDOW = Duration.ofSeconds(90);
  static final long NODE_MEMORY_MB = 2048;
  static final String TYPE = "sim";

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
        new SimSandboxes(runtime, new ScenarioPlan(), this::trace, config.leakASandbox());
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
    return WorkOrderId.of(String.format("wo-%03d", idCounter));
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
                  .pollInterval(POLL)
                  .leaseDuration(LEASE)
                  .claimBatchSize(4)
                  .killGrace(KILL_GRACE)
                  .defaultTimeout(Duration.ofMinutes(1)),
              runtime.clock,
              runtime.fibersOf(owner),
              null);
      drive = SimulatedNodes.drive(workgate);
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
      List<Behaviour> plan = plans.get(id);
      return plan.get(Math.min(attempt, plan.size()) - 1);
    }

    @Override
    public Duration createTime(WorkOrderId id, int attempt) {
      return Duration.ofMillis(timings.get(id)[0] * attempt % 2500);
    }

    @Override
    public Duration runTime(WorkOrderId id, int attempt) {
      return Duration.ofMillis(timings.get(id)[1] * attempt % 12_000 + 100);
    }

    @Override
    public long destroyMillis(WorkOrderId id, int attempt) {
      return timings.get(id)[2] * attempt % 2000;
    }

    @Override
    public long stopMillis(WorkOrderId id) {
      return timings.get(id)[3];
    }
  }

  private void fail(String message) {
    throw new Violation(config, message, trace, null);
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
    Instant deadline = START.plus(FAULT_WINDOW).plus(livenessBound());
    while (true) {
      String label = runtime.step();
      if (label == null) {
        fail("nothing left to run but work orders are not all terminal");
      }
      check();
      if (!runtime.now().isBefore(START.plus(FAULT_WINDOW)) && !faultsOn && allEnded()) {
        break;
      }
      if (runtime.now().isAfter(deadline)) {
        fail(
            "liveness: not every work order ended within "
                + livenessBound()
                + " after the faults stopped: "
                + notEnded());
      }
    }
    finalChecks();
    int completed = 0;
    int failed = 0;
    int cancelled = 0;
    int attempts = 0;
    for (WorkOrderId id : plans.keySet()) {
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
        List.copyOf(trace));
  }

  /** The virtual time every work order must end within once faults stop. */
  static Duration livenessBound() {
    // per attempt: creation, the longest timeout, the kill grace and stop, destruction, the retry
    // delay, a lease that must expire first and a poll; attempts one after another, and the work
    // orders through the fewest slots (one).
    Duration perAttempt =
        Duration.ofMillis(2500 + 60_000 + KILL_GRACE.toMillis() + 3000 + 2000 + 15_000)
            .plus(LEASE)
            .plus(POLL.multipliedBy(2));
    return perAttempt.multipliedBy(MAX_ATTEMPTS).multipliedBy(30);
  }

  private void submitOne() {
    List<Behaviour> plan = new ArrayList<>();
    Behaviour[] all = Behaviour.values();
    for (int a = 0; a < MAX_ATTEMPTS; a++) {
      int roll = scenario.nextInt(100);
      plan.add(roll < 50 ? Behaviour.OK : all[scenario.nextInt(all.length)]);
    }
    long[] timing = {
      scenario.nextLong(2500),
      scenario.nextLong(12_000),
      scenario.nextBoolean() ? 0 : scenario.nextLong(2000),
      scenario.nextLong(3000)
    };
    Duration timeout = Duration.ofSeconds(5 + scenario.nextInt(20));
    ResourceRequest resources = ResourceRequest.of(1, 256L * scenario.nextInt(5));
    WorkOrderId expected = WorkOrderId.of(String.format("wo-%03d", idCounter + 1));
    plans.put(expected, plan);
    timings.put(expected, timing);
    WorkOrderId id =
        client.submit(
            WorkOrderSpec.builder(TYPE)
                .priority(scenario.nextInt(3))
                .timeout(timeout)
                .resources(resources)
                .build());
    if (!id.equals(expected)) {
      fail("submit returned " + id + ", expected " + expected);
    }
    trace("client: submitted " + id + " " + plan + " timeout " + timeout.toSeconds() + "s");
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
    int kind = chance.nextInt(100);
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
    } else {
      trace("quiet");
    }
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
    for (WorkOrderId id : plans.keySet()) {
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
    for (Node n : nodes) {
      n.availableBytes = 60L << 30;
    }
    for (Node n : nodes) {
      restart(n);
    }
  }

  private boolean allEnded() {
    if (plans.size() < config.workOrders()) {
      return false;
    }
    for (WorkOrderId id : plans.keySet()) {
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
    for (WorkOrderId id : plans.keySet()) {
      WorkOrderView v = shared.find(id).orElseThrow();
      if (!v.state().isTerminal()) {
        out.add(id + " " + v.state() + "@" + v.attempt() + " lease " + v.leaseOwner().orElse("-"));
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- invariants

  private void check() {
    dirty.addAll(touched());
    for (WorkOrderId id : dirty) {
      checkWorkOrder(id);
    }
    dirty.clear();
    checkSandboxes();
  }

  private long lastPosition;

  /** The work orders with events since the last check. */
  private Set<WorkOrderId> touched() {
    Set<WorkOrderId> ids = new LinkedHashSet<>();
    while (true) {
      var page = shared.readLog(lastPosition, 500);
      for (RecordedEvent e : page.events()) {
        ids.add(e.workOrderId());
      }
      if (page.events().isEmpty()) {
        return ids;
      }
      lastPosition = page.events().get(page.events().size() - 1).position();
    }
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
      boolean ends =
          e instanceof WorkOrderEvent.Completed
              || e instanceof WorkOrderEvent.Cancelled
              || (e instanceof WorkOrderEvent.AttemptFailed
                  && ((WorkOrderEvent.AttemptFailed) e).retryAt() == null);
      if (ends) {
        terminal++;
        if (i != events.size() - 1) {
          fail(id + ": events after its terminal event " + e);
        }
      }
    }
    if (terminal != (view.state().isTerminal() ? 1 : 0)) {
      fail(id + " is " + view.state() + " with " + terminal + " terminal events");
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
    for (WorkOrderId id : plans.keySet()) {
      checkWorkOrder(id);
    }
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
