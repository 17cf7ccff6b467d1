package dev.workgate.execution;

import dev.workgate.core.WorkOrderId;
import java.time.Instant;
import java.util.Objects;

/**
 * A sandbox a provider finds on disk, for the orphan reaper: which work order, attempt and node it
 * was created for. Immutable.
 *
 * @param sandboxId the sandbox's id
 * @param workOrderId the work order it ran
 * @param attempt the attempt it ran
 * @param nodeId the node whose execution created it
 * @param createdAt when it was created
 */
public record SandboxRecord(
    String sandboxId, WorkOrderId workOrderId, int attempt, String nodeId, Instant createdAt) {

  /** Checks the fields. */
  public SandboxRecord {
    Objects.requireNonNull(sandboxId, "sandboxId");
    Objects.requireNonNull(workOrderId, "workOrderId");
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(createdAt, "createdAt");
  }
}
