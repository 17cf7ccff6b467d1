package dev.workgate.reliability;

import static dev.workgate.reliability.CrashLoopChild.RETRY_POLICY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.jdbc.PostgresTestDatabase;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderQuery.Page;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.ViewSnapshot;
import dev.workgate.execution.ProcessSandboxProvider;
import dev.workgate.reliability.CrashLoopChild.Outcome;
import dev.workgate.spi.WorkOrder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.LongSummaryStatistics;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash loop: a child JVM ({@link CrashLoopChild}) runs the engine under steady submission and
 * is killed with SIGKILL at random moments, then started again on the same store with the same node
 * id, {@value #KILLS_PROPERTY} times (default 200; CI runs 20). A last child submits nothing and
 * runs until every work order has ended. Then, reading the store directly:
 *
 * <ol>
 *   <li>every acknowledged submission is in the store, and every work order there has ended;
 *   <li>each stream has exactly one terminal event, and folds to the stored view;
 *   <li>attempts follow the retry policy: none beyond its maximum, a retryable failure before the
 *       last attempt is retried, any other failure is final, and a recorded outcome is the one the
 *       payload asked of that attempt;
 *   <li>no sandbox process is alive and no sandbox directory is left.
 * </ol>
 *
 * <p>A quarter of the kills land at a random moment within 1.5 s of the child's launch (JVM start,
 * store recovery, orphan reaping); the rest between 0.2 s and 2 s after the engine has started. The
 * seed is printed; {@value #SEED_PROPERTY} replays the same kill schedule (the moments, not the
 * interleavings). On failure the test directory, with the child's log, is kept.
 */
@Tag("slow")
@EnabledOnOs(OS.LINUX)
class CrashLoopTest {
  static final String KILLS_PROPERTY = "workgate.crash.kills";
  static final String SEED_PROPERTY = "workgate.crash.seed";
  static final int KILLS = Integer.getInteger(KILLS_PROPERTY, 200);

  /** The codes of failures that the work itself reports, as its payload tells it to. */
  static final Set<String> OUTCOME_CODES =
      Set.of(ErrorCodes.UNKNOWN_ERROR, ErrorCodes.NETWORK_ERROR, ErrorCodes.AGENT_FATAL_ERROR);

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  @Test
  void sqlite_store_survives_repeated_sigkill_of_its_engine() throws Exception {
    Path db = dir.resolve("workgate.db");
    crashLoop("SQLite", "sqlite:" + db, () -> Stores.sqlite(db));
  }

  @Test
  void postgres_store_survives_repeated_sigkill_of_its_engine() throws Exception {
    PostgresTestDatabase postgres = new PostgresTestDatabase().start();
    try {
      crashLoop(
          "PostgreSQL",
          "postgres:" + postgres.schema() + ":" + PostgresTestDatabase.url(),
          () -> postgres.openStore(Clock.systemUTC()));
    } finally {
      postgres.close();
    }
  }

  private void crashLoop(String name, String storeArgument, Supplier<WorkOrderStore> openStore)
      throws Exception {
    long seed = Long.getLong(SEED_PROPERTY, new SecureRandom().nextLong());
    System.out.printf(
        "crash loop on %s: %d kills, seed %d (-D%s=%d), directory %s%n",
        name, KILLS, seed, SEED_PROPERTY, seed, dir);
    Random random = new Random(seed);
    long began = System.nanoTime();
    int killedBeforeStart = 0;
    LongSummaryStatistics startup = new LongSummaryStatistics();
    for (int life = 1; life <= KILLS; life++) {
      int startedBefore = startedLives();
      Process child = child("submit", storeArgument, random.nextLong());
      if (random.nextInt(4) == 0) {
        // During JVM start, store recovery or orphan reaping (or just after).
        sleepWhileAlive(child, random.nextInt(1500), life);
      } else {
        long launched = System.nanoTime();
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(10))
            .until(() -> startedLives() > startedBefore || !child.isAlive());
        startup.accept((System.nanoTime() - launched) / 1_000_000);
        sleepWhileAlive(child, 200 + random.nextInt(1800), life);
      }
      if (startedLives() == startedBefore) {
        killedBeforeStart++;
      }
      child.destroyForcibly(); // SIGKILL
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("child %d died", life).isTrue();
    }
    Process drain = child("drain", storeArgument, 0);
    boolean drained = drain.waitFor(180, TimeUnit.SECONDS);
    if (!drained) {
      drain.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    Duration wall = Duration.ofNanos(System.nanoTime() - began);

    Report report;
    try (WorkOrderStore store = openStore.get()) {
      report = check(store);
    }
    System.out.printf(
        "crash loop on %s: %d kills (%d before the engine had started), %d work orders submitted"
            + " (%d acknowledged), %s, %d attempts, %d LEASE_EXPIRED reaps, %d shell attempts"
            + " recorded their pids, launch to started engine %d ms on average (%d ms at most),"
            + " wall time %.1f s%n",
        name,
        KILLS,
        killedBeforeStart,
        report.workOrders,
        report.acknowledged,
        report.states,
        report.attempts,
        report.leaseExpired,
        pidFiles().size(),
        (long) startup.getAverage(),
        startup.getMax(),
        wall.toMillis() / 1000.0);
    assertThat(drained)
        .as("the last child ended every work order within 180 s (log: %s)", log())
        .isTrue();
    assertThat(drain.exitValue()).as("the last child's exit code (log: %s)", log()).isZero();
    assertThat(report.problems).as("problems (log: %s)", log()).isEmpty();
    assertThat(report.acknowledged).as("acknowledged submissions").isPositive();

    Path root = dir.resolve(CrashLoopChild.SANDBOXES);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(liveSandboxProcesses()).as("sandbox processes still alive").isEmpty();
              for (String provider : List.of(CrashLoopChild.PROCESSES, CrashLoopChild.IN_PROCESS)) {
                assertThat(entries(root.resolve(provider)))
                    .as("sandbox directories left under %s", provider)
                    .isEmpty();
              }
            });
  }

  private Process child(String mode, String storeArgument, long seed) throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    return new ProcessBuilder(
            java.toString(),
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-Xmx256m",
            "-cp",
            System.getProperty("java.class.path"),
            CrashLoopChild.class.getName(),
            mode,
            dir.toString(),
            storeArgument,
            Long.toString(seed))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()))
        .start();
  }

  private Path log() {
    return dir.resolve("child.log");
  }

  private static void sleepWhileAlive(Process child, long millis, int life)
      throws InterruptedException {
    if (child.waitFor(millis, TimeUnit.MILLISECONDS)) {
      throw new AssertionError(
          "child " + life + " exited by itself with " + child.exitValue() + "; see its log");
    }
  }

  private int startedLives() throws IOException {
    Path started = dir.resolve(CrashLoopChild.STARTED);
    return Files.exists(started) ? (int) (Files.size(started) / "started\n".length()) : 0;
  }

  /** What the store holds at the end, and what is wrong with it. */
  private static final class Report {
    final List<String> problems = new ArrayList<>();
    final Map<WorkOrderState, Integer> states = new EnumMap<>(WorkOrderState.class);
    int acknowledged;
    int workOrders;
    long attempts;
    long leaseExpired;

    void problem(WorkOrderId id, String what) {
      if (problems.size() < 50) {
        problems.add(id + ": " + what);
      }
    }
  }

  private Report check(WorkOrderStore store) throws IOException {
    Report report = new Report();
    Map<WorkOrderId, WorkOrderView> all = new LinkedHashMap<>();
    long cursor = 0;
    while (true) {
      Page<WorkOrderView> page =
          store.query(WorkOrderQuery.builder().after(cursor).limit(1_000).build());
      page.items().forEach(v -> all.put(v.id(), v));
      if (!page.hasNext()) {
        break;
      }
      cursor = page.nextCursor().getAsLong();
    }
    report.workOrders = all.size();
    Path submitted = dir.resolve(CrashLoopChild.SUBMITTED);
    List<String> lines = Files.exists(submitted) ? Files.readAllLines(submitted) : List.of();
    for (String line : lines) {
      WorkOrderId id = WorkOrderId.of(line);
      report.acknowledged++;
      if (!all.containsKey(id)) {
        report.problem(id, "acknowledged by submit but not in the store");
      }
    }
    for (WorkOrderView view : all.values()) {
      report.states.merge(view.state(), 1, Integer::sum);
      report.attempts += view.attempt();
      if (!view.state().isTerminal()) {
        report.problem(view.id(), "left in " + view.state());
      }
      checkStream(view, store.readStream(view.id()), report);
    }
    return report;
  }

  private static void checkStream(WorkOrderView view, List<RecordedEvent> events, Report report) {
    WorkOrderId id = view.id();
    long terminal = events.stream().filter(e -> endsWorkOrder(e.event())).count();
    if (terminal != 1) {
      report.problem(id, terminal + " terminal events: " + types(events));
    }
    try {
      if (!ViewSnapshot.of(WorkOrder.fold(events)).equals(ViewSnapshot.of(view))) {
        report.problem(id, "the view differs from the fold of its events");
      }
    } catch (RuntimeException e) {
      report.problem(id, "its events do not fold: " + e);
    }
    int max = RETRY_POLICY.maxAttempts();
    if (view.chargedAttempts() > max) {
      report.problem(
          id, "charged attempt " + view.chargedAttempts() + " beyond the policy's " + max);
    }
    Outcome outcome = Outcome.of(view.payload());
    int attempt = 0;
    int released = 0;
    for (int i = 0; i < events.size(); i++) {
      WorkOrderEvent event = events.get(i).event();
      if (event instanceof WorkOrderEvent.Claimed) {
        attempt++;
      } else if (event instanceof WorkOrderEvent.Released r) {
        // A reaped lease (a killed child's) gives the attempt back: it is not charged.
        released++;
        if (r.code().equals(ErrorCodes.LEASE_EXPIRED)) {
          report.leaseExpired++;
        }
      } else if (event instanceof WorkOrderEvent.AttemptFailed failed) {
        String code = failed.error().code();
        if (code.equals(ErrorCodes.LEASE_EXPIRED)) {
          report.leaseExpired++;
        }
        boolean retryable =
            RETRY_POLICY.retries(code, ErrorCodes.RETRYABLE_BY_DEFAULT.contains(code));
        boolean retried = failed.retryAt() != null;
        if (retried != (retryable && attempt - released < max)) {
          report.problem(
              id,
              "attempt "
                  + attempt
                  + " failed with "
                  + code
                  + (retried ? " and was retried" : " and was not retried"));
        }
        if (retried
            && events.subList(i + 1, events.size()).stream()
                .noneMatch(e -> e.event() instanceof WorkOrderEvent.Claimed)) {
          report.problem(id, "attempt " + attempt + " was to be retried but never ran again");
        }
        boolean fatalCode = code.equals(ErrorCodes.AGENT_FATAL_ERROR);
        if (OUTCOME_CODES.contains(code)
            && (outcome.succeedsOn(attempt) || fatalCode != (outcome == Outcome.FATAL))) {
          report.problem(id, "attempt " + attempt + " of a " + outcome + " work order: " + code);
        }
      } else if (event instanceof WorkOrderEvent.Completed completed) {
        if (!outcome.succeedsOn(attempt)) {
          report.problem(id, "a " + outcome + " work order completed on attempt " + attempt);
        }
        if (!resultOfAttempt(view.type(), completed.result(), attempt)) {
          report.problem(id, "attempt " + attempt + " recorded the result " + completed.result());
        }
      }
    }
  }

  private static boolean endsWorkOrder(WorkOrderEvent event) {
    return event instanceof WorkOrderEvent.Completed
        || event instanceof WorkOrderEvent.Cancelled
        || (event instanceof WorkOrderEvent.AttemptFailed failed && failed.retryAt() == null);
  }

  /** The result names the attempt that produced it: fencing kept other attempts' results out. */
  private static boolean resultOfAttempt(String type, JsonNode result, int attempt) {
    if (result == null) {
      return false;
    }
    if (type.equals(CrashLoopChild.SHELL)) {
      return result.path("stdoutTail").asText().contains("attempt " + attempt + "\n");
    }
    return result.path("attempt").asInt() == attempt;
  }

  private static List<String> types(List<RecordedEvent> events) {
    return events.stream().map(e -> e.event().type().name()).toList();
  }

  private List<Path> pidFiles() throws IOException {
    return entries(dir.resolve(CrashLoopChild.PIDS));
  }

  /**
   * The recorded sandbox processes still alive: a pid counts only while its process still carries
   * the sandbox's marker, since pids are reused.
   */
  private Map<Long, String> liveSandboxProcesses() throws IOException {
    Map<Long, String> alive = new TreeMap<>();
    for (Path file : pidFiles()) {
      String[] fields = Files.readString(file).trim().split(" ");
      if (fields.length != 3) {
        continue; // the shell died while writing it, so it is not alive
      }
      String marker = ProcessSandboxProvider.SANDBOX_ENV + "=" + fields[2];
      for (int i = 0; i < 2; i++) {
        long pid = Long.parseLong(fields[i]);
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
            && environment(pid).contains(marker)) {
          alive.put(pid, file.getFileName().toString());
        }
      }
    }
    return alive;
  }

  private static List<String> environment(long pid) {
    try {
      byte[] environ = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ"));
      return List.of(new String(environ, StandardCharsets.UTF_8).split("\0"));
    } catch (IOException gone) {
      return List.of();
    }
  }

  private static List<Path> entries(Path directory) throws IOException {
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    try (Stream<Path> listed = Files.list(directory)) {
      return listed.sorted().toList();
    }
  }
}
