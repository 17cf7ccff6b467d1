package dev.workgate.core.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link Clock} that tests set and advance by hand, so that code under test sees time move only
 * when the test says so and no test has to sleep.
 *
 * <p>Thread-safe: the time is one atomic reference. Clocks made by {@link #withZone} share it, so
 * advancing one advances all of them. Time never moves by itself.
 *
 * <p>The project's own tests use this one; the published one, for users' tests, is {@code
 * dev.workgate.test.MutableClock} in queue-test, which queue-core's tests cannot depend on without
 * a module cycle. Unlike that one, this clock's {@link #advance} also moves back.
 *
 * <pre>{@code
 * MutableClock clock = MutableClock.startingAt(Instant.parse("2025-01-01T00:00:00Z"));
 * WorkOrderStore store = Stores.inMemory(clock);
 * clock.advance(Duration.ofSeconds(30));
 * }</pre>
 */
public final class MutableClock extends Clock {

  /**
   * The time a clock made by {@link #create()} starts at: a whole second, so that stores that keep
   * microseconds or milliseconds round-trip it exactly.
   */
  public static final Instant DEFAULT_START = Instant.parse("2025-01-01T00:00:00Z");

  private final AtomicReference<Instant> now;
  private final ZoneId zone;

  private MutableClock(AtomicReference<Instant> now, ZoneId zone) {
    this.now = now;
    this.zone = zone;
  }

  /**
   * A clock in UTC at {@link #DEFAULT_START}.
   *
   * @return the clock
   */
  public static MutableClock create() {
    return startingAt(DEFAULT_START);
  }

  /**
   * A clock in UTC at the given time.
   *
   * @param start the initial time
   * @return the clock
   */
  public static MutableClock startingAt(Instant start) {
    return new MutableClock(
        new AtomicReference<>(Objects.requireNonNull(start, "start")), ZoneOffset.UTC);
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  @Override
  public long millis() {
    return now.get().toEpochMilli();
  }

  @Override
  public ZoneId getZone() {
    return zone;
  }

  /**
   * A clock in another zone that shares this clock's time.
   *
   * @param zone the zone
   * @return the clock
   */
  @Override
  public MutableClock withZone(ZoneId zone) {
    return new MutableClock(now, Objects.requireNonNull(zone, "zone"));
  }

  /**
   * Moves the time forward (or back, for a negative duration).
   *
   * @param duration how far
   * @return the new time
   */
  public Instant advance(Duration duration) {
    Objects.requireNonNull(duration, "duration");
    return now.updateAndGet(t -> t.plus(duration));
  }

  /**
   * Sets the time.
   *
   * @param instant the new time
   */
  public void set(Instant instant) {
    now.set(Objects.requireNonNull(instant, "instant"));
  }

  @Override
  public String toString() {
    return "MutableClock[" + now.get() + ", " + zone + "]";
  }
}
