package dev.workgate.execution.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.NodeParts;
import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Each attempt's timeout timer lives only as long as the attempt. */
@Timeout(60)
class ExecutionManagerTimersTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final long GB = 1L << 30;

  @TempDir Path dir;

  @Test
  void an_ended_attempt_leaves_no_timeout_timer_queued() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (Workgate w =
        Workgate.builder()
            .sandboxRoot(dir)
            .maxConcurrent(2)
            .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
            .handler("quick", ctx -> WorkResult.ok())
            .handler(
                "held",
                ctx -> {
                  release.await(30, TimeUnit.SECONDS);
                  return WorkResult.ok();
                })
            .build()) {
      w.start();
      WorkOrderId held = w.submit(WorkOrderSpec.builder("held").build());
      await().atMost(WAIT).until(() -> NodeParts.executions(w).queuedTimers() == 1);

      List<WorkOrderId> quick = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        quick.add(w.submit(WorkOrderSpec.builder("quick").build()));
      }
      for (WorkOrderId id : quick) {
        assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
      }
      await().atMost(WAIT).until(() -> w.stats().activeSlots() == 1);
      assertThat(NodeParts.executions(w).queuedTimers())
          .as("only the running attempt's timer")
          .isEqualTo(1);

      release.countDown();
      assertThat(w.await(held, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
      await().atMost(WAIT).until(() -> w.node().activeExecutions().isEmpty());
      assertThat(NodeParts.executions(w).queuedTimers()).isZero();
    }
  }
}
