package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.execution.ProcessSandboxProvider;
import dev.workgate.execution.ProcessSpec;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * A crash: a child JVM running a process sandbox on a SQLite store is killed with SIGKILL, which
 * leaves its {@code sleep 600} running. A new runtime on the same file, with the same node id,
 * kills the orphaned process at start and runs the work order again once the dead lease expires.
 */
@EnabledOnOs(OS.LINUX)
@Timeout(120)
class ProcessCrashTest {
  static final long GB = 1L << 30;

  @TempDir Path dir;

  static Workgate.Builder runtime(WorkOrderStore store, Path root) {
    return Workgate.builder()
        .store(store)
        .nodeId("crash-node")
        .sandboxRoot(root)
        .leaseDuration(CrashChild.lease())
        .pollInterval(Duration.ofMillis(200))
        .retryPolicy(
            RetryPolicy.builder()
                .baseDelay(Duration.ofMillis(50))
                .maxDelay(Duration.ofMillis(200))
                .jitter(Jitter.none())
                .build())
        .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"));
  }

  @Test
  void a_killed_runtime_leaves_an_orphan_that_the_next_one_kills_before_running_the_work_again()
      throws Exception {
    Path db = dir.resolve("workgate.db");
    Path root = dir.resolve("sandboxes");
    Path pidFile = dir.resolve("sandbox.pid");
    Path idFile = dir.resolve("work-order.id");
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process child =
        new ProcessBuilder(
                java.toString(),
                "-cp",
                System.getProperty("java.class.path"),
                CrashChild.class.getName(),
                db.toString(),
                root.toString(),
                pidFile.toString(),
                idFile.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("child.log").toFile())
            .start();
    long sleeperPid;
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> Files.exists(pidFile) && !Files.readString(pidFile).isBlank());
      sleeperPid = Long.parseLong(Files.readString(pidFile).trim());
    } finally {
      child.destroyForcibly(); // SIGKILL: no shutdown hooks, no cleanup
      child.waitFor(30, TimeUnit.SECONDS);
    }
    WorkOrderId id = WorkOrderId.of(Files.readString(idFile).trim());
    assertThat(ProcessHandle.of(sleeperPid).map(ProcessHandle::isAlive))
        .as("the sandbox's process outlived its runtime")
        .contains(true);

    try (WorkOrderStore store = Stores.sqlite(db);
        Workgate again =
            runtime(store, root)
                .sandboxProvider(
                    "sleeper",
                    ProcessSandboxProvider.builder(
                            root.resolve("processes"),
                            view -> ProcessSpec.builder().shell("echo second life").build())
                        .build())
                .build()) {
      again.start();

      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> ProcessHandle.of(sleeperPid).map(p -> !p.isAlive()).orElse(true));
      WorkOrderView done = again.await(id, Duration.ofSeconds(60));

      assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(done.attempt()).isEqualTo(2);
      assertThat(done.result().orElseThrow().path("stdoutTail").asText()).contains("second life");
      List<String> codes =
          again.history(id).stream()
              .filter(e -> e.event() instanceof dev.workgate.core.WorkOrderEvent.Released)
              .map(e -> ((dev.workgate.core.WorkOrderEvent.Released) e.event()).code())
              .toList();
      assertThat(codes).containsExactly(ErrorCodes.LEASE_EXPIRED);
      // The outcome is recorded before the sandbox is destroyed, so the directory of attempt 2
      // may still exist for a moment after await returns.
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                try (Stream<Path> left = Files.list(root.resolve("processes"))) {
                  assertThat(left).isEmpty();
                }
              });
    }
  }
}
