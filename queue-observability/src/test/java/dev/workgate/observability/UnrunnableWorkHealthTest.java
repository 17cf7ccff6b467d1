package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.Workgate;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.StoreView.NodeStatus;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.observability.SystemHealth.HealthIssue;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Work that no live node can run shows in health and in a gauge, and goes when a node can. */
class UnrunnableWorkHealthTest extends HealthTestSupport {

  @Test
  void work_accepted_for_a_node_that_is_gone_is_a_scheduler_warning_and_a_gauge() {
    WorkOrderStore store = memoryStore();
    Instant now = clock.instant();
    // A large node that was seen ten minutes ago: a submit for it is accepted, but it is not live.
    store.recordNode(
        new NodeStatus(
            "node-big", 16, 0, 0, 0, "NONE", "1.0", now.minusSeconds(900), now.minusSeconds(600)));
    Workgate node = open(node().maxConcurrent(2).store(store).handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(node));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    new WorkgateMetrics(node).bindTo(registry);

    WorkOrderId big =
        node.submit(WorkOrderSpec.builder("job").resources(ResourceRequest.of(8, 0)).build());
    node.start();

    eventually().until(() -> node.node().unrunnableWork().count() == 1);
    SystemHealth checked = health.check();
    HealthIssue issue = onlyIssue(checked, WorkgateHealth.SCHEDULER);
    assertThat(issue.severity()).isEqualTo(HealthIssue.Severity.WARNING);
    assertThat(issue.message())
        .startsWith("1 pending work order cannot run on any live node")
        .contains(big.value());
    assertThat(issue.recommendation()).contains("start a node with enough slots");
    assertThat(detail(checked, WorkgateHealth.SCHEDULER, "unrunnableWork")).isEqualTo(1);
    assertThat(health.liveness().component(WorkgateHealth.SCHEDULER).orElseThrow().issues())
        .isEmpty();
    assertThat(registry.get("workgate.work.orders.unrunnable").gauge().value()).isEqualTo(1.0);

    // node-big comes back: the next heartbeat of node-1 finds it live.
    clock.advance(Duration.ofSeconds(11));
    store.recordNode(new NodeStatus("node-big", 16, 0, 0, 0, "NONE", "1.0", now, clock.instant()));
    eventually().until(() -> node.node().unrunnableWork().count() == 0);
    assertThat(health.check().component(WorkgateHealth.SCHEDULER).orElseThrow().issues()).isEmpty();
    assertThat(registry.get("workgate.work.orders.unrunnable").gauge().value()).isZero();
  }
}
