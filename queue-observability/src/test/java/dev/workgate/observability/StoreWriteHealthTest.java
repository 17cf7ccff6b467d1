package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.NodeView.WriteFailureCause;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.observability.SystemHealth.HealthStatus;
import dev.workgate.observability.WorkgateMetrics.WorkgateMeter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class StoreWriteHealthTest extends HealthTestSupport {
  private static final Set<String> WRITES =
      Set.of("appendAll", "claim", "claimRecorded", "renewLease");

  private final AtomicReference<SQLException> failWrites = new AtomicReference<>();

  /** The store, whose writes throw what the test sets, as a JDBC store wraps a database error. */
  private WorkOrderStore failing(WorkOrderStore store) {
    return around(
        store,
        (method, args, proceed) -> {
          SQLException e = failWrites.get();
          if (e != null && WRITES.contains(method)) {
            throw new StoreException(method + " failed, nothing was written: " + e.getMessage(), e);
          }
          return proceed.call();
        });
  }

  private static WorkOrderSpec job() {
    return WorkOrderSpec.builder("job").build();
  }

  @Test
  void failed_writes_turn_the_store_and_readiness_red_with_cause_and_advice_but_not_liveness() {
    Workgate node = open(node().store(failing(memoryStore())).handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(node));
    node.start();
    WorkOrderId before = node.submit(job());
    eventually().until(() -> node.find(before).orElseThrow().state() == WorkOrderState.COMPLETED);
    assertThat(status(health.check(), WorkgateHealth.STORE)).isEqualTo(HealthStatus.HEALTHY);

    failWrites.set(new SQLException("could not extend file \"base/1/2\"", "53100"));
    assertThatThrownBy(() -> node.submit(job())).isInstanceOf(StoreException.class);
    // The loop's claims fail too, so the run grows without more submits.
    eventually()
        .until(
            () ->
                node.storeWrites().consecutiveFailures()
                    >= WorkgateHealth.DEFAULT_FAILED_WRITES_THRESHOLD);

    SystemHealth red = health.check();
    assertThat(status(red, WorkgateHealth.STORE)).isEqualTo(HealthStatus.UNHEALTHY);
    HealthIssue issue = onlyIssue(red, WorkgateHealth.STORE);
    assertThat(issue.severity()).isEqualTo(HealthIssue.Severity.CRITICAL);
    assertThat(issue.message())
        .contains("store writes failed in a row (critical from 3)")
        .contains("disk full")
        .contains("SQLState 53100")
        .doesNotContain("base/1/2");
    assertThat(issue.recommendation())
        .contains("free space on the database server's data volume")
        .contains("writes resume by themselves");
    assertThat(detail(red, WorkgateHealth.STORE, "lastWriteFailureCause")).isEqualTo("disk_full");
    assertThat(health.readiness().status()).isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(status(health.readiness(), WorkgateHealth.STORE)).isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(health.liveness().status()).isEqualTo(HealthStatus.HEALTHY);

    failWrites.set(null);
    WorkOrderId after = node.submit(job());
    eventually().until(() -> node.find(after).orElseThrow().state() == WorkOrderState.COMPLETED);
    SystemHealth recovered = health.check();
    assertThat(status(recovered, WorkgateHealth.STORE)).isEqualTo(HealthStatus.HEALTHY);
    assertThat(status(health.readiness(), WorkgateHealth.STORE)).isEqualTo(HealthStatus.HEALTHY);
    assertThat(detail(recovered, WorkgateHealth.STORE, "writeFailuresInARow")).isEqualTo(0L);
  }

  @Test
  void the_scheduler_warns_of_turn_steps_that_failed_within_the_stall_threshold() {
    Workgate node = open(node().store(failing(memoryStore())).handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(node));
    node.start();
    assertThat(status(health.check(), WorkgateHealth.SCHEDULER)).isEqualTo(HealthStatus.HEALTHY);

    failWrites.set(new SQLException("terminating connection", "57P01"));
    eventually().until(() -> node.node().stepFailureCount() > 0);
    SystemHealth failing = health.check();
    HealthIssue step = onlyIssue(failing, WorkgateHealth.SCHEDULER);
    assertThat(step.severity()).isEqualTo(HealthIssue.Severity.WARNING);
    assertThat(step.message()).contains("scheduler turn step").contains("failed within the last");
    assertThat(health.liveness().status()).isEqualTo(HealthStatus.HEALTHY);

    failWrites.set(null);
    // A turn that claims after the flag was cleared has no failing step left in flight.
    WorkOrderId done = node.submit(job());
    eventually().until(() -> node.find(done).orElseThrow().state() == WorkOrderState.COMPLETED);
    long settled = node.node().stepFailureCount();
    health.check(); // sees every failure so far, at the time it sees them
    clock.advance(health.loopStallThreshold().plusSeconds(1));
    // The jump would look like a stalled loop until the loop turns again at the new time.
    eventually().until(() -> !node.node().lastHeartbeat().orElseThrow().isBefore(clock.instant()));
    assertThat(node.node().stepFailureCount()).isEqualTo(settled);
    assertThat(status(health.check(), WorkgateHealth.SCHEDULER)).isEqualTo(HealthStatus.HEALTHY);
  }

  @Test
  void fewer_failed_writes_than_the_threshold_are_a_warning_and_a_local_file_is_named() {
    Path file = dir.resolve("data").resolve("workgate.db");
    WorkOrderStore sqlite = Stores.sqlite(file);
    onCleanup(sqlite);
    Workgate node = open(node().store(failing(sqlite)).handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(node).failedWritesThreshold(2));

    failWrites.set(new SQLException("[SQLITE_READONLY] attempt to write a readonly database"));
    assertThatThrownBy(() -> node.submit(job())).isInstanceOf(StoreException.class);

    SystemHealth once = health.check();
    HealthIssue warning = onlyIssue(once, WorkgateHealth.STORE);
    assertThat(warning.severity()).isEqualTo(HealthIssue.Severity.WARNING);
    assertThat(warning.message())
        .contains("1 store write failed in a row (critical from 2)")
        .contains("database is read-only")
        .contains("SQLITE_READONLY")
        .contains("no successful write since the node started");
    assertThat(warning.recommendation())
        .contains(file.toAbsolutePath().toString())
        .contains("-wal and -shm files")
        .contains("mounted read-write");

    assertThatThrownBy(() -> node.submit(job())).isInstanceOf(StoreException.class);
    assertThat(status(health.check(), WorkgateHealth.STORE)).isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(Files.exists(file)).isTrue();
  }

  @Test
  void the_builder_rejects_a_threshold_below_one() {
    Workgate node = open(node().handler("job", ctx -> ok()));
    assertThatThrownBy(() -> WorkgateHealth.builder(node).failedWritesThreshold(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("failedWritesThreshold must be at least 1, got 0");
  }

  @Test
  void meters_count_failed_writes_by_cause_and_gauge_the_run() {
    Workgate node = open(node().store(failing(memoryStore())).handler("job", ctx -> ok()));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    WorkgateMetrics metrics = WorkgateMetrics.builder(node).build();
    onCleanup(metrics);
    metrics.bindTo(registry);

    failWrites.set(new SQLException("[SQLITE_FULL] database or disk is full"));
    assertThatThrownBy(() -> node.submit(job())).isInstanceOf(StoreException.class);
    assertThatThrownBy(() -> node.submit(job())).isInstanceOf(StoreException.class);
    failWrites.set(new SQLException("connection refused", "08001"));
    assertThatThrownBy(() -> node.submit(job())).isInstanceOf(StoreException.class);

    String name = WorkgateMeter.STORE_WRITE_FAILURES.meterName();
    assertThat(registry.get(name).tag("cause", "disk_full").functionCounter().count())
        .isEqualTo(2.0);
    assertThat(registry.get(name).tag("cause", "unreachable").functionCounter().count())
        .isEqualTo(1.0);
    assertThat(registry.get(name).tag("cause", "read_only").functionCounter().count()).isZero();
    assertThat(registry.get(name).tag("cause", "other").functionCounter().count()).isZero();
    String gauge = WorkgateMeter.STORE_WRITE_FAILURES_CONSECUTIVE.meterName();
    assertThat(registry.get(gauge).gauge().value()).isEqualTo(3.0);

    failWrites.set(null);
    node.submit(job());
    assertThat(registry.get(gauge).gauge().value()).isZero();
  }

  @Test
  void the_documented_cause_values_are_the_code() throws Exception {
    String doc = Files.readString(Path.of("..", "docs", "metrics.md"));
    String values =
        Arrays.stream(WriteFailureCause.values())
            .map(c -> "`" + c.tagValue() + "`")
            .collect(Collectors.joining(", "));
    assertThat(doc).contains("| `cause` | " + values + " (");
  }
}
