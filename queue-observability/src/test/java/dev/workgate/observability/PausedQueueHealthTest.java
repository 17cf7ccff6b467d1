package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.observability.SystemHealth.HealthStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A paused queue in the {@value WorkgateHealth#QUEUES} component: work held back by a pause older
 * than {@link WorkgateHealth#PAUSED_BACKLOG_AFTER} is a warning naming the pause, unless the
 * backlog shrinks; an empty backlog, a fresh pause or a resumed queue is not.
 */
@Timeout(30)
class PausedQueueHealthTest extends HealthTestSupport {

  @Test
  void the_threshold_is_ten_minutes() {
    assertThat(WorkgateHealth.PAUSED_BACKLOG_AFTER).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void work_held_back_by_an_old_pause_is_a_warning_naming_it_until_the_backlog_shrinks_or_resume() {
    Workgate w = open(node().handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(w));
    Instant pausedAt = clock.instant();
    assertThat(w.pauseQueue("default", "ops-alice", "the registry is down")).isTrue();
    WorkOrderId first = w.submit(WorkOrderSpec.builder("job").build());
    w.submit(WorkOrderSpec.builder("job").build());

    // A fresh pause holds work back on purpose: reported, not an issue.
    clock.advance(Duration.ofMinutes(9));
    SystemHealth fresh = health.check();
    assertThat(status(fresh, WorkgateHealth.QUEUES)).isEqualTo(HealthStatus.HEALTHY);
    assertThat(detail(fresh, WorkgateHealth.QUEUES, "pausedQueues")).isEqualTo(1);
    assertThat(detail(fresh, WorkgateHealth.QUEUES, "paused.default.by")).isEqualTo("ops-alice");
    assertThat(detail(fresh, WorkgateHealth.QUEUES, "paused.default.since"))
        .isEqualTo(pausedAt.toString());
    assertThat(detail(fresh, WorkgateHealth.QUEUES, "paused.default.reason"))
        .isEqualTo("the registry is down");
    assertThat(detail(fresh, WorkgateHealth.QUEUES, "pausedBacklogAfterMs")).isEqualTo(600_000L);

    clock.advance(Duration.ofMinutes(1));
    SystemHealth old = health.check();
    HealthIssue issue = onlyIssue(old, WorkgateHealth.QUEUES);
    assertThat(issue.severity()).isEqualTo(HealthIssue.Severity.WARNING);
    assertThat(issue.message())
        .isEqualTo(
            "queue 'default' is paused and 2 work orders wait in it: paused by ops-alice since "
                + pausedAt
                + " (10m00s ago), reason: the registry is down");
    assertThat(issue.recommendation())
        .contains("workgate-admin resume default")
        .contains("POST /api/queues/default/resume");

    // Growing: still a warning.
    w.submit(WorkOrderSpec.builder("job").build());
    assertThat(onlyIssue(health.check(), WorkgateHealth.QUEUES).message())
        .contains("3 work orders wait in it");

    // Shrinking (someone cancels the held-back work): not an issue.
    w.cancel(first, "not needed after all");
    assertThat(status(health.check(), WorkgateHealth.QUEUES)).isEqualTo(HealthStatus.HEALTHY);

    // Holding at the same size on the next round: a warning again.
    assertThat(onlyIssue(health.check(), WorkgateHealth.QUEUES).message())
        .contains("2 work orders wait in it");

    assertThat(w.resumeQueue("default", "ops-alice", "registry is back")).isTrue();
    SystemHealth resumed = health.check();
    assertThat(status(resumed, WorkgateHealth.QUEUES)).isEqualTo(HealthStatus.HEALTHY);
    assertThat(detail(resumed, WorkgateHealth.QUEUES, "pausedQueues")).isEqualTo(0);
    assertThat(detail(resumed, WorkgateHealth.QUEUES, "paused.default.by")).isNull();
  }

  @Test
  void an_old_pause_with_an_empty_backlog_is_only_reported_and_a_new_pause_starts_over() {
    Workgate w = open(node().handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(w));
    w.pauseQueue("quiet", "ops-bob", "");
    clock.advance(Duration.ofHours(3));

    SystemHealth empty = health.check();
    assertThat(status(empty, WorkgateHealth.QUEUES)).isEqualTo(HealthStatus.HEALTHY);
    assertThat(detail(empty, WorkgateHealth.QUEUES, "paused.quiet.by")).isEqualTo("ops-bob");

    w.submit(WorkOrderSpec.builder("job").queue("quiet").build());
    HealthIssue held = onlyIssue(health.check(), WorkgateHealth.QUEUES);
    assertThat(held.message())
        .isEqualTo(
            "queue 'quiet' is paused and 1 work order waits in it: paused by ops-bob since "
                + clock.instant().minus(Duration.ofHours(3))
                + " (3h00m ago)");

    // Resumed and paused again: the new pause is fresh, whatever the backlog.
    w.resumeQueue("quiet", "ops-bob", "");
    w.pauseQueue("quiet", "ops-carol", "again");
    assertThat(status(health.check(), WorkgateHealth.QUEUES)).isEqualTo(HealthStatus.HEALTHY);
  }

  @Test
  void the_pauses_are_read_once_per_check_with_the_counts() {
    AtomicInteger pausedReads = new AtomicInteger();
    Workgate w =
        open(
            node()
                .store(
                    around(
                        memoryStore(),
                        (method, args, proceed) -> {
                          if (method.equals("pausedQueues")) {
                            pausedReads.incrementAndGet();
                          }
                          return proceed.call();
                        }))
                .handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(w));
    int before = pausedReads.get();
    health.check();
    assertThat(pausedReads.get() - before).isEqualTo(1);
    health.liveness();
    health.readiness();
    assertThat(pausedReads.get() - before).isEqualTo(1);
  }
}
