package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.Workgate;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.observability.SystemHealth.HealthStatus;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The store ping and the counts: bounded in time, one thread each, and no secrets. */
@Timeout(30)
class StoreHealthTest extends HealthTestSupport {
  static final Duration SHORT = Duration.ofMillis(200);
  static final String SECRET_MESSAGE =
      "cannot connect to jdbc:postgresql://db.internal:5432/prod?user=app&password=secret";

  final AtomicInteger pings = new AtomicInteger();

  /** A store whose ping lookups block on {@code release}, counting them. */
  WorkOrderStore hangingPings(CountDownLatch release) {
    return around(
        memoryStore(),
        (method, args, proceed) -> {
          if (method.equals("find") && WorkgateHealth.PING_ID.equals(args[0])) {
            pings.incrementAndGet();
            release.await();
          }
          return proceed.call();
        });
  }

  static long pingThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("workgate-health-ping-node-1") && t.isAlive())
        .count();
  }

  @Test
  void a_hanging_store_is_critical_within_the_ping_timeout_and_gets_no_second_ping() {
    CountDownLatch release = latch();
    Workgate w = open(node().store(hangingPings(release)).handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(w).storePingTimeout(SHORT));

    long started = System.nanoTime();
    SystemHealth first = health.check();
    Duration took = Duration.ofNanos(System.nanoTime() - started);

    assertThat(took).isBetween(SHORT.minusMillis(10), Duration.ofSeconds(2));
    HealthIssue timedOut = onlyIssue(first, WorkgateHealth.STORE);
    assertThat(timedOut.severity()).isEqualTo(HealthIssue.Severity.CRITICAL);
    assertThat(timedOut.message()).isEqualTo("store did not answer within 200ms");

    clock.advance(Duration.ofSeconds(42));
    SystemHealth second = health.readiness();

    assertThat(onlyIssue(second, WorkgateHealth.STORE).message())
        .isEqualTo(
            "store has not answered a ping started 42.0s ago (timeout 200ms); no new ping starts"
                + " until it returns");
    assertThat(pings.get()).isEqualTo(1);
    assertThat(pingThreads()).isEqualTo(1);

    release.countDown();
    eventually().until(() -> status(health.check(), WorkgateHealth.STORE) == HealthStatus.HEALTHY);
    assertThat(pings.get()).isGreaterThanOrEqualTo(2);
    assertThat(pingThreads()).isEqualTo(1);
  }

  @Test
  void close_ends_a_hung_ping_thread_and_later_checks_report_the_store_unchecked()
      throws Exception {
    CountDownLatch release = latch();
    Workgate w = open(node().store(hangingPings(release)).handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(w).storePingTimeout(SHORT));
    assertThat(pingThreads()).isZero();
    health.check();
    assertThat(pingThreads()).isEqualTo(1);

    health.close();

    eventually().until(() -> pingThreads() == 0);
    assertThat(release.await(0, TimeUnit.MILLISECONDS)).isFalse();
    SystemHealth after = health.check();
    assertThat(onlyIssue(after, WorkgateHealth.STORE).message())
        .isEqualTo("store not checked: this WorkgateHealth is closed");
    assertThat(after.component(WorkgateHealth.SCHEDULER)).isPresent();
  }

  @Test
  void a_failing_store_is_critical_and_the_report_names_the_exception_classes_not_the_message() {
    WorkOrderStore failing =
        around(
            memoryStore(),
            (method, args, proceed) -> {
              if (method.equals("find") || method.equals("counts")) {
                throw new StoreException(SECRET_MESSAGE, new SQLException(SECRET_MESSAGE));
              }
              return proceed.call();
            });
    Workgate w = open(node().store(failing).handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(w));

    SystemHealth checked = health.check();

    HealthIssue issue = onlyIssue(checked, WorkgateHealth.STORE);
    assertThat(issue.severity()).isEqualTo(HealthIssue.Severity.CRITICAL);
    assertThat(issue.message())
        .startsWith("store ping failed with StoreException (caused by SQLException);");
    assertThat(onlyIssue(checked, WorkgateHealth.QUEUES).message())
        .isEqualTo(
            "work-order counts unavailable: the store failed with StoreException (caused by"
                + " SQLException)");
    String json = HealthJson.toJson(checked).toString();
    assertThat(json).contains("StoreException").doesNotContain("secret", "jdbc:", "db.internal");
  }

  @Test
  void counts_that_hang_leave_retries_and_queues_degraded_within_the_counts_timeout() {
    AtomicBoolean hang = new AtomicBoolean(true);
    CountDownLatch release = latch();
    WorkOrderStore store =
        around(
            memoryStore(),
            (method, args, proceed) -> {
              if (method.equals("counts") && hang.get()) {
                release.await();
              }
              return proceed.call();
            });
    Workgate w = open(node().store(store).handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(w).countsTimeout(SHORT));

    long started = System.nanoTime();
    SystemHealth checked = health.check();

    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
    assertThat(status(checked, WorkgateHealth.STORE)).isEqualTo(HealthStatus.HEALTHY);
    for (String component : new String[] {WorkgateHealth.RETRIES, WorkgateHealth.QUEUES}) {
      HealthIssue issue = onlyIssue(checked, component);
      assertThat(issue.severity()).isEqualTo(HealthIssue.Severity.WARNING);
      assertThat(issue.message())
          .isEqualTo("work-order counts unavailable: the store did not answer within 200ms");
    }

    hang.set(false);
    release.countDown();
    eventually().until(() -> status(health.check(), WorkgateHealth.QUEUES) == HealthStatus.HEALTHY);
  }

  @Test
  void a_check_that_throws_makes_only_its_component_unhealthy() {
    WorkOrderStore broken =
        around(
            memoryStore(),
            (method, args, proceed) -> method.equals("counts") ? null : proceed.call());
    Workgate w = open(node().store(broken).handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(w));

    SystemHealth checked = health.check();

    HealthIssue issue = onlyIssue(checked, WorkgateHealth.QUEUES);
    assertThat(issue.severity()).isEqualTo(HealthIssue.Severity.CRITICAL);
    assertThat(issue.message()).startsWith("queues check failed: NullPointerException");
    assertThat(issue.message()).doesNotContain("\tat ");
    assertThat(status(checked, WorkgateHealth.STORE)).isEqualTo(HealthStatus.HEALTHY);
    assertThat(status(checked, WorkgateHealth.EXECUTIONS)).isEqualTo(HealthStatus.HEALTHY);
  }
}
