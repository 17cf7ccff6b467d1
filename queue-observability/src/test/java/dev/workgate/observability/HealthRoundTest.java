package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.observability.SystemHealth.HealthIssue;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** What one round of health checks awaits from the store, and how often. */
class HealthRoundTest {
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void each_store_read_is_awaited_once_however_many_checks_ask_for_it() {
    AtomicInteger pings = new AtomicInteger();
    AtomicInteger counts = new AtomicInteger();
    HealthRound round =
        new HealthRound(
            NOW,
            HealthRound.Purpose.CHECK,
            () -> {
              pings.incrementAndGet();
              return answered(true);
            },
            () -> {
              counts.incrementAndGet();
              return answered(QueueCounts.of(Map.of("q", Map.of(WorkOrderState.PENDING, 1L))));
            });

    round.pinged();
    round.pinged();
    round.counted();
    round.countsUnavailable(WorkgateHealth.RETRIES, Duration.ofSeconds(5));
    round.countsUnavailable(WorkgateHealth.QUEUES, Duration.ofSeconds(5));

    assertThat(pings).hasValue(1);
    assertThat(counts).hasValue(1);
  }

  @Test
  void a_read_the_round_did_not_begin_is_refused_naming_it() {
    HealthRound round =
        new HealthRound(
            NOW,
            HealthRound.Purpose.LIVENESS,
            HealthRound.notRead("the store ping"),
            HealthRound.notRead("the work-order counts"));

    assertThatThrownBy(round::pinged)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the store ping is not read in this round");
    assertThatThrownBy(round::counted)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the work-order counts is not read in this round");
  }

  @Test
  void counts_that_did_not_answer_are_a_warning_for_the_component_that_asks() {
    HealthRound round =
        new HealthRound(
            NOW,
            HealthRound.Purpose.CHECK,
            HealthRound.notRead("the store ping"),
            () ->
                new BoundedRead.Outcome<QueueCounts>(
                    BoundedRead.Outcome.Kind.UNANSWERED,
                    null,
                    null,
                    NOW,
                    true,
                    Duration.ofSeconds(5)));

    HealthIssue issue =
        round.countsUnavailable(WorkgateHealth.QUEUES, Duration.ofSeconds(5)).orElseThrow();

    assertThat(issue.component()).isEqualTo(WorkgateHealth.QUEUES);
    assertThat(issue.severity()).isEqualTo(HealthIssue.Severity.WARNING);
    assertThat(issue.message())
        .isEqualTo("work-order counts unavailable: the store did not answer within 5.0s");
  }

  private static <T> BoundedRead.Outcome<T> answered(T value) {
    return new BoundedRead.Outcome<>(
        BoundedRead.Outcome.Kind.ANSWERED, value, null, NOW, true, Duration.ofMillis(1));
  }
}
