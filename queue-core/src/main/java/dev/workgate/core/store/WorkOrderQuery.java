package dev.workgate.core.store;

import dev.workgate.core.BatchId;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Text;
import java.time.Instant;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A query over work-order views: by queue, states, submission time range, types, labels, the last
 * error's code and the work order resubmitted from, in submission order (oldest first, or {@link
 * Order#NEWEST_FIRST newest first}), a page at a time. Every filter given must match (AND); a
 * filter not given matches everything. {@link #matches(WorkOrderView)} is the definition of a match
 * that every store implements. Immutable and thread-safe; build with {@link #builder()}.
 *
 * <p>Paging uses a cursor: pass {@link Page#nextCursor()} of one page to {@link
 * Builder#after(long)} of the next, with the same filters and order. A cursor stays valid while
 * work orders change state.
 *
 * <p>The same filters select what {@link StoreView#count(WorkOrderQuery, CountBy)} counts; it
 * ignores the cursor, the limit and the order.
 *
 * <pre>{@code
 * WorkOrderQuery failedRenders = WorkOrderQuery.builder()
 *     .queue("renders")
 *     .states(WorkOrderState.FAILED)
 *     .types("render-video")
 *     .label("customer", "acme")
 *     .errorCode("TIMEOUT")
 *     .order(WorkOrderQuery.Order.NEWEST_FIRST)
 *     .limit(50)
 *     .build();
 * Page<WorkOrderView> page = store.query(failedRenders);
 * SortedMap<String, Long> byType = store.count(failedRenders, WorkOrderQuery.CountBy.TYPE);
 * }</pre>
 */
public final class WorkOrderQuery {
  /** The page size when none is given. */
  public static final int DEFAULT_LIMIT = 100;

  /** The largest page size a store must serve in one call. */
  public static final int MAX_LIMIT = 10_000;

  /**
   * The most types a query may name: each is a parameter of the statement a store runs, and an
   * operator's filter names a few.
   */
  public static final int MAX_TYPES = 100;

  /**
   * The most labels a query may name: a spec holds at most {@link Text#MAX_LABELS}, so a query
   * naming more distinct keys could match no work order written with the limit.
   */
  public static final int MAX_LABELS = Text.MAX_LABELS;

  private final String queue;
  private final Set<WorkOrderState> states;
  private final Instant submittedFrom;
  private final Instant submittedBefore;
  private final Set<String> types;
  private final Map<String, String> labels;
  private final String errorCode;
  private final WorkOrderId resubmittedFrom;
  private final BatchId batch;
  private final boolean notResubmitted;
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

  /**
   * What {@link StoreView#count(WorkOrderQuery, CountBy)} groups work orders by. The group of a
   * view is {@link #keyOf(WorkOrderView)}.
   */
  public enum CountBy {
    /**
     * By state, keyed by {@link WorkOrderState#name()}; the counts always hold all states, those
     * without work orders at 0.
     */
    STATE,
    /** By queue. */
    QUEUE,
    /** By the spec's type. */
    TYPE,
    /**
     * By the code of the last error ({@link WorkOrderView#lastError()}); work orders without one
     * are not counted.
     */
    ERROR_CODE;

    /**
     * The group a view is counted in.
     *
     * @param view the view
     * @return the key: the state's name, the queue, the type or the last error's code; empty for
     *     {@link #ERROR_CODE} when the view has no last error
     * @throws NullPointerException if the view is null
     */
    public Optional<String> keyOf(WorkOrderView view) {
      Objects.requireNonNull(view, "view");
      return switch (this) {
        case STATE -> Optional.of(view.state().name());
        case QUEUE -> Optional.of(view.queue());
        case TYPE -> Optional.of(view.type());
        case ERROR_CODE -> view.lastError().map(ErrorInfo::code);
      };
    }
  }

  private WorkOrderQuery(Builder b) {
    this.queue = b.queue;
    this.states = b.states.isEmpty() ? Set.of() : Set.copyOf(b.states);
    this.submittedFrom = b.submittedFrom;
    this.submittedBefore = b.submittedBefore;
    this.types = Set.copyOf(b.types);
    this.labels = Map.copyOf(b.labels);
    this.errorCode = b.errorCode;
    this.resubmittedFrom = b.resubmittedFrom;
    this.batch = b.batch;
    this.notResubmitted = b.notResubmitted;
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
   * The types to match: a work order matches when its spec's type is one of them.
   *
   * @return an unmodifiable set; empty means every type
   */
  public Set<String> types() {
    return types;
  }

  /**
   * The labels to match: a work order matches when its spec has every one of them, each with
   * exactly this value (other labels do not matter).
   *
   * @return an unmodifiable map of key to value; empty means any labels
   */
  public Map<String, String> labels() {
    return labels;
  }

  /**
   * The code the last error must have: a work order matches when {@link WorkOrderView#lastError()}
   * is present with this code: the error of its latest failed attempt, release or cancellation,
   * whatever its state now (a work order that failed with {@code TIMEOUT} and then completed still
   * has it).
   *
   * @return the code, or empty for any work order, with or without an error
   */
  public Optional<String> errorCode() {
    return Optional.ofNullable(errorCode);
  }

  /**
   * The work order the matching ones were resubmitted from ({@link
   * WorkOrderView#resubmittedFrom()}).
   *
   * @return the id, or empty for any work order, resubmitted or not
   */
  public Optional<WorkOrderId> resubmittedFrom() {
    return Optional.ofNullable(resubmittedFrom);
  }

  /**
   * The batch the matching work orders belong to ({@link WorkOrderView#batch()}).
   *
   * @return the batch, or empty for any work order, in a batch or not
   */
  public Optional<BatchId> batch() {
    return Optional.ofNullable(batch);
  }

  /**
   * Whether only work orders that no work order in the store was resubmitted from match: the
   * failures not yet handled. It depends on other work orders, so {@link #matches(WorkOrderView)}
   * does not apply it; {@link #matches(WorkOrderView, Predicate)} does.
   *
   * @return true if set
   */
  public boolean notResubmitted() {
    return notResubmitted;
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

  /**
   * Whether a view matches every filter of this query, {@link #notResubmitted()} included.
   *
   * @param view the view
   * @param hasResubmission whether some work order in the store was resubmitted from an id
   * @return true if it matches; {@link StoreView#query} returns exactly the matching views, and
   *     {@link StoreView#count} counts them
   * @throws NullPointerException if an argument is null
   */
  public boolean matches(WorkOrderView view, Predicate<WorkOrderId> hasResubmission) {
    Objects.requireNonNull(hasResubmission, "hasResubmission");
    return matches(view) && !(notResubmitted && hasResubmission.test(view.id()));
  }

  /**
   * Whether a view matches every filter of this query that the view alone decides: queue, states,
   * submission time range, types, labels, error code and resubmitted-from; not {@link
   * #notResubmitted()}. The cursor, the limit and the order play no part. Without {@code
   * notResubmitted}, {@link StoreView#query} returns exactly the matching views, and {@link
   * StoreView#count} counts them.
   *
   * <p>Times compare at the precision the store keeps: a view read from a store that keeps
   * microseconds has its times in microseconds.
   *
   * @param view the view
   * @return true if it matches
   * @throws NullPointerException if the view is null
   */
  public boolean matches(WorkOrderView view) {
    Objects.requireNonNull(view, "view");
    if ((queue != null && !queue.equals(view.queue()))
        || !matchesState(view.state())
        || !matchesTime(view.submittedAt())
        || (!types.isEmpty() && !types.contains(view.type()))
        || (errorCode != null
            && !view.lastError().map(e -> e.code().equals(errorCode)).orElse(false))
        || (resubmittedFrom != null
            && !view.resubmittedFrom().map(resubmittedFrom::equals).orElse(false))
        || (batch != null && !view.batch().map(batch::equals).orElse(false))) {
      return false;
    }
    if (!labels.isEmpty()) {
      Map<String, String> have = view.labels();
      for (Map.Entry<String, String> label : labels.entrySet()) {
        if (!label.getValue().equals(have.get(label.getKey()))) {
          return false;
        }
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "WorkOrderQuery[queue="
        + queue
        + ", states="
        + states
        + ", submittedFrom="
        + submittedFrom
        + ", submittedBefore="
        + submittedBefore
        + ", types="
        + types
        + ", labels="
        + labels
        + ", errorCode="
        + errorCode
        + ", resubmittedFrom="
        + resubmittedFrom
        + (batch == null ? "" : ", batch=" + batch)
        + ", notResubmitted="
        + notResubmitted
        + ", after="
        + after
        + ", limit="
        + limit
        + ", order="
        + order
        + "]";
  }

  /** Builds a {@link WorkOrderQuery}; setters reject bad values. Not thread-safe. */
  public static final class Builder {
    private String queue;
    private final EnumSet<WorkOrderState> states = EnumSet.noneOf(WorkOrderState.class);
    private Instant submittedFrom;
    private Instant submittedBefore;
    private final Set<String> types = new LinkedHashSet<>();
    private final Map<String, String> labels = new LinkedHashMap<>();
    private String errorCode;
    private WorkOrderId resubmittedFrom;
    private BatchId batch;
    private boolean notResubmitted;
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
     * Only work orders of these types (adds to earlier calls; no call means every type).
     *
     * @param types type names, each following the name rule of {@link Text#requireName}
     * @return this builder
     * @throws IllegalArgumentException if the array is null, a type is null, blank or breaks the
     *     name rule (the message names it), or the query would name more than {@link #MAX_TYPES}
     *     types; nothing is added then
     */
    public Builder types(String... types) {
      if (types == null) {
        throw new IllegalArgumentException("query types must not be null");
      }
      Set<String> all = new LinkedHashSet<>(this.types);
      for (String type : types) {
        all.add(Text.requireName(type, "query type"));
      }
      if (all.size() > MAX_TYPES) {
        throw new IllegalArgumentException(
            "a query may name at most " + MAX_TYPES + " types, got " + all.size());
      }
      this.types.clear();
      this.types.addAll(all);
      return this;
    }

    /**
     * Only work orders whose spec has this label with exactly this value (adds to earlier calls:
     * every label given must match).
     *
     * <p>The value is compared as stores keep it: NUL and unpaired surrogates become U+FFFD, as in
     * {@link dev.workgate.core.WorkOrderSpec.Builder#label}. An empty value is a value like any
     * other, since a spec may carry one.
     *
     * @param key the label key, following the name rule of {@link Text#requireName}
     * @param value the value, not null, at most {@link Text#MAX_LABEL_VALUE_LENGTH} chars
     * @return this builder
     * @throws IllegalArgumentException if the key is null, blank or breaks the name rule, the value
     *     is null or too long, the key was already given with another value (no work order has
     *     both), or the query would name more than {@link #MAX_LABELS} labels; the message names
     *     the key and the builder is unchanged
     */
    public Builder label(String key, String value) {
      Text.requireName(key, "query label key");
      if (value == null) {
        throw new IllegalArgumentException("query label '" + key + "' value must not be null");
      }
      String stored =
          Text.requireFreeText(
              value, "query label '" + key + "' value", Text.MAX_LABEL_VALUE_LENGTH);
      String earlier = labels.get(key);
      if (earlier != null && !earlier.equals(stored)) {
        throw new IllegalArgumentException(
            "query label '"
                + key
                + "' was already given the value '"
                + earlier
                + "'; no work order also has the value '"
                + stored
                + "'");
      }
      if (earlier == null && labels.size() == MAX_LABELS) {
        throw new IllegalArgumentException(
            "a query may name at most " + MAX_LABELS + " labels, got one more: '" + key + "'");
      }
      labels.put(key, stored);
      return this;
    }

    /**
     * Only work orders whose last error has this code (replaces an earlier call).
     *
     * @param code the error code, following the name rule of {@link Text#requireName}, e.g. {@code
     *     TIMEOUT}
     * @return this builder
     * @throws IllegalArgumentException if the code is null, blank or breaks the name rule
     */
    public Builder errorCode(String code) {
      this.errorCode = Text.requireName(code, "query errorCode");
      return this;
    }

    /**
     * Only work orders resubmitted from this one (replaces an earlier call).
     *
     * @param id the failed or cancelled work order they were resubmitted from
     * @return this builder
     * @throws IllegalArgumentException if the id is null
     */
    public Builder resubmittedFrom(WorkOrderId id) {
      if (id == null) {
        throw new IllegalArgumentException("query resubmittedFrom must not be null");
      }
      this.resubmittedFrom = id;
      return this;
    }

    /**
     * Only work orders of this batch (replaces an earlier call).
     *
     * @param batch the batch
     * @return this builder
     * @throws IllegalArgumentException if the batch is null
     */
    public Builder batch(BatchId batch) {
      if (batch == null) {
        throw new IllegalArgumentException("query batch must not be null");
      }
      this.batch = batch;
      return this;
    }

    /**
     * Only work orders that no work order in the store was resubmitted from (by {@code
     * WorkgateClient.resubmit} or {@code resubmitOnce}): the failures nobody has handled yet. Once
     * a resubmission is deleted by retention, its original matches again.
     *
     * @return this builder
     */
    public Builder notResubmitted() {
      this.notResubmitted = true;
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
