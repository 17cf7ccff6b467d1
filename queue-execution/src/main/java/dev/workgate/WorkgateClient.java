package dev.workgate;

import dev.workgate.core.BatchId;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.QueueFullException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkDoesNotFitException;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Cancellations;
import dev.workgate.core.internal.Submissions;
import dev.workgate.core.internal.Text;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.StoreView.NodeStatus;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderQuery.Page;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.scheduler.ResourceConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * The producer side of Workgate: submits, cancels, resubmits and reads work orders in a store that
 * {@link Workgate} nodes elsewhere (other processes, other hosts) run. A web tier, an API or a CLI
 * that only enqueues needs no handler and no node: a client submits any type, and running it is the
 * business of a node that has a handler for it. A {@link Workgate} is a client plus a node ({@link
 * Workgate#client()}).
 *
 * <pre>{@code
 * try (WorkOrderStore store = Stores.sqlite(Path.of("workgate-data/workgate.db"));
 *     WorkgateClient client = WorkgateClient.over(store)) {
 *   WorkOrderId id = client.submit(
 *       WorkOrderSpec.builder("render").payload(request).idempotencyKey(request.id()).build());
 *   WorkOrderView done = client.await(id, Duration.ofMinutes(5)); // if the caller wants to wait
 * }
 * }</pre>
 *
 * <p><b>Submits</b> go through the one submit implementation of Workgate (nodes use it too):
 * idempotency keys (a taken key returns the first work order's id and writes nothing), per-queue
 * depth limits ({@link Builder#maxQueueDepth}), the memory default ({@link
 * Builder#memoryPerSlotMb}), and the fit check against the store's node table: a spec that no node
 * seen within {@link NodeStatus#FORGET_AFTER} could ever run is refused with {@link
 * WorkDoesNotFitException}, but only when the table has such rows; with no known node everything is
 * accepted, since the submitter cannot know which nodes will join. A refused submit writes nothing.
 *
 * <p><b>Thread safety.</b> Thread-safe: every method may be called from any thread. The client
 * starts no threads; {@link #await} waits on the caller's thread. Arguments are never null ({@link
 * NullPointerException} otherwise). After {@link #close()} every method throws {@link
 * IllegalStateException}. Every method throws {@link StoreException} if the store fails, and {@link
 * IllegalStateException} if the store is closed.
 */
public final class WorkgateClient implements AutoCloseable {
  /** The first pause of {@link #await} between two reads: 10 ms, so quick work ends quickly. */
  public static final Duration AWAIT_FIRST_POLL = Duration.ofMillis(10);

  /**
   * The longest pause of {@link #await} between two reads: half a second, so a long wait costs two
   * small reads a second and a finished work order is seen within half a second.
   */
  public static final Duration AWAIT_MAX_POLL = Duration.ofMillis(500);

  /** The idempotency key prefix of {@link #resubmitOnce}. */
  public static final String RESUBMISSION_KEY_PREFIX = "resubmission-of:";

  private final WorkOrderStore store;
  private final Submissions submissions;
  private final boolean ownedByNode;
  private final Clock clock;
  private final AtomicBoolean closed = new AtomicBoolean();

  private WorkgateClient(
      WorkOrderStore store, Submissions submissions, boolean ownedByNode, Clock clock) {
    this.store = store;
    this.submissions = submissions;
    this.ownedByNode = ownedByNode;
    this.clock = clock;
  }

  /**
   * A client over a store with the defaults: the UTC system clock, no depth limits, no memory
   * default.
   *
   * @param store the store the nodes share; the caller keeps it and closes it
   * @return the client
   * @throws NullPointerException if {@code store} is null
   */
  public static WorkgateClient over(WorkOrderStore store) {
    return builder(store).build();
  }

  /**
   * A builder of a client over a store.
   *
   * @param store the store the nodes share; the caller keeps it and closes it
   * @return a new builder
   * @throws NullPointerException if {@code store} is null
   */
  public static Builder builder(WorkOrderStore store) {
    return new Builder(Objects.requireNonNull(store, "store"));
  }

  /** The client of a node: the node's own submit path (its admission and its wake-up). */
  static WorkgateClient ofNode(WorkOrderStore store, Submissions submissions, Clock clock) {
    return new WorkgateClient(store, submissions, true, clock);
  }

  /**
   * Submits a work order of any type.
   *
   * @param spec what to run
   * @return its id, or the id of the work order that holds its idempotency key (nothing is written
   *     then)
   * @throws QueueFullException if its queue is at the maximum depth set on this client; nothing is
   *     written
   * @throws WorkDoesNotFitException if the node table has live rows and no node could ever run it;
   *     nothing is written
   * @throws IllegalStateException if the client is closed, or its idempotency key kept changing
   *     hands under 10 attempts
   */
  public WorkOrderId submit(WorkOrderSpec spec) {
    Objects.requireNonNull(spec, "spec");
    requireOpen();
    return submissions.submit(spec);
  }

  /**
   * Submits many work orders in one atomic append (one transaction on a durable store): all new
   * ones are written or, on an exception, none is. A spec whose idempotency key is taken, or
   * repeats a key earlier in the list, gets the id of the work order holding it.
   *
   * @param specs what to run, in order; may be empty
   * @return their ids, in the order of {@code specs}
   * @throws NullPointerException if {@code specs} is or holds null; nothing is written
   * @throws QueueFullException if the batch would take a queue past its maximum depth; nothing is
   *     written
   * @throws WorkDoesNotFitException if no known node could ever run one of them; nothing is written
   * @throws IllegalStateException as {@link #submit}
   */
  public List<WorkOrderId> submitAll(List<WorkOrderSpec> specs) {
    Objects.requireNonNull(specs, "specs");
    requireOpen();
    return submissions.submitAll(specs);
  }

  /**
   * Cancels a work order: at once if it waits ({@code PENDING}, {@code WAITING_RETRY}, {@code
   * BLOCKED}); if it runs, the request is recorded and the node that owns it stops the work and
   * records {@code Cancelled} at its next lease renewal.
   *
   * @param id the work order
   * @param reason why, for a person; at most 2,000 characters
   * @return false if it had already ended
   * @throws IllegalArgumentException if there is no such work order or the reason is too long
   *     (nothing is recorded then)
   * @throws IllegalStateException if the client is closed, or the work order kept changing under 10
   *     attempts to cancel it
   */
  public boolean cancel(WorkOrderId id, String reason) {
    return requestCancel(id, reason).cancelledOrRequested();
  }

  /**
   * Cancels a work order as {@link #cancel} does, telling what was done.
   *
   * @param id the work order
   * @param reason why, for a person; at most 2,000 characters
   * @return what was done, with the view it was decided on
   * @throws IllegalArgumentException as {@link #cancel}
   * @throws IllegalStateException as {@link #cancel}
   */
  public CancelOutcome requestCancel(WorkOrderId id, String reason) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(reason, "reason");
    requireOpen();
    Cancellations.Outcome outcome = Cancellations.request(store, id, reason);
    return new CancelOutcome(CancelOutcome.Result.valueOf(outcome.result().name()), outcome.view());
  }

  /**
   * What a cancel request did, and the work order as read right before it. Immutable.
   *
   * @param result what was done
   * @param view the view the decision was taken on: before the append, so its state is the one the
   *     work order was cancelled from (for {@link Result#ALREADY_REQUESTED}, its {@code
   *     cancellationRequested()} holds the earlier reason)
   */
  public record CancelOutcome(Result result, WorkOrderView view) {
    /** What a request did. */
    public enum Result {
      /** The work order had ended (completed, failed or cancelled); nothing was appended. */
      ALREADY_ENDED,
      /** It was waiting; {@code Cancelled} was appended and it has ended. */
      CANCELLED,
      /** It was active; {@code CancellationRequested} was appended for its owner node to act on. */
      CANCELLATION_REQUESTED,
      /** It was active and its cancellation had been requested before; nothing was appended. */
      ALREADY_REQUESTED
    }

    /**
     * Checks the parts.
     *
     * @throws NullPointerException if a part is null
     */
    public CancelOutcome {
      Objects.requireNonNull(result, "result");
      Objects.requireNonNull(view, "view");
    }

    /**
     * Whether the work order is cancelled or on its way to be: every result but {@link
     * Result#ALREADY_ENDED}.
     *
     * @return false if it had already ended
     */
    public boolean cancelledOrRequested() {
      return result != Result.ALREADY_ENDED;
    }

    /**
     * The reason the owner node is asked to stop with: the one recorded first.
     *
     * @param requested the reason given to {@link WorkgateClient#requestCancel}
     * @return the earlier reason for {@link Result#ALREADY_REQUESTED}, else {@code requested}
     */
    public String effectiveReason(String requested) {
      return view.cancellationRequested().orElse(requested);
    }
  }

  /**
   * Submits a new work order with the spec of a failed or cancelled one, recording where it came
   * from. The old one is never revived. Its idempotency key is not carried over. Depth limits and
   * the fit check apply as for {@link #submit}.
   *
   * @param failedOrCancelled the ended work order
   * @return the new work order's id
   * @throws IllegalArgumentException if there is no such work order
   * @throws IllegalStateException if it is not {@code FAILED} or {@code CANCELLED}, or the client
   *     is closed
   * @throws QueueFullException if its queue is at its maximum depth; nothing is written
   * @throws WorkDoesNotFitException if no known node could ever run it; nothing is written
   */
  public WorkOrderId resubmit(WorkOrderId failedOrCancelled) {
    Objects.requireNonNull(failedOrCancelled, "failedOrCancelled");
    requireOpen();
    WorkOrderView old = resubmittable(failedOrCancelled);
    WorkOrderSpec spec = old.spec().toBuilder().idempotencyKey(null).build();
    WorkOrderId id =
        submissions.submitTracked(spec, failedOrCancelled, old.batch().orElse(null)).id();
    resubmitDependents(failedOrCancelled);
    return id;
  }

  /**
   * Resubmits, once each, the work orders that were cancelled because this one (or, in turn, one of
   * them) failed: each waits for the newest incarnation of what it waited for, so a chain goes on
   * from the resubmitted work order. Submission order is a topological order (a work order can only
   * wait for one submitted before it), so each is resubmitted after what it waits for. Idempotent:
   * run again after a crash in the middle, it resubmits only what is missing.
   */
  private void resubmitDependents(WorkOrderId resubmitted) {
    Map<WorkOrderId, WorkOrderView> affected = new LinkedHashMap<>();
    java.util.ArrayDeque<WorkOrderId> todo = new java.util.ArrayDeque<>();
    todo.add(resubmitted);
    while (!todo.isEmpty()) {
      for (WorkOrderId d : store.dependents(todo.poll())) {
        if (affected.containsKey(d)) {
          continue;
        }
        Optional<WorkOrderView> v = store.find(d);
        if (v.isPresent()
            && v.get().state() == WorkOrderState.CANCELLED
            && v.get()
                .lastError()
                .map(e -> ErrorCodes.DEPENDENCY_FAILED.equals(e.code()))
                .orElse(false)) {
          affected.put(d, v.get());
          todo.add(d);
        }
      }
    }
    List<WorkOrderView> ordered = new java.util.ArrayList<>(affected.values());
    ordered.sort(
        java.util.Comparator.comparing(WorkOrderView::submittedAt)
            .thenComparing(WorkOrderView::id));
    for (WorkOrderView v : ordered) {
      resubmitOnceAlone(v.id());
    }
  }

  private WorkOrderView resubmittable(WorkOrderId failedOrCancelled) {
    WorkOrderView old =
        store
            .find(failedOrCancelled)
            .orElseThrow(() -> new IllegalArgumentException("no work order " + failedOrCancelled));
    if (old.state() != WorkOrderState.FAILED && old.state() != WorkOrderState.CANCELLED) {
      throw new IllegalStateException(
          "only a FAILED or CANCELLED work order can be resubmitted; "
              + failedOrCancelled
              + " is "
              + old.state());
    }
    return old;
  }

  /**
   * Submits a work order as {@link #submit} does, telling also whether this call wrote it.
   *
   * @param spec what to run
   * @return its id, and false for {@link Submission#created()} if its idempotency key was already
   *     held (nothing is written then)
   * @throws QueueFullException as {@link #submit}
   * @throws WorkDoesNotFitException as {@link #submit}
   * @throws IllegalStateException as {@link #submit}
   */
  public Submission submitTracked(WorkOrderSpec spec) {
    Objects.requireNonNull(spec, "spec");
    requireOpen();
    return Submission.of(submissions.submitTracked(spec, null));
  }

  /**
   * Submits many work orders as {@link #submitAll} does (one atomic append), telling also which
   * were new.
   *
   * @param specs what to run, in order; may be empty
   * @return one submission per spec, in order; a spec that repeats a key held before the call, or
   *     earlier in the list, is not {@link Submission#created() created}
   * @throws NullPointerException if {@code specs} is or holds null; nothing is written
   * @throws QueueFullException as {@link #submitAll}
   * @throws WorkDoesNotFitException as {@link #submitAll}
   * @throws IllegalStateException as {@link #submit}
   */
  public List<Submission> submitAllTracked(List<WorkOrderSpec> specs) {
    Objects.requireNonNull(specs, "specs");
    requireOpen();
    List<Submission> out = new java.util.ArrayList<>(specs.size());
    for (Submissions.Outcome o : submissions.submitAllTracked(specs)) {
      out.add(Submission.of(o));
    }
    return List.copyOf(out);
  }

  /**
   * Resubmits a failed or cancelled work order at most once: the new work order holds the
   * idempotency key {@code resubmission-of:<id>}, so a second call (from this process or any other,
   * at the same moment or later: a retried HTTP request, two operators, a bulk action run twice)
   * gets the first resubmission's id and writes nothing. {@link #resubmit} creates a new work order
   * on every call.
   *
   * @param failedOrCancelled the ended work order
   * @return the resubmission's id, and whether this call created it
   * @throws IllegalArgumentException if there is no such work order
   * @throws IllegalStateException as {@link #resubmit}
   * @throws QueueFullException as {@link #resubmit}
   * @throws WorkDoesNotFitException as {@link #resubmit}
   */
  public Submission resubmitOnce(WorkOrderId failedOrCancelled) {
    Objects.requireNonNull(failedOrCancelled, "failedOrCancelled");
    requireOpen();
    Submission s = resubmitOnceAlone(failedOrCancelled);
    resubmitDependents(failedOrCancelled);
    return s;
  }

  private Submission resubmitOnceAlone(WorkOrderId failedOrCancelled) {
    String key = RESUBMISSION_KEY_PREFIX + failedOrCancelled.value();
    Optional<WorkOrderId> earlier = store.findByIdempotencyKey(key);
    if (earlier.isPresent()) {
      return new Submission(earlier.get(), false);
    }
    WorkOrderView old = resubmittable(failedOrCancelled);
    WorkOrderSpec spec = old.spec().toBuilder().idempotencyKey(key).build();
    return Submission.of(
        submissions.submitTracked(spec, failedOrCancelled, old.batch().orElse(null)));
  }

  /**
   * Submits work orders as one batch, in one atomic append as {@link #submitAll} does: they share a
   * new {@link BatchId}, whose {@link #batch status} tells how far they got, and which a spec can
   * wait for as a whole ({@code WorkOrderSpec.Builder.afterBatch}, a fan-in). A work order later
   * resubmitted from one of them joins the batch in its place.
   *
   * <pre>{@code
   * Batch fanOut = client.submitBatch(repos.stream()
   *     .map(r -> WorkOrderSpec.builder("migrate").payload(r).after(plan).build())
   *     .toList());
   * WorkOrderId report = client.submit(
   *     WorkOrderSpec.builder("report").afterBatch(fanOut.id()).build());
   * }</pre>
   *
   * @param specs what to run, in order; at least one
   * @return the batch's id and the work orders' ids, in the order of {@code specs}
   * @throws IllegalArgumentException if {@code specs} is empty, or a spec waits for a work order or
   *     batch that does not exist; nothing is written
   * @throws QueueFullException as {@link #submitAll}
   * @throws WorkDoesNotFitException as {@link #submitAll}
   * @throws IllegalStateException as {@link #submit}
   */
  public Batch submitBatch(List<WorkOrderSpec> specs) {
    Objects.requireNonNull(specs, "specs");
    if (specs.isEmpty()) {
      throw new IllegalArgumentException("a batch needs at least one spec");
    }
    requireOpen();
    BatchId id = BatchId.random();
    List<WorkOrderId> ids = new java.util.ArrayList<>(specs.size());
    for (Submissions.Outcome o : submissions.submitAllTracked(specs, id)) {
      ids.add(o.id());
    }
    return new Batch(id, List.copyOf(ids));
  }

  /**
   * A batch submitted by {@link #submitBatch}.
   *
   * @param id the batch
   * @param workOrders its work orders, in the order of the specs (a spec whose idempotency key was
   *     held gets the holder's id, which may belong to no batch)
   */
  public record Batch(BatchId id, List<WorkOrderId> workOrders) {
    /** Checks and copies the fields. */
    public Batch {
      Objects.requireNonNull(id, "id");
      workOrders = List.copyOf(workOrders);
    }
  }

  /**
   * Where a batch stands: counts by state over its work orders as it stands (a resubmitted one
   * replaced by its resubmission), and whether it has ended.
   *
   * @param id the batch
   * @return its status
   * @throws IllegalArgumentException if the store holds no work order of the batch
   * @throws IllegalStateException if the client is closed
   */
  public BatchStatus batch(BatchId id) {
    Objects.requireNonNull(id, "id");
    requireOpen();
    BatchStatus status = BatchStatus.read(store, id);
    if (status.submitted() == 0) {
      throw new IllegalArgumentException("no batch " + id);
    }
    return status;
  }

  /**
   * The work orders that wait, or waited, for this one ({@code WorkOrderSpec.Builder.after} or
   * {@code afterBatch}), in submission order.
   *
   * @param id the work order
   * @return their ids; empty when none waits for it
   * @throws IllegalStateException if the client is closed
   */
  public List<WorkOrderId> dependents(WorkOrderId id) {
    Objects.requireNonNull(id, "id");
    requireOpen();
    return store.dependents(id);
  }

  /**
   * Pauses a queue on every node that shares the store: no claim that begins after this returns
   * takes work from it, until {@link #resumeQueue}. Work already running finishes; submits to the
   * queue still succeed (and count toward its depth). Durable: a restart keeps the queue paused.
   * Recorded with who did it and why ({@link #queueActions}).
   *
   * @param queue the queue
   * @param actor who pauses it (an operator's name, a service), not blank
   * @param reason why, may be empty
   * @return true if paused now; false if it already was (nothing is written then)
   * @throws IllegalArgumentException if the queue name breaks the name rule, the actor is blank or
   *     either text is too long
   * @throws IllegalStateException if the client is closed
   */
  public boolean pauseQueue(String queue, String actor, String reason) {
    requireOpen();
    return store.recordQueueAction(
        new QueueAction(queue, QueueAction.Kind.PAUSE, clock.instant(), actor, reason));
  }

  /**
   * Resumes a paused queue: nodes claim from it again (they are woken at once on this node and
   * within their poll interval elsewhere).
   *
   * @param queue the queue
   * @param actor who resumes it, not blank
   * @param reason why, may be empty
   * @return true if resumed now; false if it was not paused (nothing is written then)
   * @throws IllegalArgumentException as {@link #pauseQueue}
   * @throws IllegalStateException if the client is closed
   */
  public boolean resumeQueue(String queue, String actor, String reason) {
    requireOpen();
    return store.recordQueueAction(
        new QueueAction(queue, QueueAction.Kind.RESUME, clock.instant(), actor, reason));
  }

  /**
   * The queues paused now, with who paused each, when and why.
   *
   * @return the pauses in force, by queue name
   * @throws IllegalStateException if the client is closed
   */
  public List<QueueAction> pausedQueues() {
    requireOpen();
    return store.pausedQueues();
  }

  /**
   * The recorded pauses and resumes, newest first.
   *
   * @param queue only this queue's, or null for all
   * @param limit the most to return, at least 1
   * @return the actions
   * @throws IllegalStateException if the client is closed
   */
  public List<QueueAction> queueActions(String queue, int limit) {
    requireOpen();
    return store.queueActions(queue, limit);
  }

  /**
   * What one submit did.
   *
   * @param id the work order's id
   * @param created true if the call wrote it; false if it found the work order that holds the same
   *     idempotency key
   */
  public record Submission(WorkOrderId id, boolean created) {
    /** Checks the id. */
    public Submission {
      Objects.requireNonNull(id, "id");
    }

    static Submission of(Submissions.Outcome o) {
      return new Submission(o.id(), o.created());
    }
  }

  /**
   * A work order's current state.
   *
   * @param id the work order
   * @return its view, empty if unknown
   * @throws IllegalStateException if the client is closed
   */
  public Optional<WorkOrderView> find(WorkOrderId id) {
    Objects.requireNonNull(id, "id");
    requireOpen();
    return store.find(id);
  }

  /**
   * A work order's events, oldest first.
   *
   * @param id the work order
   * @return the events, empty if unknown
   * @throws IllegalStateException if the client is closed
   */
  public List<RecordedEvent> history(WorkOrderId id) {
    Objects.requireNonNull(id, "id");
    requireOpen();
    return store.readStream(id);
  }

  /**
   * Work orders matching a query, in submission order, one page at a time.
   *
   * @param query the query (queue, states, type, limit, cursor)
   * @return a page of views, with the cursor of the next page
   * @throws IllegalStateException if the client is closed
   */
  public Page<WorkOrderView> list(WorkOrderQuery query) {
    Objects.requireNonNull(query, "query");
    requireOpen();
    return store.query(query);
  }

  /**
   * Waits on the caller's thread until a work order ends (on any node).
   *
   * <p>The client has no threads, and the store tells nothing when a work order ends ({@link
   * WorkOrderStore#subscribe} announces only work that became claimable), so this reads the work
   * order, pausing {@link #AWAIT_FIRST_POLL} after the first read and twice as long after each
   * further one, up to {@link #AWAIT_MAX_POLL}. The timeout is measured in real elapsed time
   * ({@link System#nanoTime()}), not by the injected clock: a wait is for work that runs in real
   * time, and a test's fixed clock would never let it end. A host that wants a future runs this on
   * an executor of its own.
   *
   * @param id the work order
   * @param timeout how long to wait, at least 0
   * @return its view in a terminal state
   * @throws TimeoutException if it has not ended in time, or the thread was interrupted (the
   *     interrupt flag is set again then)
   * @throws IllegalArgumentException if there is no such work order, or the timeout is negative
   * @throws IllegalStateException if the client is closed
   */
  public WorkOrderView await(WorkOrderId id, Duration timeout) throws TimeoutException {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative, got " + timeout);
    }
    requireOpen();
    long start = System.nanoTime();
    long budget = saturatedNanos(timeout);
    long pause = AWAIT_FIRST_POLL.toNanos();
    while (true) {
      WorkOrderView view =
          store.find(id).orElseThrow(() -> new IllegalArgumentException("no work order " + id));
      if (view.state().isTerminal()) {
        return view;
      }
      long left = budget - (System.nanoTime() - start);
      if (left <= 0) {
        throw new TimeoutException(
            id + " has not ended within " + Text.duration(timeout) + "; it is " + view.state());
      }
      LockSupport.parkNanos(this, Math.min(pause, left));
      if (Thread.interrupted()) {
        Thread.currentThread().interrupt();
        throw new TimeoutException("interrupted while waiting for " + id);
      }
      requireOpen();
      pause = Math.min(pause * 2, AWAIT_MAX_POLL.toNanos());
    }
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException tooLong) {
      return Long.MAX_VALUE;
    }
  }

  /**
   * The maximum depth of a queue as this client checks it.
   *
   * @param queue the queue
   * @return the limit, empty when none is set
   */
  public Optional<Long> maxQueueDepth(String queue) {
    return submissions.maxQueueDepth(Objects.requireNonNull(queue, "queue"));
  }

  /**
   * The memory per slot this client writes into a spec that declares none.
   *
   * @return MiB per slot; 0 when it writes none
   */
  public long memoryPerSlotMb() {
    return submissions.memoryPerSlotMb();
  }

  /**
   * Closes the client: every later call throws {@link IllegalStateException}. Does not close the
   * store it was handed. Idempotent. The client of a {@link Workgate} ({@link Workgate#client()})
   * is the node's: closing it does nothing, it ends with the node.
   */
  @Override
  public void close() {
    if (!ownedByNode) {
      closed.set(true);
    }
  }

  private void requireOpen() {
    if (closed.get()) {
      throw new IllegalStateException("the WorkgateClient is closed");
    }
  }

  /**
   * Builds a {@link WorkgateClient}. Each setter refuses a bad value at once, naming the setting
   * and the value. Not thread-safe.
   */
  public static final class Builder {
    private final WorkOrderStore store;
    private Clock clock = Clock.systemUTC();
    private final Map<String, Long> maxQueueDepth = new LinkedHashMap<>();
    private long memoryPerSlotMb = ResourceConfig.DEFAULT_MEMORY_PER_SLOT_MB;

    private Builder(WorkOrderStore store) {
      this.store = store;
    }

    /**
     * The clock by which node rows' ages are measured for the fit check (a row counts for {@link
     * NodeStatus#FORGET_AFTER} after its heartbeat). Default the UTC system clock. {@link
     * WorkgateClient#await} measures its timeout in real time whatever this is.
     *
     * @param clock the clock
     * @return this builder
     * @throws NullPointerException if {@code clock} is null
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The most work orders ({@code PENDING}, {@code WAITING_RETRY} and {@code BLOCKED}) that may
     * wait in a queue before submits through this client are refused with {@link
     * QueueFullException}. Submits through this client are checked one at a time; other clients and
     * nodes submitting at the same moment can exceed it by the number of their concurrent submits.
     * Default: no limit.
     *
     * @param queue the queue
     * @param limit at least 1
     * @return this builder
     * @throws IllegalArgumentException if the queue name is not valid, the limit is below 1, or
     *     another limit was set for the queue already (naming both)
     */
    public Builder maxQueueDepth(String queue, long limit) {
      Text.requireName(queue, "maxQueueDepth queue");
      if (limit < 1) {
        throw new IllegalArgumentException(
            "maxQueueDepth for " + queue + " must be at least 1, got " + limit);
      }
      Long earlier = maxQueueDepth.putIfAbsent(queue, limit);
      if (earlier != null && earlier != limit) {
        throw new IllegalArgumentException(
            "maxQueueDepth for " + queue + " was set to " + earlier + " already, got " + limit);
      }
      return this;
    }

    /**
     * The memory per slot written into a spec that declares no memory, as {@code memoryPerSlotMb ×
     * slots}: set it to the {@code memoryPerSlotMb} of the nodes, so that the client writes the
     * figure a node would write ({@link dev.workgate.core.ResourceRequest#withMemoryDefault}) and
     * every node admits the work order by the same number. Default 0: a spec without memory is
     * written as it is, declaring none, and each node that claims it reserves its own {@code
     * memoryPerSlotMb × slots}; the fit check then looks at slots alone.
     *
     * @param mb MiB per slot, 0 to {@link ResourceConfig#MEMORY_LIMIT_MB}
     * @return this builder
     * @throws IllegalArgumentException if {@code mb} is out of range
     */
    public Builder memoryPerSlotMb(long mb) {
      if (mb < 0 || mb > ResourceConfig.MEMORY_LIMIT_MB) {
        throw new IllegalArgumentException(
            "memoryPerSlotMb must be between 0 and "
                + ResourceConfig.MEMORY_LIMIT_MB
                + " MiB, got "
                + mb);
      }
      this.memoryPerSlotMb = mb;
      return this;
    }

    /**
     * Builds the client.
     *
     * @return the client
     */
    public WorkgateClient build() {
      Map<String, Long> limits = Map.copyOf(maxQueueDepth);
      return new WorkgateClient(
          store,
          Submissions.builder(store)
              .clock(clock)
              .depthLimits(queue -> Optional.ofNullable(limits.get(queue)))
              .memoryPerSlotMb(memoryPerSlotMb)
              .build(),
          false,
          clock);
    }
  }
}
