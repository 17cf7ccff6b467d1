package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.execution.Sandbox;
import dev.workgate.execution.SandboxProvider;
import dev.workgate.execution.SandboxProvider.SandboxRecord;
import dev.workgate.execution.SandboxProvider.SandboxRequest;
import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.observability.SystemHealth.HealthStatus;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Stuck and overrunning executions, judged by the node's clock: the test moves the clock, the work
 * really blocks.
 */
@Timeout(30)
class ExecutionHealthTest extends HealthTestSupport {
  final CountDownLatch release = latch();

  @Test
  void work_running_past_timeout_kill_grace_and_slack_is_critical() {
    Workgate w =
        open(
            node()
                .leaseDuration(Duration.ofHours(1))
                .killGrace(Duration.ofSeconds(5))
                .handler("job", ctx -> ignoringInterrupts()));
    WorkgateHealth health = health(WorkgateHealth.builder(w).overrunSlack(Duration.ofSeconds(1)));
    w.start();
    WorkOrderId id = w.submit(WorkOrderSpec.builder("job").timeout(Duration.ofMinutes(1)).build());
    eventually()
        .until(() -> detail(health.check(), WorkgateHealth.EXECUTIONS, "running").equals(1));

    clock.advance(Duration.ofMinutes(1).plusSeconds(5 + 1));
    assertThat(status(health.check(), WorkgateHealth.EXECUTIONS)).isEqualTo(HealthStatus.HEALTHY);
    clock.advance(Duration.ofSeconds(1));

    SystemHealth overrun = health.check();
    assertThat(overrun.status()).isEqualTo(HealthStatus.UNHEALTHY);
    HealthIssue issue = onlyIssue(overrun, WorkgateHealth.EXECUTIONS);
    assertThat(issue.severity()).isEqualTo(HealthIssue.Severity.CRITICAL);
    assertThat(issue.message())
        .isEqualTo(
            "1 execution running past timeout + kill grace + 1.0s: the kill did not take; the"
                + " oldest, work order "
                + id
                + " in queue 'default', started 1m07s ago with timeout 1m00s and kill grace 5.0s");
    assertThat(issue.recommendation()).contains("workgate-handler-");
  }

  @Test
  void an_execution_preparing_longer_than_the_threshold_is_a_warning() {
    Workgate w =
        open(
            node()
                .leaseDuration(Duration.ofHours(1))
                .sandboxProvider("slow", new HangingProvider()));
    WorkgateHealth health = health(WorkgateHealth.builder(w));
    w.start();
    WorkOrderId id = w.submit(WorkOrderSpec.builder("slow").build());
    eventually()
        .until(() -> detail(health.check(), WorkgateHealth.EXECUTIONS, "preparing").equals(1));

    clock.advance(Duration.ofMinutes(5));
    assertThat(status(health.check(), WorkgateHealth.EXECUTIONS)).isEqualTo(HealthStatus.HEALTHY);
    clock.advance(Duration.ofSeconds(1));

    SystemHealth stuck = health.check();
    assertThat(status(stuck, WorkgateHealth.EXECUTIONS)).isEqualTo(HealthStatus.DEGRADED);
    HealthIssue issue = onlyIssue(stuck, WorkgateHealth.EXECUTIONS);
    assertThat(issue.severity()).isEqualTo(HealthIssue.Severity.WARNING);
    assertThat(issue.message())
        .isEqualTo(
            "1 execution preparing for more than 5m00s; the oldest, work order "
                + id
                + " in queue 'default', for 5m01s");
  }

  /** A handler that a kill cannot stop: only the test's latch ends it. */
  private WorkResult ignoringInterrupts() {
    while (true) {
      try {
        release.await();
        return WorkResult.ok();
      } catch (InterruptedException ignored) {
        // a kill: ignored on purpose
      }
    }
  }

  /** A provider whose sandbox creation hangs until the test ends. */
  private final class HangingProvider implements SandboxProvider {
    @Override
    public Sandbox create(SandboxRequest request) throws Exception {
      release.await();
      throw new IOException("sandbox not created: the test is over");
    }

    @Override
    public List<SandboxRecord> list() {
      return List.of();
    }

    @Override
    public void destroyOrphan(SandboxRecord orphan) {}
  }
}
