package dev.workgate.benchmarks.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.WorkgateClient;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.WorkOrderStore;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The node JVMs of the multi-node shape: a node that cannot start is reported with its exit status
 * and leaves no process behind; nodes on PostgreSQL drain a shared backlog and stop; a node whose
 * harness is gone (stdin closed) halts by itself. The PostgreSQL cases skip when the machine's
 * PostgreSQL is down, except under CI ({@code CI=true}), where they fail.
 */
class NodeFleetTest {
  private static final Duration DEADLINE = Duration.ofSeconds(90);

  static {
    System.setProperty("org.slf4j.simpleLogger.log.com.zaxxer.hikari", "warn");
  }

  @Test
  void a_node_that_cannot_start_is_reported_and_no_node_process_is_left() {
    assertThatThrownBy(
            () ->
                NodeFleet.start(
                    "workgate", "not a schema", 2, 1, 10, System.nanoTime() + DEADLINE.toNanos()))
        .hasMessageContaining("workgate node 1 exited with status 1")
        .hasMessageContaining("node ready");
    assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive)).isEmpty();
  }

  @Test
  void workgate_nodes_drain_a_shared_backlog_once_and_stop() throws Exception {
    requirePostgres();
    int jobs = 300;
    try (PostgresSchema schema = PostgresSchema.create("workgate", 2);
        WorkOrderStore store = WorkgateContender.postgresStore(schema)) {
      try (WorkgateClient client = WorkgateClient.over(store)) {
        WorkgateContender.submitBacklog(client::submitAll, 0, jobs);
      }
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      NodeFleet fleet = NodeFleet.start("workgate", schema.name(), 2, 4, jobs, deadline);
      try {
        fleet.go();
        while (store.counts().count(WorkOrderState.COMPLETED) < jobs
            && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        List<NodeFleet.Mark> marks = fleet.mark(deadline);
        assertThat(marks).hasSize(2);
        assertThat(marks.stream().mapToLong(NodeFleet.Mark::runs).sum()).isEqualTo(jobs);
        assertThat(marks).allSatisfy(m -> assertThat(m.cpuNanos()).isPositive());
        fleet.close();
        assertThat(fleet.closedBadly()).isFalse();
      } finally {
        fleet.close(); // idempotent
      }
      assertThat(store.counts().count(WorkOrderState.COMPLETED)).isEqualTo(jobs);
      assertThat(store.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
    }
    assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive)).isEmpty();
  }

  @Test
  void a_node_whose_stdin_closes_halts_by_itself() throws Exception {
    requirePostgres();
    try (PostgresSchema schema = PostgresSchema.create("dbsched", 1)) {
      try (var c = schema.dataSource().getConnection();
          var s = c.createStatement()) {
        s.execute(dev.workgate.benchmarks.peers.DbSchedulerContender.DDL);
      }
      Process p =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  NodeChild.class.getName(),
                  "db-scheduler",
                  schema.name(),
                  "2",
                  "1",
                  "10")
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      try {
        BufferedReader out =
            new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = out.readLine()) != null && !line.equals(NodeChild.READY)) {
          // skip anything else
        }
        assertThat(line).isEqualTo(NodeChild.READY);
        p.getOutputStream().close();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(NodeChild.ORPHANED);
      } finally {
        p.destroyForcibly();
      }
    }
  }

  private static void requirePostgres() {
    boolean up = PostgresSchema.reachable();
    if (!up && "true".equals(System.getenv("CI"))) {
      throw new AssertionError("PostgreSQL at " + PostgresSchema.URL + " is not reachable");
    }
    Assumptions.assumeTrue(up, "PostgreSQL at " + PostgresSchema.URL + " is not reachable");
  }
}
