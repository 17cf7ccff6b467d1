package dev.workgate.benchmarks.harness;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Locale;

/** A one-paragraph description of the machine a run measured. Stateless. */
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
