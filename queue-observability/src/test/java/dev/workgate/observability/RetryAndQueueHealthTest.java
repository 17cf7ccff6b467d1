package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.observability.SystemHealth.HealthStatus;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Pending retries and queue depths against small thresholds. */
@Timeout(30)
class RetryAndQueueHealthTest extends HealthTestSupport {

  @Test
  void pending_retries_above_the_threshold_are_a_warning() {
    Workgate w =
        open(
            node()
                .retryPolicy(
                    RetryPolicy.builder()
                        .baseDelay(Duration.ofHours(1))
                        .maxDelay(Duration.ofHours(1))
                        .jitter(Jitter.none())
                        .build())
                .handler("job", ctx -> WorkResult.retryableFailure("FLAKY", "try later")));
    WorkgateHealth health = health(WorkgateHealth.builder(w).pendingRetriesWarning(2));
    w.start();
    w.submit(WorkOrderSpec.builder("job").build());
    w.submit(WorkOrderSpec.builder("job").build());
    eventually()
        .until(() -> detail(health.check(), WorkgateHealth.RETRIES, "pendingRetries").equals(2L));
    assertThat(status(health.check(), WorkgateHealth.RETRIES)).isEqualTo(HealthStatus.HEALTHY);

    w.submit(WorkOrderSpec.builder("job").build());
    eventually()
        .until(() -> detail(health.check(), WorkgateHealth.RETRIES, "pendingRetries").equals(3L));

    SystemHealth checked = health.check();
    HealthIssue issue = onlyIssue(checked, WorkgateHealth.RETRIES);
    assertThat(issue.severity()).isEqualTo(HealthIssue.Severity.WARNING);
    assertThat(issue.message()).isEqualTo("3 work orders waiting for a retry (warning above 2)");
    assertThat(detail(checked, WorkgateHealth.QUEUES, "depth.default")).isEqualTo(3L);
  }

  @Test
  void a_queue_deeper_than_its_thresholds_warns_then_turns_critical_with_per_queue_overrides() {
    Workgate w = open(node().handler("job", ctx -> ok()));
    WorkgateHealth health =
        health(
            WorkgateHealth.builder(w)
                .queueDepthWarning(2)
                .queueDepthCritical(4)
                .queueDepth("bulk", 10, 20));
    for (int i = 0; i < 5; i++) {
      w.submit(WorkOrderSpec.builder("job").queue("bulk").build());
    }
    assertThat(status(health.check(), WorkgateHealth.QUEUES)).isEqualTo(HealthStatus.HEALTHY);

    for (int i = 0; i < 3; i++) {
      w.submit(WorkOrderSpec.builder("job").queue("a").build());
    }
    SystemHealth deep = health.check();
    HealthIssue warning = onlyIssue(deep, WorkgateHealth.QUEUES);
    assertThat(warning.severity()).isEqualTo(HealthIssue.Severity.WARNING);
    assertThat(warning.message())
        .isEqualTo("queue 'a' holds 3 waiting work orders (warning above 2)");

    w.submit(WorkOrderSpec.builder("job").queue("a").build());
    w.submit(WorkOrderSpec.builder("job").queue("a").build());
    SystemHealth deeper = health.check();
    HealthIssue critical = onlyIssue(deeper, WorkgateHealth.QUEUES);
    assertThat(critical.severity()).isEqualTo(HealthIssue.Severity.CRITICAL);
    assertThat(critical.message())
        .isEqualTo("queue 'a' holds 5 waiting work orders (critical above 4)");
    assertThat(critical.recommendation()).contains("'a'");
    assertThat(detail(deeper, WorkgateHealth.QUEUES, "depth.bulk")).isEqualTo(5L);
  }
}
