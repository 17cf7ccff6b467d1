package dev.workgate.retry;

import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.time.Clock;

/** The retry manager contract on the in-memory store. */
class InMemoryRetryManagerTest extends RetryManagerContractTest {

  @Override
  protected WorkOrderStore createStore(Clock clock) {
    return Stores.inMemory(clock);
  }
}
