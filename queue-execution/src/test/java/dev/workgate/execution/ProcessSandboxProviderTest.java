package dev.workgate.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.WorkResult;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderView;
import dev.workgate.execution.SandboxProvider.SandboxRecord;
import dev.workgate.execution.SandboxProvider.SandboxRequest;
import dev.workgate.execution.internal.SandboxPaths;
import dev.workgate.execution.internal.SandboxRecords;
import dev.workgate.spi.WorkOrder;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

@EnabledOnOs(OS.LINUX)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProcessSandboxProviderTest {
  private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");
  private static final Duration GRACE = Duration.ofSeconds(2);

  /** What a kill may take beyond its grace: the JDK polls non-child processes every ~0.3 s. */
  private static final Duration MARGIN = Duration.ofSeconds(3);

  private static final AtomicInteger IDS = new AtomicInteger();

  @TempDir Path root;

  private final ExecutorService runners = Executors.newCachedThreadPool();
  private final List<Sandbox> sandboxes = new ArrayList<>();
  private final List<Process> strays = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    sandboxes.forEach(Sandbox::destroy);
    strays.forEach(Process::destroyForcibly);
    runners.shutdownNow();
  }

  // ---- running and output ------------------------------------------------------------------

  @Test
  void exit_zero_succeeds_with_both_tails_in_the_result_and_the_output_in_files() throws Exception {
    Sandbox sandbox = create(ProcessSpec.builder().shell("echo hello; echo oops >&2").build());

    WorkResult result = sandbox.run();

    assertThat(result.succeeded()).isTrue();
    JsonNode output = result.output().orElseThrow();
    assertThat(output.path("exitCode").asInt(-1)).isZero();
    assertThat(output.path("stdoutTail").asText()).isEqualTo("hello\n");
    assertThat(output.path("stderrTail").asText()).isEqualTo("oops\n");
    assertThat(output.path("truncated").asBoolean(true)).isFalse();
    assertThat(sandbox.directory().getParent()).isEqualTo(root.toAbsolutePath().normalize());
    assertThat(read(sandbox.directory().resolve(ProcessSandboxProvider.STDOUT_FILE)))
        .isEqualTo("hello\n");
    assertThat(read(sandbox.directory().resolve(ProcessSandboxProvider.STDERR_FILE)))
        .isEqualTo("oops\n");
  }

  @Test
  void the_result_keeps_only_the_end_of_the_output_and_never_half_a_character() throws Exception {
    // 3 000 two-byte characters, then a line.
    Sandbox sandbox =
        create(
            ProcessSpec.builder()
                .shell("i=0; while [ $i -lt 3000 ]; do printf 'é'; i=$((i+1)); done; echo end")
                .tailBytes(9)
                .build());

    WorkResult result = sandbox.run();

    String tail = result.output().orElseThrow().path("stdoutTail").asText();
    // The last 9 bytes are half an 'é', two whole ones and "end\n": the half is dropped.
    assertThat(tail).isEqualTo("ééend\n");
    assertThat(read(sandbox.directory().resolve(ProcessSandboxProvider.STDOUT_FILE)))
        .hasSize(3000 + 4);
  }

  @Test
  void output_beyond_the_limit_is_truncated_while_the_process_runs_to_its_end() throws Exception {
    long cap = 1024 * 1024;
    Sandbox sandbox =
        create(
            ProcessSpec.builder()
                .shell("head -c 50000000 /dev/zero; echo finished >&2")
                .outputLimitBytes(cap)
                .tailBytes(16)
                .build());

    WorkResult result = sandbox.run();

    assertThat(result.succeeded()).isTrue();
    JsonNode output = result.output().orElseThrow();
    assertThat(output.path("truncated").asBoolean()).isTrue();
    assertThat(output.path("stderrTail").asText()).isEqualTo("finished\n");
    Path stdout = sandbox.directory().resolve(ProcessSandboxProvider.STDOUT_FILE);
    byte[] marker = ProcessSandbox.TRUNCATED_MARKER.getBytes(StandardCharsets.UTF_8);
    assertThat(Files.size(stdout)).isEqualTo(cap + marker.length);
    assertThat(read(stdout)).endsWith(ProcessSandbox.TRUNCATED_MARKER);
  }

  // ---- environment and secrets ---------------------------------------------------------------

  @Test
  void the_child_sees_only_the_variables_it_is_given() throws Exception {
    assumeTrue(System.getenv("HOME") != null, "the test JVM has HOME");
    assumeTrue(System.getenv("PATH") != null, "the test JVM has PATH");

    Map<String, String> bare = envOf(create(ProcessSpec.builder().command("env").build()));
    Map<String, String> given =
        envOf(
            create(
                ProcessSpec.builder()
                    .command("env")
                    .inheritEnv("HOME", "NOT_SET_ANYWHERE_42")
                    .env("GREETING", "hi there")
                    .build()));

    assertThat(bare)
        .containsOnlyKeys(
            ProcessSandboxProvider.SANDBOX_ENV,
            ProcessSandboxProvider.FENCING_TOKEN_ENV,
            ProcessSandboxProvider.REPORT_FILE_ENV)
        .containsEntry(ProcessSandboxProvider.FENCING_TOKEN_ENV, "2");
    assertThat(given)
        .containsEntry("HOME", System.getenv("HOME"))
        .containsEntry("GREETING", "hi there")
        .doesNotContainKeys("PATH", "NOT_SET_ANYWHERE_42");
  }

  @Test
  void secrets_arrive_on_stdin_in_order_and_stdin_is_closed_after_them() throws Exception {
    Sandbox sandbox =
        create(
            ProcessSpec.builder()
                .shell("cat > stdin.txt; cat stdin.txt")
                .secret("A_TOKEN", "one")
                .secret("B", "two")
                .build());

    WorkResult result = sandbox.run(); // cat would never end if stdin stayed open

    // The child got them in order; its output, both the file and the tail stored in the event
    // log, masks them.
    assertThat(Files.readString(sandbox.directory().resolve("stdin.txt")))
        .isEqualTo("A_TOKEN=one\nB=two\n");
    assertThat(Files.readString(sandbox.directory().resolve(ProcessSandboxProvider.STDOUT_FILE)))
        .isEqualTo("A_TOKEN=***\nB=***\n");
    assertThat(result.output().orElseThrow().path("stdoutTail").asText())
        .isEqualTo("A_TOKEN=***\nB=***\n");
  }

  @Test
  void a_secret_cut_by_the_tail_is_masked_in_the_result_and_the_file() throws Exception {
    String value = "s3cr3t-token-0123456789";
    // 40 bytes after the secret; the 48-byte tail begins inside the secret's raw bytes.
    String after = "y".repeat(40);
    Sandbox sandbox =
        create(
            ProcessSpec.builder()
                .shell("printf '%s%s%s' xxxxxxxxxx \"$(sed -n 's/^T=//p')\" " + after)
                .secret("T", value)
                .tailBytes(48)
                .inheritEnv("PATH")
                .build());

    WorkResult result = sandbox.run();

    String tail = result.output().orElseThrow().path("stdoutTail").asText();
    assertThat(tail).isEqualTo("xxxxx***" + after);
    assertThat(read(sandbox.directory().resolve(ProcessSandboxProvider.STDOUT_FILE)))
        .isEqualTo("xxxxxxxxxx***" + after);
    String stored = result.output().orElseThrow().toString();
    for (int i = 0; i + 4 <= value.length(); i++) {
      assertThat(stored).doesNotContain(value.substring(i, i + 4));
    }
  }

  @Test
  void a_failure_message_built_from_stderr_masks_secrets_also_at_its_cut() throws Exception {
    String value = "another-secret-value";
    Sandbox sandbox =
        create(
            ProcessSpec.builder()
                .shell(
                    "s=$(sed -n 's/^T=//p'); echo \"token $s\" >&2;"
                        + " printf 'e%.0s' $(seq 1 1497) >&2; printf \"$s\" >&2;"
                        + " printf 'z%.0s' $(seq 1 1499) >&2; exit 3")
                .secret("T", value)
                .inheritEnv("PATH")
                .build());

    WorkResult result = sandbox.run();

    String message = result.error().orElseThrow().message();
    assertThat(message).contains("exit code 3").doesNotContain(value).doesNotContain("another");
    // The 1,500 characters kept begin inside the second marker: it is dropped, not cut.
    assertThat(message).endsWith("…" + "z".repeat(1499));
  }

  @Test
  void a_secret_is_in_neither_the_environment_nor_the_command_line_of_the_process()
      throws Exception {
    String value = "s3cr3t-" + IDS.incrementAndGet() + "-value";
    ProcessSpec spec =
        ProcessSpec.builder()
            .shell(
                "read s; echo \"$s\" > secret.txt;"
                    + " if read more; then echo more > stdin.txt; else echo eof > stdin.txt; fi;"
                    + " sleep 30")
            .secret("API_TOKEN", value)
            .inheritEnv("PATH")
            .build();
    ProcessSandbox sandbox = (ProcessSandbox) create(spec);
    Path dir = sandbox.directory();

    CompletableFuture<WorkResult> run = runInBackground(sandbox);
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(dir.resolve("stdin.txt")));

    assertThat(read(dir.resolve("secret.txt"))).isEqualTo("API_TOKEN=" + value + "\n");
    assertThat(read(dir.resolve("stdin.txt"))).isEqualTo("eof\n");
    long pid = sandbox.pid().orElseThrow();
    List<Long> pids = new ArrayList<>(List.of(pid));
    ProcessHandle.of(pid).orElseThrow().descendants().forEach(h -> pids.add(h.pid()));
    for (long p : pids) {
      assertThat(read(Path.of("/proc/" + p + "/environ"))).doesNotContain(value);
      assertThat(read(Path.of("/proc/" + p + "/cmdline"))).doesNotContain(value);
    }
    assertThat(spec.toString()).doesNotContain(value).contains("API_TOKEN=***");
    assertThat(sandbox.toString()).doesNotContain(value);

    sandbox.kill(GRACE);
    run.get(10, TimeUnit.SECONDS);
    assertThat(read(dir.resolve(ProcessSandboxProvider.STDOUT_FILE))).doesNotContain(value);
    assertThat(read(dir.resolve(SandboxRecords.FILE))).doesNotContain(value);
  }

  // ---- exit codes ----------------------------------------------------------------------------

  @Test
  void killed_by_sigkill_exits_137_which_is_a_retryable_oom_kill() throws Exception {
    WorkResult result = create(ProcessSpec.builder().shell("kill -9 $$").build()).run();

    ErrorInfo error = result.error().orElseThrow();
    assertThat(error.code()).isEqualTo(ErrorCodes.OOM_KILLED);
    assertThat(error.retryable()).isTrue();
    assertThat(error.message()).startsWith("exit code 137");
  }

  @Test
  void another_exit_code_is_an_unknown_error_with_the_end_of_stderr() throws Exception {
    WorkResult result =
        create(ProcessSpec.builder().shell("echo 'it broke' >&2; exit 3").build()).run();

    ErrorInfo error = result.error().orElseThrow();
    assertThat(error.code()).isEqualTo(ErrorCodes.UNKNOWN_ERROR);
    assertThat(error.message()).contains("exit code 3").contains("it broke");
  }

  @Test
  void an_executable_that_cannot_start_is_a_retryable_sandbox_failure() throws Exception {
    // Executable, but its interpreter line names nothing: exec fails.
    Path script = Files.writeString(root.resolve("broken.sh"), "#!/nonexistent/interpreter\n");
    assertThat(script.toFile().setExecutable(true)).isTrue();

    WorkResult result = create(ProcessSpec.builder().command(script.toString()).build()).run();

    ErrorInfo error = result.error().orElseThrow();
    assertThat(error.code()).isEqualTo(ErrorCodes.SANDBOX_CREATION_FAILED);
    assertThat(error.retryable()).isTrue();
  }

  // ---- memory limit --------------------------------------------------------------------------

  @Test
  void a_memory_limit_makes_a_large_allocation_fail_where_prlimit_exists() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/prlimit")), "prlimit is installed");
    assumeTrue(onPath("python3"), "python3 is installed");
    ProcessSpec unlimited =
        ProcessSpec.builder()
            .command("python3", "-c", "x = bytearray(256 * 1024 * 1024); print('allocated')")
            .inheritEnv("PATH", "HOME")
            .build();
    ProcessSpec limitedSpec =
        ProcessSpec.builder()
            .command(unlimited.command())
            .inheritEnv("PATH", "HOME")
            .memoryLimitMb(64)
            .build();

    WorkResult limited = create(limitedSpec).run();
    WorkResult free = create(unlimited).run();

    assertThat(limited.succeeded()).isFalse();
    assertThat(limited.error().orElseThrow().message()).contains("MemoryError");
    assertThat(free.succeeded()).as("the same allocation without a limit").isTrue();
  }

  @Test
  void without_prlimit_the_limit_is_not_applied_and_the_process_still_runs() throws Exception {
    ProcessSandboxProvider provider =
        ProcessSandboxProvider.builder(
                root, order -> ProcessSpec.builder().shell("echo ran").memoryLimitMb(1).build())
            .prlimit(Optional.empty())
            .build();
    Sandbox sandbox = track(provider.create(request(newId())));

    WorkResult result = sandbox.run(); // with a 1 MiB limit not even sh could start

    assertThat(result.output().orElseThrow().path("stdoutTail").asText()).isEqualTo("ran\n");
  }

  // ---- session -------------------------------------------------------------------------------

  @Test
  void a_sandbox_process_leads_a_session_of_its_own_and_keeps_the_pid_the_jvm_sees()
      throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/setsid")), "setsid is installed");
    // exit 3, not exit 0, after the sleep: a shell that outlives its killed child by a moment must
    // still end non-zero, so the kill reads as CANCELLED whichever process it reaches first.
    ProcessSandbox sandbox =
        (ProcessSandbox)
            create(ProcessSpec.builder().shell("echo $$ > pid.txt; sleep 600; exit 3").build());
    CompletableFuture<WorkResult> run = runInBackground(sandbox);
    List<ProcessHandle> tree = treeOf(sandbox, 1);
    long pid = sandbox.pid().orElseThrow();

    // The pid the JVM recorded is the shell itself (setsid executed it in place), which leads a
    // session of its own, apart from the JVM's: Ctrl-C in the JVM's terminal does not reach it.
    Path pidFile = sandbox.directory().resolve("pid.txt");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> Files.exists(pidFile) && read(pidFile).strip().equals(Long.toString(pid)));
    assertThat(commandName(pid)).isNotEqualTo("setsid");
    assertThat(sessionOf(pid))
        .isEqualTo(pid)
        .isNotEqualTo(sessionOf(ProcessHandle.current().pid()));
    assertThat(sessionOf(tree.get(0).pid())).as("the sleep, the shell's child").isEqualTo(pid);

    sandbox.kill(GRACE);

    assertThat(tree).noneMatch(ProcessSandboxProviderTest::runs);
    assertThat(run.get(10, TimeUnit.SECONDS).error().orElseThrow().code())
        .isEqualTo(ErrorCodes.CANCELLED);
  }

  @Test
  void exit_codes_and_the_memory_limit_pass_through_setsid() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/setsid")), "setsid is installed");
    WorkResult exit =
        create(ProcessSpec.builder().shell("exit 42").memoryLimitMb(512).build()).run();

    assertThat(exit.error().orElseThrow().message()).startsWith("exit code 42");
  }

  @Test
  void a_program_setsid_cannot_execute_is_a_sandbox_creation_failure_not_exit_127()
      throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/setsid")), "setsid is installed");
    Path script = Files.writeString(root.resolve("broken.sh"), "#!/nonexistent/interpreter\n");
    assertThat(script.toFile().setExecutable(true)).isTrue();

    ErrorInfo error =
        create(ProcessSpec.builder().command(script.toString()).build())
            .run()
            .error()
            .orElseThrow();

    assertThat(error.code()).isEqualTo(ErrorCodes.SANDBOX_CREATION_FAILED);
    assertThat(error.message()).isEqualTo("cannot start " + script + ": No such file or directory");
  }

  @Test
  void without_setsid_a_sandbox_process_stays_in_the_jvm_session() throws Exception {
    ProcessSandboxProvider provider =
        ProcessSandboxProvider.builder(
                root, order -> ProcessSpec.builder().shell("cut -d' ' -f6 /proc/$$/stat").build())
            .setsid(Optional.empty())
            .build();

    WorkResult result = track(provider.create(request(newId()))).run();

    assertThat(result.output().orElseThrow().path("stdoutTail").asText().strip())
        .isEqualTo(Long.toString(sessionOf(ProcessHandle.current().pid())));
  }

  // ---- kill ----------------------------------------------------------------------------------

  @Test
  void kill_stops_a_process_that_ends_on_sigterm_within_the_grace() throws Exception {
    ProcessSandbox sandbox =
        (ProcessSandbox) create(ProcessSpec.builder().command("sleep", "600").build());
    CompletableFuture<WorkResult> run = runInBackground(sandbox);
    List<ProcessHandle> tree = treeOf(sandbox, 0);

    Duration took = timed(() -> sandbox.kill(GRACE));

    assertThat(tree).noneMatch(ProcessSandboxProviderTest::runs);
    assertThat(took).isLessThan(GRACE);
    WorkResult result = run.get(10, TimeUnit.SECONDS);
    assertThat(result.error().orElseThrow().code()).isEqualTo(ErrorCodes.CANCELLED);
  }

  @Test
  void kill_stops_the_grandchildren_of_a_shell() throws Exception {
    ProcessSandbox sandbox =
        (ProcessSandbox)
            create(ProcessSpec.builder().shell("sleep 600 & sleep 600 & wait").build());
    CompletableFuture<WorkResult> run = runInBackground(sandbox);
    List<ProcessHandle> tree = treeOf(sandbox, 2);

    Duration took = timed(() -> sandbox.kill(GRACE));

    assertThat(tree).hasSize(3).noneMatch(ProcessSandboxProviderTest::runs);
    assertThat(took).isLessThan(GRACE.plus(MARGIN));
    run.get(10, TimeUnit.SECONDS);
  }

  @Test
  void kill_sends_sigkill_after_the_grace_to_a_tree_that_ignores_sigterm() throws Exception {
    ProcessSandbox sandbox =
        (ProcessSandbox) create(ProcessSpec.builder().shell("trap '' TERM; sleep 600").build());
    CompletableFuture<WorkResult> run = runInBackground(sandbox);
    List<ProcessHandle> tree = treeOf(sandbox, 1);

    Duration took = timed(() -> sandbox.kill(GRACE));

    assertThat(tree).hasSize(2).noneMatch(ProcessSandboxProviderTest::runs);
    assertThat(took).isBetween(GRACE.minusMillis(100), GRACE.plus(MARGIN));
    run.get(10, TimeUnit.SECONDS);
    sandbox.kill(GRACE); // idempotent: nothing left, returns at once
  }

  @Test
  void kill_finds_a_process_whose_parent_exited_by_the_sandbox_marker() throws Exception {
    ProcessSandbox sandbox =
        (ProcessSandbox)
            create(
                ProcessSpec.builder()
                    .shell("sh -c 'sleep 600 & echo $! > orphan.pid'; sleep 600")
                    .build());
    CompletableFuture<WorkResult> run = runInBackground(sandbox);
    Path pidFile = sandbox.directory().resolve("orphan.pid");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> Files.exists(pidFile) && Files.size(pidFile) > 0);
    ProcessHandle lost = ProcessHandle.of(Long.parseLong(read(pidFile).strip())).orElseThrow();
    ProcessHandle main = ProcessHandle.of(sandbox.pid().orElseThrow()).orElseThrow();
    await().atMost(Duration.ofSeconds(10)).until(() -> main.descendants().noneMatch(lost::equals));

    sandbox.kill(GRACE);

    assertThat(runs(lost)).isFalse();
    assertThat(runs(main)).isFalse();
    run.get(10, TimeUnit.SECONDS);
  }

  @Test
  void run_returns_soon_after_the_main_process_exits_and_destroy_kills_what_it_left_behind()
      throws Exception {
    Sandbox sandbox =
        create(ProcessSpec.builder().shell("sleep 600 & echo $! > left.pid; echo done").build());

    WorkResult result = sandbox.run(); // the background sleep holds stdout open

    assertThat(result.output().orElseThrow().path("stdoutTail").asText()).isEqualTo("done\n");
    ProcessHandle left =
        ProcessHandle.of(Long.parseLong(read(sandbox.directory().resolve("left.pid")).strip()))
            .orElseThrow();
    assertThat(runs(left)).isTrue();
    sandbox.destroy();
    assertThat(runs(left)).isFalse();
  }

  // ---- destroy -------------------------------------------------------------------------------

  @Test
  void destroy_kills_what_runs_and_deletes_the_directory_and_may_be_repeated() throws Exception {
    ProcessSandbox sandbox =
        (ProcessSandbox) create(ProcessSpec.builder().command("sleep", "600").build());
    CompletableFuture<WorkResult> run = runInBackground(sandbox);
    List<ProcessHandle> tree = treeOf(sandbox, 0);

    sandbox.destroy();

    assertThat(tree).noneMatch(ProcessSandboxProviderTest::runs);
    assertThat(sandbox.directory()).doesNotExist();
    run.get(10, TimeUnit.SECONDS);
    sandbox.destroy();
    assertThat(sandbox.directory()).doesNotExist();
  }

  @Test
  void a_sandbox_destroyed_before_it_runs_never_starts() throws Exception {
    Sandbox sandbox = create(ProcessSpec.builder().shell("echo started > ../started.txt").build());

    sandbox.destroy();
    WorkResult result = sandbox.run();

    assertThat(result.error().orElseThrow().code()).isEqualTo(ErrorCodes.CANCELLED);
    assertThat(root.resolve("started.txt")).doesNotExist();
    assertThat(sandbox.directory()).doesNotExist();
  }

  @Test
  void a_sandbox_runs_once() throws Exception {
    Sandbox sandbox = create(ProcessSpec.builder().command("true").build());
    sandbox.run();

    assertThatThrownBy(sandbox::run).isInstanceOf(IllegalStateException.class);
  }

  // ---- create --------------------------------------------------------------------------------

  @Test
  void create_makes_the_working_subdirectory_and_runs_there() throws Exception {
    Sandbox sandbox =
        create(ProcessSpec.builder().command("pwd").workingSubdirectory("work/src").build());

    WorkResult result = sandbox.run();

    assertThat(result.output().orElseThrow().path("stdoutTail").asText().strip())
        .isEqualTo(sandbox.directory().resolve("work/src").toString());
  }

  @Test
  void a_failing_recipe_leaves_nothing_behind() {
    ProcessSandboxProvider provider =
        ProcessSandboxProvider.builder(
                root,
                order -> {
                  throw new IllegalArgumentException("payload has no task");
                })
            .build();

    assertThatThrownBy(() -> provider.create(request(newId())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("payload has no task");
    assertThat(root.toFile().list()).isEmpty();
  }

  @Test
  void a_missing_executable_fails_creation_and_leaves_nothing_behind() {
    ProcessSandboxProvider provider =
        provider(order -> ProcessSpec.builder().command("no-such-program-workgate").build());

    assertThatThrownBy(() -> provider.create(request(newId())))
        .isInstanceOf(FileNotFoundException.class)
        .hasMessageStartingWith(
            "executable 'no-such-program-workgate' not found on the JVM's PATH (the sandbox has"
                + " none) (");
    assertThat(root.toFile().list()).isEmpty();
  }

  @Test
  void a_missing_executable_names_the_path_searched_but_not_its_directories() {
    ProcessSandboxProvider provider =
        provider(
            order ->
                ProcessSpec.builder()
                    .command("no-such-program-workgate")
                    .env("PATH", "/opt/secret-layout/bin::/home/someone/tools")
                    .build());

    assertThatThrownBy(() -> provider.create(request(newId())))
        .isInstanceOf(FileNotFoundException.class)
        .hasMessage(
            "executable 'no-such-program-workgate' not found on the sandbox's PATH"
                + " (2 directories searched)");
    String jvmPath = System.getenv("PATH");
    assumeTrue(jvmPath != null && !jvmPath.isEmpty(), "the JVM has a PATH");
    ProcessSandboxProvider inherits =
        provider(order -> ProcessSpec.builder().command("no-such-program-workgate").build());
    assertThatThrownBy(() -> inherits.create(request(newId())))
        .satisfies(
            e ->
                assertThat(Stream.of(jvmPath.split(":")).filter(d -> !d.isEmpty()))
                    .allSatisfy(dir -> assertThat(e.getMessage()).doesNotContain(dir)));
  }

  @Test
  void an_existing_directory_is_not_reused_and_not_deleted() throws Exception {
    WorkOrderId id = newId();
    Path existing = Files.createDirectories(root.resolve(SandboxPaths.name(id, 1)));
    Files.writeString(existing.resolve("keep.txt"), "someone else's");
    ProcessSandboxProvider provider =
        provider(order -> ProcessSpec.builder().command("true").build());

    assertThatThrownBy(() -> provider.create(request(id)))
        .isInstanceOf(FileAlreadyExistsException.class);
    assertThat(existing.resolve("keep.txt")).hasContent("someone else's");
  }

  // ---- orphans -------------------------------------------------------------------------------

  @Test
  void an_orphan_is_listed_with_its_pid_and_destroying_it_kills_its_tree() throws Exception {
    WorkOrderId id = newId();
    ProcessSandboxProvider crashed =
        provider(order -> ProcessSpec.builder().shell("sleep 600 & wait").build());
    ProcessSandbox sandbox = (ProcessSandbox) track(crashed.create(request(id)));
    CompletableFuture<WorkResult> run = runInBackground(sandbox);
    List<ProcessHandle> tree = treeOf(sandbox, 1);
    Path dir = sandbox.directory();
    // The crash: from here on nobody calls the sandbox; a new provider finds what it left.

    ProcessSandboxProvider restarted =
        provider(order -> ProcessSpec.builder().command("true").build());
    List<SandboxRecord> orphans = restarted.list();

    assertThat(orphans).hasSize(1);
    SandboxRecord orphan = orphans.get(0);
    assertThat(orphan.workOrderId()).isEqualTo(id);
    assertThat(orphan.attempt()).isEqualTo(1);
    assertThat(orphan.nodeId()).isEqualTo("node-a");
    assertThat(orphan.createdAt()).isEqualTo(T0);
    Map<String, String> details = SandboxRecords.read(dir).orElseThrow().details();
    assertThat(details)
        .containsEntry(
            ProcessSandboxProvider.DETAIL_PID, Long.toString(tree.get(tree.size() - 1).pid()))
        .containsKey(ProcessSandboxProvider.DETAIL_START);

    restarted.destroyOrphan(orphan);

    assertThat(tree).noneMatch(ProcessSandboxProviderTest::runs);
    assertThat(dir).doesNotExist();
    assertThat(restarted.list()).isEmpty();
    run.get(10, TimeUnit.SECONDS);
    restarted.destroyOrphan(orphan); // idempotent
  }

  @Test
  void an_orphan_whose_pid_now_belongs_to_another_process_does_not_kill_that_process()
      throws Exception {
    Process unrelated = new ProcessBuilder("sleep", "600").start();
    strays.add(unrelated);
    Instant realStart = unrelated.toHandle().info().startInstant().orElseThrow();
    WorkOrderId id = newId();
    Path dir = Files.createDirectories(root.resolve(SandboxPaths.name(id, 1)));
    SandboxRecord record = new SandboxRecord(dir.getFileName().toString(), id, 1, "node-a", T0);
    SandboxRecords.write(
        dir,
        record,
        Map.of(
            ProcessSandboxProvider.DETAIL_KIND, ProcessSandboxProvider.KIND,
            ProcessSandboxProvider.DETAIL_PID, Long.toString(unrelated.pid()),
            ProcessSandboxProvider.DETAIL_START, realStart.minusSeconds(3600).toString()));
    ProcessSandboxProvider provider =
        provider(order -> ProcessSpec.builder().command("true").build());

    assertThat(provider.list()).containsExactly(record);
    provider.destroyOrphan(record);

    assertThat(unrelated.isAlive()).isTrue();
    assertThat(dir).doesNotExist();
  }

  @Test
  void list_leaves_out_the_sandboxes_of_other_providers() {
    WorkOrderId id = newId();
    Path dir = root.resolve(SandboxPaths.name(id, 1));
    assertThat(dir.toFile().mkdirs()).isTrue();
    SandboxRecords.write(
        dir, new SandboxRecord("x", id, 1, "node-a", T0), Map.of("kind", "in-process"));

    assertThat(provider(order -> ProcessSpec.builder().command("true").build()).list()).isEmpty();
  }

  // ---- helpers -------------------------------------------------------------------------------

  private ProcessSandboxProvider provider(Function<WorkOrderView, ProcessSpec> recipe) {
    return ProcessSandboxProvider.builder(root, recipe)
        .clock(Clock.fixed(T0, ZoneOffset.UTC))
        .build();
  }

  private Sandbox create(ProcessSpec spec) throws Exception {
    return track(provider(order -> spec).create(request(newId())));
  }

  private Sandbox track(Sandbox sandbox) {
    sandboxes.add(sandbox);
    return sandbox;
  }

  private static WorkOrderId newId() {
    return WorkOrderId.of("wo-" + IDS.incrementAndGet());
  }

  private static SandboxRequest request(WorkOrderId id) {
    WorkOrderView claimed =
        WorkOrder.start(
                id, WorkOrderEvent.Submitted.of(WorkOrderSpec.builder("agent").build()), 1, T0)
            .apply(new WorkOrderEvent.Claimed("node-a", T0.plusSeconds(60)), 2, T0);
    return new SandboxRequest(claimed, "node-a", new RecordingReports());
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

  /**
   * Waits until the sandbox's process runs with the given number of descendants and returns them,
   * the process itself last.
   */
  private static List<ProcessHandle> treeOf(ProcessSandbox sandbox, int descendants) {
    await().atMost(Duration.ofSeconds(10)).until(() -> sandbox.pid().isPresent());
    ProcessHandle main = ProcessHandle.of(sandbox.pid().orElseThrow()).orElseThrow();
    await().atMost(Duration.ofSeconds(10)).until(() -> main.descendants().count() == descendants);
    List<ProcessHandle> tree = new ArrayList<>(main.descendants().toList());
    tree.add(main);
    assertThat(tree).allMatch(ProcessSandboxProviderTest::runs);
    return tree;
  }

  private static Map<String, String> envOf(Sandbox sandbox) throws Exception {
    String out = sandbox.run().output().orElseThrow().path("stdoutTail").asText();
    return Stream.of(out.split("\n"))
        .filter(line -> line.contains("="))
        .collect(
            Collectors.toMap(
                line -> line.substring(0, line.indexOf('=')),
                line -> line.substring(line.indexOf('=') + 1)));
  }

  /**
   * Whether a process still runs. A killed process whose parent has not reaped it yet is a zombie:
   * the JDK calls it alive, but it runs no more. (Where init does not reap promptly, as in some
   * containers, killed orphans stay zombies for a while.)
   */
  private static boolean runs(ProcessHandle process) {
    if (!process.isAlive()) {
      return false;
    }
    try {
      String stat = read(Path.of("/proc/" + process.pid() + "/stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (IOException e) {
      return false;
    }
  }

  /** Field 6 of {@code /proc/<pid>/stat}, the session id; the fields after the command name. */
  private static long sessionOf(long pid) throws IOException {
    String stat = read(Path.of("/proc/" + pid + "/stat"));
    String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(after[3]); // state, ppid, pgrp, session
  }

  private static String commandName(long pid) throws IOException {
    return read(Path.of("/proc/" + pid + "/comm")).strip();
  }

  private static Duration timed(Runnable action) {
    long start = System.nanoTime();
    action.run();
    return Duration.ofNanos(System.nanoTime() - start);
  }

  private static String read(Path file) throws IOException {
    return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
  }

  private static boolean onPath(String name) {
    String path = System.getenv("PATH");
    return path != null
        && Stream.of(path.split(":"))
            .filter(d -> !d.isEmpty())
            .anyMatch(d -> Files.isExecutable(Path.of(d, name)));
  }
}
