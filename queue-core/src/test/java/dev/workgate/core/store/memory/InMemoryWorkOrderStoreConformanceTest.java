package dev.workgate.core.store.memory;

import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.store.WorkOrderStoreConformanceTest;
import java.time.Clock;

/** The store conformance suite against {@link InMemoryWorkOrderStore}. */
class InMemoryWorkOrderStoreConformanceTest extends WorkOrderStoreConformanceTest {

  @Override
  protected WorkOrderStore createStore(Clock clock) {
    return Stores.inMemory(clock);
  }
}
