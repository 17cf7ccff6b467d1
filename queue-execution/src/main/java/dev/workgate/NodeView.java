package dev.workgate;

import dev.workgate.core.Progress;
import dev.workgate.core.WorkOrderId;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.scheduler.ResourceHealthReport;
import dev.workgate.scheduler.ResourceHealthReport.PressureLevel;
import dev.workgate.scheduler.SchedulerStats.UnrunnableWork;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a host, metrics and health checks read of one running node: its slots and memory pressure,
 * the loop's heartbeat, the executions it runs, what it claimed, reaped and fenced, and the
 * effective settings the node runs with. Obtained from {@link Workgate#node()}.
 *
 * <p><b>Live and read-only.</b> A {@code NodeView} is not a snapshot: every call reads the node's
 * current value, so two calls may see two moments (read {@link #resources()} for slots, reserved
 * memory and pressure taken together). It has no method that changes the node, and none reads the
 * store: each answers from the node's memory at once, even while the store hangs, which is what a
 * liveness check and a metrics scrape need. Counts ({@code ...Count()}) only rise over the node's
 * life. Lists returned are immutable copies.
 *
 * <p>What is kept in the store and not in the node is not here: which queues are paused (every node
 * shares the pauses; read them with {@link Workgate#stats()}, whose {@link QueueStats#paused()}
 * comes from the store, or {@link WorkgateClient#pausedQueues()}), and how many work orders are
 * {@code BLOCKED} (the counts of {@link QueueStats}). The progress running work reported is here,
 * per execution ({@link ActiveExecution#progress()}), before the store has it.
 *
 * <p><b>Thread safety.</b> Safe to call from any thread, at any time, before {@link
 * Workgate#start()} and after {@link Workgate#close()} (a closed node reports its last values). No
 * method returns null or throws.
 */
public interface NodeView {

  /**
   * The node's id: the owner name on its leases and its row in the node table.
   *
   * @return the id
   */
  String nodeId();

  /**
   * The slot limit without memory pressure ({@link ResourceConfig#maxConcurrent()}).
   *
   * @return the slots
   */
  int maxSlots();

  /**
   * Slots held now by this node's attempts (and by abandoned handlers that still run).
   *
   * @return the slots in use
   */
  int slotsInUse();

  /**
   * Memory reserved now by the attempts holding slots, MiB.
   *
   * @return the reserved memory
   */
  long reservedMemoryMb();

  /**
   * The memory pressure level as last read.
   *
   * @return the level
   */
  PressureLevel pressure();

  /**
   * The node's resources taken together at one moment: the last memory reading (when and from
   * where), the pressure, slots in use and reserved memory.
   *
   * @return an immutable report
   */
  ResourceHealthReport resources();

  /**
   * When the scheduler loop last began a turn.
   *
   * @return the time by the node's clock; empty before the first turn
   */
  Optional<Instant> lastHeartbeat();

  /**
   * Whether the scheduler loop runs.
   *
   * @return true between {@link Workgate#start()} and its shutdown
   */
  boolean isRunning();

  /**
   * Whether the node still claims new work: false once {@link Workgate#shutdown} began draining.
   *
   * @return whether the node claims
   */
  boolean isClaiming();

  /**
   * Work orders this node holds a lease on now, from their claim until their attempt's outcome is
   * recorded.
   *
   * @return the count
   */
  int heldWorkOrders();

  /**
   * The executions this node runs now (preparing, running or cleaning up).
   *
   * @return an immutable list
   */
  List<ActiveExecution> activeExecutions();

  /**
   * In-process handlers that ignored being stopped and still run, holding their slots.
   *
   * @return an immutable list
   */
  List<AbandonedHandler> abandonedHandlers();

  /**
   * Sandbox creations given up (timed out, cancelled, shut down) that have not returned yet.
   *
   * @return an immutable list
   */
  List<AbandonedCreation> abandonedCreations();

  /**
   * Work orders this node claimed since it was built.
   *
   * @return the count
   */
  long claimedCount();

  /**
   * Expired leases (of any node) this node reaped since it was built.
   *
   * @return the count
   */
  long reapedCount();

  /**
   * Attempts this node stopped itself because it could not renew their leases in time.
   *
   * @return the count
   */
  long selfFencedCount();

  /**
   * Steps of the scheduler's turns that failed (and were logged) since the node was built.
   *
   * @return the count
   */
  long stepFailureCount();

  /**
   * Turns the scheduler began since the node was built.
   *
   * @return the count
   */
  long turnCount();

  /**
   * Pending work no live node can run, as the last heartbeat found it.
   *
   * @return the finding; {@link UnrunnableWork#NONE} before the first heartbeat
   */
  UnrunnableWork unrunnableWork();

  /**
   * The queues the node claims from, in the order its loop visits them.
   *
   * @return an immutable list, never empty
   */
  List<String> queues();

  /**
   * How long the node's loop sleeps between turns when nothing wakes it.
   *
   * @return the poll interval
   */
  Duration pollInterval();

  /**
   * The slot and memory settings the node runs with.
   *
   * @return the immutable configuration
   */
  ResourceConfig resourceConfig();

  /**
   * How long a killed attempt may take to end before it is killed forcibly.
   *
   * @return the kill grace
   */
  Duration killGrace();

  /**
   * How long work whose lease could not be renewed has to stop: half the self-fence margin.
   *
   * @return the grace
   */
  Duration leaseLostGrace();

  /**
   * The timeout of work orders that declare none.
   *
   * @return the timeout
   */
  Duration defaultTimeout();

  /**
   * How long creating a sandbox may take.
   *
   * @return the timeout
   */
  Duration sandboxCreationTimeout();

  /**
   * How long an abandoned in-process handler keeps its slots at most.
   *
   * @return the cap
   */
  Duration abandonedHandlerSlotCap();

  /**
   * The retry policy the node applies to a queue's work orders: the queue's own, or the default.
   *
   * @param queue the queue
   * @return the policy
   * @throws NullPointerException if {@code queue} is null
   */
  RetryPolicy retryPolicy(String queue);

  /** What an execution is doing: the status of an {@link ActiveExecution}. */
  enum ExecutionStatus {
    /** Creating the sandbox. */
    PREPARING,
    /** The work runs. */
    RUNNING,
    /** Recording the outcome and destroying the sandbox. */
    CLEANUP
  }

  /**
   * A snapshot of one execution.
   *
   * @param workOrderId the work order
   * @param attempt its attempt
   * @param queue its queue
   * @param sandboxId the sandbox, empty while it is being created
   * @param slotsHeld the slots reserved for it
   * @param memoryMbHeld the memory reserved for it
   * @param claimedAt when the node claimed it
   * @param startedAt when the work started running, empty before
   * @param status what it is doing
   * @param timeout how long it may run once started (its own timeout or the manager's default);
   *     past it the work is stopped, and killed {@link #killGrace()} later
   * @param progress what the attempt last reported through {@code WorkContext.progress} (or a
   *     process sandbox's report file), as this node holds it: at once, before the next lease
   *     renewal writes it to the store; empty while it has reported none
   */
  record ActiveExecution(
      WorkOrderId workOrderId,
      int attempt,
      String queue,
      Optional<String> sandboxId,
      int slotsHeld,
      long memoryMbHeld,
      Instant claimedAt,
      Optional<Instant> startedAt,
      ExecutionStatus status,
      Duration timeout,
      Optional<Progress> progress) {

    /**
     * Checks the progress.
     *
     * @throws NullPointerException if {@code progress} is null
     */
    public ActiveExecution {
      Objects.requireNonNull(progress, "progress");
    }

    /**
     * An execution that has reported no progress.
     *
     * @param workOrderId the work order
     * @param attempt its attempt
     * @param queue its queue
     * @param sandboxId the sandbox, empty while it is being created
     * @param slotsHeld the slots reserved for it
     * @param memoryMbHeld the memory reserved for it
     * @param claimedAt when the node claimed it
     * @param startedAt when the work started running, empty before
     * @param status what it is doing
     * @param timeout how long it may run once started
     */
    public ActiveExecution(
        WorkOrderId workOrderId,
        int attempt,
        String queue,
        Optional<String> sandboxId,
        int slotsHeld,
        long memoryMbHeld,
        Instant claimedAt,
        Optional<Instant> startedAt,
        ExecutionStatus status,
        Duration timeout) {
      this(
          workOrderId,
          attempt,
          queue,
          sandboxId,
          slotsHeld,
          memoryMbHeld,
          claimedAt,
          startedAt,
          status,
          timeout,
          Optional.empty());
    }
  }

  /**
   * Work whose sandbox gave up on it after the kill grace (an in-process handler that ignored its
   * cancellation and interrupt) and whose thread still runs. Its outcome is recorded; its slots and
   * memory stay reserved until the work really stops, or until {@link #abandonedHandlerSlotCap()}
   * has passed. Immutable.
   *
   * @param workOrderId the work order
   * @param attempt the attempt that was abandoned
   * @param queue its queue
   * @param abandonedAt when the execution gave up on it
   * @param slotsHeld the slots it still holds
   * @param memoryMbHeld the memory it still holds
   */
  record AbandonedHandler(
      WorkOrderId workOrderId,
      int attempt,
      String queue,
      Instant abandonedAt,
      int slotsHeld,
      long memoryMbHeld) {}

  /**
   * A sandbox creation given up while the provider's create call still runs. Immutable.
   *
   * @param workOrderId the work order
   * @param attempt the attempt the sandbox was for
   * @param queue its queue
   * @param abandonedAt when the creation was given up
   */
  record AbandonedCreation(
      WorkOrderId workOrderId, int attempt, String queue, Instant abandonedAt) {}

  /**
   * How this node's writes to the store fare: appends (submits, starts, outcomes, cancellations,
   * retry releases), claims, lease renewals and retention deletes. A write that changed something
   * counts as a success and ends a run of failures; a write that failed because the store failed
   * (not a refusal such as a version conflict or a rejected transition, which means the store
   * answered) counts as a failure, classified by {@link WriteFailureCause}. A write that found
   * nothing to change (a claim with no work, a renewal of a lease already lost) counts as neither.
   *
   * <p>Read from the node's memory, never from the store: it answers while the store hangs.
   * Immutable and thread-safe.
   *
   * @param consecutiveFailures failed writes since the last successful one; 0 when the last write
   *     that changed something succeeded
   * @param totalFailures failed writes since the node was built
   * @param failuresByCause failed writes since the node was built, by cause; every cause present
   * @param lastFailure the most recent failed write, if any
   * @param lastSuccessAt when a write last succeeded, by the node's clock, if one did
   */
  public record StoreWrites(
      long consecutiveFailures,
      long totalFailures,
      Map<WriteFailureCause, Long> failuresByCause,
      Optional<Failure> lastFailure,
      Optional<Instant> lastSuccessAt) {

    /**
     * Copies the map, so the snapshot never changes.
     *
     * @throws IllegalArgumentException if a count is negative
     * @throws NullPointerException if an argument is null
     */
    public StoreWrites {
      if (consecutiveFailures < 0 || totalFailures < 0) {
        throw new IllegalArgumentException(
            "failure counts must not be negative, got consecutiveFailures "
                + consecutiveFailures
                + " and totalFailures "
                + totalFailures);
      }
      Map<WriteFailureCause, Long> all = new EnumMap<>(WriteFailureCause.class);
      for (WriteFailureCause c : WriteFailureCause.values()) {
        all.put(c, failuresByCause.getOrDefault(c, 0L));
      }
      failuresByCause = Map.copyOf(all);
      Objects.requireNonNull(lastFailure, "lastFailure");
      Objects.requireNonNull(lastSuccessAt, "lastSuccessAt");
    }

    /**
     * Whether the last write that counted failed.
     *
     * @return true while {@link #consecutiveFailures()} is above zero
     */
    public boolean failing() {
      return consecutiveFailures > 0;
    }

    /**
     * One failed write.
     *
     * @param at when it failed, by the node's clock
     * @param cause its class
     * @param detail the exception class that told the cause and its SQLState or vendor code (e.g.
     *     {@code org.postgresql.util.PSQLException, SQLState 53100}); never message text that could
     *     carry row content, names or secrets
     */
    public record Failure(Instant at, WriteFailureCause cause, String detail) {
      /**
       * Checks the fields.
       *
       * @throws NullPointerException if an argument is null
       */
      public Failure {
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(cause, "cause");
        Objects.requireNonNull(detail, "detail");
      }
    }
  }

  /**
   * Why a store write failed, as far as the database's error tells: the classes an operator acts on
   * differently. Read from the exception and its causes (SQLState, vendor result codes, the
   * operating system's fixed error phrases), never from row content.
   *
   * <p>Immutable and thread-safe.
   */
  public enum WriteFailureCause {
    /**
     * No room to write: SQLite {@code SQLITE_FULL} ("database or disk is full"), PostgreSQL
     * SQLState {@code 53100} ({@code disk_full}), or an I/O error "No space left on device" ({@code
     * ENOSPC}).
     */
    DISK_FULL("disk_full", "disk full"),

    /**
     * The database refuses writes: SQLite {@code SQLITE_READONLY} (a file or directory the process
     * cannot write, a read-only mount), PostgreSQL SQLState {@code 25006} ({@code
     * read_only_sql_transaction}: a hot standby, {@code default_transaction_read_only}), a
     * read-only file system, or a store opened {@code OpenMode.READ_ONLY}.
     */
    READ_ONLY("read_only", "database is read-only"),

    /**
     * The database cannot be reached: SQLState class {@code 08} (connection exception), a server
     * shutting down ({@code 57P01}..{@code 57P03}), a connection pool that gave none, a refused or
     * timed-out socket.
     */
    UNREACHABLE("unreachable", "database unreachable"),

    /** Any other failure of the store: see the node's log for the error. */
    OTHER("other", "store error");

    private final String tagValue;
    private final String label;

    WriteFailureCause(String tagValue, String label) {
      this.tagValue = tagValue;
      this.label = label;
    }

    /**
     * The value of the {@code cause} tag on meters, one of a fixed set.
     *
     * @return e.g. {@code disk_full}
     */
    public String tagValue() {
      return tagValue;
    }

    /**
     * A short phrase for a person.
     *
     * @return e.g. {@code disk full}
     */
    public String label() {
      return label;
    }
  }
}
