package dev.workgate.test.stores;

import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.test.WorkOrderStoreConformance;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store conformance suite against the SQLite store, one new database file per test. The default
 * durability (FULL) is kept: the suite checks the store as hosts get it.
 */
class SqliteWorkOrderStoreConformanceTest extends WorkOrderStoreConformance {

  @TempDir Path dir;

  @Override
  protected WorkOrderStore createStore(Clock clock) {
    return Stores.sqlite(dir.resolve("workgate.db"), SqliteOptions.builder().clock(clock).build());
  }
}
