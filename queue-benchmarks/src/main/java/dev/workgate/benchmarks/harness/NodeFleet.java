package dev.workgate.benchmarks.harness;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The nodes of one multi-node measurement: {@link NodeChild} JVMs started with this JVM's own java
 * binary and class path, driven over their stdin and stdout. Each child's stderr goes to a log file
 * of its own, printed (its tail) when something fails and deleted otherwise, unless {@value
 * #KEEP_LOGS} is true.
 *
 * <p>Teardown is deterministic: {@link #close()} asks every child still alive to stop, waits a
 * while, then kills it and its descendants; a JVM shutdown hook does the same for every child of
 * every fleet if the harness exits first; and a child whose stdin closes halts by itself. Not
 * thread-safe: one harness thread drives a fleet.
 */
final class NodeFleet implements AutoCloseable {
  /** How long a child may take to exit after {@code stop} before it is killed. */
  static final Duration STOP_GRACE = Duration.ofSeconds(30);

  /** A system property: {@code -Dworkgate.bench.keepNodeLogs=true} keeps every node's stderr. */
  static final String KEEP_LOGS = "workgate.bench.keepNodeLogs";

  /** Every child of every fleet still alive, for the shutdown hook. */
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> LIVE.forEach(NodeFleet::kill), "kill-node-children"));
  }

  /** One child. */
  private record Child(
      int number, Process process, Writer stdin, BlockingQueue<String> stdout, Path log) {}

  /** What one child reported on {@code mark}. */
  record Mark(long cpuNanos, long runs) {}

  private final List<Child> children = new ArrayList<>();
  private final String label;
  private boolean failed;
  private boolean closed;
  private boolean stoppedBadly;

  private NodeFleet(String label) {
    this.label = label;
  }

  /**
   * Starts {@code nodes} children and waits until every one is ready.
   *
   * @param kind {@code workgate} or {@code db-scheduler}
   * @param schema the PostgreSQL schema they share
   * @param nodes how many
   * @param workers workers per node
   * @param jobs the backlog's size (the children's recorders are that big)
   * @param deadline when to give up waiting
   * @return the fleet, all ready
   * @throws IOException if a child cannot be started, fails or is not ready by the deadline; every
   *     child started is killed first
   */
  static NodeFleet start(
      String kind, String schema, int nodes, int workers, int jobs, long deadline)
      throws IOException, InterruptedException {
    NodeFleet f = new NodeFleet(kind);
    try {
      for (int i = 1; i <= nodes; i++) {
        f.spawn(kind, schema, i, workers, jobs);
      }
      for (Child c : f.children) {
        f.expect(c, NodeChild.READY, deadline);
      }
      return f;
    } catch (IOException | InterruptedException | RuntimeException e) {
      f.failed = true;
      f.close();
      throw e;
    }
  }

  private void spawn(String kind, String schema, int number, int workers, int jobs)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // The harness's own PostgreSQL settings, if any were given.
    for (String p : List.of("workgate.bench.pg.url", "workgate.bench.pg.user")) {
      if (System.getProperty(p) != null) {
        command.add("-D" + p + "=" + System.getProperty(p));
      }
    }
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(NodeChild.class.getName());
    command.addAll(
        List.of(
            kind,
            schema,
            Integer.toString(workers),
            Integer.toString(number),
            Integer.toString(jobs)));
    Path log = Files.createTempFile("workgate-" + kind + "-node-" + number + "-", ".log");
    Process p =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.to(log.toFile())).start();
    LIVE.add(p);
    BlockingQueue<String> out = new LinkedBlockingQueue<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  out.add(line);
                }
              } catch (IOException e) {
                // the child is gone; expect() sees it exit
              }
            },
            "node-" + kind + "-" + number + "-stdout");
    reader.setDaemon(true);
    reader.start();
    children.add(
        new Child(
            number,
            p,
            new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8),
            out,
            log));
  }

  /** Sends {@code go} to every child, one after another (each a line on a pipe). */
  void go() throws IOException {
    sendAll("go");
  }

  /**
   * Asks every child for its CPU time since {@code go} and its handler runs.
   *
   * @param deadline when to give up
   * @return one mark per child, in order
   * @throws IOException if a child does not answer
   */
  List<Mark> mark(long deadline) throws IOException, InterruptedException {
    sendAll("mark");
    List<Mark> marks = new ArrayList<>();
    for (Child c : children) {
      String line = expect(c, NodeChild.MARK, deadline);
      String[] f = line.substring(NodeChild.MARK.length()).trim().split(" ");
      marks.add(new Mark(Long.parseLong(f[0]), Long.parseLong(f[1])));
    }
    return marks;
  }

  /**
   * Whether every child is still running; a child that exited is a failure of the measurement.
   *
   * @return the number of the first child that exited, or 0
   */
  int firstExited() {
    for (Child c : children) {
      if (!c.process.isAlive()) {
        return c.number;
      }
    }
    return 0;
  }

  /** Marks the fleet failed, so that {@link #close()} prints the children's logs. */
  void failed() {
    failed = true;
  }

  private void sendAll(String command) throws IOException {
    for (Child c : children) {
      try {
        c.stdin.write(command + "\n");
        c.stdin.flush();
      } catch (IOException e) {
        failed = true;
        throw new IOException(
            label
                + " node "
                + c.number
                + " is gone (exit "
                + exit(c)
                + ") before '"
                + command
                + "'",
            e);
      }
    }
  }

  /** Waits for a line of {@code c}'s starting with {@code prefix}; other lines are skipped. */
  private String expect(Child c, String prefix, long deadline)
      throws IOException, InterruptedException {
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        failed = true;
        throw new IOException(
            label + " node " + c.number + " did not print '" + prefix.trim() + "' by the deadline");
      }
      String line = c.stdout.poll(Math.min(left, 100_000_000L), TimeUnit.NANOSECONDS);
      if (line != null && line.startsWith(prefix)) {
        return line;
      }
      if (line == null && !c.process.isAlive() && c.stdout.isEmpty()) {
        failed = true;
        throw new IOException(
            label
                + " node "
                + c.number
                + " exited with status "
                + c.process.exitValue()
                + " before printing '"
                + prefix.trim()
                + "'");
      }
    }
  }

  private static String exit(Child c) {
    return c.process.isAlive() ? "still running" : Integer.toString(c.process.exitValue());
  }

  /**
   * Stops every child: {@code stop}, then up to {@link #STOP_GRACE} for it to exit, then it and its
   * descendants are killed. A child that had to be killed, or exited with a status other than 0,
   * makes {@link #closedBadly()} true; then, or if the fleet was marked {@link #failed()}, the tail
   * of each child's log goes to stderr. Logs are deleted either way. Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Child c : children) {
      if (c.process.isAlive()) {
        try {
          c.stdin.write("stop\n");
          c.stdin.flush();
        } catch (IOException e) {
          // it is exiting anyway
        }
      }
    }
    long until = System.nanoTime() + STOP_GRACE.toNanos();
    for (Child c : children) {
      try {
        long left = until - System.nanoTime();
        if (!c.process.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS)) {
          System.err.println(
              "  " + label + " node " + c.number + " did not exit after stop; killing it");
          stoppedBadly = true;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stoppedBadly = true;
      }
      boolean exitedByItself = !c.process.isAlive();
      kill(c.process);
      LIVE.remove(c.process);
      if (exitedByItself && c.process.exitValue() != 0) {
        stoppedBadly = true;
      }
    }
    boolean keep = Boolean.getBoolean(KEEP_LOGS);
    for (Child c : children) {
      if (failed || stoppedBadly) {
        printTail(c);
      }
      if (keep) {
        System.err.println("  " + label + " node " + c.number + " stderr kept: " + c.log);
        continue;
      }
      try {
        Files.deleteIfExists(c.log);
      } catch (IOException e) {
        // a temp file
      }
    }
  }

  /**
   * Whether {@link #close()} found a child that had to be killed or had exited with a status other
   * than 0.
   *
   * @return true if so
   */
  boolean closedBadly() {
    return stoppedBadly;
  }

  private void printTail(Child c) {
    try {
      List<String> lines = Files.readAllLines(c.log, StandardCharsets.UTF_8);
      System.err.println(
          String.format(
              Locale.ROOT,
              "  --- %s node %d (exit %s), last lines of its stderr:",
              label,
              c.number,
              exit(c)));
      for (String l : lines.subList(Math.max(0, lines.size() - 25), lines.size())) {
        System.err.println("  | " + l);
      }
    } catch (IOException | RuntimeException e) {
      System.err.println("  (" + label + " node " + c.number + ": log unreadable: " + e + ")");
    }
  }

  /** Kills a process and everything it started, and waits briefly for it to go. */
  private static void kill(Process p) {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    try {
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
