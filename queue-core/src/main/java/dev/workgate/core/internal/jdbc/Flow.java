package dev.workgate.core.internal.jdbc;

import dev.workgate.core.BatchId;
import dev.workgate.core.DependencyFailure;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.QueueAction;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tables of work that builds on other work (schema version 5): who waits for whom (written with
 * each Submitted event that names dependencies), the paused queues and the log of pauses and
 * resumes, and the batch ends already reported.
 *
 * <p>A pause is ordered against claims. On PostgreSQL every claim takes a shared transaction-level
 * advisory lock on its queue before it reads the pause table, and a pause or resume takes the
 * exclusive one: a pause waits for the claims of the queue under way, and every claim that begins
 * after the pause committed sees it. On SQLite one writer runs at a time, so the claim's own read
 * of the pause table suffices.
 *
 * <p>Thread-safe: holds no state of its own.
 */
final class Flow {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcWorkOrderStore.class);

  private final Tables t;
  private final SqlDialect d;
  private final Work.Writer writer;
  private final Work.Reader reader;

  Flow(Tables t, Work.Writer writer, Work.Reader reader) {
    this.t = t;
    this.d = t.d;
    this.writer = writer;
    this.reader = reader;
  }

  /** Writes the dependency rows of the Submitted events among the appended streams. */
  void insertDependencies(Connection c, List<WorkOrderId> ids, List<WorkOrderEvent.Submitted> subs)
      throws SQLException {
    List<Object[]> rows = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      WorkOrderEvent.Submitted s = subs.get(i);
      boolean cancel = s.spec().onDependencyFailure() == DependencyFailure.CANCEL;
      for (WorkOrderId dep : s.dependencies()) {
        rows.add(new Object[] {ids.get(i).value(), dep.value(), cancel});
      }
    }
    if (rows.isEmpty()) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO "
                + d.dependencies
                + " (dependent, dependency, cancel_on_failure) VALUES (?, ?, ?)")) {
      for (Object[] row : rows) {
        ps.setString(1, (String) row[0]);
        ps.setString(2, (String) row[1]);
        ps.setBoolean(3, (Boolean) row[2]);
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /**
   * The condition on a BLOCKED row (alias p) that it can be decided now: no dependency is still
   * live, or one it must not run after failed. A dependency without a row (deleted) counts as ended
   * and failed.
   */
  String resolvable() {
    String live = "'PENDING', 'PREPARING', 'RUNNING', 'WAITING_RETRY', 'BLOCKED'";
    return "p.state = 'BLOCKED' AND (NOT EXISTS (SELECT 1 FROM "
        + d.dependencies
        + " x JOIN "
        + d.workOrders
        + " q ON q.id = x.dependency WHERE x.dependent = p.id AND q.state IN ("
        + live
        + ")) OR EXISTS (SELECT 1 FROM "
        + d.dependencies
        + " x LEFT JOIN "
        + d.workOrders
        + " q ON q.id = x.dependency WHERE x.dependent = p.id AND x.cancel_on_failure = "
        + (d instanceof SqlDialect.Postgres ? "TRUE" : "1")
        + " AND (q.id IS NULL OR q.state IN ('FAILED', 'CANCELLED'))))";
  }

  List<WorkOrderId> dependents(WorkOrderId id) {
    Objects.requireNonNull(id, "workOrderId");
    t.ensureOpen();
    return reader.read(
        "dependents",
        c -> {
          List<WorkOrderId> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT x.dependent FROM "
                      + d.dependencies
                      + " x JOIN "
                      + d.workOrders
                      + " p ON p.id = x.dependent WHERE x.dependency = ? ORDER BY p.seq")) {
            ps.setString(1, id.value());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(WorkOrderId.of(rs.getString(1)));
              }
            }
          }
          return Collections.unmodifiableList(out);
        });
  }

  /**
   * Refuses nothing; answers whether a queue is paused, for a claim in its write transaction. On
   * PostgreSQL first takes the queue's shared advisory lock (see the class comment).
   */
  boolean pausedForClaim(Connection c, String queue) throws SQLException {
    if (d instanceof SqlDialect.Postgres) {
      try (PreparedStatement ps =
          c.prepareStatement("SELECT pg_advisory_xact_lock_shared(?, hashtext(?))")) {
        ps.setInt(1, lockSpace());
        ps.setString(2, queue);
        ps.executeQuery().close();
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement("SELECT 1 FROM " + d.pausedQueues + " WHERE queue = ?")) {
      ps.setString(1, queue);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** The first key of this store's advisory locks on queues: one space per schema and prefix. */
  private int lockSpace() {
    return (d.describe() + " queues").hashCode();
  }

  boolean recordQueueAction(QueueAction action) {
    Objects.requireNonNull(action, "action");
    t.ensureOpen();
    t.ensureWritable("pause or resume a queue");
    return writer.write(
        action.kind() == QueueAction.Kind.PAUSE ? "pause queue" : "resume queue",
        (c, ctx) -> {
          if (d instanceof SqlDialect.Postgres) {
            try (PreparedStatement ps =
                c.prepareStatement("SELECT pg_advisory_xact_lock(?, hashtext(?))")) {
              ps.setInt(1, lockSpace());
              ps.setString(2, action.queue());
              ps.executeQuery().close();
            }
          }
          boolean paused;
          try (PreparedStatement ps =
              c.prepareStatement("SELECT 1 FROM " + d.pausedQueues + " WHERE queue = ?")) {
            ps.setString(1, action.queue());
            try (ResultSet rs = ps.executeQuery()) {
              paused = rs.next();
            }
          }
          if (paused == (action.kind() == QueueAction.Kind.PAUSE)) {
            return false;
          }
          if (action.kind() == QueueAction.Kind.PAUSE) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "INSERT INTO "
                        + d.pausedQueues
                        + " (queue, paused_at, actor, reason) VALUES (?, ?, ?, ?)")) {
              ps.setString(1, action.queue());
              ps.setLong(2, Row.micros(action.at()));
              ps.setString(3, action.actor());
              ps.setString(4, action.reason());
              ps.executeUpdate();
            }
          } else {
            try (PreparedStatement ps =
                c.prepareStatement("DELETE FROM " + d.pausedQueues + " WHERE queue = ?")) {
              ps.setString(1, action.queue());
              ps.executeUpdate();
            }
            // Work waiting in the queue is claimable again.
            ctx.claimable.add(action.queue());
          }
          // The queue's next seq: the queue's exclusive lock (PostgreSQL) or the one writer
          // (SQLite) keeps two actions of a queue from taking the same one.
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO "
                      + d.queueActions
                      + " (queue, seq, action, at, actor, reason) SELECT ?, COALESCE(MAX(seq), 0)"
                      + " + 1, ?, ?, ?, ? FROM "
                      + d.queueActions
                      + " WHERE queue = ?")) {
            ps.setString(1, action.queue());
            ps.setString(2, action.kind().name());
            ps.setLong(3, Row.micros(action.at()));
            ps.setString(4, action.actor());
            ps.setString(5, action.reason());
            ps.setString(6, action.queue());
            ps.executeUpdate();
          }
          return true;
        });
  }

  List<QueueAction> pausedQueues() {
    t.ensureOpen();
    return reader.read(
        "paused queues",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT queue, 'PAUSE', paused_at, actor, reason FROM "
                      + d.pausedQueues
                      + " ORDER BY queue")) {
            return actions(ps);
          }
        });
  }

  List<QueueAction> queueActions(String queue, int limit) {
    Tables.requireLimit(limit);
    t.ensureOpen();
    return reader.read(
        "queue actions",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT queue, action, at, actor, reason FROM "
                      + d.queueActions
                      // One queue's in the order recorded; every queue's by time, then so.
                      + (queue == null
                          ? " ORDER BY at DESC, queue, seq DESC"
                          : " WHERE queue = ? ORDER BY seq DESC")
                      + " LIMIT ?")) {
            int i = 1;
            if (queue != null) {
              ps.setString(i++, queue);
            }
            ps.setInt(i, limit);
            return actions(ps);
          }
        });
  }

  private List<QueueAction> actions(PreparedStatement ps) throws SQLException {
    List<QueueAction> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        try {
          out.add(
              new QueueAction(
                  rs.getString(1),
                  QueueAction.Kind.valueOf(rs.getString(2)),
                  Row.instant(rs.getLong(3)),
                  rs.getString(4),
                  rs.getString(5)));
        } catch (RuntimeException bad) {
          // One bad row never hides the others (nor fails the reader).
          LOG.warn(
              "skipping an unreadable row of {}: {}",
              d.queueActions,
              bad.getClass().getSimpleName());
        }
      }
    }
    return Collections.unmodifiableList(out);
  }

  List<BatchId> batchesEndedSince(Instant since, int limit) {
    Objects.requireNonNull(since, "since");
    Tables.requireLimit(limit);
    t.ensureOpen();
    return reader.read(
        "batches ended since",
        c -> {
          // Served by wo_terminal (updated_at, seq): the ends since the time, oldest first.
          List<BatchId> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT p.batch_id FROM "
                      + d.workOrders
                      + " p WHERE p.state IN ('COMPLETED', 'FAILED', 'CANCELLED')"
                      + " AND p.updated_at >= ? AND p.batch_id IS NOT NULL"
                      + " ORDER BY p.updated_at, p.seq")) {
            ps.setLong(1, Row.micros(since));
            java.util.Set<String> seen = new java.util.HashSet<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next() && out.size() < limit) {
                String id = rs.getString(1);
                if (seen.add(id)) {
                  try {
                    out.add(BatchId.of(id));
                  } catch (IllegalArgumentException bad) {
                    LOG.warn("skipping an unreadable batch id in {}", d.workOrders);
                  }
                }
              }
            }
          }
          return Collections.unmodifiableList(out);
        });
  }

  boolean markBatchEnded(BatchId batch, long members, Instant at) {
    Objects.requireNonNull(batch, "batch");
    Objects.requireNonNull(at, "at");
    t.ensureOpen();
    t.ensureWritable("mark a batch ended");
    return writer.write(
        "mark batch ended",
        (c, ctx) -> {
          // Insert-if-absent in a way both dialects run alike: the primary key decides.
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO "
                      + d.batchEnds
                      + " (batch_id, members, ended_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")) {
            ps.setString(1, batch.value());
            ps.setLong(2, members);
            ps.setLong(3, Row.micros(at));
            return ps.executeUpdate() == 1;
          }
        });
  }
}
