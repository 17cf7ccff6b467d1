package dev.workgate.execution;

import dev.workgate.core.WorkOrderView;
import java.util.Objects;

/**
 * What a {@link SandboxProvider} needs to create a sandbox: the claimed work order and the node
 * that owns the execution. Immutable.
 *
 * @param workOrder the work order as claimed ({@code PREPARING}, its attempt and payload)
 * @param nodeId the owning node, recorded so that an orphan can be recognised after a crash
 */
public record SandboxRequest(WorkOrderView workOrder, String nodeId) {

  /** Checks the fields. */
  public SandboxRequest {
    Objects.requireNonNull(workOrder, "workOrder");
    Objects.requireNonNull(nodeId, "nodeId");
  }

  /**
   * The attempt the sandbox is for.
   *
   * @return the work order's current attempt
   */
  public int attempt() {
    return workOrder.attempt();
  }
}
