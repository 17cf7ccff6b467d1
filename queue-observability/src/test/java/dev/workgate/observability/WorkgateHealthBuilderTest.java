package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.Workgate;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The builder rejects bad settings, naming the setting and the value. */
class WorkgateHealthBuilderTest extends HealthTestSupport {
  Workgate workgate;

  @BeforeEach
  void node1() {
    workgate = open(node().pollInterval(Duration.ofSeconds(1)).handler("job", ctx -> ok()));
  }

  WorkgateHealth.Builder builder() {
    return WorkgateHealth.builder(workgate);
  }

  @Test
  void durations_must_be_positive() {
    assertThatThrownBy(() -> builder().loopStallThreshold(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("loopStallThreshold must be positive, got null");
    assertThatThrownBy(() -> builder().preparingStuckThreshold(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("preparingStuckThreshold must be positive, got 0ms");
    assertThatThrownBy(() -> builder().overrunSlack(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("overrunSlack must be positive, got -1.0s");
    assertThatThrownBy(() -> builder().countsTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("countsTimeout must be positive, got 0ms");
  }

  @Test
  void timeouts_are_at_most_a_minute() {
    assertThatThrownBy(() -> builder().storePingTimeout(Duration.ofMinutes(2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("storePingTimeout must be at most 1m00s, got 2m00s");
  }

  @Test
  void counts_must_not_be_negative() {
    assertThatThrownBy(() -> builder().pendingRetriesWarning(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("pendingRetriesWarning must not be negative, got -1");
    assertThatThrownBy(() -> builder().queueDepthWarning(-5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("queueDepthWarning must not be negative, got -5");
    assertThatThrownBy(() -> builder().queueDepthCritical(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("queueDepthCritical must not be negative, got -1");
    assertThatThrownBy(() -> builder().queueDepth("bulk", -1, 5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("queueDepth warning for queue 'bulk' must not be negative, got -1");
  }

  @Test
  void a_queue_override_needs_a_queue_name_and_warning_at_most_critical() {
    assertThatThrownBy(() -> builder().queueDepth("bulk", 10, 5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "queueDepth for queue 'bulk' needs warning <= critical, got warning 10 and"
                + " critical 5");
    assertThatThrownBy(() -> builder().queueDepth(" ", 1, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("queueDepth queue");
  }

  @Test
  void build_rejects_a_warning_depth_above_the_critical_one() {
    assertThatThrownBy(() -> builder().queueDepthWarning(200_000).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("queueDepthWarning 200000 must not be above queueDepthCritical 100000");
  }

  @Test
  void build_rejects_a_stall_threshold_an_idle_loop_would_reach() {
    assertThatThrownBy(() -> builder().loopStallThreshold(Duration.ofSeconds(1)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "loopStallThreshold must be longer than the scheduler's poll interval 1.0s, got 1.0s:"
                + " an idle loop waits up to a poll interval between turns and would look"
                + " stalled");
  }

  @Test
  void the_node_is_required() {
    assertThatThrownBy(() -> WorkgateHealth.of(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("workgate");
  }
}
