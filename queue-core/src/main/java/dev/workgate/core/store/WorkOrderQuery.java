package dev.workgate.core.store;

import dev.workgate.core.WorkOrderState;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * A query over work-order views: by queue, by states, by submission time range, in submission
 * order, a page at a time. Immutable; build with {@link #builder()}.
 *
 * <p>Paging uses a cursor: pass {@link Page#nextCursor()} of one page to {@link
 * Builder#after(long)} of the next. A cursor stays valid while work orders change state.
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

  private WorkOrderQuery(Builder b) {
    this.queue = b.queue;
    this.states = b.states.isEmpty() ? Set.of() : Set.copyOf(b.states);
    this.submittedFrom = b.submittedFrom;
    this.submittedBefore = b.submittedBefore;
    this.after = b.after;
    this.limit = b.limit;
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
   * The cursor: results come after it.
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
     * Results after this cursor.
     *
     * @param cursor a {@link Page#nextCursor()}, or 0
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
}
