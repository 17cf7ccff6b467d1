package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.cancelled;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.EventQuery;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How SQLite runs the statements of audit queries ({@link EventQuerySql}), asked with {@code
 * EXPLAIN QUERY PLAN} on a store's file: each reads an index from the place its range and cursor
 * name, in the query's order, and never scans or sorts the log.
 */
class SqliteEventQueryPlanTest {
  private static final String EVENTS = JdbcTestKit.PREFIX + "events";

  @TempDir Path dir;

  private final MutableClock clock = MutableClock.create();
  private WorkOrderStore store;
  private SqlDialect dialect;
  private RecordedEvent someEvent;
  private WorkOrderId someWorkOrder;

  @BeforeEach
  void openStore() {
    Path file = dir.resolve("workgate.db");
    store = Stores.sqlite(file, SqliteOptions.builder().clock(clock).build());
    dialect = new SqlDialect.Sqlite(file.toString(), JdbcTestKit.PREFIX);
    for (int batch = 0; batch < 20; batch++) {
      List<AppendRequest> requests = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        requests.add(
            i % 5 == 0
                ? AppendRequest.of(newId(), ExpectedVersion.none(), submitted("jobs"), cancelled())
                : AppendRequest.of(newId(), ExpectedVersion.none(), submitted("jobs")));
      }
      someEvent = store.appendAll(requests).get(7);
      someWorkOrder = someEvent.workOrderId();
      clock.advance(Duration.ofSeconds(1));
    }
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  @Test
  void a_range_query_searches_events_recorded_in_either_order_without_sorting() {
    String cursor = EventQuery.cursorOf(someEvent);
    for (EventQuery.Builder q :
        List.of(
            EventQuery.builder().from(at(3)).to(at(12)),
            EventQuery.builder().from(at(3)).to(at(12)).oldestFirst(),
            EventQuery.builder().from(at(3)).to(at(12)).after(cursor),
            EventQuery.builder().from(at(3)).to(at(12)).oldestFirst().after(cursor),
            EventQuery.builder().from(at(3)),
            EventQuery.builder().to(at(12)),
            EventQuery.builder().after(cursor))) {
      List<String> plan = plan(q.limit(100).build());

      assertThat(plan)
          .as("%s", q.build())
          .anySatisfy(
              line -> assertThat(line).startsWith("SEARCH " + EVENTS).contains("events_recorded"))
          .noneSatisfy(line -> assertThat(line).startsWith("SCAN " + EVENTS))
          .noneSatisfy(line -> assertThat(line).contains("TEMP B-TREE"));
    }
  }

  @Test
  void a_type_and_range_query_searches_events_type_without_sorting() {
    String cursor = EventQuery.cursorOf(someEvent);
    for (EventQuery.Builder q :
        List.of(
            EventQuery.builder().types(EventType.CANCELLED).from(at(3)).to(at(12)),
            EventQuery.builder().types(EventType.CANCELLED).from(at(3)).oldestFirst(),
            EventQuery.builder().types(EventType.SUBMITTED).to(at(12)).after(cursor),
            EventQuery.builder().types(EventType.SUBMITTED))) {
      List<String> plan = plan(q.build());

      assertThat(plan)
          .as("%s", q.build())
          .anySatisfy(
              line ->
                  assertThat(line).startsWith("SEARCH " + EVENTS).contains("events_type (type=?"))
          .noneSatisfy(line -> assertThat(line).startsWith("SCAN " + EVENTS))
          .noneSatisfy(line -> assertThat(line).contains("TEMP B-TREE"));
    }
  }

  @Test
  void a_query_of_several_types_searches_events_type_once_per_type_and_never_scans() {
    EventQuery q =
        EventQuery.builder()
            .types(EventType.SUBMITTED, EventType.CANCELLED, EventType.CLAIMED)
            .from(at(3))
            .to(at(12))
            .build();

    List<String> plan = plan(q);

    assertThat(plan)
        .filteredOn(line -> line.startsWith("SEARCH " + EVENTS))
        .hasSize(3)
        .allSatisfy(line -> assertThat(line).contains("events_type (type=?"));
    assertThat(plan).noneSatisfy(line -> assertThat(line).startsWith("SCAN " + EVENTS));
  }

  @Test
  void a_query_by_work_order_searches_its_stream() {
    EventQuery q =
        EventQuery.builder()
            .workOrder(someWorkOrder)
            .types(EventType.CANCELLED)
            .from(at(3))
            .oldestFirst()
            .build();

    assertThat(plan(q))
        .anySatisfy(
            line ->
                assertThat(line)
                    .startsWith("SEARCH " + EVENTS)
                    .contains("events_stream (work_order_id=?)"))
        .noneSatisfy(line -> assertThat(line).startsWith("SCAN " + EVENTS));
  }

  @Test
  void a_query_without_filters_walks_events_recorded_in_order_and_stops_at_the_page() {
    assertThat(plan(EventQuery.builder().build()))
        .anySatisfy(
            line ->
                assertThat(line)
                    .isEqualTo(
                        "SCAN "
                            + EVENTS
                            + " USING INDEX "
                            + JdbcTestKit.PREFIX
                            + "events_recorded"))
        .noneSatisfy(line -> assertThat(line).contains("TEMP B-TREE"));
  }

  private Instant at(long seconds) {
    return MutableClock.DEFAULT_START.plusSeconds(seconds);
  }

  /** The lines of SQLite's plan for the statement the store runs for a query. */
  private List<String> plan(EventQuery query) {
    EventQuerySql.Sql sql = EventQuerySql.of(dialect, query);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("workgate.db"));
        PreparedStatement ps = c.prepareStatement("EXPLAIN QUERY PLAN " + sql.sql())) {
      for (int i = 0; i < sql.params().size(); i++) {
        ps.setObject(i + 1, sql.params().get(i));
      }
      List<String> lines = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          lines.add(rs.getString("detail"));
        }
      }
      assertThat(lines).as("plan of %s", sql.sql()).isNotEmpty();
      return lines;
    } catch (SQLException e) {
      throw new IllegalStateException("could not explain " + sql.sql(), e);
    }
  }
}
