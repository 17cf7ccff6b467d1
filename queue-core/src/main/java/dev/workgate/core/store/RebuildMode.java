package dev.workgate.core.store;

/** What {@link WorkOrderStore#rebuildProjection} does with rows that differ from the log. */
public enum RebuildMode {
  /** Only report differences; change nothing. */
  VERIFY,
  /** Report differences and rewrite the differing rows from the log. */
  REPAIR
}
