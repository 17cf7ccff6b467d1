package dev.workgate.execution.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A node that shuts down past its grace gives its work back without costing an attempt. */
@Timeout(60)
class ShutdownReleaseTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final long GB = 1L << 30;

  @TempDir Path dir;

  private Workgate.Builder node(WorkOrderStore store, String id) {
    return Workgate.builder()
        .store(store)
        .nodeId(id)
        .sandboxRoot(dir.resolve(id))
        .pollInterval(Duration.ofMillis(20))
        .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"));
  }

  @Test
  void work_on_its_last_attempt_runs_again_on_a_new_node_after_a_shutdown_past_the_grace()
      throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    try (WorkOrderStore store = Stores.inMemory()) {
      WorkOrderId id;
      try (Workgate first =
          node(store, "node-a")
              .handler(
                  "deploy-me",
                  ctx -> {
                    started.countDown();
                    new CountDownLatch(1).await(); // runs until its node stops it
                    return WorkResult.ok();
                  })
              .build()) {
        first.start();
        id = first.submit(WorkOrderSpec.builder("deploy-me").maxAttempts(1).build());
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();

        first.shutdown(Duration.ofMillis(100));

        WorkOrderView released = first.find(id).orElseThrow();
        assertThat(released.state()).isEqualTo(WorkOrderState.PENDING);
        assertThat(released.releases()).isEqualTo(1);
        assertThat(released.chargedAttempts()).isZero();
      }

      try (Workgate second =
          node(store, "node-b").handler("deploy-me", ctx -> WorkResult.ok("done")).build()) {
        second.start();

        WorkOrderView done = second.await(id, WAIT);

        assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
        assertThat(done.attempt()).isEqualTo(2);
        assertThat(done.chargedAttempts()).isEqualTo(1);
        List<WorkOrderEvent> events =
            second.history(id).stream().map(RecordedEvent::event).toList();
        assertThat(events).noneMatch(WorkOrderEvent.AttemptFailed.class::isInstance);
        assertThat(events)
            .filteredOn(WorkOrderEvent.Released.class::isInstance)
            .singleElement()
            .satisfies(
                e ->
                    assertThat(((WorkOrderEvent.Released) e).code())
                        .isEqualTo(ErrorCodes.NODE_SHUTDOWN));
      }
    }
  }

  @Test
  void a_shutdown_of_work_whose_cancellation_was_requested_cancels_it() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    try (WorkOrderStore store = Stores.inMemory();
        Workgate node =
            node(store, "node-a")
                .killGrace(Duration.ofSeconds(5))
                .handler(
                    "stubborn",
                    ctx -> {
                      started.countDown();
                      new CountDownLatch(1).await();
                      return WorkResult.ok();
                    })
                .build()) {
      node.start();
      WorkOrderId id = node.submit(WorkOrderSpec.builder("stubborn").build());
      assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
      // Requested on the store only, as another node's cancel would be, before this node hears.
      dev.workgate.core.internal.Cancellations.request(store, id, "not needed");

      node.shutdown(Duration.ZERO);

      assertThat(node.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.CANCELLED);
    }
  }
}
