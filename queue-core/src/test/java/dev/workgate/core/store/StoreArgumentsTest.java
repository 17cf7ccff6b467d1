package dev.workgate.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.Claim;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import dev.workgate.spi.WorkOrder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
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
}
