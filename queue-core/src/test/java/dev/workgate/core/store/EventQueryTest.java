package dev.workgate.core.store;

import static dev.workgate.core.testing.WorkOrderFixtures.cancelled;
import static dev.workgate.core.testing.WorkOrderFixtures.started;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.EventQuery.EventPage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link EventQuery} and {@link EventPage}: defaults, argument checks, cursors and matching. */
class EventQueryTest {
  private static final Instant T = Instant.parse("2025-01-01T00:00:00Z");
  private static final WorkOrderId A = WorkOrderId.of("wo-a");
  private static final WorkOrderId B = WorkOrderId.of("wo-b");

  @Test
  void defaults_are_every_event_newest_first_a_default_page_without_cursor() {
    EventQuery q = EventQuery.builder().build();

    assertThat(q.workOrder()).isEmpty();
    assertThat(q.types()).isEmpty();
    assertThat(q.from()).isEmpty();
    assertThat(q.to()).isEmpty();
    assertThat(q.order()).isEqualTo(EventQuery.Order.NEWEST_FIRST);
    assertThat(q.limit()).isEqualTo(EventQuery.DEFAULT_LIMIT).isEqualTo(100);
    assertThat(EventQuery.MAX_LIMIT).isEqualTo(1000);
    assertThat(q.after()).isEmpty();
    assertThat(q.afterRecordedAt()).isEmpty();
    assertThat(q.afterPosition()).isEmpty();
  }

  @Test
  void every_setting_is_kept_and_types_add_up() {
    String cursor = EventQuery.cursorOf(event(7, A, T.plusSeconds(3), started()));
    EventQuery q =
        EventQuery.builder()
            .workOrder(A)
            .types(EventType.CLAIMED)
            .types(List.of(EventType.STARTED, EventType.CLAIMED))
            .from(T)
            .to(T.plusSeconds(10))
            .oldestFirst()
            .limit(EventQuery.MAX_LIMIT)
            .after(cursor)
            .build();

    assertThat(q.workOrder()).contains(A);
    assertThat(q.types()).containsExactlyInAnyOrder(EventType.CLAIMED, EventType.STARTED);
    assertThat(q.from()).contains(T);
    assertThat(q.to()).contains(T.plusSeconds(10));
    assertThat(q.order()).isEqualTo(EventQuery.Order.OLDEST_FIRST);
    assertThat(q.limit()).isEqualTo(1000);
    assertThat(q.after()).contains(cursor);
    assertThat(q.afterRecordedAt()).contains(T.plusSeconds(3));
    assertThat(q.afterPosition()).hasValue(7);
    assertThat(EventQuery.builder().oldestFirst().newestFirst().build().order())
        .isEqualTo(EventQuery.Order.NEWEST_FIRST);
    assertThat(EventQuery.builder().order(EventQuery.Order.OLDEST_FIRST).build().order())
        .isEqualTo(EventQuery.Order.OLDEST_FIRST);
  }

  @Test
  void the_query_does_not_change_when_its_builder_does() {
    EventQuery.Builder b = EventQuery.builder().types(EventType.CLAIMED);
    EventQuery q = b.build();

    b.types(EventType.CANCELLED).limit(5).workOrder(A);

    assertThat(q.types()).containsExactly(EventType.CLAIMED);
    assertThat(q.limit()).isEqualTo(EventQuery.DEFAULT_LIMIT);
    assertThat(q.workOrder()).isEmpty();
    assertThatThrownBy(() -> q.types().add(EventType.STARTED))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1, EventQuery.MAX_LIMIT + 1, Integer.MIN_VALUE, Integer.MAX_VALUE})
  void limit_out_of_range_is_rejected_naming_the_setting_and_value(int limit) {
    assertThatThrownBy(() -> EventQuery.builder().limit(limit))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("limit")
        .hasMessageContaining(Integer.toString(limit));
  }

  @Test
  void limit_accepts_1_and_the_maximum() {
    assertThat(EventQuery.builder().limit(1).build().limit()).isEqualTo(1);
    assertThat(EventQuery.builder().limit(1000).build().limit()).isEqualTo(1000);
  }

  @Test
  void a_time_range_that_is_empty_or_reversed_is_rejected_by_build_naming_both_bounds() {
    EventQuery.Builder same = EventQuery.builder().from(T).to(T);
    assertThatThrownBy(same::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("from " + T)
        .hasMessageContaining("to " + T);
    EventQuery.Builder reversed = EventQuery.builder().to(T).from(T.plusNanos(1));
    assertThatThrownBy(reversed::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("from " + T.plusNanos(1))
        .hasMessageContaining("to " + T);

    EventQuery q = EventQuery.builder().from(T).to(T.plusNanos(1)).build();
    assertThat(q.from()).contains(T);
    assertThat(q.to()).contains(T.plusNanos(1));
  }

  @Test
  void null_settings_are_rejected_naming_the_setting() {
    EventQuery.Builder b = EventQuery.builder();

    assertThatThrownBy(() -> b.workOrder(null)).hasMessageContaining("workOrder");
    assertThatThrownBy(() -> b.types((EventType[]) null)).hasMessageContaining("types");
    assertThatThrownBy(() -> b.types((List<EventType>) null)).hasMessageContaining("types");
    assertThatThrownBy(() -> b.types(EventType.CLAIMED, null)).hasMessageContaining("types");
    assertThatThrownBy(() -> b.types(Arrays.asList(EventType.STARTED, null)))
        .hasMessageContaining("types");
    assertThatThrownBy(() -> b.from(null)).hasMessageContaining("from");
    assertThatThrownBy(() -> b.to(null)).hasMessageContaining("to");
    assertThatThrownBy(() -> b.order(null)).hasMessageContaining("order");
    assertThatThrownBy(() -> b.after(null)).hasMessageContaining("after");
    for (Runnable call :
        List.<Runnable>of(
            () -> b.workOrder(null), () -> b.from(null), () -> b.after(null), () -> b.to(null))) {
      assertThatThrownBy(call::run).isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(b.build().types()).as("nothing added by a rejected call").isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        " ",
        "abc",
        "1735689600",
        "1735689600.000000000",
        "1735689600.000000000.",
        "1735689600.000000000.0",
        "1735689600.000000000.-5",
        "1735689600.00000000.5",
        "1735689600.1000000000.5",
        "1735689600.000000000.5.",
        " 1735689600.000000000.5",
        "1735689600.000000000.5 ",
        "+1735689600.000000000.5",
        "1735689600,000000000,5",
        "99999999999999999999.000000000.5",
        "31556889864403200.000000000.5",
        "1735689600.000000000.99999999999999999999",
        "١٧٣٥٦٨٩٦٠٠.000000000.5",
        "MTczNTY4OTYwMC4wMDAwMDAwMDAuNQ",
      })
  void a_malformed_cursor_is_rejected_naming_after_and_changes_nothing(String cursor) {
    String good = EventQuery.cursorOf(event(3, A, T, started()));
    EventQuery.Builder b = EventQuery.builder().after(good);

    assertThatThrownBy(() -> b.after(cursor))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("after")
        .hasMessageContaining("'" + cursor + "'");

    EventQuery q = b.build();
    assertThat(q.after()).contains(good);
    assertThat(q.afterRecordedAt()).contains(T);
    assertThat(q.afterPosition()).hasValue(3);
    assertThatThrownBy(() -> EventQuery.builder().after(cursor).build())
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void a_long_malformed_cursor_is_quoted_shortened() {
    String junk = "x".repeat(10_000);

    assertThatThrownBy(() -> EventQuery.builder().after(junk))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("after")
        .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(300));
  }

  @Test
  void a_cursor_is_url_safe_and_names_the_recorded_time_and_position() {
    List<RecordedEvent> events =
        List.of(
            event(1, A, T, started()),
            event(Long.MAX_VALUE, A, Instant.MAX, started()),
            event(42, A, Instant.MIN, started()),
            event(5, A, Instant.parse("1969-12-31T23:59:59.999999999Z"), started()),
            event(6, A, T.plusNanos(123_456_789), started()));
    for (RecordedEvent e : events) {
      String cursor = EventQuery.cursorOf(e);
      assertThat(cursor).matches("[A-Za-z0-9._~-]+");

      EventQuery q = EventQuery.builder().after(cursor).build();

      assertThat(q.afterRecordedAt()).as(cursor).contains(e.recordedAt());
      assertThat(q.afterPosition()).as(cursor).hasValue(e.position());
    }
  }

  @Test
  void matches_checks_work_order_types_and_the_half_open_time_range() {
    EventQuery q =
        EventQuery.builder()
            .workOrder(A)
            .types(EventType.STARTED, EventType.CANCELLED)
            .from(T)
            .to(T.plusSeconds(10))
            .build();

    assertThat(q.matches(event(1, A, T, started()))).as("at from").isTrue();
    assertThat(q.matches(event(2, A, T.plusSeconds(10).minusNanos(1), cancelled()))).isTrue();
    assertThat(q.matches(event(3, A, T.plusSeconds(10), started()))).as("at to").isFalse();
    assertThat(q.matches(event(4, A, T.minusNanos(1), started()))).as("before from").isFalse();
    assertThat(q.matches(event(5, B, T.plusSeconds(1), started()))).as("other order").isFalse();
    assertThat(q.matches(event(6, A, T.plusSeconds(1), submitted("q")))).as("type").isFalse();
    assertThat(EventQuery.builder().build().matches(event(7, B, Instant.MIN, submitted("q"))))
        .isTrue();
  }

  @Test
  void matches_and_comparator_follow_the_order_around_the_cursor() {
    RecordedEvent cursorEvent = event(10, A, T, started());
    RecordedEvent sameTimeLower = event(9, B, T, started());
    RecordedEvent sameTimeHigher = event(11, B, T, started());
    RecordedEvent earlierHigherPosition = event(50, B, T.minusNanos(1), started());
    RecordedEvent laterLowerPosition = event(2, B, T.plusNanos(1), started());
    String cursor = EventQuery.cursorOf(cursorEvent);

    EventQuery newest = EventQuery.builder().after(cursor).build();
    EventQuery oldest = EventQuery.builder().oldestFirst().after(cursor).build();

    assertThat(newest.matches(cursorEvent)).isFalse();
    assertThat(oldest.matches(cursorEvent)).isFalse();
    assertThat(newest.matches(sameTimeLower)).isTrue();
    assertThat(newest.matches(earlierHigherPosition)).isTrue();
    assertThat(newest.matches(sameTimeHigher)).isFalse();
    assertThat(newest.matches(laterLowerPosition)).isFalse();
    assertThat(oldest.matches(sameTimeHigher)).isTrue();
    assertThat(oldest.matches(laterLowerPosition)).isTrue();
    assertThat(oldest.matches(sameTimeLower)).isFalse();
    assertThat(oldest.matches(earlierHigherPosition)).isFalse();

    List<RecordedEvent> all =
        new ArrayList<>(
            List.of(
                sameTimeHigher,
                earlierHigherPosition,
                cursorEvent,
                laterLowerPosition,
                sameTimeLower));
    all.sort(oldest.comparator());
    assertThat(all)
        .containsExactly(
            earlierHigherPosition, sameTimeLower, cursorEvent, sameTimeHigher, laterLowerPosition);
    all.sort(newest.comparator());
    assertThat(all)
        .containsExactly(
            laterLowerPosition, sameTimeHigher, cursorEvent, sameTimeLower, earlierHigherPosition);
  }

  @Test
  void every_type_set_is_the_same_as_no_type_filter_for_matching() {
    EventQuery all = EventQuery.builder().types(EnumSet.allOf(EventType.class)).build();

    assertThat(all.types()).hasSize(EventType.values().length);
    assertThat(all.matches(event(1, A, T, cancelled()))).isTrue();
  }

  @Test
  void eventPage_copies_its_list_and_has_a_next_page_only_with_a_cursor() {
    List<RecordedEvent> events = new ArrayList<>(List.of(event(1, A, T, started())));
    EventPage page = new EventPage(events, Optional.of("c"));
    events.clear();

    assertThat(page.events()).hasSize(1);
    assertThat(page.hasNext()).isTrue();
    assertThat(new EventPage(List.of(), Optional.empty()).hasNext()).isFalse();
    assertThatThrownBy(() -> page.events().clear())
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> new EventPage(List.of(), null))
        .isInstanceOf(NullPointerException.class);
  }

  private static RecordedEvent event(
      long position, WorkOrderId id, Instant recordedAt, WorkOrderEvent event) {
    return new RecordedEvent(position, id, 1, recordedAt, event);
  }
}
