package dev.workgate.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.QueueFullException;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.PostgresOptions;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.execution.ProcessSandboxProvider;
import dev.workgate.execution.ProcessSpec;
import dev.workgate.retry.ErrorClassifier;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The engine that {@link CrashLoopTest} kills with SIGKILL over and over: a {@link Workgate} with a
 * fixed node id on a SQLite file or a PostgreSQL schema, running two types of work (a shell script
 * in a process sandbox and an in-process handler), each told by its payload how long to take and
 * how to end.
 *
 * <p>Arguments: the mode ({@code submit} or {@code drain}), the test's directory, the store ({@code
 * sqlite:<file>} or {@code postgres:<schema>:<jdbc url>}) and a seed. In {@code submit} mode it
 * submits a few work orders every 100 ms until it is killed, appending each id to {@value
 * #SUBMITTED} (and forcing it) only after {@code submit} has returned. In {@code drain} mode it
 * submits nothing, waits until every work order in the store has ended, shuts down and exits 0.
 *
 * <p>Every sandbox script writes its shell's pid, its {@code sleep}'s pid and its sandbox marker to
 * a file under {@value #PIDS}, so that the parent can tell at the end whether one outlived the
 * runtimes that ran it.
 */
public final class CrashLoopChild {
  static final String NODE_ID = "crash-loop-node";
  static final Duration LEASE = Duration.ofMillis(1500);
  static final RetryPolicy RETRY_POLICY =
      RetryPolicy.builder()
          .maxAttempts(4)
          .baseDelay(Duration.ofMillis(50))
          .maxDelay(Duration.ofMillis(200))
          .jitter(Jitter.none())
          .build();

  /** The work types: a shell script in a process sandbox, and an in-process handler. */
  static final String SHELL = "shell";

  static final String INLINE = "inline";

  /** Exit codes of the script: 3 is a retryable {@code UNKNOWN_ERROR}, 4 is fatal. */
  static final int RETRYABLE_EXIT = 3;

  static final int FATAL_EXIT = 4;

  /** Files and directories under the test's directory. */
  static final String SUBMITTED = "submitted-ids.txt";

  static final String STARTED = "started.txt";
  static final String PIDS = "pids";
  static final String SANDBOXES = "sandboxes";
  static final String PROCESSES = "processes";
  static final String IN_PROCESS = "in-process";

  /** At most this many work orders wait (pending or waiting for a retry); submit refuses more. */
  static final int MAX_WAITING = 24;

  private static final long GB = 1L << 30;

  /** How a work order ends, carried in its payload as {@code outcome}. */
  enum Outcome {
    /** Succeeds. */
    OK,
    /** Fails with a retryable error on attempt 1, then succeeds. */
    FLAKY,
    /** Fails with a retryable error on every attempt. */
    RETRY,
    /** Fails with a fatal error. */
    FATAL;

    boolean succeedsOn(int attempt) {
      return this == OK || (this == FLAKY && attempt > 1);
    }

    static Outcome of(JsonNode payload) {
      return valueOf(payload.path("outcome").asText());
    }
  }

  private CrashLoopChild() {}

  /**
   * Runs the engine.
   *
   * @param args mode, directory, store, seed
   * @throws Exception if the engine cannot start; the parent sees the exit
   */
  public static void main(String[] args) throws Exception {
    boolean submit = args[0].equals("submit");
    Path dir = Path.of(args[1]);
    Random random = new Random(Long.parseLong(args[3]));
    HikariDataSource pool = null;
    WorkOrderStore store;
    if (args[2].startsWith("sqlite:")) {
      store = Stores.sqlite(Path.of(args[2].substring("sqlite:".length())));
    } else {
      String[] parts = args[2].split(":", 3); // postgres, schema, url
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(parts[2]);
      config.setMaximumPoolSize(6);
      config.setMinimumIdle(1);
      pool = new HikariDataSource(config);
      store = Stores.postgres(pool, PostgresOptions.builder().schema(parts[1]).build());
    }
    Workgate workgate = runtime(store, dir);
    workgate.start();
    Files.writeString(
        dir.resolve(STARTED), "started\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    if (submit) {
      submitUntilKilled(workgate, dir.resolve(SUBMITTED), random);
    }
    while (unfinished(store)) {
      TimeUnit.MILLISECONDS.sleep(100);
    }
    workgate.shutdown(Duration.ofSeconds(30)); // lets the last sandboxes be destroyed
    workgate.close();
    store.close();
    if (pool != null) {
      pool.close();
    }
  }

  static Workgate runtime(WorkOrderStore store, Path dir) throws IOException {
    Path pids = Files.createDirectories(dir.resolve(PIDS));
    Path root = dir.resolve(SANDBOXES);
    ErrorClassifier classifier =
        ErrorClassifier.builder().exitCode(FATAL_EXIT, ErrorCodes.AGENT_FATAL_ERROR).build();
    return Workgate.builder()
        .store(store)
        .nodeId(NODE_ID)
        .sandboxRoot(root)
        .maxConcurrent(6)
        .leaseDuration(LEASE)
        .pollInterval(Duration.ofMillis(100))
        .killGrace(Duration.ofMillis(500))
        .retryPolicy(RETRY_POLICY)
        .maxQueueDepth("default", MAX_WAITING)
        .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
        .sandboxProvider(
            SHELL,
            ProcessSandboxProvider.builder(root.resolve(PROCESSES), view -> script(view, pids))
                .classifier(classifier)
                .build())
        .handler(
            INLINE,
            ctx -> {
              TimeUnit.MILLISECONDS.sleep(ctx.payload().path("sleepMs").asLong());
              Outcome outcome = Outcome.of(ctx.payload());
              if (outcome.succeedsOn(ctx.attempt())) {
                return WorkResult.ok(Map.of("attempt", ctx.attempt()));
              }
              return outcome == Outcome.FATAL
                  ? WorkResult.fatalFailure(ErrorCodes.AGENT_FATAL_ERROR, "told to fail")
                  : WorkResult.retryableFailure(ErrorCodes.NETWORK_ERROR, "told to fail");
            })
        .build();
  }

  /**
   * Sleeps in the background, records the pids and the sandbox marker, prints the attempt (which
   * the parent finds in the recorded result) and exits as the payload says.
   */
  private static ProcessSpec script(WorkOrderView view, Path pids) {
    Outcome outcome = Outcome.of(view.payload());
    int exit =
        outcome.succeedsOn(view.attempt())
            ? 0
            : outcome == Outcome.FATAL ? FATAL_EXIT : RETRYABLE_EXIT;
    long sleepMs = view.payload().path("sleepMs").asLong();
    Path pidFile = pids.resolve(view.id().value() + "-" + view.attempt() + ".pid");
    String script =
        String.format(
            "sleep %d.%03d & echo \"$$ $! $%s\" > '%s'; echo attempt %d; wait; exit %d",
            sleepMs / 1000,
            sleepMs % 1000,
            ProcessSandboxProvider.SANDBOX_ENV,
            pidFile,
            view.attempt(),
            exit);
    return ProcessSpec.builder().shell(script).inheritEnv("PATH").build();
  }

  private static void submitUntilKilled(Workgate workgate, Path submitted, Random random)
      throws IOException, InterruptedException {
    try (FileChannel ids =
        FileChannel.open(
            submitted,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.APPEND)) {
      while (true) {
        for (int i = 0; i < 3; i++) {
          WorkOrderId id;
          try {
            id = workgate.submit(randomSpec(random));
          } catch (QueueFullException full) {
            break;
          }
          ids.write(ByteBuffer.wrap((id.value() + "\n").getBytes(StandardCharsets.US_ASCII)));
          ids.force(false);
        }
        TimeUnit.MILLISECONDS.sleep(100);
      }
    }
  }

  private static WorkOrderSpec randomSpec(Random random) {
    int pick = random.nextInt(10);
    Outcome outcome =
        pick < 6 ? Outcome.OK : pick < 8 ? Outcome.FLAKY : pick < 9 ? Outcome.RETRY : Outcome.FATAL;
    boolean shell = random.nextBoolean();
    long sleepMs = shell ? 100 + random.nextInt(1400) : random.nextInt(300);
    return WorkOrderSpec.builder(shell ? SHELL : INLINE)
        .payload(Map.of("sleepMs", sleepMs, "outcome", outcome.name()))
        .build();
  }

  private static boolean unfinished(WorkOrderStore store) {
    QueueCounts counts = store.counts();
    for (String queue : counts.queues()) {
      for (WorkOrderState state : WorkOrderState.values()) {
        if (!state.isTerminal() && counts.count(queue, state) > 0) {
          return true;
        }
      }
    }
    return false;
  }
}
