package dev.workgate.spi;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.IdempotencyKeyConflictException;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.WorkOrderStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The staging of one {@link WorkOrderStore#appendAll} batch, for store implementations (SPI):
 * checks every request against its stream's current version, folds each event into the work order
 * it gives, and checks idempotency keys against those already held and those earlier in the batch.
 * It throws before anything is written, so a store that stages first and writes after appends all
 * or nothing; every store that uses it refuses the same input with the same exception, which the
 * store conformance suite checks.
 *
 * <p>Use, under the store's write lock or in its write transaction:
 *
 * <pre>{@code
 * AppendStaging<Row> staging =
 *     AppendStaging.stage(requests, now, rows::get, Row::view, keys::get);
 * List<RecordedEvent> recorded = staging.record(nextPositions(staging.events().size()));
 * for (AppendStaging.Stream<Row> s : staging.streams()) {
 *   write(s.handle(), s.current(), s.recorded());
 * }
 * keys.putAll(staging.newKeys());
 * }</pre>
 *
 * <p>Not thread-safe: one instance stages one append, on the thread that writes it.
 *
 * @param <H> what the store knows of a stream before the append (its row, its entry); null for a
 *     new work order
 */
public final class AppendStaging<H> {
  private final Instant now;
  private final Map<WorkOrderId, Stream<H>> streams = new LinkedHashMap<>();
  private final Map<String, WorkOrderId> newKeys = new HashMap<>();
  private final List<Event> events = new ArrayList<>();

  /** An event of the append, with its version, before it has a log position. */
  public record Event(WorkOrderId workOrderId, long version, WorkOrderEvent event) {}

  /**
   * A stream as it will be after the append.
   *
   * @param <H> what the store knows of the stream before the append
   */
  public static final class Stream<H> {
    private final H handle;
    private final WorkOrder before;
    private WorkOrder current;
    private final List<Integer> events = new ArrayList<>(2);
    private final List<RecordedEvent> recorded = new ArrayList<>(2);

    private Stream(H handle, WorkOrder before) {
      this.handle = handle;
      this.before = before;
      this.current = before;
    }

    /**
     * What the store knows of the stream before the append.
     *
     * @return the store's handle, or null for a new work order
     */
    public H handle() {
      return handle;
    }

    /**
     * The work order before the append.
     *
     * @return the work order, or null for a new one
     */
    public WorkOrder before() {
      return before;
    }

    /**
     * The work order after the append.
     *
     * @return the work order
     */
    public WorkOrder current() {
      return current;
    }

    /**
     * The stream's events, once {@link AppendStaging#record} has given them positions.
     *
     * @return the recorded events of this stream, in version order
     */
    public List<RecordedEvent> recorded() {
      return Collections.unmodifiableList(recorded);
    }
  }

  private AppendStaging(Instant now) {
    this.now = now;
  }

  /**
   * Stages a batch: for each request in order, checks the expected version, then for each event
   * folds it into the work order and checks a Submitted event's idempotency key.
   *
   * @param requests the batch, in order
   * @param now the time the events are recorded at
   * @param load what the store holds of a work order, or null if it holds none; called once per
   *     work order, when the batch first names it
   * @param viewOf the work order a non-null handle holds
   * @param keyHolder the work order that already holds an idempotency key, or null
   * @param <H> what the store knows of a stream
   * @return the staged batch
   * @throws ConcurrencyException if a request's expected version does not match
   * @throws InvalidTransitionException if an event is not valid in the state it meets
   * @throws IdempotencyKeyConflictException if a Submitted event's key is held already, or by an
   *     earlier work order of the batch
   */
  public static <H> AppendStaging<H> stage(
      List<AppendRequest> requests,
      Instant now,
      Function<WorkOrderId, H> load,
      Function<H, WorkOrder> viewOf,
      Function<String, WorkOrderId> keyHolder) {
    Objects.requireNonNull(requests, "requests");
    Objects.requireNonNull(now, "now");
    AppendStaging<H> staging = new AppendStaging<>(now);
    for (AppendRequest request : requests) {
      WorkOrderId id = request.workOrderId();
      Stream<H> s =
          staging.streams.computeIfAbsent(
              id,
              k -> {
                H handle = load.apply(k);
                return new Stream<>(handle, handle == null ? null : viewOf.apply(handle));
              });
      long actual = s.current == null ? 0 : s.current.version();
      if (!request.expected().matches(actual)) {
        throw new ConcurrencyException(id, request.expected().toString(), actual);
      }
      for (WorkOrderEvent event : request.events()) {
        long version = actual + 1;
        s.current =
            s.current == null
                ? WorkOrder.start(id, event, version, now)
                : s.current.apply(event, version, now);
        if (event instanceof WorkOrderEvent.Submitted submitted) {
          String key = submitted.spec().idempotencyKey().orElse(null);
          if (key != null) {
            WorkOrderId holder = keyHolder.apply(key);
            if (holder == null) {
              holder = staging.newKeys.get(key);
            }
            if (holder != null) {
              throw new IdempotencyKeyConflictException(key, holder);
            }
            staging.newKeys.put(key, id);
          }
        }
        s.events.add(staging.events.size());
        staging.events.add(new Event(id, version, event));
        actual = version;
      }
    }
    return staging;
  }

  /**
   * The batch's events in append order, which is the order of their log positions.
   *
   * @return the events
   */
  public List<Event> events() {
    return Collections.unmodifiableList(events);
  }

  /**
   * The streams the batch changes, in the order the batch first names them.
   *
   * @return the streams
   */
  public Collection<Stream<H>> streams() {
    return Collections.unmodifiableCollection(streams.values());
  }

  /**
   * The idempotency keys the batch's new work orders take.
   *
   * @return key to work order
   */
  public Map<String, WorkOrderId> newKeys() {
    return Collections.unmodifiableMap(newKeys);
  }

  /**
   * Gives the events their log positions, and each stream its {@link Stream#recorded()} events.
   * Call once.
   *
   * @param positions a position per event of {@link #events()}, in that order
   * @return the recorded events, in append order
   * @throws IllegalArgumentException if there is not one position per event
   * @throws IllegalStateException if called before
   */
  public List<RecordedEvent> record(long[] positions) {
    if (positions.length != events.size()) {
      throw new IllegalArgumentException(
          "expected " + events.size() + " positions, got " + positions.length);
    }
    List<RecordedEvent> out = new ArrayList<>(events.size());
    for (int i = 0; i < events.size(); i++) {
      Event e = events.get(i);
      out.add(new RecordedEvent(positions[i], e.workOrderId(), e.version(), now, e.event()));
    }
    for (Stream<H> s : streams.values()) {
      if (!s.recorded.isEmpty()) {
        throw new IllegalStateException("the append was recorded already");
      }
      for (int i : s.events) {
        s.recorded.add(out.get(i));
      }
    }
    return out;
  }
}
