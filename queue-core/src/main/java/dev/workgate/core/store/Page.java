package dev.workgate.core.store;

import java.util.List;
import java.util.OptionalLong;

/**
 * A page of query results. Immutable.
 *
 * @param items the results
 * @param nextCursor the cursor for the next page, empty when this is the last page
 * @param <T> the item type
 */
public record Page<T>(List<T> items, OptionalLong nextCursor) {
  /** Copies the list. */
  public Page {
    items = List.copyOf(items);
  }

  /**
   * Whether more results follow.
   *
   * @return true when {@link #nextCursor()} is present
   */
  public boolean hasNext() {
    return nextCursor.isPresent();
  }
}
