package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.NodeParts;
import dev.workgate.Workgate;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.observability.SystemHealth.HealthStatus;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Liveness and readiness as the scheduler loop makes them. */
@Timeout(30)
class SchedulerHealthTest extends HealthTestSupport {

  @Test
  void a_stalled_loop_turns_liveness_unhealthy_past_the_threshold_and_healthy_once_it_turns()
      throws Exception {
    AtomicBoolean block = new AtomicBoolean();
    CountDownLatch blocked = new CountDownLatch(1);
    CountDownLatch release = latch();
    // The loop asks for expired leases on every turn, so blocking there stalls it.
    WorkOrderStore store =
        around(
            memoryStore(),
            (method, args, proceed) -> {
              if (method.equals("expiredLeases") && block.get()) {
                blocked.countDown();
                release.await();
              }
              return proceed.call();
            });
    Workgate w = open(node().store(store).handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(w));
    w.start();
    eventually()
        .until(() -> detail(health.liveness(), WorkgateHealth.SCHEDULER, "lastHeartbeat") != null);
    assertThat(health.liveness().status()).isEqualTo(HealthStatus.HEALTHY);
    assertThat(health.loopStallThreshold()).isEqualTo(Duration.ofSeconds(30));

    block.set(true);
    assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();
    clock.advance(Duration.ofSeconds(30));
    assertThat(health.liveness().status()).isEqualTo(HealthStatus.HEALTHY);
    clock.advance(Duration.ofSeconds(1));

    SystemHealth stalled = health.liveness();
    assertThat(stalled.status()).isEqualTo(HealthStatus.UNHEALTHY);
    HealthIssue issue = onlyIssue(stalled, WorkgateHealth.SCHEDULER);
    assertThat(issue.severity()).isEqualTo(HealthIssue.Severity.CRITICAL);
    assertThat(issue.message()).isEqualTo("scheduler loop stalled for 31.0s (threshold 30.0s)");
    assertThat(issue.recommendation()).contains("thread dump", "workgate-scheduler-node-1");
    assertThat(detail(stalled, WorkgateHealth.SCHEDULER, "heartbeatAgeMs")).isEqualTo(31_000L);
    assertThat(health.readiness().status()).isEqualTo(HealthStatus.UNHEALTHY);

    block.set(false);
    release.countDown();
    eventually().until(() -> health.liveness().status() == HealthStatus.HEALTHY);
  }

  @Test
  void
      a_node_not_started_is_neither_live_nor_ready_a_started_one_is_both_and_a_shut_down_one_neither() {
    Workgate w = open(node().handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(w));

    assertThat(health.liveness().status()).isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(onlyIssue(health.liveness(), WorkgateHealth.SCHEDULER).message())
        .isEqualTo("scheduler is not running");
    assertThat(health.readiness().status()).isEqualTo(HealthStatus.UNHEALTHY);

    w.start();
    eventually().until(() -> health.readiness().status() == HealthStatus.HEALTHY);
    assertThat(health.liveness().status()).isEqualTo(HealthStatus.HEALTHY);
    assertThat(health.check().status()).isEqualTo(HealthStatus.HEALTHY);

    w.shutdown(Duration.ZERO);
    SystemHealth ready = health.readiness();
    assertThat(ready.status()).isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(onlyIssue(ready, WorkgateHealth.SCHEDULER).message())
        .isEqualTo("scheduler is not running");
    assertThat(health.liveness().status()).isEqualTo(HealthStatus.UNHEALTHY);
  }

  @Test
  void a_draining_node_is_live_but_not_ready_and_the_full_check_only_warns() {
    Workgate w = open(node().handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(w));
    w.start();
    eventually().until(() -> health.readiness().status() == HealthStatus.HEALTHY);

    NodeParts.stopClaiming(w);

    assertThat(health.liveness().status()).isEqualTo(HealthStatus.HEALTHY);
    SystemHealth ready = health.readiness();
    assertThat(ready.status()).isEqualTo(HealthStatus.UNHEALTHY);
    HealthIssue notReady = onlyIssue(ready, WorkgateHealth.SCHEDULER);
    assertThat(notReady.severity()).isEqualTo(HealthIssue.Severity.CRITICAL);
    assertThat(notReady.message()).contains("not claiming new work");
    SystemHealth full = health.check();
    assertThat(status(full, WorkgateHealth.SCHEDULER)).isEqualTo(HealthStatus.DEGRADED);
    assertThat(onlyIssue(full, WorkgateHealth.SCHEDULER).severity())
        .isEqualTo(HealthIssue.Severity.WARNING);
    assertThat(detail(full, WorkgateHealth.SCHEDULER, "claiming")).isEqualTo(false);
  }

  @Test
  void the_default_stall_threshold_is_ten_poll_intervals_and_at_least_thirty_seconds() {
    Workgate slow = open(node().pollInterval(Duration.ofSeconds(5)).handler("job", ctx -> ok()));
    Workgate fast = open(node().handler("job", ctx -> ok()));

    assertThat(health(WorkgateHealth.builder(slow)).loopStallThreshold())
        .isEqualTo(Duration.ofSeconds(50));
    assertThat(health(WorkgateHealth.builder(fast)).loopStallThreshold())
        .isEqualTo(Duration.ofSeconds(30));
    assertThat(
            health(WorkgateHealth.builder(fast).loopStallThreshold(Duration.ofSeconds(7)))
                .loopStallThreshold())
        .isEqualTo(Duration.ofSeconds(7));
  }
}
