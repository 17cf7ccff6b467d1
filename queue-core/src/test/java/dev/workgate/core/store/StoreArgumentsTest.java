package dev.workgate.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.ErrorInfo;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.internal.Text;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.Claim;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import dev.workgate.spi.WorkOrder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The argument checks and semantics of the store SPI's value types, which need no backend. */
class StoreArgumentsTest {
  private static final Instant NOW = Instant.parse("2025-01-01T00:00:00Z");

  @Test
  void claimRequest_rejects_bad_fields_naming_them() {
    Capacity any = Capacity.unlimited();
    Duration lease = Duration.ofSeconds(30);

    assertThatThrownBy(() -> new ClaimRequest("q", "node", 0, any, NOW, lease))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("limit");
    assertThatThrownBy(() -> new ClaimRequest("q", "node", -1, any, NOW, lease))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("limit");
    assertThatThrownBy(() -> new ClaimRequest(" ", "node", 1, any, NOW, lease))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("queue");
    assertThatThrownBy(() -> new ClaimRequest("q", "", 1, any, NOW, lease))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("owner");
    assertThatThrownBy(() -> new ClaimRequest("q", "node", 1, any, NOW, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("leaseDuration");
    assertThatThrownBy(() -> new ClaimRequest("q", "node", 1, any, NOW, Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("leaseDuration");
    assertThat(new ClaimRequest("q", "node", 1, any, NOW, lease).leaseExpiresAt())
        .isEqualTo(NOW.plus(lease));
  }

  @Test
  void claimRequest_without_a_start_starts_nothing_and_withStart_keeps_the_other_fields() {
    ClaimRequest plain =
        new ClaimRequest("q", "node", 3, Capacity.unlimited(), NOW, Duration.ofSeconds(30));
    WorkOrder claimed = claimedWorkOrder();

    assertThat(plain.start()).isNull();
    assertThat(plain.startIn(claimed)).isEmpty();
    assertThatThrownBy(() -> plain.withStart(null)).isInstanceOf(NullPointerException.class);

    ClaimRequest starting = plain.withStart(v -> Optional.of("sbx-" + v.attempt()));
    assertThat(starting.queue()).isEqualTo("q");
    assertThat(starting.limit()).isEqualTo(3);
    assertThat(starting.leaseExpiresAt()).isEqualTo(plain.leaseExpiresAt());
    assertThat(starting.startIn(claimed)).contains("sbx-1");
    assertThat(plain.withStart(v -> null).startIn(claimed)).isEmpty();
    assertThat(plain.withStart(v -> Optional.of("")).startIn(claimed)).isEmpty();
    assertThat(
            plain
                .withStart(
                    v -> {
                      throw new IllegalStateException("refused");
                    })
                .startIn(claimed))
        .isEmpty();
  }

  @Test
  void claim_checks_that_its_events_end_at_the_views_version() {
    WorkOrder claimed = claimedWorkOrder();
    RecordedEvent claimedEvent =
        new RecordedEvent(2, claimed.id(), 2, NOW, new WorkOrderEvent.Claimed("node", NOW));
    RecordedEvent startedEvent =
        new RecordedEvent(3, claimed.id(), 3, NOW, new WorkOrderEvent.Started("sbx"));
    WorkOrder running = claimed.apply(startedEvent);

    assertThat(new Claim(claimed, claimedEvent).started()).isEmpty();
    assertThat(new Claim(running, claimedEvent, Optional.of(startedEvent)).started())
        .contains(startedEvent);
    assertThatThrownBy(() -> new Claim(running, claimedEvent))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Claimed");
    assertThatThrownBy(() -> new Claim(claimed, claimedEvent, Optional.of(startedEvent)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Claim(running, claimedEvent, Optional.of(claimedEvent)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static WorkOrder claimedWorkOrder() {
    WorkOrderId id = WorkOrderId.of("wo-1");
    WorkOrder submitted =
        WorkOrder.start(
            new RecordedEvent(
                1,
                id,
                1,
                NOW,
                new WorkOrderEvent.Submitted(WorkOrderSpec.builder("t").queue("q").build(), null)));
    return submitted.apply(
        new RecordedEvent(2, id, 2, NOW, new WorkOrderEvent.Claimed("node", NOW.plusSeconds(30))));
  }

  @Test
  void capacity_rejects_negative_values_and_subtracts_what_fits() {
    assertThatThrownBy(() -> Capacity.of(-1, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Capacity.of(0, -1)).isInstanceOf(IllegalArgumentException.class);

    Capacity capacity = Capacity.of(3, 1000);
    assertThat(capacity.fits(ResourceRequest.of(3, 1000))).isTrue();
    assertThat(capacity.fits(ResourceRequest.of(4, 0))).isFalse();
    assertThat(capacity.fits(ResourceRequest.of(1, 1001))).isFalse();
    assertThat(capacity.minus(ResourceRequest.of(2, 400))).isEqualTo(Capacity.of(1, 600));
    assertThat(Capacity.unlimited().fits(ResourceRequest.of(Integer.MAX_VALUE, Long.MAX_VALUE)))
        .isTrue();
  }

  @Test
  void expectedVersion_none_exactly_and_any_match_as_documented() {
    assertThatThrownBy(() -> ExpectedVersion.exactly(-1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(ExpectedVersion.exactly(0)).isEqualTo(ExpectedVersion.none());
    assertThat(ExpectedVersion.none().matches(0)).isTrue();
    assertThat(ExpectedVersion.none().matches(1)).isFalse();
    assertThat(ExpectedVersion.exactly(3).matches(3)).isTrue();
    assertThat(ExpectedVersion.exactly(3).matches(2)).isFalse();
    assertThat(ExpectedVersion.exactly(3).matches(4)).isFalse();
    assertThat(ExpectedVersion.any().matches(0)).isTrue();
    assertThat(ExpectedVersion.any().matches(17)).isTrue();
    assertThat(ExpectedVersion.any().isAny()).isTrue();
    assertThat(ExpectedVersion.exactly(3).version()).isEqualTo(3);
    assertThatThrownBy(() -> ExpectedVersion.any().version())
        .isInstanceOf(IllegalStateException.class);
    assertThat(ExpectedVersion.none()).hasToString("none");
    assertThat(ExpectedVersion.any()).hasToString("any");
    assertThat(ExpectedVersion.exactly(3)).hasToString("exactly 3");
  }

  @Test
  void appendRequest_rejects_an_empty_event_list() {
    WorkOrderId id = WorkOrderId.of("wo-1");

    assertThatThrownBy(() -> new AppendRequest(id, ExpectedVersion.none(), List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("wo-1");
    assertThatThrownBy(() -> AppendRequest.of(id, ExpectedVersion.none()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void workOrderQuery_rejects_bad_limits_cursors_and_time_ranges() {
    assertThatThrownBy(() -> WorkOrderQuery.builder().limit(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> WorkOrderQuery.builder().limit(WorkOrderQuery.MAX_LIMIT + 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> WorkOrderQuery.builder().after(-1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> WorkOrderQuery.builder().queue(" "))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> WorkOrderQuery.builder().submittedBetween(NOW, NOW.minusMillis(1)))
        .isInstanceOf(IllegalArgumentException.class);

    WorkOrderQuery query = WorkOrderQuery.builder().build();
    assertThat(query.limit()).isEqualTo(WorkOrderQuery.DEFAULT_LIMIT);
    assertThat(query.after()).isZero();
    assertThat(query.queue()).isEmpty();
    assertThat(query.states()).isEmpty();
  }

  @Test
  void workOrderQuery_rejects_blank_or_null_types_naming_them_and_adds_nothing() {
    WorkOrderQuery.Builder b = WorkOrderQuery.builder().types("render");

    assertThatThrownBy(() -> b.types((String[]) null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("query types must not be null");
    assertThatThrownBy(() -> b.types("index", null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("query type must not be blank, got: null");
    assertThatThrownBy(() -> b.types(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("query type must not be blank, got: ' '");
    assertThatThrownBy(() -> b.types("a\nb"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("query type must not contain control characters");
    assertThatThrownBy(() -> b.types("t".repeat(201)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("query type must be at most 200");
    String[] tooMany = new String[WorkOrderQuery.MAX_TYPES];
    for (int i = 0; i < tooMany.length; i++) {
      tooMany[i] = "type-" + i;
    }
    assertThatThrownBy(() -> b.types(tooMany))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most " + WorkOrderQuery.MAX_TYPES + " types, got 101");

    assertThat(b.build().types()).containsExactly("render");
    assertThat(WorkOrderQuery.builder().types().build().types()).isEmpty();
    assertThat(WorkOrderQuery.builder().types("a", "b", "a").types("c").build().types())
        .containsExactlyInAnyOrder("a", "b", "c");
  }

  @Test
  void workOrderQuery_rejects_bad_labels_naming_the_key_and_keeps_the_earlier_ones() {
    WorkOrderQuery.Builder b = WorkOrderQuery.builder().label("env", "prod");

    assertThatThrownBy(() -> b.label(null, "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("query label key must not be blank, got: null");
    assertThatThrownBy(() -> b.label("  ", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("query label key must not be blank");
    assertThatThrownBy(() -> b.label("a\u0001", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("query label key must not contain control characters");
    assertThatThrownBy(() -> b.label("team", null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("query label 'team' value must not be null");
    assertThatThrownBy(() -> b.label("team", "v".repeat(Text.MAX_LABEL_VALUE_LENGTH + 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("query label 'team' value must be at most 1000 characters");
    assertThatThrownBy(() -> b.label("env", "dev"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("query label 'env'")
        .hasMessageContaining("'prod'")
        .hasMessageContaining("'dev'");
    WorkOrderQuery.Builder full = WorkOrderQuery.builder();
    for (int i = 0; i < WorkOrderQuery.MAX_LABELS; i++) {
      full.label("k" + i, "v");
    }
    assertThatThrownBy(() -> full.label("one-more", "v"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most " + WorkOrderQuery.MAX_LABELS + " labels")
        .hasMessageContaining("'one-more'");
    assertThat(full.label("k0", "v").build().labels()).hasSize(WorkOrderQuery.MAX_LABELS);

    WorkOrderQuery query =
        b.label("env", "prod").label("empty", "").label("nul", "a\u0000b").build();
    assertThat(query.labels())
        .containsExactlyInAnyOrderEntriesOf(Map.of("env", "prod", "empty", "", "nul", "a\uFFFDb"));
    assertThatThrownBy(() -> query.labels().put("x", "y"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void workOrderQuery_rejects_a_blank_error_code_and_a_null_resubmittedFrom() {
    assertThatThrownBy(() -> WorkOrderQuery.builder().errorCode(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("query errorCode must not be blank, got: null");
    assertThatThrownBy(() -> WorkOrderQuery.builder().errorCode(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("query errorCode must not be blank, got: ''");
    assertThatThrownBy(() -> WorkOrderQuery.builder().resubmittedFrom(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("query resubmittedFrom must not be null");

    WorkOrderId from = WorkOrderId.of("wo-1");
    WorkOrderQuery query =
        WorkOrderQuery.builder()
            .errorCode("OOM")
            .errorCode("TIMEOUT")
            .resubmittedFrom(from)
            .build();
    assertThat(query.errorCode()).contains("TIMEOUT");
    assertThat(query.resubmittedFrom()).contains(from);
    WorkOrderQuery none = WorkOrderQuery.builder().build();
    assertThat(none.types()).isEmpty();
    assertThat(none.labels()).isEmpty();
    assertThat(none.errorCode()).isEmpty();
    assertThat(none.resubmittedFrom()).isEmpty();
  }

  @Test
  void workOrderQuery_matches_applies_every_filter_but_cursor_limit_and_order() {
    WorkOrderId original = WorkOrderId.of("wo-original");
    WorkOrder view =
        WorkOrder.start(
                new RecordedEvent(
                    1,
                    WorkOrderId.of("wo-1"),
                    1,
                    NOW,
                    new WorkOrderEvent.Submitted(
                        WorkOrderSpec.builder("render")
                            .queue("q")
                            .label("team", "video")
                            .label("a.b", "1")
                            .build(),
                        original)))
            .apply(
                new RecordedEvent(
                    2, WorkOrderId.of("wo-1"), 2, NOW, new WorkOrderEvent.Claimed("n", NOW)))
            .apply(
                new RecordedEvent(
                    3,
                    WorkOrderId.of("wo-1"),
                    3,
                    NOW,
                    WorkOrderEvent.AttemptFailed.retryAt(
                        ErrorInfo.retryable("TIMEOUT", "slow"), NOW.plusSeconds(5), "retry")));

    assertThat(
            WorkOrderQuery.builder()
                .queue("q")
                .states(WorkOrderState.WAITING_RETRY)
                .types("index", "render")
                .label("team", "video")
                .label("a.b", "1")
                .errorCode("TIMEOUT")
                .resubmittedFrom(original)
                .submittedBetween(NOW, NOW.plusMillis(1))
                .after(99)
                .limit(1)
                .order(WorkOrderQuery.Order.NEWEST_FIRST)
                .build()
                .matches(view))
        .isTrue();
    for (WorkOrderQuery.Builder miss :
        List.of(
            WorkOrderQuery.builder().queue("other"),
            WorkOrderQuery.builder().states(WorkOrderState.PENDING),
            WorkOrderQuery.builder().types("index"),
            WorkOrderQuery.builder().label("team", "audio"),
            WorkOrderQuery.builder().label("team", "video").label("tier", "gold"),
            WorkOrderQuery.builder().label("a", "1"),
            WorkOrderQuery.builder().errorCode("OOM"),
            WorkOrderQuery.builder().resubmittedFrom(WorkOrderId.of("wo-other")),
            WorkOrderQuery.builder().submittedBetween(NOW.plusMillis(1), null),
            WorkOrderQuery.builder().submittedBetween(null, NOW))) {
      assertThat(miss.build().matches(view)).as("%s", miss.build()).isFalse();
    }
    assertThat(WorkOrderQuery.builder().build().matches(view)).isTrue();
    assertThat(WorkOrderQuery.builder().errorCode("TIMEOUT").build().matches(claimedWorkOrder()))
        .as("no last error")
        .isFalse();
    assertThat(
            WorkOrderQuery.builder().resubmittedFrom(original).build().matches(claimedWorkOrder()))
        .isFalse();
    assertThatThrownBy(() -> WorkOrderQuery.builder().build().matches(null))
        .isInstanceOf(NullPointerException.class);

    assertThat(WorkOrderQuery.CountBy.STATE.keyOf(view)).contains("WAITING_RETRY");
    assertThat(WorkOrderQuery.CountBy.QUEUE.keyOf(view)).contains("q");
    assertThat(WorkOrderQuery.CountBy.TYPE.keyOf(view)).contains("render");
    assertThat(WorkOrderQuery.CountBy.ERROR_CODE.keyOf(view)).contains("TIMEOUT");
    assertThat(WorkOrderQuery.CountBy.ERROR_CODE.keyOf(claimedWorkOrder())).isEmpty();
  }

  @Test
  void endedCount_rejects_negative_counts_and_bucketStarts_checks_every_argument() {
    assertThatThrownBy(() -> new EndedCount(NOW, -1, 0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("completed -1");
    assertThatThrownBy(() -> new EndedCount(NOW, 0, 0, -2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cancelled -2");
    assertThatThrownBy(() -> new EndedCount(null, 0, 0, 0))
        .isInstanceOf(NullPointerException.class);

    Duration minute = Duration.ofMinutes(1);
    assertThat(EndedCount.bucketStarts(NOW, NOW.plusSeconds(150), minute))
        .containsExactly(NOW, NOW.plusSeconds(60), NOW.plusSeconds(120));
    assertThat(EndedCount.bucketStarts(NOW, NOW.plusSeconds(120), minute))
        .containsExactly(NOW, NOW.plusSeconds(60));
    assertThat(EndedCount.bucketStarts(NOW, NOW.plusNanos(1), Duration.ofDays(365_000)))
        .containsExactly(NOW);
    assertThat(EndedCount.bucketStarts(NOW, NOW.plusSeconds(1440), Duration.ofSeconds(1)))
        .hasSize(EndedCount.MAX_BUCKETS);
    assertThat(
            EndedCount.bucketStarts(
                Instant.parse("0000-01-01T00:00:00Z"),
                Instant.parse("+10000-01-01T00:00:00Z"),
                Duration.ofDays(3_660)))
        .hasSizeLessThanOrEqualTo(EndedCount.MAX_BUCKETS);

    assertThatThrownBy(() -> EndedCount.bucketStarts(NOW, NOW, minute))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("from must be before to");
    assertThatThrownBy(() -> EndedCount.bucketStarts(NOW, NOW.minusNanos(1), minute))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("from must be before to");
    assertThatThrownBy(
            () -> EndedCount.bucketStarts(NOW, NOW.plusSeconds(10), Duration.ofMillis(999)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("interval must be at least PT1S, got PT0.999S");
    assertThatThrownBy(
            () -> EndedCount.bucketStarts(NOW, NOW.plusSeconds(10), Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("interval must be at least");
    assertThatThrownBy(
            () ->
                EndedCount.bucketStarts(
                    NOW, NOW.plusSeconds(10), Duration.ofSeconds(1).plusNanos(500)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("whole number of microseconds");
    assertThatThrownBy(
            () -> EndedCount.bucketStarts(NOW, NOW.plusSeconds(1441), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1441 buckets")
        .hasMessageContaining("at most 1440");
    assertThatThrownBy(
            () -> EndedCount.bucketStarts(Instant.MIN, NOW, Duration.ofDays(365_000_000L)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("years 0 to 9999");
    assertThatThrownBy(
            () -> EndedCount.bucketStarts(NOW, Instant.MAX, Duration.ofDays(365_000_000L)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("years 0 to 9999");
    assertThatThrownBy(() -> EndedCount.bucketStarts(null, NOW, minute))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> EndedCount.bucketStarts(NOW, null, minute))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> EndedCount.bucketStarts(NOW, NOW.plusSeconds(1), null))
        .isInstanceOf(NullPointerException.class);
  }
}
