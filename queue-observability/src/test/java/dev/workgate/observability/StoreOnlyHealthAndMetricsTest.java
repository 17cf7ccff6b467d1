package dev.workgate.observability;

import static dev.workgate.core.testing.WorkOrderFixtures.claimed;
import static dev.workgate.core.testing.WorkOrderFixtures.failedWithRetry;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.started;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.observability.SystemHealth.ComponentHealth;
import dev.workgate.observability.SystemHealth.HealthStatus;
import dev.workgate.observability.WorkgateMetrics.WorkgateMeter;
import dev.workgate.spi.ExpectedVersion;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** {@link WorkgateHealth#ofStore} and {@link WorkgateMetrics#ofStore}: a store without a node. */
class StoreOnlyHealthAndMetricsTest extends HealthTestSupport {
  private final AtomicBoolean failing = new AtomicBoolean();

  private WorkOrderStore failable(WorkOrderStore store) {
    return around(
        store,
        (method, args, proceed) -> {
          if (failing.get()) {
            throw new StoreException("database unreachable (test)");
          }
          return proceed.call();
        });
  }

  private static void write(WorkOrderStore store, String queue, WorkOrderEvent... then) {
    List<WorkOrderEvent> events = new ArrayList<>();
    events.add(submitted(queue));
    events.addAll(List.of(then));
    store.append(newId(), ExpectedVersion.none(), events);
  }

  @Test
  void a_store_check_has_the_store_retries_and_queues_and_no_node_parts() {
    WorkOrderStore store = memoryStore();
    write(store, "builds");
    write(store, "builds");
    Instant lease = clock.instant().plusSeconds(600);
    write(store, "agents", claimed("node-a", lease), started(), failedWithRetry(lease));
    WorkgateHealth health = WorkgateHealth.ofStore(store, clock);
    onCleanup(health);

    SystemHealth check = health.check();

    assertThat(check.components())
        .extracting(ComponentHealth::name)
        .containsExactly(WorkgateHealth.STORE, WorkgateHealth.RETRIES, WorkgateHealth.QUEUES);
    assertThat(check.status()).isEqualTo(HealthStatus.HEALTHY);
    assertThat(check.checkedAt()).isEqualTo(clock.instant());
    assertThat(detail(check, WorkgateHealth.QUEUES, "depth.builds")).isEqualTo(2L);
    assertThat(detail(check, WorkgateHealth.QUEUES, "depth.agents")).isEqualTo(1L);
    assertThat(detail(check, WorkgateHealth.RETRIES, "pendingRetries")).isEqualTo(1L);
    assertThat(health.readiness().components())
        .extracting(ComponentHealth::name)
        .containsExactly(WorkgateHealth.STORE);
    SystemHealth live = health.liveness();
    assertThat(live.components()).isEmpty();
    assertThat(live.status()).isEqualTo(HealthStatus.HEALTHY);
  }

  @Test
  void a_failing_store_makes_the_store_unready_and_the_counts_unknown() {
    WorkOrderStore store = failable(memoryStore());
    WorkgateHealth health = WorkgateHealth.ofStore(store, clock);
    onCleanup(health);
    failing.set(true);

    SystemHealth ready = health.readiness();
    assertThat(ready.status()).isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(onlyIssue(ready, WorkgateHealth.STORE).message())
        .startsWith("store ping failed with StoreException")
        .doesNotContain("database unreachable");
    assertThat(onlyIssue(ready, WorkgateHealth.STORE).recommendation()).doesNotContain("scheduler");
    SystemHealth check = health.check();
    assertThat(status(check, WorkgateHealth.QUEUES)).isEqualTo(HealthStatus.DEGRADED);
    assertThat(health.liveness().status()).isEqualTo(HealthStatus.HEALTHY);

    failing.set(false);
    assertThat(health.readiness().status()).isEqualTo(HealthStatus.HEALTHY);
  }

  @Test
  void store_checks_reject_null_arguments() {
    assertThatThrownBy(() -> WorkgateHealth.ofStore(null, clock))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("store");
    assertThatThrownBy(() -> WorkgateMetrics.ofStore(memoryStore(), null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("clock");
  }

  @Test
  void store_metrics_register_exactly_the_store_meters_and_read_the_store() {
    WorkOrderStore store = memoryStore();
    write(store, "builds");
    Instant lease = clock.instant().plusSeconds(600);
    write(store, "agents", claimed("node-a", lease), started(), failedWithRetry(lease));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    WorkgateMetrics metrics = WorkgateMetrics.ofStore(store, clock);
    onCleanup(metrics);

    metrics.bindTo(registry);
    clock.advance(Duration.ofSeconds(30));

    Set<String> names = new TreeSet<>();
    for (Meter m : registry.getMeters()) {
      names.add(m.getId().getName());
    }
    Set<String> expected = new TreeSet<>();
    for (WorkgateMeter m : WorkgateMeter.values()) {
      if (m.source() == WorkgateMeter.Source.STORE) {
        expected.add(m.meterName());
      }
    }
    assertThat(names).isEqualTo(expected);
    assertThat(
            registry
                .get(WorkgateMeter.WORK_ORDERS.meterName())
                .tags("queue", "builds", "state", "PENDING")
                .gauge()
                .value())
        .isEqualTo(1.0);
    assertThat(registry.get(WorkgateMeter.RETRIES_PENDING.meterName()).gauge().value())
        .isEqualTo(1.0);
    assertThat(
            registry
                .get(WorkgateMeter.WORK_ORDERS_OLDEST_PENDING_AGE.meterName())
                .tags("queue", "builds")
                .gauge()
                .value())
        .isEqualTo(30.0);

    // Work submitted by some node later: seen at the next refresh, a second on.
    write(store, "builds");
    clock.advance(Duration.ofSeconds(1));
    assertThat(
            registry
                .get(WorkgateMeter.WORK_ORDERS.meterName())
                .tags("queue", "builds", "state", "PENDING")
                .gauge()
                .value())
        .isEqualTo(2.0);

    metrics.close();
    assertThat(registry.getMeters()).isEmpty();
    assertThat(store.counts().queues()).contains("builds"); // the store stays open
  }

  @Test
  void store_metrics_keep_the_last_values_while_the_store_fails_and_age_them() {
    WorkOrderStore store = failable(memoryStore());
    write(store, "builds");
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    WorkgateMetrics metrics = WorkgateMetrics.ofStore(store, clock);
    onCleanup(metrics);
    metrics.bindTo(registry);

    failing.set(true);
    clock.advance(Duration.ofSeconds(10));

    assertThat(
            registry
                .get(WorkgateMeter.WORK_ORDERS.meterName())
                .tags("queue", "builds", "state", "PENDING")
                .gauge()
                .value())
        .isEqualTo(1.0);
    assertThat(registry.get(WorkgateMeter.STORE_READINGS_AGE.meterName()).gauge().value())
        .isEqualTo(10.0);
  }
}
