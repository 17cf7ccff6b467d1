package dev.workgate.core.internal.jdbc;

import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.store.EventQuery;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The SQL of an audit query ({@link JdbcWorkOrderStore#queryEvents}), apart from the store so that
 * tests can ask the database how it runs it. Each shape reads one index in the query's order and
 * stops after the page (and one more row, which tells whether more follow):
 *
 * <ul>
 *   <li>by work order: the stream index; the stream is short, so its rows are sorted;
 *   <li>by one type: {@code events_type}, from the range and cursor on;
 *   <li>by several types: one such read per type, each limited to the page, merged by a sort of at
 *       most (types × page) rows;
 *   <li>otherwise: {@code events_recorded}, from the range and cursor on.
 * </ul>
 *
 * <p>The cursor is a row-value comparison on (recorded_at, position), the order of both indexes.
 */
final class EventQuerySql {

  /**
   * A statement and its parameters.
   *
   * @param sql the statement
   * @param params its parameters in order: {@link String}, {@link Integer} or {@link Long}
   */
  record Sql(String sql, List<Object> params) {
    Sql {
      params = List.copyOf(params);
    }
  }

  private EventQuerySql() {}

  /**
   * The statement that reads one page of a query, and one event more if there is one.
   *
   * @param d the dialect
   * @param q the query
   * @return the statement, selecting {@link JdbcWorkOrderStore#EVENT_COLUMNS}
   */
  static Sql of(SqlDialect d, EventQuery q) {
    boolean newestFirst = q.order() == EventQuery.Order.NEWEST_FIRST;
    String orderBy =
        newestFirst
            ? " ORDER BY recorded_at DESC, position DESC LIMIT ?"
            : " ORDER BY recorded_at, position LIMIT ?";
    int rows = q.limit() + 1;
    List<String> types = new ArrayList<>();
    if (q.types().size() < EventType.values().length) {
      for (EventType t : EventType.values()) {
        if (q.types().contains(t)) {
          types.add(t.typeName());
        }
      }
    }
    List<Object> params = new ArrayList<>();
    if (q.workOrder().isPresent() || types.size() < 2) {
      String index = q.workOrder().isPresent() ? "events_stream" : "events_recorded";
      List<String> where = new ArrayList<>();
      q.workOrder()
          .ifPresent(
              id -> {
                where.add("work_order_id = ?");
                params.add(id.value());
              });
      if (types.size() == 1) {
        index = q.workOrder().isPresent() ? index : "events_type";
        where.add("type = ?");
        params.add(types.get(0));
      } else if (!types.isEmpty()) {
        where.add("type IN (" + String.join(", ", types.stream().map(t -> "?").toList()) + ")");
        params.addAll(types);
      }
      rangeAndCursor(q, where, params);
      params.add(rows);
      return new Sql(select(d, index, where) + orderBy, params);
    }
    // Several types: an IN list on events_type would read every matching row of each type in the
    // range and sort them all; one limited read per type bounds the sort by the page size.
    StringBuilder sql = new StringBuilder();
    for (int i = 0; i < types.size(); i++) {
      List<String> where = new ArrayList<>();
      where.add("type = ?");
      params.add(types.get(i));
      rangeAndCursor(q, where, params);
      params.add(rows);
      sql.append(i == 0 ? "" : " UNION ALL ")
          .append("SELECT ")
          .append(JdbcWorkOrderStore.EVENT_COLUMNS)
          .append(" FROM (")
          .append(select(d, "events_type", where))
          .append(orderBy)
          .append(") t")
          .append(i);
    }
    params.add(rows);
    return new Sql(sql.append(orderBy).toString(), params);
  }

  private static String select(SqlDialect d, String index, List<String> where) {
    return "SELECT "
        + JdbcWorkOrderStore.EVENT_COLUMNS
        + " FROM "
        + d.events
        + d.eventIndexHint(index)
        + (where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where));
  }

  private static void rangeAndCursor(EventQuery q, List<String> where, List<Object> params) {
    // Stored times are whole microseconds m: m >= t exactly when m >= ceil(t), and m < t exactly
    // when m < ceil(t).
    q.from()
        .ifPresent(
            t -> {
              where.add("recorded_at >= ?");
              params.add(Row.ceilMicros(t));
            });
    q.to()
        .ifPresent(
            t -> {
              where.add("recorded_at < ?");
              params.add(Row.ceilMicros(t));
            });
    if (q.after().isPresent()) {
      Instant t = q.afterRecordedAt().orElseThrow();
      long position = q.afterPosition().orElseThrow();
      if (t.getNano() % 1000 != 0) {
        // A cursor between two stored microseconds (not one of this store's): comparing with
        // (floor(t), MAX_VALUE) puts every row of floor(t) before the cursor, which is where t
        // puts them, in both orders.
        position = Long.MAX_VALUE;
      }
      where.add(
          q.order() == EventQuery.Order.NEWEST_FIRST
              ? "(recorded_at, position) < (?, ?)"
              : "(recorded_at, position) > (?, ?)");
      params.add(Row.micros(t));
      params.add(position);
    }
  }
}
