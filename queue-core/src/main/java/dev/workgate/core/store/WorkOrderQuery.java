package dev.workgate.core.store;

import dev.workgate.core.WorkOrderState;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A query over work-order views: by queue, by states, by submission time range, in submission order
 * (oldest first, or {@link Order#NEWEST_FIRST newest first}), a page at a time. Immutable; build
 * with {@link #builder()}.
 *
 * <p>Paging uses a cursor: pass {@link Page#nextCursor()} of one page to {@link
 * Builder#after(long)} of the next, with the same order. A cursor stays valid while work orders
 * change state.
 */
public final class WorkOrderQuery {
  /** The page size when none is given. */
  public static final int DEFAULT_LIMIT = 100;

  /** The largest page size a store must serve in one call. */
  public static final int MAX_LIMIT = 10_000;

  private final String queue;
  private final Set<WorkOrderState> states;
  private final Instant submittedFrom;
  private final Instant submittedBefore;
  private final long after;
  private final int limit;
  private final Order order;

  /** The order of results: by submission, which is also the order of their first events. */
  public enum Order {
    /** The earliest submitted first (the default). */
    OLDEST_FIRST,
    /** The latest submitted first: what an operator looking at a busy store wants to see. */
    NEWEST_FIRST
  }

  private WorkOrderQuery(Builder b) {
    this.queue = b.queue;
    this.states = b.states.isEmpty() ? Set.of() : Set.copyOf(b.states);
    this.submittedFrom = b.submittedFrom;
    this.submittedBefore = b.submittedBefore;
    this.after = b.after;
    this.limit = b.limit;
    this.order = b.order;
  }

  /**
   * A new builder; with nothing set, the query returns every work order.
   *
   * @return the builder (not thread-safe)
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The queue to match.
   *
   * @return the queue, or empty for all queues
   */
  public Optional<String> queue() {
    return Optional.ofNullable(queue);
  }

  /**
   * The states to match.
   *
   * @return the states; empty means all states
   */
  public Set<WorkOrderState> states() {
    return states;
  }

  /**
   * Inclusive lower bound of the submission time.
   *
   * @return the bound, or empty
   */
  public Optional<Instant> submittedFrom() {
    return Optional.ofNullable(submittedFrom);
  }

  /**
   * Exclusive upper bound of the submission time.
   *
   * @return the bound, or empty
   */
  public Optional<Instant> submittedBefore() {
    return Optional.ofNullable(submittedBefore);
  }

  /**
   * The cursor: results come after it, in this query's {@link #order()}.
   *
   * @return the cursor, 0 for the first page
   */
  public long after() {
    return after;
  }

  /**
   * The page size.
   *
   * @return between 1 and {@link #MAX_LIMIT}
   */
  public int limit() {
    return limit;
  }

  /**
   * The order of results.
   *
   * @return the order; {@link Order#OLDEST_FIRST} unless set
   */
  public Order order() {
    return order;
  }

  /**
   * Whether a state matches this query's state filter.
   *
   * @param state the state
   * @return true if the filter is empty or holds the state
   */
  public boolean matchesState(WorkOrderState state) {
    return states.isEmpty() || states.contains(state);
  }

  /**
   * Whether a submission time is within the time range.
   *
   * @param submittedAt the time
   * @return true if inside [from, before)
   */
  public boolean matchesTime(Instant submittedAt) {
    return (submittedFrom == null || !submittedAt.isBefore(submittedFrom))
        && (submittedBefore == null || submittedAt.isBefore(submittedBefore));
  }

  /** Builds a {@link WorkOrderQuery}; setters reject bad values. Not thread-safe. */
  public static final class Builder {
    private String queue;
    private final EnumSet<WorkOrderState> states = EnumSet.noneOf(WorkOrderState.class);
    private Instant submittedFrom;
    private Instant submittedBefore;
    private long after;
    private int limit = DEFAULT_LIMIT;
    private Order order = Order.OLDEST_FIRST;

    private Builder() {}

    /**
     * Only this queue.
     *
     * @param queue non-blank queue name
     * @return this builder
     */
    public Builder queue(String queue) {
      if (queue == null || queue.isBlank()) {
        throw new IllegalArgumentException("query queue must not be blank, got: " + queue);
      }
      this.queue = queue;
      return this;
    }

    /**
     * Only these states (adds to earlier calls).
     *
     * @param states the states
     * @return this builder
     */
    public Builder states(WorkOrderState... states) {
      for (WorkOrderState s : states) {
        if (s == null) {
          throw new IllegalArgumentException("query states must not contain null");
        }
        this.states.add(s);
      }
      return this;
    }

    /**
     * Only work orders submitted in [from, before).
     *
     * @param from inclusive lower bound, or null
     * @param before exclusive upper bound, or null
     * @return this builder
     */
    public Builder submittedBetween(Instant from, Instant before) {
      if (from != null && before != null && before.isBefore(from)) {
        throw new IllegalArgumentException(
            "query time range is empty: from " + from + " is after before " + before);
      }
      this.submittedFrom = from;
      this.submittedBefore = before;
      return this;
    }

    /**
     * The order of results; a cursor belongs to the order of the query that returned it.
     *
     * @param order the order
     * @return this builder
     */
    public Builder order(Order order) {
      if (order == null) {
        throw new IllegalArgumentException("query order must not be null");
      }
      this.order = order;
      return this;
    }

    /**
     * Results after this cursor, in the query's order.
     *
     * @param cursor a {@link Page#nextCursor()} of a query with the same order, or 0
     * @return this builder
     */
    public Builder after(long cursor) {
      if (cursor < 0) {
        throw new IllegalArgumentException("query cursor must not be negative, got " + cursor);
      }
      this.after = cursor;
      return this;
    }

    /**
     * The page size.
     *
     * @param limit between 1 and {@link #MAX_LIMIT}
     * @return this builder
     */
    public Builder limit(int limit) {
      if (limit < 1 || limit > MAX_LIMIT) {
        throw new IllegalArgumentException(
            "query limit must be between 1 and " + MAX_LIMIT + ", got " + limit);
      }
      this.limit = limit;
      return this;
    }

    /**
     * Builds the query.
     *
     * @return the immutable query
     */
    public WorkOrderQuery build() {
      return new WorkOrderQuery(this);
    }
  }

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
}
