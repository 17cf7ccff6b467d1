package dev.workgate.execution.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.WorkResult;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.execution.RecordingReports;
import dev.workgate.execution.Sandbox;
import dev.workgate.execution.SandboxProvider.SandboxRequest;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class InProcessSandboxProviderTest {
  @TempDir Path dir;
  private final WorkOrderStore store = Stores.inMemory();
  private final ExecutorService handlers =
      InProcessSandboxProvider.cachedPool(r -> new Thread(r, "test-handler"));

  @AfterEach
  void close() {
    handlers.shutdownNow();
    store.close();
  }

  /** A claimed work order, as the execution manager hands it to a provider. */
  private SandboxRequest claimed() {
    WorkOrderId id = WorkOrderId.random();
    store.append(
        id,
        ExpectedVersion.none(),
        List.of(new WorkOrderEvent.Submitted(WorkOrderSpec.builder("x").build(), null)));
    WorkOrderView view =
        store
            .claim(
                new ClaimRequest(
                    "default",
                    "node-1",
                    1,
                    Capacity.unlimited(),
                    Clock.systemUTC().instant(),
                    Duration.ofMinutes(1)))
            .get(0);
    return new SandboxRequest(view, "node-1", new RecordingReports());
  }

  private static long entries(Path root) throws Exception {
    if (!Files.exists(root)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(root)) {
      return s.count();
    }
  }

  @Test
  void an_attempt_that_never_asks_for_its_working_directory_touches_no_disk() throws Exception {
    Path root = dir.resolve("sandboxes");
    InProcessSandboxProvider provider =
        new InProcessSandboxProvider(root, ctx -> WorkResult.ok(), Clock.systemUTC(), handlers);

    Sandbox sandbox = provider.create(claimed());
    assertThat(sandbox.run().succeeded()).isTrue();

    assertThat(entries(root)).isZero();
    assertThat(provider.list()).isEmpty();
    sandbox.destroy();
    assertThat(entries(root)).isZero();
  }

  @Test
  void handlers_run_on_the_executor_the_provider_was_given() throws Exception {
    ExecutorService pool =
        InProcessSandboxProvider.cachedPool(r -> new Thread(r, "given-pool-thread"));
    try {
      java.util.concurrent.atomic.AtomicReference<Thread> ranOn =
          new java.util.concurrent.atomic.AtomicReference<>();
      java.util.concurrent.atomic.AtomicReference<String> nameWhileRunning =
          new java.util.concurrent.atomic.AtomicReference<>();
      InProcessSandboxProvider provider =
          new InProcessSandboxProvider(
              dir.resolve("sandboxes"),
              ctx -> {
                ranOn.set(Thread.currentThread());
                nameWhileRunning.set(Thread.currentThread().getName());
                return WorkResult.ok();
              },
              Clock.systemUTC(),
              pool);

      Sandbox sandbox = provider.create(claimed());
      assertThat(sandbox.run().succeeded()).isTrue();

      // A thread of the given pool, renamed while it runs the handler and named back afterwards.
      assertThat(nameWhileRunning.get()).startsWith("workgate-handler-");
      assertThat(ranOn.get().getName()).isEqualTo("given-pool-thread");
      sandbox.destroy();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void a_handler_refused_by_a_shut_down_executor_fails_its_attempt_and_counts_as_stopped()
      throws Exception {
    ExecutorService pool = InProcessSandboxProvider.cachedPool(Thread::new);
    pool.shutdown();
    AtomicBoolean ran = new AtomicBoolean();
    InProcessSandboxProvider provider =
        new InProcessSandboxProvider(
            dir.resolve("sandboxes"),
            ctx -> {
              ran.set(true);
              return WorkResult.ok();
            },
            Clock.systemUTC(),
            pool);

    Sandbox sandbox = provider.create(claimed());

    assertThatThrownBy(sandbox::run).isInstanceOf(RejectedExecutionException.class);
    assertThat(sandbox.whenStopped().toCompletableFuture().isDone()).isTrue();
    assertThat(ran).isFalse();
    sandbox.destroy();
  }

  @Test
  void the_working_directory_is_made_on_first_use_with_its_record_and_deleted_on_destroy()
      throws Exception {
    Path root = dir.resolve("sandboxes");
    InProcessSandboxProvider provider =
        new InProcessSandboxProvider(
            root,
            ctx -> {
              Path first = ctx.workDir();
              Files.writeString(first.resolve("notes.txt"), "hello");
              assertThat(ctx.workDir()).isEqualTo(first); // the same directory every time
              return WorkResult.ok(Files.readString(ctx.workDir().resolve("notes.txt")));
            },
            Clock.systemUTC(),
            handlers);
    SandboxRequest request = claimed();

    Sandbox sandbox = provider.create(request);
    WorkResult result = sandbox.run();

    assertThat(result.output()).isPresent();
    assertThat(result.output().get().asText()).isEqualTo("hello");
    assertThat(sandbox.directory()).isDirectory();
    assertThat(provider.list())
        .singleElement()
        .satisfies(r -> assertThat(r.workOrderId()).isEqualTo(request.workOrder().id()));
    sandbox.destroy();
    assertThat(sandbox.directory()).doesNotExist();
    assertThat(provider.list()).isEmpty();
  }

  @Test
  void a_handler_that_asks_after_its_sandbox_was_destroyed_gets_an_error_and_no_directory()
      throws Exception {
    Path root = dir.resolve("sandboxes");
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch destroyed = new CountDownLatch(1);
    AtomicBoolean refused = new AtomicBoolean();
    InProcessSandboxProvider provider =
        new InProcessSandboxProvider(
            root,
            ctx -> {
              running.countDown();
              destroyed.await();
              try {
                ctx.workDir();
              } catch (java.io.UncheckedIOException e) {
                refused.set(e.getMessage().contains("is gone"));
              }
              return WorkResult.ok();
            },
            Clock.systemUTC(),
            handlers);
    Sandbox sandbox = provider.create(claimed());
    Thread runner =
        new Thread(
            () -> {
              try {
                sandbox.run();
              } catch (Exception e) {
                // killed: expected
              }
            });
    runner.start();
    running.await();
    sandbox.destroy();
    destroyed.countDown();
    runner.join();

    // The handler ignored the kill (it waited on the latch, not interrupted) and asked late.
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilTrue(refused);
    assertThat(entries(root)).isZero();
  }

  @Test
  void a_kill_interrupts_only_its_own_handler_never_the_next_one_on_the_same_pooled_thread()
      throws Exception {
    Path root = dir.resolve("sandboxes");
    AtomicBoolean nextSawInterrupt = new AtomicBoolean();
    InProcessSandboxProvider quick =
        new InProcessSandboxProvider(root, ctx -> WorkResult.ok(), Clock.systemUTC(), handlers);
    InProcessSandboxProvider checking =
        new InProcessSandboxProvider(
            root,
            ctx -> {
              if (Thread.currentThread().isInterrupted()) {
                nextSawInterrupt.set(true);
              }
              return WorkResult.ok();
            },
            Clock.systemUTC(),
            handlers);
    for (int i = 0; i < 300; i++) {
      Sandbox a = quick.create(claimed());
      Thread killer = new Thread(() -> a.kill(Duration.ofSeconds(5)));
      killer.start(); // races with the handler ending and its thread going back to the pool
      try {
        a.run();
      } catch (InterruptedException killedFirst) {
        // the kill won: fine
      }
      killer.join();
      Sandbox b = checking.create(claimed());
      assertThat(b.run().succeeded()).isTrue();
    }
    assertThat(nextSawInterrupt).isFalse();
  }

  @Test
  void a_handler_that_returned_has_stopped_by_the_time_run_returns() throws Exception {
    InProcessSandboxProvider provider =
        new InProcessSandboxProvider(
            dir.resolve("sandboxes"), ctx -> WorkResult.ok(), Clock.systemUTC(), handlers);
    for (int i = 0; i < 200; i++) {
      Sandbox sandbox = provider.create(claimed());
      sandbox.run();
      assertThat(sandbox.whenStopped().toCompletableFuture().isDone())
          .as("never mistaken for an abandoned handler")
          .isTrue();
      sandbox.destroy();
    }
  }

  @Test
  void a_handler_that_ignores_its_kill_has_not_stopped_until_its_thread_leaves_it()
      throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch letGo = new CountDownLatch(1);
    InProcessSandboxProvider provider =
        new InProcessSandboxProvider(
            dir.resolve("sandboxes"),
            ctx -> {
              running.countDown();
              while (true) {
                try {
                  if (letGo.await(30, TimeUnit.SECONDS)) {
                    return WorkResult.ok();
                  }
                } catch (InterruptedException ignored) {
                  // ignores its kill
                }
              }
            },
            Clock.systemUTC(),
            handlers);
    Sandbox sandbox = provider.create(claimed());
    CompletableFuture<Throwable> ran =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                sandbox.run();
                return null;
              } catch (Exception e) {
                return e;
              }
            });
    assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();

    sandbox.kill(Duration.ofMillis(50));

    assertThat(ran.get(30, TimeUnit.SECONDS))
        .as("run gave up on it")
        .isInstanceOf(InterruptedException.class);
    sandbox.destroy();
    assertThat(sandbox.whenStopped().toCompletableFuture().isDone()).isFalse();

    letGo.countDown();

    sandbox.whenStopped().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void a_sandbox_destroyed_before_it_ran_has_stopped() throws Exception {
    InProcessSandboxProvider provider =
        new InProcessSandboxProvider(
            dir.resolve("sandboxes"), ctx -> WorkResult.ok(), Clock.systemUTC(), handlers);
    Sandbox sandbox = provider.create(claimed());

    sandbox.destroy();

    assertThat(sandbox.whenStopped().toCompletableFuture().isDone()).isTrue();
  }
}
