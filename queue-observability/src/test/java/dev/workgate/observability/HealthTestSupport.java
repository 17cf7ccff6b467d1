package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.observability.SystemHealth.HealthStatus;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the health tests share: a node on a {@link MutableClock} with a short poll interval and
 * plenty of memory, a store wrapper that lets a test intercept any store call, and cleanup that
 * releases blocked calls before it closes nodes.
 */
abstract class HealthTestSupport {
  static final long GB = 1L << 30;
  static final MemoryReading PLENTY = new MemoryReading(64 * GB, 60 * GB, "test");

  @TempDir Path dir;
  final MutableClock clock = MutableClock.create();
  private final List<CountDownLatch> latches = new ArrayList<>();
  private final Deque<AutoCloseable> cleanup = new ArrayDeque<>();

  @AfterEach
  void cleanUp() throws Exception {
    latches.forEach(CountDownLatch::countDown);
    while (!cleanup.isEmpty()) {
      cleanup.pop().close();
    }
  }

  /** A latch that blocks work until the test opens it; cleanup opens it before closing anything. */
  CountDownLatch latch() {
    CountDownLatch latch = new CountDownLatch(1);
    latches.add(latch);
    return latch;
  }

  /** Closed at cleanup, before everything registered earlier. */
  void onCleanup(AutoCloseable action) {
    cleanup.push(action);
  }

  /** A node builder with a handler for type {@code job} that completes at once. */
  Workgate.Builder node() {
    return Workgate.builder()
        .nodeId("node-1")
        .clock(clock)
        .sandboxRoot(dir.resolve("sandboxes"))
        .pollInterval(Duration.ofMillis(50))
        .memoryProbe(() -> PLENTY);
  }

  Workgate open(Workgate.Builder builder) {
    Workgate w = builder.build();
    onCleanup(w);
    return w;
  }

  WorkgateHealth health(WorkgateHealth.Builder builder) {
    WorkgateHealth h = builder.build();
    onCleanup(h);
    return h;
  }

  /** An in-memory store on the test clock, closed at cleanup. */
  WorkOrderStore memoryStore() {
    WorkOrderStore store = Stores.inMemory(clock);
    onCleanup(store);
    return store;
  }

  static WorkResult ok() {
    return WorkResult.ok();
  }

  /**
   * Waits for the node's own threads to act: returns as soon as it holds; the bound is for a loaded
   * CI machine.
   */
  static ConditionFactory eventually() {
    return Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10));
  }

  /** What a test does around one store call. */
  @FunctionalInterface
  interface Around {
    Object call(String method, Object[] args, Callable<Object> proceed) throws Throwable;
  }

  /** A store that sends every call through {@code around}, whatever methods the SPI has. */
  static WorkOrderStore around(WorkOrderStore delegate, Around around) {
    return (WorkOrderStore)
        Proxy.newProxyInstance(
            WorkOrderStore.class.getClassLoader(),
            new Class<?>[] {WorkOrderStore.class},
            (proxy, method, args) ->
                around.call(
                    method.getName(),
                    args == null ? new Object[0] : args,
                    () -> {
                      try {
                        return method.invoke(delegate, args);
                      } catch (InvocationTargetException e) {
                        if (e.getCause() instanceof Exception cause) {
                          throw cause;
                        }
                        throw (Error) e.getCause();
                      }
                    }));
  }

  /** The one issue of a component, asserting there is exactly one. */
  static HealthIssue onlyIssue(SystemHealth health, String component) {
    List<HealthIssue> issues = health.component(component).orElseThrow().issues();
    assertThat(issues).hasSize(1);
    return issues.get(0);
  }

  static HealthStatus status(SystemHealth health, String component) {
    return health.component(component).orElseThrow().status();
  }

  static Object detail(SystemHealth health, String component, String key) {
    return health.component(component).orElseThrow().details().get(key);
  }
}
