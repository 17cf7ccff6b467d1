package dev.workgate.benchmarks.harness;

import com.github.kagkarlsson.scheduler.Scheduler;
import dev.workgate.Workgate;
import dev.workgate.benchmarks.peers.DbSchedulerContender;
import dev.workgate.core.store.WorkOrderStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.stream.Stream;

/**
 * One node of the multi-node shape, in a JVM of its own that {@link NodeFleet} starts: Workgate or
 * db-scheduler on the harness's PostgreSQL schema, configured exactly as the single-node contender
 * ({@link WorkgateContender#node}, {@link DbSchedulerContender#scheduler}), with a pool of {@link
 * PostgresSchema#POOL_SIZE} connections.
 *
 * <p>It talks to the harness over stdin and stdout, one line at a time: it builds its node and
 * prints {@value #READY}; on {@code go} it notes its CPU time and starts the node; on {@code mark}
 * it prints {@code mark <CPU nanoseconds since go> <handler runs>}; on {@code stop} it stops the
 * node, closes its pool and exits 0. If stdin closes (the harness died or gave up) it halts at once
 * with status 3, so that no node outlives the harness. Any failure prints its stack trace to stderr
 * and exits 1.
 */
public final class NodeChild {
  /** The line a node prints once it is built and waits for {@code go}. */
  static final String READY = "node ready";

  /** The prefix of the line a node prints on {@code mark}. */
  static final String MARK = "node mark ";

  /** The status a node halts with when its stdin closes. */
  static final int ORPHANED = 3;

  private NodeChild() {}

  /**
   * Runs one node.
   *
   * @param args {@code workgate|db-scheduler <schema> <workers> <node number> <jobs>}
   */
  public static void main(String[] args) {
    try {
      run(args);
      System.exit(0);
    } catch (Throwable e) {
      e.printStackTrace();
      System.exit(1);
    }
  }

  private static void run(String[] args) throws Exception {
    if (args.length != 5) {
      throw new IllegalArgumentException(
          "usage: NodeChild workgate|db-scheduler <schema> <workers> <node number> <jobs>");
    }
    String kind = args[0];
    String schemaName = args[1];
    int workers = Integer.parseInt(args[2]);
    String nodeName = "bench-" + Integer.parseInt(args[3]);
    Recorder recorder = new Recorder(Integer.parseInt(args[4])).install();
    BlockingQueue<String> commands = commands();
    Path dir = Files.createTempDirectory("workgate-node-");
    try (PostgresSchema schema = PostgresSchema.attach(schemaName, PostgresSchema.POOL_SIZE)) {
      switch (kind) {
        case "workgate" -> {
          try (WorkOrderStore store = WorkgateContender.postgresStore(schema);
              Workgate node =
                  WorkgateContender.node(
                      store, nodeName, workers, dir.resolve("sandboxes"), recorder)) {
            serve(commands, recorder, node::start);
          }
        }
        case "db-scheduler" -> {
          Scheduler scheduler =
              DbSchedulerContender.scheduler(
                  schema.dataSource(),
                  DbSchedulerContender.task(recorder),
                  nodeName,
                  workers,
                  null);
          try {
            serve(commands, recorder, scheduler::start);
          } finally {
            scheduler.stop();
          }
        }
        default -> throw new IllegalArgumentException("unknown node kind '" + kind + "'");
      }
    } finally {
      try (Stream<Path> paths = Files.walk(dir)) {
        for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** Prints ready, then answers go, mark and stop until stop. */
  private static void serve(BlockingQueue<String> commands, Recorder recorder, Runnable start)
      throws InterruptedException {
    say(READY);
    long cpu0 = -1;
    while (true) {
      String command = commands.take();
      switch (command) {
        case "go" -> {
          cpu0 = Cpu.jvmNanos();
          start.run();
        }
        case "mark" -> {
          long cpu = cpu0 < 0 ? -1 : Cpu.jvmNanos() - cpu0;
          say(String.format(Locale.ROOT, "%s%d %d", MARK, cpu, recorder.runs()));
        }
        case "stop" -> {
          return;
        }
        default -> throw new IllegalArgumentException("unknown command '" + command + "'");
      }
    }
  }

  private static void say(String line) {
    System.out.println(line);
    System.out.flush();
  }

  /** Reads stdin on a daemon thread; halts the JVM when it closes. */
  private static BlockingQueue<String> commands() {
    BlockingQueue<String> q = new LinkedBlockingQueue<>();
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  q.add(line.trim());
                  if (line.trim().equals("stop")) {
                    return; // stop: the node closes in order; stdin is no longer watched
                  }
                }
              } catch (IOException e) {
                // fall through: treat as closed
              }
              System.err.println("stdin closed before stop: the harness is gone; halting");
              Runtime.getRuntime().halt(ORPHANED);
            },
            "harness-stdin");
    t.setDaemon(true);
    t.start();
    return q;
  }
}
