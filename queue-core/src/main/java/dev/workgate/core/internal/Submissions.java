package dev.workgate.core.internal;

import dev.workgate.core.BatchId;
import dev.workgate.core.IdempotencyKeyConflictException;
import dev.workgate.core.QueueFullException;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkDoesNotFitException;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.StoreView.NodeStatus;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Submitting work orders with store appends alone: the one implementation of submit that a
 * producer-only client ({@code WorkgateClient}), a node ({@code Workgate} and its scheduler), the
 * admin CLI and the HTTP endpoint all go through. The sibling of {@link Cancellations}.
 *
 * <p>A submit, for each spec in turn:
 *
 * <ol>
 *   <li><b>idempotency</b>: a spec whose idempotency key a live work order holds gets that work
 *       order's id and writes nothing; the same key twice in one batch gets one work order;
 *   <li><b>memory default</b>: a spec that declares no memory gets {@code memoryPerSlotMb × slots}
 *       written into it ({@link ResourceRequest#withMemoryDefault}), so every node admits it by the
 *       same figure; with no default (0) it is written as it is and each node reserves its own
 *       per-slot memory when it claims it;
 *   <li><b>admission</b>: the spec so completed is handed to the admission check, by default {@link
 *       #nodeTableCheck}: refused with {@link WorkDoesNotFitException} when the node table has live
 *       rows and none could ever run it;
 * </ol>
 *
 * then the maximum depths of the queues written to are checked and all new work orders are appended
 * in one atomic {@link WorkOrderStore#appendAll}. If another writer takes an idempotency key
 * between the lookup and the append, nothing is written and the whole submit runs again, up to
 * {@value #MAX_ATTEMPTS} times. Every check runs before the append: a refused submit writes
 * nothing.
 *
 * <p><b>Queue depth.</b> The depth of a queue is its {@code PENDING}, {@code BLOCKED} and {@code
 * WAITING_RETRY} work orders. Depth checks and appends through one instance are serialized, so one
 * instance never takes a queue past its limit; other writers at the same moment (other instances,
 * other processes) can exceed it by the number of their concurrent submits.
 *
 * <p>Thread-safe as far as the store is; holds no threads.
 */
public final class Submissions {
  /**
   * A submit is tried at most ten times: each retry follows another writer taking one of its
   * idempotency keys in the moment between the lookup and the append, and the retry finds that key
   * taken, so ten lost races in a row mean keys are being purged and taken again in a loop.
   */
  public static final int MAX_ATTEMPTS = 10;

  /**
   * How long {@link #nodeTableCheck} trusts node rows it read, when they let a spec in: ten
   * seconds, so that a busy producer reads the node table a few times a minute rather than on every
   * submit. A refusal always reads the table afresh.
   */
  public static final Duration NODE_ROWS_MAX_AGE = Duration.ofSeconds(10);

  private final WorkOrderStore store;
  private final Supplier<WorkOrderId> ids;
  private final Function<String, Optional<Long>> depthLimits;
  private final long memoryPerSlotMb;
  private final Consumer<WorkOrderSpec> admission;
  private final Consumer<Set<String>> afterSubmit;
  private final Object depthLock = new Object();

  private Submissions(Builder b) {
    this.store = b.store;
    this.ids = b.ids;
    this.depthLimits = b.depthLimits;
    this.memoryPerSlotMb = b.memoryPerSlotMb;
    this.admission = b.admission != null ? b.admission : nodeTableCheck(b.store, b.clock);
    this.afterSubmit = b.afterSubmit;
  }

  /**
   * A builder of submissions over a store: no depth limits, no memory default, the node-table
   * admission check with the UTC system clock, random ids.
   *
   * @param store the store to append to
   * @return a new builder
   * @throws NullPointerException if {@code store} is null
   */
  public static Builder builder(WorkOrderStore store) {
    return new Builder(Objects.requireNonNull(store, "store"));
  }

  /**
   * The admission check of a submitter that is not a node: refuses a spec, with {@link
   * WorkDoesNotFitException}, when the store's node table has rows seen within {@link
   * NodeStatus#FORGET_AFTER} and not one of them could ever run it ({@link
   * NodeStatus#couldEverRun}). With no such row it lets everything in: the submitter cannot know
   * what nodes will join. Rows that let a spec in are reused for {@link #NODE_ROWS_MAX_AGE}.
   *
   * @param store the store whose node table is read
   * @param clock the clock the rows' ages are measured by
   * @return the check; thread-safe
   */
  public static Consumer<WorkOrderSpec> nodeTableCheck(WorkOrderStore store, Clock clock) {
    return new NodeTableCheck(
        Objects.requireNonNull(store, "store"), Objects.requireNonNull(clock, "clock"));
  }

  /**
   * The maximum depth of a queue.
   *
   * @param queue the queue
   * @return the limit, or empty when the queue has none
   */
  public Optional<Long> maxQueueDepth(String queue) {
    return depthLimits.apply(queue);
  }

  /**
   * The memory per slot written into specs that declare none.
   *
   * @return MiB per slot; 0 when no default is written
   */
  public long memoryPerSlotMb() {
    return memoryPerSlotMb;
  }

  /**
   * Submits one work order; see the class description.
   *
   * @param spec what to run
   * @return its id, or the id of the work order that holds its idempotency key
   * @throws NullPointerException if {@code spec} is null
   * @throws QueueFullException if its queue is at its maximum depth; nothing is written
   * @throws WorkDoesNotFitException if the admission check refuses it; nothing is written
   * @throws IllegalStateException if its idempotency key was taken and freed under each of {@value
   *     #MAX_ATTEMPTS} attempts
   * @throws StoreException if the store fails
   */
  public WorkOrderId submit(WorkOrderSpec spec) {
    return submit(spec, null);
  }

  /**
   * Submits one work order that replaces a failed or cancelled one, recording where it came from;
   * otherwise as {@link #submit(WorkOrderSpec)}.
   *
   * @param spec what to run
   * @param resubmittedFrom the work order it replaces, or null for a new one
   * @return its id
   * @throws NullPointerException if {@code spec} is null
   * @throws QueueFullException if its queue is at its maximum depth; nothing is written
   * @throws WorkDoesNotFitException if the admission check refuses it; nothing is written
   * @throws IllegalStateException as {@link #submit(WorkOrderSpec)}
   * @throws StoreException if the store fails
   */
  public WorkOrderId submit(WorkOrderSpec spec, WorkOrderId resubmittedFrom) {
    Objects.requireNonNull(spec, "spec");
    return write(List.of(spec), resubmittedFrom, null).get(0).id();
  }

  /**
   * As {@link #submit(WorkOrderSpec, WorkOrderId)}, telling also whether this call wrote the work
   * order or found its idempotency key held.
   *
   * @param spec what to run
   * @param resubmittedFrom the work order it replaces, or null for a new one
   * @return its id, and whether it is new
   * @throws NullPointerException if {@code spec} is null
   * @throws QueueFullException as {@link #submit(WorkOrderSpec, WorkOrderId)}
   * @throws WorkDoesNotFitException as {@link #submit(WorkOrderSpec, WorkOrderId)}
   * @throws IllegalStateException as {@link #submit(WorkOrderSpec)}
   * @throws StoreException if the store fails
   */
  public Outcome submitTracked(WorkOrderSpec spec, WorkOrderId resubmittedFrom) {
    return submitTracked(spec, resubmittedFrom, null);
  }

  /**
   * As {@link #submitTracked(WorkOrderSpec, WorkOrderId)}, into a batch.
   *
   * @param spec what to run
   * @param resubmittedFrom the work order it replaces, or null for a new one
   * @param batch the batch it joins, or null for none
   * @return its id, and whether it is new
   */
  public Outcome submitTracked(WorkOrderSpec spec, WorkOrderId resubmittedFrom, BatchId batch) {
    Objects.requireNonNull(spec, "spec");
    return write(List.of(spec), resubmittedFrom, batch).get(0);
  }

  /**
   * As {@link #submitAllTracked(List)}, every new work order in the given batch.
   *
   * @param specs what to run, in order; may be empty
   * @param batch the batch
   * @return one outcome per spec, in order
   */
  public List<Outcome> submitAllTracked(List<WorkOrderSpec> specs, BatchId batch) {
    Objects.requireNonNull(specs, "specs");
    Objects.requireNonNull(batch, "batch");
    for (WorkOrderSpec spec : specs) {
      Objects.requireNonNull(spec, "specs holds a null spec");
    }
    return specs.isEmpty() ? List.of() : write(List.copyOf(specs), null, batch);
  }

  /**
   * As {@link #submitAll}, telling also, for each spec, whether this call wrote its work order.
   *
   * @param specs what to run, in order; may be empty
   * @return one outcome per spec, in the order of {@code specs}; a spec that repeats an idempotency
   *     key earlier in the list is not new
   * @throws NullPointerException if {@code specs} is or holds null; nothing is written
   * @throws QueueFullException as {@link #submitAll}
   * @throws WorkDoesNotFitException as {@link #submitAll}
   * @throws IllegalStateException as {@link #submit(WorkOrderSpec)}
   * @throws StoreException if the store fails
   */
  public List<Outcome> submitAllTracked(List<WorkOrderSpec> specs) {
    Objects.requireNonNull(specs, "specs");
    for (WorkOrderSpec spec : specs) {
      Objects.requireNonNull(spec, "specs holds a null spec");
    }
    return specs.isEmpty() ? List.of() : write(List.copyOf(specs), null, null);
  }

  /**
   * What one submitted spec became.
   *
   * @param id the work order's id
   * @param created true if this submit wrote it; false if its idempotency key was already held (by
   *     an earlier work order, or by a spec earlier in the same batch)
   */
  public record Outcome(WorkOrderId id, boolean created) {
    /** Checks the id. */
    public Outcome {
      Objects.requireNonNull(id, "id");
    }
  }

  /**
   * Submits many work orders in one atomic append: all new ones are written or, on an exception,
   * none is. Specs whose idempotency key is taken, or repeats one earlier in the batch, get the id
   * of the work order holding it. Depth limits are checked for the whole batch.
   *
   * @param specs what to run, in order; may be empty
   * @return the ids, in the order of {@code specs}
   * @throws NullPointerException if {@code specs} is or holds null; nothing is written
   * @throws QueueFullException if the batch would take a queue past its maximum depth; nothing is
   *     written
   * @throws WorkDoesNotFitException if the admission check refuses a spec; nothing is written
   * @throws IllegalStateException as {@link #submit(WorkOrderSpec)}
   * @throws StoreException if the store fails
   */
  public List<WorkOrderId> submitAll(List<WorkOrderSpec> specs) {
    Objects.requireNonNull(specs, "specs");
    for (WorkOrderSpec spec : specs) {
      Objects.requireNonNull(spec, "specs holds a null spec");
    }
    if (specs.isEmpty()) {
      return List.of();
    }
    List<Outcome> written = write(List.copyOf(specs), null, null);
    List<WorkOrderId> ids = new ArrayList<>(written.size());
    for (Outcome w : written) {
      ids.add(w.id());
    }
    return List.copyOf(ids);
  }

  private List<Outcome> write(
      List<WorkOrderSpec> specs, WorkOrderId resubmittedFrom, BatchId batch) {
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      int n = specs.size();
      WorkOrderId[] out = new WorkOrderId[n];
      int[] sameAs = new int[n];
      boolean[] created = new boolean[n];
      Arrays.fill(sameAs, -1);
      Map<String, Integer> firstWithKey = new HashMap<>();
      List<AppendRequest> requests = new ArrayList<>(n);
      Map<String, Long> adding = new LinkedHashMap<>();
      for (int i = 0; i < n; i++) {
        WorkOrderSpec spec = specs.get(i);
        Optional<String> key = spec.idempotencyKey();
        if (key.isPresent()) {
          Integer first = firstWithKey.putIfAbsent(key.get(), i);
          if (first != null) {
            sameAs[i] = first;
            continue;
          }
          Optional<WorkOrderId> existing = store.findByIdempotencyKey(key.get());
          if (existing.isPresent()) {
            out[i] = existing.get();
            continue;
          }
        }
        WorkOrderSpec effective = withMemoryDefault(spec);
        admission.accept(effective);
        WorkOrderId id = Objects.requireNonNull(ids.get(), "the id supplier returned null");
        out[i] = id;
        created[i] = true;
        requests.add(
            new AppendRequest(
                id, ExpectedVersion.none(), submitEvents(effective, resubmittedFrom, batch)));
        adding.merge(spec.queue(), 1L, Long::sum);
      }
      for (int i = 0; i < n; i++) {
        if (sameAs[i] >= 0) {
          out[i] = out[sameAs[i]];
        }
      }
      if (!requests.isEmpty()) {
        try {
          append(requests, adding);
        } catch (IdempotencyKeyConflictException taken) {
          continue; // another writer took a key since the lookup: look again
        }
        afterSubmit.accept(adding.keySet());
      }
      List<Outcome> result = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        result.add(new Outcome(out[i], created[i]));
      }
      return List.copyOf(result);
    }
    throw new IllegalStateException(
        "the idempotency keys of a submit kept changing hands under "
            + MAX_ATTEMPTS
            + " attempts; nothing was written");
  }

  /**
   * The events that submit a spec: Submitted, and when it names dependencies that have all ended
   * already (or one failed under the cancel policy), the decision at once, so that it does not wait
   * for a node's next look.
   */
  private List<WorkOrderEvent> submitEvents(
      WorkOrderSpec spec, WorkOrderId resubmittedFrom, BatchId batch) {
    if (!spec.hasDependencies()) {
      return List.of(new WorkOrderEvent.Submitted(spec, resubmittedFrom, batch, List.of()));
    }
    List<WorkOrderView> deps = Dependencies.resolve(store, spec);
    List<WorkOrderId> ids = new ArrayList<>(deps.size());
    Map<WorkOrderId, Optional<WorkOrderView>> read = new LinkedHashMap<>();
    for (WorkOrderView v : deps) {
      ids.add(v.id());
      read.put(v.id(), Optional.of(v));
    }
    WorkOrderEvent.Submitted submitted =
        new WorkOrderEvent.Submitted(spec, resubmittedFrom, batch, ids);
    Optional<WorkOrderEvent> decided = Dependencies.decide(spec, read);
    return decided.isPresent() ? List.of(submitted, decided.get()) : List.of(submitted);
  }

  private void append(List<AppendRequest> requests, Map<String, Long> adding) {
    boolean limited = false;
    for (String queue : adding.keySet()) {
      limited |= depthLimits.apply(queue).isPresent();
    }
    if (!limited) {
      store.appendAll(requests);
      return;
    }
    synchronized (depthLock) {
      QueueCounts counts = store.counts();
      for (Map.Entry<String, Long> e : adding.entrySet()) {
        Optional<Long> limit = depthLimits.apply(e.getKey());
        if (limit.isPresent()) {
          long depth = counts.depth(e.getKey());
          if (depth + e.getValue() > limit.get()) {
            throw new QueueFullException(e.getKey(), depth, limit.get());
          }
        }
      }
      store.appendAll(requests);
    }
  }

  private WorkOrderSpec withMemoryDefault(WorkOrderSpec spec) {
    ResourceRequest declared = spec.resources().orElse(ResourceRequest.DEFAULT);
    ResourceRequest effective = declared.withMemoryDefault(memoryPerSlotMb);
    return effective.equals(declared) ? spec : spec.toBuilder().resources(effective).build();
  }

  /** Builds {@link Submissions}. Not thread-safe. */
  public static final class Builder {
    private final WorkOrderStore store;
    private Clock clock = Clock.systemUTC();
    private Supplier<WorkOrderId> ids = WorkOrderId::random;
    private Function<String, Optional<Long>> depthLimits = queue -> Optional.empty();
    private long memoryPerSlotMb;
    private Consumer<WorkOrderSpec> admission;
    private Consumer<Set<String>> afterSubmit = queues -> {};

    private Builder(WorkOrderStore store) {
      this.store = store;
    }

    /**
     * The clock the default admission check measures node rows' ages by. Default UTC system clock.
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
     * Makes the ids of new work orders. Default {@link WorkOrderId#random()}.
     *
     * @param ids the id source; must not return null
     * @return this builder
     * @throws NullPointerException if {@code ids} is null
     */
    public Builder ids(Supplier<WorkOrderId> ids) {
      this.ids = Objects.requireNonNull(ids, "ids");
      return this;
    }

    /**
     * The maximum depth of each queue. Default: no queue has one.
     *
     * @param limits queue → its limit (at least 1), or empty for none
     * @return this builder
     * @throws NullPointerException if {@code limits} is null
     */
    public Builder depthLimits(Function<String, Optional<Long>> limits) {
      this.depthLimits = Objects.requireNonNull(limits, "depthLimits");
      return this;
    }

    /**
     * The memory per slot written into a spec that declares none. Default 0: none is written.
     *
     * @param mb MiB per slot, at least 0
     * @return this builder
     * @throws IllegalArgumentException if {@code mb} is negative
     */
    public Builder memoryPerSlotMb(long mb) {
      if (mb < 0) {
        throw new IllegalArgumentException("memoryPerSlotMb must not be negative, got " + mb);
      }
      this.memoryPerSlotMb = mb;
      return this;
    }

    /**
     * The check each new spec (memory default applied) passes before anything is written; it
     * refuses by throwing, typically {@link WorkDoesNotFitException}. Default {@link
     * #nodeTableCheck} with this builder's clock.
     *
     * @param admission the check
     * @return this builder
     * @throws NullPointerException if {@code admission} is null
     */
    public Builder admission(Consumer<WorkOrderSpec> admission) {
      this.admission = Objects.requireNonNull(admission, "admission");
      return this;
    }

    /**
     * Told, after each append of new work orders, the queues written to: a node wakes its loop
     * there. Default: nothing. It must not throw.
     *
     * @param afterSubmit the callback
     * @return this builder
     * @throws NullPointerException if {@code afterSubmit} is null
     */
    public Builder afterSubmit(Consumer<Set<String>> afterSubmit) {
      this.afterSubmit = Objects.requireNonNull(afterSubmit, "afterSubmit");
      return this;
    }

    /**
     * Builds the submissions.
     *
     * @return the submissions
     */
    public Submissions build() {
      return new Submissions(this);
    }
  }

  /** {@link #nodeTableCheck}: the node rows read last, reused while they let work in. */
  private static final class NodeTableCheck implements Consumer<WorkOrderSpec> {
    private final WorkOrderStore store;
    private final Clock clock;
    private volatile List<NodeStatus> rows; // null until read
    private volatile Instant readAt;

    NodeTableCheck(WorkOrderStore store, Clock clock) {
      this.store = store;
      this.clock = clock;
    }

    @Override
    public void accept(WorkOrderSpec spec) {
      ResourceRequest request = spec.resources().orElse(ResourceRequest.DEFAULT);
      Instant now = clock.instant();
      List<NodeStatus> cached = rows;
      Instant at = readAt;
      if (cached != null
          && !now.isAfter(at.plus(NODE_ROWS_MAX_AGE))
          && !now.isBefore(at)
          && admits(cached, request, now)) {
        return;
      }
      List<NodeStatus> fresh = store.nodes();
      readAt = now;
      rows = fresh;
      if (admits(fresh, request, now)) {
        return;
      }
      NodeStatus largest = null;
      for (NodeStatus node : recent(fresh, now)) {
        if (largest == null || node.slots() > largest.slots()) {
          largest = node;
        }
      }
      throw new WorkDoesNotFitException(
          spec.queue(),
          request,
          "the most slots: node "
              + largest.id()
              + " with "
              + largest.slots()
              + " slot(s), "
              + (largest.memoryMb() == 0
                  ? "memory not limited"
                  : "at most " + largest.memoryMb() + " MB per work order"));
    }

    private static boolean admits(List<NodeStatus> rows, ResourceRequest request, Instant now) {
      List<NodeStatus> recent = recent(rows, now);
      return recent.isEmpty() || recent.stream().anyMatch(n -> n.couldEverRun(request));
    }

    private static List<NodeStatus> recent(List<NodeStatus> rows, Instant now) {
      Instant since = now.minus(NodeStatus.FORGET_AFTER);
      return rows.stream().filter(n -> !n.lastHeartbeat().isBefore(since)).toList();
    }
  }
}
