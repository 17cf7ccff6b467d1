package dev.workgate.scheduler.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.scheduler.ResourceConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The settings table of {@code docs/scheduling.md} gives the defaults the code has. */
class SchedulingDocTest {

  @Test
  void the_documented_defaults_are_the_defaults() throws IOException {
    String doc = Files.readString(Path.of("..", "docs", "scheduling.md"));
    ResourceConfig resources = ResourceConfig.defaults();
    SchedulerConfig scheduler = SchedulerConfig.defaults();

    assertThat(resources.maxConcurrent()).isEqualTo(2);
    assertThat(doc).contains("| `ResourceConfig.maxConcurrent` | 2 |");
    assertThat(resources.memoryPerSlotMb()).isZero();
    assertThat(doc).contains("| `ResourceConfig.memoryPerSlotMb` | 0 |");
    assertThat(resources.warningThreshold()).isEqualTo(0.80);
    assertThat(resources.criticalThreshold()).isEqualTo(0.90);
    assertThat(doc)
        .contains("| `ResourceConfig.warningThreshold` / `criticalThreshold` | 0.80 / 0.90 |");
    assertThat(resources.hysteresis()).isEqualTo(0.05);
    assertThat(doc).contains("| `ResourceConfig.hysteresis` | 0.05 |");
    assertThat(ResourceConfig.agentSandboxes().memoryPerSlotMb()).isEqualTo(4096);

    assertThat(scheduler.pollInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(doc).contains("| `SchedulerConfig.pollInterval` | 1 s |");
    assertThat(scheduler.leaseDuration()).isEqualTo(Duration.ofSeconds(30));
    assertThat(doc).contains("| `SchedulerConfig.leaseDuration` | 30 s |");
    assertThat(scheduler.renewInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(doc).contains("| `SchedulerConfig.renewInterval` | lease / 3 |");
    assertThat(scheduler.claimBatchSize()).isEqualTo(16);
    assertThat(doc).contains("| `SchedulerConfig.claimBatchSize` | 16 |");
    assertThat(scheduler.staggerDelay()).isZero();
    assertThat(doc).contains("| `SchedulerConfig.staggerDelay` | 0 |");
    assertThat(scheduler.starvationThreshold()).isEqualTo(Duration.ofMinutes(1));
    assertThat(doc).contains("| `SchedulerConfig.starvationThreshold` | 1 min |");
    assertThat(scheduler.reapBatchSize()).isEqualTo(100);
    assertThat(doc).contains("| `SchedulerConfig.reapBatchSize` | 100 |");
    assertThat(scheduler.queues()).containsExactly("default");
  }
}
