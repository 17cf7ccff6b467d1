package dev.workgate.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workgate.WorkResult;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.WorkgateException;
import dev.workgate.execution.RecordingReports.Checkpoint;
import dev.workgate.execution.RecordingReports.Progress;
import dev.workgate.execution.SandboxProvider.SandboxRequest;
import dev.workgate.execution.internal.PrivateFiles;
import dev.workgate.spi.WorkOrder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/** A process sandbox's progress and checkpoints, which its process writes to its report file. */
@EnabledOnOs(OS.LINUX)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProcessSandboxReportsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final AtomicInteger IDS = new AtomicInteger();

  /** Appends its arguments, one line each, to the report file. */
  private static final String REPORT =
      "report() { printf '%s\\n' \"$@\" >> \"$WORKGATE_REPORT_FILE\"; }; ";

  /** Waits in the child, not in the test, until the test creates the named file. */
  private static String waitFor(String file) {
    return "while [ ! -e " + file + " ]; do sleep 0.05; done; ";
  }

  @TempDir Path root;

  private final ExecutorService runners = Executors.newCachedThreadPool();
  private final List<Sandbox> sandboxes = new ArrayList<>();
  private final List<Thread> made = new CopyOnWriteArrayList<>();
  private final ThreadFactory threads =
      task -> {
        Thread t = new Thread(task, "test-sandbox-" + made.size());
        t.setDaemon(true);
        made.add(t);
        return t;
      };

  @AfterEach
  void cleanUp() {
    sandboxes.forEach(Sandbox::destroy);
    runners.shutdownNow();
  }

  @Test
  void progress_and_checkpoints_reach_the_reports_in_order_before_run_returns() throws Exception {
    RecordingReports reports = new RecordingReports();
    Sandbox sandbox =
        create(
            reports,
            REPORT
                + "report '{\"progress\": 0.25, \"message\": \"cloned the repository\"}';"
                + " report '{\"checkpoint\": {\"step\": 1}}';"
                + " report '{\"progress\": 0.5}';"
                + " report '{\"checkpoint\": {\"step\": 2, \"files\": [\"a\", \"b\"]}}';"
                + " echo done");

    WorkResult result = sandbox.run();

    assertThat(result.succeeded()).isTrue();
    assertThat(reports.reports())
        .containsExactly(
            new Progress(0.25, "cloned the repository"),
            new Checkpoint(json("{\"step\": 1}")),
            new Progress(0.5, ""),
            new Checkpoint(json("{\"step\": 2, \"files\": [\"a\", \"b\"]}")));
    assertThat(reports.lastCheckpoint()).contains(json("{\"step\": 2, \"files\": [\"a\", \"b\"]}"));
  }

  @Test
  void reports_arrive_while_the_process_runs_on_a_thread_of_the_providers_factory()
      throws Exception {
    RecordingReports reports = new RecordingReports();
    Sandbox sandbox =
        create(
            reports,
            REPORT
                + "report '{\"checkpoint\": {\"step\": 1}}' '{\"progress\": 0.3}'; "
                + waitFor("go")
                + "report '{\"progress\": 0.9}'");
    CompletableFuture<WorkResult> run = runInBackground(sandbox);

    await().atMost(WAIT).until(() -> reports.reports().size() == 2);
    assertThat(run).isNotDone();
    Files.createFile(sandbox.directory().resolve("go"));

    assertThat(run.get(10, TimeUnit.SECONDS).succeeded()).isTrue();
    assertThat(reports.progress()).extracting(Progress::fraction).containsExactly(0.3, 0.9);
    List<String> factoryThreads = made.stream().map(Thread::getName).toList();
    assertThat(reports.callers().subList(0, 2)).allMatch(factoryThreads::contains);
    await().atMost(WAIT).until(() -> made.stream().noneMatch(Thread::isAlive));
  }

  @Test
  void a_checkpoint_written_right_before_the_exit_is_recorded_before_the_outcome()
      throws Exception {
    for (int exitCode : new int[] {0, 3}) {
      RecordingReports reports = new RecordingReports();
      Sandbox sandbox =
          create(
              reports,
              REPORT + "report '{\"checkpoint\": {\"exit\": " + exitCode + "}}'; exit " + exitCode);

      WorkResult result = sandbox.run();

      assertThat(result.succeeded()).isEqualTo(exitCode == 0);
      assertThat(reports.checkpoints()).containsExactly(json("{\"exit\": " + exitCode + "}"));
    }
  }

  @Test
  void a_retried_attempt_finds_the_last_checkpoint_in_its_checkpoint_file() throws Exception {
    JsonNode last = json("{\"step\": 2, \"note\": \"déjà vu\"}");
    RecordingReports reports = RecordingReports.resumingFrom(last);
    Sandbox sandbox =
        create(
            reports,
            "printf '%s\\n' \"$WORKGATE_CHECKPOINT_FILE\"; cat \"$WORKGATE_CHECKPOINT_FILE\"");
    Path file = sandbox.directory().resolve(ProcessSandboxProvider.CHECKPOINT_FILE);

    String[] out = stdout(sandbox.run()).split("\n", 2);

    assertThat(out[0]).isEqualTo(file.toString());
    assertThat(Path.of(out[0])).isAbsolute();
    assertThat(json(out[1])).isEqualTo(last);
    assertThat(reports.checkpoints()).isEmpty();
  }

  @Test
  void without_a_checkpoint_there_is_neither_the_file_nor_the_variable_whatever_the_recipe_sets()
      throws Exception {
    ProcessSpec spec =
        ProcessSpec.builder()
            .command("env")
            .env(ProcessSandboxProvider.CHECKPOINT_FILE_ENV, "/tmp/forged-checkpoint.json")
            .env(ProcessSandboxProvider.REPORT_FILE_ENV, "/tmp/forged-report.jsonl")
            .build();
    Sandbox sandbox = create(new RecordingReports(), spec);

    Map<String, String> env = envOf(sandbox.run());

    assertThat(env)
        .doesNotContainKey(ProcessSandboxProvider.CHECKPOINT_FILE_ENV)
        .containsEntry(
            ProcessSandboxProvider.REPORT_FILE_ENV,
            sandbox.directory().resolve(ProcessSandboxProvider.REPORT_FILE).toString());
    assertThat(sandbox.directory().resolve(ProcessSandboxProvider.CHECKPOINT_FILE)).doesNotExist();
    assertThat(sandbox.directory().resolve(ProcessSandboxProvider.REPORT_FILE)).isEmptyFile();
  }

  @Test
  void the_report_and_checkpoint_files_are_private_and_outside_the_working_subdirectory()
      throws Exception {
    Path probe = root.resolve("probe");
    Files.createDirectory(probe);
    assumeTrue(PrivateFiles.posix(probe), "the file system has POSIX permissions");
    ProcessSpec spec = ProcessSpec.builder().shell("ls -A").workingSubdirectory("work").build();
    Sandbox sandbox = create(RecordingReports.resumingFrom(json("{\"step\": 1}")), spec);
    Path dir = sandbox.directory();

    assertThat(mode(dir.resolve(ProcessSandboxProvider.REPORT_DIRECTORY))).isEqualTo("rwx------");
    assertThat(mode(dir.resolve(ProcessSandboxProvider.REPORT_FILE))).isEqualTo("rw-------");
    assertThat(mode(dir.resolve(ProcessSandboxProvider.CHECKPOINT_FILE))).isEqualTo("rw-------");
    assertThat(stdout(sandbox.run())).as("the working subdirectory stays empty").isEmpty();
  }

  @Test
  void bad_lines_are_skipped_and_the_good_lines_after_them_still_count() throws Exception {
    RecordingReports reports = new RecordingReports();
    int longer = ProcessSandboxProvider.MAX_REPORT_LINE_BYTES + 1024;
    Sandbox sandbox =
        create(
            reports,
            REPORT
                + "report 'this is not JSON' '{\"progress\": 2}' '{\"progress\": NaN}'"
                + " '[\"not\", \"an\", \"object\"]' '{\"neither\": true}';"
                + " F=\"$WORKGATE_REPORT_FILE\"; printf '{\"checkpoint\": \"' >> \"$F\";"
                + " head -c "
                + longer
                + " /dev/zero | tr '\\0' x >> \"$F\"; printf '\"}\\n' >> \"$F\";"
                + " report '{\"progress\": 0.75, \"message\": \"after the bad ones\"}'"
                + " '{\"checkpoint\": {\"ok\": true}}'");

    WorkResult result = sandbox.run();

    assertThat(result.succeeded()).isTrue();
    assertThat(Files.size(sandbox.directory().resolve(ProcessSandboxProvider.REPORT_FILE)))
        .isGreaterThan(longer);
    assertThat(reports.reports())
        .containsExactly(
            new Progress(0.75, "after the bad ones"), new Checkpoint(json("{\"ok\": true}")));
  }

  @Test
  void a_partial_line_is_read_only_once_its_newline_comes() throws Exception {
    RecordingReports reports = new RecordingReports();
    Sandbox sandbox =
        create(
            reports,
            "F=\"$WORKGATE_REPORT_FILE\"; printf '{\"progress\": 0.1}\\n{\"progress\": 0.' >> \"$F\";"
                + " touch partial; "
                + waitFor("go")
                + "printf '2}\\n' >> \"$F\"; "
                + waitFor("done"));
    Path dir = sandbox.directory();
    CompletableFuture<WorkResult> run = runInBackground(sandbox);

    await()
        .atMost(WAIT)
        .until(() -> Files.exists(dir.resolve("partial")) && reports.progress().size() == 1);
    await()
        .during(ProcessSandboxProvider.REPORT_POLL.multipliedBy(3))
        .atMost(WAIT)
        .until(() -> reports.progress().size() == 1);
    Files.createFile(dir.resolve("go"));
    await().atMost(WAIT).until(() -> reports.progress().size() == 2);
    assertThat(run).isNotDone();
    Files.createFile(dir.resolve("done"));

    assertThat(run.get(10, TimeUnit.SECONDS).succeeded()).isTrue();
    assertThat(reports.progress()).containsExactly(new Progress(0.1, ""), new Progress(0.2, ""));
  }

  @Test
  void a_checkpoint_refused_for_a_lost_claim_stops_the_reports_but_not_the_process()
      throws Exception {
    RecordingReports reports =
        new RecordingReports()
            .refuseCheckpointsWith(new WorkgateException("the attempt no longer holds its claim"));
    Sandbox sandbox =
        create(
            reports,
            REPORT
                + "report '{\"progress\": 0.1}' '{\"checkpoint\": 1}' '{\"progress\": 0.5}'"
                + " '{\"checkpoint\": 2}'; echo finished");

    WorkResult result = sandbox.run();

    assertThat(result.succeeded()).isTrue();
    assertThat(stdout(result)).isEqualTo("finished\n");
    assertThat(reports.reports()).containsExactly(new Progress(0.1, ""));
    assertThat(reports.checkpointCalls()).isEqualTo(1);
  }

  @Test
  void standard_output_and_error_are_never_read_as_reports() throws Exception {
    RecordingReports reports = new RecordingReports();
    Sandbox sandbox =
        create(
            reports,
            "echo '{\"progress\":0.5}'; echo '{\"checkpoint\":{\"from\":\"stdout\"}}';"
                + " echo '{\"progress\":0.6}' >&2");

    WorkResult result = sandbox.run();

    assertThat(stdout(result)).contains("{\"progress\":0.5}");
    assertThat(reports.reports()).isEmpty();
    assertThat(reports.checkpointCalls()).isZero();
  }

  // ---- helpers -------------------------------------------------------------------------------

  private Sandbox create(RecordingReports reports, String script) throws Exception {
    return create(reports, ProcessSpec.builder().shell(script).build());
  }

  private Sandbox create(RecordingReports reports, ProcessSpec spec) throws Exception {
    ProcessSandboxProvider provider =
        ProcessSandboxProvider.builder(root, order -> spec).threadFactory(threads).build();
    Sandbox sandbox = provider.create(request(reports));
    sandboxes.add(sandbox);
    return sandbox;
  }

  private static SandboxRequest request(AttemptReports reports) {
    WorkOrderId id = WorkOrderId.of("wo-" + IDS.incrementAndGet());
    WorkOrderView claimed =
        WorkOrder.start(
                id, WorkOrderEvent.Submitted.of(WorkOrderSpec.builder("agent").build()), 1, T0)
            .apply(new WorkOrderEvent.Claimed("node-a", T0.plusSeconds(60)), 2, T0);
    return new SandboxRequest(claimed, "node-a", reports);
  }

  private CompletableFuture<WorkResult> runInBackground(Sandbox sandbox) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return sandbox.run();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        },
        runners);
  }

  private static String stdout(WorkResult result) {
    assertThat(result.succeeded()).as("result %s", result).isTrue();
    return result.output().orElseThrow().path("stdoutTail").asText();
  }

  private static Map<String, String> envOf(WorkResult result) {
    return Stream.of(stdout(result).split("\n"))
        .filter(line -> line.contains("="))
        .collect(
            Collectors.toMap(
                line -> line.substring(0, line.indexOf('=')),
                line -> line.substring(line.indexOf('=') + 1)));
  }

  private static String mode(Path path) throws IOException {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
  }

  private static JsonNode json(String text) throws IOException {
    return JSON.readTree(text);
  }
}
