package dev.workgate.scheduler.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkDoesNotFitException;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.StoreView.NodeStatus;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.scheduler.MemoryProbe;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.scheduler.ResourceHealthReport.PressureLevel;
import dev.workgate.scheduler.SchedulerStats.UnrunnableWork;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The node table as the scheduler keeps it: its own row on each heartbeat, the fit check at submit,
 * and pending work that no live node could ever run.
 */
class NodeTableTest {
  static final long GB = 1L << 30;

  MutableClock clock;
  WorkOrderStore store;
  List<ClaimedWork> dispatched;

  @BeforeEach
  void open() {
    clock = MutableClock.create();
    store = Stores.inMemory(clock);
    dispatched = new ArrayList<>();
  }

  @AfterEach
  void close() {
    store.close();
  }

  Scheduler node(String id, int slots, long budgetMb) {
    MemoryProbe probe = () -> new MemoryReading(16 * GB, 12 * GB, "test");
    return Scheduler.builder(store, new Recording(dispatched))
        .config(
            SchedulerConfig.builder()
                .nodeId(id)
                .leaseDuration(Duration.ofSeconds(30))
                .renewInterval(Duration.ofSeconds(10))
                .build())
        .resources(
            new ResourceMonitor(
                ResourceConfig.builder().maxConcurrent(slots).memoryBudgetMb(budgetMb).build(),
                probe,
                clock))
        .clock(clock)
        .build();
  }

  static WorkOrderSpec asking(int slots, long memoryMb) {
    return WorkOrderSpec.builder("job").resources(ResourceRequest.of(slots, memoryMb)).build();
  }

  @Test
  void a_turn_writes_the_nodes_row_with_its_capacity_and_use_and_close_removes_it() {
    Scheduler s = node("node-1", 3, 8_192);
    s.submit(asking(2, 1_024));

    s.runOnce();

    assertThat(store.nodes()).hasSize(1);
    NodeStatus row = store.nodes().get(0);
    assertThat(row.id()).isEqualTo("node-1");
    assertThat(row.slots()).isEqualTo(3);
    assertThat(row.memoryMb()).isEqualTo(8_192);
    assertThat(row.pressure()).isEqualTo(PressureLevel.NONE.name());
    assertThat(row.lastHeartbeat()).isEqualTo(clock.instant());
    assertThat(row.startedAt()).isEqualTo(clock.instant());

    clock.advance(Duration.ofSeconds(10));
    s.runOnce();
    NodeStatus later = store.nodes().get(0);
    assertThat(later.lastHeartbeat()).isEqualTo(clock.instant());
    assertThat(later.slotsInUse()).isEqualTo(2);
    assertThat(later.memoryMbInUse()).isEqualTo(1_024);

    s.close();
    assertThat(store.nodes()).isEmpty();
  }

  @Test
  void the_heartbeat_waits_a_renew_interval_between_writes() {
    Scheduler s = node("node-1", 2, 0);
    s.runOnce();
    Instant first = store.nodes().get(0).lastHeartbeat();

    clock.advance(Duration.ofSeconds(9));
    s.runOnce();
    assertThat(store.nodes().get(0).lastHeartbeat()).isEqualTo(first);

    clock.advance(Duration.ofSeconds(1));
    s.runOnce();
    assertThat(store.nodes().get(0).lastHeartbeat()).isEqualTo(clock.instant());
  }

  @Test
  void a_submit_no_node_could_ever_run_is_refused_naming_the_request_and_nothing_is_written() {
    Scheduler s = node("node-1", 2, 4_096);
    s.runOnce();

    assertThatThrownBy(() -> s.submit(asking(3, 0)))
        .isInstanceOf(WorkDoesNotFitException.class)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("asks for 3 slot(s)")
        .hasMessageContaining("this node 2 slot(s), at most 4096 MB per work order")
        .hasMessageContaining("nothing was written");
    assertThatThrownBy(() -> s.submit(asking(1, 5_000)))
        .isInstanceOf(WorkDoesNotFitException.class)
        .hasMessageContaining("5000 MB");
    assertThatThrownBy(() -> s.submitAll(List.of(asking(1, 1), asking(4, 1))))
        .isInstanceOf(WorkDoesNotFitException.class);
    assertThat(store.counts().queues()).isEmpty();
  }

  @Test
  void a_submit_another_known_node_could_run_is_accepted_even_while_that_node_is_restarting() {
    Scheduler small = node("node-small", 2, 4_096);
    Scheduler big = node("node-big", 8, 65_536);
    big.runOnce();
    small.runOnce();
    clock.advance(Duration.ofMinutes(10)); // node-big is silent: not live, but not forgotten

    WorkOrderId id = small.submit(asking(6, 8_000));

    assertThat(store.find(id)).isPresent();
    clock.advance(NodeHeartbeat.FORGET_AFTER);
    small.runOnce(); // forgets node-big
    assertThat(store.nodes()).extracting(NodeStatus::id).containsExactly("node-small");
    assertThatThrownBy(() -> small.submit(asking(6, 8_000)))
        .isInstanceOf(WorkDoesNotFitException.class);
  }

  @Test
  void pending_work_that_no_live_node_can_run_is_reported_until_a_node_that_can_joins() {
    Scheduler small = node("node-small", 2, 4_096);
    Scheduler big = node("node-big", 8, 0);
    big.runOnce();
    WorkOrderId huge = small.submit(asking(6, 1_000));
    small.submit(asking(1, 1_000));
    small.runOnce();
    assertThat(small.unrunnableWork().count()).as("node-big is live").isZero();

    clock.advance(Duration.ofSeconds(31)); // node-big's heartbeat is older than a lease
    small.runOnce();

    UnrunnableWork found = small.unrunnableWork();
    assertThat(found.count()).isEqualTo(1);
    assertThat(found.sample()).containsExactly(huge);
    assertThat(found.checkedAt()).contains(clock.instant());

    clock.advance(Duration.ofSeconds(10));
    big.runOnce(); // it comes back
    clock.advance(Duration.ofSeconds(10));
    small.runOnce();
    assertThat(small.unrunnableWork().count()).isZero();
  }

  @Test
  void node_status_rejects_impossible_figures() {
    Instant t = clock.instant();
    assertThatThrownBy(() -> new NodeStatus("n", 0, 0, 0, 0, "NORMAL", "1", t, t))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("NodeStatus.slots must be at least 1, got 0");
    assertThatThrownBy(() -> new NodeStatus("n", 2, 0, 3, 0, "NORMAL", "1", t, t))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("slotsInUse must be between 0 and slots (2), got 3");
    assertThatThrownBy(() -> new NodeStatus("n", 2, -1, 0, 0, "NORMAL", "1", t, t))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new NodeStatus("", 2, 0, 0, 0, "NORMAL", "1", t, t))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** Keeps what it is handed. */
  record Recording(List<ClaimedWork> into) implements WorkDispatcher {
    @Override
    public void dispatch(ClaimedWork work) {
      into.add(work);
    }

    @Override
    public void cancellationRequested(ClaimedWork work, String reason) {}

    @Override
    public void leaseLost(ClaimedWork work) {}
  }
}
