package dev.workgate.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.ErrorCodes;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.retry.Jitter;
import dev.workgate.retry.RetryManager;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.scheduler.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.scheduler.ResourceMonitor;
import dev.workgate.scheduler.Scheduler;
import dev.workgate.scheduler.SchedulerConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
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
  private final ManualTimer timer = new ManualTimer();
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
            .executor(new InlineExecutor())
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
    timer.runDue(by);
  }

  /** Runs each task on the calling thread. */
  static final class InlineExecutor extends AbstractExecutorService {
    private volatile boolean shutdown;

    @Override
    public void execute(Runnable command) {
      command.run();
    }

    @Override
    public void shutdown() {
      shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
      shutdown = true;
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return shutdown;
    }

    @Override
    public boolean isTerminated() {
      return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return true;
    }
  }

  /** One-shot timers on time the test moves with {@link #runDue}. Thread-safe. */
  static final class ManualTimer extends AbstractExecutorService
      implements ScheduledExecutorService {
    private final List<Task> tasks = new ArrayList<>();
    private long now;

    /** Moves time on and runs what became due, in order of due time, on the calling thread. */
    void runDue(Duration by) {
      List<Task> due = new ArrayList<>();
      synchronized (this) {
        now += by.toNanos();
        for (Task t : tasks) {
          if (t.at <= now) {
            due.add(t);
          }
        }
        tasks.removeAll(due);
      }
      due.sort(Comparator.comparingLong(t -> t.at));
      for (Task t : due) {
        if (!t.cancelled) {
          t.done = true;
          t.command.run();
        }
      }
    }

    synchronized int pending() {
      return (int) tasks.stream().filter(t -> !t.cancelled).count();
    }

    @Override
    public synchronized ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
      long nanos = unit.toNanos(delay);
      Task t = new Task(command, now + Math.min(nanos, Long.MAX_VALUE / 4));
      tasks.add(t);
      return t;
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
      throw new UnsupportedOperationException("only Runnable timers are used");
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(
        Runnable command, long initialDelay, long period, TimeUnit unit) {
      throw new UnsupportedOperationException("only one-shot timers are used");
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(
        Runnable command, long initialDelay, long delay, TimeUnit unit) {
      throw new UnsupportedOperationException("only one-shot timers are used");
    }

    @Override
    public void execute(Runnable command) {
      schedule(command, 0, TimeUnit.NANOSECONDS);
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

    private final class Task implements ScheduledFuture<Object> {
      final Runnable command;
      final long at;
      volatile boolean cancelled;
      volatile boolean done;

      Task(Runnable command, long at) {
        this.command = command;
        this.at = at;
      }

      @Override
      public long getDelay(TimeUnit unit) {
        synchronized (ManualTimer.this) {
          return unit.convert(at - now, TimeUnit.NANOSECONDS);
        }
      }

      @Override
      public int compareTo(Delayed o) {
        return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
      }

      @Override
      public boolean cancel(boolean mayInterruptIfRunning) {
        if (done || cancelled) {
          return false;
        }
        cancelled = true;
        synchronized (ManualTimer.this) {
          tasks.remove(this);
        }
        return true;
      }

      @Override
      public boolean isCancelled() {
        return cancelled;
      }

      @Override
      public boolean isDone() {
        return done || cancelled;
      }

      @Override
      public Object get() {
        throw new UnsupportedOperationException("timers are not waited for");
      }

      @Override
      public Object get(long timeout, TimeUnit unit) {
        throw new UnsupportedOperationException("timers are not waited for");
      }
    }
  }
}
