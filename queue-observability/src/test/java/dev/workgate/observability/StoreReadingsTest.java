package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store-backed gauges read the store once per TTL however many scrapes and gauges ask, and a
 * failing store leaves them at their last values without breaking the scrape.
 */
class StoreReadingsTest {
  /** Calls of {@code counts} per refresh: the heartbeat and reaped leases need no store read. */
  static final int COUNTS_PER_REFRESH = 1;

  @TempDir Path dir;
  final MutableClock clock = MutableClock.create();
  final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final Recording recording = new Recording(Stores.inMemory(clock));
  WorkOrderStore store;
  Workgate workgate;
  WorkgateMetrics metrics;

  /** A delegating store that counts calls and can be made to fail reads. */
  static final class Recording implements InvocationHandler {
    final WorkOrderStore target;
    final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    volatile boolean failReads;

    Recording(WorkOrderStore target) {
      this.target = target;
    }

    int calls(String method) {
      return calls.getOrDefault(method, new AtomicInteger()).get();
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      if (method.getDeclaringClass() == Object.class) {
        return method.invoke(target, args);
      }
      calls.computeIfAbsent(method.getName(), k -> new AtomicInteger()).incrementAndGet();
      if (failReads && Set.of("counts", "query").contains(method.getName())) {
        throw new IllegalStateException("the database is down");
      }
      try {
        return method.invoke(target, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    }
  }

  @BeforeEach
  void start() {
    store =
        (WorkOrderStore)
            Proxy.newProxyInstance(
                WorkOrderStore.class.getClassLoader(),
                new Class<?>[] {WorkOrderStore.class},
                recording);
    workgate =
        Workgate.builder()
            .nodeId("node-1")
            .clock(clock)
            .store(store)
            .queues("default", "reports")
            .sandboxRoot(dir.resolve("sandboxes"))
            .memoryProbe(() -> new MemoryReading(1L << 36, 1L << 35, "test"))
            .handler("ok", ctx -> WorkResult.ok())
            .build(); // not started: only the metrics read the store
    for (int i = 0; i < 3; i++) {
      workgate.submit(WorkOrderSpec.builder("ok").build());
    }
    workgate.submit(WorkOrderSpec.builder("ok").queue("reports").build());
    metrics = new WorkgateMetrics(workgate);
    metrics.bindTo(registry);
    recording.calls.clear();
  }

  @AfterEach
  void stop() {
    metrics.close();
    workgate.close();
    recording.target.close();
  }

  private PrometheusText scrape() {
    return PrometheusText.parse(registry.scrape());
  }

  @Test
  void many_scrapes_within_the_ttl_read_the_store_once() {
    for (int i = 0; i < 50; i++) {
      assertThat(scrape().value("workgate_work_orders", "queue", "default", "state", "PENDING"))
          .isEqualTo(3);
    }
    assertThat(recording.calls("counts")).isZero(); // the bind-time reading is still fresh
    assertThat(recording.calls("query")).isZero();

    clock.advance(WorkgateMetrics.DEFAULT_STORE_CACHE_TTL);
    for (int i = 0; i < 50; i++) {
      scrape();
    }
    assertThat(recording.calls("counts")).isEqualTo(COUNTS_PER_REFRESH);
    assertThat(recording.calls("query")).isEqualTo(2); // the two queues with pending work

    clock.advance(Duration.ofMillis(999));
    for (int i = 0; i < 50; i++) {
      scrape();
    }
    assertThat(recording.calls("counts")).isEqualTo(COUNTS_PER_REFRESH);
    clock.advance(Duration.ofMillis(1));
    scrape();
    scrape();
    assertThat(recording.calls("counts")).isEqualTo(2 * COUNTS_PER_REFRESH);
    assertThat(recording.calls("query")).isEqualTo(4);
  }

  @Test
  void a_failing_store_keeps_the_last_values_the_scrape_works_and_it_is_tried_once_per_ttl() {
    PrintStream err = System.err;
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
    try {
      recording.failReads = true;
      workgate.submit(WorkOrderSpec.builder("ok").build()); // a fourth: not seen while failing
      clock.advance(Duration.ofSeconds(1));
      for (int i = 0; i < 20; i++) {
        PrometheusText t = scrape();
        assertThat(t.value("workgate_work_orders", "queue", "default", "state", "PENDING"))
            .isEqualTo(3);
        assertThat(t.value("workgate_work_orders_oldest_pending_age_seconds", "queue", "default"))
            .isEqualTo(1.0);
        assertThat(t.value("workgate_store_readings_age_seconds")).isEqualTo(1.0);
      }
      assertThat(recording.calls("counts")).isEqualTo(COUNTS_PER_REFRESH);
      for (int i = 0; i < 30; i++) {
        clock.advance(Duration.ofSeconds(1));
        scrape();
      }
      assertThat(recording.calls("counts")).isEqualTo(31 * COUNTS_PER_REFRESH);
      assertThat(scrape().value("workgate_store_readings_age_seconds")).isEqualTo(31.0);
      // Two reads fail per refresh, 31 refreshes in 30 s: one warning, then silence for a minute.
      assertThat(warnings(log)).isEqualTo(1);
      clock.advance(Duration.ofSeconds(30));
      scrape();
      assertThat(warnings(log)).isEqualTo(2);

      recording.failReads = false;
      clock.advance(Duration.ofSeconds(1));
      PrometheusText healed = scrape();
      assertThat(healed.value("workgate_work_orders", "queue", "default", "state", "PENDING"))
          .isEqualTo(4);
      assertThat(healed.value("workgate_store_readings_age_seconds")).isZero();
    } finally {
      System.setErr(err);
    }
  }

  private static long warnings(ByteArrayOutputStream log) {
    return log.toString(StandardCharsets.UTF_8)
        .lines()
        .filter(l -> l.contains("WARN") && l.contains("for metrics failed"))
        .count();
  }
}
