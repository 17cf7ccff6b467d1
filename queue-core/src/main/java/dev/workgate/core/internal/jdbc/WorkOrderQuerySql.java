package dev.workgate.core.internal.jdbc;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.spi.EventCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The SQL of work-order queries, counts and ended-per-interval reads ({@link Reads}), apart from
 * the store so that tests can ask the database how it runs them. Every value is a parameter; the
 * text depends only on which filters a query sets and how many values each has.
 *
 * <ul>
 *   <li>queue and states: columns of {@code wo_queue_state (queue, state, seq)};
 *   <li>resubmitted-from: {@code wo_resubmitted (resubmitted_from)} (schema version 4);
 *   <li>submission time, types, error code: columns of the projection, checked on the rows read;
 *   <li>labels: only the work order's {@code Submitted} event holds them, in its JSON ({@code
 *       {"spec":{…,"labels":{"k":"v"}}}}, see {@link EventCodec}), so each candidate's event is
 *       parsed by the database: on SQLite with {@code json_each}, on PostgreSQL as {@code json}
 *       with a containment test of its labels.
 * </ul>
 *
 * <p>A label filter reads event data as JSON: data that is not JSON the database accepts (a row
 * damaged outside Workgate) fails the statement on PostgreSQL, and {@link Reads} then filters the
 * labels itself; on SQLite such data matches no label.
 */
final class WorkOrderQuerySql {

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

  /** The join of a projection row (alias p) to its Submitted event (alias e), as in a view. */
  private static String submittedJoin(SqlDialect d) {
    return " JOIN " + d.events + " e ON e.work_order_id = p.id AND e.version = 1";
  }

  private WorkOrderQuerySql() {}

  /**
   * The statement that reads views of a query, in its order, after a cursor.
   *
   * @param d the dialect
   * @param viewSelect {@link Tables#viewSelect}
   * @param q the query
   * @param labels whether to filter by the query's labels in SQL (false: the caller does)
   * @param after the cursor: the seq to continue after, 0 for the start
   * @param rows the most rows to read
   * @return the statement, selecting what {@code viewSelect} selects
   */
  static Sql page(
      SqlDialect d, String viewSelect, WorkOrderQuery q, boolean labels, long after, int rows) {
    List<Object> params = new ArrayList<>();
    boolean newestFirst = q.order() == WorkOrderQuery.Order.NEWEST_FIRST;
    StringBuilder sql = new StringBuilder(viewSelect);
    if (newestFirst && after > 0) {
      sql.append(" WHERE p.seq < ?");
    } else {
      sql.append(" WHERE p.seq > ?");
    }
    params.add(after);
    filters(d, q, labels, sql, params);
    sql.append(newestFirst ? " ORDER BY p.seq DESC LIMIT ?" : " ORDER BY p.seq LIMIT ?");
    params.add(rows);
    return new Sql(sql.toString(), params);
  }

  /**
   * The statement that counts a query's work orders by a grouping: rows of (key, count).
   *
   * @param d the dialect
   * @param q the query; its cursor, limit and order play no part
   * @param by the grouping
   * @return the statement
   */
  static Sql count(SqlDialect d, WorkOrderQuery q, WorkOrderQuery.CountBy by) {
    String column =
        switch (by) {
          case STATE -> "p.state";
          case QUEUE -> "p.queue";
          case TYPE -> "p.type";
          case ERROR_CODE -> "p.error_code";
        };
    List<Object> params = new ArrayList<>();
    StringBuilder sql =
        new StringBuilder("SELECT ")
            .append(column)
            .append(", COUNT(*) FROM ")
            .append(d.workOrders)
            .append(" p");
    if (!q.labels().isEmpty()) {
      sql.append(submittedJoin(d));
    }
    sql.append(
        by == WorkOrderQuery.CountBy.ERROR_CODE
            ? " WHERE p.error_code IS NOT NULL"
            : " WHERE 1 = 1");
    filters(d, q, true, sql, params);
    sql.append(" GROUP BY ").append(column);
    return new Sql(sql.toString(), params);
  }

  /**
   * The statement that counts work orders that ended in {@code [from, to)} by state and interval:
   * rows of (state, bucket, count), where bucket {@code k} holds the times {@code from + k *
   * interval} up to the next. It reads {@code wo_terminal (updated_at, seq)}, whose condition the
   * statement repeats word for word so that SQLite uses the partial index.
   *
   * @param d the dialect
   * @param from the first microsecond counted
   * @param to the first microsecond not counted
   * @param interval the interval in microseconds, at least 1
   * @return the statement
   */
  static Sql ended(SqlDialect d, long from, long to, long interval) {
    return new Sql(
        "SELECT state, bucket, COUNT(*) FROM (SELECT p.state AS state, (p.updated_at - ?) / ? AS"
            + " bucket FROM "
            + d.workOrders
            + " p WHERE p.state IN ('COMPLETED', 'FAILED', 'CANCELLED')"
            + " AND p.updated_at >= ? AND p.updated_at < ?) x GROUP BY state, bucket",
        List.of(from, interval, from, to));
  }

  /** Appends the query's filters, each as {@code AND …}, and their parameters. */
  private static void filters(
      SqlDialect d, WorkOrderQuery q, boolean labels, StringBuilder sql, List<Object> params) {
    q.queue()
        .ifPresent(
            queue -> {
              sql.append(" AND p.queue = ?");
              params.add(queue);
            });
    if (!q.states().isEmpty() && q.states().size() < WorkOrderState.values().length) {
      sql.append(" AND p.state IN (").append(Tables.marks(q.states().size())).append(")");
      for (WorkOrderState s : WorkOrderState.values()) {
        if (q.states().contains(s)) {
          params.add(s.name());
        }
      }
    }
    q.submittedFrom()
        .ifPresent(
            t -> {
              sql.append(" AND p.submitted_at >= ?");
              params.add(Row.ceilMicros(t));
            });
    q.submittedBefore()
        .ifPresent(
            t -> {
              sql.append(" AND p.submitted_at < ?");
              params.add(Row.ceilMicros(t));
            });
    if (!q.types().isEmpty()) {
      sql.append(" AND p.type IN (").append(Tables.marks(q.types().size())).append(")");
      params.addAll(q.types());
    }
    q.errorCode()
        .ifPresent(
            code -> {
              sql.append(" AND p.error_code = ?");
              params.add(code);
            });
    q.resubmittedFrom()
        .ifPresent(
            id -> {
              sql.append(" AND p.resubmitted_from = ?");
              params.add(id.value());
            });
    q.batch()
        .ifPresent(
            b -> {
              sql.append(" AND p.batch_id = ?");
              params.add(b.value());
            });
    if (q.notResubmitted()) {
      // Served by wo_resubmitted (resubmitted_from), one probe per row the other filters leave.
      sql.append(" AND NOT EXISTS (SELECT 1 FROM ")
          .append(d.workOrders)
          .append(" r WHERE r.resubmitted_from = p.id)");
    }
    if (labels && !q.labels().isEmpty()) {
      labels(d, q.labels(), sql, params);
    }
  }

  /**
   * The label conditions, over the Submitted event's data (alias e).
   *
   * <p>SQLite: one {@code EXISTS} over {@code json_each} of the labels object per label; data that
   * is not valid JSON (damaged) is read as no labels instead of failing the statement.
   *
   * <p>PostgreSQL: the data as {@code json} (not {@code jsonb}, which would convert every value of
   * the payload too), its labels object converted to {@code jsonb} and tested for containment of
   * the labels asked for, given as one JSON parameter. PostgreSQL refuses to read a string that
   * holds the escape of NUL (<code>&#92;u0000</code>), which a payload may hold (JSON escapes NUL;
   * labels never hold it), so in data that contains one, every escaped backslash is first spelled
   * <code>&#92;u005c</code> (so that an escaped backslash followed by the text {@code u0000} is not
   * taken for the escape) and every escape of NUL then becomes <code>&#92;ufffd</code>: the labels
   * read the same, and only the copy parsed here changes. The five texts are parameters.
   */
  private static void labels(
      SqlDialect d, Map<String, String> labels, StringBuilder sql, List<Object> params) {
    if (d instanceof SqlDialect.Postgres) {
      sql.append(
          " AND ((CASE WHEN strpos(e.data, ?) > 0 THEN replace(replace(e.data, ?, ?), ?, ?)"
              + " ELSE e.data END)::json -> 'spec' -> 'labels')::jsonb @> ?::jsonb");
      params.add("\\u0000");
      params.add("\\\\");
      params.add("\\u005c");
      params.add("\\u0000");
      params.add("\\ufffd");
      ObjectNode wanted = JsonNodeFactory.instance.objectNode();
      labels.forEach(wanted::put);
      params.add(EventCodec.writeValue(wanted));
      return;
    }
    for (Map.Entry<String, String> label : labels.entrySet()) {
      sql.append(
          " AND EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(e.data) THEN e.data END,"
              + " '$.spec.labels') j WHERE j.key = ? AND j.value = ?)");
      params.add(label.getKey());
      params.add(label.getValue());
    }
  }
}
