package dev.workgate.execution;

import dev.workgate.core.WorkOrderId;
import java.time.Instant;
import java.util.Objects;

/**
 * A sandbox a provider finds on disk, for the orphan reaper: which work order, attempt and node it
 * was created for. Immutable.
 *
 * <p>A crash while a sandbox directory is being created or deleted can leave it without its record
 * file. Such a directory is still listed, with the work order and attempt its name gives ({@link
 * SandboxPaths#name}) and the node {@link #UNKNOWN_NODE}.
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
   * Whether the node that created the sandbox is known: false for a directory that lost its record.
   *
   * @return whether {@link #nodeId()} names a node
   */
  public boolean nodeKnown() {
    return !nodeId.isEmpty();
  }
}
