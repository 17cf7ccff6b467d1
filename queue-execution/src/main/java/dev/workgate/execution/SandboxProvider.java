package dev.workgate.execution;

import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.execution.internal.SandboxPaths;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Creates sandboxes for one kind of work and finds the ones a crash left behind. Implementations
 * must be thread-safe: executions create sandboxes concurrently, and the orphan reaper lists them
 * while executions run.
 */
public interface SandboxProvider {

  /**
   * Creates the sandbox for one attempt: its directory, and what the work needs before it can run.
   * A failure here is recorded as {@code SANDBOX_CREATION_FAILED} (retryable).
   *
   * @param request the work order and the owning node
   * @return the sandbox, not yet running
   * @throws Exception if it cannot be created; nothing may be left behind
   */
  Sandbox create(SandboxRequest request) throws Exception;

  /**
   * The sandboxes this provider finds on disk, live ones included.
   *
   * @return the records; empty if the provider keeps nothing on disk
   */
  List<SandboxRecord> list();

  /**
   * Destroys a sandbox found by {@link #list()} that no live execution owns: kills what still runs
   * in it and deletes it. Never called for a sandbox of a live execution. Idempotent.
   *
   * @param orphan the record
   */
  void destroyOrphan(SandboxRecord orphan);

  /**
   * What a {@link SandboxProvider} needs to create a sandbox: the claimed work order and the node
   * that owns the execution. Immutable.
   *
   * @param workOrder the work order as claimed: {@code PREPARING} at the version its {@code
   *     Claimed} event left (the attempt's {@link #fencingToken()}), or {@code RUNNING} one version
   *     later when the claim also wrote its {@code Started} (an in-process sandbox); its attempt
   *     and payload
   * @param nodeId the owning node, recorded so that an orphan can be recognised after a crash
   * @param reports where the attempt reports progress and checkpoints; its owner's
   */
  public record SandboxRequest(WorkOrderView workOrder, String nodeId, AttemptReports reports) {

    /** Checks the fields. */
    public SandboxRequest {
      Objects.requireNonNull(workOrder, "workOrder");
      Objects.requireNonNull(nodeId, "nodeId");
      Objects.requireNonNull(reports, "reports");
    }

    /**
     * The attempt the sandbox is for.
     *
     * @return the work order's current attempt
     */
    public int attempt() {
      return workOrder.attempt();
    }

    /**
     * The attempt's fencing token: the version of the work order right after its claim, that is the
     * version of its {@code Claimed} event. Every claim of a work order appends a new event, so the
     * token rises with every claim of that work order, on any node, across attempts, reaps and
     * releases; an external system that keeps the highest token it has seen per work order can
     * refuse a write that carries a lower one, which comes from an attempt that has since been
     * superseded. See docs/execution.md, "Fencing tokens".
     *
     * @return a positive number, higher for every later claim of the same work order
     */
    public long fencingToken() {
      // A claim that started the work order wrote Started right after Claimed.
      return workOrder.state() == WorkOrderState.RUNNING
          ? workOrder.version() - 1
          : workOrder.version();
    }
  }

  /**
   * A sandbox a provider finds on disk, for the orphan reaper: which work order, attempt and node
   * it was created for. Immutable.
   *
   * <p>A crash while a sandbox directory is being created or deleted can leave it without its
   * record file. Such a directory is still listed, with the work order and attempt its name gives
   * ({@link SandboxPaths#name}) and the node {@link #UNKNOWN_NODE}.
   *
   * @param sandboxId the sandbox's id
   * @param workOrderId the work order it ran
   * @param attempt the attempt it ran
   * @param nodeId the node whose execution created it, {@link #UNKNOWN_NODE} if its record was lost
   * @param createdAt when it was created
   */
  public record SandboxRecord(
      String sandboxId, WorkOrderId workOrderId, int attempt, String nodeId, Instant createdAt) {

    /** The node of a sandbox whose record file was lost: empty, never a node id. */
    public static final String UNKNOWN_NODE = "";

    /** Checks the fields. */
    public SandboxRecord {
      Objects.requireNonNull(sandboxId, "sandboxId");
      Objects.requireNonNull(workOrderId, "workOrderId");
      Objects.requireNonNull(nodeId, "nodeId");
      Objects.requireNonNull(createdAt, "createdAt");
    }

    /**
     * Whether the node that created the sandbox is known: false for a directory that lost its
     * record.
     *
     * @return whether {@link #nodeId()} names a node
     */
    public boolean nodeKnown() {
      return !nodeId.isEmpty();
    }
  }
}
