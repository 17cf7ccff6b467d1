package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A retry claimed while the previous attempt is still destroying its sandbox on the same node waits
 * for that attempt to end, instead of being refused as "already executing" (which failed the retry
 * with {@code SANDBOX_CREATION_FAILED}: a work order whose second attempt would succeed ended
 * {@code FAILED} in the chaos test).
 */
@Timeout(60)
class RetryWhileCleaningUpTest {
  static final long GB = 1L << 30;

  @TempDir Path dir;

  @Test
  void the_next_attempt_starts_only_after_the_previous_one_has_destroyed_its_sandbox()
      throws Exception {
    CountDownLatch releaseFirstDestroy = new CountDownLatch(1);
    AtomicInteger liveSandboxes = new AtomicInteger();
    AtomicInteger mostAtOnce = new AtomicInteger();
    List<Integer> created = new CopyOnWriteArrayList<>();
    SandboxProvider provider =
        new SandboxProvider() {
          @Override
          public Sandbox create(SandboxRequest request) {
            int attempt = request.attempt();
            created.add(attempt);
            mostAtOnce.accumulateAndGet(liveSandboxes.incrementAndGet(), Math::max);
            return new Sandbox() {
              private final AtomicInteger destroyed = new AtomicInteger();

              @Override
              public String id() {
                return "sb-" + attempt;
              }

              @Override
              public Path directory() {
                return dir;
              }

              @Override
              public WorkResult run() {
                return attempt == 1
                    ? WorkResult.retryableFailure(ErrorCodes.NETWORK_ERROR, "blip")
                    : WorkResult.ok();
              }

              @Override
              public void kill(Duration grace) {}

              @Override
              public void destroy() {
                if (destroyed.getAndIncrement() > 0) {
                  return;
                }
                if (attempt == 1) {
                  try {
                    releaseFirstDestroy.await(30, TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }
                liveSandboxes.decrementAndGet();
              }
            };
          }

          @Override
          public List<SandboxRecord> list() {
            return List.of();
          }

          @Override
          public void destroyOrphan(SandboxRecord orphan) {}
        };
    try (Workgate w =
        Workgate.builder()
            .nodeId("node-1")
            .sandboxRoot(dir.resolve("sandboxes"))
            .maxConcurrent(2)
            .pollInterval(Duration.ofMillis(20))
            .retryPolicy(
                RetryPolicy.builder()
                    .maxAttempts(3)
                    .baseDelay(Duration.ofMillis(1))
                    .maxDelay(Duration.ofMillis(1))
                    .jitter(Jitter.none())
                    .build())
            .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
            .sandboxProvider("slow-cleanup", provider)
            .build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("slow-cleanup").build());

      // Attempt 1 recorded its failure and is stuck destroying; attempt 2 is claimed meanwhile.
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> w.find(id).map(WorkOrderView::attempt).orElse(0) == 2);
      NodeView executions = w.node();
      await().atMost(Duration.ofSeconds(20)).until(() -> executions.activeExecutions().size() == 2);
      assertThat(created).containsExactly(1);
      assertThat(w.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.PREPARING);

      releaseFirstDestroy.countDown();
      WorkOrderView done = w.await(id, Duration.ofSeconds(20));

      assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(done.attempt()).isEqualTo(2);
      assertThat(created).containsExactly(1, 2);
      assertThat(mostAtOnce.get()).isEqualTo(1);
      List<String> failures =
          w.history(id).stream()
              .filter(e -> e.event() instanceof WorkOrderEvent.AttemptFailed)
              .map(e -> ((WorkOrderEvent.AttemptFailed) e.event()).error().code())
              .toList();
      assertThat(failures).containsExactly(ErrorCodes.NETWORK_ERROR);
      await().atMost(Duration.ofSeconds(10)).until(() -> executions.activeExecutions().isEmpty());
    }
  }
}
