package dev.workgate.core.store.jdbc;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.EventCodec;
import dev.workgate.core.IdempotencyKeyConflictException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrder;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.AppendRequest;
import dev.workgate.core.store.ListenerRegistry;
import dev.workgate.core.store.jdbc.Tables.Current;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Appends: stages a batch of {@link AppendRequest}s against the current rows (locked in one order
 * on PostgreSQL, behind the single writer on SQLite), writes their events and the projection rows
 * they give in the writer's transaction, and notes the queues that became claimable.
 *
 * <p>Thread-safe: holds no state of its own; each append runs in one write transaction.
 */
final class Appends {
  private final Tables t;
  private final SqlDialect d;
  private final Work.Writer writer;

  Appends(Tables t, Work.Writer writer) {
    this.t = t;
    this.d = t.d;
    this.writer = writer;
  }

  /** A stream as it will be after the append being staged. */
  private static final class Staged {
    final Current before; // null for a new work order
    WorkOrder current;
    final List<Integer> pending = new ArrayList<>(2); // indexes into the append's events

    Staged(Current before) {
      this.before = before;
      this.current = before == null ? null : before.view();
    }
  }

  /** An event of an append, before it has its position. */
  private record Pending(
      WorkOrderId id, long version, WorkOrderEvent event, EventCodec.EncodedEvent encoded) {}

  List<RecordedEvent> appendAll(List<AppendRequest> requests) {
    Objects.requireNonNull(requests, "requests");
    for (AppendRequest r : requests) {
      Objects.requireNonNull(r, "request");
    }
    t.ensureOpen();
    t.ensureWritable("append");
    if (requests.isEmpty()) {
      return List.of();
    }
    // Encode on the caller's thread: JSON work stays off the single SQLite writer.
    Map<WorkOrderEvent, EventCodec.EncodedEvent> encoded = new IdentityHashMap<>();
    for (AppendRequest r : requests) {
      for (WorkOrderEvent e : r.events()) {
        encoded.computeIfAbsent(e, EventCodec::encode);
      }
    }
    return writer.write("append", (c, ctx) -> append(c, ctx, requests, encoded));
  }

  private List<RecordedEvent> append(
      Connection c,
      Work.Context ctx,
      List<AppendRequest> requests,
      Map<WorkOrderEvent, EventCodec.EncodedEvent> encoded)
      throws SQLException {
    Set<WorkOrderId> ids = new LinkedHashSet<>();
    Set<String> keys = new LinkedHashSet<>();
    for (AppendRequest r : requests) {
      ids.add(r.workOrderId());
      for (WorkOrderEvent e : r.events()) {
        if (e instanceof WorkOrderEvent.Submitted s) {
          s.spec().idempotencyKey().ifPresent(keys::add);
        }
      }
    }
    Map<WorkOrderId, Current> current = t.load(c, ids, d.lockRows());
    Map<String, WorkOrderId> holders = keyHolders(c, keys);
    Map<WorkOrderId, Staged> staged = new LinkedHashMap<>();
    Map<String, WorkOrderId> newKeys = new HashMap<>();
    List<Pending> pending = new ArrayList<>();
    for (AppendRequest request : requests) {
      WorkOrderId id = request.workOrderId();
      Staged s = staged.computeIfAbsent(id, k -> new Staged(current.get(k)));
      long actual = s.current == null ? 0 : s.current.version();
      if (!request.expected().matches(actual)) {
        throw new ConcurrencyException(id, request.expected().toString(), actual);
      }
      for (WorkOrderEvent event : request.events()) {
        long version = actual + 1;
        s.current =
            s.current == null
                ? WorkOrder.start(id, event, version, ctx.now)
                : s.current.apply(event, version, ctx.now);
        if (event instanceof WorkOrderEvent.Submitted submitted) {
          String key = submitted.spec().idempotencyKey().orElse(null);
          if (key != null) {
            WorkOrderId holder = holders.getOrDefault(key, newKeys.get(key));
            if (holder != null) {
              throw new IdempotencyKeyConflictException(key, holder);
            }
            newKeys.put(key, id);
          }
        }
        s.pending.add(pending.size());
        pending.add(new Pending(id, version, event, encoded.get(event)));
        actual = version;
      }
    }
    long[] positions = ctx.positions(c, pending.size());
    List<RecordedEvent> recorded = new ArrayList<>(pending.size());
    for (int i = 0; i < pending.size(); i++) {
      Pending p = pending.get(i);
      recorded.add(new RecordedEvent(positions[i], p.id, p.version, ctx.now, p.event));
    }
    t.insertEvents(c, recorded, i -> pending.get(i).encoded);
    List<Row> inserts = new ArrayList<>();
    List<Row> updates = new ArrayList<>();
    List<Long> expectedVersions = new ArrayList<>();
    for (Staged s : staged.values()) {
      List<RecordedEvent> added = new ArrayList<>(s.pending.size());
      for (int i : s.pending) {
        added.add(recorded.get(i));
      }
      if (s.before == null) {
        inserts.add(Row.of(s.current, added.get(0).position()));
      } else {
        updates.add(Row.of(s.current, s.before.row().seq()));
        expectedVersions.add(s.before.row().version());
      }
      if (ListenerRegistry.becameClaimable(s.current, added)) {
        ctx.claimable.add(s.current.queue());
      }
    }
    t.insertRows(c, inserts);
    t.updateRows(c, updates, expectedVersions);
    return Collections.unmodifiableList(recorded);
  }

  private Map<String, WorkOrderId> keyHolders(Connection c, Set<String> keys) throws SQLException {
    Map<String, WorkOrderId> holders = new HashMap<>();
    for (List<String> chunk : Tables.chunks(new ArrayList<>(keys))) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT idempotency_key, id FROM "
                  + d.workOrders
                  + " WHERE idempotency_key IN ("
                  + Tables.marks(chunk.size())
                  + ")")) {
        for (int i = 0; i < chunk.size(); i++) {
          ps.setString(i + 1, chunk.get(i));
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            holders.put(rs.getString(1), WorkOrderId.of(rs.getString(2)));
          }
        }
      }
    }
    return holders;
  }
}
