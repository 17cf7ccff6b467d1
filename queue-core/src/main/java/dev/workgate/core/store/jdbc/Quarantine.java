package dev.workgate.core.store.jdbc;

import dev.workgate.core.store.UnreadableRowException;
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
   * The most rows remembered: past it, a further row is still counted and logged, but is not kept
   * out of claims by the remembered set (its claims fail it again, and are skipped again).
   */
  static final int REMEMBERED_LIMIT = 10_000;

  private final Set<String> rows = ConcurrentHashMap.newKeySet();
  private final Set<String> workOrders = ConcurrentHashMap.newKeySet();
  private final AtomicLong count = new AtomicLong();

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
    }
    if (rows.size() >= REMEMBERED_LIMIT || rows.add(key)) {
      count.incrementAndGet();
      LOG.warn(
          "{}; quarantined: claims skip work order {} and reads of the whole log skip the row,"
              + " until it is fixed (see docs/operations.md)",
          failure.getMessage(),
          failure.workOrderId());
    }
  }

  /** Whether a work order has an unreadable row this store met. */
  boolean holds(String workOrderId) {
    return workOrders.contains(workOrderId);
  }

  /** Distinct unreadable rows met since the store opened. */
  long count() {
    return count.get();
  }
}
