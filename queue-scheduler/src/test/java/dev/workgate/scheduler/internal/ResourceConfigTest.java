package dev.workgate.scheduler.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.scheduler.ResourceConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ResourceConfigTest {

  @Test
  void defaults_have_the_documented_values() {
    ResourceConfig c = ResourceConfig.defaults();

    assertThat(c.maxConcurrent()).isEqualTo(2);
    assertThat(c.memoryPerSlotMb()).isZero();
    assertThat(c.memoryBudgetMb()).isZero();
    assertThat(c.warningThreshold()).isEqualTo(0.80);
    assertThat(c.criticalThreshold()).isEqualTo(0.90);
    assertThat(c.hysteresis()).isEqualTo(0.05);
    assertThat(c.minFreeMemoryMb()).isZero();
    assertThat(ResourceConfig.builder().build()).isEqualTo(c);
  }

  @Test
  void agent_sandboxes_preset_has_two_slots_of_4096_mb_and_default_thresholds() {
    ResourceConfig c = ResourceConfig.agentSandboxes();

    assertThat(c.maxConcurrent()).isEqualTo(2);
    assertThat(c.memoryPerSlotMb()).isEqualTo(4096);
    assertThat(c.warningThreshold()).isEqualTo(ResourceConfig.DEFAULT_WARNING_THRESHOLD);
    assertThat(c).isNotEqualTo(ResourceConfig.defaults());
  }

  @Test
  void to_builder_keeps_every_setting() {
    ResourceConfig c =
        ResourceConfig.builder()
            .maxConcurrent(7)
            .memoryPerSlotMb(100)
            .memoryBudgetMb(1000)
            .warningThreshold(0.5)
            .criticalThreshold(0.6)
            .hysteresis(0.1)
            .minFreeMemoryMb(33)
            .build();

    ResourceConfig copy = c.toBuilder().build();

    assertThat(copy).isEqualTo(c).hasSameHashCodeAs(c);
    assertThat(copy.toString()).isEqualTo(c.toString()).contains("maxConcurrent=7");
    assertThat(c.toBuilder().minFreeMemoryMb(34).build()).isNotEqualTo(c);
  }

  @Test
  void max_concurrent_outside_1_to_10000_is_rejected_naming_setting_and_value() {
    assertThatThrownBy(() -> ResourceConfig.builder().maxConcurrent(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxConcurrent")
        .hasMessageContaining("got 0");
    assertThatThrownBy(() -> ResourceConfig.builder().maxConcurrent(10_001))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxConcurrent")
        .hasMessageContaining("got 10001");
    assertThat(ResourceConfig.builder().maxConcurrent(10_000).build().maxConcurrent())
        .isEqualTo(10_000);
    assertThat(ResourceConfig.builder().maxConcurrent(1).build().maxConcurrent()).isEqualTo(1);
  }

  @Test
  void negative_memory_settings_are_rejected_naming_setting_and_value() {
    assertThatThrownBy(() -> ResourceConfig.builder().memoryPerSlotMb(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("memoryPerSlotMb")
        .hasMessageContaining("got -1");
    assertThatThrownBy(() -> ResourceConfig.builder().memoryBudgetMb(-5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("memoryBudgetMb")
        .hasMessageContaining("got -5");
    assertThatThrownBy(() -> ResourceConfig.builder().minFreeMemoryMb(-7))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("minFreeMemoryMb")
        .hasMessageContaining("got -7");
    assertThatThrownBy(
            () -> ResourceConfig.builder().memoryBudgetMb(ResourceConfig.MEMORY_LIMIT_MB + 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("memoryBudgetMb");
  }

  @Test
  void a_rejected_duration_is_written_as_messages_write_durations() {
    assertThatThrownBy(() -> ResourceConfig.builder().allocationGrace(Duration.ofSeconds(-2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("allocationGrace must be between 0 and 1 hour, got -2.0s");
    assertThatThrownBy(() -> SchedulerConfig.builder().pollInterval(Duration.ofHours(2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageEndingWith(", got 2h00m");
  }

  @Test
  void thresholds_outside_zero_exclusive_to_one_inclusive_are_rejected() {
    assertThatThrownBy(() -> ResourceConfig.builder().warningThreshold(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("warningThreshold")
        .hasMessageContaining("got 0.0");
    assertThatThrownBy(() -> ResourceConfig.builder().criticalThreshold(1.01))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("criticalThreshold")
        .hasMessageContaining("got 1.01");
    assertThatThrownBy(() -> ResourceConfig.builder().warningThreshold(Double.NaN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("warningThreshold")
        .hasMessageContaining("NaN");
    assertThat(ResourceConfig.builder().criticalThreshold(1.0).build().criticalThreshold())
        .isEqualTo(1.0);
  }

  @Test
  void hysteresis_outside_zero_to_one_is_rejected_and_zero_is_allowed() {
    assertThatThrownBy(() -> ResourceConfig.builder().hysteresis(-0.01))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hysteresis")
        .hasMessageContaining("got -0.01");
    assertThatThrownBy(() -> ResourceConfig.builder().hysteresis(1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hysteresis")
        .hasMessageContaining("got 1.0");
    assertThat(ResourceConfig.builder().hysteresis(0).build().hysteresis()).isZero();
  }

  @Test
  void build_rejects_a_warning_threshold_not_below_the_critical_one() {
    assertThatThrownBy(
            () -> ResourceConfig.builder().warningThreshold(0.9).criticalThreshold(0.9).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("warningThreshold 0.9")
        .hasMessageContaining("criticalThreshold 0.9");
    assertThatThrownBy(() -> ResourceConfig.builder().warningThreshold(0.95).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("warningThreshold 0.95");
  }

  @Test
  void build_rejects_hysteresis_not_below_the_warning_threshold() {
    assertThatThrownBy(() -> ResourceConfig.builder().warningThreshold(0.3).hysteresis(0.3).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hysteresis 0.3")
        .hasMessageContaining("warningThreshold 0.3");
  }

  @Test
  void build_rejects_a_budget_smaller_than_one_slot_of_memory() {
    assertThatThrownBy(
            () -> ResourceConfig.builder().memoryPerSlotMb(4096).memoryBudgetMb(2048).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("memoryPerSlotMb 4096")
        .hasMessageContaining("memoryBudgetMb 2048");
    assertThat(
            ResourceConfig.builder()
                .memoryPerSlotMb(4096)
                .memoryBudgetMb(0)
                .build()
                .memoryBudgetMb())
        .isZero();
  }

  @Test
  void a_builder_rejecting_a_value_keeps_the_previous_one() {
    ResourceConfig.Builder b = ResourceConfig.builder().maxConcurrent(5);

    assertThatThrownBy(() -> b.maxConcurrent(-1)).isInstanceOf(IllegalArgumentException.class);

    assertThat(b.build().maxConcurrent()).isEqualTo(5);
  }
}
