package dev.workgate.core.store;

import dev.workgate.core.store.memory.InMemoryWorkOrderStore;
import java.time.Clock;

/** Factory for {@link WorkOrderStore} backends. */
public final class Stores {
  private Stores() {}

  /**
   * A store that lives in this process's heap: fast, and lost on exit. For tests and throw-away
   * queues. Records event times with the UTC system clock.
   *
   * @return a new, empty store
   */
  public static WorkOrderStore inMemory() {
    return new InMemoryWorkOrderStore(Clock.systemUTC());
  }

  /**
   * A store that lives in this process's heap and records event times with the given clock.
   *
   * @param clock the clock that stamps recorded events
   * @return a new, empty store
   */
  public static WorkOrderStore inMemory(Clock clock) {
    return new InMemoryWorkOrderStore(clock);
  }
}
