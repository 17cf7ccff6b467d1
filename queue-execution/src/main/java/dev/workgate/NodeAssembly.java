package dev.workgate;

import dev.workgate.TransitionListener.StateChange;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.StoreView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.execution.internal.ExecutionManager;
import dev.workgate.execution.internal.InProcessSandboxProvider;
import dev.workgate.execution.internal.OrphanReaper;
import dev.workgate.internal.ManualDrive;
import dev.workgate.retry.internal.RetryManager;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.scheduler.internal.MemoryProbes;
import dev.workgate.scheduler.internal.ResourceMonitor;
import dev.workgate.scheduler.internal.Scheduler;
import dev.workgate.scheduler.internal.SchedulerConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;

/**
 * The parts of one node, made from a {@link Workgate.Builder}'s settings and wired together: the
 * sandbox root, the store behind the observer that feeds transitions and completions (group commit,
 * where a store needs it, is the store's own: see the JDBC store's writers), the retry manager, the
 * resource monitor, the handler pool and the execution manager with its providers, the scheduler,
 * the housekeeping, a manual drive's bindings, the client and the read-only views. It only builds:
 * {@link Workgate} starts, drives and stops what it holds.
 *
 * <p>Thread confinement: built on the thread that calls {@link Workgate.Builder#build()}; its
 * fields are final and published with the {@link Workgate} that copies them.
 */
final class NodeAssembly {
  final SandboxRoot sandboxRoot;
  final Transitions transitions;
  final WorkOrderStore hostStore;
  final boolean ownsStore;
  final ObservedStore store;
  final Completions completions;
  final RetryManager retries;
  final ResourceMonitor resources;
  final ExecutorService handlerPool;
  final ExecutionManager executions;
  final Scheduler scheduler;
  final Housekeeping housekeeping;
  final BatchEnds batchEnds;
  final WorkgateClient client;
  final StoreView storeView;
  final NodeView node;

  NodeAssembly(Workgate.Builder b, SchedulerConfig config) {
    String nodeId = config.nodeId();
    ThreadFactory threadFactory = b.threadFactory;
    ManualDrive drive = b.drive;
    this.sandboxRoot = SandboxRoot.choose(b.sandboxRoot, b.store, nodeId);
    this.transitions = new Transitions(b.transitionLogLevel);
    this.hostStore = b.store != null ? b.store : Stores.inMemory(b.clock);
    this.ownsStore = b.store == null;
    this.store =
        new ObservedStore(
            hostStore,
            this::observed,
            transitions::wanted,
            b.clock,
            new ObservedStore.Stored() {
              @Override
              public void appended(List<RecordedEvent> recorded) {
                NodeAssembly.this.appended(recorded);
              }

              @Override
              public void claimed(List<WorkOrderView> views) {
                BatchEnds ends = batchEnds;
                if (ends != null) {
                  ends.claimed(views);
                }
              }
            });
    this.completions =
        new Completions(
            store,
            drive != null
                ? drive.timer()
                : Executors.newSingleThreadScheduledExecutor(
                    threadFactory != null
                        ? threadFactory
                        : daemonThreads("workgate-completions-" + nodeId)));
    RetryManager.Builder rb =
        RetryManager.builder(store)
            .defaultPolicy(b.retryPolicy)
            .classifier(b.errorClassifier)
            .batchSize(b.retryBatchSize)
            .maxReleases(b.maxReleases)
            .clock(b.clock);
    b.queuePolicies.forEach(rb::policy);
    if (b.random != null) {
      rb.random(b.random);
    }
    this.retries = rb.build();
    this.resources =
        new ResourceMonitor(
            b.resourceConfig != null
                ? b.resourceConfig
                : ResourceConfig.builder()
                    .maxConcurrent(b.maxConcurrent)
                    .memoryPerSlotMb(b.memoryPerSlotMb)
                    .build(),
            b.memoryProbe != null ? b.memoryProbe : MemoryProbes.system(),
            b.clock);
    this.handlerPool =
        drive != null
            ? drive.callerThread()
            : InProcessSandboxProvider.cachedPool(
                threadFactory != null
                    ? threadFactory
                    : daemonThreads("workgate-handler-" + nodeId));
    ExecutionManager.Builder eb =
        ExecutionManager.builder(store, retries, nodeId)
            .clock(b.clock)
            .threads(b.resourceConfig != null ? b.resourceConfig.maxConcurrent() : b.maxConcurrent)
            .killGrace(b.killGrace)
            // Work that could not renew its lease must be dead before the lease expires: half the
            // self-fence margin to stop, the other half for clock skew between nodes.
            .leaseLostGrace(config.selfFenceMargin().dividedBy(2))
            .defaultTimeout(b.defaultTimeout)
            .sandboxCreationTimeout(b.sandboxCreationTimeout)
            .abandonedHandlerSlotCap(b.abandonedHandlerSlotCap);
    if (threadFactory != null) {
      eb.threadFactory(threadFactory);
    }
    if (drive != null) {
      // Everything on the thread that turns the node (or attempts where the drive says); timers on
      // the drive's time.
      eb.executor(drive.attempts())
          .creationExecutor(drive.attempts())
          .killExecutor(drive.callerThread())
          .timer(drive.timer());
    }
    for (Map.Entry<String, WorkHandler> h : b.handlers.entrySet()) {
      eb.provider(
          h.getKey(),
          new InProcessSandboxProvider(
              sandboxRoot.inProcess(), h.getValue(), b.clock, handlerPool));
    }
    b.providers.forEach(eb::provider);
    this.executions = eb.build();
    Scheduler.Builder sb =
        Scheduler.builder(store, executions)
            .config(config)
            .resources(resources)
            .retries(retries)
            .clock(b.clock);
    if (threadFactory != null) {
      sb.threadFactory(threadFactory);
    }
    if (drive != null) {
      drive.ids().ifPresent(sb::ids);
    }
    this.scheduler = sb.build();
    this.housekeeping =
        new Housekeeping(
            new OrphanReaper(store, executions, nodeId, b.clock),
            b.orphanReapInterval,
            threadFactory != null ? threadFactory : daemonThreads("workgate-orphans-" + nodeId));
    if (drive != null) {
      executions.addListener((id, attempt, outcome) -> drive.attemptEnded());
      drive.bind(new DrivenNode(scheduler, executions));
    }
    this.batchEnds = new BatchEnds(store, completions.watcher(), transitions, completions, b.clock);
    this.client = WorkgateClient.ofNode(store, scheduler.submissions(), b.clock);
    this.storeView = StoreView.readOnly(store);
    this.node = new LiveNodeView(nodeId, scheduler, resources, executions, retries);
  }

  /** A transition the store recorded: the log and listeners hear it, then waiting futures. */
  private void observed(StateChange change) {
    transitions.observed(change);
    completions.transitioned(change);
  }

  /**
   * Events this node stored, whether anyone listens or not: an ended work order or a newly blocked
   * one may make blocked work decidable, and may end a batch.
   */
  private void appended(List<RecordedEvent> recorded) {
    boolean mayUnblock = false;
    for (RecordedEvent r : recorded) {
      if (BatchEnds.ends(r.event())
          || (r.event() instanceof WorkOrderEvent.Submitted s && !s.dependencies().isEmpty())) {
        mayUnblock = true;
        break;
      }
    }
    Scheduler loop = scheduler;
    if (mayUnblock && loop != null) { // null only while the node is being built
      loop.dependenciesMayHaveChanged();
    }
    BatchEnds ends = batchEnds;
    if (ends != null) {
      ends.appended(recorded);
    }
  }

  /** What a manual drive runs of its node. */
  private record DrivenNode(Scheduler scheduler, ExecutionManager executions)
      implements ManualDrive.Node {
    @Override
    public Instant turn() {
      return scheduler.runOnce();
    }

    @Override
    public Optional<Instant> fenceOverdueWork() {
      return scheduler.fenceOverdueWork();
    }

    @Override
    public void stopClaiming() {
      scheduler.stopClaiming();
    }

    @Override
    public void killAllForShutdown(Duration grace) {
      executions.killAllForShutdown(grace);
    }
  }

  /** The default factory of the node's own threads: daemons with the given name. */
  private static ThreadFactory daemonThreads(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
