package dev.workgate.core.internal.jdbc;

import dev.workgate.core.store.StoreException.UnreadableRowException;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rows of one store instance that could not be read: an event this code cannot decode (damaged,
 * written by a newer Workgate, over the reader's limits) or a projection row that does not make a
 * view. Each is logged once at WARN, naming the work order, the log position and the reason, never
 * the row's content, which may hold secrets; the count is {@link
 * dev.workgate.core.store.WorkOrderStore#quarantinedRows()}; and the work order is kept out of this
 * store's claims, so that one bad row is not decoded on every claim. Thread-safe.
 */
final class Quarantine {
  private static final Logger LOG = LoggerFactory.getLogger(Quarantine.class);

  /**
   * The most rows and work orders remembered, so that a store full of damage cannot fill the heap:
   * past it, a further row is logged at DEBUG only and not counted (the count already warns), and
   * its work order's claims meet it again and skip it again.
   */
  static final int REMEMBERED_LIMIT = 10_000;

  private final Set<String> rows = ConcurrentHashMap.newKeySet();
  private final Set<String> workOrders = ConcurrentHashMap.newKeySet();

  /** The work orders held for an unreadable event, which no repair rewrites. */
  private final Set<String> heldForEvents = ConcurrentHashMap.newKeySet();

  private final AtomicLong count = new AtomicLong();

  /**
   * Quarantines an unreadable row, then throws it again unless the read skips such rows.
   *
   * @param failure what could not be read
   * @param skip whether the read goes on without the row
   * @throws UnreadableRowException {@code failure}, if not {@code skip}
   */
  void add(UnreadableRowException failure, boolean skip) {
    add(failure);
    if (!skip) {
      throw failure;
    }
  }

  /**
   * Quarantines an unreadable row; logs and counts it the first time it is met.
   *
   * @param failure what could not be read
   */
  void add(UnreadableRowException failure) {
    String key =
        failure.position() > 0 ? "event:" + failure.position() : "row:" + failure.workOrderId();
    if (workOrders.size() < REMEMBERED_LIMIT) {
      workOrders.add(failure.workOrderId());
      if (failure.position() > 0) {
        heldForEvents.add(failure.workOrderId());
      }
    }
    if (rows.contains(key)) {
      return;
    }
    if (rows.size() >= REMEMBERED_LIMIT) {
      LOG.debug("{}; not remembered: {} rows are quarantined already", failure.getMessage(), count);
      return;
    }
    if (rows.add(key)) {
      count.incrementAndGet();
      LOG.warn(
          "{}; quarantined: claims of this store instance skip work order {} and reads of the"
              + " whole log skip the row, until a repair rewrites it or the store is reopened"
              + " (see docs/operations.md)",
          failure.getMessage(),
          failure.workOrderId());
    }
  }

  /**
   * Lets claims take work orders again whose projection rows a repair has just rewritten. An
   * unreadable event is not rewritten by a repair, so a work order quarantined for one stays held.
   *
   * @param workOrderIds the work orders whose rows were rewritten or removed
   */
  void released(Collection<String> workOrderIds) {
    for (String id : workOrderIds) {
      if (rows.remove("row:" + id) && !heldForEvents.contains(id)) {
        workOrders.remove(id);
      }
    }
  }

  /** Whether a work order has an unreadable row this store met. */
  boolean holds(String workOrderId) {
    return workOrders.contains(workOrderId);
  }

  /**
   * Distinct unreadable rows met since the store opened (up to {@link #REMEMBERED_LIMIT}), less
   * none: a row a repair rewrote still counts, as it was met.
   */
  long count() {
    return count.get();
  }
}
