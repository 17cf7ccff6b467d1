package dev.workgate.core.internal.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Retention: deletes the events and projection rows of work orders that ended before a cutoff, a
 * bounded batch per call, skipping rows another writer holds.
 *
 * <p>Thread-safe: holds no state of its own; each deletion runs in one write transaction.
 */
final class Retention {
  private final Tables t;
  private final SqlDialect d;
  private final Work.Writer writer;

  Retention(Tables t, Work.Writer writer) {
    this.t = t;
    this.d = t.d;
    this.writer = writer;
  }

  int deleteTerminalBefore(Instant cutoff, int limit) {
    Objects.requireNonNull(cutoff, "cutoff");
    Tables.requireLimit(limit);
    t.ensureOpen();
    t.ensureWritable("delete terminal work orders");
    return writer.write(
        "delete terminal work orders",
        (c, ctx) -> {
          List<String> ids = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT p.id FROM "
                      + d.workOrders
                      + " p WHERE p.state IN ('COMPLETED', 'FAILED', 'CANCELLED')"
                      + " AND p.updated_at < ? ORDER BY p.updated_at, p.seq LIMIT ?"
                      + d.skipLocked())) {
            ps.setLong(1, Row.ceilMicros(cutoff));
            ps.setInt(2, limit);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                ids.add(rs.getString(1));
              }
            }
          }
          deleteStreams(c, ids);
          return ids.size();
        });
  }

  private void deleteStreams(Connection c, List<String> ids) throws SQLException {
    for (List<String> chunk : Tables.chunks(ids)) {
      for (String sql :
          List.of(
              "DELETE FROM " + d.events + " WHERE work_order_id IN (",
              "DELETE FROM " + d.dependencies + " WHERE dependent IN (",
              "DELETE FROM " + d.workOrders + " WHERE id IN (")) {
        try (PreparedStatement ps = c.prepareStatement(sql + Tables.marks(chunk.size()) + ")")) {
          for (int i = 0; i < chunk.size(); i++) {
            ps.setString(i + 1, chunk.get(i));
          }
          ps.executeUpdate();
        }
      }
    }
  }
}
