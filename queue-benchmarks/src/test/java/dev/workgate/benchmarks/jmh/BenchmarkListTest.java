package dev.workgate.benchmarks.jmh;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Checks that JMH's annotation processor ran and listed every benchmark, by reading the list it
 * writes ({@code META-INF/BenchmarkList}) the way {@code org.openjdk.jmh.Main} does, without
 * running any benchmark.
 */
class BenchmarkListTest {

  private static final String PACKAGE = "dev.workgate.benchmarks.jmh.";

  private static List<BenchmarkListEntry> entries() throws IOException {
    try (InputStream in =
        BenchmarkListTest.class.getResourceAsStream(BenchmarkList.BENCHMARK_LIST)) {
      assertThat(in)
          .as(
              "%s on the class path: did the JMH annotation processor run?",
              BenchmarkList.BENCHMARK_LIST)
          .isNotNull();
      return BenchmarkList.readBenchmarkList(in);
    }
  }

  @Test
  void every_benchmark_is_listed() throws IOException {
    List<String> names =
        entries().stream()
            .map(BenchmarkListEntry::getUsername)
            .sorted()
            .collect(Collectors.toList());
    assertThat(names)
        .containsExactly(
            PACKAGE + "EventCodecBenchmark.decodeCompleted",
            PACKAGE + "EventCodecBenchmark.decodeSubmitted",
            PACKAGE + "EventCodecBenchmark.encodeCompleted",
            PACKAGE + "EventCodecBenchmark.encodeSubmitted",
            PACKAGE + "InMemoryStoreBenchmark.appendAll100",
            PACKAGE + "InMemoryStoreBenchmark.appendOne",
            PACKAGE + "InMemoryStoreBenchmark.claim",
            PACKAGE + "PostgresStoreBenchmark.appendAll100",
            PACKAGE + "PostgresStoreBenchmark.claim100",
            PACKAGE + "SqliteStoreBenchmark.appendAll100",
            PACKAGE + "SqliteStoreBenchmark.claim100",
            PACKAGE + "StateMachineBenchmark.applyClaimed",
            PACKAGE + "StateMachineBenchmark.foldLifecycle",
            PACKAGE + "StateMachineBenchmark.transitionTableNext");
  }

  @Test
  void store_figures_are_work_orders_per_second() throws IOException {
    Map<String, Integer> opsPerInvocation = new TreeMap<>();
    for (BenchmarkListEntry e : entries()) {
      if (e.getUsername().contains("StoreBenchmark.")) {
        opsPerInvocation.put(
            e.getUsername().substring(PACKAGE.length()), e.getOperationsPerInvocation().orElse(1));
      }
    }
    assertThat(opsPerInvocation)
        .containsOnly(
            Map.entry("InMemoryStoreBenchmark.appendAll100", InMemoryStoreBenchmark.WORK_ORDERS),
            Map.entry("InMemoryStoreBenchmark.appendOne", InMemoryStoreBenchmark.WORK_ORDERS),
            Map.entry("InMemoryStoreBenchmark.claim", InMemoryStoreBenchmark.WORK_ORDERS),
            Map.entry("PostgresStoreBenchmark.appendAll100", 100),
            Map.entry("PostgresStoreBenchmark.claim100", 100),
            Map.entry("SqliteStoreBenchmark.appendAll100", 100),
            Map.entry("SqliteStoreBenchmark.claim100", 100));
  }

  @Test
  void in_memory_claim_runs_with_limits_1_and_32() throws IOException {
    BenchmarkListEntry claim =
        entries().stream()
            .filter(e -> e.getUsername().equals(PACKAGE + "InMemoryStoreBenchmark.claim"))
            .findFirst()
            .orElseThrow();
    Map<String, String[]> params = claim.getParams().orElse(Map.of());
    assertThat(params).containsOnlyKeys("limit");
    assertThat(params.get("limit")).containsExactly("1", "32");
  }

  /** A run with the annotations' settings stays short: one fork, 3 + 5 iterations of 1 s. */
  @Test
  void annotations_keep_a_full_run_short() throws IOException {
    for (BenchmarkListEntry e : entries()) {
      assertThat(e.getForks().orElse(-1)).as(e.getUsername()).isEqualTo(1);
      assertThat(e.getWarmupIterations().orElse(-1)).as(e.getUsername()).isEqualTo(3);
      assertThat(e.getWarmupTime().orElse(TimeValue.NONE))
          .as(e.getUsername())
          .isEqualTo(TimeValue.seconds(1));
      assertThat(e.getMeasurementIterations().orElse(-1)).as(e.getUsername()).isEqualTo(5);
      assertThat(e.getMeasurementTime().orElse(TimeValue.NONE))
          .as(e.getUsername())
          .isEqualTo(TimeValue.seconds(1));
    }
  }

  /** The PostgreSQL benchmarks, which need a server, can be left out by one class-name regex. */
  @Test
  void only_the_postgres_class_needs_a_server() throws IOException {
    assertThat(entries())
        .filteredOn(e -> e.getUsername().matches(".*Postgres.*"))
        .extracting(BenchmarkListEntry::getUserClassQName)
        .containsOnly(PACKAGE + "PostgresStoreBenchmark");
  }
}
