package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.jdbc.PostgresTestDatabase;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@link WorkgateClient} over a SQLite file or PostgreSQL submits work that a separate {@link
 * Workgate} node runs: the node is another store instance over the same database, or another
 * process.
 */
@Timeout(180)
class WorkgateClientAcrossStoresTest {
  static final long GB = 1L << 30;

  @TempDir Path dir;
  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  static Workgate node(WorkOrderStore store, Path root) {
    return Workgate.builder()
        .store(store)
        .sandboxRoot(root)
        .pollInterval(Duration.ofMillis(100))
        .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
        .handler("greet", ctx -> WorkResult.ok("hello " + ctx.payload(String.class)))
        .build();
  }

  static void submitAndAwait(WorkgateClient client) throws Exception {
    WorkOrderId id = client.submit(WorkOrderSpec.builder("greet").payload("client").build());

    WorkOrderView done = client.await(id, Duration.ofSeconds(60));

    assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(done.result().orElseThrow().asText()).isEqualTo("hello client");
  }

  @Test
  void a_client_over_one_sqlite_store_instance_submits_what_a_node_over_another_runs()
      throws Exception {
    Path file = dir.resolve("workgate.db");
    try (WorkOrderStore clientStore = Stores.sqlite(file);
        WorkOrderStore nodeStore = Stores.sqlite(file);
        WorkgateClient client = WorkgateClient.over(clientStore);
        Workgate node = node(nodeStore, dir.resolve("sandboxes"))) {
      node.start();
      submitAndAwait(client);
    }
  }

  @Test
  void a_client_over_postgres_submits_what_a_node_over_another_store_instance_runs()
      throws Exception {
    try (WorkOrderStore clientStore = db.openStore(Clock.systemUTC());
        WorkOrderStore nodeStore = db.openStore(Clock.systemUTC());
        WorkgateClient client = WorkgateClient.over(clientStore);
        Workgate node = node(nodeStore, dir.resolve("sandboxes"))) {
      node.start();
      submitAndAwait(client);
    }
  }

  @Test
  void a_client_submits_what_a_node_in_another_process_runs() throws Exception {
    Path file = dir.resolve("workgate.db");
    Path ready = dir.resolve("node.ready");
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    try (WorkOrderStore store = Stores.sqlite(file);
        WorkgateClient client = WorkgateClient.over(store)) {
      Process child =
          new ProcessBuilder(
                  java.toString(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  ClientNodeChild.class.getName(),
                  file.toString(),
                  dir.resolve("sandboxes").toString(),
                  ready.toString())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("child.log").toFile())
              .start();
      try {
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(ready) || !child.isAlive());
        assertThat(child.isAlive()).as("the node process started").isTrue();

        WorkOrderId id = client.submit(WorkOrderSpec.builder("greet").payload("a process").build());
        WorkOrderView done = client.await(id, Duration.ofSeconds(90));

        assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
        assertThat(done.result().orElseThrow().asText()).isEqualTo("hello from a node: a process");
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the node process ended").isTrue();
        assertThat(child.exitValue()).isZero();
      } finally {
        child.destroyForcibly();
        child.waitFor(30, TimeUnit.SECONDS);
      }
    }
  }
}
