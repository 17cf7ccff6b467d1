package dev.workgate.core.store;

import dev.workgate.core.RecordedEvent;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A page of an {@link EventQuery}'s result. Immutable and thread-safe.
 *
 * @param events the events, in the query's order; at most the query's limit
 * @param nextCursor the cursor for the next page ({@link EventQuery.Builder#after(String)}):
 *     present only when more events matched when the page was read, so a page with a cursor is
 *     full; empty on the last page
 */
public record EventPage(List<RecordedEvent> events, Optional<String> nextCursor) {
  /**
   * Copies the list.
   *
   * @throws NullPointerException if the list, an event or the cursor is null
   */
  public EventPage {
    events = List.copyOf(events);
    Objects.requireNonNull(nextCursor, "nextCursor");
  }

  /**
   * Whether more events follow.
   *
   * @return true when {@link #nextCursor()} is present
   */
  public boolean hasNext() {
    return nextCursor.isPresent();
  }
}
