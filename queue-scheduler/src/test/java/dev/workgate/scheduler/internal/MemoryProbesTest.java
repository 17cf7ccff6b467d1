package dev.workgate.scheduler.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.scheduler.MemoryProbe;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryProbesTest {
  private static final long GIB = 1024L * 1024L * 1024L;
  private static final long MIB = 1024L * 1024L;

  /** The format of /proc/meminfo, abridged. */
  private static final String MEMINFO =
      "MemTotal:       16331948 kB\n"
          + "MemFree:         1022716 kB\n"
          + "MemAvailable:    9876544 kB\n"
          + "Buffers:          401228 kB\n"
          + "Cached:          8215864 kB\n"
          + "HugePages_Total:       0\n"
          + "Hugepagesize:       2048 kB\n";

  private static final MemoryProbe FAKE_JVM = () -> new MemoryReading(GIB, GIB / 2, "fake jvm");

  @TempDir Path tmp;

  private Path cgroup(String name, String max, String current) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve(name));
    Files.writeString(dir.resolve("memory.max"), max);
    Files.writeString(dir.resolve("memory.current"), current);
    return dir;
  }

  private Path file(String name, String content) throws IOException {
    Path f = tmp.resolve(name);
    Files.createDirectories(f.getParent());
    return Files.writeString(f, content);
  }

  @Test
  void a_cached_probe_writes_its_age_as_messages_write_durations() {
    MemoryProbe fixed = () -> new MemoryReading(8 * GIB, 2 * GIB, "fixed");

    assertThat(MemoryProbes.cached(fixed, Duration.ofSeconds(1)).toString())
        .endsWith("(readings reused for 1.0s)");
    assertThatThrownBy(() -> MemoryProbes.cached(fixed, Duration.ofMillis(-5)))
        .hasMessage("maxAge must not be negative, got -5ms");
  }

  @Test
  void cgroup_v2_total_is_memory_max_and_available_is_max_minus_current() throws IOException {
    Path dir = cgroup("cg", 8 * GIB + "\n", 2 * GIB + "\n");

    MemoryReading r = MemoryProbes.cgroupV2(dir, null).read();

    assertThat(r.totalBytes()).isEqualTo(8 * GIB);
    assertThat(r.availableBytes()).isEqualTo(6 * GIB);
    assertThat(r.totalMb()).isEqualTo(8192);
    assertThat(r.availableMb()).isEqualTo(6144);
    assertThat(r.source()).isEqualTo("cgroup v2 " + dir);
  }

  @Test
  void cgroup_v2_does_not_count_inactive_page_cache_as_used() throws IOException {
    Path dir = cgroup("cg", 8 * GIB + "\n", 6 * GIB + "\n");
    Files.writeString(
        dir.resolve("memory.stat"),
        "anon 1073741824\nfile 5368709120\nactive_file 1073741824\ninactive_file "
            + 3 * GIB
            + "\nslab 1000\n");

    MemoryReading r = MemoryProbes.cgroupV2(dir, null).read();

    assertThat(r.availableBytes()).isEqualTo(5 * GIB);
  }

  @Test
  void cgroup_v2_available_is_never_negative_when_current_exceeds_max() throws IOException {
    Path dir = cgroup("cg", GIB + "\n", 2 * GIB + "\n");

    MemoryReading r = MemoryProbes.cgroupV2(dir, null).read();

    assertThat(r.totalBytes()).isEqualTo(GIB);
    assertThat(r.availableBytes()).isZero();
    assertThat(r.usedFraction()).isEqualTo(1.0);
  }

  @Test
  void cgroup_v2_limit_above_the_host_total_uses_the_host_total() throws IOException {
    Path dir = cgroup("cg", 64 * GIB + "\n", 2 * GIB + "\n");
    Path meminfo = file("meminfo", MEMINFO);

    MemoryReading r = MemoryProbes.cgroupV2(dir, meminfo).read();

    assertThat(r.totalBytes()).isEqualTo(16331948L * 1024);
    assertThat(r.availableBytes()).isEqualTo(16331948L * 1024 - 2 * GIB);
  }

  @Test
  void cgroup_v2_with_memory_max_max_fails_saying_there_is_no_limit() throws IOException {
    Path dir = cgroup("cg", "max\n", "12345\n");

    assertThatThrownBy(() -> MemoryProbes.cgroupV2(dir, null).read())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no memory limit")
        .hasMessageContaining(dir.toString())
        .hasMessageContaining("\"max\"");
  }

  @Test
  void cgroup_v2_malformed_memory_max_fails_naming_file_and_content() throws IOException {
    Path dir = cgroup("cg", "lots of bytes\n", "12345\n");

    assertThatThrownBy(() -> MemoryProbes.cgroupV2(dir, null).read())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(dir.resolve("memory.max").toString())
        .hasMessageContaining("\"lots of bytes\"");
  }

  @Test
  void cgroup_v2_malformed_memory_current_fails_naming_file_and_content() throws IOException {
    Path dir = cgroup("cg", "1048576\n", "-3\n");

    assertThatThrownBy(() -> MemoryProbes.cgroupV2(dir, null).read())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(dir.resolve("memory.current").toString())
        .hasMessageContaining("\"-3\"");
  }

  @Test
  void cgroup_v2_missing_file_fails_with_unchecked_io_naming_the_file() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("empty"));

    assertThatThrownBy(() -> MemoryProbes.cgroupV2(dir).read())
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining(dir.resolve("memory.max").toString());
  }

  @Test
  void proc_meminfo_reads_mem_total_and_mem_available_in_kibibytes() throws IOException {
    Path f = file("meminfo", MEMINFO);

    MemoryReading r = MemoryProbes.procMeminfo(f).read();

    assertThat(r.totalBytes()).isEqualTo(16331948L * 1024);
    assertThat(r.availableBytes()).isEqualTo(9876544L * 1024);
    assertThat(r.totalMb()).isEqualTo(16331948L / 1024);
    assertThat(r.source()).isEqualTo(f.toString());
  }

  @Test
  void proc_meminfo_without_mem_available_fails_naming_the_missing_line() throws IOException {
    Path f = file("meminfo", "MemTotal:       16331948 kB\nMemFree:         1022716 kB\n");

    assertThatThrownBy(() -> MemoryProbes.procMeminfo(f).read())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(f.toString())
        .hasMessageContaining("no MemAvailable");
  }

  @Test
  void proc_meminfo_malformed_value_fails_naming_file_and_line() throws IOException {
    Path f = file("meminfo", "MemTotal:       sixteen kB\nMemAvailable:    9876544 kB\n");

    assertThatThrownBy(() -> MemoryProbes.procMeminfo(f).read())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(f.toString())
        .hasMessageContaining("\"MemTotal:       sixteen kB\"");
  }

  @Test
  void proc_meminfo_missing_file_fails_with_unchecked_io_naming_the_file() {
    Path f = tmp.resolve("no-such-meminfo");

    assertThatThrownBy(() -> MemoryProbes.procMeminfo(f).read())
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining(f.toString());
  }

  @Test
  void system_uses_the_process_cgroup_when_it_has_a_limit() throws IOException {
    Path root = Files.createDirectories(tmp.resolve("sys/fs/cgroup"));
    Path own = cgroup("sys/fs/cgroup/app.slice/run.service", 2 * GIB + "", GIB / 2 + "");
    Path self = file("proc/self/cgroup", "0::/app.slice/run.service\n");

    MemoryProbe probe = MemoryProbes.system(self, root, file("meminfo", MEMINFO), FAKE_JVM);
    MemoryReading r = probe.read();

    assertThat(r.source()).isEqualTo("cgroup v2 " + own);
    assertThat(r.totalBytes()).isEqualTo(2 * GIB);
    assertThat(r.availableBytes()).isEqualTo(2 * GIB - GIB / 2);
  }

  @Test
  void system_takes_the_tightest_limit_among_the_cgroup_and_its_ancestors() throws IOException {
    Path root = Files.createDirectories(tmp.resolve("sys/fs/cgroup"));
    Path parent = cgroup("sys/fs/cgroup/app.slice", 3 * GIB + "", 2 * GIB + 512 * MIB + "");
    cgroup("sys/fs/cgroup/app.slice/run.service", "max", GIB + "");
    Path self = file("proc/self/cgroup", "0::/app.slice/run.service\n");

    MemoryReading r = MemoryProbes.system(self, root, tmp.resolve("none"), FAKE_JVM).read();

    assertThat(r.source()).isEqualTo("cgroup v2 " + parent);
    assertThat(r.availableBytes()).isEqualTo(512 * MIB);
  }

  @Test
  void system_uses_the_cgroup_root_when_proc_self_cgroup_is_missing() throws IOException {
    Path root = cgroup("sys/fs/cgroup", 4 * GIB + "", GIB + "");

    MemoryReading r =
        MemoryProbes.system(tmp.resolve("missing"), root, tmp.resolve("none"), FAKE_JVM).read();

    assertThat(r.source()).isEqualTo("cgroup v2 " + root);
    assertThat(r.availableBytes()).isEqualTo(3 * GIB);
  }

  @Test
  void system_does_not_leave_the_cgroup_root_for_a_path_with_dot_dot() throws IOException {
    Path root = cgroup("sys/fs/cgroup", 4 * GIB + "", GIB + "");
    cgroup("outside", GIB + "", "0");
    Path self = file("proc/self/cgroup", "0::/../../../outside\n");

    MemoryReading r = MemoryProbes.system(self, root, tmp.resolve("none"), FAKE_JVM).read();

    assertThat(r.source()).isEqualTo("cgroup v2 " + root);
  }

  @Test
  void system_falls_back_to_meminfo_when_no_cgroup_sets_a_limit() throws IOException {
    Path root = cgroup("sys/fs/cgroup", "max", GIB + "");
    Path self = file("proc/self/cgroup", "0::/\n");
    Path meminfo = file("meminfo", MEMINFO);

    MemoryReading r = MemoryProbes.system(self, root, meminfo, FAKE_JVM).read();

    assertThat(r.source()).isEqualTo(meminfo.toString());
    assertThat(r.availableBytes()).isEqualTo(9876544L * 1024);
  }

  @Test
  void in_a_cgroup_v1_memory_controller_the_jvm_comes_before_the_hosts_meminfo()
      throws IOException {
    Path self =
        file("proc/self/cgroup", "12:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/\n");
    Path meminfo = file("meminfo", MEMINFO);

    MemoryReading r =
        MemoryProbes.system(self, tmp.resolve("no-v2-root"), meminfo, FAKE_JVM).read();

    assertThat(r.source()).isEqualTo("fake jvm");
  }

  @Test
  void system_falls_back_to_the_jvm_when_neither_cgroup_nor_meminfo_work() {
    MemoryReading r =
        MemoryProbes.system(
                tmp.resolve("no-self"), tmp.resolve("no-root"), tmp.resolve("no-meminfo"), FAKE_JVM)
            .read();

    assertThat(r.source()).isEqualTo("fake jvm");
  }

  @Test
  void system_on_this_machine_gives_a_sane_reading() {
    MemoryReading r = MemoryProbes.system().read();

    assertThat(r.totalBytes()).isPositive();
    assertThat(r.availableBytes()).isBetween(0L, r.totalBytes());
    assertThat(r.source()).matches("cgroup v2 /sys/fs/cgroup.*|/proc/meminfo|jvm");
  }

  @Test
  void jvm_probe_gives_a_sane_reading() {
    MemoryReading r = MemoryProbes.jvm().read();

    assertThat(r.totalBytes()).isPositive();
    assertThat(r.availableBytes()).isBetween(0L, r.totalBytes());
    assertThat(r.source()).isEqualTo(MemoryProbes.JVM_SOURCE);
  }

  @Test
  void a_reading_rejects_available_above_total_naming_both_values() {
    assertThatThrownBy(() -> new MemoryReading(100, 101, "test"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("totalBytes 100")
        .hasMessageContaining("got 101");
    assertThatThrownBy(() -> new MemoryReading(0, 0, "test"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("totalBytes must be positive, got 0");
    assertThatThrownBy(() -> new MemoryReading(100, -1, "test"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("got -1");
    assertThatThrownBy(() -> new MemoryReading(100, 1, " "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("source");
  }

  @Test
  void a_reading_rounds_mebibytes_down_and_computes_the_used_fraction() {
    MemoryReading r = new MemoryReading(4 * MIB, 3 * MIB - 1, "test");

    assertThat(r.totalMb()).isEqualTo(4);
    assertThat(r.availableMb()).isEqualTo(2);
    assertThat(r.usedBytes()).isEqualTo(MIB + 1);
    assertThat(r.usedFraction()).isEqualTo((MIB + 1) / (4.0 * MIB));
  }
}
