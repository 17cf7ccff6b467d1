package dev.workgate.scheduler.internal;

import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkDoesNotFitException;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.StoreView.NodeStatus;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.scheduler.SchedulerStats.UnrunnableWork;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's row in the store's node table, and what the scheduler learns from the table: on each
 * heartbeat (every renew interval, from the loop's full turn) it writes the node's capacity and
 * use, forgets rows silent for {@link #FORGET_AFTER}, reads every row, and looks for pending work
 * that no live node could ever run ({@link UnrunnableWork}). A submit through this node is refused
 * at once when neither this node nor any node the table knows could ever run it ({@link
 * #requireFits}).
 *
 * <p>Thread-safe: the loop writes, submitters and readers read volatile snapshots.
 */
final class NodeHeartbeat {
  private static final Logger LOG = LoggerFactory.getLogger(NodeHeartbeat.class);

  /** How long a node's row is kept after its last heartbeat: {@link NodeStatus#FORGET_AFTER}. */
  static final Duration FORGET_AFTER = NodeStatus.FORGET_AFTER;

  /** How many of each served queue's oldest pending work orders a heartbeat checks. */
  static final int SCAN_PER_QUEUE = 100;

  /** The most work orders whose "no node can run this" WARN is remembered, to log each once. */
  private static final int WARNED_MAX = 1_000;

  private static final String VERSION =
      Optional.ofNullable(NodeHeartbeat.class.getPackage().getImplementationVersion())
          .orElse("development");

  private final WorkOrderStore store;
  private final SchedulerConfig config;
  private final ResourceMonitor monitor;
  private final Clock clock;
  private final Instant startedAt;
  private final Set<WorkOrderId> warned =
      Collections.newSetFromMap(
          new LinkedHashMap<>() {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<WorkOrderId, Boolean> eldest) {
              return size() > WARNED_MAX;
            }
          }); // guarded by itself
  private volatile Instant lastBeat;
  private volatile List<NodeStatus> known; // null until first read
  private volatile UnrunnableWork unrunnable = UnrunnableWork.NONE;

  NodeHeartbeat(
      WorkOrderStore store, SchedulerConfig config, ResourceMonitor monitor, Clock clock) {
    this.store = store;
    this.config = config;
    this.monitor = monitor;
    this.clock = clock;
    this.startedAt = clock.instant();
  }

  /** How old a heartbeat may be for its node to count as live: one lease. */
  Duration liveFor() {
    return config.leaseDuration();
  }

  boolean hasBeaten() {
    return lastBeat != null;
  }

  /** Runs a heartbeat if one renew interval has passed since the last. */
  void beatIfDue(Instant now) {
    Instant last = lastBeat;
    if (last == null || !now.isBefore(last.plus(config.renewInterval()))) {
      beat(now);
    }
  }

  /**
   * Writes this node's row, forgets silent nodes, reads the table and looks for unrunnable work.
   */
  void beat(Instant now) {
    lastBeat = now; // a failing store is not asked again before the next interval
    store.recordNode(status(now));
    store.removeNodes(null, now.minus(FORGET_AFTER));
    List<NodeStatus> rows = store.nodes();
    known = rows;
    unrunnable = scan(now, rows);
  }

  /** Removes this node's row: a clean stop. Failures are logged; the row is forgotten later. */
  void leave() {
    try {
      store.removeNodes(config.nodeId(), null);
    } catch (RuntimeException e) {
      LOG.warn(
          "could not remove node {} from the node table ({}); it is forgotten after {}",
          config.nodeId(),
          e.getClass().getSimpleName(),
          dev.workgate.core.internal.Text.duration(FORGET_AFTER));
    }
  }

  NodeStatus status(Instant now) {
    int slots = monitor.maxSlots();
    return new NodeStatus(
        config.nodeId(),
        slots,
        monitor.memoryCeilingMb(),
        Math.min(slots, Math.max(0, monitor.activeSlots())),
        Math.max(0, monitor.reservedMemoryMb()),
        monitor.pressure().name(),
        VERSION,
        startedAt,
        now);
  }

  UnrunnableWork unrunnable() {
    return unrunnable;
  }

  /**
   * Refuses a spec (its resources as submitted, the memory default applied) that neither this node
   * nor any node seen within {@link #FORGET_AFTER} could ever run.
   *
   * @throws WorkDoesNotFitException naming the request and the largest node
   */
  void requireFits(WorkOrderSpec spec) {
    ResourceRequest request = spec.resources().orElse(ResourceRequest.DEFAULT);
    if (monitor.couldEverFit(request)) {
      return;
    }
    List<NodeStatus> rows = known;
    if (rows != null && fitsAnother(rows, request)) {
      return;
    }
    rows = store.nodes(); // the rows of the last heartbeat may be stale: a node may have joined
    known = rows;
    if (fitsAnother(rows, request)) {
      return;
    }
    NodeStatus largest = null;
    for (NodeStatus node : others(rows)) {
      if (largest == null || node.slots() > largest.slots()) {
        largest = node;
      }
    }
    String own =
        "this node " + monitor.maxSlots() + " slot(s), " + ceiling(monitor.memoryCeilingMb());
    throw new WorkDoesNotFitException(
        spec.queue(),
        request,
        largest == null
            ? own + ", and no other node is known"
            : own
                + "; the most slots elsewhere: node "
                + largest.id()
                + " with "
                + largest.slots()
                + " slot(s), "
                + ceiling(largest.memoryMb()));
  }

  private boolean fitsAnother(List<NodeStatus> rows, ResourceRequest request) {
    return others(rows).stream().anyMatch(n -> n.couldEverRun(request));
  }

  /** The rows of other nodes seen within {@link #FORGET_AFTER}. */
  private List<NodeStatus> others(List<NodeStatus> rows) {
    Instant since = clock.instant().minus(FORGET_AFTER);
    List<NodeStatus> out = new ArrayList<>();
    for (NodeStatus node : rows) {
      // This node was asked first, with a fresher figure than its row.
      if (!node.id().equals(config.nodeId()) && !node.lastHeartbeat().isBefore(since)) {
        out.add(node);
      }
    }
    return out;
  }

  private static String ceiling(long memoryMb) {
    return memoryMb == 0 ? "memory not limited" : "at most " + memoryMb + " MB per work order";
  }

  private UnrunnableWork scan(Instant now, List<NodeStatus> rows) {
    List<NodeStatus> live = new ArrayList<>();
    for (NodeStatus node : rows) {
      if (node.isLive(now, liveFor())) {
        live.add(node);
      }
    }
    int count = 0;
    List<WorkOrderId> sample = new ArrayList<>();
    for (String queue : config.queues()) {
      List<WorkOrderView> oldest =
          store
              .query(
                  WorkOrderQuery.builder()
                      .queue(queue)
                      .states(WorkOrderState.PENDING)
                      .limit(SCAN_PER_QUEUE)
                      .build())
              .items();
      for (WorkOrderView view : oldest) {
        ResourceRequest request = view.resources();
        if (monitor.couldEverFit(request) || live.stream().anyMatch(n -> n.couldEverRun(request))) {
          continue;
        }
        count++;
        if (sample.size() < UnrunnableWork.SAMPLE) {
          sample.add(view.id());
        }
        boolean first;
        synchronized (warned) {
          first = warned.add(view.id());
        }
        if (first) {
          LOG.warn(
              "{} in queue {} asks for {} slot(s) and {} MB: no live node can ever run it, so it"
                  + " waits until a node that can joins (or cancel it)",
              view.id(),
              queue,
              request.slots(),
              request.memoryMb());
        }
      }
    }
    return new UnrunnableWork(count, sample, Optional.of(now));
  }
}
