package dev.workgate.retry.internal;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.Subscription;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Text;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.retry.ErrorClassifier;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides what a failed attempt means and keeps the retry schedule, entirely through the store: the
 * decision is written into the {@code AttemptFailed} event with its retry time, and due retries are
 * found by the store's indexed due query. A retry therefore survives a restart, and several
 * managers (on several nodes sharing a PostgreSQL database) release each due retry exactly once,
 * because each release appends under the version it read.
 *
 * <pre>{@code
 * RetryManager retries = RetryManager.builder(store)
 *     .policy("builds", RetryPolicy.builder().maxAttempts(2).build())
 *     .build();
 * RetryDecision d = retries.recordFailure(view, retries.classifier().classify(exception));
 * retries.releaseDue(clock.instant(), 100);   // from the scheduler loop
 * }</pre>
 *
 * <p>Policies are per queue (the default policy for queues without their own); a work order's
 * {@code maxAttempts} in its spec overrides its queue policy's. Thread-safe: every method may be
 * called from many threads.
 */
public final class RetryManager {
  private static final Logger LOG = LoggerFactory.getLogger(RetryManager.class);

  /** How many due retries are released per store transaction by default. */
  public static final int DEFAULT_BATCH_SIZE = 100;

  /**
   * How often a work order may be released (its node shut down past the grace, died, or could not
   * renew its lease) before the next release fails it as {@code POISONED}: enough for a rolling
   * deploy across a few nodes and a crash or two, few enough that work which kills every node it
   * lands on stops within minutes rather than forever.
   */
  public static final int DEFAULT_MAX_RELEASES = 5;

  /** How often {@link #cancel} re-reads a work order that changed under it before giving up. */
  private static final int CANCEL_ATTEMPTS = 8;

  private final WorkOrderStore store;
  private final RetryPolicy defaultPolicy;
  private final Map<String, RetryPolicy> policies;
  private final ErrorClassifier classifier;
  private final Clock clock;
  private final RandomGenerator random;
  private final Object randomLock = new Object();
  private final int batchSize;
  private final int maxReleases;
  private final List<Entry> listeners = new CopyOnWriteArrayList<>();
  private final LongAdder scheduled = new LongAdder();
  private final LongAdder released = new LongAdder();
  private final LongAdder exhausted = new LongAdder();
  private final LongAdder notRetried = new LongAdder();
  private final LongAdder cancelled = new LongAdder();
  private final LongAdder attemptsReleased = new LongAdder();
  private final LongAdder poisoned = new LongAdder();

  private RetryManager(Builder b) {
    this.store = b.store;
    this.defaultPolicy = b.defaultPolicy;
    this.policies = Map.copyOf(b.policies);
    this.classifier = b.classifier;
    this.clock = b.clock;
    this.random = b.random;
    this.batchSize = b.batchSize;
    this.maxReleases = b.maxReleases;
    this.listeners.addAll(b.listeners);
  }

  /**
   * A builder for a manager over a store.
   *
   * @param store where work orders and their events are
   * @return a new builder
   */
  public static Builder builder(WorkOrderStore store) {
    return new Builder(Objects.requireNonNull(store, "store"));
  }

  /**
   * The policy of a queue.
   *
   * @param queue the queue
   * @return its own policy, else the default policy
   */
  public RetryPolicy policyFor(String queue) {
    return policies.getOrDefault(Objects.requireNonNull(queue, "queue"), defaultPolicy);
  }

  /**
   * The attempts a work order may take: its spec's {@code maxAttempts}, else its queue's policy's.
   *
   * @param view the work order
   * @return at least 1
   */
  public int maxAttemptsFor(WorkOrderView view) {
    return view.maxAttempts().orElse(policyFor(view.queue()).maxAttempts());
  }

  /**
   * The classifier that turns exceptions and exit codes into errors.
   *
   * @return the classifier
   */
  public ErrorClassifier classifier() {
    return classifier;
  }

  /**
   * Decides what a failed attempt means, by the manager's clock, without writing anything. The
   * error is not retried if its queue's policy never retries its code or if it is not retryable
   * (policy's {@code retryOn} aside); otherwise it is retried while attempts are left, after the
   * policy's delay for the next attempt. Attempts are counted as {@link
   * WorkOrderView#chargedAttempts()}: released attempts cost nothing.
   *
   * @param view the work order whose current attempt failed ({@code PREPARING} or {@code RUNNING})
   * @param error what went wrong
   * @return the decision; {@link RetryDecision#toEvent()} is the event to append
   * @throws IllegalArgumentException if the work order is not in an active state
   */
  public RetryDecision decide(WorkOrderView view, ErrorInfo error) {
    Objects.requireNonNull(view, "view");
    Objects.requireNonNull(error, "error");
    if (!view.state().isActive()) {
      throw new IllegalArgumentException(
          "only a PREPARING or RUNNING work order has an attempt that can fail; "
              + view.id()
              + " is "
              + view.state());
    }
    RetryPolicy policy = policyFor(view.queue());
    int maxAttempts = maxAttemptsFor(view);
    int attempt = view.chargedAttempts(); // released attempts do not count

    Instant now = clock.instant();
    boolean retryable = policy.retries(error.code(), error.retryable());
    ErrorInfo recorded =
        retryable == error.retryable()
            ? error
            : new ErrorInfo(error.code(), error.message(), retryable);
    if (!retryable) {
      return decision(
          view, attempt, maxAttempts, recorded, RetryDecision.Outcome.NOT_RETRYABLE, now, null);
    }
    if (attempt >= maxAttempts) {
      return decision(
          view, attempt, maxAttempts, recorded, RetryDecision.Outcome.EXHAUSTED, now, null);
    }
    Duration delay;
    synchronized (randomLock) {
      delay = policy.delayBeforeAttempt(attempt + 1, random);
    }
    return decision(view, attempt, maxAttempts, recorded, RetryDecision.Outcome.RETRY, now, delay);
  }

  private static RetryDecision decision(
      WorkOrderView view,
      int attempt,
      int maxAttempts,
      ErrorInfo error,
      RetryDecision.Outcome outcome,
      Instant now,
      Duration delay) {
    return new RetryDecision(
        view.id(), view.queue(), attempt, maxAttempts, error, outcome, now, delay);
  }

  /**
   * Decides a failed attempt and records it: appends the decision's {@code AttemptFailed} under the
   * version of {@code view}, then tells the listeners.
   *
   * @param view the work order as the caller last read it
   * @param error what went wrong
   * @return the recorded decision
   * @throws ConcurrencyException if the work order changed since {@code view} was read (for example
   *     a reaper or a cancellation got there first); nothing is written
   * @throws InvalidTransitionException if the work order cannot fail now; nothing is written
   * @throws IllegalArgumentException if the work order is not in an active state
   */
  public RetryDecision recordFailure(WorkOrderView view, ErrorInfo error) {
    RetryDecision decision = decide(view, error);
    store.append(view.id(), ExpectedVersion.exactly(view.version()), List.of(decision.toEvent()));
    switch (decision.outcome()) {
      case RETRY:
        scheduled.increment();
        fire(l -> l.retryScheduled(decision));
        break;
      case EXHAUSTED:
        exhausted.increment();
        fire(l -> l.retriesExhausted(decision));
        break;
      case NOT_RETRYABLE:
        notRetried.increment();
        fire(l -> l.failedWithoutRetry(decision));
        break;
      default:
        throw new IllegalStateException("unknown outcome " + decision.outcome());
    }
    return decision;
  }

  /** What {@link #recordRelease} recorded. */
  public enum ReleaseOutcome {
    /** {@code Released}: the work order is PENDING again and the attempt cost nothing. */
    RELEASED,
    /** A cancellation had been requested: {@code Cancelled} instead. */
    CANCELLED,
    /**
     * The work order had been released {@link #maxReleases()} times already: a final {@code
     * AttemptFailed} with {@code POISONED}.
     */
    POISONED
  }

  /**
   * Checks a release cap (see {@link Builder#maxReleases}).
   *
   * @param releases the cap
   * @return the cap
   * @throws IllegalArgumentException naming the setting if it is not between 0 and 1,000
   */
  public static int requireMaxReleases(int releases) {
    if (releases < 0 || releases > 1_000) {
      throw new IllegalArgumentException("maxReleases must be between 0 and 1000, got " + releases);
    }
    return releases;
  }

  /**
   * Checks a release batch size (see {@link Builder#batchSize}), for builders that pass one on.
   *
   * @param size the size
   * @param setting the name of the setting, for the message
   * @return the size
   * @throws IllegalArgumentException naming the setting if it is not between 1 and 10,000
   */
  public static int requireBatchSize(int size, String setting) {
    if (size < 1 || size > 10_000) {
      throw new IllegalArgumentException(setting + " must be between 1 and 10000, got " + size);
    }
    return size;
  }

  /**
   * How often a work order may be released before the next release fails it as {@code POISONED}.
   *
   * @return at least 0
   */
  public int maxReleases() {
    return maxReleases;
  }

  /**
   * Gives an attempt back without charging it: what a node records when it shut down past the
   * grace, when it reaps the lease of a dead node, or when it stopped work whose lease it could not
   * renew. Appends under the version of {@code view}, one of: {@code Cancelled} with the requested
   * reason if a cancellation was requested (the work order was meant to stop anyway); a final
   * {@code AttemptFailed} with {@code POISONED} if it was already released {@link #maxReleases()}
   * times (it kills the nodes it lands on); otherwise {@code Released}, which makes it {@code
   * PENDING} at once with its attempt not counted.
   *
   * @param view the work order as the caller last read it ({@code PREPARING} or {@code RUNNING})
   * @param code why, as an error code ({@code NODE_SHUTDOWN}, {@code LEASE_EXPIRED}, {@code
   *     LEASE_NOT_RENEWED})
   * @param reason the details, for a person
   * @return what was recorded
   * @throws ConcurrencyException if the work order changed since {@code view} was read; nothing is
   *     written
   * @throws InvalidTransitionException if the work order is not in an active state; nothing is
   *     written
   */
  public ReleaseOutcome recordRelease(WorkOrderView view, String code, String reason) {
    Objects.requireNonNull(view, "view");
    Text.requireName(code, "release code");
    Objects.requireNonNull(reason, "reason");
    ExpectedVersion expected = ExpectedVersion.exactly(view.version());
    Optional<String> cancellation = view.cancellationRequested();
    if (cancellation.isPresent()) {
      store.append(view.id(), expected, List.of(new WorkOrderEvent.Cancelled(cancellation.get())));
      return ReleaseOutcome.CANCELLED;
    }
    if (view.releases() >= maxReleases) {
      String decision =
          "release limit reached: released "
              + view.releases()
              + " time(s) before, at most "
              + maxReleases
              + " allowed";
      ErrorInfo error =
          ErrorInfo.fatal(
              ErrorCodes.POISONED,
              "its nodes kept stopping while it ran (last: " + code + ": " + reason + ")");
      store.append(
          view.id(), expected, List.of(WorkOrderEvent.AttemptFailed.finalFailure(error, decision)));
      poisoned.increment();
      LOG.warn(
          "{} failed as POISONED: released {} time(s), the limit is {}",
          view.id(),
          view.releases(),
          maxReleases);
      fire(l -> l.attemptReleased(view, code, true));
      return ReleaseOutcome.POISONED;
    }
    store.append(view.id(), expected, List.of(new WorkOrderEvent.Released(code, reason)));
    attemptsReleased.increment();
    fire(l -> l.attemptReleased(view, code, false));
    return ReleaseOutcome.RELEASED;
  }

  /**
   * Moves due retries back to {@code PENDING}: work orders in {@code WAITING_RETRY} whose retry
   * time is at or before {@code now}, earliest first, one store transaction per batch. A work order
   * that another manager released or that was cancelled meanwhile is skipped, so concurrent
   * managers release each retry exactly once. Returns early when a whole batch was taken by others.
   *
   * @param now the current time
   * @param limit the most retries to release in this call, at least 1
   * @return how many this call released
   * @throws IllegalArgumentException if the limit is below 1
   */
  public int releaseDue(Instant now, int limit) {
    Objects.requireNonNull(now, "now");
    if (limit < 1) {
      throw new IllegalArgumentException("releaseDue limit must be at least 1, got " + limit);
    }
    int total = 0;
    while (total < limit) {
      List<WorkOrderView> due = store.dueRetries(now, Math.min(batchSize, limit - total));
      if (due.isEmpty()) {
        break;
      }
      int releasedNow = releaseBatch(due);
      total += releasedNow;
      if (releasedNow == 0) {
        break;
      }
    }
    return total;
  }

  /**
   * Releases a batch in one append, or one by one if some changed; returns how many it released.
   */
  private int releaseBatch(List<WorkOrderView> due) {
    List<AppendRequest> requests = new ArrayList<>(due.size());
    for (WorkOrderView view : due) {
      requests.add(release(view));
    }
    try {
      store.appendAll(requests);
      due.forEach(this::released);
      return due.size();
    } catch (ConcurrencyException | InvalidTransitionException raced) {
      // Someone changed at least one of them since the due query: release the rest one by one.
      int done = 0;
      for (int i = 0; i < due.size(); i++) {
        try {
          store.appendAll(List.of(requests.get(i)));
          released(due.get(i));
          done++;
        } catch (ConcurrencyException | InvalidTransitionException taken) {
          LOG.debug("retry of {} was released or cancelled elsewhere", due.get(i).id());
        }
      }
      return done;
    }
  }

  private void released(WorkOrderView waiting) {
    released.increment();
    fire(l -> l.retryReleased(waiting));
  }

  private static AppendRequest release(WorkOrderView view) {
    return AppendRequest.of(
        view.id(), ExpectedVersion.exactly(view.version()), new WorkOrderEvent.RetryReleased());
  }

  /**
   * The earliest retry time of all work orders waiting for a retry, so that a scheduler can sleep
   * exactly until then.
   *
   * @return the time, or empty when none waits
   */
  public Optional<Instant> nextDueTime() {
    return store.nextRetryAt();
  }

  /**
   * Cancels a work order that waits for a retry: appends {@code Cancelled} and tells the listeners.
   *
   * @param id the work order
   * @param reason why, for a person
   * @return true if it was waiting for a retry and is now cancelled; false if it is in another
   *     state
   * @throws IllegalArgumentException if there is no such work order
   * @throws ConcurrencyException if it kept changing while this tried to cancel it
   */
  public boolean cancel(WorkOrderId id, String reason) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(reason, "reason");
    for (int i = 0; ; i++) {
      WorkOrderView view =
          store
              .find(id)
              .orElseThrow(() -> new IllegalArgumentException("no work order " + id.value()));
      if (view.state() != WorkOrderState.WAITING_RETRY) {
        return false;
      }
      try {
        List<RecordedEvent> appended =
            store.append(
                id,
                ExpectedVersion.exactly(view.version()),
                List.of(new WorkOrderEvent.Cancelled(reason)));
        cancelled.increment();
        String recordedReason = ((WorkOrderEvent.Cancelled) appended.get(0).event()).reason();
        fire(l -> l.retryCancelled(view, recordedReason));
        return true;
      } catch (ConcurrencyException changed) {
        if (i + 1 >= CANCEL_ATTEMPTS) {
          throw changed;
        }
      }
    }
  }

  /**
   * The retry schedule and this manager's counts.
   *
   * @return a snapshot
   */
  public RetryStats stats() {
    return new RetryStats(
        store.counts().count(WorkOrderState.WAITING_RETRY),
        store.nextRetryAt(),
        scheduled.sum(),
        released.sum(),
        exhausted.sum(),
        notRetried.sum(),
        cancelled.sum(),
        attemptsReleased.sum(),
        poisoned.sum());
  }

  /**
   * Adds a listener.
   *
   * @param listener the listener
   * @return the registration; closing it removes the listener
   */
  public Subscription addListener(RetryListener listener) {
    Objects.requireNonNull(listener, "listener");
    Entry entry = new Entry(listener);
    listeners.add(entry);
    return () -> {
      entry.close();
      listeners.remove(entry);
    };
  }

  private void fire(Consumer<RetryListener> call) {
    for (Entry entry : listeners) {
      entry.deliver(call);
    }
  }

  /**
   * A registered listener, with identity equality so that the same listener can be added twice.
   * Deliveries and {@link #close()} share its lock, so that once close returns no call reaches the
   * listener (a listener may close its own registration from inside a call).
   */
  private static final class Entry implements RetryListener {
    private final RetryListener delegate;
    private boolean open = true; // guarded by this

    Entry(RetryListener delegate) {
      this.delegate = delegate;
    }

    synchronized void deliver(Consumer<RetryListener> call) {
      if (!open) {
        return;
      }
      try {
        call.accept(this);
      } catch (RuntimeException e) {
        LOG.warn("retry listener {} failed", delegate, e);
      }
    }

    synchronized void close() {
      open = false;
    }

    @Override
    public void retryScheduled(RetryDecision decision) {
      delegate.retryScheduled(decision);
    }

    @Override
    public void retryReleased(WorkOrderView waiting) {
      delegate.retryReleased(waiting);
    }

    @Override
    public void retriesExhausted(RetryDecision decision) {
      delegate.retriesExhausted(decision);
    }

    @Override
    public void failedWithoutRetry(RetryDecision decision) {
      delegate.failedWithoutRetry(decision);
    }

    @Override
    public void retryCancelled(WorkOrderView waiting, String reason) {
      delegate.retryCancelled(waiting, reason);
    }

    @Override
    public void attemptReleased(WorkOrderView released, String code, boolean poisoned) {
      delegate.attemptReleased(released, code, poisoned);
    }

    @Override
    public String toString() {
      return delegate.toString();
    }
  }

  /**
   * Builds a {@link RetryManager}. Setters reject bad values with an {@link
   * IllegalArgumentException} naming the setting. Not thread-safe.
   */
  public static final class Builder {
    private final WorkOrderStore store;
    private RetryPolicy defaultPolicy = RetryPolicy.defaults();
    private final Map<String, RetryPolicy> policies = new HashMap<>();
    private ErrorClassifier classifier = ErrorClassifier.defaults();
    private Clock clock = Clock.systemUTC();
    private RandomGenerator random = new SplittableRandom();
    private int batchSize = DEFAULT_BATCH_SIZE;
    private int maxReleases = DEFAULT_MAX_RELEASES;
    private final List<Entry> listeners = new ArrayList<>();

    private Builder(WorkOrderStore store) {
      this.store = store;
    }

    /**
     * The policy of queues without their own. Default {@link RetryPolicy#defaults()}.
     *
     * @param policy the policy
     * @return this builder
     */
    public Builder defaultPolicy(RetryPolicy policy) {
      this.defaultPolicy = Objects.requireNonNull(policy, "defaultPolicy must not be null");
      return this;
    }

    /**
     * The policy of one queue.
     *
     * @param queue the queue
     * @param policy its policy
     * @return this builder
     */
    public Builder policy(String queue, RetryPolicy policy) {
      Text.requireName(queue, "policy queue");
      policies.put(queue, Objects.requireNonNull(policy, "policy for queue " + queue));
      return this;
    }

    /**
     * The classifier. Default {@link ErrorClassifier#defaults()}.
     *
     * @param classifier the classifier
     * @return this builder
     */
    public Builder classifier(ErrorClassifier classifier) {
      this.classifier = Objects.requireNonNull(classifier, "classifier must not be null");
      return this;
    }

    /**
     * The clock that decisions are made by. Default UTC system clock.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock must not be null");
      return this;
    }

    /**
     * Where jitter draws from. The manager uses it under a lock of its own, so it need not be
     * thread-safe, and nothing else should use it. Default a new {@link SplittableRandom}.
     *
     * @param random the generator
     * @return this builder
     */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random must not be null");
      return this;
    }

    /**
     * How many due retries {@link #releaseDue} releases per store transaction. Default {@link
     * RetryManager#DEFAULT_BATCH_SIZE}.
     *
     * @param size from 1 to 10,000
     * @return this builder
     */
    public Builder batchSize(int size) {
      this.batchSize = requireBatchSize(size, "batchSize");
      return this;
    }

    /**
     * How often a work order may be released before the next release fails it as {@code POISONED}
     * (see {@link RetryManager#recordRelease}). Default {@link RetryManager#DEFAULT_MAX_RELEASES};
     * 0 fails a work order the first time its node stops under it.
     *
     * @param releases from 0 to 1,000
     * @return this builder
     */
    public Builder maxReleases(int releases) {
      this.maxReleases = requireMaxReleases(releases);
      return this;
    }

    /**
     * Adds a listener.
     *
     * @param listener the listener
     * @return this builder
     */
    public Builder listener(RetryListener listener) {
      listeners.add(new Entry(Objects.requireNonNull(listener, "listener must not be null")));
      return this;
    }

    /**
     * Builds the manager.
     *
     * @return the manager
     */
    public RetryManager build() {
      return new RetryManager(this);
    }
  }
}
