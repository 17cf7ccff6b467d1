package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.Workgate;
import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.observability.SystemHealth.HealthStatus;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Memory pressure and the memory probe, driven by a probe the test sets. */
@Timeout(30)
class ResourceHealthTest extends HealthTestSupport {
  static final long TOTAL = 10 * GB;

  final AtomicReference<MemoryReading> memory =
      new AtomicReference<>(new MemoryReading(TOTAL, 8 * GB, "test"));
  final AtomicBoolean probeFails = new AtomicBoolean();

  Workgate start() {
    Workgate w =
        open(
            node()
                .memoryProbe(
                    () -> {
                      if (probeFails.get()) {
                        throw new IllegalStateException("cgroup file unreadable");
                      }
                      return memory.get();
                    })
                .handler("job", ctx -> ok()));
    w.start();
    return w;
  }

  @Test
  void
      pressure_warning_degrades_resources_and_critical_makes_them_unhealthy_and_the_node_unready() {
    WorkgateHealth health = health(WorkgateHealth.builder(start()));
    eventually().until(() -> health.readiness().status() == HealthStatus.HEALTHY);

    memory.set(new MemoryReading(TOTAL, TOTAL * 15 / 100, "test")); // 85 % used
    eventually()
        .until(() -> status(health.check(), WorkgateHealth.RESOURCES) == HealthStatus.DEGRADED);
    SystemHealth warning = health.check();
    HealthIssue high = onlyIssue(warning, WorkgateHealth.RESOURCES);
    assertThat(high.severity()).isEqualTo(HealthIssue.Severity.WARNING);
    assertThat(high.message())
        .isEqualTo(
            "memory pressure WARNING: 8,704 of 10,240 MiB used (85 %); the node runs at most 1 of"
                + " its 2 slots");
    assertThat(health.readiness().status()).isEqualTo(HealthStatus.DEGRADED);

    memory.set(new MemoryReading(TOTAL, TOTAL * 5 / 100, "test")); // 95 % used
    eventually()
        .until(() -> status(health.check(), WorkgateHealth.RESOURCES) == HealthStatus.UNHEALTHY);
    SystemHealth critical = health.readiness();
    assertThat(critical.status()).isEqualTo(HealthStatus.UNHEALTHY);
    HealthIssue full = onlyIssue(critical, WorkgateHealth.RESOURCES);
    assertThat(full.severity()).isEqualTo(HealthIssue.Severity.CRITICAL);
    assertThat(full.message()).startsWith("memory pressure CRITICAL: ").endsWith("new work");
    assertThat(detail(critical, WorkgateHealth.RESOURCES, "pressure")).isEqualTo("CRITICAL");
    assertThat(health.liveness().status()).isEqualTo(HealthStatus.HEALTHY);
  }

  @Test
  void a_probe_that_has_never_read_degrades_resources_without_making_the_node_unready() {
    probeFails.set(true);
    Workgate w = open(node().memoryProbe(memory::get).handler("job", ctx -> ok()));
    WorkgateHealth notStarted = health(WorkgateHealth.builder(w));
    assertThat(onlyIssue(notStarted.check(), WorkgateHealth.RESOURCES).message())
        .isEqualTo("no memory reading yet: memory is first read on the scheduler's first turn");

    WorkgateHealth health = health(WorkgateHealth.builder(start()));
    eventually()
        .until(() -> detail(health.check(), WorkgateHealth.SCHEDULER, "lastHeartbeat") != null);

    SystemHealth ready = health.readiness();
    assertThat(ready.status()).isEqualTo(HealthStatus.DEGRADED);
    HealthIssue none = onlyIssue(ready, WorkgateHealth.RESOURCES);
    assertThat(none.severity()).isEqualTo(HealthIssue.Severity.WARNING);
    assertThat(none.message())
        .isEqualTo(
            "no memory reading: the memory probe has failed on every turn since the node started");
  }

  @Test
  void a_probe_that_stops_reading_is_reported_once_its_reading_is_older_than_the_threshold() {
    WorkgateHealth health = health(WorkgateHealth.builder(start()));
    eventually()
        .until(() -> detail(health.check(), WorkgateHealth.RESOURCES, "memoryReadAt") != null);

    probeFails.set(true);
    clock.advance(Duration.ofSeconds(31));

    eventually()
        .until(() -> status(health.check(), WorkgateHealth.RESOURCES) == HealthStatus.DEGRADED);
    assertThat(onlyIssue(health.check(), WorkgateHealth.RESOURCES).message())
        .isEqualTo(
            "last memory reading is 31.0s older than the scheduler's last turn (threshold 30.0s):"
                + " the memory probe fails, and pressure stays NONE as last read");
  }
}
