package dev.workgate.core.internal.jdbc;

import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.RebuildReport;
import dev.workgate.core.store.RebuildReport.ProjectionMismatch;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.StoreException.UnreadableRowException;
import dev.workgate.spi.WorkOrder;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Projection rebuild: folds the log into the rows it should give, compares them with the projection
 * ({@link RebuildMode#VERIFY}) and rewrites what differs ({@link RebuildMode#REPAIR}).
 *
 * <p>Thread-safe: holds no state of its own; a check reads one snapshot on a connection of its own,
 * a repair runs in one write transaction.
 */
final class Rebuild {
  private final Tables t;
  private final SqlDialect d;
  private final Quarantine quarantine;
  private final Work.Writer writer;
  private final Work.Reader snapshots;

  Rebuild(Tables t, Work.Writer writer, Work.Reader snapshots) {
    this.t = t;
    this.d = t.d;
    this.quarantine = t.quarantine;
    this.writer = writer;
    this.snapshots = snapshots;
  }

  /**
   * Checks the projection against a snapshot of the log read on a connection of its own, in one
   * read transaction (SQLite: a deferred transaction in WAL mode; PostgreSQL: repeatable read, read
   * only), so the check takes no write lock and writers go on while it runs. A repair then takes
   * the write lock only to check again and rewrite the work orders the snapshot found wrong: a work
   * order that changed since the snapshot is compared as it is then.
   */
  RebuildReport rebuildProjection(RebuildMode mode) {
    Objects.requireNonNull(mode, "mode");
    t.ensureOpen();
    t.ensureWritable(mode == RebuildMode.REPAIR ? "rebuild projection (repair)" : null);
    RebuildReport seen = snapshots.read("verify projection", c -> verifyReading(c));
    if (mode == RebuildMode.VERIFY || seen.consistent()) {
      return seen;
    }
    List<String> ids =
        seen.mismatches().stream().map(m -> m.workOrderId().value()).distinct().toList();
    RebuildReport fixed =
        writer.write("rebuild projection", (c, ctx) -> rebuild(c, RebuildMode.REPAIR, ids));
    return new RebuildReport(
        seen.workOrders(), seen.events(), fixed.mismatches(), fixed.repaired());
  }

  /**
   * Folds the log into the rows it should give and compares them with the projection; for {@code
   * REPAIR} rewrites what differs. {@code only} null checks every work order, else those ids.
   */
  private RebuildReport rebuild(Connection c, RebuildMode mode, List<String> only)
      throws SQLException {
    if (d instanceof SqlDialect.Postgres) {
      try (Statement st = c.createStatement()) {
        st.execute(
            mode == RebuildMode.REPAIR
                ? "LOCK TABLE " + d.events + ", " + d.workOrders + " IN SHARE ROW EXCLUSIVE MODE"
                : "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        if (mode == RebuildMode.VERIFY && only == null) {
          // A full check folds the whole log between two statements, which may take longer than
          // the session's idle_in_transaction_session_timeout; it holds no row lock, so this
          // transaction alone goes without it. A repair folds one chunk at a time and keeps it.
          st.execute("SET LOCAL " + PostgresSessions.IDLE_IN_TRANSACTION + " = 0");
        }
      }
    }
    List<ProjectionMismatch> mismatches = new ArrayList<>();
    List<Row> rewrite = new ArrayList<>();
    List<String> remove = new ArrayList<>();
    long[] counts = new long[2];
    Map<String, Row> expected = new LinkedHashMap<>();
    String eventSelect = "SELECT " + JdbcWorkOrderStore.EVENT_COLUMNS + " FROM " + d.events;
    String order = " ORDER BY work_order_id, version";
    String orphanSelect =
        "SELECT p.id FROM "
            + d.workOrders
            + " p WHERE NOT EXISTS (SELECT 1 FROM "
            + d.events
            + " e WHERE e.work_order_id = p.id)";
    for (List<String> chunk : only == null ? List.of(List.<String>of()) : Tables.chunks(only)) {
      String where =
          only == null ? "" : " WHERE work_order_id IN (" + Tables.marks(chunk.size()) + ")";
      try (PreparedStatement ps = c.prepareStatement(eventSelect + where + order)) {
        for (int i = 0; i < chunk.size(); i++) {
          ps.setString(i + 1, chunk.get(i));
        }
        ps.setFetchSize(1000);
        try (ResultSet rs = ps.executeQuery()) {
          foldAll(c, rs, expected, mismatches, rewrite, counts);
        }
      }
      compare(c, expected, mismatches, rewrite);
      expected.clear();
      String orphans = only == null ? "" : " AND p.id IN (" + Tables.marks(chunk.size()) + ")";
      try (PreparedStatement ps = c.prepareStatement(orphanSelect + orphans)) {
        for (int i = 0; i < chunk.size(); i++) {
          ps.setString(i + 1, chunk.get(i));
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String id = rs.getString(1);
            mismatches.add(new ProjectionMismatch(WorkOrderId.of(id), "row without events"));
            remove.add(id);
          }
        }
      }
    }
    long workOrders = counts[0];
    long events = counts[1];
    boolean repair = mode == RebuildMode.REPAIR && (!rewrite.isEmpty() || !remove.isEmpty());
    if (repair) {
      List<String> replaced = new ArrayList<>(remove);
      rewrite.forEach(r -> replaced.add(r.id()));
      for (List<String> chunk : Tables.chunks(replaced)) {
        try (PreparedStatement ps =
            c.prepareStatement(
                "DELETE FROM "
                    + d.workOrders
                    + " WHERE id IN ("
                    + Tables.marks(chunk.size())
                    + ")")) {
          for (int i = 0; i < chunk.size(); i++) {
            ps.setString(i + 1, chunk.get(i));
          }
          ps.executeUpdate();
        }
      }
      t.insertRows(c, rewrite);
      quarantine.released(replaced);
    }
    return new RebuildReport(workOrders, events, mismatches, repair);
  }

  /**
   * Folds the events of {@code rs}, ordered by work order and version, stream by stream, comparing
   * a chunk of rows at a time; counts work orders and events into {@code counts}.
   */
  private void foldAll(
      Connection c,
      ResultSet rs,
      Map<String, Row> expected,
      List<ProjectionMismatch> mismatches,
      List<Row> rewrite,
      long[] counts)
      throws SQLException {
    List<RecordedEvent> stream = new ArrayList<>();
    String streamId = null;
    boolean unreadable = false; // the stream has an event this code cannot read
    while (true) {
      boolean more = rs.next();
      String id = more ? rs.getString(2) : null;
      if (streamId != null && !streamId.equals(id)) {
        counts[0]++;
        if (!unreadable) {
          fold(stream, expected, mismatches);
        }
        stream.clear();
        unreadable = false;
        if (expected.size() >= Tables.CHUNK) {
          compare(c, expected, mismatches, rewrite);
          expected.clear();
        }
      }
      if (!more) {
        return;
      }
      streamId = id;
      counts[1]++;
      if (unreadable) {
        continue;
      }
      try {
        stream.add(t.recorded(rs));
      } catch (UnreadableRowException e) {
        // A finding, not a failed verification: the rest of the store is still checked. The
        // stream is neither folded nor repaired.
        quarantine.add(e);
        unreadable = true;
        mismatches.add(
            new ProjectionMismatch(
                WorkOrderId.of(id),
                "event at position "
                    + e.position()
                    + " cannot be read (quarantined, not repairable; see docs/operations.md): "
                    + e.getMessage()));
      }
    }
  }

  /** Folds one stream into the row it should have; a stream that does not fold is reported. */
  private static void fold(
      List<RecordedEvent> stream, Map<String, Row> expected, List<ProjectionMismatch> mismatches) {
    WorkOrderId id = stream.get(0).workOrderId();
    try {
      WorkOrder w = WorkOrder.fold(stream);
      expected.put(id.value(), Row.of(w, stream.get(0).position()));
    } catch (InvalidTransitionException | IllegalArgumentException | ClassCastException e) {
      mismatches.add(
          new ProjectionMismatch(id, "log cannot be folded (not repairable): " + e.getMessage()));
    }
  }

  private void compare(
      Connection c,
      Map<String, Row> expected,
      List<ProjectionMismatch> mismatches,
      List<Row> rewrite)
      throws SQLException {
    if (expected.isEmpty()) {
      return;
    }
    Map<String, Row> actual = new HashMap<>();
    List<String> ids = new ArrayList<>(expected.keySet());
    for (List<String> chunk : Tables.chunks(ids)) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT "
                  + String.join(", ", Row.COLUMNS)
                  + " FROM "
                  + d.workOrders
                  + " WHERE id IN ("
                  + Tables.marks(chunk.size())
                  + ")")) {
        for (int i = 0; i < chunk.size(); i++) {
          ps.setString(i + 1, chunk.get(i));
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Row row = Row.read(rs, 1);
            actual.put(row.id(), row);
          }
        }
      }
    }
    for (Map.Entry<String, Row> e : expected.entrySet()) {
      Row want = e.getValue();
      Row have = actual.get(e.getKey());
      if (have == null) {
        mismatches.add(new ProjectionMismatch(WorkOrderId.of(e.getKey()), "row missing"));
        rewrite.add(want);
        continue;
      }
      List<String> diffs = have.differencesFrom(want);
      if (!diffs.isEmpty()) {
        mismatches.add(
            new ProjectionMismatch(WorkOrderId.of(e.getKey()), String.join("; ", diffs)));
        rewrite.add(have.repairedFrom(want));
      }
    }
  }

  /**
   * A projection check in one read transaction: on SQLite a deferred {@code BEGIN} that only
   * selects, which in WAL mode reads one snapshot and never takes the write lock.
   */
  private RebuildReport verifyReading(Connection c) throws SQLException {
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      return rebuild(c, RebuildMode.VERIFY, null);
    } finally {
      c.rollback();
      c.setAutoCommit(auto);
    }
  }
}
