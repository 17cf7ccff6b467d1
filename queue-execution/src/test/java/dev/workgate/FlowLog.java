package dev.workgate;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.StoreView;
import dev.workgate.core.store.StoreView.LogPage;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The store's global log read whole, for tests that check the order of events across work orders:
 * which came first is which has the lower position. Immutable once read.
 */
final class FlowLog {
  private final List<RecordedEvent> events;

  private FlowLog(List<RecordedEvent> events) {
    this.events = List.copyOf(events);
  }

  /** Reads the whole log of a store, page after page. */
  static FlowLog read(StoreView store) {
    List<RecordedEvent> out = new ArrayList<>();
    long after = 0;
    while (true) {
      LogPage page = store.readLog(after, 500);
      out.addAll(page.events());
      if (page.events().isEmpty()) {
        return new FlowLog(out);
      }
      after = page.lastPosition();
    }
  }

  /** The position of the last event in the log, 0 when it is empty. */
  static long head(StoreView store) {
    List<RecordedEvent> all = read(store).events;
    return all.isEmpty() ? 0 : all.get(all.size() - 1).position();
  }

  List<RecordedEvent> events() {
    return events;
  }

  /** The events of one work order of one kind, in log order. */
  List<RecordedEvent> of(WorkOrderId id, Class<? extends WorkOrderEvent> kind) {
    return events.stream()
        .filter(e -> e.workOrderId().equals(id) && kind.isInstance(e.event()))
        .toList();
  }

  /** The position of the only event of a kind of a work order. */
  long position(WorkOrderId id, Class<? extends WorkOrderEvent> kind) {
    List<RecordedEvent> found = of(id, kind);
    if (found.size() != 1) {
      throw new AssertionError(
          id + " has " + found.size() + " " + kind.getSimpleName() + " events, expected one");
    }
    return found.get(0).position();
  }

  /** The first event that matches, if any. */
  Optional<RecordedEvent> first(Predicate<RecordedEvent> test) {
    return events.stream().filter(test).findFirst();
  }
}
