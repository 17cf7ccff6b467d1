package dev.workgate.core;

/**
 * What a work order that waits for others ({@link WorkOrderSpec.Builder#after}) does when one of
 * them ends {@link WorkOrderState#FAILED} or {@link WorkOrderState#CANCELLED} instead of {@link
 * WorkOrderState#COMPLETED}.
 */
public enum DependencyFailure {
  /**
   * The default: it ends {@link WorkOrderState#CANCELLED} at once, with a {@code DependencyFailed}
   * event naming the dependency (error code {@code DEPENDENCY_FAILED}). Resubmitting the failed
   * dependency resubmits it too, waiting for the new work order.
   */
  CANCEL,
  /**
   * It runs anyway once every dependency has ended, however each ended: for work that reports on or
   * cleans up after the others.
   */
  RUN
}
