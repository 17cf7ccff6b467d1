package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.execution.ProcessSandboxProvider;
import dev.workgate.execution.ProcessSpec;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/** Process sandboxes through the runtime: cancellation kills the tree, exit 137 is retried. */
@EnabledOnOs(OS.LINUX)
@Timeout(60)
class ProcessRuntimeTest {
  static final long GB = 1L << 30;

  @TempDir Path dir;

  Workgate start(String type, ProcessSandboxProvider provider) {
    Workgate w =
        Workgate.builder()
            .nodeId("proc-node")
            .sandboxRoot(dir.resolve("sandboxes"))
            .pollInterval(Duration.ofMillis(200))
            .killGrace(Duration.ofSeconds(2))
            .retryPolicy(
                RetryPolicy.builder()
                    .baseDelay(Duration.ofMillis(20))
                    .maxDelay(Duration.ofMillis(100))
                    .jitter(Jitter.none())
                    .build())
            .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
            .sandboxProvider(type, provider)
            .build();
    w.start();
    return w;
  }

  @Test
  void cancelling_a_running_sleep_600_kills_its_whole_tree() throws Exception {
    Path pids = dir.resolve("pids");
    ProcessSandboxProvider provider =
        ProcessSandboxProvider.builder(
                dir.resolve("procs"),
                view ->
                    ProcessSpec.builder()
                        .shell(
                            "sleep 600 & echo $! >> '"
                                + pids
                                + "'; echo $$ >> '"
                                + pids
                                + "'; wait")
                        .build())
            .build();
    try (Workgate w = start("sleeper", provider)) {
      WorkOrderId id = w.submit(WorkOrderSpec.builder("sleeper").build());
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> Files.exists(pids) && Files.readAllLines(pids).size() == 2);
      long[] tree = Files.readAllLines(pids).stream().mapToLong(Long::parseLong).toArray();

      long cancelledAt = System.nanoTime();
      assertThat(w.cancel(id, "not needed any more")).isTrue();
      WorkOrderView end = w.await(id, Duration.ofSeconds(30));
      Duration took = Duration.ofNanos(System.nanoTime() - cancelledAt);

      assertThat(end.state()).isEqualTo(WorkOrderState.CANCELLED);
      for (long pid : tree) {
        assertThat(gone(pid)).as("process %d of the tree", pid).isTrue();
      }
      assertThat(took)
          .as("the 2 s grace plus a generous margin")
          .isLessThan(Duration.ofSeconds(10));
    }
  }

  @Test
  void exit_137_is_oom_killed_and_the_work_runs_again() throws Exception {
    Path attempts = dir.resolve("attempts");
    ProcessSandboxProvider provider =
        ProcessSandboxProvider.builder(
                dir.resolve("procs"),
                view ->
                    ProcessSpec.builder()
                        .shell(
                            "echo x >> '"
                                + attempts
                                + "'; if [ $(wc -l < '"
                                + attempts
                                + "') -eq 1 ]; then kill -9 $$; fi; echo done")
                        .build())
            .build();
    try (Workgate w = start("oom-once", provider)) {
      WorkOrderView end =
          w.await(w.submit(WorkOrderSpec.builder("oom-once").build()), Duration.ofSeconds(30));

      assertThat(end.state()).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(end.attempt()).isEqualTo(2);
      assertThat(
              w.history(end.id()).stream()
                  .map(e -> e.event())
                  .filter(e -> e instanceof dev.workgate.core.WorkOrderEvent.AttemptFailed)
                  .map(e -> ((dev.workgate.core.WorkOrderEvent.AttemptFailed) e).error().code()))
          .containsExactly(ErrorCodes.OOM_KILLED);
    }
  }

  /** Ended: no such process, or a zombie that only waits for init to reap it. */
  static boolean gone(long pid) {
    if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      try {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
      } catch (java.io.IOException e) {
        return true; // gone while we looked
      }
    }
    return true;
  }
}
