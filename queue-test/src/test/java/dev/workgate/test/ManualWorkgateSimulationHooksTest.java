package dev.workgate.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.internal.ManualDrive;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The package-private hooks the deterministic simulation builds on: attempts on an executor of the
 * driver's, ids of the driver's, the drive's view of the node, and a crash.
 */
@Timeout(60)
class ManualWorkgateSimulationHooksTest {

  /** Holds each task until the test runs it: an attempt that blocks across turns. */
  private static final class Held extends AbstractExecutorService {
    final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

    @Override
    public void execute(Runnable command) {
      tasks.add(command);
    }

    void runAll() {
      while (!tasks.isEmpty()) {
        tasks.poll().run();
      }
    }

    @Override
    public void shutdown() {}

    @Override
    public List<Runnable> shutdownNow() {
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return false;
    }

    @Override
    public boolean isTerminated() {
      return false;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return false;
    }
  }

  @Test
  void attempts_run_on_the_drivers_executor_after_the_turn_that_claimed_them() {
    Held held = new Held();
    try (ManualWorkgate node =
        ManualWorkgate.of(
            Workgate.builder().handler("greet", ctx -> WorkResult.ok("hi")),
            new MutableClock(),
            timer -> new ManualDrive(timer, held, () -> WorkOrderId.of("wo-1")))) {
      WorkOrderId id = node.submit(WorkOrderSpec.builder("greet").build());
      assertThat(id).isEqualTo(WorkOrderId.of("wo-1"));

      assertThat(node.runDue()).as("claimed and started, not ended").isZero();
      assertThat(held.tasks).hasSize(1);
      // An in-process handler's claim writes its Started too; the handler has not run yet.
      assertThat(node.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.RUNNING);
      assertThat(node.drive().attemptsEnded()).isZero();

      held.runAll();
      assertThat(node.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(node.drive().attemptsEnded()).isEqualTo(1);
    }
  }

  @Test
  void a_node_the_drive_stops_claiming_leaves_work_pending() {
    try (ManualWorkgate node =
        ManualWorkgate.of(Workgate.builder().handler("greet", ctx -> WorkResult.ok()))) {
      node.drive().stopClaiming();
      WorkOrderId id = node.submit(WorkOrderSpec.builder("greet").build());

      assertThat(node.runDue()).isZero();
      assertThat(node.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.PENDING);
      assertThat(node.drive().fenceOverdueWork()).as("nothing runs").isEmpty();
    }
  }

  @Test
  void a_crashed_node_fires_no_timer_and_refuses_runDue() {
    AtomicBoolean toldToStop = new AtomicBoolean();
    AtomicBoolean sawTimer = new AtomicBoolean();
    ManualWorkgate[] self = new ManualWorkgate[1];
    ManualWorkgate node =
        ManualWorkgate.of(
            Workgate.builder()
                .handler(
                    "slow",
                    ctx -> {
                      sawTimer.set(self[0].nextTimerDue().isPresent()); // its timeout
                      self[0].crash();
                      self[0].advance(Duration.ofMinutes(5)); // past the 10 s timeout
                      toldToStop.set(ctx.cancellationRequested());
                      return WorkResult.ok();
                    }));
    self[0] = node;
    node.submit(WorkOrderSpec.builder("slow").timeout(Duration.ofSeconds(10)).build());

    node.runDue();

    assertThat(sawTimer).isTrue();
    assertThat(toldToStop).as("the timeout died with the node").isFalse();
    assertThat(node.nextTimerDue()).isEmpty();
    assertThatThrownBy(node::runDue).isInstanceOf(IllegalStateException.class);
  }
}
