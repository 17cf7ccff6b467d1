package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.cancelled;
import static dev.workgate.core.testing.WorkOrderFixtures.claimed;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.EventQuery;
import dev.workgate.core.store.EventQuery.EventPage;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * How PostgreSQL runs the statements of audit queries ({@link EventQuerySql}), asked with {@code
 * EXPLAIN} after {@code ANALYZE} on a log of 6,060 events over 60 seconds (80 Submitted, 20 Claimed
 * and 1 Cancelled a second): a page reads an index in the query's order and stops, with no sort of
 * the log. No planner setting is changed, so where two indexes serve a query the planner's choice
 * is asserted only as far as the design needs it.
 */
class PostgresEventQueryPlanTest {

  /** A Sort node (not the "Sort Key" of a Merge Append). */
  private static final Pattern SORT_NODE =
      Pattern.compile("(?m)^\\s*(->\\s+)?(Incremental )?Sort\\s+\\(");

  private static final Pattern SORT_NODE_ROWS =
      Pattern.compile("(?m)^\\s*(?:->\\s+)?(?:Incremental )?Sort\\s+\\(cost=\\S+ rows=(\\d+)");

  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  private final MutableClock clock = MutableClock.create();
  private WorkOrderStore store;
  private SqlDialect dialect;
  private WorkOrderId someWorkOrder;

  @BeforeEach
  void fillLog() {
    store = db.openStore(clock);
    dialect = new SqlDialect.Postgres(db.schema(), JdbcTestKit.PREFIX);
    // One transaction per second: each shares one recorded time.
    for (int second = 0; second < 60; second++) {
      List<AppendRequest> requests = new ArrayList<>();
      for (int i = 0; i < 80; i++) {
        WorkOrderId id = newId();
        requests.add(
            i == 0
                ? AppendRequest.of(id, ExpectedVersion.none(), submitted("jobs"), cancelled())
                : i <= 20
                    ? AppendRequest.of(
                        id,
                        ExpectedVersion.none(),
                        submitted("jobs"),
                        claimed("node-a", clock.instant().plusSeconds(300)))
                    : AppendRequest.of(id, ExpectedVersion.none(), submitted("jobs")));
        someWorkOrder = id;
      }
      store.appendAll(requests);
      clock.advance(Duration.ofSeconds(1));
    }
    db.execute("ANALYZE " + db.table(JdbcTestKit.PREFIX + "events"));
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  @Test
  void a_range_query_newest_first_scans_events_recorded_backward_without_a_sort() {
    EventQuery first = EventQuery.builder().from(at(10)).to(at(50)).limit(100).build();
    EventPage page = store.queryEvents(first);
    assertThat(page.events()).hasSize(100);
    EventQuery second =
        EventQuery.builder()
            .from(at(10))
            .to(at(50))
            .limit(100)
            .after(page.nextCursor().orElseThrow())
            .build();

    for (EventQuery q : List.of(first, second)) {
      String plan = plan(q);

      assertThat(plan)
          .as("%s", q)
          .contains("Index Scan Backward using " + JdbcTestKit.PREFIX + "events_recorded")
          .doesNotContain("Seq Scan")
          .doesNotContainPattern(SORT_NODE);
    }
  }

  @Test
  void a_range_query_oldest_first_scans_events_recorded_forward_without_a_sort() {
    String plan = plan(EventQuery.builder().from(at(10)).to(at(50)).oldestFirst().build());

    assertThat(plan)
        .contains("Index Scan using " + JdbcTestKit.PREFIX + "events_recorded")
        .doesNotContain("Seq Scan")
        .doesNotContainPattern(SORT_NODE);
  }

  @Test
  void a_query_of_a_rare_type_reads_events_type_and_sorts_no_more_than_a_page() {
    // 40 Cancelled events in the range, fewer than a page: the planner may fetch them all through
    // the index and sort them, which is as cheap as reading them in order.
    String plan =
        plan(EventQuery.builder().types(EventType.CANCELLED).from(at(10)).to(at(50)).build());

    assertThat(plan).contains(JdbcTestKit.PREFIX + "events_type").doesNotContain("Seq Scan");
    assertThat(sortedRows(plan)).allSatisfy(rows -> assertThat(rows).isLessThanOrEqualTo(101));
  }

  @Test
  void a_query_of_a_common_type_reads_an_audit_index_in_order_without_a_sort() {
    // One Claimed event in six: reading events_recorded and skipping the others is as good as
    // events_type, and the planner may take either; what matters is that neither sorts.
    String plan =
        plan(EventQuery.builder().types(EventType.CLAIMED).from(at(10)).to(at(50)).build());

    assertThat(plan)
        .containsPattern(
            "Index Scan Backward using " + JdbcTestKit.PREFIX + "events_(type|recorded)")
        .doesNotContain("Seq Scan")
        .doesNotContainPattern(SORT_NODE);
  }

  @Test
  void a_query_of_several_types_reads_one_limited_ordered_index_scan_per_type() {
    String plan =
        plan(
            EventQuery.builder()
                .types(EventType.CLAIMED, EventType.CANCELLED)
                .from(at(10))
                .to(at(50))
                .build());

    // Each branch stops at the page; whatever merges them (Merge Append, or a sort of at most
    // two pages) never sees more rows than that.
    assertThat(
            Pattern.compile(
                    "Limit .*\\n\\s+->  Index Scan Backward using "
                        + JdbcTestKit.PREFIX
                        + "events_(type|recorded)")
                .matcher(plan)
                .results()
                .count())
        .as(plan)
        .isEqualTo(2);
    assertThat(plan).doesNotContain("Seq Scan");
    assertThat(sortedRows(plan)).allSatisfy(rows -> assertThat(rows).isLessThanOrEqualTo(202));
  }

  @Test
  void a_query_by_work_order_reads_its_stream() {
    String plan = plan(EventQuery.builder().workOrder(someWorkOrder).build());

    assertThat(plan).contains(JdbcTestKit.PREFIX + "events_stream").doesNotContain("Seq Scan");
  }

  /** The estimated rows of each Sort node of a plan. */
  private static List<Long> sortedRows(String plan) {
    return SORT_NODE_ROWS.matcher(plan).results().map(m -> Long.parseLong(m.group(1))).toList();
  }

  private Instant at(long seconds) {
    return MutableClock.DEFAULT_START.plusSeconds(seconds);
  }

  /** PostgreSQL's plan for the statement the store runs for a query, with its parameters. */
  private String plan(EventQuery query) {
    EventQuerySql.Sql sql = EventQuerySql.of(dialect, query);
    try (Connection c = db.adminConnection();
        PreparedStatement ps = c.prepareStatement("EXPLAIN " + sql.sql())) {
      for (int i = 0; i < sql.params().size(); i++) {
        ps.setObject(i + 1, sql.params().get(i));
      }
      StringBuilder plan = new StringBuilder();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          plan.append(rs.getString(1)).append('\n');
        }
      }
      return plan.toString();
    } catch (SQLException e) {
      throw new IllegalStateException("could not explain " + sql.sql(), e);
    }
  }
}
