package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.QueueAction.Kind;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.retry.RetryPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator console in a real browser: a node on SQLite with a known set of work orders, the
 * endpoint with a token, and {@code src/test/browser/console.test.mjs} driving Debian's Chromium
 * through playwright-core against it (what the script checks is listed at its top). The known set
 * goes to the script as JSON in {@code WORKGATE_EXPECTED}; the script exits 0 when every check
 * passed, and this test then checks the store saw what the browser did.
 *
 * <p>Needs {@code /usr/bin/chromium} (Debian's {@code chromium}), {@code node} and the script's
 * {@code node_modules} ({@code npm ci} in {@code src/test/browser}, run here when it is missing).
 * Without one of them the test is skipped saying what to install, except under {@code CI=true},
 * where it fails. Screenshots go to {@code target/console-screenshots}, or to the directory the
 * system property {@code workgate.console.screenshots} names.
 */
class ConsoleBrowserTest {
  static final String TOKEN = "console-token-0123456789";
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path BROWSER_DIR = Path.of("src/test/browser").toAbsolutePath();
  private static final String SCRIPT = "console.test.mjs";
  private static final Duration WAIT = Duration.ofSeconds(20);

  /** The whole browser run; it takes about 10 s on two cores. */
  private static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(90);

  private static final Duration NPM_TIMEOUT = Duration.ofSeconds(180);
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** Flipped once the first round has failed: the resubmitted work orders then succeed. */
  private final AtomicBoolean healed = new AtomicBoolean();

  /** Holds the one RUNNING work order until the browser cancels it (or the test ends). */
  private final CountDownLatch release = new CountDownLatch(1);

  /**
   * Holds the "gate" work order the browser submits, after it has reported progress and a
   * checkpoint, until the browser submits an "open" work order (or the test ends).
   */
  private final CountDownLatch gate = new CountDownLatch(1);

  /** The queue the browser pauses and resumes. */
  private static final String PAUSED_QUEUE = "nightly";

  private WorkOrderStore store;
  private Workgate workgate;
  private WorkgateHttpServer server;

  @AfterEach
  void stop() {
    release.countDown();
    gate.countDown();
    if (server != null) {
      server.close();
    }
    if (workgate != null) {
      workgate.close();
    }
    if (store != null) {
      store.close();
    }
  }

  @Test
  void the_console_shows_the_known_work_and_resubmits_the_failures_from_the_browser()
      throws Exception {
    requireBrowserTools();

    store = Stores.sqlite(dir.resolve("workgate.db"));
    workgate =
        Workgate.builder()
            .store(store)
            .sandboxRoot(dir.resolve("sandboxes"))
            .queues("reports", "imports", PAUSED_QUEUE)
            .maxConcurrent(2)
            .pollInterval(Duration.ofMillis(50))
            // Progress is written with the lease renewal: often, so the page shows it at once.
            .renewInterval(Duration.ofMillis(200))
            .retryPolicy(
                "imports",
                RetryPolicy.builder()
                    .maxAttempts(3)
                    .baseDelay(Duration.ofHours(1))
                    .maxDelay(Duration.ofHours(1))
                    .jitter(RetryPolicy.Jitter.none())
                    .build())
            .handler("report", ctx -> WorkResult.ok(Map.of("rows", 42)))
            .handler(
                "import",
                ctx -> {
                  String retry = ctx.labels().get("retry");
                  if (retry != null) {
                    return WorkResult.retryableFailure(retry, "the source is not there yet");
                  }
                  String code = ctx.labels().get("fail");
                  return code != null && !healed.get()
                      ? WorkResult.fatalFailure(code, "import of " + ctx.payload() + " failed")
                      : WorkResult.ok(Map.of("imported", true));
                })
            .handler(
                "watch",
                ctx -> {
                  release.await();
                  return WorkResult.ok();
                })
            .handler(
                "gate",
                ctx -> {
                  ctx.checkpoint(Map.of("step", 2));
                  ctx.progress(0.4, "step 2 of 5");
                  gate.await();
                  return WorkResult.ok();
                })
            .handler(
                "open",
                ctx -> {
                  gate.countDown();
                  return WorkResult.ok();
                })
            .build();
    workgate.start();

    Instant tomorrow = workgate.clock().instant().plus(Duration.ofDays(1));
    List<WorkOrderId> completed = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      WorkOrderSpec.Builder b =
          WorkOrderSpec.builder("report").queue("reports").payload(Map.of("month", "2026-0" + i));
      if (i % 2 == 0) {
        b.label("team", "blue");
      }
      completed.add(workgate.submit(b.build()));
    }
    List<WorkOrderId> upstream = failing("UPSTREAM_DOWN", 3);
    List<WorkOrderId> badInput = failing("BAD_INPUT", 2);
    List<WorkOrderId> pending = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      pending.add(
          workgate.submit(
              WorkOrderSpec.builder("report")
                  .queue("reports")
                  .notBefore(tomorrow)
                  .label("team", "green")
                  .build()));
    }
    WorkOrderId running = workgate.submit(WorkOrderSpec.builder("watch").queue("reports").build());
    // Failed once with UPSTREAM_DOWN, its next attempt an hour away: live work with that error.
    WorkOrderId retrying =
        workgate.submit(
            WorkOrderSpec.builder("import")
                .queue("imports")
                .payload(Map.of("file", "late.csv"))
                .label("retry", "UPSTREAM_DOWN")
                .build());

    for (WorkOrderId id : completed) {
      assertThat(workgate.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    }
    for (WorkOrderId id : concat(upstream, badInput)) {
      assertThat(workgate.await(id, WAIT).state()).isEqualTo(WorkOrderState.FAILED);
    }
    await()
        .atMost(WAIT)
        .until(() -> workgate.find(running).orElseThrow().state() == WorkOrderState.RUNNING);
    await()
        .atMost(WAIT)
        .until(() -> workgate.find(retrying).orElseThrow().state() == WorkOrderState.WAITING_RETRY);
    healed.set(true);

    server = WorkgateHttpServer.builder(workgate).port(0).token(TOKEN).build();

    ObjectNode expected = JSON.createObjectNode();
    ObjectNode totals = expected.putObject("totals");
    totals.put("PENDING", 2).put("RUNNING", 1).put("COMPLETED", 4).put("FAILED", 5);
    totals.put("WAITING_RETRY", 1);
    ObjectNode queues = expected.putObject("queues");
    queues.putObject("reports").put("PENDING", 2).put("RUNNING", 1).put("COMPLETED", 4);
    queues.putObject("imports").put("FAILED", 5).put("WAITING_RETRY", 1);
    ObjectNode failed = expected.putObject("failed");
    ids(failed.putArray("UPSTREAM_DOWN"), upstream);
    ids(failed.putArray("BAD_INPUT"), badInput);
    ids(expected.putArray("completed"), completed);
    ids(expected.putArray("pending"), pending);
    expected.put("running", running.value());
    expected.put("retrying", retrying.value());
    expected.put("payloadText", "orders-0.csv");
    expected.put("pauseQueue", PAUSED_QUEUE);

    Path shots = screenshotDirectory();
    Files.createDirectories(shots);
    Run run =
        run(
            List.of("node", SCRIPT),
            Map.of(
                "WORKGATE_URL",
                "http://127.0.0.1:" + server.port(),
                "WORKGATE_TOKEN",
                TOKEN,
                "WORKGATE_SCREENSHOTS",
                shots.toString(),
                "WORKGATE_EXPECTED",
                JSON.writeValueAsString(expected)),
            SCRIPT_TIMEOUT);
    if (run.timedOut()) {
      fail(
          "the browser test did not end within "
              + SCRIPT_TIMEOUT
              + "; its output:\n"
              + run.output());
    }
    if (run.exitCode() != 0) {
      fail("the browser test exited " + run.exitCode() + "; its output:\n" + run.output());
    }
    System.out.print(run.output());

    // What the browser did, seen from the store: every failure resubmitted once and completed,
    // the running one cancelled by the API call the script made, the retrying one cancelled by
    // the bulk action, one pending one cancelled from its page and resubmitted (still waiting for
    // tomorrow), the other still pending; the chain (gate, its dependent, the opener), the batch
    // of two, the two work orders of the paused queue and the one run beside them completed.
    QueueCounts counts = workgate.store().counts();
    assertThat(counts.count(WorkOrderState.COMPLETED)).isEqualTo(4 + 5 + 3 + 2 + 2 + 1);
    assertThat(counts.count(PAUSED_QUEUE, WorkOrderState.COMPLETED)).isEqualTo(2);
    assertThat(counts.count(WorkOrderState.BLOCKED)).isZero();
    assertThat(counts.count(WorkOrderState.FAILED)).isEqualTo(5);
    assertThat(counts.count(WorkOrderState.CANCELLED)).isEqualTo(3);
    assertThat(counts.count(WorkOrderState.PENDING)).isEqualTo(2);
    assertThat(counts.count(WorkOrderState.WAITING_RETRY)).isZero();
    assertThat(workgate.find(running).orElseThrow().state()).isEqualTo(WorkOrderState.CANCELLED);
    assertThat(workgate.find(retrying).orElseThrow().state()).isEqualTo(WorkOrderState.CANCELLED);
    // Paused and resumed from the Queues page, each by the console and with the reason typed.
    List<QueueAction> actions = workgate.client().queueActions(PAUSED_QUEUE, 10);
    assertThat(actions).extracting(QueueAction::kind).containsExactly(Kind.RESUME, Kind.PAUSE);
    assertThat(actions).extracting(QueueAction::actor).containsOnly("console");
    assertThat(actions)
        .extracting(QueueAction::reason)
        .containsExactly("maintenance over", "database maintenance");
    assertThat(workgate.client().pausedQueues()).isEmpty();
    for (String name :
        List.of(
            "console-overview.png",
            "console-list.png",
            "console-work-order.png",
            "console-progress.png",
            "console-queues.png")) {
      assertThat(shots.resolve(name)).isNotEmptyFile();
    }
  }

  private List<WorkOrderId> failing(String code, int n) {
    List<WorkOrderId> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(
          workgate.submit(
              WorkOrderSpec.builder("import")
                  .queue("imports")
                  .payload(Map.of("file", "orders-" + ids.size() + ".csv"))
                  .label("fail", code)
                  .maxAttempts(1)
                  .build()));
    }
    return ids;
  }

  private static List<WorkOrderId> concat(List<WorkOrderId> a, List<WorkOrderId> b) {
    List<WorkOrderId> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private static void ids(ArrayNode array, List<WorkOrderId> ids) {
    ids.forEach(id -> array.add(id.value()));
  }

  private static Path screenshotDirectory() {
    String configured = System.getProperty("workgate.console.screenshots");
    return (configured == null || configured.isBlank()
            ? Path.of("target", "console-screenshots")
            : Path.of(configured))
        .toAbsolutePath();
  }

  /**
   * Chromium, node and playwright-core, or a skip (a failure under CI=true) naming what is missing.
   */
  private static void requireBrowserTools() throws InterruptedException {
    if (!Files.isExecutable(CHROMIUM)) {
      unavailable(
          "the console's browser test needs Debian's Chromium at "
              + CHROMIUM
              + " (apt-get install chromium)");
    }
    Run node = tryRun(List.of("node", "--version"), Duration.ofSeconds(20));
    if (node == null || node.exitCode() != 0) {
      unavailable(
          "the console's browser test needs Node.js 20 or later on the PATH (apt-get install nodejs npm)");
    }
    if (!Files.isDirectory(BROWSER_DIR.resolve("node_modules").resolve("playwright-core"))) {
      Run npm = tryRun(List.of("npm", "ci", "--no-audit", "--no-fund"), NPM_TIMEOUT);
      if (npm == null || npm.timedOut() || npm.exitCode() != 0) {
        unavailable(
            "the console's browser test needs playwright-core: `npm ci` in "
                + BROWSER_DIR
                + " did not succeed"
                + (npm == null
                    ? " (is npm installed? apt-get install npm)"
                    : ":\n" + npm.output()));
      }
    }
  }

  private static void unavailable(String message) {
    if ("true".equals(System.getenv("CI"))) {
      fail(message + " (CI=true: a missing tool fails the build instead of skipping the test)");
    }
    Assumptions.abort(message);
  }

  private record Run(int exitCode, boolean timedOut, String output) {}

  /** Like {@link #run}, but null when the program cannot be started at all. */
  private static Run tryRun(List<String> command, Duration timeout) throws InterruptedException {
    try {
      return run(command, Map.of(), timeout);
    } catch (UncheckedIOException e) {
      return null;
    }
  }

  /**
   * Runs a program in src/test/browser, its output and errors together into a file (so nothing has
   * to drain a pipe while it runs), ended with its children at the timeout.
   */
  private static Run run(List<String> command, Map<String, String> env, Duration timeout)
      throws InterruptedException {
    Path log;
    Process process;
    try {
      log = Files.createTempFile("console-browser-test", ".log");
      ProcessBuilder pb = new ProcessBuilder(command).directory(BROWSER_DIR.toFile());
      pb.redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().putAll(env);
      process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    boolean ended = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (!ended) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    try {
      String output = Files.readString(log, StandardCharsets.UTF_8);
      Files.deleteIfExists(log);
      return new Run(ended ? process.exitValue() : -1, !ended, output);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
