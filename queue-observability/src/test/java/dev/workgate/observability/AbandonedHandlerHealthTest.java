package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.observability.SystemHealth.HealthIssue;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A handler that ignores its stop shows in health and a gauge until its thread ends. */
class AbandonedHandlerHealthTest extends HealthTestSupport {

  @Test
  void a_handler_left_running_after_a_cancel_is_a_warning_and_a_gauge_until_it_ends()
      throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch letGo = new CountDownLatch(1);
    Workgate node =
        open(
            node()
                .store(memoryStore())
                .killGrace(Duration.ofMillis(50))
                .handler(
                    "stubborn",
                    ctx -> {
                      started.countDown();
                      while (true) {
                        try {
                          if (letGo.await(10, TimeUnit.SECONDS)) {
                            return ok();
                          }
                        } catch (InterruptedException ignored) {
                          // ignores being stopped, as a badly written handler does
                        }
                      }
                    }));
    WorkgateHealth health = health(WorkgateHealth.builder(node));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    new WorkgateMetrics(node).bindTo(registry);
    node.start();
    WorkOrderId id = node.submit(WorkOrderSpec.builder("stubborn").build());
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

    node.cancel(id, "not needed");

    eventually().until(() -> node.find(id).orElseThrow().state() == WorkOrderState.CANCELLED);
    eventually().until(() -> node.node().abandonedHandlers().size() == 1);
    SystemHealth checked = health.check();
    HealthIssue issue = onlyIssue(checked, WorkgateHealth.EXECUTIONS);
    assertThat(issue.severity()).isEqualTo(HealthIssue.Severity.WARNING);
    assertThat(issue.message())
        .startsWith("1 in-process handler ignored being stopped and still run, holding 1 slot")
        .contains(id.value());
    assertThat(issue.recommendation()).contains("cancellationRequested()");
    assertThat(detail(checked, WorkgateHealth.EXECUTIONS, "abandonedHandlers")).isEqualTo(1);
    assertThat(registry.get("workgate.executions.abandoned").gauge().value()).isEqualTo(1.0);
    assertThat(node.node().slotsInUse()).as("its slot is held").isEqualTo(1);

    letGo.countDown();

    eventually().until(() -> node.node().abandonedHandlers().isEmpty());
    assertThat(health.check().component(WorkgateHealth.EXECUTIONS).orElseThrow().issues())
        .isEmpty();
    assertThat(registry.get("workgate.executions.abandoned").gauge().value()).isZero();
    eventually().until(() -> node.node().slotsInUse() == 0);
  }
}
