package dev.workgate;

import dev.workgate.NodeView.StoreWrites;
import dev.workgate.TransitionListener.StateChange;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderState.TransitionTable;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Claim;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.WorkOrder;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The runtime's view of the host's store: every call goes to the store, and what this node appends
 * (through appends and claims) is then reported to a callback as a {@link StateChange}. Closing it
 * does not close the host's store.
 *
 * <p>A state change needs the work order's state before the event. Work in flight on this node
 * (claimed, preparing, running) is kept in a small cache, updated by each reported event, so the
 * execution's own appends cost no read; anything else is read with {@code find} before the append
 * (a cancel, a retry release), or folded from its stream in the rare case another writer moved it
 * in between. Nothing is read when nobody watches.
 *
 * <p>It also keeps the tally of this node's writes for {@link StoreWrites}: appends, claims, lease
 * renewals and retention deletes, whether they changed something or failed because the store
 * failed, and why ({@link WriteFailureClassifier}).
 */
final class ObservedStore extends ForwardingStore {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(ObservedStore.class);

  /** Past this many cached work orders the cache is dropped; it is refilled from the store. */
  static final int CACHE_LIMIT = 10_000;

  private final Consumer<StateChange> observer;
  private final BooleanSupplier watched;
  private final Map<WorkOrderId, Known> inFlight = new ConcurrentHashMap<>();
  private final WriteTracker writes;
  private final Stored stored;

  /** What the node's own duties hear of this node's writes, whether anyone listens or not. */
  @FunctionalInterface
  interface Stored {
    /** Events this node stored. */
    void appended(List<RecordedEvent> recorded);

    /** Work orders this node claimed, as the claims left them. */
    default void claimed(List<WorkOrderView> views) {}
  }

  /**
   * @param store the host's store
   * @param observer told of each event this node stores
   * @param watched whether anyone listens now; when not, nothing is read or reported
   * @param clock dates the writes' failures and successes
   */
  ObservedStore(
      WorkOrderStore store,
      Consumer<StateChange> observer,
      BooleanSupplier watched,
      Clock clock,
      Stored stored) {
    super(store);
    this.stored = stored;
    this.observer = observer;
    this.watched = watched;
    this.writes = new WriteTracker(clock);
  }

  /** How this node's writes fare, from memory. */
  StoreWrites writes() {
    return writes.snapshot();
  }

  /**
   * Runs one write of the store, counting it as a success if {@code changed} says it changed
   * something, or as a failure if it threw because the store failed; the exception goes on as it
   * was.
   */
  private <T> T write(Supplier<T> call, Predicate<T> changed) {
    T result;
    try {
      result = call.get();
    } catch (RuntimeException e) {
      writes.failed(e);
      throw e;
    }
    if (changed.test(result)) {
      writes.succeeded();
    }
    return result;
  }

  @Override
  public boolean renewLease(
      WorkOrderId workOrderId,
      String owner,
      int attempt,
      Instant expiresAt,
      dev.workgate.core.Progress progress) {
    return write(
        () -> store.renewLease(workOrderId, owner, attempt, expiresAt, progress),
        renewed -> renewed);
  }

  @Override
  public int deleteTerminalBefore(Instant cutoff, int limit) {
    return write(() -> store.deleteTerminalBefore(cutoff, limit), deleted -> deleted > 0);
  }

  /** What the runtime knows of a work order after one of its events. */
  record Known(
      String queue,
      int attempt,
      WorkOrderState state,
      long version,
      Instant submittedAt,
      Instant availableAt) {

    static Known of(WorkOrderView v) {
      return new Known(
          v.queue(), v.attempt(), v.state(), v.version(), v.submittedAt(), v.availableAt());
    }

    static Known submitted(RecordedEvent e, WorkOrderEvent.Submitted s) {
      Instant at = e.recordedAt();
      Instant available = s.spec().notBefore().filter(nb -> nb.isAfter(at)).orElse(at);
      WorkOrderState state =
          s.dependencies().isEmpty() ? WorkOrderState.PENDING : WorkOrderState.BLOCKED;
      return new Known(s.spec().queue(), 0, state, e.version(), at, available);
    }

    Known after(RecordedEvent e) {
      WorkOrderEvent event = e.event();
      WorkOrderState next = TransitionTable.next(e.workOrderId(), state, event);
      int nextAttempt = event.type() == EventType.CLAIMED ? attempt + 1 : attempt;
      Instant available =
          event.type() == EventType.RETRY_RELEASED
                  || event.type() == EventType.RELEASED
                  || event.type() == EventType.DEPENDENCIES_MET
              ? e.recordedAt()
              : availableAt;
      return new Known(queue, nextAttempt, next, e.version(), submittedAt, available);
    }

    StateChange change(RecordedEvent e, Known before) {
      return new StateChange(
          e,
          queue,
          attempt,
          Optional.ofNullable(before).map(Known::state),
          state,
          submittedAt,
          availableAt);
    }
  }

  @Override
  public List<RecordedEvent> appendAll(List<AppendRequest> requests) {
    if (!watched.getAsBoolean()) {
      List<RecordedEvent> recorded =
          write(() -> store.appendAll(requests), written -> !written.isEmpty());
      tellAppended(recorded);
      return recorded;
    }
    Map<WorkOrderId, Known> before = new HashMap<>();
    for (AppendRequest r : requests) {
      if (!r.events().isEmpty()
          && !(r.events().get(0) instanceof WorkOrderEvent.Submitted)
          && !before.containsKey(r.workOrderId())) {
        before.put(r.workOrderId(), knownBefore(r));
      }
    }
    List<RecordedEvent> recorded =
        write(() -> store.appendAll(requests), written -> !written.isEmpty());
    for (RecordedEvent e : recorded) {
      // The write succeeded: a failure to tell listeners must not make it look failed, nor
      // silence the reports of the other events.
      try {
        report(e, before);
      } catch (VirtualMachineError fatal) {
        throw fatal;
      } catch (Throwable t) {
        LOG.warn("telling transition listeners about {} failed", e.workOrderId(), t);
      }
    }
    tellAppended(recorded);
    return recorded;
  }

  /** Tells the node's own duties (blocked work, batch ends) what was stored; never throws. */
  private void tellAppended(List<RecordedEvent> recorded) {
    try {
      stored.appended(recorded);
    } catch (RuntimeException e) {
      LOG.warn("the node could not take note of {} stored events", recorded.size(), e);
    }
  }

  private void tellClaimed(List<WorkOrderView> views) {
    if (views.isEmpty()) {
      return;
    }
    try {
      stored.claimed(views);
    } catch (RuntimeException e) {
      LOG.warn("the node could not take note of {} claims", views.size(), e);
    }
  }

  /**
   * The work order as it stands before the request, from the cache or the store; null if absent.
   */
  private Known knownBefore(AppendRequest r) {
    Known cached = inFlight.get(r.workOrderId());
    if (cached != null && !r.expected().isAny() && r.expected().matches(cached.version())) {
      return cached;
    }
    try {
      return store.find(r.workOrderId()).map(Known::of).orElse(null);
    } catch (RuntimeException e) {
      LOG.debug("reading {} before an append failed", r.workOrderId(), e);
      return null;
    }
  }

  private void report(RecordedEvent e, Map<WorkOrderId, Known> known) {
    WorkOrderId id = e.workOrderId();
    Known prior = known.get(id);
    Known after;
    if (e.event() instanceof WorkOrderEvent.Submitted s) {
      prior = null;
      after = Known.submitted(e, s);
    } else {
      if (prior == null || prior.version() != e.version() - 1) {
        prior = foldBefore(e);
      }
      if (prior == null) {
        return;
      }
      after = prior.after(e);
    }
    known.put(id, after);
    remember(id, after);
    observer.accept(after.change(e, prior));
  }

  /** The work order just before an event, folded from its stream; null if unreadable. */
  private Known foldBefore(RecordedEvent e) {
    WorkOrder folded = null;
    for (RecordedEvent past : store.readStream(e.workOrderId())) {
      if (past.version() >= e.version()) {
        break;
      }
      folded = folded == null ? WorkOrder.start(past) : folded.apply(past);
    }
    return folded == null ? null : Known.of(folded);
  }

  private void remember(WorkOrderId id, Known k) {
    if (k.state() == WorkOrderState.PREPARING || k.state() == WorkOrderState.RUNNING) {
      if (inFlight.size() >= CACHE_LIMIT) {
        inFlight.clear();
      }
      inFlight.put(id, k);
    } else {
      inFlight.remove(id);
    }
  }

  @Override
  public List<WorkOrderView> claim(ClaimRequest request) {
    if (!watched.getAsBoolean()) {
      List<WorkOrderView> views = write(() -> store.claim(request), v -> !v.isEmpty());
      tellClaimed(views);
      return views;
    }
    List<Claim> claims = claimRecorded(request);
    List<WorkOrderView> views = new ArrayList<>(claims.size());
    for (Claim claim : claims) {
      views.add(claim.view());
    }
    return views;
  }

  @Override
  public List<Claim> claimRecorded(ClaimRequest request) {
    List<Claim> claims = write(() -> store.claimRecorded(request), c -> !c.isEmpty());
    if (!claims.isEmpty()) {
      List<WorkOrderView> views = new ArrayList<>(claims.size());
      claims.forEach(c -> views.add(c.view()));
      tellClaimed(views);
    }
    if (claims.isEmpty() || !watched.getAsBoolean()) {
      return claims;
    }
    for (Claim claim : claims) {
      WorkOrderView view = claim.view();
      try {
        Known last = Known.of(view);
        Known prior =
            new Known(
                last.queue(),
                last.attempt() - 1,
                WorkOrderState.PENDING,
                claim.claimed().version() - 1,
                last.submittedAt(),
                last.availableAt());
        Known afterClaim = prior.after(claim.claimed());
        remember(view.id(), last);
        observer.accept(afterClaim.change(claim.claimed(), prior));
        if (claim.started().isPresent()) {
          // Started in the claim's own write: its listeners hear it as they would its own append.
          observer.accept(last.change(claim.started().get(), afterClaim));
        }
      } catch (VirtualMachineError fatal) {
        throw fatal;
      } catch (Throwable t) {
        // The claim succeeded: reporting it must not make the scheduler think it failed.
        LOG.warn("telling transition listeners about the claim of {} failed", view.id(), t);
      }
    }
    return claims;
  }
}
