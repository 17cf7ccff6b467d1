package dev.workgate.core.store;

import dev.workgate.core.WorkOrderState;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * How many work orders each queue has in each state: what {@link StoreView#counts()} returns, and
 * the one place where a queue's depth ({@code PENDING} plus {@code WAITING_RETRY}) is summed.
 *
 * <p>It lives beside the store SPI because stores build it and every reader of counts (the node's
 * stats, the scheduler, health, metrics, the endpoint and the admin CLI) receives it from a store.
 *
 * <p>Every queue it holds has every state, a state the source did not mention counting 0; a queue
 * it does not hold counts 0 in every state. Two instances are equal when they hold the same queues
 * with the same counts.
 *
 * <p>Immutable and thread-safe; no method returns or accepts {@code null}.
 *
 * <pre>{@code
 * QueueCounts counts = store.counts();
 * long backlog = counts.depth("renders");       // PENDING + WAITING_RETRY
 * long failed = counts.count("renders", WorkOrderState.FAILED);
 * }</pre>
 */
public final class QueueCounts {

  private static final Map<WorkOrderState, Long> ZEROS = zeros();

  private static final QueueCounts EMPTY = new QueueCounts(Collections.emptySortedMap());

  private final SortedMap<String, Map<WorkOrderState, Long>> byQueue;
  private final SortedSet<String> queues;

  private QueueCounts(SortedMap<String, Map<WorkOrderState, Long>> byQueue) {
    this.byQueue = byQueue;
    this.queues = Collections.unmodifiableSortedSet(new TreeSet<>(byQueue.keySet()));
  }

  /**
   * No queues.
   *
   * @return the empty counts
   */
  public static QueueCounts empty() {
    return EMPTY;
  }

  /**
   * Counts copied from queue → state → count. Later changes to the argument do not show.
   *
   * @param countsByQueue the counts; a queue may leave out states, which then count 0
   * @return the counts
   * @throws NullPointerException if the map, a queue name, a queue's map, a state or a count is
   *     null; the message names which
   * @throws IllegalArgumentException if a count is negative; the message names queue, state and
   *     count
   */
  public static QueueCounts of(Map<String, ? extends Map<WorkOrderState, Long>> countsByQueue) {
    Objects.requireNonNull(countsByQueue, "countsByQueue");
    if (countsByQueue.isEmpty()) {
      return EMPTY;
    }
    TreeMap<String, Map<WorkOrderState, Long>> copy = new TreeMap<>();
    for (Map.Entry<String, ? extends Map<WorkOrderState, Long>> q : countsByQueue.entrySet()) {
      String queue = Objects.requireNonNull(q.getKey(), "a queue name is null");
      Map<WorkOrderState, Long> source =
          Objects.requireNonNull(
              q.getValue(), () -> "the counts of queue '" + queue + "' are null");
      EnumMap<WorkOrderState, Long> byState = new EnumMap<>(ZEROS);
      for (Map.Entry<WorkOrderState, Long> s : source.entrySet()) {
        WorkOrderState state =
            Objects.requireNonNull(s.getKey(), () -> "a state of queue '" + queue + "' is null");
        Long count =
            Objects.requireNonNull(
                s.getValue(),
                () -> "the count of queue '" + queue + "', state " + state + " is null");
        if (count < 0) {
          throw negative(queue, state, count);
        }
        byState.put(state, count);
      }
      copy.put(queue, Collections.unmodifiableMap(byState));
    }
    return new QueueCounts(Collections.unmodifiableSortedMap(copy));
  }

  /**
   * A builder that sums counts, for stores and readers that count row by row.
   *
   * @return an empty builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Sums counts by queue and state into a {@link QueueCounts}. Not thread-safe; use it on one
   * thread and build once or many times (each build copies).
   */
  public static final class Builder {
    private final Map<String, EnumMap<WorkOrderState, Long>> byQueue = new TreeMap<>();

    private Builder() {}

    /**
     * Adds to a queue's count in a state; the queue is held from then on, even with a count of 0.
     *
     * @param queue the queue
     * @param state the state
     * @param count how many to add
     * @return this builder
     * @throws NullPointerException if the queue or state is null
     * @throws IllegalArgumentException if the count is negative; the message names queue, state and
     *     count
     */
    public Builder add(String queue, WorkOrderState state, long count) {
      Objects.requireNonNull(queue, "queue");
      Objects.requireNonNull(state, "state");
      if (count < 0) {
        throw negative(queue, state, count);
      }
      byQueue.computeIfAbsent(queue, q -> new EnumMap<>(ZEROS)).merge(state, count, Math::addExact);
      return this;
    }

    /**
     * The counts added so far.
     *
     * @return the counts
     */
    public QueueCounts build() {
      return of(byQueue);
    }
  }

  /**
   * Work orders of a queue in a state.
   *
   * @param queue the queue
   * @param state the state
   * @return the count, 0 if the queue is absent
   */
  public long count(String queue, WorkOrderState state) {
    return byState(queue).get(Objects.requireNonNull(state, "state"));
  }

  /**
   * Work orders in a state, over all queues.
   *
   * @param state the state
   * @return the sum
   */
  public long count(WorkOrderState state) {
    Objects.requireNonNull(state, "state");
    long n = 0;
    for (Map<WorkOrderState, Long> byState : byQueue.values()) {
      n += byState.get(state);
    }
    return n;
  }

  /**
   * A queue's depth: its work orders waiting to run, {@code PENDING} plus {@code WAITING_RETRY}.
   * This is what {@code maxQueueDepth} limits and what the scheduler's stats and the health check
   * call the queue depth.
   *
   * @param queue the queue
   * @return the depth, 0 if the queue is absent
   */
  public long depth(String queue) {
    Map<WorkOrderState, Long> byState = byState(queue);
    return byState.get(WorkOrderState.PENDING) + byState.get(WorkOrderState.WAITING_RETRY);
  }

  /**
   * A queue's work orders held by a node: {@code PREPARING} plus {@code RUNNING}.
   *
   * @param queue the queue
   * @return the count, 0 if the queue is absent
   */
  public long active(String queue) {
    Map<WorkOrderState, Long> byState = byState(queue);
    return byState.get(WorkOrderState.PREPARING) + byState.get(WorkOrderState.RUNNING);
  }

  /**
   * A queue's work orders in any state.
   *
   * @param queue the queue
   * @return the total, 0 if the queue is absent
   */
  public long total(String queue) {
    long n = 0;
    for (long c : byState(queue).values()) {
      n += c;
    }
    return n;
  }

  /**
   * Work orders in any state, over all queues.
   *
   * @return the total
   */
  public long total() {
    long n = 0;
    for (String queue : byQueue.keySet()) {
      n += total(queue);
    }
    return n;
  }

  /**
   * The queues held, sorted by name.
   *
   * @return an unmodifiable sorted set
   */
  public SortedSet<String> queues() {
    return queues;
  }

  /**
   * Whether no queue is held.
   *
   * @return true if {@link #queues()} is empty
   */
  public boolean isEmpty() {
    return byQueue.isEmpty();
  }

  /**
   * A queue's counts by state, every state present (in declaration order), all 0 for an absent
   * queue.
   *
   * @param queue the queue
   * @return an unmodifiable map backed by an {@link EnumMap}
   */
  public Map<WorkOrderState, Long> byState(String queue) {
    return byQueue.getOrDefault(Objects.requireNonNull(queue, "queue"), ZEROS);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof QueueCounts other && byQueue.equals(other.byQueue);
  }

  @Override
  public int hashCode() {
    return byQueue.hashCode();
  }

  /** Queue → state → count, queues sorted, states in declaration order. */
  @Override
  public String toString() {
    return "QueueCounts" + byQueue;
  }

  private static IllegalArgumentException negative(String queue, WorkOrderState state, long count) {
    return new IllegalArgumentException(
        "the count of queue '"
            + queue
            + "', state "
            + state
            + " is negative: "
            + count
            + "; counts are 0 or more");
  }

  private static Map<WorkOrderState, Long> zeros() {
    EnumMap<WorkOrderState, Long> m = new EnumMap<>(WorkOrderState.class);
    for (WorkOrderState s : WorkOrderState.values()) {
      m.put(s, 0L);
    }
    return Collections.unmodifiableMap(m);
  }
}
