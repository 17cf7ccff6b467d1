package dev.workgate.examples.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.StoreView.LogPage;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Ctrl-C on a terminal runs the demo's graceful shutdown. The demo runs in its own JVM under a real
 * pseudo-terminal ({@code script} from util-linux) with the progress bar, at 80 columns, until an
 * agent sandbox hangs; then the terminal's interrupt character goes in, which the pty's line
 * discipline turns into SIGINT for the whole foreground process group, as a person's Ctrl-C does
 * (or SIGINT goes to the JVM alone, as {@code kill -INT} does). The demo must then say it was
 * interrupted, exit with 130, leave nothing running in its store and no process behind, and record
 * the hanging attempt as released by its node ({@code Released} with {@code NODE_SHUTDOWN}), never
 * as killed by the signal ({@code exit code 130}). About ten seconds a case.
 */
@EnabledOnOs(OS.LINUX)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DemoInterruptTest {
  @TempDir Path dir;

  private Process script;

  /** How the interrupt arrives. */
  enum Interrupt {
    /** The terminal's interrupt character: SIGINT to the foreground process group. */
    CTRL_C,
    /** {@code kill -INT} to the JVM alone. */
    KILL_INT
  }

  @AfterEach
  void stop() {
    if (script != null && script.isAlive()) {
      script.descendants().forEach(ProcessHandle::destroyForcibly);
      script.destroyForcibly();
    }
  }

  @ParameterizedTest
  @EnumSource(Interrupt.class)
  void an_interrupt_on_a_terminal_stops_the_demo_gracefully(Interrupt interrupt) throws Exception {
    Path scriptTool = Path.of("/usr/bin/script");
    if (!Files.isExecutable(scriptTool)) {
      assumeTrue(System.getenv("CI") != null, "script (util-linux) is not installed");
    }
    Path data = dir.resolve("data");
    Path agents = WorkgateDemo.agentSandboxRoot(data).toAbsolutePath();
    ProcessBuilder pb =
        new ProcessBuilder(
            scriptTool.toString(),
            "-qfec",
            "stty cols 80 rows 24; exec " + shellQuoted(demoCommand()),
            "/dev/null");
    pb.environment().put("WORKGATE_DATA_DIR", data.toString());
    pb.redirectErrorStream(true);
    script = pb.start();
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    Thread reader = new Thread(() -> copy(script.getInputStream(), output), "pty-reader");
    reader.setDaemon(true);
    reader.start();

    // The first attempt of the plan's second work order hangs until stopped: wait for it.
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> sandboxProcesses(agents).values().stream().anyMatch(c -> c.equals("sleep 3600")));
    await().atMost(Duration.ofSeconds(10)).until(() -> text(output).contains("│"));

    switch (interrupt) {
      case CTRL_C:
        OutputStream tty = script.getOutputStream();
        tty.write(3); // ^C: the pty sends SIGINT to its foreground process group
        tty.flush();
        break;
      default:
        long jvm =
            script
                .descendants()
                .filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .findFirst()
                .orElseThrow()
                .pid();
        assertThat(new ProcessBuilder("kill", "-INT", Long.toString(jvm)).start().waitFor())
            .isZero();
    }

    assertThat(script.waitFor(60, TimeUnit.SECONDS)).as(text(output)).isTrue();
    reader.join(5_000);
    String out = text(output);
    assertThat(out).contains("Interrupted:").contains("the next run resumes them");
    assertThat(script.exitValue()).as(out).isEqualTo(WorkgateDemo.EXIT_INTERRUPTED);
    // The bar, measured on the pty (stty cols 80), never takes the last column (the pty's echo
    // of the interrupt, ^C, may follow it).
    assertThat(
            Stream.of(out.split("[\r\n]"))
                .filter(l -> l.contains("│"))
                .map(l -> l.replace("^C", "")))
        .isNotEmpty()
        .allSatisfy(l -> assertThat(BarLine.width(l)).isLessThanOrEqualTo(79));
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(sandboxProcesses(data.toAbsolutePath())).isEmpty());
    try (WorkOrderStore store = Stores.sqlite(data.resolve("workgate.db"))) {
      QueueCounts counts = store.counts();
      assertThat(counts.count(WorkOrderState.RUNNING)).as(out).isZero();
      assertThat(counts.count(WorkOrderState.PREPARING)).as(out).isZero();
      List<WorkOrderEvent> events = events(store);
      assertThat(events)
          .noneMatch(
              e ->
                  e instanceof WorkOrderEvent.AttemptFailed f
                      && f.error().message().contains("exit code 130"));
      assertThat(events)
          .anyMatch(
              e ->
                  e instanceof WorkOrderEvent.Released r
                      && r.code().equals(ErrorCodes.NODE_SHUTDOWN));
    }
  }

  /** The demo's java command line: this JVM's java, the test class path, the short mode. */
  private static List<String> demoCommand() {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> command = new ArrayList<>();
    command.add(java);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(WorkgateDemo.class.getName());
    command.addAll(
        List.of(
            "--fast",
            "--work-orders",
            "30",
            "--execution-timeout",
            "60s",
            "--base-delay",
            "300ms",
            "--poll-interval",
            "200ms",
            "--stagger-delay",
            "0ms",
            "--no-http",
            "--progress",
            "bar",
            "--seed",
            "42"));
    return command;
  }

  private static String shellQuoted(List<String> words) {
    return words.stream()
        .map(w -> "'" + w.replace("'", "'\\''") + "'")
        .collect(Collectors.joining(" "));
  }

  /** Processes working under the directory, by pid, with their command lines. */
  private static Map<Long, String> sandboxProcesses(Path under) throws IOException {
    String prefix = under.toString() + "/";
    Map<Long, String> found = new TreeMap<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path proc : procs.toList()) {
        String name = proc.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        try {
          String cwd = Files.readSymbolicLink(proc.resolve("cwd")).toString();
          String stat = Files.readString(proc.resolve("stat"));
          boolean zombie = stat.charAt(stat.lastIndexOf(')') + 2) == 'Z';
          if (cwd.startsWith(prefix) && !zombie) {
            String cmdline =
                new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8)
                    .replace('\0', ' ')
                    .strip();
            found.put(Long.parseLong(name), cmdline);
          }
        } catch (IOException | RuntimeException e) {
          // Gone, or not ours to read.
        }
      }
    }
    return found;
  }

  private static List<WorkOrderEvent> events(WorkOrderStore store) {
    List<WorkOrderEvent> events = new ArrayList<>();
    long after = 0;
    while (true) {
      LogPage page = store.readLog(after, 500);
      for (RecordedEvent e : page.events()) {
        events.add(e.event());
      }
      if (page.events().isEmpty()) {
        return events;
      }
      after = page.lastPosition();
    }
  }

  private static void copy(InputStream in, ByteArrayOutputStream to) {
    byte[] buffer = new byte[8192];
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        synchronized (to) {
          to.write(buffer, 0, n);
        }
      }
    } catch (IOException e) {
      // The process ended.
    }
  }

  private static String text(ByteArrayOutputStream output) {
    synchronized (output) {
      return output.toString(StandardCharsets.UTF_8);
    }
  }
}
