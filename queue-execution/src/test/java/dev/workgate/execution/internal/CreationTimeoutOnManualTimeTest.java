package dev.workgate.execution.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.internal.ClockTimer;
import dev.workgate.internal.ManualDrive;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.retry.internal.RetryManager;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.scheduler.internal.ResourceMonitor;
import dev.workgate.scheduler.internal.Scheduler;
import dev.workgate.scheduler.internal.SchedulerConfig;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The sandbox creation timeout on a timer the test drives: nothing fires a moment early, and the
 * timeout is recorded the moment it passes, without waiting for real time.
 */
@Timeout(60)
class CreationTimeoutOnManualTimeTest {
  static final long GB = 1L << 30;
  static final Duration CREATION_TIMEOUT = Duration.ofMinutes(2);

  private final MutableClock clock = MutableClock.create();
  private final ClockTimer timer = new ClockTimer(clock);
  private final ExecutorService creators = Executors.newCachedThreadPool();
  private final WorkOrderStore store = Stores.inMemory(clock);

  @AfterEach
  void close() {
    creators.shutdownNow();
    store.close();
  }

  @Test
  void the_timeout_fires_exactly_when_it_passes_and_the_attempt_is_retried() throws Exception {
    SandboxCreationTimeoutTest.BlockingProvider provider =
        new SandboxCreationTimeoutTest.BlockingProvider(1, false);
    RetryManager retries =
        RetryManager.builder(store)
            .defaultPolicy(
                RetryPolicy.builder()
                    .maxAttempts(2)
                    .baseDelay(Duration.ofSeconds(5))
                    .jitter(Jitter.none())
                    .build())
            .clock(clock)
            .build();
    ExecutionManager executions =
        ExecutionManager.builder(store, retries, "node-a")
            .provider("slow", provider)
            .clock(clock)
            .sandboxCreationTimeout(CREATION_TIMEOUT)
            .executor(new ManualDrive(timer).callerThread())
            .creationExecutor(creators)
            .timer(timer)
            .killExecutor(Runnable::run)
            .build();
    Scheduler scheduler =
        Scheduler.builder(store, executions)
            .config(SchedulerConfig.builder().nodeId("node-a").build())
            .resources(
                new ResourceMonitor(
                    ResourceConfig.builder().maxConcurrent(2).build(),
                    () -> new MemoryReading(64 * GB, 60 * GB, "test"),
                    clock))
            .retries(retries)
            .clock(clock)
            .build();
    WorkOrderId id = scheduler.submit(WorkOrderSpec.builder("slow").build());

    scheduler.runOnce();
    assertThat(provider.creating.await(30, TimeUnit.SECONDS)).isTrue();

    advance(CREATION_TIMEOUT.minusMillis(1));
    assertThat(store.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.PREPARING);
    assertThat(provider.interrupted.get()).isZero();

    advance(Duration.ofMillis(1));
    assertThat(store.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.WAITING_RETRY);
    assertThat(store.find(id).orElseThrow().lastError().orElseThrow().code())
        .isEqualTo(ErrorCodes.SANDBOX_CREATION_TIMEOUT);
    // The interrupted create returns on its own thread; then the slot is free.
    await().atMost(Duration.ofSeconds(30)).until(() -> executions.activeExecutions().isEmpty());
    assertThat(provider.interrupted.get()).isEqualTo(1);
    assertThat(provider.destroyed.get()).as("it made no sandbox").isZero();
    assertThat(executions.abandonedCreations()).isEmpty();

    advance(Duration.ofSeconds(5));
    scheduler.runOnce(); // releases the due retry
    scheduler.runOnce(); // claims it
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> store.find(id).orElseThrow().state() == WorkOrderState.COMPLETED);
    assertThat(
            store.readStream(id).stream()
                .filter(e -> e.event() instanceof WorkOrderEvent.AttemptFailed)
                .count())
        .isEqualTo(1);
    assertThat(timer.pending()).as("no timer left behind").isZero();
    scheduler.close();
  }

  private void advance(Duration by) {
    clock.advance(by);
    timer.fireDue();
  }
}
