package dev.workgate.core.store;

import static dev.workgate.core.testing.WorkOrderFixtures.started;
import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderId;
import java.time.Instant;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Cursors of {@link EventQuery} for any recorded time and position. */
class EventQueryProperties {

  @Property(tries = 2000)
  void a_cursor_round_trips_its_event_place_and_is_url_safe(@ForAll("events") RecordedEvent e) {
    String cursor = EventQuery.cursorOf(e);

    EventQuery q = EventQuery.builder().after(cursor).build();

    assertThat(cursor).matches("[A-Za-z0-9._~-]+");
    assertThat(q.afterRecordedAt()).contains(e.recordedAt());
    assertThat(q.afterPosition()).hasValue(e.position());
  }

  @Property(tries = 2000)
  void after_a_cursor_exactly_the_events_behind_it_in_the_order_match(
      @ForAll("events") RecordedEvent cursorEvent,
      @ForAll("events") RecordedEvent e,
      @ForAll EventQuery.Order order) {
    EventQuery q =
        EventQuery.builder().order(order).after(EventQuery.cursorOf(cursorEvent)).build();

    assertThat(q.matches(e)).isEqualTo(q.comparator().compare(e, cursorEvent) > 0);
  }

  @Provide
  Arbitrary<RecordedEvent> events() {
    // Few distinct seconds and positions, so that ties on one or both are common.
    Arbitrary<Instant> times =
        Arbitraries.oneOf(
            Arbitraries.longs()
                .between(Instant.MIN.getEpochSecond(), Instant.MAX.getEpochSecond())
                .map(Instant::ofEpochSecond),
            Combinators.combine(
                    Arbitraries.longs().between(-2, 2), Arbitraries.integers().between(0, 2))
                .as((s, n) -> Instant.ofEpochSecond(s, n * 499_999_999L)),
            Combinators.combine(
                    Arbitraries.longs().between(-4_000_000_000L, 4_000_000_000L),
                    Arbitraries.integers().between(0, 999_999_999))
                .as(Instant::ofEpochSecond));
    Arbitrary<Long> positions =
        Arbitraries.oneOf(
            Arbitraries.longs().between(1, 4), Arbitraries.longs().between(1, Long.MAX_VALUE));
    return Combinators.combine(times, positions)
        .as((t, p) -> new RecordedEvent(p, WorkOrderId.of("wo-1"), 1, t, started()));
  }
}
