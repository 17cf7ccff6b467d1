package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.workgate.TransitionListener.StateChange;
import dev.workgate.core.BatchId;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.internal.jdbc.PostgresTestDatabase;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batches through the runtime: a batch's completion future, and the end of a batch told to the
 * transition listeners of exactly one of two nodes sharing a store, once per end (a resubmission
 * reopens the batch, which then ends again).
 */
@Timeout(120)
class BatchTest {
  static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;
  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  @Test
  void completion_of_a_batch_completes_once_all_its_work_orders_end() throws Exception {
    CountDownLatch slowGoesOn = new CountDownLatch(1);
    try (WorkOrderStore store = Stores.sqlite(dir.resolve("workgate.db"));
        Workgate node =
            ChainTest.node("node-1", store, dir.resolve("sandboxes"))
                .maxConcurrent(3)
                .handler(
                    "job",
                    ctx -> {
                      if (ctx.payload(String.class).equals("slow")) {
                        slowGoesOn.await();
                      }
                      return WorkResult.ok();
                    })
                .build()) {
      node.start();
      WorkgateClient.Batch batch =
          node.submitBatch(
              List.of(
                  WorkOrderSpec.builder("job").payload("quick").build(),
                  WorkOrderSpec.builder("job").payload("slow").build(),
                  WorkOrderSpec.builder("job").payload("quick").build()));
      CompletableFuture<BatchStatus> done = node.completion(batch.id());
      assertThat(node.await(batch.workOrders().get(0), WAIT).state())
          .isEqualTo(WorkOrderState.COMPLETED);
      assertThat(node.await(batch.workOrders().get(2), WAIT).state())
          .isEqualTo(WorkOrderState.COMPLETED);

      await()
          .during(Duration.ofMillis(400))
          .atMost(Duration.ofSeconds(5))
          .until(() -> !done.isDone());
      BatchStatus running = node.batch(batch.id());
      assertThat(running.ended()).isFalse();
      assertThat(running.counts().get(WorkOrderState.COMPLETED)).isEqualTo(2);
      slowGoesOn.countDown();

      BatchStatus status = done.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(status.id()).isEqualTo(batch.id());
      assertThat(status.ended()).isTrue();
      assertThat(status.completed()).isTrue();
      assertThat(status.workOrders()).isEqualTo(3);
      assertThat(status.counts().get(WorkOrderState.COMPLETED)).isEqualTo(3);
      assertThat(node.completion(batch.id()))
          .as("the future of an ended batch")
          .isCompletedWithValueMatching(BatchStatus::completed);
      assertThatThrownBy(() -> node.completion(BatchId.random()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("no batch");
      assertThatThrownBy(() -> node.batch(BatchId.random()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("no batch");
    }
  }

  /** Every batch end a node tells its listeners, with the node. */
  record Told(String node, BatchStatus status) {}

  static Workgate.Builder failingOnce(
      String id, WorkOrderStore store, Path root, AtomicBoolean firstFails) {
    return ChainTest.node(id, store, root)
        .maxConcurrent(2)
        .handler(
            "job",
            ctx -> {
              if (ctx.payload(Integer.class) == 0 && firstFails.compareAndSet(true, false)) {
                return WorkResult.fatalFailure(ErrorCodes.AGENT_FATAL_ERROR, "broke");
              }
              return WorkResult.ok();
            });
  }

  static void listen(Workgate node, List<Told> told) {
    node.onTransition(
        new TransitionListener() {
          @Override
          public void transition(StateChange change) {}

          @Override
          public void batchEnded(BatchStatus status) {
            told.add(new Told(node.nodeId(), status));
          }
        });
  }

  /**
   * A batch of eight on two nodes, one failing for good on its first run: its end is told once;
   * resubmitting the failure reopens it, and its second end is told once more.
   */
  static void toldOncePerEnd(Workgate a, Workgate b) throws Exception {
    List<Told> told = new CopyOnWriteArrayList<>();
    listen(a, told);
    listen(b, told);
    List<WorkOrderSpec> specs = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      specs.add(WorkOrderSpec.builder("job").payload(i).build());
    }
    WorkgateClient.Batch batch = a.submitBatch(specs);
    CompletableFuture<BatchStatus> seenByB = b.completion(batch.id());

    await().atMost(WAIT).until(() -> told.size() >= 1);
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(5))
        .until(() -> told.size() == 1);
    BatchStatus first = told.get(0).status();
    assertThat(first.id()).isEqualTo(batch.id());
    assertThat(first.ended()).isTrue();
    assertThat(first.completed()).isFalse();
    assertThat(first.counts())
        .containsAllEntriesOf(Map.of(WorkOrderState.COMPLETED, 7L, WorkOrderState.FAILED, 1L));
    assertThat(first.submitted()).isEqualTo(8);
    BatchStatus fromB = seenByB.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(fromB.ended()).as("the other node's future, by its poll").isTrue();

    WorkOrderId failed = batch.workOrders().get(0);
    assertThat(a.find(failed).orElseThrow().state()).isEqualTo(WorkOrderState.FAILED);
    WorkOrderId again = b.client().resubmit(failed);
    assertThat(a.await(again, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);

    await().atMost(WAIT).until(() -> told.size() >= 2);
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(5))
        .until(() -> told.size() == 2);
    BatchStatus second = told.get(1).status();
    assertThat(second.id()).isEqualTo(batch.id());
    assertThat(second.completed()).isTrue();
    assertThat(second.workOrders()).isEqualTo(8);
    assertThat(second.resubmitted()).isEqualTo(1);
    assertThat(second.submitted()).isEqualTo(9);
    assertThat(told).extracting(Told::node).allMatch(n -> n.equals("node-a") || n.equals("node-b"));
  }

  @Test
  void a_batch_end_is_told_on_exactly_one_of_two_nodes_sharing_a_sqlite_file() throws Exception {
    Path file = dir.resolve("workgate.db");
    AtomicBoolean firstFails = new AtomicBoolean(true);
    try (WorkOrderStore storeA = Stores.sqlite(file);
        WorkOrderStore storeB = Stores.sqlite(file);
        Workgate a = failingOnce("node-a", storeA, dir.resolve("a"), firstFails).build();
        Workgate b = failingOnce("node-b", storeB, dir.resolve("b"), firstFails).build()) {
      a.start();
      b.start();

      toldOncePerEnd(a, b);
    }
  }

  @Test
  void a_batch_that_a_client_ends_is_told_by_a_node() throws Exception {
    Path file = dir.resolve("workgate.db");
    List<Told> told = new CopyOnWriteArrayList<>();
    try (WorkOrderStore nodeStore = Stores.sqlite(file);
        WorkOrderStore clientStore = Stores.sqlite(file);
        WorkgateClient client = WorkgateClient.over(clientStore);
        Workgate node =
            ChainTest.node("node-1", nodeStore, dir.resolve("sandboxes"))
                .queues("default", "held")
                .handler("job", ctx -> WorkResult.ok())
                .build()) {
      listen(node, told);
      node.start();
      assertThat(client.pauseQueue("held", "ops", "")).isTrue();
      WorkgateClient.Batch batch =
          client.submitBatch(
              List.of(
                  WorkOrderSpec.builder("job").build(),
                  WorkOrderSpec.builder("job").queue("held").build()));
      assertThat(client.await(batch.workOrders().get(0), WAIT).state())
          .isEqualTo(WorkOrderState.COMPLETED);

      // The last work order of the batch ends by a client's cancel, on no node.
      assertThat(client.cancel(batch.workOrders().get(1), "not needed")).isTrue();
      assertThat(client.batch(batch.id()).ended()).isTrue();

      await().atMost(Duration.ofSeconds(10)).until(() -> told.size() == 1);
      assertThat(told.get(0).status().counts().get(WorkOrderState.CANCELLED)).isEqualTo(1);
    }
  }

  @Test
  void a_batch_end_is_told_on_exactly_one_of_two_postgres_nodes() throws Exception {
    AtomicBoolean firstFails = new AtomicBoolean(true);
    try (WorkOrderStore storeA = db.openStore(Clock.systemUTC());
        WorkOrderStore storeB = db.openStore(Clock.systemUTC());
        Workgate a = failingOnce("node-a", storeA, dir.resolve("a"), firstFails).build();
        Workgate b = failingOnce("node-b", storeB, dir.resolve("b"), firstFails).build()) {
      a.start();
      b.start();

      toldOncePerEnd(a, b);
    }
  }
}
