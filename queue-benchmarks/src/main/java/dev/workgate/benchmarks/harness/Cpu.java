package dev.workgate.benchmarks.harness;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time of this JVM and of the local PostgreSQL server's processes. Stateless. */
final class Cpu {
  /** Linux's clock ticks per second for /proc times (USER_HZ, 100 on every mainstream kernel). */
  private static final long TICKS_PER_SECOND = 100;

  private Cpu() {}

  /** This JVM's CPU time so far in nanoseconds, or -1 if the JVM cannot tell. */
  static long jvmNanos() {
    java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean) {
      return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
    }
    return -1;
  }

  /**
   * The CPU time so far, in nanoseconds, of every running process named {@code postgres} (the
   * server and its backends), read from /proc; -1 where /proc cannot be read. A backend that exits
   * in between takes its time with it, so measure with pools that stay open.
   */
  static long postgresNanos() {
    Path proc = Path.of("/proc");
    if (!Files.isDirectory(proc)) {
      return -1;
    }
    long ticks = 0;
    try (DirectoryStream<Path> pids = Files.newDirectoryStream(proc, "[0-9]*")) {
      for (Path pid : pids) {
        String stat;
        try {
          stat = Files.readString(pid.resolve("stat"));
        } catch (IOException gone) {
          continue;
        }
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        if (open < 0 || close < open || !stat.substring(open + 1, close).equals("postgres")) {
          continue;
        }
        // After "pid (comm) ", field 3 is the state; utime and stime are fields 14 and 15.
        String[] f = stat.substring(close + 2).split(" ");
        ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return ticks * (1_000_000_000L / TICKS_PER_SECOND);
  }
}
