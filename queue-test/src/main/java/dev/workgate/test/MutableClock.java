package dev.workgate.test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link Clock} that a test sets and advances by hand: code under test sees time move only when
 * the test says so, and no test has to sleep. Give it to the code under test (a store, a {@link
 * ManualWorkgate}) in place of the system clock.
 *
 * <pre>{@code
 * MutableClock clock = new MutableClock(Instant.parse("2025-01-01T00:00:00Z"));
 * WorkOrderStore store = Stores.inMemory(clock);
 * clock.advance(Duration.ofSeconds(30));
 * }</pre>
 *
 * <p>{@link #advance} only moves forward and refuses a negative duration: time that runs back would
 * let a timer fire twice or a retry run before its delay, which no real clock that a node relies on
 * does. {@link #set} may move the time either way, for tests of clock skew; a timer never fires
 * before its time, so moving back only puts off what has not fired.
 *
 * <p>Thread-safe: the time is one atomic reference. Clocks made by {@link #withZone} share it, so
 * moving one moves all of them. Time never moves by itself. A {@link ManualWorkgate} built on this
 * clock fires the timers that became due (attempt timeouts) on the thread that moved the clock,
 * before {@code advance} or {@code set} returns.
 *
 * <p>The project's own tests use a copy in queue-core's test jar ({@code
 * dev.workgate.core.testing.MutableClock}), since queue-core cannot depend on this module.
 */
public final class MutableClock extends Clock {

  /**
   * The time {@link #MutableClock()} starts at: a whole second, so that stores that keep
   * microseconds or milliseconds round-trip it exactly.
   */
  public static final Instant DEFAULT_START = Instant.parse("2025-01-01T00:00:00Z");

  private final State state;
  private final ZoneId zone;

  /** The time and listeners that a clock and its {@link #withZone} copies share. */
  private static final class State {
    final AtomicReference<Instant> now;
    final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    State(Instant start) {
      this.now = new AtomicReference<>(start);
    }
  }

  /** A clock in UTC at {@link #DEFAULT_START}. */
  public MutableClock() {
    this(DEFAULT_START);
  }

  /**
   * A clock in UTC at the given time.
   *
   * @param start the initial time
   * @throws NullPointerException if {@code start} is null
   */
  public MutableClock(Instant start) {
    this(new State(Objects.requireNonNull(start, "start must not be null")), ZoneOffset.UTC);
  }

  private MutableClock(State state, ZoneId zone) {
    this.state = state;
    this.zone = zone;
  }

  @Override
  public Instant instant() {
    return state.now.get();
  }

  @Override
  public long millis() {
    return state.now.get().toEpochMilli();
  }

  @Override
  public ZoneId getZone() {
    return zone;
  }

  /**
   * A clock in another zone that shares this clock's time: moving either moves both.
   *
   * @param zone the zone
   * @return the clock
   * @throws NullPointerException if {@code zone} is null
   */
  @Override
  public MutableClock withZone(ZoneId zone) {
    return new MutableClock(state, Objects.requireNonNull(zone, "zone must not be null"));
  }

  /**
   * Moves the time forward, then fires what became due on the nodes built on this clock.
   *
   * @param by how far; zero is allowed and fires what is due now
   * @throws NullPointerException if {@code by} is null
   * @throws IllegalArgumentException if {@code by} is negative (use {@link #set} to go back)
   */
  public void advance(Duration by) {
    Objects.requireNonNull(by, "advance: by must not be null");
    if (by.isNegative()) {
      throw new IllegalArgumentException(
          "advance: by must not be negative, got " + by + "; use set(Instant) to move time back");
    }
    state.now.updateAndGet(t -> t.plus(by));
    changed();
  }

  /**
   * Sets the time, forward or back, then fires what became due on the nodes built on this clock.
   *
   * @param instant the new time
   * @throws NullPointerException if {@code instant} is null
   */
  public void set(Instant instant) {
    state.now.set(Objects.requireNonNull(instant, "set: instant must not be null"));
    changed();
  }

  /** Called, on the thread that moves the time, after each change; for {@link ManualWorkgate}. */
  void onChange(Runnable listener) {
    state.listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  void removeOnChange(Runnable listener) {
    state.listeners.remove(listener);
  }

  private void changed() {
    for (Runnable l : state.listeners) {
      l.run();
    }
  }

  @Override
  public String toString() {
    return "MutableClock[" + state.now.get() + ", " + zone + "]";
  }
}
