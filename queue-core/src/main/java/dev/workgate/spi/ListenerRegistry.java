package dev.workgate.spi;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.Subscription;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link WorkAvailableListener}s of one store, for store implementations: registration, and
 * delivery that isolates listeners from each other and from the store. Thread-safe.
 */
public final class ListenerRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(ListenerRegistry.class);

  private final CopyOnWriteArrayList<WorkAvailableListener> listeners =
      new CopyOnWriteArrayList<>();

  /** Creates an empty registry. */
  public ListenerRegistry() {}

  /**
   * Registers a listener.
   *
   * @param listener the listener
   * @return the subscription that removes it
   */
  public Subscription add(WorkAvailableListener listener) {
    Objects.requireNonNull(listener, "listener");
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  /**
   * Whether any listener is registered.
   *
   * @return true if at least one is
   */
  public boolean isEmpty() {
    return listeners.isEmpty();
  }

  /**
   * Whether an append made a work order claimable now: it ends PENDING, available at the time of
   * its last event, and the append submitted it or released its retry.
   *
   * @param after the work order after the append
   * @param appended the events of the append
   * @return true if listeners should hear of its queue
   */
  public static boolean becameClaimable(WorkOrderView after, List<RecordedEvent> appended) {
    if (after.state() != WorkOrderState.PENDING || after.availableAt().isAfter(after.updatedAt())) {
      return false;
    }
    for (RecordedEvent r : appended) {
      EventType t = r.event().type();
      if (t == EventType.SUBMITTED
          || t == EventType.RETRY_RELEASED
          || t == EventType.RELEASED
          || t == EventType.DEPENDENCIES_MET) {
        return true;
      }
    }
    return false;
  }

  /**
   * Tells every listener; one that throws is logged and the others are still told.
   *
   * @param queues the queues with new claimable work; nothing happens when empty
   */
  public void fire(Set<String> queues) {
    if (queues.isEmpty()) {
      return;
    }
    Set<String> copy = Set.copyOf(queues);
    for (WorkAvailableListener l : listeners) {
      try {
        l.workAvailable(copy);
      } catch (VirtualMachineError e) {
        throw e;
      } catch (Throwable e) {
        // The write that notifies has committed; a listener's failure must not look like its.
        LOG.warn("work-available listener {} failed; ignoring", l, e);
      }
    }
  }
}
