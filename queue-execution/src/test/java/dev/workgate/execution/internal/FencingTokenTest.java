package dev.workgate.execution.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.execution.ProcessSandboxProvider;
import dev.workgate.execution.ProcessSpec;
import dev.workgate.execution.SandboxProvider;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Every claim of a work order hands its attempt a higher fencing token. */
@Timeout(60)
class FencingTokenTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final long GB = 1L << 30;
  static final RetryPolicy FAST =
      RetryPolicy.builder()
          .maxAttempts(3)
          .baseDelay(Duration.ofMillis(10))
          .maxDelay(Duration.ofMillis(20))
          .jitter(Jitter.none())
          .build();

  @TempDir Path dir;

  @Test
  void each_attempt_of_a_handler_sees_a_higher_token_equal_to_its_claims_version()
      throws Exception {
    List<Long> tokens = new CopyOnWriteArrayList<>();
    try (Workgate w =
        node()
            .handler(
                "flaky",
                ctx -> {
                  tokens.add(ctx.fencingToken());
                  return ctx.attempt() == 1
                      ? WorkResult.retryableFailure(ErrorCodes.NETWORK_ERROR, "first try fails")
                      : WorkResult.ok();
                })
            .build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("flaky").build());

      assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);

      assertThat(tokens).hasSize(2);
      assertThat(tokens.get(1)).isGreaterThan(tokens.get(0));
      assertThat(tokens).isEqualTo(claimVersions(w, id));
    }
  }

  @Test
  void each_attempt_of_a_process_sees_a_higher_token_in_its_environment() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/bin/sh")), "a POSIX shell");
    Path seen = dir.resolve("tokens.txt");
    Files.createFile(seen);
    // The first attempt exits 1 (an unknown error, retried); the second, seeing its line, exits 0.
    String script =
        "printf '%s\\n' \"$"
            + ProcessSandboxProvider.FENCING_TOKEN_ENV
            + "\" >> '"
            + seen
            + "'; [ \"$(wc -l < '"
            + seen
            + "')\" -ge 2 ]";
    SandboxProvider processes =
        ProcessSandboxProvider.builder(
                dir.resolve("processes"),
                order -> ProcessSpec.builder().shell(script).inheritEnv("PATH").build())
            .build();
    try (Workgate w = node().sandboxProvider("proc", processes).build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("proc").build());

      assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);

      List<Long> tokens =
          Files.readAllLines(seen, StandardCharsets.UTF_8).stream().map(Long::valueOf).toList();
      assertThat(tokens).hasSize(2);
      assertThat(tokens.get(1)).isGreaterThan(tokens.get(0));
      assertThat(tokens).isEqualTo(claimVersions(w, id));
    }
  }

  private Workgate.Builder node() {
    return Workgate.builder()
        .sandboxRoot(dir.resolve("sandboxes"))
        .retryPolicy(FAST)
        .pollInterval(Duration.ofMillis(20))
        .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"));
  }

  private static List<Long> claimVersions(Workgate w, WorkOrderId id) {
    return w.history(id).stream()
        .filter(e -> e.event() instanceof WorkOrderEvent.Claimed)
        .map(RecordedEvent::version)
        .toList();
  }
}
