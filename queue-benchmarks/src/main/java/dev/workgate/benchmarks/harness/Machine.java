package dev.workgate.benchmarks.harness;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/** A one-paragraph description of the machine a run measured, and the commit. Stateless. */
final class Machine {
  private Machine() {}

  static String describe() {
    StringBuilder b = new StringBuilder();
    b.append(cpuModel())
        .append(", ")
        .append(Runtime.getRuntime().availableProcessors())
        .append(" cores, ")
        .append(memTotalGiB())
        .append(" GiB; ")
        .append(System.getProperty("java.vm.name"))
        .append(' ')
        .append(System.getProperty("java.version"))
        .append(", max heap ")
        .append(Runtime.getRuntime().maxMemory() >> 20)
        .append(" MiB, ")
        .append(
            ManagementFactory.getRuntimeMXBean().getInputArguments().isEmpty()
                ? "no JVM flags"
                : "JVM flags " + ManagementFactory.getRuntimeMXBean().getInputArguments())
        .append("; load average at start ")
        .append(
            String.format(
                Locale.ROOT,
                "%.2f",
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()))
        .append("; PostgreSQL ")
        .append(postgres());
    return b.toString();
  }

  /**
   * The commit measured: {@code git rev-parse HEAD} in the working directory, with {@code " plus
   * uncommitted changes"} if {@code git status --porcelain} lists any tracked file; {@code
   * "unknown"} where there is no git or no repository.
   */
  static String commit() {
    String head = git("rev-parse", "HEAD");
    if (head == null || head.isBlank()) {
      return "unknown";
    }
    String changes = git("status", "--porcelain", "--untracked-files=no");
    return head.trim() + (changes != null && !changes.isBlank() ? " plus uncommitted changes" : "");
  }

  /** What {@code git args…} prints on stdout, or null if it fails or takes over 10 s. */
  private static String git(String... args) {
    List<String> command = new ArrayList<>();
    command.add("git");
    command.addAll(List.of(args));
    Process p = null;
    try {
      p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return null;
      }
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } finally {
      if (p != null) {
        p.destroyForcibly();
      }
    }
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return System.getProperty("os.arch");
  }

  private static String memTotalGiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
          return Long.toString(Math.round(kb / 1024.0 / 1024.0));
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return "?";
  }

  private static String postgres() {
    if (!PostgresSchema.reachable()) {
      return "not reachable";
    }
    try (PostgresSchema s = PostgresSchema.create("probe", 1);
        Connection c = s.dataSource().getConnection();
        Statement st = c.createStatement()) {
      StringBuilder b = new StringBuilder();
      try (ResultSet r = st.executeQuery("SHOW server_version")) {
        r.next();
        b.append(r.getString(1));
      }
      for (String setting : new String[] {"fsync", "synchronous_commit", "shared_buffers"}) {
        try (ResultSet r = st.executeQuery("SHOW " + setting)) {
          r.next();
          b.append(", ").append(setting).append('=').append(r.getString(1));
        }
      }
      return b.append(" on the same machine").toString();
    } catch (Exception e) {
      return "(settings unreadable: " + e.getClass().getSimpleName() + ")";
    }
  }
}
