package dev.workgate.benchmarks.harness;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Memory figures: heap per pending work order of an in-memory store, and the resident memory of an
 * idle node in a JVM of its own. Its {@code main} is that idle node. Stateless.
 */
public final class MemoryProbe {
  /** How long the idle node idles before it is measured. */
  static final long IDLE_SECONDS = 10;

  private MemoryProbe() {}

  /** An idle node's figures. */
  record Idle(String jvmFlags, long rssKb, long heapUsedKb) {}

  /**
   * Used heap after a full collection, before and after {@code n} work orders are submitted to a
   * node on an in-memory store that does not run them, divided by {@code n}. The spec and its small
   * JSON payload are counted: they are what the store keeps for a pending work order.
   */
  static long heapPerPendingWorkOrder(int n) {
    WorkOrderStore store = Stores.inMemory();
    try (Workgate workgate =
        Workgate.builder().store(store).handler("noop", ctx -> WorkResult.ok()).build()) {
      long before = usedAfterGc();
      List<WorkOrderSpec> batch = new ArrayList<>(WorkgateContender.BATCH);
      for (int i = 0; i < n; i++) {
        batch.add(WorkOrderSpec.builder("noop").payload(i).build());
        if (batch.size() == WorkgateContender.BATCH) {
          workgate.submitAll(batch);
          batch.clear();
        }
      }
      workgate.submitAll(batch);
      batch = null;
      long after = usedAfterGc();
      return (after - before) / n;
    } finally {
      store.close();
    }
  }

  private static long usedAfterGc() {
    MemoryMXBean mx = ManagementFactory.getMemoryMXBean();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 4; i++) {
      System.gc();
      used = Math.min(used, mx.getHeapMemoryUsage().getUsed());
    }
    return used;
  }

  /** Starts {@link #main} in a JVM of its own with the default flags and reads what it prints. */
  static Idle idleNode() throws IOException, InterruptedException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p =
        new ProcessBuilder(
                java.toString(),
                "-cp",
                System.getProperty("java.class.path"),
                MemoryProbe.class.getName())
            .redirectErrorStream(true)
            .start();
    String last = "";
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("idle ")) {
          last = line;
        }
      }
    }
    if (!p.waitFor(IDLE_SECONDS + 60, TimeUnit.SECONDS) || p.exitValue() != 0 || last.isEmpty()) {
      p.destroyForcibly();
      throw new IOException("the idle node did not report its memory (exit " + p.exitValue() + ")");
    }
    String[] f = last.split(" ");
    return new Idle("default JVM flags", Long.parseLong(f[1]), Long.parseLong(f[2]));
  }

  /**
   * The idle node: Workgate on a SQLite file, started, with no work, for {@link #IDLE_SECONDS};
   * then prints {@code idle <rss kB> <heap used kB>}.
   *
   * @param args none
   * @throws Exception if the node cannot start
   */
  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("workgate-idle-");
    try (WorkOrderStore store = Stores.sqlite(dir.resolve("workgate.db"));
        Workgate workgate =
            Workgate.builder()
                .store(store)
                .sandboxRoot(dir.resolve("sandboxes"))
                .handler("noop", ctx -> WorkResult.ok())
                .build()) {
      workgate.start();
      Thread.sleep(TimeUnit.SECONDS.toMillis(IDLE_SECONDS));
      long rss = 0;
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
      long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1024;
      System.out.println("idle " + rss + " " + heap);
    } finally {
      try (var paths = Files.walk(dir)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
