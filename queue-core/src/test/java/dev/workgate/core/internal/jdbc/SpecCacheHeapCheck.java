package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.spec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * A manual measurement, not part of the build: reads 6,000 work orders with 100 KB payloads from a
 * SQLite store and prints the heap in use after a GC. Run it in a small heap:
 *
 * <pre>
 * mvn -pl queue-core test -Dtest=SpecCacheHeapCheck -Dworkgate.heapCheck=true -DargLine=-Xmx512m
 * </pre>
 */
@EnabledIfSystemProperty(named = "workgate.heapCheck", matches = "true")
class SpecCacheHeapCheck {
  @TempDir Path dir;

  @Test
  void reading_6000_work_orders_with_100_kb_payloads_fits_a_small_heap() {
    String big = "x".repeat(100_000);
    try (WorkOrderStore store = Stores.sqlite(dir.resolve("workgate.db"))) {
      List<WorkOrderId> ids = new ArrayList<>();
      for (int batch = 0; batch < 60; batch++) {
        List<AppendRequest> requests = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          WorkOrderId id = newId();
          ids.add(id);
          requests.add(
              AppendRequest.of(
                  id,
                  ExpectedVersion.none(),
                  WorkOrderEvent.Submitted.of(spec("q").payload(Map.of("blob", big)).build())));
        }
        store.appendAll(requests);
      }
      Runtime rt = Runtime.getRuntime();
      long started = System.nanoTime();
      for (WorkOrderId id : ids) {
        assertThat(store.find(id)).isPresent();
      }
      long millis = (System.nanoTime() - started) / 1_000_000;
      System.gc();
      long used = (rt.totalMemory() - rt.freeMemory()) >> 20;
      System.out.printf(
          "read %d work orders with 100 KB payloads in %d ms; heap in use after GC %d MiB of %d"
              + " MiB%n",
          ids.size(), millis, used, rt.maxMemory() >> 20);
    }
  }
}
