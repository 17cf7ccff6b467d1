package dev.workgate.benchmarks.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HarnessTest {

  @Test
  void options_default_to_every_contender_and_shape_and_parse_each_setting() {
    Options d = Options.parse(new String[0]);
    assertThat(d.contenders).containsExactlyElementsOf(Contenders.ALL.keySet());
    assertThat(d.contenders)
        .contains(
            "workgate/memory",
            "workgate/sqlite",
            "workgate/postgres",
            "db-scheduler/postgres",
            "jobrunr/memory",
            "jobrunr/postgres");
    assertThat(d.shapes).containsExactly("drain", "steady", "scaling", "memory", "nodes");
    assertThat(d.nodes).isEqualTo(4);
    assertThat(d.nodesJobs).as("0: the --jobs size").isZero();

    Options o =
        Options.parse(
            new String[] {
              "--contenders",
              "workgate/memory,jobrunr/memory",
              "--shapes",
              "drain",
              "--workers",
              "8",
              "--jobs",
              "1_000",
              "--steady-rate",
              "50",
              "--nodes",
              "2",
              "--nodes-jobs",
              "500"
            });
    assertThat(o.contenders).containsExactly("workgate/memory", "jobrunr/memory");
    assertThat(o.shapes).containsExactly("drain");
    assertThat(o.workers).isEqualTo(8);
    assertThat(o.durableJobs).isEqualTo(1_000);
    assertThat(o.steadyRate).isEqualTo(50);
    assertThat(o.nodes).isEqualTo(2);
    assertThat(o.nodesJobs).isEqualTo(500);
  }

  @Test
  void bad_options_are_refused_with_a_message_naming_the_option() {
    assertThatThrownBy(() -> Options.parse(new String[] {"--workers", "0"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--workers");
    assertThatThrownBy(() -> Options.parse(new String[] {"--jobs", "many"}))
        .hasMessageContaining("--jobs")
        .hasMessageContaining("'many'");
    assertThatThrownBy(() -> Options.parse(new String[] {"--contenders", "sidekiq/redis"}))
        .hasMessageContaining("'sidekiq/redis'");
    assertThatThrownBy(() -> Options.parse(new String[] {"--shapes", "burst"}))
        .hasMessageContaining("'burst'");
    assertThatThrownBy(() -> Options.parse(new String[] {"--frobnicate", "1"}))
        .hasMessageContaining("'--frobnicate'");
    assertThatThrownBy(() -> Options.parse(new String[] {"--nodes", "0"}))
        .hasMessageContaining("--nodes");
    assertThatThrownBy(() -> Options.parse(new String[] {"--workers"}))
        .hasMessageContaining("--workers needs a value");
  }

  @Test
  void percentiles_are_nearest_rank_over_sorted_latencies() {
    long[] l = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    assertThat(Harness.percentile(l, 0.50)).isEqualTo(5);
    assertThat(Harness.percentile(l, 0.99)).isEqualTo(10);
    assertThat(Harness.percentile(new long[] {7}, 0.99)).isEqualTo(7);
    assertThat(Harness.percentile(new long[0], 0.5)).isZero();
  }

  @Test
  void the_verify_column_says_no_difference_or_how_many() {
    assertThat(Harness.verdict(0)).isEqualTo("no difference");
    assertThat(Harness.verdict(1)).isEqualTo("1 difference");
    assertThat(Harness.verdict(1_234)).isEqualTo("1,234 differences");
  }

  @Test
  void the_recorder_keeps_the_first_start_and_counts_every_run() {
    Recorder r = new Recorder(3);
    r.submitting(0);
    r.started(0);
    r.started(0); // a duplicate run
    r.started(2); // never submitted through the recorder: no latency
    assertThat(r.startedCount()).isEqualTo(2);
    assertThat(r.runs()).isEqualTo(3);
    assertThat(r.latencies(0, 3)).hasSize(1);
    assertThat(r.latencies(0, 3)[0]).isNotNegative();
  }

  @Test
  void the_workgate_contender_drains_a_small_backlog_on_the_in_memory_store() throws Exception {
    Recorder r = new Recorder(500).install();
    WorkgateContender c = new WorkgateContender(WorkgateContender.Kind.MEMORY);
    c.open(4, r);
    try {
      c.submitBacklog(0, 500);
      c.start();
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(30))
          .until(() -> c.finished() == 500);
      assertThat(r.startedCount()).isEqualTo(500);
      assertThat(r.runs()).isEqualTo(500);
      assertThat(c.verify()).as("the in-memory store is not verified").isNull();
    } finally {
      c.close();
    }
  }
}
