package dev.workgate.execution.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.execution.SandboxProvider.SandboxRecord;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A running node destroys orphaned sandboxes periodically, never a live one. */
@Timeout(60)
class PeriodicOrphanReaperTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final long GB = 1L << 30;

  @TempDir Path dir;

  @Test
  void an_orphan_that_appears_while_the_node_runs_is_destroyed_without_a_restart()
      throws Exception {
    Path root = dir.resolve("sandboxes");
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch letGo = new CountDownLatch(1);
    AtomicReference<Path> liveDir = new AtomicReference<>();
    try (Workgate w =
        Workgate.builder()
            .sandboxRoot(root)
            .orphanReapInterval(Duration.ofSeconds(1))
            .pollInterval(Duration.ofMillis(20))
            .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
            .handler(
                "live",
                ctx -> {
                  liveDir.set(ctx.workDir());
                  running.countDown();
                  letGo.await(30, TimeUnit.SECONDS);
                  return WorkResult.ok();
                })
            .build()) {
      w.start();
      WorkOrderId live = w.submit(WorkOrderSpec.builder("live").build());
      assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();

      // A sandbox left by a node that is gone (its destroy failed, or it crashed), for a work
      // order the store does not hold: it appears after start, so only a periodic run finds it.
      WorkOrderId gone = WorkOrderId.of("gone-1");
      String name = SandboxPaths.name(gone, 1);
      Path orphan = Files.createDirectories(root.resolve("in-process").resolve(name));
      SandboxRecords.write(
          orphan,
          new SandboxRecord(name, gone, 1, "dead-node", Instant.parse("2026-01-01T00:00:00Z")),
          Map.of("kind", "in-process"));
      Files.writeString(Files.createDirectory(orphan.resolve("work")).resolve("left.txt"), "x");

      await().atMost(WAIT).until(() -> !Files.exists(orphan));

      assertThat(liveDir.get()).as("the live sandbox is never touched").isDirectory();
      letGo.countDown();
      assertThat(w.await(live, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    }
  }

  @Test
  void the_interval_is_checked() {
    Workgate.Builder b = Workgate.builder();
    assertThatThrownBy(() -> b.orphanReapInterval(Duration.ofMillis(500)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("orphanReapInterval")
        .hasMessageContaining("500ms");
    assertThatThrownBy(() -> b.orphanReapInterval(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("orphanReapInterval");
    assertThatThrownBy(() -> b.orphanReapInterval(Duration.ofDays(2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("orphanReapInterval");
    b.orphanReapInterval(Duration.ZERO);
  }
}
