package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.EndedCount;
import dev.workgate.core.store.StoreView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderStore;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Workgate#store()} reads the node's store and cannot change it. */
class StoreViewTest {
  @TempDir Path dir;

  @Test
  void the_store_view_cannot_be_cast_back_to_the_writable_store() {
    WorkOrderStore store = Stores.inMemory();
    try (Workgate w =
        Workgate.builder()
            .store(store)
            .sandboxRoot(dir)
            .handler("job", ctx -> WorkResult.ok())
            .build()) {
      StoreView view = w.store();
      assertThat(view).isNotInstanceOf(WorkOrderStore.class);
      assertThat(view).isNotInstanceOf(AutoCloseable.class);
      assertThat(w.store()).isSameAs(view);
      assertThat(StoreView.readOnly(view)).isSameAs(view);
      assertThat(StoreView.readOnly(store)).isNotInstanceOf(WorkOrderStore.class);
    } finally {
      store.close();
    }
  }

  @Test
  void the_store_view_has_reads_and_retention_only() {
    Set<String> methods =
        Arrays.stream(StoreView.class.getMethods())
            .filter(m -> !java.lang.reflect.Modifier.isStatic(m.getModifiers()))
            .map(Method::getName)
            .collect(Collectors.toSet());
    assertThat(methods)
        .containsExactlyInAnyOrder(
            "readStream",
            "readLog",
            "queryEvents",
            "find",
            "query",
            "count",
            "endedPerInterval",
            "counts",
            "findByIdempotencyKey",
            "quarantinedRows",
            "nodes",
            "dependents",
            "pausedQueues",
            "queueActions",
            "localFile",
            "deleteTerminalBefore");
  }

  @Test
  void the_store_view_reads_what_the_node_wrote() throws Exception {
    try (Workgate w =
        Workgate.builder().sandboxRoot(dir).handler("job", ctx -> WorkResult.ok("done")).build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("job").idempotencyKey("k-1").build());
      w.await(id, Duration.ofSeconds(30));
      StoreView view = w.store();
      assertThat(view.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(view.readStream(id)).isNotEmpty();
      assertThat(view.findByIdempotencyKey("k-1")).contains(id);
      assertThat(view.counts().byState("default")).containsEntry(WorkOrderState.COMPLETED, 1L);
      assertThat(
              view.count(
                  WorkOrderQuery.builder().types("job").build(), WorkOrderQuery.CountBy.STATE))
          .containsEntry("COMPLETED", 1L);
      Instant ended = view.find(id).orElseThrow().updatedAt();
      assertThat(
              view.endedPerInterval(
                  ended.minusSeconds(30), ended.plusSeconds(30), Duration.ofMinutes(1)))
          .containsExactly(new EndedCount(ended.minusSeconds(30), 1, 0, 0));
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> !view.nodes().isEmpty());
      assertThat(view.nodes()).anyMatch(n -> n.id().equals(w.nodeId()));
    }
  }
}
