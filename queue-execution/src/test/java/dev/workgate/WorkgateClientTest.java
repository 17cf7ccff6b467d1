package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.QueueFullException;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkDoesNotFitException;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.StoreView.NodeStatus;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderQuery.Page;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The producer-side client over the in-memory store and SQLite. */
@Timeout(120)
class WorkgateClientTest {
  static final long GB = 1L << 30;
  static final Instant NOW = Instant.parse("2026-03-01T10:00:00Z");

  @TempDir Path dir;
  private final List<AutoCloseable> open = new ArrayList<>();

  static Stream<String> stores() {
    return Stream.of("memory", "sqlite");
  }

  WorkOrderStore store(String kind) {
    WorkOrderStore store =
        kind.equals("memory") ? Stores.inMemory() : Stores.sqlite(dir.resolve("workgate.db"));
    open.add(store);
    return store;
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  static WorkOrderSpec spec(String type) {
    return WorkOrderSpec.builder(type).build();
  }

  static long total(WorkOrderStore store) {
    return store.counts().total();
  }

  @ParameterizedTest
  @MethodSource("stores")
  void submits_a_pending_work_order_of_a_type_no_node_handles(String kind) {
    WorkOrderStore store = store(kind);
    WorkgateClient client = WorkgateClient.over(store);

    WorkOrderId id = client.submit(WorkOrderSpec.builder("anything-at-all").queue("q").build());

    WorkOrderView view = client.find(id).orElseThrow();
    assertThat(view.state()).isEqualTo(WorkOrderState.PENDING);
    assertThat(view.type()).isEqualTo("anything-at-all");
    assertThat(view.queue()).isEqualTo("q");
    assertThat(client.history(id))
        .singleElement()
        .satisfies(e -> assertThat(e.event()).isInstanceOf(WorkOrderEvent.Submitted.class));
  }

  @ParameterizedTest
  @MethodSource("stores")
  void the_same_idempotency_key_gives_the_same_id_and_writes_once(String kind) {
    WorkOrderStore store = store(kind);
    WorkgateClient client = WorkgateClient.over(store);
    WorkOrderSpec keyed = WorkOrderSpec.builder("t").idempotencyKey("order-17").build();

    WorkOrderId first = client.submit(keyed);
    WorkOrderId second = client.submit(keyed);

    assertThat(second).isEqualTo(first);
    assertThat(total(store)).isEqualTo(1);
  }

  @ParameterizedTest
  @MethodSource("stores")
  void a_batch_with_a_taken_key_and_a_repeated_key_writes_only_the_new_ones_atomically(
      String kind) {
    WorkOrderStore store = store(kind);
    WorkgateClient client = WorkgateClient.over(store);
    WorkOrderId taken = client.submit(WorkOrderSpec.builder("t").idempotencyKey("a").build());

    List<WorkOrderId> ids =
        client.submitAll(
            List.of(
                WorkOrderSpec.builder("t").idempotencyKey("a").build(),
                WorkOrderSpec.builder("t").idempotencyKey("b").build(),
                spec("t"),
                WorkOrderSpec.builder("t").idempotencyKey("b").build()));

    assertThat(ids.get(0)).isEqualTo(taken);
    assertThat(ids.get(3)).isEqualTo(ids.get(1));
    assertThat(Set.copyOf(ids)).hasSize(3);
    assertThat(total(store)).isEqualTo(3);
  }

  @ParameterizedTest
  @MethodSource("stores")
  void a_full_queue_refuses_with_queue_full_and_writes_nothing(String kind) {
    WorkOrderStore store = store(kind);
    WorkgateClient client = WorkgateClient.builder(store).maxQueueDepth("q", 2).build();
    client.submit(WorkOrderSpec.builder("t").queue("q").build());

    assertThatThrownBy(
            () ->
                client.submitAll(
                    List.of(
                        WorkOrderSpec.builder("t").queue("q").build(),
                        WorkOrderSpec.builder("t").queue("q").build())))
        .isInstanceOf(QueueFullException.class)
        .satisfies(
            e -> {
              assertThat(((QueueFullException) e).depth()).isEqualTo(1);
              assertThat(((QueueFullException) e).limit()).isEqualTo(2);
            });
    assertThat(total(store)).isEqualTo(1);

    client.submit(WorkOrderSpec.builder("t").queue("q").build());
    assertThatThrownBy(() -> client.submit(WorkOrderSpec.builder("t").queue("q").build()))
        .isInstanceOf(QueueFullException.class);
    assertThat(total(store)).isEqualTo(2);
    // Another queue has no limit.
    client.submit(WorkOrderSpec.builder("t").queue("other").build());
    assertThat(total(store)).isEqualTo(3);
  }

  @ParameterizedTest
  @MethodSource("stores")
  void bad_input_changes_nothing(String kind) {
    WorkOrderStore store = store(kind);
    WorkgateClient client = WorkgateClient.over(store);
    client.submit(WorkOrderSpec.builder("t").idempotencyKey("k").build());

    assertThatThrownBy(() -> client.submit(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> client.submitAll(null)).isInstanceOf(NullPointerException.class);
    // A new spec, a taken key (which used to switch to one-by-one submits), then a null.
    assertThatThrownBy(
            () ->
                client.submitAll(
                    Arrays.asList(
                        spec("t"), WorkOrderSpec.builder("t").idempotencyKey("k").build(), null)))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> client.cancel(WorkOrderId.of("nope"), "x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> client.resubmit(WorkOrderId.of("nope")))
        .isInstanceOf(IllegalArgumentException.class);

    assertThat(total(store)).isEqualTo(1);
  }

  @Test
  void builder_setters_refuse_bad_values_naming_them() {
    WorkOrderStore store = store("memory");
    assertThatThrownBy(() -> WorkgateClient.builder(store).maxQueueDepth("q", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxQueueDepth")
        .hasMessageContaining("0");
    assertThatThrownBy(
            () -> WorkgateClient.builder(store).maxQueueDepth("q", 3).maxQueueDepth("q", 4))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("3")
        .hasMessageContaining("4");
    assertThatThrownBy(() -> WorkgateClient.builder(store).memoryPerSlotMb(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("memoryPerSlotMb")
        .hasMessageContaining("-1");
  }

  @ParameterizedTest
  @MethodSource("stores")
  void the_memory_default_is_written_into_a_spec_that_declares_none(String kind) {
    WorkOrderStore store = store(kind);
    WorkgateClient client = WorkgateClient.builder(store).memoryPerSlotMb(1024).build();

    WorkOrderId bare =
        client.submit(WorkOrderSpec.builder("t").resources(ResourceRequest.of(2, 0)).build());
    WorkOrderId declared =
        client.submit(WorkOrderSpec.builder("t").resources(ResourceRequest.of(2, 300)).build());

    assertThat(client.find(bare).orElseThrow().resources()).isEqualTo(ResourceRequest.of(2, 2048));
    assertThat(client.find(declared).orElseThrow().resources())
        .isEqualTo(ResourceRequest.of(2, 300));
    WorkOrderId none = WorkgateClient.over(store).submit(spec("t"));
    assertThat(client.find(none).orElseThrow().resources()).isEqualTo(ResourceRequest.DEFAULT);
  }

  @ParameterizedTest
  @MethodSource("stores")
  void cancel_and_resubmit(String kind) {
    WorkOrderStore store = store(kind);
    WorkgateClient client = WorkgateClient.over(store);
    WorkOrderId id = client.submit(WorkOrderSpec.builder("t").idempotencyKey("once").build());

    assertThatThrownBy(() -> client.resubmit(id))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("only a FAILED or CANCELLED work order can be resubmitted");
    assertThat(client.cancel(id, "not needed")).isTrue();
    assertThat(client.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.CANCELLED);
    assertThat(client.cancel(id, "again")).isFalse();

    WorkOrderId again = client.resubmit(id);

    assertThat(again).isNotEqualTo(id);
    assertThat(client.find(again).orElseThrow().state()).isEqualTo(WorkOrderState.PENDING);
    assertThat(client.history(again).get(0).event())
        .isInstanceOfSatisfying(
            WorkOrderEvent.Submitted.class,
            s -> {
              assertThat(s.resubmittedFrom()).isEqualTo(id);
              assertThat(s.spec().idempotencyKey()).isEmpty();
            });
  }

  @ParameterizedTest
  @MethodSource("stores")
  void list_returns_the_stores_pages(String kind) {
    WorkOrderStore store = store(kind);
    WorkgateClient client = WorkgateClient.over(store);
    List<WorkOrderId> ids =
        client.submitAll(
            List.of(
                WorkOrderSpec.builder("t").queue("a").build(),
                WorkOrderSpec.builder("t").queue("b").build(),
                WorkOrderSpec.builder("t").queue("a").build()));

    Page<WorkOrderView> first = client.list(WorkOrderQuery.builder().queue("a").limit(1).build());
    Page<WorkOrderView> rest =
        client.list(
            WorkOrderQuery.builder()
                .queue("a")
                .limit(1)
                .after(first.nextCursor().orElseThrow())
                .build());

    assertThat(first.items()).extracting(WorkOrderView::id).containsExactly(ids.get(0));
    assertThat(rest.items()).extracting(WorkOrderView::id).containsExactly(ids.get(2));
  }

  @ParameterizedTest
  @MethodSource("stores")
  void await_returns_once_a_node_completes_the_work(String kind) throws Exception {
    WorkOrderStore store = store(kind);
    WorkgateClient client = WorkgateClient.over(store);
    WorkOrderId id = client.submit(WorkOrderSpec.builder("greet").payload("world").build());
    Workgate node =
        Workgate.builder()
            .store(store)
            .sandboxRoot(dir.resolve("sandboxes"))
            .pollInterval(Duration.ofMillis(100))
            .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
            .handler("greet", ctx -> WorkResult.ok("hello " + ctx.payload(String.class)))
            .build();
    open.add(node);
    node.start();

    WorkOrderView done = client.await(id, Duration.ofSeconds(60));

    assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(done.result().orElseThrow().asText()).isEqualTo("hello world");
  }

  @ParameterizedTest
  @MethodSource("stores")
  void await_throws_timeout_when_nothing_runs_the_work(String kind) {
    WorkOrderStore store = store(kind);
    WorkgateClient client = WorkgateClient.over(store);
    WorkOrderId id = client.submit(spec("nobody-runs-this"));

    assertThatThrownBy(() -> client.await(id, Duration.ofMillis(100)))
        .isInstanceOf(TimeoutException.class)
        .hasMessageContaining(id.toString())
        .hasMessageContaining("PENDING");
    assertThatThrownBy(() -> client.await(WorkOrderId.of("nope"), Duration.ofMillis(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @MethodSource("stores")
  void a_closed_client_refuses_every_call_and_leaves_the_store_open(String kind) {
    WorkOrderStore store = store(kind);
    WorkgateClient client = WorkgateClient.over(store);
    WorkOrderId id = client.submit(spec("t"));

    client.close();
    client.close();

    assertThatThrownBy(() -> client.submit(spec("t"))).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> client.submitAll(List.of(spec("t"))))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> client.cancel(id, "x")).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> client.resubmit(id)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> client.find(id)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> client.history(id)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> client.list(WorkOrderQuery.builder().build()))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> client.await(id, Duration.ZERO))
        .isInstanceOf(IllegalStateException.class);
    assertThat(store.find(id)).isPresent();
    assertThat(total(store)).isEqualTo(1);
  }

  static NodeStatus node(String id, int slots, long memoryMb, Instant lastHeartbeat) {
    return new NodeStatus(id, slots, memoryMb, 0, 0, "NONE", "test", lastHeartbeat, lastHeartbeat);
  }

  @ParameterizedTest
  @MethodSource("stores")
  void work_no_known_node_could_ever_run_is_refused_and_nothing_is_written(String kind) {
    WorkOrderStore store = store(kind);
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    WorkgateClient client = WorkgateClient.builder(store).clock(clock).build();
    store.recordNode(node("small", 2, 4096, NOW.minusSeconds(30)));
    // A big node silent for longer than FORGET_AFTER does not count.
    store.recordNode(node("gone", 64, 0, NOW.minus(NodeStatus.FORGET_AFTER).minusSeconds(1)));

    assertThatThrownBy(
            () ->
                client.submit(
                    WorkOrderSpec.builder("t").resources(ResourceRequest.of(4, 0)).build()))
        .isInstanceOf(WorkDoesNotFitException.class)
        .hasMessageContaining("node small with 2 slot(s)")
        .hasMessageContaining("nothing was written");
    assertThatThrownBy(
            () ->
                client.submitAll(
                    List.of(
                        spec("t"),
                        WorkOrderSpec.builder("t").resources(ResourceRequest.of(1, 8192)).build())))
        .isInstanceOf(WorkDoesNotFitException.class);
    assertThat(total(store)).isZero();

    WorkOrderId fits =
        client.submit(WorkOrderSpec.builder("t").resources(ResourceRequest.of(2, 4096)).build());
    assertThat(client.find(fits)).isPresent();
  }

  @ParameterizedTest
  @MethodSource("stores")
  void with_no_known_node_anything_is_accepted(String kind) {
    WorkOrderStore store = store(kind);
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    WorkgateClient client = WorkgateClient.builder(store).clock(clock).build();
    store.recordNode(node("long-gone", 1, 0, NOW.minus(Duration.ofHours(2))));

    WorkOrderId huge =
        client.submit(
            WorkOrderSpec.builder("t").resources(ResourceRequest.of(1000, 1L << 30)).build());

    assertThat(client.find(huge)).isPresent();
  }

  @Test
  void a_nodes_client_submits_types_the_node_lacks_while_the_node_refuses_them() {
    WorkOrderStore store = store("memory");
    Workgate node =
        Workgate.builder()
            .store(store)
            .sandboxRoot(dir.resolve("sandboxes"))
            .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"))
            .handler("known", ctx -> WorkResult.ok())
            .build();
    open.add(node);

    assertThatThrownBy(() -> node.submit(spec("unknown")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no handler or sandbox provider for work-order type 'unknown'");
    WorkOrderId id = node.client().submit(spec("unknown"));

    assertThat(node.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.PENDING);
    node.client().close(); // the node's client ends with the node
    assertThat(node.client().find(id)).isPresent();
  }

  @ParameterizedTest
  @MethodSource("stores")
  void threads_submitting_overlapping_keys_through_two_clients_get_one_id_per_key(String kind)
      throws Exception {
    WorkOrderStore store = store(kind);
    WorkgateClient a = WorkgateClient.over(store);
    WorkgateClient b = WorkgateClient.builder(store).maxQueueDepth("default", 1_000).build();
    int threads = 8;
    int keys = 40;
    Map<String, Set<WorkOrderId>> idsByKey = new ConcurrentHashMap<>();
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        WorkgateClient client = t % 2 == 0 ? a : b;
        boolean batches = t % 4 >= 2;
        int offset = t;
        done.add(
            pool.submit(
                () -> {
                  go.await();
                  Function<Integer, WorkOrderSpec> keyed =
                      k -> WorkOrderSpec.builder("t").idempotencyKey("key-" + k).build();
                  for (int i = 0; i < keys; i++) {
                    int k = (i + offset * 5) % keys;
                    if (batches) {
                      int k2 = (k + 1) % keys;
                      List<WorkOrderId> ids =
                          client.submitAll(List.of(keyed.apply(k), keyed.apply(k2)));
                      record(idsByKey, k, ids.get(0));
                      record(idsByKey, k2, ids.get(1));
                    } else {
                      record(idsByKey, k, client.submit(keyed.apply(k)));
                    }
                  }
                  return null;
                }));
      }
      go.countDown();
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(idsByKey).hasSize(keys);
    idsByKey.forEach((key, ids) -> assertThat(ids).as(key).hasSize(1));
    assertThat(total(store)).isEqualTo(keys);
  }

  @ParameterizedTest
  @MethodSource("stores")
  void tracked_submits_tell_which_work_orders_they_wrote(String kind) {
    WorkOrderStore store = store(kind);
    WorkgateClient client = WorkgateClient.over(store);
    WorkOrderSpec keyed = WorkOrderSpec.builder("t").idempotencyKey("order-9").build();

    WorkgateClient.Submission first = client.submitTracked(keyed);
    WorkgateClient.Submission second = client.submitTracked(keyed);
    List<WorkgateClient.Submission> batch =
        client.submitAllTracked(
            List.of(
                keyed,
                WorkOrderSpec.builder("t").idempotencyKey("new").build(),
                spec("t"),
                WorkOrderSpec.builder("t").idempotencyKey("new").build()));

    assertThat(first.created()).isTrue();
    assertThat(second).isEqualTo(new WorkgateClient.Submission(first.id(), false));
    assertThat(batch)
        .extracting(WorkgateClient.Submission::created)
        .containsExactly(false, true, true, false);
    assertThat(batch.get(0).id()).isEqualTo(first.id());
    assertThat(batch.get(3).id()).isEqualTo(batch.get(1).id());
    assertThat(total(store)).isEqualTo(3);
  }

  @ParameterizedTest
  @MethodSource("stores")
  void resubmit_once_creates_one_resubmission_however_often_it_is_called(String kind) {
    WorkOrderStore store = store(kind);
    WorkgateClient client = WorkgateClient.over(store);
    WorkOrderId id = client.submit(WorkOrderSpec.builder("t").label("team", "ml").build());

    assertThatThrownBy(() -> client.resubmitOnce(id))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("only a FAILED or CANCELLED work order can be resubmitted");
    assertThatThrownBy(() -> client.resubmitOnce(WorkOrderId.of("no-such")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no work order no-such");
    client.cancel(id, "wrong input");
    long before = total(store);

    WorkgateClient.Submission first = client.resubmitOnce(id);
    WorkgateClient.Submission again = client.resubmitOnce(id);
    WorkOrderId plain = client.resubmit(id);

    assertThat(first.created()).isTrue();
    assertThat(again).isEqualTo(new WorkgateClient.Submission(first.id(), false));
    assertThat(plain).isNotEqualTo(first.id());
    assertThat(total(store)).isEqualTo(before + 2);
    WorkOrderView resubmitted = client.find(first.id()).orElseThrow();
    assertThat(resubmitted.resubmittedFrom()).contains(id);
    assertThat(resubmitted.labels()).containsEntry("team", "ml");
    assertThat(resubmitted.idempotencyKey())
        .contains(WorkgateClient.RESUBMISSION_KEY_PREFIX + id.value());
  }

  @ParameterizedTest
  @MethodSource("stores")
  void threads_resubmitting_the_same_work_orders_once_create_one_each(String kind)
      throws Exception {
    WorkOrderStore store = store(kind);
    WorkgateClient a = WorkgateClient.over(store);
    WorkgateClient b = WorkgateClient.over(store);
    List<WorkOrderId> ended = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      WorkOrderId id = a.submit(spec("t"));
      a.cancel(id, "to resubmit");
      ended.add(id);
    }
    Map<WorkOrderId, Set<WorkOrderId>> resubmissions = new ConcurrentHashMap<>();
    Map<WorkOrderId, Integer> created = new ConcurrentHashMap<>();
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 6; t++) {
        WorkgateClient client = t % 2 == 0 ? a : b;
        done.add(
            pool.submit(
                () -> {
                  go.await();
                  for (WorkOrderId id : ended) {
                    WorkgateClient.Submission s = client.resubmitOnce(id);
                    resubmissions
                        .computeIfAbsent(id, k -> ConcurrentHashMap.newKeySet())
                        .add(s.id());
                    if (s.created()) {
                      created.merge(id, 1, Integer::sum);
                    }
                  }
                  return null;
                }));
      }
      go.countDown();
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(total(store)).isEqualTo(40);
    for (WorkOrderId id : ended) {
      assertThat(resubmissions.get(id)).as(id.value()).hasSize(1);
      assertThat(created.get(id)).as(id.value()).isEqualTo(1);
    }
  }

  private static void record(Map<String, Set<WorkOrderId>> idsByKey, int key, WorkOrderId id) {
    idsByKey.computeIfAbsent("key-" + key, k -> ConcurrentHashMap.newKeySet()).add(id);
  }
}
