package dev.workgate.core.internal;

import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.WorkOrder;
import dev.workgate.spi.WorkOrderSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Compares a projection row with the fold of the log, for {@link WorkOrderStore#rebuildProjection}.
 * Stateless.
 *
 * <p>Two differences are expected and not reported: a renewed lease, and progress. Renewals extend
 * the lease in the row without an event, so a row whose lease is held by the owner and attempt the
 * log names, with an expiry at or after the log's, matches; and they carry the attempt's progress,
 * which the log does not hold.
 */
public final class ProjectionDiff {
  private ProjectionDiff() {}

  /**
   * The differences between a row and the log's fold.
   *
   * @param row what the projection holds
   * @param log the fold of the work order's events
   * @return one entry per differing field, {@code "field: row X, log Y"}; empty when they match
   */
  public static List<String> differences(WorkOrder row, WorkOrder log) {
    WorkOrderSnapshot r = row.snapshot();
    WorkOrderSnapshot l = log.snapshot();
    List<String> out = new ArrayList<>();
    field(out, "spec", r.spec(), l.spec());
    field(out, "resubmittedFrom", r.resubmittedFrom(), l.resubmittedFrom());
    field(out, "state", r.state(), l.state());
    field(out, "attempt", r.attempt(), l.attempt());
    field(out, "version", r.version(), l.version());
    field(out, "submittedAt", r.submittedAt(), l.submittedAt());
    field(out, "updatedAt", r.updatedAt(), l.updatedAt());
    field(out, "availableAt", r.availableAt(), l.availableAt());
    field(out, "leaseOwner", r.leaseOwner(), l.leaseOwner());
    boolean renewed =
        r.leaseExpiresAt() != null
            && l.leaseExpiresAt() != null
            && !r.leaseExpiresAt().isBefore(l.leaseExpiresAt());
    if (!renewed) {
      field(out, "leaseExpiresAt", r.leaseExpiresAt(), l.leaseExpiresAt());
    }
    field(out, "lastError", r.lastError(), l.lastError());
    field(out, "nextAttemptAt", r.nextAttemptAt(), l.nextAttemptAt());
    field(out, "result", r.result(), l.result());
    field(out, "cancellationReason", r.cancellationReason(), l.cancellationReason());
    field(out, "releases", r.releases(), l.releases());
    field(out, "batch", r.batch(), l.batch());
    field(out, "dependencies", r.dependencies(), l.dependencies());
    field(out, "checkpoint", r.checkpoint(), l.checkpoint());
    return out;
  }

  /**
   * The row that a repair writes: the log's fold, keeping a renewed lease's later expiry and the
   * row's progress.
   *
   * @param row what the projection holds, or null if the row is missing
   * @param log the fold of the work order's events
   * @return the repaired row
   */
  public static WorkOrder repaired(WorkOrder row, WorkOrder log) {
    if (row == null) {
      return log;
    }
    WorkOrder out = log;
    if (log.leaseOwner().isPresent()
        && row.leaseOwner().equals(log.leaseOwner())
        && row.attempt() == log.attempt()
        && row.leaseExpiresAt().isPresent()
        && row.leaseExpiresAt().get().isAfter(log.leaseExpiresAt().orElseThrow())) {
      out = log.withLeaseExpiresAt(row.leaseExpiresAt().get());
    }
    // Progress is not in the log: the row's is kept, as the JDBC stores keep their column.
    return row.progress().map(out::withProgress).orElse(out);
  }

  private static void field(List<String> out, String name, Object row, Object log) {
    if (!Objects.equals(row, log)) {
      out.add(name + ": row " + row + ", log " + log);
    }
  }
}
