package dev.workgate.core.store;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An audit query over the event log: the events of one work order or of all, of some event types,
 * recorded in a time range, newest or oldest first, a page at a time. Run it with {@link
 * WorkOrderStore#queryEvents}. Immutable and thread-safe; build with {@link #builder()}.
 *
 * <p><b>Order.</b> Events come in the order of the time the store recorded them, then of their log
 * position: both ascending for {@link Order#OLDEST_FIRST}, both descending for {@link
 * Order#NEWEST_FIRST} (the default). Events recorded at the same time (one write, or one group
 * commit) are told apart by position. The recorded time is the store's clock, not the position: if
 * the clock went back, a later position can come earlier in this order.
 *
 * <p><b>Paging.</b> A page with more events behind it carries a cursor ({@link
 * EventPage#nextCursor()}); pass it to {@link Builder#after(String)} of a query with the same
 * filters and order to get the next page. The cursor names the place of the last event returned
 * (its recorded time as the store keeps it, and its position), so paging returns every matching
 * event exactly once, however many events share one recorded time. Events appended while paging
 * show up on a later page if they sort after the cursor (oldest first, recorded later) and not at
 * all if they sort before it (newest first). A cursor is an opaque, URL-safe string, meaningful
 * only to the store that returned it.
 *
 * <pre>{@code
 * EventQuery query = EventQuery.builder()
 *     .workOrder(id)
 *     .types(EventType.CLAIMED, EventType.ATTEMPT_FAILED)
 *     .from(Instant.parse("2025-01-01T00:00:00Z"))
 *     .limit(50)
 *     .build();
 * EventPage page = store.queryEvents(query);
 * }</pre>
 */
public final class EventQuery {
  /** The page size when none is given: a screenful for an operator, a cheap read for the store. */
  public static final int DEFAULT_LIMIT = 100;

  /**
   * The largest page size. One page is one statement that decodes every event it returns, so a page
   * is bounded in memory and in time; read more with the cursor.
   */
  public static final int MAX_LIMIT = 1000;

  /** The order of a query's events. */
  public enum Order {
    /** Latest recorded time first; of events recorded at one time, the highest position first. */
    NEWEST_FIRST,
    /** Earliest recorded time first; of events recorded at one time, the lowest position first. */
    OLDEST_FIRST
  }

  /** Seconds and nanoseconds of the recorded time, then the position; ASCII digits only. */
  private static final Pattern CURSOR =
      Pattern.compile("(-?[0-9]{1,19})\\.([0-9]{9})\\.([0-9]{1,19})");

  /** The most of a rejected cursor that a message repeats. */
  private static final int QUOTED_CURSOR_LENGTH = 80;

  private final WorkOrderId workOrder;
  private final Set<EventType> types;
  private final Instant from;
  private final Instant to;
  private final Order order;
  private final int limit;
  private final String after;
  private final Instant afterRecordedAt;
  private final long afterPosition;

  private EventQuery(Builder b) {
    this.workOrder = b.workOrder;
    this.types = b.types.isEmpty() ? Set.of() : Set.copyOf(b.types);
    this.from = b.from;
    this.to = b.to;
    this.order = b.order;
    this.limit = b.limit;
    this.after = b.after;
    this.afterRecordedAt = b.afterRecordedAt;
    this.afterPosition = b.afterPosition;
  }

  /**
   * A new builder; with nothing set, the query returns the newest {@link #DEFAULT_LIMIT} events of
   * the whole log.
   *
   * @return the builder (not thread-safe)
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The cursor that continues a query after an event: what a store puts in {@link
   * EventPage#nextCursor()}, naming the last event of the page. For store implementations; callers
   * take cursors from pages.
   *
   * @param event an event as the store returned it (its recorded time as the store keeps it)
   * @return the cursor, of ASCII letters, digits, {@code '-'} and {@code '.'} only
   * @throws NullPointerException if the event is null
   */
  public static String cursorOf(RecordedEvent event) {
    return cursorOf(event.recordedAt(), event.position());
  }

  /**
   * The cursor that continues a query after an event of the log, given its recorded time and
   * position: what a store uses to continue after an event it could not read.
   *
   * @param recordedAt the event's recorded time
   * @param position the event's log position
   * @return the cursor, as {@link #cursorOf(RecordedEvent)} makes it
   */
  public static String cursorOf(Instant recordedAt, long position) {
    return recordedAt.getEpochSecond()
        + "."
        + String.format(Locale.ROOT, "%09d", recordedAt.getNano())
        + "."
        + position;
  }

  /**
   * The work order whose events to return.
   *
   * @return the work order, or empty for every work order
   */
  public Optional<WorkOrderId> workOrder() {
    return Optional.ofNullable(workOrder);
  }

  /**
   * The event types to return.
   *
   * @return an unmodifiable set; empty means every type
   */
  public Set<EventType> types() {
    return types;
  }

  /**
   * The inclusive lower bound of the recorded time.
   *
   * @return the bound, or empty for none
   */
  public Optional<Instant> from() {
    return Optional.ofNullable(from);
  }

  /**
   * The exclusive upper bound of the recorded time.
   *
   * @return the bound, or empty for none
   */
  public Optional<Instant> to() {
    return Optional.ofNullable(to);
  }

  /**
   * The order of the events.
   *
   * @return the order; {@link Order#NEWEST_FIRST} unless set
   */
  public Order order() {
    return order;
  }

  /**
   * The most events a page holds.
   *
   * @return between 1 and {@link #MAX_LIMIT}
   */
  public int limit() {
    return limit;
  }

  /**
   * The cursor this query continues after, as given to {@link Builder#after(String)}.
   *
   * @return the cursor, or empty for the first page
   */
  public Optional<String> after() {
    return Optional.ofNullable(after);
  }

  /**
   * The recorded time of the event the cursor names. For store implementations.
   *
   * @return the time, present exactly when {@link #after()} is
   */
  public Optional<Instant> afterRecordedAt() {
    return Optional.ofNullable(afterRecordedAt);
  }

  /**
   * The position of the event the cursor names. For store implementations.
   *
   * @return the position, present exactly when {@link #after()} is
   */
  public OptionalLong afterPosition() {
    return after == null ? OptionalLong.empty() : OptionalLong.of(afterPosition);
  }

  /**
   * The query's order as a comparator of events: by recorded time, then position, ascending or
   * descending. For store implementations.
   *
   * @return the comparator
   */
  public Comparator<RecordedEvent> comparator() {
    Comparator<RecordedEvent> oldestFirst =
        Comparator.comparing(RecordedEvent::recordedAt).thenComparingLong(RecordedEvent::position);
    return order == Order.OLDEST_FIRST ? oldestFirst : oldestFirst.reversed();
  }

  /**
   * Whether an event belongs in this query's result: it is of the work order and of one of the
   * types asked for, recorded in [from, to), and, when there is a cursor, after the cursor's event
   * in the query's order. For store implementations.
   *
   * @param event the event
   * @return true if it matches
   * @throws NullPointerException if the event is null
   */
  public boolean matches(RecordedEvent event) {
    Instant t = event.recordedAt();
    if ((workOrder != null && !workOrder.equals(event.workOrderId()))
        || (!types.isEmpty() && !types.contains(event.event().type()))
        || (from != null && t.isBefore(from))
        || (to != null && !t.isBefore(to))) {
      return false;
    }
    if (after == null) {
      return true;
    }
    int c = t.compareTo(afterRecordedAt);
    if (c == 0) {
      c = Long.compare(event.position(), afterPosition);
    }
    return order == Order.OLDEST_FIRST ? c > 0 : c < 0;
  }

  @Override
  public String toString() {
    return "EventQuery[workOrder="
        + workOrder
        + ", types="
        + types
        + ", from="
        + from
        + ", to="
        + to
        + ", order="
        + order
        + ", limit="
        + limit
        + ", after="
        + after
        + "]";
  }

  /** Builds an {@link EventQuery}; setters reject bad values. Not thread-safe. */
  public static final class Builder {
    private WorkOrderId workOrder;
    private final EnumSet<EventType> types = EnumSet.noneOf(EventType.class);
    private Instant from;
    private Instant to;
    private Order order = Order.NEWEST_FIRST;
    private int limit = DEFAULT_LIMIT;
    private String after;
    private Instant afterRecordedAt;
    private long afterPosition;

    private Builder() {}

    /**
     * Only this work order's events.
     *
     * @param workOrder the work order
     * @return this builder
     * @throws IllegalArgumentException if it is null
     */
    public Builder workOrder(WorkOrderId workOrder) {
      if (workOrder == null) {
        throw new IllegalArgumentException("event query workOrder must not be null");
      }
      this.workOrder = workOrder;
      return this;
    }

    /**
     * Only events of these types (adds to earlier calls; no call means every type).
     *
     * @param types the types
     * @return this builder
     * @throws IllegalArgumentException if the array is null or holds null; nothing is added then
     */
    public Builder types(EventType... types) {
      if (types == null) {
        throw new IllegalArgumentException("event query types must not be null");
      }
      return types(Arrays.asList(types));
    }

    /**
     * Only events of these types (adds to earlier calls; no call means every type).
     *
     * @param types the types
     * @return this builder
     * @throws IllegalArgumentException if the collection is null or holds null; nothing is added
     *     then
     */
    public Builder types(Collection<EventType> types) {
      if (types == null) {
        throw new IllegalArgumentException("event query types must not be null");
      }
      for (EventType t : types) {
        if (t == null) {
          throw new IllegalArgumentException(
              "event query types must not contain null, got " + types);
        }
      }
      this.types.addAll(types);
      return this;
    }

    /**
     * Only events recorded at or after this time.
     *
     * @param from the inclusive lower bound
     * @return this builder
     * @throws IllegalArgumentException if it is null
     */
    public Builder from(Instant from) {
      if (from == null) {
        throw new IllegalArgumentException("event query from must not be null");
      }
      this.from = from;
      return this;
    }

    /**
     * Only events recorded before this time.
     *
     * @param to the exclusive upper bound
     * @return this builder
     * @throws IllegalArgumentException if it is null
     */
    public Builder to(Instant to) {
      if (to == null) {
        throw new IllegalArgumentException("event query to must not be null");
      }
      this.to = to;
      return this;
    }

    /**
     * Latest recorded first (the default).
     *
     * @return this builder
     */
    public Builder newestFirst() {
      return order(Order.NEWEST_FIRST);
    }

    /**
     * Earliest recorded first.
     *
     * @return this builder
     */
    public Builder oldestFirst() {
      return order(Order.OLDEST_FIRST);
    }

    /**
     * The order of the events.
     *
     * @param order the order
     * @return this builder
     * @throws IllegalArgumentException if it is null
     */
    public Builder order(Order order) {
      if (order == null) {
        throw new IllegalArgumentException("event query order must not be null");
      }
      this.order = order;
      return this;
    }

    /**
     * The most events a page holds.
     *
     * @param limit between 1 and {@link #MAX_LIMIT}
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder limit(int limit) {
      if (limit < 1 || limit > MAX_LIMIT) {
        throw new IllegalArgumentException(
            "event query limit must be between 1 and " + MAX_LIMIT + ", got " + limit);
      }
      this.limit = limit;
      return this;
    }

    /**
     * Continue after the last event of an earlier page.
     *
     * @param cursor an {@link EventPage#nextCursor()}
     * @return this builder
     * @throws IllegalArgumentException if it is null or not a cursor a store returned; the builder
     *     is unchanged then
     */
    public Builder after(String cursor) {
      if (cursor == null) {
        throw new IllegalArgumentException("event query after must not be null");
      }
      Matcher m = CURSOR.matcher(cursor);
      Instant recordedAt = null;
      long position = 0;
      if (m.matches()) {
        try {
          recordedAt =
              Instant.ofEpochSecond(Long.parseLong(m.group(1)), Integer.parseInt(m.group(2)));
          position = Long.parseLong(m.group(3));
        } catch (NumberFormatException | DateTimeException e) {
          recordedAt = null;
        }
      }
      if (recordedAt == null || position < 1) {
        throw new IllegalArgumentException(
            "event query after is not a cursor of an event page, got '" + quoted(cursor) + "'");
      }
      this.after = cursor;
      this.afterRecordedAt = recordedAt;
      this.afterPosition = position;
      return this;
    }

    /**
     * Builds the query.
     *
     * @return the immutable query
     * @throws IllegalArgumentException if {@code from} is not before {@code to}
     */
    public EventQuery build() {
      if (from != null && to != null && !from.isBefore(to)) {
        throw new IllegalArgumentException(
            "event query time range is empty: from " + from + " is not before to " + to);
      }
      return new EventQuery(this);
    }

    private static String quoted(String cursor) {
      return cursor.length() <= QUOTED_CURSOR_LENGTH
          ? cursor
          : cursor.substring(0, QUOTED_CURSOR_LENGTH) + "…";
    }
  }

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
}
