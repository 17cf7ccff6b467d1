package dev.workgate.execution.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A handler that ignores its stop keeps its slot until its thread ends, or up to a cap. */
@Timeout(60)
class AbandonedHandlerTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final long GB = 1L << 30;

  @TempDir Path dir;

  private final CountDownLatch running = new CountDownLatch(1);
  private final CountDownLatch letGo = new CountDownLatch(1);
  private final CountDownLatch ended = new CountDownLatch(1);

  @AfterEach
  void releaseTheHandler() {
    letGo.countDown();
  }

  /** Waits for {@link #letGo}, swallowing every interrupt and never looking at cancellation. */
  private WorkResult stubborn() {
    running.countDown();
    try {
      while (true) {
        try {
          if (letGo.await(30, TimeUnit.SECONDS)) {
            return WorkResult.ok();
          }
        } catch (InterruptedException ignored) {
          // ignores its stop
        }
      }
    } finally {
      ended.countDown();
    }
  }

  private Workgate.Builder node() {
    return Workgate.builder()
        .sandboxRoot(dir.resolve("sandboxes"))
        .maxConcurrent(2)
        .killGrace(Duration.ofMillis(100))
        .pollInterval(Duration.ofMillis(20))
        .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
        .handler("stubborn", ctx -> stubborn());
  }

  @Test
  void an_abandoned_handler_keeps_its_slot_until_its_thread_ends() throws Exception {
    try (Workgate w = node().build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("stubborn").queue("default").build());
      assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();

      w.cancel(id, "no longer wanted");

      // The outcome is recorded after the grace, as before ...
      assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.CANCELLED);
      await().atMost(WAIT).until(() -> w.node().activeExecutions().isEmpty());
      // ... but the slot stays in use while the handler's thread runs.
      assertThat(w.stats().activeSlots()).isEqualTo(1);
      assertThat(w.node().abandonedHandlers())
          .singleElement()
          .satisfies(
              a -> {
                assertThat(a.workOrderId()).isEqualTo(id);
                assertThat(a.attempt()).isEqualTo(1);
                assertThat(a.queue()).isEqualTo("default");
                assertThat(a.slotsHeld()).isEqualTo(1);
                assertThat(a.abandonedAt()).isNotNull();
              });
      assertThat(ended.getCount()).as("the handler still runs").isEqualTo(1);

      letGo.countDown();

      await().atMost(WAIT).until(() -> w.stats().activeSlots() == 0);
      assertThat(w.node().abandonedHandlers()).isEmpty();
      assertThat(ended.getCount()).isZero();
    }
  }

  @Test
  void an_abandoned_handler_gives_its_slot_back_after_the_cap_while_its_thread_goes_on()
      throws Exception {
    try (Workgate w = node().abandonedHandlerSlotCap(Duration.ofMillis(300)).build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("stubborn").build());
      assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();

      w.cancel(id, "no longer wanted");
      assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.CANCELLED);

      await().atMost(WAIT).until(() -> w.node().abandonedHandlers().isEmpty());
      assertThat(w.stats().activeSlots()).isZero();
      assertThat(ended.getCount()).as("the thread still runs past the cap").isEqualTo(1);
    }
  }

  @Test
  void a_handler_that_stops_when_asked_frees_its_slot_without_being_abandoned() throws Exception {
    try (Workgate w =
        node()
            .handler(
                "polite",
                ctx -> {
                  running.countDown();
                  letGo.await(30, TimeUnit.SECONDS);
                  return WorkResult.ok();
                })
            .build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("polite").build());
      assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();

      w.cancel(id, "no longer wanted");

      assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.CANCELLED);
      await().atMost(WAIT).until(() -> w.stats().activeSlots() == 0);
      assertThat(w.node().abandonedHandlers()).isEmpty();
    }
  }

  @Test
  void the_cap_is_checked() {
    Workgate.Builder b = Workgate.builder();
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> b.abandonedHandlerSlotCap(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("abandonedHandlerSlotCap");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> b.sandboxCreationTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sandboxCreationTimeout");
  }
}
