package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Retention from inside the host, as docs/operations.md shows it for the in-memory store. */
@Timeout(60)
class EmbeddedRetentionTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final long GB = 1L << 30;

  @TempDir Path dir;

  @Test
  void a_node_on_the_default_in_memory_store_purges_ended_work_orders_and_goes_on()
      throws Exception {
    try (Workgate w =
        Workgate.builder()
            .sandboxRoot(dir)
            .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
            .handler("noop", ctx -> WorkResult.ok())
            .build()) {
      w.start();
      List<WorkOrderId> ended = new ArrayList<>();
      for (int i = 0; i < 7; i++) {
        ended.add(w.submit(WorkOrderSpec.builder("noop").build()));
      }
      for (WorkOrderId id : ended) {
        w.await(id, WAIT);
      }
      WorkOrderId later =
          w.submit(
              WorkOrderSpec.builder("noop")
                  .notBefore(w.clock().instant().plus(Duration.ofHours(1)))
                  .build());

      Instant cutoff = w.clock().instant().plusMillis(1);
      List<Integer> batches = new ArrayList<>();
      int n;
      do {
        n = w.store().deleteTerminalBefore(cutoff, 3);
        batches.add(n);
      } while (n == 3);

      assertThat(batches).containsExactly(3, 3, 1);
      for (WorkOrderId id : ended) {
        assertThat(w.find(id)).isEmpty();
        assertThat(w.history(id)).isEmpty();
      }
      assertThat(w.find(later).map(v -> v.state())).contains(WorkOrderState.PENDING);
      QueueCounts counts = w.store().counts();
      assertThat(counts.queues()).containsOnly("default");
      assertThat(counts.count("default", WorkOrderState.PENDING)).isEqualTo(1L);
      assertThat(counts.count("default", WorkOrderState.COMPLETED)).isZero();

      WorkOrderId next = w.submit(WorkOrderSpec.builder("noop").build());
      assertThat(w.await(next, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
      await().atMost(WAIT).until(() -> w.stats().count(WorkOrderState.COMPLETED) == 1);
    }
  }
}
