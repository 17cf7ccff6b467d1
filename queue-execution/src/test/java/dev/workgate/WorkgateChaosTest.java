package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.execution.ProcessSandboxProvider;
import dev.workgate.execution.ProcessSpec;
import dev.workgate.execution.internal.SandboxPaths;
import dev.workgate.execution.internal.SandboxRecords;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile handlers and a busy orphan reaper: every work order ends as its policy predicts, no
 * sandbox directory remains, and the reaper never touches a live execution's sandbox.
 */
@Timeout(120)
class WorkgateChaosTest {
  static final long GB = 1L << 30;

  @TempDir Path dir;

  /** What a work order's attempts do, decided up front from its payload. */
  enum Behaviour {
    OK,
    RETRYABLE,
    FATAL,
    THROWS_IO,
    THROWS_RUNTIME,
    HANGS
  }

  @Test
  void random_failures_end_every_work_order_as_the_policy_predicts_and_leave_nothing_behind()
      throws Exception {
    int maxAttempts = 3;
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(maxAttempts)
            .baseDelay(Duration.ofMillis(10))
            .maxDelay(Duration.ofMillis(50))
            .jitter(Jitter.full())
            .build();
    Path root = dir.resolve("sandboxes");
    AtomicBoolean reaperKilledLiveWork = new AtomicBoolean();
    try (Workgate w =
        Workgate.builder()
            .nodeId("chaos-node")
            .sandboxRoot(root)
            .maxConcurrent(4)
            .pollInterval(Duration.ofMillis(100))
            .retryPolicy(policy)
            .killGrace(Duration.ofSeconds(5))
            .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
            .handler(
                "chaos",
                ctx -> {
                  Path marker = ctx.workDir().resolve("alive");
                  Files.writeString(marker, "x");
                  List<String> plan = new ArrayList<>();
                  ctx.payload().path("plan").forEach(n -> plan.add(n.asText()));
                  Behaviour b =
                      Behaviour.valueOf(plan.get(Math.min(ctx.attempt(), plan.size()) - 1));
                  try {
                    switch (b) {
                      case OK:
                        return WorkResult.ok();
                      case RETRYABLE:
                        return WorkResult.retryableFailure(ErrorCodes.NETWORK_ERROR, "blip");
                      case FATAL:
                        return WorkResult.fatalFailure(ErrorCodes.AGENT_FATAL_ERROR, "gave up");
                      case THROWS_IO:
                        throw new IOException("reset by peer");
                      case THROWS_RUNTIME:
                        throw new IllegalStateException("handler bug");
                      case HANGS:
                        new CountDownLatch(1).await();
                        return WorkResult.ok();
                      default:
                        throw new AssertionError(b);
                    }
                  } finally {
                    if (!Files.exists(marker)) {
                      reaperKilledLiveWork.set(true); // its directory vanished while it ran
                    }
                  }
                })
            .build()) {
      w.start();
      SplittableRandom random = new SplittableRandom(42);
      Map<WorkOrderId, List<Behaviour>> plans = new LinkedHashMap<>();
      for (int i = 0; i < 60; i++) {
        List<Behaviour> plan = new ArrayList<>();
        for (int a = 0; a < maxAttempts; a++) {
          Behaviour[] all = Behaviour.values();
          plan.add(all[random.nextInt(all.length)]);
        }
        List<String> names = plan.stream().map(Enum::name).toList();
        WorkOrderId id =
            w.submit(
                WorkOrderSpec.builder("chaos")
                    .payload(Map.of("plan", names))
                    // Long enough that an OK attempt never runs past it on a loaded 2-core
                    // machine (300 ms once did in CI), short enough that hangs end quickly.
                    .timeout(Duration.ofSeconds(1))
                    .build());
        plans.put(id, plan);
      }

      // The cleanup race: the orphan reaper runs again and again while executions are active.
      AtomicBoolean reaping = new AtomicBoolean(true);
      AtomicInteger reaps = new AtomicInteger();
      Thread reaper =
          new Thread(
              () -> {
                while (reaping.get()) {
                  w.reapOrphans();
                  reaps.incrementAndGet();
                }
              });
      reaper.start();
      List<String> wrong = new ArrayList<>();
      try {
        for (Map.Entry<WorkOrderId, List<Behaviour>> e : plans.entrySet()) {
          WorkOrderView end = w.await(e.getKey(), Duration.ofSeconds(60));
          String expected = predict(e.getValue(), maxAttempts);
          String actual = end.state() + "@" + end.attempt();
          if (!expected.equals(actual)) {
            wrong.add(
                e.getKey() + " " + e.getValue() + ": expected " + expected + ", got " + actual);
          }
        }
      } finally {
        reaping.set(false);
        reaper.join(10_000);
      }

      assertThat(wrong).isEmpty();
      assertThat(reaps.get()).isGreaterThan(10);
      assertThat(reaperKilledLiveWork.get()).isFalse();
      await().atMost(Duration.ofSeconds(30)).until(() -> w.stats().activeSlots() == 0);
      try (Stream<Path> left = Files.list(root.resolve("in-process"))) {
        assertThat(left).isEmpty();
      }
    }
  }

  /** The state and attempt a plan must end in: transient failures retry while attempts last. */
  static String predict(List<Behaviour> plan, int maxAttempts) {
    for (int attempt = 1; attempt <= maxAttempts; attempt++) {
      Behaviour b = plan.get(attempt - 1);
      switch (b) {
        case OK:
          return "COMPLETED@" + attempt;
        case FATAL:
          return "FAILED@" + attempt;
        default:
          // RETRYABLE, THROWS_IO (NETWORK_ERROR), THROWS_RUNTIME (UNKNOWN_ERROR), HANGS (TIMEOUT)
          // all retry.
          if (attempt == maxAttempts) {
            return "FAILED@" + attempt;
          }
      }
    }
    throw new AssertionError("unreachable");
  }

  @Test
  void start_destroys_sandboxes_left_by_a_previous_life_of_the_node() throws Exception {
    Path root = dir.resolve("sandboxes");
    Path leftover = root.resolve("in-process").resolve("old-a1-000000000000");
    Files.createDirectories(leftover.resolve("work"));
    SandboxRecords.write(
        leftover,
        new dev.workgate.execution.SandboxProvider.SandboxRecord(
            "old-a1-000000000000",
            WorkOrderId.of("old"),
            1,
            "node-1",
            Instant.parse("2025-01-01T00:00:00Z")),
        Map.of("kind", "in-process"));

    try (Workgate w =
        Workgate.builder()
            .nodeId("node-1")
            .sandboxRoot(root)
            .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
            .handler("x", ctx -> WorkResult.ok())
            .build()) {
      w.start();

      assertThat(leftover).doesNotExist();
    }
  }

  @Test
  void start_destroys_sandbox_directories_that_a_crash_left_without_their_record()
      throws Exception {
    Path root = dir.resolve("sandboxes");
    // SIGKILL between creating the directory and writing the record, or while the record's
    // temporary file was being renamed into place.
    Path bare = root.resolve("in-process").resolve(SandboxPaths.name(WorkOrderId.random(), 1));
    Files.createDirectories(bare);
    Path halfWritten =
        root.resolve("processes").resolve(SandboxPaths.name(WorkOrderId.random(), 2));
    Files.createDirectories(halfWritten);
    Files.writeString(halfWritten.resolve(SandboxRecords.FILE + ".tmp"), "{\"sandboxId\":");
    Path notASandbox = Files.createDirectories(root.resolve("in-process").resolve("keep-me"));

    try (Workgate w =
        Workgate.builder()
            .nodeId("node-1")
            .sandboxRoot(root)
            .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
            .handler("x", ctx -> WorkResult.ok())
            .sandboxProvider(
                "p",
                ProcessSandboxProvider.builder(
                        root.resolve("processes"),
                        view -> ProcessSpec.builder().shell("true").build())
                    .build())
            .build()) {
      w.start();

      assertThat(bare).doesNotExist();
      assertThat(halfWritten).doesNotExist();
      assertThat(notASandbox).exists();
    }
  }

  @Test
  void a_sandbox_directory_without_its_record_is_left_alone_while_another_node_holds_its_attempt()
      throws Exception {
    Path root = dir.resolve("sandboxes");
    CountDownLatch release = new CountDownLatch(1);
    try (WorkOrderStore store = Stores.inMemory();
        Workgate other =
            Workgate.builder()
                .store(store)
                .nodeId("node-2")
                .sandboxRoot(root)
                .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
                .handler(
                    "x",
                    ctx -> {
                      ctx.workDir(); // the directory exists once the handler asks for it
                      release.await();
                      return WorkResult.ok();
                    })
                .build()) {
      other.start();
      WorkOrderId id = other.submit(WorkOrderSpec.builder("x").build());
      Path sandbox = root.resolve("in-process").resolve(SandboxPaths.name(id, 1));
      await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(sandbox));
      // As if node-2 were still between creating the directory and writing its record.
      Files.delete(sandbox.resolve(SandboxRecords.FILE));

      try (Workgate w =
          Workgate.builder()
              .store(store)
              .nodeId("node-1")
              .sandboxRoot(root)
              .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
              .handler("x", ctx -> WorkResult.ok())
              .build()) {
        w.start();
        assertThat(w.reapOrphans()).isZero();
        assertThat(sandbox).exists();
      }
      release.countDown();
      assertThat(other.await(id, Duration.ofSeconds(10)).state())
          .isEqualTo(dev.workgate.core.WorkOrderState.COMPLETED);
    }
  }
}
