package dev.workgate.core.store;

import static dev.workgate.core.WorkOrderState.CANCELLED;
import static dev.workgate.core.WorkOrderState.COMPLETED;
import static dev.workgate.core.WorkOrderState.FAILED;
import static dev.workgate.core.WorkOrderState.PENDING;
import static dev.workgate.core.WorkOrderState.PREPARING;
import static dev.workgate.core.WorkOrderState.RUNNING;
import static dev.workgate.core.WorkOrderState.WAITING_RETRY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.StoreView.QueueCounts;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QueueCountsTest {

  private static Map<WorkOrderState, Long> states(Object... stateThenCount) {
    Map<WorkOrderState, Long> m = new EnumMap<>(WorkOrderState.class);
    for (int i = 0; i < stateThenCount.length; i += 2) {
      m.put((WorkOrderState) stateThenCount[i], ((Number) stateThenCount[i + 1]).longValue());
    }
    return m;
  }

  private static final QueueCounts COUNTS =
      QueueCounts.of(
          Map.of(
              "renders",
              states(PENDING, 3, WAITING_RETRY, 2, PREPARING, 1, RUNNING, 4, COMPLETED, 10),
              "emails",
              states(PENDING, 1, FAILED, 5, CANCELLED, 1)));

  @Test
  void an_absent_queue_or_state_counts_zero() {
    assertThat(COUNTS.count("renders", FAILED)).isZero();
    assertThat(COUNTS.count("nowhere", PENDING)).isZero();
    assertThat(COUNTS.depth("nowhere")).isZero();
    assertThat(COUNTS.active("nowhere")).isZero();
    assertThat(COUNTS.total("nowhere")).isZero();
    assertThat(COUNTS.byState("nowhere"))
        .containsOnlyKeys(WorkOrderState.values())
        .allSatisfy((state, n) -> assertThat(n).isZero());
    assertThat(QueueCounts.empty().total()).isZero();
    assertThat(QueueCounts.empty().isEmpty()).isTrue();
  }

  @Test
  void depth_is_pending_plus_waiting_retry_and_active_is_preparing_plus_running() {
    assertThat(COUNTS.depth("renders")).isEqualTo(5);
    assertThat(COUNTS.depth("emails")).isEqualTo(1);
    assertThat(COUNTS.active("renders")).isEqualTo(5);
    assertThat(COUNTS.active("emails")).isZero();
  }

  @Test
  void totals_sum_a_queue_a_state_and_everything() {
    assertThat(COUNTS.total("renders")).isEqualTo(20);
    assertThat(COUNTS.total("emails")).isEqualTo(7);
    assertThat(COUNTS.total()).isEqualTo(27);
    assertThat(COUNTS.count(PENDING)).isEqualTo(4);
    assertThat(COUNTS.count(FAILED)).isEqualTo(5);
  }

  @Test
  void every_held_queue_has_every_state_in_declaration_order_and_queues_are_sorted() {
    assertThat(COUNTS.queues()).containsExactly("emails", "renders");
    assertThat(COUNTS.byState("emails").keySet()).containsExactly(WorkOrderState.values());
    assertThat(COUNTS.byState("emails")).containsEntry(RUNNING, 0L).containsEntry(FAILED, 5L);
    assertThat(COUNTS.isEmpty()).isFalse();
  }

  @Test
  void the_factory_copies_so_later_changes_to_the_source_do_not_show() {
    Map<WorkOrderState, Long> renders = states(PENDING, 1);
    Map<String, Map<WorkOrderState, Long>> source = new HashMap<>();
    source.put("renders", renders);
    QueueCounts counts = QueueCounts.of(source);

    renders.put(PENDING, 99L);
    source.put("emails", states(PENDING, 1));

    assertThat(counts.count("renders", PENDING)).isEqualTo(1);
    assertThat(counts.queues()).containsExactly("renders");
  }

  @Test
  void what_it_hands_out_cannot_be_changed() {
    assertThatThrownBy(() -> COUNTS.byState("renders").put(PENDING, 0L))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> COUNTS.byState("nowhere").put(PENDING, 1L))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> COUNTS.queues().add("other"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(COUNTS.count("renders", PENDING)).isEqualTo(3);
    assertThat(COUNTS.count("nowhere", PENDING)).isZero();
  }

  @Test
  void the_factory_refuses_a_negative_count_naming_queue_state_and_count() {
    assertThatThrownBy(() -> QueueCounts.of(Map.of("renders", states(RUNNING, -2))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'renders'")
        .hasMessageContaining("RUNNING")
        .hasMessageContaining("-2");
  }

  @Test
  void the_factory_refuses_nulls_naming_what_was_null() {
    Map<String, Map<WorkOrderState, Long>> nullQueue = new HashMap<>();
    nullQueue.put(null, states(PENDING, 1));
    assertThatThrownBy(() -> QueueCounts.of(nullQueue))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("queue name");

    Map<String, Map<WorkOrderState, Long>> nullStates = new HashMap<>();
    nullStates.put("renders", null);
    assertThatThrownBy(() -> QueueCounts.of(nullStates))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("'renders'");

    Map<WorkOrderState, Long> nullState = new HashMap<>();
    nullState.put(null, 1L);
    assertThatThrownBy(() -> QueueCounts.of(Map.of("renders", nullState)))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("a state of queue 'renders'");

    Map<WorkOrderState, Long> nullCount = new EnumMap<>(WorkOrderState.class);
    nullCount.put(FAILED, null);
    assertThatThrownBy(() -> QueueCounts.of(Map.of("renders", nullCount)))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("'renders'")
        .hasMessageContaining("FAILED");

    assertThatThrownBy(() -> QueueCounts.of(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("countsByQueue");
  }

  @Test
  void equal_when_the_same_queues_have_the_same_counts_whether_zeros_were_given_or_not() {
    QueueCounts sparse = QueueCounts.of(Map.of("renders", states(PENDING, 2)));
    Map<WorkOrderState, Long> full = states(PENDING, 2);
    for (WorkOrderState s : WorkOrderState.values()) {
      full.putIfAbsent(s, 0L);
    }
    QueueCounts dense = QueueCounts.of(Map.of("renders", full));

    assertThat(sparse).isEqualTo(dense).hasSameHashCodeAs(dense);
    assertThat(sparse).isNotEqualTo(QueueCounts.of(Map.of("renders", states(PENDING, 3))));
    assertThat(sparse).isNotEqualTo(QueueCounts.of(Map.of("emails", states(PENDING, 2))));
    assertThat(QueueCounts.of(Map.of())).isEqualTo(QueueCounts.empty());
    assertThat(sparse.toString()).contains("renders").contains("PENDING=2");
  }

  @Test
  void the_builder_sums_what_is_added_and_holds_a_queue_added_with_zero() {
    QueueCounts.Builder b =
        QueueCounts.builder()
            .add("renders", PENDING, 2)
            .add("renders", PENDING, 1)
            .add("renders", WAITING_RETRY, 4)
            .add("idle", COMPLETED, 0);
    QueueCounts first = b.build();
    b.add("renders", PENDING, 10);

    assertThat(first.count("renders", PENDING)).isEqualTo(3);
    assertThat(first.depth("renders")).isEqualTo(7);
    assertThat(first.queues()).containsExactly("idle", "renders");
    assertThat(first.total("idle")).isZero();
    assertThat(b.build().count("renders", PENDING)).isEqualTo(13);
  }

  @Test
  void the_builder_refuses_a_negative_count_naming_it() {
    assertThatThrownBy(() -> QueueCounts.builder().add("renders", FAILED, -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'renders'")
        .hasMessageContaining("FAILED")
        .hasMessageContaining("-1");
  }
}
