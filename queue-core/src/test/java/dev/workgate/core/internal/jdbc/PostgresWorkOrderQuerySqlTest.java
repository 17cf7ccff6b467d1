package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.cancelled;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.spec;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link JdbcWorkOrderQuerySqlTest} on PostgreSQL, and how PostgreSQL runs the statements that have
 * an index of their own, asked with {@code EXPLAIN} after {@code ANALYZE} on 20,000 work orders of
 * which a fifth ended and ten are resubmissions: neither reads the whole projection.
 */
class PostgresWorkOrderQuerySqlTest extends JdbcWorkOrderQuerySqlTest {

  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  private SqlDialect.Postgres dialect;

  @Override
  WorkOrderStore openStore() {
    dialect = new SqlDialect.Postgres(db.schema(), JdbcTestKit.PREFIX);
    return db.openStore(clock);
  }

  @Override
  Connection connect() throws SQLException {
    return db.adminConnection();
  }

  @Override
  SqlDialect dialect() {
    return dialect;
  }

  /** 20,000 work orders, one a second, a fifth cancelled, ten resubmitted from the first. */
  private WorkOrderId fill() {
    WorkOrderId original = newId();
    store().append(original, ExpectedVersion.none(), List.of(submitted(QUEUE), cancelled()));
    for (int batch = 0; batch < 40; batch++) {
      List<AppendRequest> requests = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        int n = batch * 500 + i;
        requests.add(
            n % 2_000 == 0
                ? AppendRequest.of(
                    newId(),
                    ExpectedVersion.none(),
                    new WorkOrderEvent.Submitted(spec(QUEUE).build(), original))
                : n % 5 == 0
                    ? AppendRequest.of(
                        newId(), ExpectedVersion.none(), submitted(QUEUE), cancelled())
                    : AppendRequest.of(newId(), ExpectedVersion.none(), submitted(QUEUE)));
      }
      store().appendAll(requests);
      clock.advance(Duration.ofSeconds(1));
    }
    db.execute("ANALYZE " + db.table(JdbcTestKit.PREFIX + "work_orders"));
    db.execute("ANALYZE " + db.table(JdbcTestKit.PREFIX + "events"));
    return original;
  }

  @Test
  void a_query_by_resubmittedFrom_reads_the_index_of_resubmissions() {
    WorkOrderId original = fill();
    for (WorkOrderQuery.Order order : WorkOrderQuery.Order.values()) {
      WorkOrderQuery query =
          WorkOrderQuery.builder().resubmittedFrom(original).order(order).limit(2).build();
      WorkOrderQuerySql.Sql sql =
          WorkOrderQuerySql.page(
              dialect, new Tables(dialect, true, 0).viewSelect, query, true, 0, 3);

      String plan = String.join("\n", explain("EXPLAIN ", sql));

      assertThat(plan)
          .as("%s", order)
          .contains(JdbcTestKit.PREFIX + "wo_resubmitted")
          .doesNotContain("Seq Scan on " + JdbcTestKit.PREFIX + "work_orders");
      assertThat(ids(query)).hasSize(10);
    }
  }

  @Test
  void a_count_of_ended_work_orders_reads_the_index_of_terminal_work_orders() {
    fill();
    long start = Row.micros(clock.instant().minusSeconds(10));
    WorkOrderQuerySql.Sql sql =
        WorkOrderQuerySql.ended(dialect, start, Row.micros(clock.instant()), 1_000_000L);

    String plan = String.join("\n", explain("EXPLAIN ", sql));

    assertThat(plan)
        .contains(JdbcTestKit.PREFIX + "wo_terminal")
        .doesNotContain("Seq Scan on " + JdbcTestKit.PREFIX + "work_orders");
  }
}
