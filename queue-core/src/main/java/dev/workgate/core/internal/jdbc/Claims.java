package dev.workgate.core.internal.jdbc;

import dev.workgate.core.Progress;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.jdbc.Tables.Current;
import dev.workgate.core.store.StoreException.UnreadableRowException;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.Claim;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.EventCodec;
import dev.workgate.spi.WorkOrder;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Claims and leases: takes the next work orders of a queue that fit a capacity, in priority and
 * submission order, without waiting for rows another claimer holds ({@code FOR UPDATE SKIP LOCKED}
 * on PostgreSQL), writes their {@code Claimed} events (each followed by its {@code Started} when
 * the request's start names a sandbox) and each row's one update (on PostgreSQL in one statement),
 * and renews leases.
 *
 * <p>Thread-safe: holds no state of its own; each claim runs in one write transaction.
 */
final class Claims {
  private final Tables t;
  private final SqlDialect d;
  private final Quarantine quarantine;
  private final Work.Writer writer;
  private final Flow flow;
  private final String claimSelect;

  /** Rows read beyond the claim's limit in its first page. */
  static final int SPARE_ROWS = 4;

  Claims(Tables t, Work.Writer writer, Flow flow) {
    this.flow = flow;
    this.t = t;
    this.d = t.d;
    this.quarantine = t.quarantine;
    this.writer = writer;
    this.claimSelect =
        t.viewSelect.replace(" p JOIN ", " p" + d.claimIndexHint() + " JOIN ")
            + " WHERE p.queue = ? AND p.state = 'PENDING' AND p.available_at <= ?"
            + " AND p.slots <= ? AND p.memory_mb <= ?"
            + " AND (p.priority < ? OR (p.priority = ? AND p.seq > ?))"
            + " ORDER BY p.priority DESC, p.seq LIMIT ?";
  }

  List<WorkOrderView> claim(ClaimRequest request) {
    List<Claim> claims = claimRecorded(request);
    List<WorkOrderView> views = new ArrayList<>(claims.size());
    for (Claim claim : claims) {
      views.add(claim.view());
    }
    return Collections.unmodifiableList(views);
  }

  List<Claim> claimRecorded(ClaimRequest request) {
    Objects.requireNonNull(request, "request");
    t.ensureOpen();
    t.ensureWritable("claim");
    WorkOrderEvent.Claimed claimed =
        new WorkOrderEvent.Claimed(request.owner(), request.leaseExpiresAt());
    EventCodec.EncodedEvent encoded = EventCodec.encode(claimed);
    return writer.write("claim", (c, ctx) -> claim(c, ctx, request, claimed, encoded));
  }

  private List<Claim> claim(
      Connection c,
      Work.Context ctx,
      ClaimRequest request,
      WorkOrderEvent.Claimed claimed,
      EventCodec.EncodedEvent encoded)
      throws SQLException {
    if (flow.pausedForClaim(c, request.queue())) {
      return List.of();
    }
    // Read candidates in claim order without locking, pick greedily what fits, then lock only
    // the picks (skipping any another claimer holds): rows this claim does not take stay
    // claimable by others while it runs.
    Capacity left = request.capacity();
    List<Current> chosen = new ArrayList<>(Math.min(request.limit(), 256));
    // The limit and a few spare for rows that do not fit together or that another claimer takes;
    // more are read page by page only then. Each row read costs the server a join to its
    // Submitted event and the node a decode, so a page many times the limit was most of a claim's
    // cost on PostgreSQL.
    int pageSize = Math.min(request.limit() + SPARE_ROWS, 1000);
    long afterPriority = Integer.MAX_VALUE + 1L;
    long afterSeq = -1;
    Set<String> lockedByUs = new HashSet<>();
    Set<String> lost = new HashSet<>(); // held by another claimer, or changed since read
    while (chosen.size() < request.limit() && left.slots() > 0) {
      List<Current> page = new ArrayList<>(pageSize);
      int scanned = 0;
      long lastPriority = 0;
      long lastSeq = 0;
      try (PreparedStatement ps = c.prepareStatement(claimSelect)) {
        ps.setString(1, request.queue());
        ps.setLong(2, Row.micros(request.now()));
        ps.setInt(3, left.slots());
        ps.setLong(4, left.memoryMb());
        ps.setLong(5, afterPriority);
        ps.setLong(6, afterPriority);
        ps.setLong(7, afterSeq);
        ps.setInt(8, pageSize);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Row row = Row.read(rs, 1);
            scanned++;
            lastPriority = row.priority();
            lastSeq = row.seq();
            // An unreadable work order is quarantined and skipped, not a failed claim: the others
            // must still run, on this node and on every node sharing the store.
            if (quarantine.holds(row.id())) {
              continue;
            }
            try {
              page.add(t.current(row, rs));
            } catch (UnreadableRowException e) {
              quarantine.add(e);
            }
          }
        }
      }
      // Pick greedily in claim order among the rows not lost to another claimer, lock the new
      // picks, and pick again while some were lost: the result is the claim order of the rows
      // this claim can have. Rows locked in an earlier round but not picked in the last stay
      // locked until commit (only when claimers collide).
      List<Current> picks;
      while (true) {
        picks = new ArrayList<>();
        Capacity tentative = left;
        for (Current cur : page) {
          if (chosen.size() + picks.size() == request.limit()) {
            break;
          }
          if (!lost.contains(cur.row().id()) && tentative.fits(cur.view().resources())) {
            picks.add(cur);
            tentative = tentative.minus(cur.view().resources());
          }
        }
        List<Current> toLock = new ArrayList<>();
        for (Current cur : picks) {
          if (!lockedByUs.contains(cur.row().id())) {
            toLock.add(cur);
          }
        }
        List<Current> locked = lockUnchanged(c, toLock);
        locked.forEach(cur -> lockedByUs.add(cur.row().id()));
        if (locked.size() == toLock.size()) {
          break;
        }
        for (Current cur : toLock) {
          if (!lockedByUs.contains(cur.row().id())) {
            lost.add(cur.row().id());
          }
        }
      }
      for (Current cur : picks) {
        chosen.add(cur);
        left = left.minus(cur.view().resources());
      }
      if (scanned < pageSize) {
        break;
      }
      afterPriority = lastPriority;
      afterSeq = lastSeq;
    }
    if (chosen.isEmpty()) {
      return List.of();
    }
    // With a start, a work order's Started follows its Claimed in this transaction: two events,
    // one row update that leaves it RUNNING.
    List<WorkOrder> afterClaim = new ArrayList<>(chosen.size());
    List<Optional<String>> sandboxes = new ArrayList<>(chosen.size());
    int count = 0;
    for (Current cur : chosen) {
      WorkOrder after = cur.view().apply(claimed, cur.view().version() + 1, ctx.now);
      Optional<String> sandbox = request.startIn(after);
      afterClaim.add(after);
      sandboxes.add(sandbox);
      count += sandbox.isPresent() ? 2 : 1;
    }
    long[] positions = ctx.positions(c, count);
    List<RecordedEvent> events = new ArrayList<>(count);
    List<EventCodec.EncodedEvent> encodings = new ArrayList<>(count);
    List<Row> rows = new ArrayList<>(chosen.size());
    List<Long> versions = new ArrayList<>(chosen.size());
    List<Claim> claims = new ArrayList<>(chosen.size());
    int p = 0;
    for (int i = 0; i < chosen.size(); i++) {
      Current cur = chosen.get(i);
      WorkOrder after = afterClaim.get(i);
      RecordedEvent event =
          new RecordedEvent(positions[p++], cur.view().id(), after.version(), ctx.now, claimed);
      events.add(event);
      encodings.add(encoded);
      RecordedEvent start = null;
      if (sandboxes.get(i).isPresent()) {
        WorkOrderEvent.Started started = new WorkOrderEvent.Started(sandboxes.get(i).get());
        start =
            new RecordedEvent(
                positions[p++], cur.view().id(), after.version() + 1, ctx.now, started);
        events.add(start);
        encodings.add(EventCodec.encode(started));
        after = after.apply(started, start.version(), ctx.now);
      }
      Row row = Row.of(after, cur.row().seq());
      rows.add(row);
      versions.add(cur.row().version());
      claims.add(
          new Claim(
              row.toView(after.spec(), after.dependencies()), event, Optional.ofNullable(start)));
    }
    // PostgreSQL: the events and the row updates in one statement, one round trip.
    t.write(c, events, encodings::get, List.of(), rows, versions);
    return Collections.unmodifiableList(claims);
  }

  /**
   * Locks the picked rows that are still PENDING at the version read, skipping rows another writer
   * holds; returns those, in pick order.
   */
  private List<Current> lockUnchanged(Connection c, List<Current> picks) throws SQLException {
    if (picks.isEmpty()) {
      return List.of();
    }
    Map<String, Long> locked = new HashMap<>();
    List<String> ids = new ArrayList<>(picks.size());
    for (Current cur : picks) {
      ids.add(cur.row().id());
    }
    // On PostgreSQL one statement text whatever the number of picks (= ANY of one array), so the
    // server plans it once per connection rather than once per claim size.
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT p.id, p.version FROM "
                + d.workOrders
                + " p WHERE p.state = 'PENDING' AND "
                + t.in("p.id", ids.size())
                + d.skipLocked())) {
      t.bindIn(c, ps, 1, ids);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          locked.put(rs.getString(1), rs.getLong(2));
        }
      }
    }
    List<Current> out = new ArrayList<>(picks.size());
    for (Current cur : picks) {
      Long version = locked.get(cur.row().id());
      if (version != null && version == cur.row().version()) {
        out.add(cur);
      }
    }
    return out;
  }

  boolean renewLease(
      WorkOrderId workOrderId, String owner, int attempt, Instant expiresAt, Progress progress) {
    Objects.requireNonNull(workOrderId, "workOrderId");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(expiresAt, "expiresAt");
    t.ensureOpen();
    t.ensureWritable("renew lease");
    return writer.write(
        "renew lease",
        (c, ctx) -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE "
                      + d.workOrders
                      + " SET lease_expires_at = ?"
                      + (progress == null ? "" : ", progress = ?")
                      + " WHERE id = ? AND lease_owner = ? AND attempt = ?"
                      + " AND state IN ('PREPARING', 'RUNNING')")) {
            int i = 1;
            ps.setLong(i++, Row.micros(expiresAt));
            if (progress != null) {
              ps.setString(i++, Row.progressJson(progress));
            }
            ps.setString(i++, workOrderId.value());
            ps.setString(i++, owner);
            ps.setInt(i, attempt);
            return ps.executeUpdate() == 1;
          }
        });
  }
}
