package dev.workgate.execution.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.execution.Sandbox;
import dev.workgate.execution.SandboxProvider;
import dev.workgate.execution.SandboxProvider.SandboxRecord;
import dev.workgate.execution.SandboxProvider.SandboxRequest;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sandbox creation that hangs is given up after the creation timeout, or at once on a cancel or a
 * shutdown, and a sandbox it returns afterwards is destroyed.
 */
@Timeout(60)
class SandboxCreationTimeoutTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final Duration QUICKLY = Duration.ofSeconds(5);
  static final long GB = 1L << 30;

  @TempDir Path dir;

  /**
   * A provider whose first {@code blockedCreates} creations wait for {@link #letGo}, ignoring
   * interrupts when told to; later ones return at once.
   */
  static final class BlockingProvider implements SandboxProvider {
    final CountDownLatch letGo = new CountDownLatch(1);
    final CountDownLatch creating = new CountDownLatch(1);
    final AtomicInteger creates = new AtomicInteger();
    final AtomicInteger interrupted = new AtomicInteger();
    final AtomicInteger ran = new AtomicInteger();
    final AtomicInteger destroyed = new AtomicInteger();
    final int blockedCreates;
    final boolean ignoreInterrupts;

    BlockingProvider(int blockedCreates, boolean ignoreInterrupts) {
      this.blockedCreates = blockedCreates;
      this.ignoreInterrupts = ignoreInterrupts;
    }

    @Override
    public Sandbox create(SandboxRequest request) throws Exception {
      if (creates.incrementAndGet() <= blockedCreates) {
        creating.countDown();
        while (true) {
          try {
            if (letGo.await(30, TimeUnit.SECONDS)) {
              break;
            }
          } catch (InterruptedException e) {
            interrupted.incrementAndGet();
            if (!ignoreInterrupts) {
              throw e;
            }
          }
        }
      }
      return new Sandbox() {
        @Override
        public String id() {
          return SandboxPaths.name(request.workOrder().id(), request.attempt());
        }

        @Override
        public Path directory() {
          return Path.of("/nonexistent");
        }

        @Override
        public WorkResult run() {
          ran.incrementAndGet();
          return WorkResult.ok();
        }

        @Override
        public void kill(Duration grace) {}

        @Override
        public void destroy() {
          destroyed.incrementAndGet();
        }
      };
    }

    @Override
    public List<SandboxRecord> list() {
      return List.of();
    }

    @Override
    public void destroyOrphan(SandboxRecord orphan) {}
  }

  private Workgate.Builder node(SandboxProvider provider) {
    return Workgate.builder()
        .sandboxRoot(dir.resolve("sandboxes"))
        .sandboxProvider("slow", provider)
        .pollInterval(Duration.ofMillis(20))
        .retryPolicy(
            RetryPolicy.builder()
                .maxAttempts(2)
                .baseDelay(Duration.ofMillis(10))
                .maxDelay(Duration.ofMillis(20))
                .jitter(Jitter.none())
                .build())
        .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"));
  }

  @Test
  void a_creation_past_its_timeout_is_recorded_as_a_creation_timeout_and_retried()
      throws Exception {
    BlockingProvider provider = new BlockingProvider(1, false);
    try (Workgate w = node(provider).sandboxCreationTimeout(Duration.ofMillis(200)).build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("slow").build());

      WorkOrderView done = w.await(id, WAIT);

      assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(done.attempt()).isEqualTo(2);
      assertThat(failureCodes(w, id)).containsExactly(ErrorCodes.SANDBOX_CREATION_TIMEOUT);
      assertThat(provider.interrupted.get()).as("the hung create was interrupted").isEqualTo(1);
      assertThat(provider.ran.get()).as("only the second attempt ran").isEqualTo(1);
      assertThat(w.node().abandonedCreations()).isEmpty();
    }
  }

  @Test
  void a_sandbox_returned_after_its_creation_was_given_up_is_destroyed_and_never_runs()
      throws Exception {
    BlockingProvider provider = new BlockingProvider(1, true);
    try (Workgate w = node(provider).sandboxCreationTimeout(Duration.ofMillis(200)).build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("slow").build());

      // The timeout is recorded at once, while the create still hangs, ignoring its interrupt:
      // the attempt's slot stays in use until the create returns.
      await().atMost(WAIT).until(() -> !failureCodes(w, id).isEmpty());
      assertThat(failureCodes(w, id)).containsExactly(ErrorCodes.SANDBOX_CREATION_TIMEOUT);
      assertThat(w.node().abandonedCreations()).hasSize(1);
      assertThat(w.stats().activeSlots()).isGreaterThanOrEqualTo(1);
      assertThat(provider.ran.get()).isZero();

      provider.letGo.countDown();

      assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
      await().atMost(WAIT).until(() -> w.node().abandonedCreations().isEmpty());
      await().atMost(WAIT).until(() -> provider.destroyed.get() == 2);
      assertThat(provider.ran.get()).as("only the retry ran").isEqualTo(1);
      assertThat(failureCodes(w, id)).containsExactly(ErrorCodes.SANDBOX_CREATION_TIMEOUT);
      await().atMost(WAIT).until(() -> w.stats().activeSlots() == 0);
    }
  }

  @Test
  void a_cancel_during_creation_ends_the_work_order_at_once() throws Exception {
    BlockingProvider provider = new BlockingProvider(1, true);
    try (Workgate w = node(provider).sandboxCreationTimeout(Duration.ofMinutes(10)).build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("slow").build());
      assertThat(provider.creating.await(30, TimeUnit.SECONDS)).isTrue();

      long before = System.nanoTime();
      assertThat(w.cancel(id, "not needed")).isTrue();
      WorkOrderView done = w.await(id, QUICKLY);

      assertThat(done.state()).isEqualTo(WorkOrderState.CANCELLED);
      assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(QUICKLY);
      assertThat(w.node().abandonedCreations())
          .singleElement()
          .satisfies(
              c -> {
                assertThat(c.workOrderId()).isEqualTo(id);
                assertThat(c.attempt()).isEqualTo(1);
              });
      assertThat(w.stats().activeSlots()).as("held while the create still runs").isEqualTo(1);

      provider.letGo.countDown();

      await().atMost(WAIT).until(() -> w.stats().activeSlots() == 0);
      assertThat(w.node().abandonedCreations()).isEmpty();
      assertThat(provider.destroyed.get()).isEqualTo(1);
      assertThat(provider.ran.get()).isZero();
    }
  }

  @Test
  void a_creation_that_never_returns_frees_its_slot_after_the_cap() throws Exception {
    BlockingProvider provider = new BlockingProvider(1, true);
    try (Workgate w =
        node(provider)
            .sandboxCreationTimeout(Duration.ofMinutes(10))
            .abandonedHandlerSlotCap(Duration.ofMillis(300))
            .build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("slow").build());
      assertThat(provider.creating.await(30, TimeUnit.SECONDS)).isTrue();
      w.cancel(id, "not needed");
      assertThat(w.await(id, QUICKLY).state()).isEqualTo(WorkOrderState.CANCELLED);

      await().atMost(WAIT).until(() -> w.stats().activeSlots() == 0);
      assertThat(w.node().activeExecutions()).isEmpty();
      assertThat(w.node().abandonedCreations()).as("still running").hasSize(1);

      provider.letGo.countDown();
      await().atMost(WAIT).until(() -> w.node().abandonedCreations().isEmpty());
      assertThat(provider.destroyed.get()).isEqualTo(1);
    }
  }

  @Test
  void a_shutdown_during_creation_stops_at_once() throws Exception {
    BlockingProvider provider = new BlockingProvider(1, false);
    try (Workgate w = node(provider).sandboxCreationTimeout(Duration.ofMinutes(10)).build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("slow").build());
      assertThat(provider.creating.await(30, TimeUnit.SECONDS)).isTrue();

      long before = System.nanoTime();
      w.shutdown(Duration.ZERO);

      assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(QUICKLY);
      // shutdown does not wait for a given-up creation to return: the execution leaves the list
      // once its interrupted create has returned on the creation thread, a moment later.
      await().atMost(QUICKLY).until(() -> w.node().activeExecutions().isEmpty());
      assertThat(provider.interrupted.get()).isEqualTo(1);
      assertThat(provider.ran.get()).isZero();
      assertThat(w.find(id).orElseThrow().state()).isNotIn(WorkOrderState.PREPARING);
      assertThat(w.history(id).stream().map(e -> e.event().getClass().getSimpleName()))
          .doesNotContain("Started");
    }
  }

  @Test
  void a_shutdown_does_not_wait_for_a_creation_that_ignores_its_interrupt() throws Exception {
    BlockingProvider provider = new BlockingProvider(1, true);
    try (Workgate w = node(provider).sandboxCreationTimeout(Duration.ofMinutes(10)).build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("slow").build());
      assertThat(provider.creating.await(30, TimeUnit.SECONDS)).isTrue();

      long before = System.nanoTime();
      w.shutdown(Duration.ZERO);

      assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(QUICKLY);
      assertThat(w.find(id).orElseThrow().state()).isNotIn(WorkOrderState.PREPARING);
      assertThat(w.node().abandonedCreations()).hasSize(1);

      provider.letGo.countDown();
      await().atMost(WAIT).until(() -> w.node().abandonedCreations().isEmpty());
      await().atMost(WAIT).until(() -> w.node().activeExecutions().isEmpty());
      assertThat(provider.destroyed.get()).as("the late sandbox is destroyed").isEqualTo(1);
      assertThat(provider.ran.get()).isZero();
    }
  }

  private static List<String> failureCodes(Workgate w, WorkOrderId id) {
    return w.history(id).stream()
        .filter(e -> e.event() instanceof WorkOrderEvent.AttemptFailed)
        .map(e -> ((WorkOrderEvent.AttemptFailed) e.event()).error().code())
        .toList();
  }
}
