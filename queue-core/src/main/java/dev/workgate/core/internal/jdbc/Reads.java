package dev.workgate.core.internal.jdbc;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.EndedCount;
import dev.workgate.core.store.EventQuery;
import dev.workgate.core.store.EventQuery.EventPage;
import dev.workgate.core.store.StoreException.UnreadableRowException;
import dev.workgate.core.store.StoreView.LogPage;
import dev.workgate.core.store.StoreView.NodeStatus;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderQuery.Page;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads: work orders by id, key and query, histories, the log and audit queries, counts by queue
 * and state and by a query's filters, work orders ended per interval, due leases and retries, and
 * the nodes table. An unreadable row is quarantined, then skipped where a page is read and thrown
 * where one work order is.
 *
 * <p>Thread-safe: holds no state of its own; reads run on the reader's connections.
 */
final class Reads {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcWorkOrderStore.class);

  private final Tables t;
  private final SqlDialect d;
  private final Quarantine quarantine;
  private final Work.Reader reader;

  Reads(Tables t, Work.Reader reader) {
    this.t = t;
    this.d = t.d;
    this.quarantine = t.quarantine;
    this.reader = reader;
  }

  List<RecordedEvent> readStream(WorkOrderId workOrderId) {
    Objects.requireNonNull(workOrderId, "workOrderId");
    t.ensureOpen();
    return reader.read(
        "read stream",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT "
                      + JdbcWorkOrderStore.EVENT_COLUMNS
                      + " FROM "
                      + d.events
                      + " WHERE work_order_id = ? ORDER BY version")) {
            ps.setString(1, workOrderId.value());
            // One work order's history: an unreadable event fails this read (after quarantining
            // it), since a history with a hole would be taken for the whole story.
            return Collections.unmodifiableList(scan(ps, false).events);
          }
        });
  }

  LogPage readLog(long afterPosition, int limit) {
    Tables.requireLimit(limit);
    t.ensureOpen();
    return reader.read(
        "read log",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT "
                      + JdbcWorkOrderStore.EVENT_COLUMNS
                      + " FROM "
                      + d.events
                      + " WHERE position > ? ORDER BY position LIMIT ?")) {
            ps.setLong(1, afterPosition);
            ps.setInt(2, limit);
            Scan scan = scan(ps, true);
            // Continue after the last row read, readable or not, so a reader passes a skipped one.
            return new LogPage(scan.events, scan.rows == 0 ? afterPosition : scan.lastPosition);
          }
        });
  }

  EventPage queryEvents(EventQuery query) {
    Objects.requireNonNull(query, "query");
    t.ensureOpen();
    EventQuerySql.Sql sql = EventQuerySql.of(d, query);
    return reader.read(
        "query events",
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql.sql())) {
            Tables.bind(ps, sql.params());
            // Rows, not events, make the page: unreadable events are skipped (quarantined), so a
            // page may hold fewer events than the limit, and its cursor continues after its last
            // row, readable or not.
            Scan scan = scan(ps, true, query.limit());
            if (scan.rows <= query.limit()) {
              return new EventPage(scan.events, Optional.empty());
            }
            return new EventPage(
                scan.events,
                Optional.of(
                    EventQuery.cursorOf(Row.instant(scan.lastRecordedAt), scan.lastPosition)));
          }
        });
  }

  /** Events read by a statement, and where the rows read ended. */
  private static final class Scan {
    final List<RecordedEvent> events = new ArrayList<>();
    int rows;
    long lastPosition;
    long lastRecordedAt;
  }

  private Scan scan(PreparedStatement ps, boolean skipUnreadable) throws SQLException {
    return scan(ps, skipUnreadable, Integer.MAX_VALUE);
  }

  /**
   * Reads the events of a statement selecting {@link JdbcWorkOrderStore#EVENT_COLUMNS}: of its
   * first {@code rows} rows, with the row after them counted but not kept. An unreadable event is
   * quarantined, then skipped or thrown.
   */
  private Scan scan(PreparedStatement ps, boolean skipUnreadable, int rows) throws SQLException {
    Scan scan = new Scan();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        scan.rows++;
        if (scan.rows > rows) {
          continue;
        }
        scan.lastPosition = rs.getLong(1);
        scan.lastRecordedAt = rs.getLong(7);
        try {
          scan.events.add(t.recorded(rs));
        } catch (UnreadableRowException e) {
          quarantine.add(e, skipUnreadable);
        }
      }
    }
    return scan;
  }

  Optional<WorkOrderView> find(WorkOrderId workOrderId) {
    Objects.requireNonNull(workOrderId, "workOrderId");
    t.ensureOpen();
    return reader.read(
        "find",
        c -> {
          try (PreparedStatement ps = c.prepareStatement(t.viewSelect + " WHERE p.id = ?")) {
            ps.setString(1, workOrderId.value());
            List<WorkOrderView> views = views(ps, false);
            return views.isEmpty() ? Optional.empty() : Optional.of(views.get(0));
          }
        });
  }

  /** Views of a statement; an unreadable work order is quarantined, then skipped or thrown. */
  private List<WorkOrderView> views(PreparedStatement ps, boolean skipUnreadable)
      throws SQLException {
    List<WorkOrderView> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        try {
          out.add(t.current(rs).view());
        } catch (UnreadableRowException e) {
          quarantine.add(e, skipUnreadable);
        }
      }
    }
    return out;
  }

  Page<WorkOrderView> query(WorkOrderQuery query) {
    Objects.requireNonNull(query, "query");
    t.ensureOpen();
    WorkOrderQuerySql.Sql sql =
        WorkOrderQuerySql.page(d, t.viewSelect, query, true, query.after(), query.limit() + 1);
    Page<WorkOrderView> page =
        reader.read(
            "query",
            c -> {
              try (PreparedStatement ps = c.prepareStatement(sql.sql())) {
                Tables.bind(ps, sql.params());
                // Rows, not views, make the page: an unreadable work order is quarantined and
                // skipped, so a page may hold fewer views than the limit.
                List<WorkOrderView> items = new ArrayList<>();
                int rows = 0;
                long lastSeq = 0;
                try (ResultSet rs = ps.executeQuery()) {
                  while (rs.next()) {
                    rows++;
                    if (rows > query.limit()) {
                      continue;
                    }
                    Row row = Row.read(rs, 1);
                    lastSeq = row.seq();
                    try {
                      items.add(t.current(row, rs).view());
                    } catch (UnreadableRowException e) {
                      quarantine.add(e);
                    }
                  }
                }
                return new Page<>(
                    items, rows > query.limit() ? OptionalLong.of(lastSeq) : OptionalLong.empty());
              } catch (SQLException e) {
                if (labelDataUnreadable(query, e)) {
                  return null;
                }
                throw e;
              }
            });
    return page != null ? page : reader.read("query", c -> queryMatchingLabelsHere(c, query));
  }

  /** Rows read at a time where this class filters labels itself. */
  private static final int LABEL_SCAN_ROWS = 500;

  /**
   * Whether a statement filtering by labels failed because an event's data is not JSON that the
   * database reads (a row damaged outside Workgate): then the labels are filtered here instead, so
   * that one damaged row is skipped as every read of many work orders skips it, rather than failing
   * the read.
   */
  private static boolean labelDataUnreadable(WorkOrderQuery query, SQLException e) {
    if (query.labels().isEmpty()) {
      return false;
    }
    String state = e.getSQLState();
    if (state != null) {
      // PostgreSQL: a data exception (invalid JSON, an escape it cannot convert) or JSON nested
      // deeper than the server's stack allows.
      return state.startsWith("22") || state.equals("54001");
    }
    String message = e.getMessage();
    return message != null && message.contains("JSON");
  }

  /**
   * {@link #query} with the labels checked on decoded views: the rows that the other filters select
   * are read in the query's order, a chunk at a time, until the page and one more match.
   */
  private Page<WorkOrderView> queryMatchingLabelsHere(Connection c, WorkOrderQuery query)
      throws SQLException {
    List<WorkOrderView> items = new ArrayList<>();
    long[] lastSeq = {0};
    boolean more =
        !scanMatchingLabelsHere(
            c,
            query,
            query.after(),
            (view, seq) -> {
              if (items.size() == query.limit()) {
                return false;
              }
              items.add(view);
              lastSeq[0] = seq;
              return true;
            });
    return new Page<>(items, more ? OptionalLong.of(lastSeq[0]) : OptionalLong.empty());
  }

  /** What {@link #scanMatchingLabelsHere} hands each match to; false stops the scan. */
  private interface MatchVisitor {
    boolean visit(WorkOrderView view, long seq);
  }

  /**
   * Walks the rows that the query's other filters select, in its order from a cursor, {@value
   * #LABEL_SCAN_ROWS} at a time, and hands each readable view that matches the whole query (its
   * labels checked here) to the visitor; an unreadable row is quarantined and skipped.
   *
   * @return true if the rows ran out, false if the visitor stopped the scan
   */
  private boolean scanMatchingLabelsHere(
      Connection c, WorkOrderQuery query, long from, MatchVisitor visitor) throws SQLException {
    long cursor = from;
    while (true) {
      WorkOrderQuerySql.Sql sql =
          WorkOrderQuerySql.page(d, t.viewSelect, query, false, cursor, LABEL_SCAN_ROWS);
      int rows = 0;
      try (PreparedStatement ps = c.prepareStatement(sql.sql())) {
        Tables.bind(ps, sql.params());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            rows++;
            Row row = Row.read(rs, 1);
            cursor = row.seq();
            WorkOrderView view;
            try {
              view = t.current(row, rs).view();
            } catch (UnreadableRowException e) {
              quarantine.add(e);
              continue;
            }
            if (query.matches(view) && !visitor.visit(view, row.seq())) {
              return false;
            }
          }
        }
      }
      if (rows < LABEL_SCAN_ROWS) {
        return true;
      }
    }
  }

  SortedMap<String, Long> count(WorkOrderQuery query, WorkOrderQuery.CountBy by) {
    Objects.requireNonNull(query, "query");
    Objects.requireNonNull(by, "by");
    t.ensureOpen();
    WorkOrderQuerySql.Sql sql = WorkOrderQuerySql.count(d, query, by);
    TreeMap<String, Long> counts = new TreeMap<>();
    if (by == WorkOrderQuery.CountBy.STATE) {
      for (WorkOrderState state : WorkOrderState.values()) {
        counts.put(state.name(), 0L);
      }
    }
    boolean counted =
        reader.read(
            "count",
            c -> {
              try (PreparedStatement ps = c.prepareStatement(sql.sql())) {
                Tables.bind(ps, sql.params());
                try (ResultSet rs = ps.executeQuery()) {
                  while (rs.next()) {
                    counts.merge(rs.getString(1), rs.getLong(2), Long::sum);
                  }
                }
                return true;
              } catch (SQLException e) {
                if (labelDataUnreadable(query, e)) {
                  return false;
                }
                throw e;
              }
            });
    if (!counted) {
      reader.read(
          "count",
          c -> {
            countMatchingLabelsHere(c, query, by, counts);
            return null;
          });
    }
    return Collections.unmodifiableSortedMap(counts);
  }

  /** {@link #count} with the labels checked on decoded views; unreadable ones are not counted. */
  private void countMatchingLabelsHere(
      Connection c, WorkOrderQuery query, WorkOrderQuery.CountBy by, Map<String, Long> counts)
      throws SQLException {
    // Every row the other filters select, from the start: a query's cursor is not part of a count.
    scanMatchingLabelsHere(
        c,
        query,
        0,
        (view, seq) -> {
          by.keyOf(view).ifPresent(key -> counts.merge(key, 1L, Long::sum));
          return true;
        });
  }

  List<EndedCount> endedPerInterval(Instant from, Instant to, Duration interval) {
    List<Instant> starts = EndedCount.bucketStarts(from, to, interval);
    t.ensureOpen();
    long intervalMicros;
    try {
      intervalMicros =
          Math.addExact(
              Math.multiplyExact(interval.getSeconds(), 1_000_000L), interval.getNano() / 1_000);
    } catch (ArithmeticException e) {
      // Longer than any range allowed: every work order in range falls in bucket 0.
      intervalMicros = Long.MAX_VALUE;
    }
    WorkOrderQuerySql.Sql sql =
        WorkOrderQuerySql.ended(d, Row.ceilMicros(from), Row.ceilMicros(to), intervalMicros);
    long[][] counts = new long[3][starts.size()];
    reader.read(
        "ended per interval",
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql.sql())) {
            Tables.bind(ps, sql.params());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                int state =
                    switch (WorkOrderState.valueOf(rs.getString(1))) {
                      case COMPLETED -> 0;
                      case FAILED -> 1;
                      default -> 2;
                    };
                long bucket = rs.getLong(2);
                if (bucket >= 0 && bucket < starts.size()) {
                  counts[state][(int) bucket] += rs.getLong(3);
                }
              }
            }
          }
          return null;
        });
    List<EndedCount> out = new ArrayList<>(starts.size());
    for (int k = 0; k < starts.size(); k++) {
      out.add(new EndedCount(starts.get(k), counts[0][k], counts[1][k], counts[2][k]));
    }
    return Collections.unmodifiableList(out);
  }

  QueueCounts counts() {
    t.ensureOpen();
    return reader.read(
        "counts",
        c -> {
          QueueCounts.Builder counts = QueueCounts.builder();
          try (Statement st = c.createStatement();
              ResultSet rs =
                  st.executeQuery(
                      "SELECT queue, state, COUNT(*) FROM "
                          + d.workOrders
                          + " GROUP BY queue, state")) {
            while (rs.next()) {
              counts.add(rs.getString(1), WorkOrderState.valueOf(rs.getString(2)), rs.getLong(3));
            }
          }
          return counts.build();
        });
  }

  Optional<WorkOrderId> findByIdempotencyKey(String idempotencyKey) {
    Objects.requireNonNull(idempotencyKey, "idempotencyKey");
    t.ensureOpen();
    return reader.read(
        "find by idempotency key",
        c ->
            Optional.ofNullable(
                    SqlDialect.queryString(
                        c,
                        "SELECT id FROM " + d.workOrders + " WHERE idempotency_key = ?",
                        idempotencyKey))
                .map(WorkOrderId::of));
  }

  List<WorkOrderView> expiredLeases(Instant now, int limit) {
    return dueBy(
        "expired leases",
        "p.state IN ('PREPARING', 'RUNNING') AND p.lease_expires_at <= ?"
            + " ORDER BY p.lease_expires_at, p.seq",
        now,
        limit);
  }

  List<WorkOrderView> resolvableBlocked(String condition, int limit) {
    Tables.requireLimit(limit);
    t.ensureOpen();
    return reader.read(
        "resolvable blocked work orders",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  t.viewSelect + " WHERE " + condition + " ORDER BY p.seq LIMIT ?")) {
            ps.setInt(1, limit);
            return Collections.unmodifiableList(views(ps, true));
          }
        });
  }

  List<WorkOrderView> dueRetries(Instant now, int limit) {
    return dueBy(
        "due retries",
        "p.state = 'WAITING_RETRY' AND p.next_attempt_at <= ? ORDER BY p.next_attempt_at, p.seq",
        now,
        limit);
  }

  private List<WorkOrderView> dueBy(String what, String where, Instant now, int limit) {
    Objects.requireNonNull(now, "now");
    Tables.requireLimit(limit);
    t.ensureOpen();
    return reader.read(
        what,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(t.viewSelect + " WHERE " + where + " LIMIT ?")) {
            ps.setLong(1, Row.micros(now));
            ps.setInt(2, limit);
            return Collections.unmodifiableList(views(ps, true));
          }
        });
  }

  Optional<Instant> nextRetryAt() {
    t.ensureOpen();
    return reader.read(
        "next retry time",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT next_attempt_at FROM "
                      + d.workOrders
                      + " WHERE state = 'WAITING_RETRY' ORDER BY next_attempt_at LIMIT 1")) {
            return firstInstant(ps);
          }
        });
  }

  Optional<Instant> nextAvailableAt(String queue, Instant now) {
    Objects.requireNonNull(queue, "queue");
    Objects.requireNonNull(now, "now");
    t.ensureOpen();
    return reader.read(
        "next available time",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT available_at FROM "
                      + d.workOrders
                      + " WHERE queue = ? AND state = 'PENDING' AND available_at > ?"
                      + " ORDER BY available_at LIMIT 1")) {
            ps.setString(1, queue);
            ps.setLong(2, Row.micros(now));
            return firstInstant(ps);
          }
        });
  }

  private static Optional<Instant> firstInstant(PreparedStatement ps) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? Optional.of(Row.instant(rs.getLong(1))) : Optional.empty();
    }
  }

  List<NodeStatus> nodes() {
    t.ensureOpen();
    return reader.read(
        "nodes",
        c -> {
          List<NodeStatus> out = new ArrayList<>();
          try (Statement st = c.createStatement();
              ResultSet rs =
                  st.executeQuery(
                      "SELECT id, slots, memory_mb, slots_in_use, memory_mb_in_use, pressure,"
                          + " version, started_at, heartbeat_at FROM "
                          + d.nodes
                          + " ORDER BY id")) {
            while (rs.next()) {
              try {
                out.add(
                    new NodeStatus(
                        rs.getString(1),
                        rs.getInt(2),
                        rs.getLong(3),
                        rs.getInt(4),
                        rs.getLong(5),
                        rs.getString(6),
                        rs.getString(7),
                        Row.instant(rs.getLong(8)),
                        Row.instant(rs.getLong(9))));
              } catch (RuntimeException bad) {
                // A row no node of this version wrote: skipped, so one bad row never hides the
                // others (nor fails the reader).
                LOG.warn(
                    "skipping an unreadable row of {}: {}",
                    d.nodes,
                    bad.getClass().getSimpleName());
              }
            }
          }
          return List.copyOf(out);
        });
  }
}
