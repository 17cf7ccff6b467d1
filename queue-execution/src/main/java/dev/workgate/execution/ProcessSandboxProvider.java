package dev.workgate.execution;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workgate.core.WorkOrderView;
import dev.workgate.execution.SandboxProvider.SandboxRecord;
import dev.workgate.execution.SandboxProvider.SandboxRequest;
import dev.workgate.execution.internal.PrivateFiles;
import dev.workgate.execution.internal.SandboxPaths;
import dev.workgate.execution.internal.SandboxRecords;
import dev.workgate.retry.ErrorClassifier;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each attempt as an operating-system process in a private directory under a root. A recipe
 * turns the work order into a {@link ProcessSpec}; the sandbox runs it with a cleared environment,
 * secrets on standard input, stdout and stderr captured to {@code stdout.log} and {@code
 * stderr.log} in the sandbox directory up to a limit, and kills the whole process tree with SIGTERM
 * and then SIGKILL. Exit code 0 is success with the output {@code {"exitCode":0, "stdoutTail":…,
 * "stderrTail":…, "truncated":…}}; any other exit code is a failure classified by the {@link
 * ErrorClassifier} with the end of stderr as detail (a process killed by signal N exits with 128+N,
 * so SIGKILL, which the kernel's OOM killer sends, is 137, {@code OOM_KILLED}).
 *
 * <p><b>Finding the processes.</b> A sandbox's processes are its child, the child's descendants
 * (collected before any is signalled) and every process whose environment holds the marker {@value
 * #SANDBOX_ENV} of this sandbox, which the child and whatever it starts inherit. The marker finds
 * the processes that the descendant tree loses: those whose parent has exited, which Linux
 * re-parents to init. It is read from {@code /proc/<pid>/environ}, so it works on Linux only and
 * for processes of the same user; a process that clears its environment escapes it. The sandbox
 * record holds the child's pid and start time, so that after a crash {@link #destroyOrphan} kills
 * only the original process, never an unrelated one that reused its pid.
 *
 * <p><b>Memory limit.</b> {@link ProcessSpec#memoryLimitMb()} is applied with {@code prlimit --as},
 * looked for once per JVM on the {@code PATH} and in {@code /usr/bin} and {@code /bin}. Where it is
 * missing (macOS, minimal images without util-linux), the provider logs a warning once and runs the
 * process without a limit.
 *
 * <p><b>A session of its own.</b> Each process starts in a new session ({@code setsid},
 * util-linux), so it has no controlling terminal and is not in the terminal's foreground process
 * group: Ctrl-C in the terminal that runs the JVM signals the JVM alone, and its shutdown stops the
 * sandboxes as their owner (recorded as {@code NODE_SHUTDOWN}) instead of the signal killing them
 * first (exit code 130, an unknown error that costs a retry). The child of a JVM is never a
 * process-group leader, so {@code setsid} does not fork but calls {@code setsid(2)} and executes
 * the command in place: the pid the JVM sees, records and kills is the command's own, and so is the
 * exit code. {@code setsid} is looked for once per JVM like {@code prlimit}; where it is missing
 * the provider logs that once and runs processes in the JVM's session, as they always ran.
 *
 * <p><b>Progress and checkpoints.</b> A process reports how far it got, and durable checkpoints
 * that a retried attempt resumes from, through a file, never through its output: {@value
 * #REPORT_FILE_ENV} holds the absolute path of {@value #REPORT_FILE} in the sandbox directory,
 * created empty ({@code 0600}, in a {@code 0700} {@value #REPORT_DIRECTORY}) before the process
 * starts. The process appends one JSON object per line, UTF-8, each ending in {@code \n}:
 *
 * <ul>
 *   <li>{@code {"progress": 0.4, "message": "cloned the repository"}}, a fraction between 0 and 1
 *       and an optional message, goes to {@link AttemptReports#progress};
 *   <li>{@code {"checkpoint": <any JSON value>}} goes to {@link AttemptReports#checkpoint}, which
 *       records it durably in the work order's event log.
 * </ul>
 *
 * <p>A line carries one or the other, never both; other keys are ignored, and so are blank lines.
 * Only complete lines are read: a last line without its newline waits for it, and is never read if
 * it does not come. While the process runs, a thread from the {@linkplain Builder#threadFactory
 * thread factory} reads what was appended every {@link #REPORT_POLL}; once the process has exited,
 * {@link Sandbox#run()} reads the rest on its own thread before it returns, so a checkpoint written
 * right before the exit is recorded before the attempt's outcome, and nothing is reported after it
 * returned; the reports are called by one thread at a time. A bad line never fails the attempt and
 * never stops the reading: a line that is not a JSON object, holds neither key or both, has a
 * fraction that is not a number between 0 and 1, a message that is not a string, or is longer than
 * {@value #MAX_REPORT_LINE_BYTES} bytes (skipped up to its newline without being held in memory) is
 * skipped; so is a checkpoint the attempt refuses as too large ({@link IllegalArgumentException}).
 * The first few bad lines are logged at WARN by line number and what was wrong, never with their
 * content. If the attempt refuses a report for another reason (it no longer holds its claim), the
 * rest of the file is not read, while the process runs on to its result. Standard output and error
 * are never read for reports.
 *
 * <p>An attempt that resumes, whose {@link AttemptReports#lastCheckpoint()} holds a checkpoint when
 * {@link #create} calls it, also gets {@value #CHECKPOINT_FILE_ENV}: the absolute path of {@value
 * #CHECKPOINT_FILE} in the sandbox directory, holding that checkpoint as JSON, written ({@code
 * 0600}) before the process starts. Without a checkpoint neither the variable nor the file exists.
 * Checkpoints are stored in the event log as they are: a process must not put secrets in them.
 *
 * <p>Not a security boundary: the process runs as the JVM's user, can read what that user can,
 * signal that user's processes and rewrite its own sandbox record. Thread-safe.
 *
 * <pre>{@code
 * SandboxProvider agents = ProcessSandboxProvider.builder(Path.of("/var/lib/workgate/sandboxes"),
 *         order -> ProcessSpec.builder()
 *             .command("/opt/agent/bin/agent", "--task", order.payload().path("task").asText())
 *             .inheritEnv("PATH", "HOME")
 *             .secret("API_TOKEN", tokens.current())
 *             .build())
 *     .build();
 * }</pre>
 */
public final class ProcessSandboxProvider implements SandboxProvider {
  private static final Logger LOG = LoggerFactory.getLogger(ProcessSandboxProvider.class);

  /**
   * The variable that marks a sandbox's processes; its value identifies the sandbox. Recipes cannot
   * set it.
   */
  public static final String SANDBOX_ENV = "WORKGATE_SANDBOX";

  /**
   * The variable that holds the attempt's fencing token ({@link SandboxRequest#fencingToken()}), in
   * decimal: pass it to the systems the process writes to, so that they can refuse an attempt that
   * was superseded. Recipes cannot set it.
   */
  public static final String FENCING_TOKEN_ENV = "WORKGATE_FENCING_TOKEN";

  /**
   * How long an orphan's processes get to stop after SIGTERM before SIGKILL: short, since nobody
   * waits for their result any more, but long enough to flush a log.
   */
  public static final Duration ORPHAN_KILL_GRACE = Duration.ofSeconds(2);

  /**
   * The variable that holds the absolute path of the attempt's report file, {@value #REPORT_FILE}
   * in the sandbox directory, to which the process appends progress and checkpoints, one JSON
   * object per line (see the class comment). Always set; a recipe's value is replaced.
   */
  public static final String REPORT_FILE_ENV = "WORKGATE_REPORT_FILE";

  /**
   * The variable that holds the absolute path of {@value #CHECKPOINT_FILE} in the sandbox
   * directory, which holds the work order's latest checkpoint as JSON: set only for an attempt that
   * has one to resume from ({@link AttemptReports#lastCheckpoint()}); a recipe's value is removed.
   */
  public static final String CHECKPOINT_FILE_ENV = "WORKGATE_CHECKPOINT_FILE";

  /** The directory of the report and checkpoint files, in the sandbox directory. */
  public static final String REPORT_DIRECTORY = ".workgate";

  /** The report file, relative to the sandbox directory; see {@link #REPORT_FILE_ENV}. */
  public static final String REPORT_FILE = REPORT_DIRECTORY + "/report.jsonl";

  /** The checkpoint file, relative to the sandbox directory; see {@link #CHECKPOINT_FILE_ENV}. */
  public static final String CHECKPOINT_FILE = REPORT_DIRECTORY + "/checkpoint.json";

  /**
   * The longest line of the report file that is read, in bytes without its newline: room for a
   * checkpoint of the largest size an attempt records (1 MiB of JSON) and its key. A longer line is
   * skipped.
   */
  public static final int MAX_REPORT_LINE_BYTES = (1 << 20) + 4 * 1024;

  /** How often the report file is read for new lines while the process runs. */
  public static final Duration REPORT_POLL = Duration.ofMillis(250);

  /** The file that captures the process's standard output, in the sandbox directory. */
  public static final String STDOUT_FILE = "stdout.log";

  /** The file that captures the process's standard error, in the sandbox directory. */
  public static final String STDERR_FILE = "stderr.log";

  /** The {@code kind} detail of this provider's sandbox records. */
  static final String KIND = "process";

  static final String DETAIL_KIND = "kind";
  static final String DETAIL_MARKER = "marker";
  static final String DETAIL_PID = "pid";
  static final String DETAIL_START = "startInstant";

  private static final ObjectMapper JSON = new ObjectMapper();

  private static final Optional<Path> PRLIMIT = findTool("prlimit");
  private static final Optional<Path> SETSID = findTool("setsid");

  private final Path root;
  private final Function<WorkOrderView, ProcessSpec> recipe;
  private final ErrorClassifier classifier;
  private final Clock clock;
  private final ThreadFactory threads;
  private final Optional<Path> prlimit;
  private final Optional<Path> setsid;
  private final AtomicBoolean warnedNoPrlimit = new AtomicBoolean();

  private ProcessSandboxProvider(Builder b) {
    this.root = b.root;
    this.recipe = b.recipe;
    this.classifier = b.classifier;
    this.clock = b.clock;
    this.threads = b.threads;
    this.prlimit = b.prlimit;
    this.setsid = b.setsid;
    if (setsid.isEmpty()) {
      LOG.info(
          "setsid (util-linux) is not installed: process sandboxes under {} run in the JVM's"
              + " session, so Ctrl-C in its terminal reaches them as well",
          root);
    }
  }

  /**
   * A builder for a provider whose sandboxes live under {@code root}.
   *
   * @param root the sandbox root, created when needed; give each provider its own
   * @param recipe builds the spec of an attempt from the work order; an exception from it (or a
   *     null spec) means the sandbox cannot be created. Called concurrently, so it must be
   *     thread-safe.
   * @return a new builder
   */
  public static Builder builder(Path root, Function<WorkOrderView, ProcessSpec> recipe) {
    return new Builder(root, recipe);
  }

  /**
   * Creates the sandbox directory ({@code <root>/<SandboxPaths.name(id, attempt)>}), its record,
   * its working subdirectory, the empty report file and, when the request's reports hold a last
   * checkpoint, the checkpoint file, and resolves the executable. Directories are created {@code
   * 0700} and files {@code 0600} where the file system has POSIX permissions, the root too when
   * missing. Nothing runs until {@link Sandbox#run()}.
   *
   * @throws IOException if the directory exists already, cannot be written, or the executable is
   *     not found; nothing is left behind
   * @throws RuntimeException whatever the recipe or {@link AttemptReports#lastCheckpoint()} throws
   */
  @Override
  public Sandbox create(SandboxRequest request) throws IOException {
    Objects.requireNonNull(request, "request");
    WorkOrderView order = request.workOrder();
    ProcessSpec spec =
        Objects.requireNonNull(
            recipe.apply(order), () -> "the recipe returned no spec for work order " + order.id());
    String name = SandboxPaths.name(order.id(), request.attempt());
    Path dir = SandboxPaths.inside(root, name);
    PrivateFiles.createDirectories(root);
    PrivateFiles.createDirectory(dir); // fails if it exists: then it is not ours to delete
    try {
      SandboxRecord record =
          new SandboxRecord(name, order.id(), request.attempt(), request.nodeId(), clock.instant());
      String marker = marker(dir);
      Map<String, String> details = new LinkedHashMap<>();
      details.put(DETAIL_KIND, KIND);
      details.put(DETAIL_MARKER, marker);
      SandboxRecords.write(dir, record, details);
      PrivateFiles.createDirectory(dir.resolve(REPORT_DIRECTORY));
      Path reportFile = dir.resolve(REPORT_FILE);
      PrivateFiles.createFile(reportFile).close();
      Path workDir = dir;
      if (spec.workingSubdirectory().isPresent()) {
        workDir = SandboxPaths.inside(dir, spec.workingSubdirectory().get());
        PrivateFiles.createDirectories(workDir);
      }
      Optional<Path> checkpointFile = Optional.empty();
      Optional<JsonNode> last = request.reports().lastCheckpoint();
      if (last.isPresent()) {
        checkpointFile = Optional.of(dir.resolve(CHECKPOINT_FILE));
        try (SeekableByteChannel out = PrivateFiles.createFile(checkpointFile.get())) {
          ByteBuffer json = ByteBuffer.wrap(JSON.writeValueAsBytes(last.get()));
          while (json.hasRemaining()) {
            out.write(json);
          }
        }
      }
      Map<String, String> environment =
          environment(spec, marker, request.fencingToken(), reportFile, checkpointFile);
      String program = resolve(spec.command().get(0), environment.get("PATH"));
      List<String> argv = argv(spec, program);
      return new ProcessSandbox(
          name,
          dir,
          workDir,
          spec,
          program,
          argv,
          environment,
          record,
          details,
          marker,
          classifier,
          threads,
          reportFile,
          request.reports());
    } catch (IOException | RuntimeException e) {
      try {
        SandboxRecords.deleteTree(dir);
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  /**
   * Whether a sandbox under the root is this provider's: its record says so, or it has no record (a
   * crash cut its creation or deletion short; see {@link SandboxRecord#UNKNOWN_NODE}).
   */
  private static boolean ours(SandboxRecords.Entry entry) {
    return !entry.record().nodeKnown() || KIND.equals(entry.details().get(DETAIL_KIND));
  }

  /**
   * The records of this provider's sandboxes under the root, and of directories there that lost
   * their record; other providers' are left out.
   */
  @Override
  public List<SandboxRecord> list() {
    List<SandboxRecord> records = new ArrayList<>();
    for (SandboxRecords.Entry entry : SandboxRecords.list(root)) {
      if (ours(entry)) {
        records.add(entry.record());
      }
    }
    return records;
  }

  /**
   * Kills what still runs in an orphan and deletes its directory: the recorded process and its
   * descendants, if the process with the recorded pid has the recorded start time (otherwise the
   * pid was reused and that process is left alone), and every process marked with the sandbox's
   * {@value #SANDBOX_ENV}; SIGTERM, then SIGKILL after {@link #ORPHAN_KILL_GRACE}.
   */
  @Override
  public void destroyOrphan(SandboxRecord orphan) {
    Objects.requireNonNull(orphan, "orphan");
    for (SandboxRecords.Entry entry : SandboxRecords.list(root)) {
      if (!entry.record().equals(orphan) || !ours(entry)) {
        continue;
      }
      Optional<ProcessHandle> original = original(entry.details());
      String marker = entry.details().getOrDefault(DETAIL_MARKER, marker(entry.directory()));
      LOG.info(
          "destroying orphan sandbox {} of work order {} attempt {} (node {}); process {}",
          orphan.sandboxId(),
          orphan.workOrderId(),
          orphan.attempt(),
          SandboxRecords.creator(orphan),
          original.map(h -> "pid " + h.pid() + " still runs").orElse("gone"));
      ProcessSandbox.killTree(original, marker, ORPHAN_KILL_GRACE);
      SandboxRecords.deleteTree(entry.directory());
    }
  }

  /** The recorded process, if it still runs and is the same process (same start time). */
  static Optional<ProcessHandle> original(Map<String, String> details) {
    String pid = details.get(DETAIL_PID);
    String start = details.get(DETAIL_START);
    if (pid == null || start == null) {
      return Optional.empty();
    }
    try {
      Instant recorded = Instant.parse(start);
      return ProcessHandle.of(Long.parseLong(pid))
          .filter(h -> h.info().startInstant().map(recorded::equals).orElse(false));
    } catch (NumberFormatException | DateTimeParseException e) {
      LOG.warn("sandbox record with an unreadable pid '{}' or start '{}'", pid, start);
      return Optional.empty();
    }
  }

  @Override
  public String toString() {
    return "ProcessSandboxProvider{root=" + root + "}";
  }

  /** The marker value of a sandbox: unique per directory on this machine, ASCII only. */
  private static String marker(Path dir) {
    return UUID.nameUUIDFromBytes(dir.toString().getBytes(StandardCharsets.UTF_8)).toString();
  }

  private static Map<String, String> environment(
      ProcessSpec spec,
      String marker,
      long fencingToken,
      Path reportFile,
      Optional<Path> checkpointFile) {
    Map<String, String> env = new LinkedHashMap<>();
    Map<String, String> parent = System.getenv();
    for (String name : spec.inheritEnv()) {
      String value = parent.get(name);
      if (value != null) {
        env.put(name, value);
      }
    }
    env.putAll(spec.env());
    env.put(SANDBOX_ENV, marker);
    env.put(FENCING_TOKEN_ENV, Long.toString(fencingToken));
    env.put(REPORT_FILE_ENV, reportFile.toString());
    env.remove(CHECKPOINT_FILE_ENV);
    checkpointFile.ifPresent(file -> env.put(CHECKPOINT_FILE_ENV, file.toString()));
    return Map.copyOf(env);
  }

  /**
   * The command line: {@code [setsid -w] [prlimit --as=N --] program args}. Both wrappers execute
   * the next in place, so the process keeps one pid from the first to the program. {@code -w} only
   * matters if {@code setsid} had to fork (it never does for a JVM's child): it then waits and
   * exits with the program's code.
   */
  private List<String> argv(ProcessSpec spec, String program) {
    List<String> argv = new ArrayList<>();
    setsid.ifPresent(
        path -> {
          argv.add(path.toString());
          argv.add("-w");
        });
    if (spec.memoryLimitMb().isPresent()) {
      if (prlimit.isPresent()) {
        argv.add(prlimit.get().toString());
        argv.add("--as=" + spec.memoryLimitMb().getAsLong() * 1024 * 1024);
        argv.add("--");
      } else if (warnedNoPrlimit.compareAndSet(false, true)) {
        LOG.warn(
            "prlimit (util-linux) is not installed: process sandboxes under {} run without"
                + " their memory limit",
            root);
      }
    }
    argv.add(program);
    argv.addAll(spec.command().subList(1, spec.command().size()));
    return List.copyOf(argv);
  }

  /**
   * The executable's absolute path. A bare name is looked up on the child's {@code PATH}, or on
   * this JVM's when the child has none (as {@link ProcessBuilder} does); a path is kept as it is.
   * When the name is not found, the message says on which {@code PATH} and how many directories
   * were searched, never which: they describe the host, and the message goes to the event log.
   */
  private static String resolve(String executable, String childPath) throws FileNotFoundException {
    if (executable.contains("/")) {
      Path path = Path.of(executable);
      if (path.isAbsolute() && !Files.isExecutable(path)) {
        throw new FileNotFoundException("executable " + executable + " is missing");
      }
      return executable;
    }
    String search = childPath != null ? childPath : System.getenv("PATH");
    return onPath(executable, search)
        .map(Path::toString)
        .orElseThrow(() -> new FileNotFoundException(notFound(executable, search, childPath)));
  }

  /** The message for a bare name not found: the name, whose PATH and its size, not its contents. */
  static String notFound(String executable, String search, String childPath) {
    String whose =
        childPath != null ? "the sandbox's PATH" : "the JVM's PATH (the sandbox has none)";
    if (search == null) {
      return "executable '" + executable + "' not found: " + whose + " is not set";
    }
    long dirs = Arrays.stream(search.split(":")).filter(d -> !d.isEmpty()).count();
    return "executable '"
        + executable
        + "' not found on "
        + whose
        + " ("
        + dirs
        + (dirs == 1 ? " directory" : " directories")
        + " searched)";
  }

  private static Optional<Path> onPath(String name, String search) {
    if (search == null) {
      return Optional.empty();
    }
    for (String dir : search.split(":")) {
      if (dir.isEmpty()) {
        continue; // the current directory: never, it is the sandbox's own
      }
      Path candidate = Path.of(dir, name).toAbsolutePath();
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** A util-linux tool on this JVM's {@code PATH}, or in {@code /usr/bin} or {@code /bin}. */
  private static Optional<Path> findTool(String name) {
    Optional<Path> found = onPath(name, System.getenv("PATH"));
    if (found.isPresent()) {
      return found;
    }
    return onPath(name, "/usr/bin:/bin");
  }

  /** Builds a {@link ProcessSandboxProvider}. Setters reject null. Not thread-safe. */
  public static final class Builder {
    private final Path root;
    private final Function<WorkOrderView, ProcessSpec> recipe;
    private ErrorClassifier classifier = ErrorClassifier.defaults();
    private Clock clock = Clock.systemUTC();
    private ThreadFactory threads = defaultThreads();
    private Optional<Path> prlimit = PRLIMIT;
    private Optional<Path> setsid = SETSID;

    private Builder(Path root, Function<WorkOrderView, ProcessSpec> recipe) {
      this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
      this.recipe = Objects.requireNonNull(recipe, "recipe");
    }

    /**
     * Classifies non-zero exit codes. Default {@link ErrorClassifier#defaults()}.
     *
     * @param classifier the classifier
     * @return this builder
     */
    public Builder classifier(ErrorClassifier classifier) {
      this.classifier = Objects.requireNonNull(classifier, "classifier");
      return this;
    }

    /**
     * Stamps the sandbox records. Default the system clock in UTC.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Makes the three threads per running sandbox: two copy stdout and stderr to their files and
     * block on reads; one reads the report file every {@link #REPORT_POLL} and calls the attempt's
     * {@link AttemptReports}. All three end soon after the process exits. Default: daemon platform
     * threads named {@code workgate-process-output-N}.
     *
     * @param threads the factory
     * @return this builder
     */
    public Builder threadFactory(ThreadFactory threads) {
      this.threads = Objects.requireNonNull(threads, "threadFactory");
      return this;
    }

    /** For tests: the {@code prlimit} to use, empty to act as on a machine without it. */
    Builder prlimit(Optional<Path> prlimit) {
      this.prlimit = Objects.requireNonNull(prlimit, "prlimit");
      return this;
    }

    /** For tests: the {@code setsid} to use, empty to act as on a machine without it. */
    Builder setsid(Optional<Path> setsid) {
      this.setsid = Objects.requireNonNull(setsid, "setsid");
      return this;
    }

    /**
     * Builds the provider.
     *
     * @return the provider
     */
    public ProcessSandboxProvider build() {
      return new ProcessSandboxProvider(this);
    }

    private static ThreadFactory defaultThreads() {
      AtomicLong count = new AtomicLong();
      return task -> {
        Thread t = new Thread(task, "workgate-process-output-" + count.incrementAndGet());
        t.setDaemon(true);
        return t;
      };
    }
  }
}
