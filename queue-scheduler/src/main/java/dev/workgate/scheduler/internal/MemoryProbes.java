package dev.workgate.scheduler.internal;

import dev.workgate.core.internal.Text;
import dev.workgate.scheduler.MemoryProbe;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The usual {@link MemoryProbe}s: what a container sees (cgroup v2), what the host sees ({@code
 * /proc/meminfo}), and what the JVM reports. Stateless; every probe it makes is thread-safe.
 *
 * <p>Probes throw {@link UncheckedIOException} when a file cannot be read and {@link
 * IllegalStateException} when its content does not parse or holds no limit; both messages name the
 * file and, for bad content, quote it.
 */
public final class MemoryProbes {
  private static final Logger LOG = LoggerFactory.getLogger(MemoryProbes.class);

  /** The source of readings from {@link #jvm()}. */
  public static final String JVM_SOURCE = "jvm";

  /** Where cgroup v2 is mounted. */
  static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

  /** The host's memory statistics. */
  static final Path PROC_MEMINFO = Path.of("/proc/meminfo");

  /** The cgroups of this process. */
  static final Path PROC_SELF_CGROUP = Path.of("/proc/self/cgroup");

  /** How much of a bad file's content an error message quotes. */
  private static final int QUOTE_LIMIT = 80;

  private MemoryProbes() {}

  /**
   * Reads memory as this process's container sees it, from the first source that works when this
   * method is called (the choice is made once):
   *
   * <ol>
   *   <li>cgroup v2: this process's cgroup (from {@code /proc/self/cgroup}, line {@code 0::/path},
   *       under {@code /sys/fs/cgroup}; {@code /sys/fs/cgroup} itself if there is none) and its
   *       ancestors up to {@code /sys/fs/cgroup}, as in {@link #cgroupV2(Path)}; skipped when no
   *       cgroup on the way sets a limit ({@code memory.max} is {@code max} everywhere);
   *   <li>{@code /proc/meminfo}, as in {@link #procMeminfo(Path)};
   *   <li>the JVM, as in {@link #jvm()}; tried before {@code /proc/meminfo} when the process is in
   *       a cgroup v1 memory controller, where {@code /proc/meminfo} shows the host and the JVM's
   *       operating-system bean shows the container.
   * </ol>
   *
   * A reading's {@link MemoryReading#source()} names the source, e.g. {@code "cgroup v2
   * /sys/fs/cgroup"}, {@code "/proc/meminfo"} or {@code "jvm"}. Readings are reused for up to
   * {@link #SYSTEM_MAX_AGE} (see {@link #cached}): a busy scheduler turns thousands of times a
   * second, and reading kernel files on each turn cost more than the rest of the turn.
   *
   * @return the probe
   */
  public static MemoryProbe system() {
    return cached(system(PROC_SELF_CGROUP, CGROUP_ROOT, PROC_MEMINFO, jvm()), SYSTEM_MAX_AGE);
  }

  /** How long {@link #system()} reuses a reading. */
  public static final Duration SYSTEM_MAX_AGE = Duration.ofMillis(100);

  /**
   * A probe that reuses the last successful reading of {@code probe} while it is younger than
   * {@code maxAge} (by {@link System#nanoTime()}); a failed read is not cached. Thread-safe; two
   * threads may read the underlying probe at the same moment.
   *
   * @param probe the probe to read
   * @param maxAge how long a reading stays good; zero reads every time
   * @return the caching probe
   * @throws IllegalArgumentException if {@code maxAge} is negative
   */
  public static MemoryProbe cached(MemoryProbe probe, Duration maxAge) {
    Objects.requireNonNull(probe, "probe");
    if (maxAge.isNegative()) {
      throw new IllegalArgumentException(
          "maxAge must not be negative, got " + Text.duration(maxAge));
    }
    long maxAgeNanos = maxAge.toNanos();
    return new MemoryProbe() {
      private volatile MemoryReading last;
      private volatile long readAt;

      @Override
      public MemoryReading read() {
        MemoryReading r = last;
        if (r != null && System.nanoTime() - readAt < maxAgeNanos) {
          return r;
        }
        MemoryReading fresh = probe.read();
        readAt = System.nanoTime();
        last = fresh;
        return fresh;
      }

      @Override
      public String toString() {
        return probe + " (readings reused for " + Text.duration(maxAge) + ")";
      }
    };
  }

  static MemoryProbe system(Path selfCgroup, Path cgroupRoot, Path meminfo, MemoryProbe jvm) {
    List<MemoryProbe> candidates = new ArrayList<>();
    List<Path> chain = cgroupChain(selfCgroup, cgroupRoot);
    if (!chain.isEmpty()) {
      candidates.add(new CgroupV2Probe(chain, meminfo));
    }
    if (cgroupV1Memory(selfCgroup)) {
      // Inside a cgroup v1 container /proc/meminfo shows the host; the JVM knows the container.
      candidates.add(jvm);
      candidates.add(procMeminfo(meminfo));
    } else {
      candidates.add(procMeminfo(meminfo));
      candidates.add(jvm);
    }
    for (MemoryProbe candidate : candidates) {
      try {
        MemoryReading reading = candidate.read();
        LOG.debug("Reading memory from {}: {}", reading.source(), reading);
        return candidate;
      } catch (RuntimeException e) {
        LOG.debug("Memory source {} does not work: {}", candidate, e.toString());
      }
    }
    LOG.warn("No memory source works on this host; using {} and its errors", jvm);
    return jvm;
  }

  /** Whether this process sits in a cgroup v1 memory controller ({@code N:memory:/path}). */
  static boolean cgroupV1Memory(Path selfCgroup) {
    try {
      for (String line : java.nio.file.Files.readAllLines(selfCgroup)) {
        String[] parts = line.split(":", 3);
        if (parts.length == 3 && java.util.Arrays.asList(parts[1].split(",")).contains("memory")) {
          return true;
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      LOG.debug("cannot read {}: {}", selfCgroup, e.toString());
    }
    return false;
  }

  /**
   * Reads memory from one cgroup v2 directory: total is {@code memory.max}; available is total
   * minus the working set, {@code memory.current} minus the reclaimable {@code inactive_file} of
   * {@code memory.stat} (when that file exists), and never negative. Page cache the kernel can drop
   * under pressure does not count as used, as in the kubelet's working-set figure; without this a
   * node that reads many files would look full. If the limit exceeds the host's {@code MemTotal}
   * (from {@code /proc/meminfo}, when readable) the host's total is used instead.
   *
   * @param dir the cgroup directory, e.g. {@code /sys/fs/cgroup}
   * @return the probe; its readings fail if a file is missing or malformed, or if {@code
   *     memory.max} is {@code max} (no limit)
   */
  public static MemoryProbe cgroupV2(Path dir) {
    return cgroupV2(dir, PROC_MEMINFO);
  }

  /** As {@link #cgroupV2(Path)}, with the host's meminfo file given (null for none). */
  static MemoryProbe cgroupV2(Path dir, Path hostMeminfo) {
    return new CgroupV2Probe(List.of(Objects.requireNonNull(dir, "dir")), hostMeminfo);
  }

  /**
   * Reads memory from a file in the format of {@code /proc/meminfo}: total is {@code MemTotal},
   * available is {@code MemAvailable} (the kernel's estimate of memory that can be given to new
   * work without swapping, page cache included).
   *
   * @param file the file, usually {@code /proc/meminfo}
   * @return the probe; its readings fail if the file is missing or a line is absent or malformed
   */
  public static MemoryProbe procMeminfo(Path file) {
    return new MeminfoProbe(Objects.requireNonNull(file, "file"));
  }

  /**
   * Reads memory from the JVM's {@code com.sun.management.OperatingSystemMXBean}: total memory and
   * free memory (container-aware on Linux; free memory does not count page cache as available, so
   * it is the most cautious source).
   *
   * @return the probe; its readings fail with {@link IllegalStateException} on a JVM without that
   *     interface
   */
  public static MemoryProbe jvm() {
    return new JvmProbe();
  }

  /** This process's cgroup directory and its ancestors up to the root, those with memory.max. */
  private static List<Path> cgroupChain(Path selfCgroup, Path root) {
    Path own = root;
    try {
      for (String line : Files.readAllLines(selfCgroup, StandardCharsets.UTF_8)) {
        if (line.startsWith("0::")) {
          String relative = line.substring(3).trim();
          while (relative.startsWith("/")) {
            relative = relative.substring(1);
          }
          Path candidate = root.resolve(relative).normalize();
          if (candidate.startsWith(root) && Files.isDirectory(candidate)) {
            own = candidate;
          }
          break;
        }
      }
    } catch (IOException | UncheckedIOException e) {
      LOG.debug("Cannot read {}: {}", selfCgroup, e.toString());
    }
    List<Path> chain = new ArrayList<>();
    for (Path d = own; d != null && d.startsWith(root); d = d.getParent()) {
      if (Files.exists(d.resolve("memory.max"))) {
        chain.add(d);
      }
    }
    return chain;
  }

  private static String readFile(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e, e);
    }
  }

  private static String quote(String content) {
    String s = content.strip();
    return "\"" + (s.length() > QUOTE_LIMIT ? s.substring(0, QUOTE_LIMIT) + "…" : s) + "\"";
  }

  private static long parseBytes(Path file, String content) {
    String s = content.strip();
    try {
      long v = Long.parseLong(s);
      if (v >= 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalStateException(
        file + ": expected a non-negative number of bytes, got " + quote(content));
  }

  /** A cgroup v2 hierarchy: the tightest limit among the given directories wins. */
  private static final class CgroupV2Probe implements MemoryProbe {
    private final List<Path> dirs;
    private final Path hostMeminfo;

    CgroupV2Probe(List<Path> dirs, Path hostMeminfo) {
      this.dirs = List.copyOf(dirs);
      this.hostMeminfo = hostMeminfo;
    }

    @Override
    public MemoryReading read() {
      long hostTotal = hostTotalBytes();
      MemoryReading best = null;
      for (Path dir : dirs) {
        Path maxFile = dir.resolve("memory.max");
        String max = readFile(maxFile);
        if (max.strip().equals("max")) {
          continue;
        }
        long limit = parseBytes(maxFile, max);
        if (limit == 0) {
          throw new IllegalStateException(maxFile + ": a limit of 0 bytes, got " + quote(max));
        }
        Path currentFile = dir.resolve("memory.current");
        long current = parseBytes(currentFile, readFile(currentFile));
        long used = Math.max(0, current - inactiveFile(dir.resolve("memory.stat")));
        long total = Math.min(limit, hostTotal);
        long available = Math.max(0, Math.min(total, total - used));
        MemoryReading reading = new MemoryReading(total, available, "cgroup v2 " + dir);
        if (best == null || reading.availableBytes() < best.availableBytes()) {
          best = reading;
        }
      }
      if (best == null) {
        throw new IllegalStateException(
            "no memory limit in cgroup v2 "
                + (dirs.size() == 1 ? dirs.get(0) : dirs)
                + ": memory.max is \"max\"");
      }
      return best;
    }

    private long hostTotalBytes() {
      if (hostMeminfo == null || !Files.isReadable(hostMeminfo)) {
        return Long.MAX_VALUE;
      }
      try {
        return MeminfoProbe.parse(hostMeminfo, readFile(hostMeminfo)).totalBytes();
      } catch (RuntimeException e) {
        LOG.debug("Ignoring the host's memory total: {}", e.toString());
        return Long.MAX_VALUE;
      }
    }

    private static long inactiveFile(Path stat) {
      if (!Files.exists(stat)) {
        return 0;
      }
      for (String line : readFile(stat).split("\n")) {
        if (line.startsWith("inactive_file ")) {
          return parseBytes(stat, line.substring("inactive_file ".length()));
        }
      }
      return 0;
    }

    @Override
    public String toString() {
      return "cgroup v2 " + (dirs.size() == 1 ? dirs.get(0) : dirs);
    }
  }

  /** The host's memory from a file in the format of /proc/meminfo. */
  private static final class MeminfoProbe implements MemoryProbe {
    private final Path file;

    MeminfoProbe(Path file) {
      this.file = file;
    }

    @Override
    public MemoryReading read() {
      return parse(file, readFile(file));
    }

    static MemoryReading parse(Path file, String content) {
      long total = -1;
      long available = -1;
      for (String line : content.split("\n")) {
        if (line.startsWith("MemTotal:")) {
          total = value(file, line);
        } else if (line.startsWith("MemAvailable:")) {
          available = value(file, line);
        }
      }
      if (total < 0 || available < 0) {
        throw new IllegalStateException(
            file + ": no " + (total < 0 ? "MemTotal" : "MemAvailable") + " line");
      }
      if (total == 0) {
        throw new IllegalStateException(file + ": MemTotal is 0");
      }
      if (available > total) {
        throw new IllegalStateException(
            file + ": MemAvailable " + available + " exceeds MemTotal " + total + " (bytes)");
      }
      return new MemoryReading(total, available, file.toString());
    }

    /** The value of a line like {@code MemTotal: 16331948 kB}, in bytes. */
    private static long value(Path file, String line) {
      String[] parts = line.substring(line.indexOf(':') + 1).trim().split("\\s+");
      try {
        long v = Long.parseLong(parts[0]);
        if (v >= 0 && parts.length <= 2) {
          if (parts.length == 1) {
            return v;
          }
          if (parts[1].equals("kB")) {
            return Math.multiplyExact(v, 1024L);
          }
        }
      } catch (NumberFormatException | ArithmeticException e) {
        // reported below
      }
      throw new IllegalStateException(
          file + ": expected a line like \"MemTotal: 16331948 kB\", got " + quote(line));
    }

    @Override
    public String toString() {
      return file.toString();
    }
  }

  /** The JVM's view of the operating system's memory. */
  private static final class JvmProbe implements MemoryProbe {
    @Override
    public MemoryReading read() {
      OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
      if (!(os instanceof com.sun.management.OperatingSystemMXBean)) {
        throw new IllegalStateException(
            "this JVM has no com.sun.management.OperatingSystemMXBean, got " + os.getClass());
      }
      com.sun.management.OperatingSystemMXBean sun = (com.sun.management.OperatingSystemMXBean) os;
      long total = sun.getTotalMemorySize();
      long free = sun.getFreeMemorySize();
      if (total <= 0) {
        throw new IllegalStateException("the JVM reports total memory " + total);
      }
      return new MemoryReading(total, Math.max(0, Math.min(free, total)), JVM_SOURCE);
    }

    @Override
    public String toString() {
      return JVM_SOURCE;
    }
  }
}
