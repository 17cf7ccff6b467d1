package dev.workgate.core.store;

import dev.workgate.core.RecordedEvent;
import java.util.List;

/**
 * A page of the global event log. Immutable.
 *
 * @param events events in position order
 * @param lastPosition the position to read after next (the last event's position, or the position
 *     asked for when the page is empty)
 */
public record LogPage(List<RecordedEvent> events, long lastPosition) {
  /** Copies the list. */
  public LogPage {
    events = List.copyOf(events);
  }
}
