package dev.workgate.execution;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.WorkResult;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.execution.SandboxProvider.SandboxRecord;
import dev.workgate.execution.internal.PrivateFiles;
import dev.workgate.execution.internal.SandboxRecords;
import dev.workgate.retry.ErrorClassifier;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One attempt's OS process, made by {@link ProcessSandboxProvider}: starts it, feeds it its
 * secrets, copies its output to capped files, hands what it appends to its report file to the
 * attempt's {@link AttemptReports}, waits for it and kills its tree. {@link #kill} and {@link
 * #destroy} may be called from any thread while {@link #run} blocks; after either, a sandbox that
 * has not started never starts.
 */
final class ProcessSandbox implements Sandbox {
  private static final Logger LOG = LoggerFactory.getLogger(ProcessSandbox.class);

  /** What ends a capped output file. */
  static final String TRUNCATED_MARKER = "\n[output truncated]\n";

  /**
   * How long {@link #run} waits for the output after the process exited. Longer only if something
   * the process left behind holds stdout or stderr open; then the copies end when the sandbox is
   * destroyed.
   */
  static final Duration OUTPUT_DRAIN = Duration.ofSeconds(2);

  /** How long each round of SIGKILL waits for the processes to go. */
  static final Duration FORCE_WAIT = Duration.ofSeconds(5);

  /** How often a kill looks for processes that exited but were not reaped. */
  static final Duration POLL = Duration.ofMillis(100);

  /** Rounds of SIGKILL, each catching processes started since the one before. */
  static final int FORCE_ROUNDS = 3;

  /** How much of the end of stderr goes into a failure's message. */
  static final int STDERR_DETAIL_CHARS = 1_500;

  private final String id;
  private final Path directory;
  private final Path workDir;
  private final ProcessSpec spec;
  private final String program;
  private final List<String> argv;
  private final Map<String, String> environment;
  private final SandboxRecord record;
  private final Map<String, String> details;
  private final String marker;
  private final ErrorClassifier classifier;
  private final ThreadFactory threads;
  private final Path reportFile;
  private final AttemptReports reports;

  private final Object lock = new Object();
  private boolean started;
  private boolean killed;
  private Process process;

  ProcessSandbox(
      String id,
      Path directory,
      Path workDir,
      ProcessSpec spec,
      String program,
      List<String> argv,
      Map<String, String> environment,
      SandboxRecord record,
      Map<String, String> details,
      String marker,
      ErrorClassifier classifier,
      ThreadFactory threads,
      Path reportFile,
      AttemptReports reports) {
    this.id = id;
    this.directory = directory;
    this.workDir = workDir;
    this.spec = spec;
    this.program = program;
    this.argv = List.copyOf(argv);
    this.environment = Map.copyOf(environment);
    this.record = record;
    this.details = Map.copyOf(details);
    this.marker = marker;
    this.classifier = classifier;
    this.threads = threads;
    this.reportFile = reportFile;
    this.reports = reports;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public Path directory() {
    return directory;
  }

  /** The process id while or after it ran, for tests and logs. */
  Optional<Long> pid() {
    synchronized (lock) {
      return process == null ? Optional.empty() : Optional.of(process.pid());
    }
  }

  /**
   * Starts the process, writes its secrets and waits for it to exit. While it runs, a thread reads
   * its report file every {@link ProcessSandboxProvider#REPORT_POLL}; after it exited, this thread
   * reads the rest, so every complete line written before the exit has reached the attempt's
   * reports when this returns. No report is handed on after this returns or throws.
   *
   * @return success for exit code 0; a classified failure for any other; a retryable {@code
   *     SANDBOX_CREATION_FAILED} if the process cannot be started; {@code CANCELLED} if it was
   *     killed before it started or exited non-zero after {@link #kill}
   * @throws IllegalStateException if called twice
   * @throws InterruptedException if this thread is interrupted while waiting; the process is not
   *     stopped by that, {@link #kill} or {@link #destroy} stops it
   * @throws java.io.UncheckedIOException if the record cannot be updated with the process id; the
   *     process is killed, since after a crash nothing could find it
   */
  @Override
  public WorkResult run() throws InterruptedException {
    Process p;
    Pump out;
    Pump err;
    ReportFile report;
    CountDownLatch ends = new CountDownLatch(2);
    CountDownLatch exited = new CountDownLatch(1);
    synchronized (lock) {
      if (started) {
        throw new IllegalStateException("process sandbox " + id + " has already run");
      }
      started = true;
      if (killed) {
        return WorkResult.failure(
            classifier.classify(ErrorCodes.CANCELLED, "killed before the process started"));
      }
      OutputStream outFile = null;
      OutputStream errFile = null;
      ReportFile opened = null;
      try {
        outFile = open(ProcessSandboxProvider.STDOUT_FILE);
        errFile = open(ProcessSandboxProvider.STDERR_FILE);
        opened =
            ReportFile.open(reportFile, id, reports, ProcessSandboxProvider.MAX_REPORT_LINE_BYTES);
        ProcessBuilder builder = new ProcessBuilder(argv).directory(workDir.toFile());
        builder.environment().clear();
        builder.environment().putAll(environment);
        p = builder.start();
      } catch (IOException | RuntimeException e) {
        closeQuietly(outFile);
        closeQuietly(errFile);
        if (opened != null) {
          opened.close();
        }
        LOG.warn("process sandbox {} cannot start {}: {}", id, program, e.toString());
        return WorkResult.failure(
            classifier.classify(
                ErrorCodes.SANDBOX_CREATION_FAILED,
                "cannot start " + program + ": " + e.getMessage()));
      }
      process = p;
      report = opened;
      out =
          new Pump(
              p.getInputStream(),
              outFile,
              spec.outputLimitBytes(),
              spec.tailBytes(),
              new SecretMasker(spec.secrets().values()),
              ends);
      err =
          new Pump(
              p.getErrorStream(),
              errFile,
              spec.outputLimitBytes(),
              spec.tailBytes(),
              new SecretMasker(spec.secrets().values()),
              ends);
      threads.newThread(out).start();
      threads.newThread(err).start();
      Map<String, String> running = new LinkedHashMap<>(details);
      running.put(ProcessSandboxProvider.DETAIL_PID, Long.toString(p.pid()));
      p.toHandle()
          .info()
          .startInstant()
          .ifPresent(t -> running.put(ProcessSandboxProvider.DETAIL_START, t.toString()));
      try {
        SandboxRecords.write(directory, record, running);
      } catch (RuntimeException e) {
        killed = true;
        report.close();
        killTree(Optional.of(p.toHandle()), marker, Duration.ZERO);
        throw e;
      }
      threads.newThread(() -> report.tail(exited, ProcessSandboxProvider.REPORT_POLL)).start();
    }
    LOG.debug("process sandbox {} started pid {}: {}", id, p.pid(), spec);
    int exitCode;
    try {
      writeSecrets(p);
      exitCode = p.waitFor();
      exited.countDown();
      // What the process wrote before it exited reaches the reports before its outcome.
      report.read();
      if (!ends.await(OUTPUT_DRAIN.toNanos(), TimeUnit.NANOSECONDS)) {
        LOG.info(
            "process sandbox {}: processes left behind by pid {} hold its output open; they are"
                + " killed when the sandbox is destroyed",
            id,
            p.pid());
      }
    } finally {
      exited.countDown();
      report.close();
    }
    LOG.debug("process sandbox {} pid {} exited with {}", id, p.pid(), exitCode);
    return result(exitCode, out, err);
  }

  private WorkResult result(int exitCode, Pump out, Pump err) {
    if (exitCode == 0) {
      ObjectNode output = JsonNodeFactory.instance.objectNode();
      output.put("exitCode", 0);
      output.put("stdoutTail", out.tail());
      output.put("stderrTail", err.tail());
      output.put("truncated", out.truncated() || err.truncated());
      return WorkResult.ok(output);
    }
    boolean wasKilled;
    synchronized (lock) {
      wasKilled = killed;
    }
    if (wasKilled) {
      return WorkResult.failure(
          classifier.classify(ErrorCodes.CANCELLED, "killed by its owner; exit code " + exitCode));
    }
    String stderr = err.tail().strip();
    Optional<String> notExecuted = wrapperCouldNotExecute(exitCode, stderr);
    if (notExecuted.isPresent()) {
      LOG.warn("process sandbox {} cannot start {}: {}", id, program, notExecuted.get());
      return WorkResult.failure(
          classifier.classify(
              ErrorCodes.SANDBOX_CREATION_FAILED,
              "cannot start " + program + ": " + notExecuted.get()));
    }
    if (stderr.length() > STDERR_DETAIL_CHARS) {
      int start = stderr.length() - STDERR_DETAIL_CHARS;
      if (Character.isLowSurrogate(stderr.charAt(start))) {
        start++;
      }
      // A cut inside a marker drops the rest of it rather than leave a stray part of it.
      for (int dropped = 0;
          dropped < SecretMasker.MARKER.length() - 1
              && start < stderr.length()
              && stderr.charAt(start - 1) == '*'
              && stderr.charAt(start) == '*';
          dropped++) {
        start++;
      }
      stderr = "…" + stderr.substring(start);
    }
    return WorkResult.failure(classifier.classifyExitCode(exitCode, stderr));
  }

  /**
   * Why a wrapper ({@code setsid}, {@code prlimit}) could not execute the program, when that is
   * what happened: the program never ran, and as when {@link ProcessBuilder#start} fails that is a
   * sandbox that could not be created, not a failure of the work. util-linux tools exit with 126 or
   * 127 and print one line {@code "<tool>: failed to execute <program>: <reason>"}.
   */
  private Optional<String> wrapperCouldNotExecute(int exitCode, String stderr) {
    if (argv.get(0).equals(program) || (exitCode != 126 && exitCode != 127)) {
      return Optional.empty();
    }
    String prefix = ": failed to execute " + program + ": ";
    int at = stderr.indexOf(prefix);
    if (at < 0 || stderr.indexOf('\n') >= 0) {
      return Optional.empty();
    }
    String tool = stderr.substring(0, at);
    if (!tool.equals("setsid") && !tool.equals("prlimit")) {
      return Optional.empty();
    }
    return Optional.of(stderr.substring(at + prefix.length()));
  }

  /** Writes the secrets to stdin, one line each, then closes it; a process may not read them. */
  private void writeSecrets(Process p) {
    try (OutputStream stdin = p.getOutputStream()) {
      for (Map.Entry<String, String> secret : spec.secrets().entrySet()) {
        stdin.write(
            (secret.getKey() + "=" + secret.getValue() + "\n").getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      // The process exited or closed stdin before reading everything: its business.
      LOG.debug("process sandbox {}: stdin closed early ({})", id, e.getClass().getSimpleName());
    }
  }

  /**
   * SIGTERM to the process tree, SIGKILL to what is left after {@code grace}. A zero grace sends
   * SIGKILL at once.
   */
  @Override
  public void kill(Duration grace) {
    Objects.requireNonNull(grace, "grace");
    Process p;
    synchronized (lock) {
      killed = true;
      p = process;
    }
    if (p != null) {
      killTree(Optional.of(p.toHandle()), marker, grace.isNegative() ? Duration.ZERO : grace);
    }
  }

  @Override
  public void destroy() {
    kill(Duration.ZERO);
    SandboxRecords.deleteTree(directory);
  }

  @Override
  public String toString() {
    return "ProcessSandbox{id=" + id + ", directory=" + directory + ", spec=" + spec + "}";
  }

  private OutputStream open(String name) throws IOException {
    return new BufferedOutputStream(
        java.nio.channels.Channels.newOutputStream(
            PrivateFiles.createFile(directory.resolve(name))),
        64 * 1024);
  }

  private static void closeQuietly(OutputStream out) {
    if (out != null) {
      try {
        out.close();
      } catch (IOException e) {
        LOG.debug("cannot close an output file: {}", e.toString());
      }
    }
  }

  /**
   * Kills a process tree: {@code root}, its descendants and the processes marked with {@code
   * marker}, collected before any is signalled. SIGTERM to all, up to {@code grace} for them to
   * exit, then SIGKILL to all that are left, re-collected so that processes started meanwhile are
   * caught, in up to {@link #FORCE_ROUNDS} rounds of {@link #FORCE_WAIT}. Never signals this JVM or
   * its ancestors.
   *
   * @param root the main process, if known and alive
   * @param marker the sandbox's {@link ProcessSandboxProvider#SANDBOX_ENV} value, null if unknown
   * @param grace zero or positive
   */
  static void killTree(Optional<ProcessHandle> root, String marker, Duration grace) {
    Set<ProcessHandle> targets = collect(root, marker, Set.of());
    if (targets.isEmpty()) {
      return;
    }
    if (!grace.isZero()) {
      LOG.debug("SIGTERM to {}", pids(targets));
      targets.forEach(ProcessHandle::destroy);
      awaitExit(targets, grace);
    }
    for (int round = 0; round < FORCE_ROUNDS; round++) {
      Set<ProcessHandle> alive = collect(root, marker, targets);
      if (alive.isEmpty()) {
        return;
      }
      LOG.debug("SIGKILL to {}", pids(alive));
      alive.forEach(ProcessHandle::destroyForcibly);
      targets.addAll(alive);
      awaitExit(alive, FORCE_WAIT);
    }
    Set<ProcessHandle> left = collect(root, marker, targets);
    if (!left.isEmpty()) {
      LOG.warn("processes {} survived SIGKILL (uninterruptible sleep?)", pids(left));
    }
  }

  /** The live processes of a tree, descendants before their ancestors. */
  private static Set<ProcessHandle> collect(
      Optional<ProcessHandle> root, String marker, Set<ProcessHandle> known) {
    Set<ProcessHandle> parents = new LinkedHashSet<>(known);
    root.ifPresent(parents::add);
    Set<ProcessHandle> found = new LinkedHashSet<>();
    for (ProcessHandle parent : parents) {
      if (running(parent)) {
        parent.descendants().forEach(found::add);
      }
    }
    found.addAll(parents);
    found.addAll(marked(marker));
    Set<Long> untouchable = new HashSet<>();
    ProcessHandle self = ProcessHandle.current();
    untouchable.add(self.pid());
    for (Optional<ProcessHandle> p = self.parent(); p.isPresent(); p = p.get().parent()) {
      untouchable.add(p.get().pid());
    }
    found.removeIf(h -> untouchable.contains(h.pid()) || !running(h));
    return found;
  }

  /** The processes whose environment holds this marker; none where /proc cannot be read. */
  private static Set<ProcessHandle> marked(String marker) {
    Set<ProcessHandle> found = new LinkedHashSet<>();
    Path proc = Path.of("/proc");
    if (marker == null || !Files.isDirectory(proc)) {
      return found;
    }
    byte[] entry =
        (ProcessSandboxProvider.SANDBOX_ENV + "=" + marker).getBytes(StandardCharsets.UTF_8);
    try (Stream<ProcessHandle> all = ProcessHandle.allProcesses()) {
      all.forEach(
          h -> {
            try {
              if (hasEntry(Files.readAllBytes(proc.resolve(h.pid() + "/environ")), entry)) {
                found.add(h);
              }
            } catch (IOException | SecurityException e) {
              // another user's process, or gone: not ours
            }
          });
    }
    return found;
  }

  /** Whether a NUL-separated environment block holds exactly this entry. */
  static boolean hasEntry(byte[] environ, byte[] entry) {
    int start = 0;
    for (int i = 0; i <= environ.length; i++) {
      if (i == environ.length || environ[i] == 0) {
        if (i - start == entry.length && Arrays.equals(environ, start, i, entry, 0, entry.length)) {
          return true;
        }
        start = i + 1;
      }
    }
    return false;
  }

  /**
   * Waits until none of the processes runs any more, at most {@code timeout}. Exit futures wake it
   * at once; the zombie check every {@link #POLL} covers processes that exited but were not reaped
   * yet, which the JDK counts as alive: the orphans of a container whose init (possibly this JVM)
   * does not reap.
   */
  private static void awaitExit(Set<ProcessHandle> handles, Duration timeout) {
    CompletableFuture<?>[] exits =
        handles.stream().map(ProcessHandle::onExit).toArray(CompletableFuture<?>[]::new);
    CompletableFuture<Void> all = CompletableFuture.allOf(exits);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (handles.stream().anyMatch(ProcessSandbox::running)) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return; // some are still alive: the caller forces them
      }
      try {
        all.get(Math.min(left, POLL.toNanos()), TimeUnit.NANOSECONDS);
        return;
      } catch (TimeoutException | ExecutionException e) {
        // look again
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // stop waiting; the caller still forces them
        return;
      }
    }
  }

  /** Whether a process runs: alive and not a zombie (exited, waiting to be reaped). */
  static boolean running(ProcessHandle handle) {
    return handle.isAlive() && !zombie(handle.pid());
  }

  private static boolean zombie(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.UTF_8);
      int end = stat.lastIndexOf(')'); // the command name may hold spaces and parentheses
      return end >= 0 && end + 2 < stat.length() && stat.charAt(end + 2) == 'Z';
    } catch (IOException | RuntimeException e) {
      return false; // no /proc (not Linux) or gone: isAlive decides
    }
  }

  private static List<Long> pids(Set<ProcessHandle> handles) {
    return handles.stream().map(ProcessHandle::pid).toList();
  }

  /**
   * Copies one output stream of the process to a file up to a limit, then keeps reading and
   * discarding so that the process never blocks on a full pipe; keeps the last bytes for the
   * result. Counts {@code done} down when the stream ends. Secrets are masked on the whole stream
   * as it is read, before the file's limit or the tail cuts it, so a secret split across reads or
   * by either cut is masked all the same; a tail that begins inside a marker drops that part of it.
   */
  static final class Pump implements Runnable {
    private static final byte[] MARKER = TRUNCATED_MARKER.getBytes(StandardCharsets.UTF_8);

    private final InputStream in;
    private final OutputStream file;
    private final long limit;
    private final byte[] ring;
    private final CountDownLatch done;
    private long written;
    private boolean fileFailed;
    private int ringEnd;
    private int ringFilled;
    private boolean cut;
    private boolean truncated;
    private final SecretMasker masker;
    private long tailed;
    private final ArrayDeque<Long> markers = new ArrayDeque<>();

    Pump(
        InputStream in,
        OutputStream file,
        long limit,
        int tailBytes,
        SecretMasker masker,
        CountDownLatch done) {
      this.in = in;
      this.done = done;
      this.file = file;
      this.limit = limit;
      this.ring = new byte[tailBytes];
      this.masker = masker;
    }

    @Override
    public void run() {
      byte[] buffer = new byte[16 * 1024];
      try (InputStream input = in) {
        SecretMasker.Sink sink =
            new SecretMasker.Sink() {
              @Override
              public void write(byte[] bytes, int from, int length) {
                toFile(bytes, from, length);
                toTail(bytes, from, length);
              }

              @Override
              public void marker(long offset) {
                markerAt();
              }
            };
        try {
          int n;
          while ((n = input.read(buffer)) >= 0) {
            if (masker.active()) {
              masker.mask(buffer, n, sink);
            } else {
              sink.write(buffer, 0, n);
            }
          }
        } finally {
          masker.finish(sink);
        }
      } catch (IOException e) {
        LOG.debug("process output stream ended: {}", e.toString());
      } finally {
        closeQuietly(file);
        done.countDown();
      }
    }

    private void toFile(byte[] buffer, int from, int n) {
      long room = Math.max(0, limit - written);
      int keep = (int) Math.min(n, room);
      try {
        if (keep > 0 && !fileFailed) {
          file.write(buffer, from, keep);
        }
        written += keep;
        if (keep < n && !truncated) {
          markTruncated();
          if (!fileFailed) {
            file.write(MARKER);
          }
        }
      } catch (IOException e) {
        fileFailed = true;
        LOG.warn("cannot write process output, discarding the rest: {}", e.toString());
      }
    }

    private synchronized void markTruncated() {
      truncated = true;
    }

    /** Notes that a marker begins at the current end of the tail. */
    private synchronized void markerAt() {
      markers.addLast(tailed);
    }

    private synchronized void toTail(byte[] buffer, int from, int n) {
      tailed += n;
      long tailStart = tailed - ring.length;
      while (!markers.isEmpty()
          && markers.peekFirst() + SecretMasker.MARKER.length() <= tailStart) {
        markers.removeFirst();
      }
      int capacity = ring.length;
      if (capacity == 0) {
        cut |= n > 0;
        return;
      }
      if (n >= capacity) {
        System.arraycopy(buffer, from + n - capacity, ring, 0, capacity);
        cut |= n > capacity || ringFilled > 0;
        ringEnd = 0;
        ringFilled = capacity;
        return;
      }
      int first = Math.min(n, capacity - ringEnd);
      System.arraycopy(buffer, from, ring, ringEnd, first);
      System.arraycopy(buffer, from + first, ring, 0, n - first);
      ringEnd = (ringEnd + n) % capacity;
      cut |= ringFilled + n > capacity;
      ringFilled = Math.min(capacity, ringFilled + n);
    }

    /** The last bytes read as UTF-8, masked, without a character or a marker split by the cut. */
    synchronized String tail() {
      int capacity = ring.length;
      byte[] bytes = new byte[ringFilled];
      int start = Math.floorMod(ringEnd - ringFilled, Math.max(1, capacity));
      int first = Math.min(ringFilled, capacity - start);
      System.arraycopy(ring, start, bytes, 0, first);
      System.arraycopy(ring, 0, bytes, first, ringFilled - first);
      int from = 0;
      Long marker = markers.peekFirst();
      long tailStart = tailed - ringFilled;
      if (marker != null
          && marker < tailStart
          && tailStart < marker + SecretMasker.MARKER.length()) {
        from = (int) Math.min(bytes.length, marker + SecretMasker.MARKER.length() - tailStart);
      }
      while (cut && from < bytes.length && from < 3 && (bytes[from] & 0xC0) == 0x80) {
        from++; // continuation bytes of a character whose start was dropped
      }
      return new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8);
    }

    synchronized boolean truncated() {
      return truncated;
    }
  }
}
