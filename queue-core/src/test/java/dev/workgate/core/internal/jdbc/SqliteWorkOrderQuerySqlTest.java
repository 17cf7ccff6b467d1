package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.cancelled;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.spec;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link JdbcWorkOrderQuerySqlTest} on SQLite, and how SQLite runs the statements that have an
 * index of their own, asked with {@code EXPLAIN QUERY PLAN}: the lookup of resubmissions and the
 * count of ended work orders search their indexes instead of scanning the projection.
 */
class SqliteWorkOrderQuerySqlTest extends JdbcWorkOrderQuerySqlTest {
  @TempDir Path dir;

  private SqlDialect.Sqlite dialect;

  @Override
  WorkOrderStore openStore() {
    Path file = dir.resolve("workgate.db");
    dialect = new SqlDialect.Sqlite(file.toString(), JdbcTestKit.PREFIX);
    return Stores.sqlite(file, SqliteOptions.builder().clock(clock).build());
  }

  @Override
  Connection connect() throws SQLException {
    return DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("workgate.db"));
  }

  @Override
  SqlDialect dialect() {
    return dialect;
  }

  /** 500 work orders, a fifth cancelled, and a few resubmitted from the first. */
  private WorkOrderId fill() {
    WorkOrderId original = newId();
    store().append(original, ExpectedVersion.none(), List.of(submitted(QUEUE), cancelled()));
    List<AppendRequest> requests = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      requests.add(
          i % 100 == 0
              ? AppendRequest.of(
                  newId(),
                  ExpectedVersion.none(),
                  new WorkOrderEvent.Submitted(spec(QUEUE).build(), original))
              : i % 5 == 0
                  ? AppendRequest.of(newId(), ExpectedVersion.none(), submitted(QUEUE), cancelled())
                  : AppendRequest.of(newId(), ExpectedVersion.none(), submitted(QUEUE)));
    }
    store().appendAll(requests);
    return original;
  }

  @Test
  void a_query_by_resubmittedFrom_searches_the_index_of_resubmissions() {
    WorkOrderId original = fill();
    for (WorkOrderQuery.Order order : WorkOrderQuery.Order.values()) {
      WorkOrderQuery query =
          WorkOrderQuery.builder().resubmittedFrom(original).order(order).limit(2).build();
      WorkOrderQuerySql.Sql sql =
          WorkOrderQuerySql.page(
              dialect, new Tables(dialect, true, 0).viewSelect, query, true, 0, 3);

      assertThat(explain("EXPLAIN QUERY PLAN ", sql))
          .as("%s", order)
          .anySatisfy(
              line ->
                  assertThat(line)
                      .startsWith("SEARCH p USING INDEX " + JdbcTestKit.PREFIX + "wo_resubmitted"))
          .noneSatisfy(line -> assertThat(line).startsWith("SCAN p"));
      assertThat(ids(query)).hasSize(5);
    }
  }

  @Test
  void a_count_of_ended_work_orders_searches_the_index_of_terminal_work_orders() {
    fill();
    WorkOrderQuerySql.Sql sql = WorkOrderQuerySql.ended(dialect, 0, Long.MAX_VALUE, 60_000_000L);

    assertThat(explain("EXPLAIN QUERY PLAN ", sql))
        .anySatisfy(
            line ->
                assertThat(line)
                    .startsWith("SEARCH p USING INDEX " + JdbcTestKit.PREFIX + "wo_terminal"))
        .noneSatisfy(line -> assertThat(line).startsWith("SCAN p"));
  }

  @Test
  void a_count_by_queue_and_state_reads_the_queue_state_index_alone() {
    fill();
    WorkOrderQuerySql.Sql sql =
        WorkOrderQuerySql.count(
            dialect,
            WorkOrderQuery.builder().queue(QUEUE).states(WorkOrderState.CANCELLED).build(),
            WorkOrderQuery.CountBy.STATE);

    assertThat(explain("EXPLAIN QUERY PLAN ", sql))
        .anySatisfy(
            line ->
                assertThat(line)
                    .startsWith(
                        "SEARCH p USING COVERING INDEX " + JdbcTestKit.PREFIX + "wo_queue_state"));
  }
}
