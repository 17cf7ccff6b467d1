package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.Progress;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.StaleAttemptException;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.execution.ProcessSandboxProvider;
import dev.workgate.execution.ProcessSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints and progress through the runtime, on one node over a SQLite file: a retried attempt
 * resumes from the last checkpoint (in-process and in a process sandbox), a stale attempt's
 * checkpoint is refused, and progress shows in the view after a lease renewal until the next claim.
 */
@Timeout(120)
class CheckpointTest {
  static final Duration WAIT = Duration.ofSeconds(60);
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** A handler's checkpoint: how many steps are done. */
  public record Steps(int done) {}

  Workgate.Builder node(WorkOrderStore store) {
    return ChainTest.node("node-1", store, dir.resolve("sandboxes"));
  }

  /** The attempt and state of each checkpoint in a work order's log, in order. */
  static List<String> checkpoints(List<RecordedEvent> history) {
    return history.stream()
        .filter(e -> e.event() instanceof WorkOrderEvent.Checkpointed)
        .map(e -> (WorkOrderEvent.Checkpointed) e.event())
        .map(c -> c.attempt() + ":" + c.state())
        .toList();
  }

  @Test
  void a_retried_attempt_resumes_from_its_checkpoint() throws Exception {
    Map<Integer, Integer> resumedFrom = new ConcurrentHashMap<>();
    Map<Integer, List<Integer>> stepsDone = new ConcurrentHashMap<>();
    try (WorkOrderStore store = Stores.sqlite(dir.resolve("workgate.db"));
        Workgate node =
            node(store)
                .handler(
                    "migrate",
                    ctx -> {
                      int from = ctx.lastCheckpoint(Steps.class).map(Steps::done).orElse(0);
                      resumedFrom.put(ctx.attempt(), from);
                      for (int step = from + 1; step <= 6; step++) {
                        stepsDone
                            .computeIfAbsent(ctx.attempt(), a -> new CopyOnWriteArrayList<>())
                            .add(step);
                        ctx.checkpoint(new Steps(step));
                        ctx.progress(step / 6.0, "step " + step + " of 6");
                        if (ctx.attempt() == 1 && step == 3) {
                          return WorkResult.retryableFailure(
                              ErrorCodes.NETWORK_ERROR, "connection reset after step 3");
                        }
                      }
                      return WorkResult.ok("migrated");
                    })
                .build()) {
      node.start();
      WorkOrderId id = node.submit(WorkOrderSpec.builder("migrate").build());

      WorkOrderView done = node.await(id, WAIT);

      assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(done.attempt()).isEqualTo(2);
      assertThat(resumedFrom).containsExactlyInAnyOrderEntriesOf(Map.of(1, 0, 2, 3));
      assertThat(stepsDone.get(1)).containsExactly(1, 2, 3);
      assertThat(stepsDone.get(2))
          .as("attempt 2 did the steps after its checkpoint only")
          .containsExactly(4, 5, 6);
      assertThat(checkpoints(node.history(id)))
          .containsExactly(
              "1:{\"done\":1}",
              "1:{\"done\":2}",
              "1:{\"done\":3}",
              "2:{\"done\":4}",
              "2:{\"done\":5}",
              "2:{\"done\":6}");
      assertThat(done.checkpoint()).contains(JSON.readTree("{\"done\":6}"));
      // The failure came between the checkpoints of the two attempts.
      List<RecordedEvent> history = node.history(id);
      long failedAt =
          history.stream()
              .filter(e -> e.event() instanceof WorkOrderEvent.AttemptFailed)
              .findFirst()
              .orElseThrow()
              .version();
      assertThat(history)
          .filteredOn(e -> e.event() instanceof WorkOrderEvent.Checkpointed c && c.attempt() == 1)
          .allSatisfy(e -> assertThat(e.version()).isLessThan(failedAt));
    }
  }

  @Test
  @EnabledOnOs(OS.LINUX)
  void a_retried_process_resumes_from_the_checkpoint_file() throws Exception {
    Path steps = dir.resolve("steps.log");
    String script =
        "from=0; "
            + "if [ -n \"${WORKGATE_CHECKPOINT_FILE:-}\" ]; then"
            + "  from=$(tr -cd 0-9 < \"$WORKGATE_CHECKPOINT_FILE\"); fi; "
            + "echo \"from $from\" >> '"
            + steps
            + "'; "
            + "i=$((from + 1)); "
            + "while [ $i -le 5 ]; do "
            + "  echo \"step $i\" >> '"
            + steps
            + "'; "
            + "  printf '{\"checkpoint\":{\"done\":%d}}\\n' $i >> \"$WORKGATE_REPORT_FILE\"; "
            + "  printf '{\"progress\":0.%d}\\n' $((i * 2)) >> \"$WORKGATE_REPORT_FILE\"; "
            + "  if [ $from -eq 0 ] && [ $i -eq 3 ]; then exit 3; fi; "
            + "  i=$((i + 1)); "
            + "done";
    ProcessSandboxProvider provider =
        ProcessSandboxProvider.builder(
                dir.resolve("procs"), view -> ProcessSpec.builder().shell(script).build())
            .build();
    try (WorkOrderStore store = Stores.sqlite(dir.resolve("workgate.db"));
        Workgate node = node(store).sandboxProvider("script", provider).build()) {
      node.start();
      WorkOrderId id = node.submit(WorkOrderSpec.builder("script").build());

      WorkOrderView done = node.await(id, WAIT);

      assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(done.attempt()).isEqualTo(2);
      assertThat(Files.readAllLines(steps))
          .containsExactly("from 0", "step 1", "step 2", "step 3", "from 3", "step 4", "step 5");
      assertThat(checkpoints(node.history(id)))
          .containsExactly(
              "1:{\"done\":1}",
              "1:{\"done\":2}",
              "1:{\"done\":3}",
              "2:{\"done\":4}",
              "2:{\"done\":5}");
      assertThat(done.checkpoint()).contains(JSON.readTree("{\"done\":5}"));
    }
  }

  @Test
  void a_stale_attempts_checkpoint_is_refused() throws Exception {
    CountDownLatch checkpointed = new CountDownLatch(1);
    CountDownLatch goOn = new CountDownLatch(1);
    CompletableFuture<Optional<Throwable>> late = new CompletableFuture<>();
    try (WorkOrderStore store = Stores.sqlite(dir.resolve("workgate.db"));
        Workgate node =
            node(store)
                .killGrace(Duration.ofMillis(200))
                .handler(
                    "stubborn",
                    ctx -> {
                      ctx.checkpoint(Map.of("done", 1));
                      checkpointed.countDown();
                      awaitIgnoringInterrupts(goOn); // a handler that ignores its cancellation
                      try {
                        ctx.checkpoint(Map.of("done", 2));
                        late.complete(Optional.empty());
                      } catch (Throwable t) {
                        late.complete(Optional.of(t));
                      }
                      return WorkResult.ok();
                    })
                .build()) {
      node.start();
      WorkOrderId id = node.submit(WorkOrderSpec.builder("stubborn").build());
      assertThat(checkpointed.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

      assertThat(node.cancel(id, "not needed any more")).isTrue();
      assertThat(node.await(id, WAIT).state()).isEqualTo(WorkOrderState.CANCELLED);
      goOn.countDown();

      Throwable refused = late.get(WAIT.toSeconds(), TimeUnit.SECONDS).orElseThrow();
      assertThat(refused)
          .isInstanceOf(StaleAttemptException.class)
          .hasMessageContaining(id.toString())
          .hasMessageContaining("attempt 1");
      assertThat(((StaleAttemptException) refused).attempt()).isEqualTo(1);
      assertThat(checkpoints(node.history(id))).containsExactly("1:{\"done\":1}");
      assertThat(node.find(id).orElseThrow().checkpoint()).contains(JSON.readTree("{\"done\":1}"));
    }
  }

  @Test
  void a_handler_asked_to_stop_records_its_checkpoint_before_it_returns() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CompletableFuture<Optional<Throwable>> last = new CompletableFuture<>();
    try (WorkOrderStore store = Stores.sqlite(dir.resolve("workgate.db"));
        Workgate node =
            node(store)
                .killGrace(Duration.ofSeconds(20))
                .handler(
                    "polite",
                    ctx -> {
                      running.countDown();
                      try {
                        new CountDownLatch(1).await(WAIT.toSeconds(), TimeUnit.SECONDS);
                      } catch (InterruptedException stop) {
                        // Asked to stop: keep the interrupt, as a handler should, and record how
                        // far it got before it returns.
                        Thread.currentThread().interrupt();
                      }
                      try {
                        ctx.checkpoint(Map.of("done", 1));
                        last.complete(Optional.empty());
                      } catch (Throwable t) {
                        last.complete(Optional.of(t));
                      }
                      return WorkResult.ok();
                    })
                .build()) {
      node.start();
      WorkOrderId id = node.submit(WorkOrderSpec.builder("polite").build());
      assertThat(running.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

      assertThat(node.cancel(id, "not needed any more")).isTrue();

      assertThat(last.get(WAIT.toSeconds(), TimeUnit.SECONDS))
          .as("the checkpoint of an attempt that still holds its work order")
          .isEmpty();
      assertThat(node.await(id, WAIT).state()).isEqualTo(WorkOrderState.CANCELLED);
      assertThat(checkpoints(node.history(id))).containsExactly("1:{\"done\":1}");
    }
  }

  @Test
  void progress_shows_after_a_lease_renewal_and_a_new_claim_clears_it() throws Exception {
    CountDownLatch firstGoOn = new CountDownLatch(1);
    CountDownLatch secondRuns = new CountDownLatch(1);
    CountDownLatch secondGoOn = new CountDownLatch(1);
    Path file = dir.resolve("workgate.db");
    try (WorkOrderStore store = Stores.sqlite(file);
        WorkOrderStore other = Stores.sqlite(file);
        Workgate node =
            node(store)
                .leaseDuration(Duration.ofSeconds(3))
                .renewInterval(Duration.ofMillis(200))
                .handler(
                    "long",
                    ctx -> {
                      if (ctx.attempt() == 1) {
                        ctx.progress(0.25, "cloned the repository");
                        ctx.progress(0.4, "built the project");
                        firstGoOn.await();
                        return WorkResult.retryableFailure(ErrorCodes.NETWORK_ERROR, "blip");
                      }
                      secondRuns.countDown();
                      secondGoOn.await();
                      return WorkResult.ok();
                    })
                .build()) {
      node.start();
      WorkOrderId id = node.submit(WorkOrderSpec.builder("long").build());

      // Written with a renewal: any store instance over the file reads it.
      await().atMost(WAIT).until(() -> other.find(id).orElseThrow().progress().isPresent());
      Progress shown = other.find(id).orElseThrow().progress().orElseThrow();
      assertThat(shown.fraction()).isEqualTo(0.4);
      assertThat(shown.message()).isEqualTo("built the project");
      assertThat(node.history(id))
          .as("progress is not an event")
          .noneMatch(e -> e.event().type().name().contains("PROGRESS"));

      firstGoOn.countDown();
      assertThat(secondRuns.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      // The retry's claim cleared it, and renewals of an attempt that reports none keep it clear.
      await()
          .during(Duration.ofMillis(600))
          .atMost(Duration.ofSeconds(5))
          .until(
              () -> {
                WorkOrderView v = other.find(id).orElseThrow();
                return v.attempt() == 2 && v.progress().isEmpty();
              });
      secondGoOn.countDown();
      assertThat(node.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    }
  }

  /** Waits for the latch, swallowing the interrupts of a kill, as a handler that ignores it. */
  private static void awaitIgnoringInterrupts(CountDownLatch latch) {
    while (true) {
      try {
        if (latch.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
          return;
        }
        throw new AssertionError("the test never let the handler go on");
      } catch (InterruptedException e) {
        // ignored: this handler does not stop when asked
      }
    }
  }
}
