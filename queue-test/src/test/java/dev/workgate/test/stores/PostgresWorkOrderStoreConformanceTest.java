package dev.workgate.test.stores;

import dev.workgate.core.internal.jdbc.PostgresTestDatabase;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.test.WorkOrderStoreConformance;
import java.time.Clock;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The store conformance suite against the PostgreSQL store: each test gets its own schema and pool
 * (see {@link PostgresTestDatabase}), which are dropped and closed after the suite has closed the
 * store.
 */
class PostgresWorkOrderStoreConformanceTest extends WorkOrderStoreConformance {

  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  @Override
  protected WorkOrderStore createStore(Clock clock) {
    return db.openStore(clock);
  }
}
