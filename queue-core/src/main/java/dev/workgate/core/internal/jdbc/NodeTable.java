package dev.workgate.core.internal.jdbc;

import dev.workgate.core.store.StoreView.NodeStatus;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.Objects;

/**
 * Writes of the nodes table: a node's heartbeat record, and the removal of a node's record or of
 * records silent since a time. Reading it is {@link Reads#nodes()}.
 *
 * <p>Thread-safe: holds no state of its own; each write runs in one write transaction.
 */
final class NodeTable {
  private final Tables t;
  private final SqlDialect d;
  private final Work.Writer writer;

  NodeTable(Tables t, Work.Writer writer) {
    this.t = t;
    this.d = t.d;
    this.writer = writer;
  }

  void recordNode(NodeStatus node) {
    Objects.requireNonNull(node, "node");
    t.ensureOpen();
    t.ensureWritable("record a node");
    writer.write(
        "record node",
        (c, ctx) -> {
          // Delete and insert rather than a dialect's upsert: one row per node, written by that
          // node only, every few seconds; both dialects run this as one transaction.
          try (PreparedStatement del =
              c.prepareStatement("DELETE FROM " + d.nodes + " WHERE id = ?")) {
            del.setString(1, node.id());
            del.executeUpdate();
          }
          try (PreparedStatement ins =
              c.prepareStatement(
                  "INSERT INTO "
                      + d.nodes
                      + " (id, slots, memory_mb, slots_in_use, memory_mb_in_use, pressure, version,"
                      + " started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ins.setString(1, node.id());
            ins.setInt(2, node.slots());
            ins.setLong(3, node.memoryMb());
            ins.setInt(4, node.slotsInUse());
            ins.setLong(5, node.memoryMbInUse());
            ins.setString(6, node.pressure());
            ins.setString(7, node.version());
            ins.setLong(8, Row.micros(node.startedAt()));
            ins.setLong(9, Row.micros(node.lastHeartbeat()));
            ins.executeUpdate();
          }
          return null;
        });
  }

  int removeNodes(String nodeId, Instant silentSince) {
    t.ensureOpen();
    t.ensureWritable("remove nodes");
    if (nodeId == null && silentSince == null) {
      return 0;
    }
    return writer.write(
        "remove nodes",
        (c, ctx) -> {
          int removed = 0;
          if (nodeId != null) {
            try (PreparedStatement ps =
                c.prepareStatement("DELETE FROM " + d.nodes + " WHERE id = ?")) {
              ps.setString(1, nodeId);
              removed += ps.executeUpdate();
            }
          }
          if (silentSince != null) {
            try (PreparedStatement ps =
                c.prepareStatement("DELETE FROM " + d.nodes + " WHERE heartbeat_at < ?")) {
              ps.setLong(1, Row.micros(silentSince));
              removed += ps.executeUpdate();
            }
          }
          return removed;
        });
  }
}
