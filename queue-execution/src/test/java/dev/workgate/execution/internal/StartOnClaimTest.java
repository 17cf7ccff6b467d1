package dev.workgate.execution.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.execution.Sandbox;
import dev.workgate.execution.SandboxProvider;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.spi.AppendRequest;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Work of an in-process handler is started by its claim ({@code Claimed} and {@code Started} in one
 * store write) and its execution appends no {@code Started}; work of any other provider keeps the
 * old path.
 */
@Timeout(60)
class StartOnClaimTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final long GB = 1L << 30;

  @TempDir Path dir;

  private final WorkOrderStore inner = Stores.inMemory();

  /** Started events that reached the store through append or appendAll, by work order. */
  private final Map<WorkOrderId, AtomicInteger> startedAppends = new ConcurrentHashMap<>();

  /** The store the node uses: the in-memory store, counting appended Started events. */
  private final WorkOrderStore store =
      (WorkOrderStore)
          Proxy.newProxyInstance(
              WorkOrderStore.class.getClassLoader(),
              new Class<?>[] {WorkOrderStore.class},
              (proxy, method, args) -> {
                if (method.getName().equals("append")) {
                  count((WorkOrderId) args[0], (List<?>) args[2]);
                } else if (method.getName().equals("appendAll")) {
                  for (Object r : (List<?>) args[0]) {
                    AppendRequest request = (AppendRequest) r;
                    count(request.workOrderId(), request.events());
                  }
                }
                try {
                  return method.invoke(inner, args);
                } catch (InvocationTargetException e) {
                  throw e.getCause();
                }
              });

  private void count(WorkOrderId id, List<?> events) {
    for (Object e : events) {
      if (e instanceof WorkOrderEvent.Started) {
        startedAppends.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
      }
    }
  }

  @AfterEach
  void close() {
    inner.close();
  }

  private Workgate.Builder node() {
    return Workgate.builder()
        .store(store)
        .sandboxRoot(dir)
        .maxConcurrent(2)
        .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"));
  }

  @Test
  void in_process_work_is_started_by_its_claim_and_its_execution_appends_no_started()
      throws Exception {
    Map<WorkOrderId, WorkOrderState> seenByHandler = new ConcurrentHashMap<>();
    try (Workgate w =
        node()
            .handler(
                "quick",
                ctx -> {
                  seenByHandler.put(ctx.id(), inner.find(ctx.id()).orElseThrow().state());
                  return WorkResult.ok();
                })
            .build()) {
      w.start();
      List<WorkOrderId> ids =
          List.of(
              w.submit(WorkOrderSpec.builder("quick").build()),
              w.submit(WorkOrderSpec.builder("quick").build()),
              w.submit(WorkOrderSpec.builder("quick").build()));
      for (WorkOrderId id : ids) {
        assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
      }
      for (WorkOrderId id : ids) {
        List<RecordedEvent> stream = inner.readStream(id);
        assertThat(stream)
            .extracting(r -> r.event().type().typeName())
            .containsExactly("Submitted", "Claimed", "Started", "Completed");
        assertThat(stream.get(2).event())
            .isEqualTo(new WorkOrderEvent.Started(SandboxPaths.name(id, 1)));
        assertThat(stream.get(2).position()).isEqualTo(stream.get(1).position() + 1);
        assertThat(startedAppends.get(id)).as("Started appends of %s", id).isNull();
        assertThat(seenByHandler.get(id)).isEqualTo(WorkOrderState.RUNNING);
      }
    }
  }

  @Test
  void work_of_another_provider_is_claimed_alone_and_started_by_its_execution() throws Exception {
    AtomicReference<WorkOrderState> seenAtCreate = new AtomicReference<>();
    SandboxProvider custom =
        new SandboxProvider() {
          @Override
          public Sandbox create(SandboxRequest request) {
            seenAtCreate.set(inner.find(request.workOrder().id()).orElseThrow().state());
            return new Sandbox() {
              @Override
              public String id() {
                return "custom-" + request.attempt();
              }

              @Override
              public Path directory() {
                return dir;
              }

              @Override
              public WorkResult run() {
                return WorkResult.ok();
              }

              @Override
              public void kill(Duration grace) {}

              @Override
              public void destroy() {}
            };
          }

          @Override
          public List<SandboxRecord> list() {
            return List.of();
          }

          @Override
          public void destroyOrphan(SandboxRecord orphan) {}
        };
    try (Workgate w =
        node().sandboxProvider("custom", custom).handler("quick", ctx -> WorkResult.ok()).build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("custom").build());

      assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(seenAtCreate.get()).isEqualTo(WorkOrderState.PREPARING);
      assertThat(startedAppends.get(id)).hasValue(1);
      assertThat(inner.readStream(id))
          .extracting(RecordedEvent::event)
          .contains(new WorkOrderEvent.Started("custom-1"));
    }
  }

  @Test
  void a_cancelled_handler_started_by_its_claim_ends_cancelled_from_running() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    try (Workgate w =
        node()
            .handler(
                "held",
                ctx -> {
                  running.countDown();
                  new CountDownLatch(1).await(30, TimeUnit.SECONDS); // until interrupted
                  return WorkResult.ok();
                })
            .build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("held").build());
      assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();

      assertThat(w.cancel(id, "no longer needed")).isTrue();

      assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.CANCELLED);
      assertThat(inner.readStream(id))
          .extracting(r -> r.event().type().typeName())
          .containsExactly("Submitted", "Claimed", "Started", "CancellationRequested", "Cancelled");
      assertThat(startedAppends.get(id)).isNull();
      await().atMost(WAIT).until(() -> w.node().activeExecutions().isEmpty());
    }
  }
}
