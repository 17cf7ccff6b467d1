package dev.workgate.examples.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.NodeView;
import dev.workgate.QueueStats;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.ExpectedVersion;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo host application, run in its short mode as CI runs it. */
class WorkgateDemoTest {
  @TempDir Path dir;

  /** Fast scripts, short timeouts and delays: about ten seconds for 30 work orders. */
  private List<String> shortMode(String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--fast",
                "--data-dir",
                dir.resolve("data").toString(),
                "--execution-timeout",
                "2s",
                "--base-delay",
                "300ms",
                "--poll-interval",
                "200ms",
                "--stagger-delay",
                "0ms",
                "--http-port",
                "0",
                "--progress",
                "lines",
                "--seed",
                "42"));
    args.addAll(List.of(more));
    return args;
  }

  private record Run(int code, String out, String err) {}

  private static Run run(Map<String, String> env, List<String> args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    WorkgateDemo demo =
        new WorkgateDemo(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Clock.systemUTC(),
            false);
    int code = WorkgateDemo.run(demo, env, args.toArray(String[]::new));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void stay_keeps_serving_the_console_after_the_summary_until_stopped() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    WorkgateDemo demo =
        new WorkgateDemo(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            Clock.systemUTC(),
            false);
    java.util.concurrent.CompletableFuture<Integer> code =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () ->
                WorkgateDemo.run(
                    demo,
                    Map.of(),
                    shortMode("--work-orders", "4", "--stay").toArray(String[]::new)));
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(60))
        .until(() -> out.toString(StandardCharsets.UTF_8).contains("Still serving the console"));
    String text = out.toString(StandardCharsets.UTF_8);
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile(
                "Console: (http://127\\.0\\.0\\.1:\\d+)/ \\(token for this run: (\\S+)\\)")
            .matcher(text);
    assertThat(m.find()).as(text).isTrue();
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    java.net.http.HttpResponse<String> page =
        http.send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(m.group(1) + "/")).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
    java.net.http.HttpResponse<String> counts =
        http.send(
            java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(m.group(1) + "/api/work-orders/counts"))
                .header("Authorization", "Bearer " + m.group(2))
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());

    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type")).contains("text/html; charset=utf-8");
    assertThat(counts.statusCode()).isEqualTo(200);
    assertThat(counts.body()).contains("\"total\":4");
    // The node still runs: a failed work order resubmitted from the console runs to its end.
    java.net.http.HttpResponse<String> failed =
        http.send(
            java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(m.group(1) + "/api/work-orders?state=FAILED&limit=1"))
                .header("Authorization", "Bearer " + m.group(2))
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
    String failedId =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(failed.body())
            .get("items")
            .get(0)
            .get("id")
            .asText();
    java.net.http.HttpResponse<String> resubmitted =
        http.send(
            java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(m.group(1) + "/api/work-orders/" + failedId + "/resubmit"))
                .header("Authorization", "Bearer " + m.group(2))
                .POST(java.net.http.HttpRequest.BodyPublishers.noBody())
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(resubmitted.statusCode()).as(resubmitted.body()).isEqualTo(201);
    String newId =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(resubmitted.body())
            .get("id")
            .asText();
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(60))
        .until(
            () ->
                http.send(
                        java.net.http.HttpRequest.newBuilder(
                                java.net.URI.create(m.group(1) + "/api/work-orders/" + newId))
                            .header("Authorization", "Bearer " + m.group(2))
                            .build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString())
                    .body()
                    .matches(".*\"state\":\"(COMPLETED|FAILED|CANCELLED)\".*"));
    assertThat(code).isNotDone();
    assertThat(demo.stopFromHook()).isTrue();
    assertThat(code.get(30, java.util.concurrent.TimeUnit.SECONDS)).isZero();
  }

  @Test
  void help_writes_nothing_to_stderr() {
    // picocli reports a description it cannot format (an unescaped %) on System.err itself.
    ByteArrayOutputStream systemErr = new ByteArrayOutputStream();
    PrintStream saved = System.err;
    Run r;
    System.setErr(new PrintStream(systemErr, true, StandardCharsets.UTF_8));
    try {
      r = run(Map.of(), List.of("--help"));
    } finally {
      System.setErr(saved);
    }

    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("with 10 % jitter");
    assertThat(r.err()).isEmpty();
    assertThat(systemErr.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  private Map<WorkOrderState, Long> countsInStore() {
    try (WorkOrderStore store = Stores.sqlite(dir.resolve("data").resolve("workgate.db"))) {
      Map<WorkOrderState, Long> counts = new java.util.EnumMap<>(WorkOrderState.class);
      QueueCounts byQueue = store.counts();
      for (WorkOrderState s : WorkOrderState.values()) {
        long n = byQueue.count(s);
        if (n > 0) {
          counts.put(s, n);
        }
      }
      return counts;
    }
  }

  @Test
  void short_mode_ends_every_work_order_and_prints_the_summary_and_a_recovered_timeline() {
    Run r = run(Map.of(), shortMode("--work-orders", "30"));

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("Workgate demo: new store")
        .contains("Console: http://127.0.0.1:")
        .contains("Summary: 30 work orders ended")
        .contains("not ended 0")
        .contains("failed and then succeeded on retry")
        .contains("RetryReleased")
        .contains("AGENT_FATAL_ERROR")
        .contains("bin/workgate-admin");
    assertThat(r.err()).contains("30/30 ended").contains("retry in");
    Map<WorkOrderState, Long> counts = countsInStore();
    assertThat(counts.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(30);
    assertThat(counts.keySet()).allMatch(WorkOrderState::isTerminal);
    // The plan's first three: a transient failure, a timeout and a fatal error, every run.
    assertThat(r.out()).contains("TIMEOUT").contains("NETWORK_ERROR");
    assertThat(counts.get(WorkOrderState.FAILED)).isPositive();
    // The sandboxes live side by side under the data directory, each kind once.
    Path sandboxes = dir.resolve("data").resolve("sandboxes");
    assertThat(sandboxes.resolve("in-process")).isDirectory();
    assertThat(sandboxes.resolve("agents")).isDirectory();
    assertThat(sandboxes.resolve("in-process").resolve("in-process")).doesNotExist();
  }

  @Test
  void running_counts_this_node_s_live_attempts_and_the_rest_shows_as_recovering() {
    // Right after a restart: the store has 8 running (4 of them left by the earlier run, their
    // leases not yet expired) and this node runs 3 and prepares 1 on its 4 slots.
    List<NodeView.ActiveExecution> live = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      live.add(
          new NodeView.ActiveExecution(
              WorkOrderId.random(),
              1,
              i == 0 ? DemoPlan.REVIEW_QUEUE : DemoPlan.AGENT_QUEUE,
              Optional.empty(),
              1,
              0,
              Instant.EPOCH,
              Optional.empty(),
              i == 0 ? NodeView.ExecutionStatus.PREPARING : NodeView.ExecutionStatus.RUNNING,
              Duration.ofSeconds(20)));
    }
    Map<WorkOrderState, Long> counts =
        Map.of(WorkOrderState.RUNNING, 7L, WorkOrderState.PREPARING, 1L);
    QueueStats stats =
        new QueueStats(
            QueueCounts.of(Map.of(DemoPlan.AGENT_QUEUE, counts)), 4, 4, null, live, null);

    ProgressDisplay.Progress p =
        WorkgateDemo.progress(stats, Duration.ofSeconds(1), 0, 8, counts, Map.of());

    assertThat(p.running()).isEqualTo(3);
    assertThat(p.preparing()).isEqualTo(1);
    assertThat(p.recovering()).isEqualTo(4);
    assertThat(p.states()).contains("preparing 1 · running 3 · recovering 4");
  }

  @Test
  void the_sandbox_roots_are_composed_once() {
    Path data = Path.of("data");
    assertThat(WorkgateDemo.sandboxRoot(data)).isEqualTo(Path.of("data", "sandboxes"));
    assertThat(WorkgateDemo.agentSandboxRoot(data))
        .isEqualTo(Path.of("data", "sandboxes", "agents"));
  }

  @Test
  void a_restart_resumes_work_orders_an_earlier_run_left_unfinished() throws Exception {
    Path db = dir.resolve("data").resolve("workgate.db");
    Files.createDirectories(db.getParent());
    List<WorkOrderSpec> specs = DemoPlan.specs(3, new Random(1), true);
    try (WorkOrderStore store = Stores.sqlite(db)) {
      for (WorkOrderSpec spec : specs) {
        store.append(
            WorkOrderId.random(),
            ExpectedVersion.none(),
            List.of(new WorkOrderEvent.Submitted(spec, null)));
      }
    }

    Run r = run(Map.of(), shortMode("--work-orders", "2"));

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("existing store")
        .contains("Resuming 3 work orders")
        .contains("Summary: 5 work orders ended");
    assertThat(countsInStore().keySet()).allMatch(WorkOrderState::isTerminal);
  }

  @Test
  void environment_variables_set_options_and_flags_win() {
    Run r =
        run(
            Map.of("WORKGATE_WORK_ORDERS", "3", "WORKGATE_MAX_CONCURRENT", "1"),
            shortMode("--max-concurrent", "2", "--no-http"));

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains(", 2 slots,")
        .contains("Summary: 3 work orders ended")
        .doesNotContain("HTTP endpoint");
  }

  @Test
  void bad_settings_are_one_line_naming_the_setting_and_create_nothing() {
    Run zero = run(Map.of(), shortMode("--max-concurrent", "0"));
    Run duration = run(Map.of(), shortMode("--base-delay", "5x"));
    Run env = run(Map.of("WORKGATE_MAX_ATTEMPTS", "many"), shortMode());
    Run unknown = run(Map.of(), shortMode("--colour"));

    assertThat(zero.code()).isEqualTo(2);
    assertThat(zero.err().strip())
        .startsWith("workgate-demo: --max-concurrent must be 1 to 64, got 0")
        .doesNotContain("\n")
        .doesNotContain("Exception");
    assertThat(duration.code()).isEqualTo(2);
    assertThat(duration.err()).contains("--base-delay").contains("malformed duration '5x'");
    assertThat(env.code()).isEqualTo(2);
    assertThat(env.err()).contains("--max-attempts").contains("(from WORKGATE_MAX_ATTEMPTS)");
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("Unknown option: '--colour'");
    assertThat(dir.resolve("data")).doesNotExist();
  }

  @Test
  void a_rejected_duration_is_written_as_every_message_writes_durations() {
    List<String> args = shortMode();
    args.set(args.indexOf("--base-delay") + 1, "0s");

    Run zero = run(Map.of(), args);

    assertThat(zero.code()).isEqualTo(2);
    assertThat(zero.err())
        .contains("--base-delay must be above zero, got 0ms")
        .doesNotContain("PT");
  }

  @Test
  void a_busy_http_port_leaves_the_demo_running_without_the_endpoint() throws Exception {
    try (java.net.ServerSocket busy =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      List<String> args = shortMode("--work-orders", "1");
      args.set(args.indexOf("--http-port") + 1, Integer.toString(busy.getLocalPort()));

      Run r = run(Map.of(), args);

      assertThat(r.code()).as(r.err()).isZero();
      assertThat(r.err()).contains("running without the HTTP endpoint");
      assertThat(r.out()).contains("Summary: 1 work orders ended");
    }
  }
}
