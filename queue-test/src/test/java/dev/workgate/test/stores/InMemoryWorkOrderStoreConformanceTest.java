package dev.workgate.test.stores;

import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.test.WorkOrderStoreConformance;
import java.time.Clock;

/** The store conformance suite against the in-memory store; docs/testing.md shows it. */
class InMemoryWorkOrderStoreConformanceTest extends WorkOrderStoreConformance {

  @Override
  protected WorkOrderStore createStore(Clock clock) {
    return Stores.inMemory(clock);
  }
}
