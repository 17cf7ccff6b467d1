package dev.workgate.test.stores;

// The store example of docs/testing.md, verbatim between the markers (DocsTestingExampleTest
// checks it): the store conformance suite against the in-memory store.
// spotless:off
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.test.WorkOrderStoreConformance;
import java.time.Clock;

class InMemoryWorkOrderStoreConformanceTest extends WorkOrderStoreConformance {

  @Override
  protected WorkOrderStore createStore(Clock clock) {
    return Stores.inMemory(clock); // a new, empty store on the suite's clock
  }
}
// spotless:on
