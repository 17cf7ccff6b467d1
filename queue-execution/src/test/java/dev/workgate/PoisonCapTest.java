package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A work order that takes down every node it lands on ends: each node that stops under it releases
 * it without charge, and the release past {@code maxReleases} fails it as {@code POISONED}, so it
 * does not cycle through the cluster forever.
 */
@Timeout(120)
class PoisonCapTest {
  static final long GB = 1L << 30;

  @TempDir Path dir;

  @Test
  void work_that_every_node_stops_under_fails_as_poisoned_after_the_release_cap() throws Exception {
    Semaphore running = new Semaphore(0);
    WorkHandler poison =
        ctx -> {
          running.release();
          new CountDownLatch(1).await(); // holds its node until the node is stopped
          return WorkResult.ok();
        };
    try (WorkOrderStore store = Stores.inMemory()) {
      WorkOrderId id = null;
      for (int n = 1; n <= 3; n++) {
        try (Workgate node =
            Workgate.builder()
                .store(store)
                .nodeId("node-" + n)
                .sandboxRoot(dir.resolve("node-" + n))
                .pollInterval(Duration.ofMillis(20))
                .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
                .maxReleases(2)
                .handler("poison", poison)
                .build()) {
          node.start();
          if (id == null) {
            id = node.submit(WorkOrderSpec.builder("poison").maxAttempts(1).build());
          }
          assertThat(running.tryAcquire(30, TimeUnit.SECONDS)).as("node-%d runs it", n).isTrue();

          node.shutdown(Duration.ofMillis(50)); // the "crash" it causes, as a deploy would
        }
        WorkOrderView after = store.find(id).orElseThrow();
        if (n < 3) {
          assertThat(after.state()).as("after node-%d", n).isEqualTo(WorkOrderState.PENDING);
          assertThat(after.releases()).isEqualTo(n);
        }
      }

      WorkOrderView ended = store.find(id).orElseThrow();
      assertThat(ended.state()).isEqualTo(WorkOrderState.FAILED);
      ErrorInfo error = ended.lastError().orElseThrow();
      assertThat(error.code()).isEqualTo(ErrorCodes.POISONED);
      assertThat(error.retryable()).isFalse();
      assertThat(error.message()).contains(ErrorCodes.NODE_SHUTDOWN);
      assertThat(ended.attempt()).isEqualTo(3);
      assertThat(ended.releases()).isEqualTo(2);
      List<WorkOrderEvent> events =
          store.readStream(id).stream().map(RecordedEvent::event).toList();
      assertThat(events).filteredOn(WorkOrderEvent.Released.class::isInstance).hasSize(2);
      assertThat(events.get(events.size() - 1))
          .isInstanceOfSatisfying(
              WorkOrderEvent.AttemptFailed.class,
              f ->
                  assertThat(f.decision())
                      .isEqualTo(
                          "release limit reached: released 2 time(s) before, at most 2 allowed"));
    }
  }
}
