package dev.workgate.execution.internal;

import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.execution.SandboxProvider;
import dev.workgate.execution.SandboxProvider.SandboxRecord;
import java.time.Clock;
import java.time.Instant;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Destroys sandboxes that a crash left behind. A sandbox found on disk is an orphan when no live
 * execution of this node owns it and either this node created it (in a previous life: the live ones
 * are known) or its work order's attempt is no longer held by a live lease of the node that created
 * it. A sandbox of a live execution is never touched: the live set is read after the listing, and
 * an execution registers before it creates its sandbox and unregisters only after destroying it. A
 * directory that a crash left without its record ({@link SandboxRecord#UNKNOWN_NODE}) is an orphan
 * unless its attempt is held by a live lease of another node. Thread-safe.
 */
public final class OrphanReaper {
  private static final Logger LOG = LoggerFactory.getLogger(OrphanReaper.class);

  private final WorkOrderStore store;
  private final ExecutionManager executions;
  private final String nodeId;
  private final Clock clock;

  /**
   * A reaper for one node.
   *
   * @param store the store, to see whose leases are live
   * @param executions this node's executions and providers
   * @param nodeId this node
   * @param clock tells whether a lease has expired
   */
  public OrphanReaper(
      WorkOrderStore store, ExecutionManager executions, String nodeId, Clock clock) {
    this.store = Objects.requireNonNull(store, "store");
    this.executions = Objects.requireNonNull(executions, "executions");
    this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Looks through every provider's sandboxes once and destroys the orphans.
   *
   * @return how many were destroyed
   */
  public int reap() {
    int destroyed = 0;
    Map<SandboxProvider, Boolean> seen = new IdentityHashMap<>();
    for (SandboxProvider provider : executions.providers().values()) {
      if (seen.put(provider, Boolean.TRUE) != null) {
        continue;
      }
      destroyed += reap(provider, provider.list());
    }
    return destroyed;
  }

  private int reap(SandboxProvider provider, Collection<SandboxRecord> records) {
    Set<String> live = executions.liveSandboxIds();
    int destroyed = 0;
    for (SandboxRecord record : records) {
      if (live.contains(record.sandboxId()) || !isOrphan(record)) {
        continue;
      }
      try {
        provider.destroyOrphan(record);
        destroyed++;
        LOG.info(
            "destroyed orphaned sandbox {} of {} attempt {} (created by {})",
            record.sandboxId(),
            record.workOrderId(),
            record.attempt(),
            SandboxRecords.creator(record));
      } catch (RuntimeException e) {
        LOG.warn("could not destroy orphaned sandbox {}", record.sandboxId(), e);
      }
    }
    return destroyed;
  }

  private boolean isOrphan(SandboxRecord record) {
    if (record.nodeId().equals(nodeId)) {
      return true; // not live here, so a previous life of this node made it
    }
    Optional<WorkOrderView> view = store.find(record.workOrderId());
    if (view.isEmpty()) {
      return true;
    }
    WorkOrderView v = view.get();
    Instant now = clock.instant();
    // A directory that lost its record names no node: any other node's live lease on its attempt
    // may be creating it right now. This node's own lease is a previous life's, as above.
    boolean heldByItsOwner =
        v.state().isActive()
            && v.attempt() == record.attempt()
            && v.leaseOwner()
                .map(
                    owner ->
                        record.nodeKnown() ? owner.equals(record.nodeId()) : !owner.equals(nodeId))
                .orElse(false)
            && v.leaseExpiresAt().map(now::isBefore).orElse(false);
    return !heldByItsOwner;
  }
}
