package dev.workgate;

import dev.workgate.TransitionListener.StateChange;
import dev.workgate.core.Subscription;
import dev.workgate.core.WorkOrderEvent;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The transitions a node stores, told to whoever asked: the host's {@link TransitionListener}s and
 * the transition log ({@link Workgate#TRANSITION_LOGGER}, one line per transition at the node's
 * level).
 *
 * <p>Thread-safe: listeners are added and removed from any thread while writers on several threads
 * report transitions; the listener list is copied on write.
 */
final class Transitions {
  private static final Logger LOG = LoggerFactory.getLogger(Workgate.class);
  private static final Logger TRANSITIONS = LoggerFactory.getLogger(Workgate.TRANSITION_LOGGER);

  private final List<TransitionListener> listeners = new CopyOnWriteArrayList<>();
  private final Level logLevel;

  Transitions(Level logLevel) {
    this.logLevel = Objects.requireNonNull(logLevel, "logLevel");
  }

  /** Whether anyone hears transitions: the store need not work them out otherwise. */
  boolean wanted() {
    return !listeners.isEmpty() || TRANSITIONS.isEnabledForLevel(logLevel);
  }

  /**
   * Adds a listener for every transition.
   *
   * @return its registration; closing it removes the listener
   */
  Subscription add(TransitionListener listener) {
    Objects.requireNonNull(listener, "listener");
    listeners.add(listener);
    AtomicBoolean open = new AtomicBoolean(true);
    return () -> {
      if (open.compareAndSet(true, false)) {
        listeners.remove(listener);
      }
    };
  }

  /** Logs a stored transition and tells every listener; a listener's failure is logged. */
  void observed(StateChange change) {
    log(change);
    for (TransitionListener l : listeners) {
      try {
        l.transition(change);
      } catch (VirtualMachineError fatal) {
        throw fatal;
      } catch (Throwable t) {
        LOG.warn("transition listener failed on {}", change.workOrderId(), t);
      }
    }
  }

  /** Tells every listener that a batch ended; a listener's failure is logged. */
  void batchEnded(BatchStatus status) {
    LOG.info(
        "batch {} ended: {} work orders, {} completed",
        status.id(),
        status.workOrders(),
        status.counts().get(dev.workgate.core.WorkOrderState.COMPLETED));
    for (TransitionListener l : listeners) {
      try {
        l.batchEnded(status);
      } catch (VirtualMachineError fatal) {
        throw fatal;
      } catch (Throwable t) {
        LOG.warn("transition listener failed on the end of batch {}", status.id(), t);
      }
    }
  }

  /** One line per transition: ids, states, queue, attempt and error code; never payloads. */
  private void log(StateChange c) {
    if (!TRANSITIONS.isEnabledForLevel(logLevel)) {
      return;
    }
    String error = "";
    if (c.event().event() instanceof WorkOrderEvent.AttemptFailed f) {
      error = " error=" + f.error().code();
    }
    TRANSITIONS
        .atLevel(logLevel)
        .log(
            "{} {} {} -> {} queue={} attempt={}{}",
            c.workOrderId(),
            c.type().typeName(),
            c.from().map(Enum::name).orElse("NEW"),
            c.to(),
            c.queue(),
            c.attempt(),
            error);
  }
}
