package dev.workgate.core.internal.jdbc;

import dev.workgate.core.WorkOrderEvent;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decoded Submitted events by log position, bounded by an estimate of the heap they retain rather
 * than by their number, evicting the least recently used. Every read of a view joins its work
 * order's Submitted event for the spec, and decoding that JSON cost more than the rest of an
 * append; an event never changes and a position is never reused (retention deletes whole streams
 * and positions only rise), so a cached decode can never be stale. A count bound let 16,384 specs
 * with 100 KB payloads fill a 512 MiB heap; a byte budget keeps the cache's share of the heap fixed
 * whatever the payloads weigh.
 *
 * <p>An entry's size is estimated from its encoded JSON: {@link #BYTES_PER_CHAR} bytes per
 * character (a decoded Jackson tree keeps each string as a Java string and each field as a node,
 * several times the text's size) plus {@link #ENTRY_OVERHEAD} for the event, its spec and the map
 * entry. An entry larger than the whole budget is not cached. Thread-safe: one lock, held for a map
 * operation only.
 */
public final class DecodedSpecCache {
  /** Estimated heap per character of encoded JSON. */
  public static final int BYTES_PER_CHAR = 4;

  /** Estimated heap of an entry beyond its JSON: the event, spec, map entry and boxed key. */
  public static final int ENTRY_OVERHEAD = 512;

  /**
   * The default budget, 32 MiB: about 200 decoded specs of 40 KB, or thousands of small ones, a
   * small share of any server heap.
   */
  public static final long DEFAULT_BUDGET = 32L * 1024 * 1024;

  /** The largest budget the options accept: 1 TiB, far past any heap. */
  public static final long MAX_BUDGET = 1L << 40;

  /**
   * The budget a {@code specCacheBytes} setting names, checked.
   *
   * @throws IllegalArgumentException naming the setting if outside 0 to {@link #MAX_BUDGET}
   */
  public static long requireBudget(long bytes) {
    if (bytes < 0 || bytes > MAX_BUDGET) {
      throw new IllegalArgumentException(
          "specCacheBytes must be between 0 and " + MAX_BUDGET + ", got " + bytes);
    }
    return bytes;
  }

  private record Entry(WorkOrderEvent event, long bytes) {}

  private final long budget;
  private final LinkedHashMap<Long, Entry> entries = new LinkedHashMap<>(256, 0.75f, true);
  private long bytes;
  private long evictions;

  /** A cache holding at most {@code budget} estimated bytes; 0 caches nothing. */
  public DecodedSpecCache(long budget) {
    if (budget < 0) {
      throw new IllegalArgumentException("budget must not be negative, got " + budget);
    }
    this.budget = budget;
  }

  /** The estimated heap retained by an event decoded from {@code encodedChars} characters. */
  public static long estimate(int encodedChars) {
    return ENTRY_OVERHEAD + (long) BYTES_PER_CHAR * encodedChars;
  }

  public synchronized WorkOrderEvent get(long position) {
    Entry e = entries.get(position);
    return e == null ? null : e.event();
  }

  /** Caches a decoded event, evicting the least recently used entries to stay in the budget. */
  public synchronized void put(long position, WorkOrderEvent event, int encodedChars) {
    long size = estimate(encodedChars);
    if (size > budget) {
      return;
    }
    Entry old = entries.put(position, new Entry(event, size));
    if (old != null) {
      bytes -= old.bytes();
    }
    bytes += size;
    Iterator<Map.Entry<Long, Entry>> eldest = entries.entrySet().iterator();
    while (bytes > budget && eldest.hasNext()) {
      Map.Entry<Long, Entry> e = eldest.next();
      if (e.getKey() == position) {
        continue;
      }
      bytes -= e.getValue().bytes();
      eldest.remove();
      evictions++;
    }
  }

  /** The estimated bytes held now. */
  public synchronized long bytes() {
    return bytes;
  }

  public synchronized int size() {
    return entries.size();
  }

  public synchronized long evictions() {
    return evictions;
  }

  public long budget() {
    return budget;
  }
}
