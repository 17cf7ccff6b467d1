package dev.workgate.core.internal.memory;

import dev.workgate.core.store.Stores;
import dev.workgate.core.store.TextLimitProperties;
import dev.workgate.core.store.WorkOrderStore;
import java.time.Clock;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** {@link TextLimitProperties} on the in-memory store. */
class InMemoryTextLimitProperties extends TextLimitProperties {

  @Property(tries = 100)
  void accepted_text_reads_back_equal_and_refused_text_changes_nothing(@ForAll("cases") Case c) {
    check(c);
  }

  @Override
  protected WorkOrderStore openStore(Clock clock) {
    return Stores.inMemory(clock);
  }
}
