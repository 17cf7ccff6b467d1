package dev.workgate.core.internal.jdbc;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.internal.jdbc.Tables.Current;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.AppendStaging;
import dev.workgate.spi.EventCodec;
import dev.workgate.spi.ExpectedVersion;
import dev.workgate.spi.ListenerRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Appends: stages a batch of {@link AppendRequest}s against the current rows (locked in one order
 * on PostgreSQL, behind the single writer on SQLite), writes their events and the projection rows
 * they give in the writer's transaction, and notes the queues that became claimable. Appends are
 * the writer's shared work ({@link Work.Writer#writeShared}): concurrent callers' appends may be
 * staged and written together in one transaction, the store's group commit.
 *
 * <p>Thread-safe: holds no state of its own; each append runs in one write transaction.
 */
final class Appends {
  private final Tables t;
  private final SqlDialect d;
  private final Flow flow;
  private final Work.Writer writer;

  Appends(Tables t, Work.Writer writer, Flow flow) {
    this.t = t;
    this.d = t.d;
    this.writer = writer;
    this.flow = flow;
  }

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
    // Encode on the caller's thread: JSON work stays off the single SQLite writer and out of the
    // shared transaction.
    List<Encoded> prepared = new ArrayList<>(requests.size());
    for (AppendRequest r : requests) {
      List<EventCodec.EncodedEvent> events = new ArrayList<>(r.events().size());
      for (WorkOrderEvent e : r.events()) {
        events.add(EventCodec.encode(e));
      }
      prepared.add(new Encoded(r, events));
    }
    return writer.writeShared("append", shared, prepared);
  }

  /** A request with its events encoded, in the order of its events. */
  private record Encoded(AppendRequest request, List<EventCodec.EncodedEvent> events) {}

  /**
   * Appends as shared work: the writer may run the requests of concurrent callers in one call
   * (group commit); staged together they give what each caller's own call would have, in order.
   */
  private final Work.Shared<Encoded, RecordedEvent> shared =
      new Work.Shared<>() {
        @Override
        public List<RecordedEvent> run(Connection c, Work.Context ctx, List<Encoded> requests)
            throws SQLException {
          List<AppendRequest> all = new ArrayList<>(requests.size());
          Map<WorkOrderEvent, EventCodec.EncodedEvent> encoded = new IdentityHashMap<>();
          for (Encoded r : requests) {
            all.add(r.request());
            List<WorkOrderEvent> events = r.request().events();
            for (int i = 0; i < events.size(); i++) {
              encoded.putIfAbsent(events.get(i), r.events().get(i));
            }
          }
          return append(c, ctx, all, encoded);
        }

        @Override
        public int results(Encoded request) {
          return request.request().events().size();
        }
      };

  private List<RecordedEvent> append(
      Connection c,
      Work.Context ctx,
      List<AppendRequest> requests,
      Map<WorkOrderEvent, EventCodec.EncodedEvent> encoded)
      throws SQLException {
    Set<WorkOrderId> ids = new LinkedHashSet<>();
    Set<String> keys = new LinkedHashSet<>();
    boolean newUnread = ctx.newStreamsUnread();
    for (AppendRequest r : requests) {
      if (!newUnread || !submits(r)) {
        ids.add(r.workOrderId());
      }
      for (WorkOrderEvent e : r.events()) {
        if (e instanceof WorkOrderEvent.Submitted s) {
          s.spec().idempotencyKey().ifPresent(keys::add);
        }
      }
    }
    // A submit's row is not read where the writer allows it (PostgreSQL's first try): the insert of
    // its row fails on the primary key if the work order exists, and the next try reads it.
    Map<WorkOrderId, Current> current =
        ids.isEmpty() ? new HashMap<>() : t.load(c, ids, d.lockRows());
    Map<String, WorkOrderId> holders = keyHolders(c, keys);
    AppendStaging<Current> staging =
        AppendStaging.stage(requests, ctx.now, current::get, Current::view, holders::get);
    List<AppendStaging.Event> events = staging.events();
    List<RecordedEvent> recorded = staging.record(ctx.positions(c, events.size()));
    List<Row> inserts = new ArrayList<>();
    List<WorkOrderId> waiting = new ArrayList<>();
    List<WorkOrderEvent.Submitted> waitingSubmits = new ArrayList<>();
    List<Row> updates = new ArrayList<>();
    List<Long> expectedVersions = new ArrayList<>();
    for (AppendStaging.Stream<Current> s : staging.streams()) {
      List<RecordedEvent> added = s.recorded();
      if (s.handle() == null) {
        inserts.add(Row.of(s.current(), added.get(0).position()));
        if (added.get(0).event() instanceof WorkOrderEvent.Submitted sub
            && !sub.dependencies().isEmpty()) {
          waiting.add(s.current().id());
          waitingSubmits.add(sub);
        }
      } else {
        updates.add(Row.of(s.current(), s.handle().row().seq()));
        expectedVersions.add(s.handle().row().version());
      }
      if (ListenerRegistry.becameClaimable(s.current(), added)) {
        ctx.claimable.add(s.current().queue());
      }
    }
    // PostgreSQL: events, new rows and updated rows in one statement, one round trip.
    t.write(
        c, recorded, i -> encoded.get(events.get(i).event()), inserts, updates, expectedVersions);
    flow.insertDependencies(c, waiting, waitingSubmits);
    return Collections.unmodifiableList(recorded);
  }

  /**
   * Whether the request submits a new work order: it expects no stream and begins with {@code
   * Submitted}. Only such a request may go unread; any other expecting no stream is read, so that
   * an existing stream is reported as the version conflict it is before its events are checked.
   */
  private static boolean submits(AppendRequest r) {
    return r.expected().equals(ExpectedVersion.none())
        && r.events().get(0) instanceof WorkOrderEvent.Submitted;
  }

  private Map<String, WorkOrderId> keyHolders(Connection c, Set<String> keys) throws SQLException {
    Map<String, WorkOrderId> holders = new HashMap<>();
    for (List<String> chunk : Tables.chunks(new ArrayList<>(keys))) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT idempotency_key, id FROM "
                  + d.workOrders
                  + " WHERE "
                  + t.in("idempotency_key", chunk.size()))) {
        t.bindIn(c, ps, 1, chunk);
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
