package dev.workgate.execution;

import dev.workgate.core.WorkOrderView;
import java.util.Objects;

/**
 * What a {@link SandboxProvider} needs to create a sandbox: the claimed work order and the node
 * that owns the execution. Immutable.
 *
 * @param workOrder the work order as claimed ({@code PREPARING}, its attempt and payload, and the
 *     version its {@code Claimed} event left, which is the attempt's {@link #fencingToken()})
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

  /**
   * The attempt's fencing token: the version of the work order right after its claim, that is the
   * version of its {@code Claimed} event. Every claim of a work order appends a new event, so the
   * token rises with every claim of that work order, on any node, across attempts, reaps and
   * releases; an external system that keeps the highest token it has seen per work order can refuse
   * a write that carries a lower one, which comes from an attempt that has since been superseded.
   * See docs/execution.md, "Fencing tokens".
   *
   * @return a positive number, higher for every later claim of the same work order
   */
  public long fencingToken() {
    return workOrder.version();
  }
}
