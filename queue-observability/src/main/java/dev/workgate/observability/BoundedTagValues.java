package dev.workgate.observability;

import dev.workgate.observability.WorkgateMetrics.WorkgateMeter;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps a tag's distinct values under a cap: the first {@code cap} values seen are kept as they
 * are, every later one becomes {@link WorkgateMeter.Tags#OTHER}. A value once admitted stays
 * admitted, so a queue or error code maps to the same tag value for the life of the binder. A user
 * value that is literally {@code other} shares the series of the overflow. Values given as always
 * admitted (Workgate's own error codes) keep their own tag value and take no place under the cap.
 * Thread-safe: lookups are lock-free, admissions take a lock.
 */
final class BoundedTagValues {
  private final int cap;
  private final Set<String> admitted = ConcurrentHashMap.newKeySet();
  private final Set<String> always;

  BoundedTagValues(int cap) {
    this(cap, Set.of());
  }

  BoundedTagValues(int cap, Set<String> always) {
    this.cap = cap;
    this.always = Set.copyOf(always);
  }

  /**
   * The tag value for a value.
   *
   * @param value a queue name or error code
   * @return the value itself if admitted (now or before), else {@code other}
   */
  String tag(String value) {
    if (admitted.contains(value) || always.contains(value)) {
      return value;
    }
    synchronized (admitted) {
      if (admitted.contains(value) || admitted.size() < cap) {
        admitted.add(value);
        return value;
      }
    }
    return WorkgateMeter.Tags.OTHER;
  }

  /**
   * Whether a value has its own tag value.
   *
   * @param value the value
   * @return true if admitted
   */
  boolean isAdmitted(String value) {
    return admitted.contains(value) || always.contains(value);
  }
}
