package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.spec;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.ExpectedVersion;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The statements of work-order queries ({@link WorkOrderQuerySql}) run as they are against a
 * dialect's database, without the store: a label filter must be answered by its statement, not by
 * {@link Reads}' fallback for damaged data, which would hide a statement the database refuses
 * behind a slow but right answer. Subclasses name the database and add plan checks.
 */
abstract class JdbcWorkOrderQuerySqlTest {

  static final String QUEUE = "jobs";

  final MutableClock clock = MutableClock.create();
  private WorkOrderStore store;

  /** A new store on this test's database, stamping events with {@link #clock}. */
  abstract WorkOrderStore openStore();

  /** A connection to this test's database, outside the store. */
  abstract Connection connect() throws SQLException;

  /** The dialect of this test's store. */
  abstract SqlDialect dialect();

  final WorkOrderStore store() {
    if (store == null) {
      store = openStore();
    }
    return store;
  }

  @AfterEach
  void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  @Test
  void a_label_statement_reads_labels_beside_payloads_that_escape_nul_and_backslashes() {
    Map<String, Object> payload =
        Map.of(
            "nul", "a\u0000b",
            "text", "looks like \\u0000 but is text",
            "both", "\\\u0000",
            "quote", "\"}\"labels\":{\"team\":\"video\"}");
    WorkOrderId plain = submit(spec(QUEUE).label("team", "video").build());
    WorkOrderId withNul = submit(spec(QUEUE).label("team", "video").payload(payload).build());
    WorkOrderId otherTeam = submit(spec(QUEUE).label("team", "audio").payload(payload).build());
    WorkOrderId tricky =
        submit(
            spec(QUEUE)
                .label("a.b", "x")
                .label("say \"hi\"", "back\\slash \\u0000")
                .label("team", "video")
                .payload(payload)
                .build());
    WorkOrderId none = submit(spec(QUEUE).payload(payload).build());

    assertThat(ids(WorkOrderQuery.builder().label("team", "video").build()))
        .containsExactly(plain, withNul, tricky);
    assertThat(ids(WorkOrderQuery.builder().label("team", "audio").build()))
        .containsExactly(otherTeam);
    assertThat(
            ids(
                WorkOrderQuery.builder()
                    .label("a.b", "x")
                    .label("say \"hi\"", "back\\slash \\u0000")
                    .build()))
        .containsExactly(tricky);
    assertThat(ids(WorkOrderQuery.builder().label("say \"hi\"", "back\\slash \u0000").build()))
        .as("the text \\u0000 is not NUL")
        .isEmpty();
    assertThat(ids(WorkOrderQuery.builder().label("a", "x").build())).isEmpty();
    assertThat(
            counts(
                WorkOrderQuery.builder().label("team", "video").build(),
                WorkOrderQuery.CountBy.QUEUE))
        .isEqualTo(Map.of(QUEUE, 3L));
    assertThat(none).isNotNull();
  }

  WorkOrderId submit(WorkOrderSpec spec) {
    WorkOrderId id = newId();
    store().append(id, ExpectedVersion.none(), List.of(submitted(spec)));
    return id;
  }

  /** The ids the page statement of a query returns, run directly. */
  List<WorkOrderId> ids(WorkOrderQuery query) {
    store();
    WorkOrderQuerySql.Sql sql =
        WorkOrderQuerySql.page(
            dialect(), new Tables(dialect(), true, 0).viewSelect, query, true, 0, 1000);
    List<WorkOrderId> out = new ArrayList<>();
    try (Connection c = connect();
        PreparedStatement ps = c.prepareStatement(sql.sql())) {
      Tables.bind(ps, sql.params());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(WorkOrderId.of(rs.getString(1)));
        }
      }
    } catch (SQLException e) {
      throw new AssertionError("the database refused " + sql.sql(), e);
    }
    return out;
  }

  /** The rows the count statement of a query returns, run directly. */
  Map<String, Long> counts(WorkOrderQuery query, WorkOrderQuery.CountBy by) {
    store();
    WorkOrderQuerySql.Sql sql = WorkOrderQuerySql.count(dialect(), query, by);
    Map<String, Long> out = new HashMap<>();
    try (Connection c = connect();
        PreparedStatement ps = c.prepareStatement(sql.sql())) {
      Tables.bind(ps, sql.params());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), rs.getLong(2));
        }
      }
    } catch (SQLException e) {
      throw new AssertionError("the database refused " + sql.sql(), e);
    }
    return out;
  }

  /** The lines of the database's plan of a statement. */
  List<String> explain(String prefix, WorkOrderQuerySql.Sql sql) {
    store();
    List<String> lines = new ArrayList<>();
    try (Connection c = connect();
        PreparedStatement ps = c.prepareStatement(prefix + sql.sql())) {
      Tables.bind(ps, sql.params());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          lines.add(rs.getString(rs.getMetaData().getColumnCount()));
        }
      }
    } catch (SQLException e) {
      throw new AssertionError("could not explain " + sql.sql(), e);
    }
    assertThat(lines).as("plan of %s", sql.sql()).isNotEmpty();
    return lines;
  }
}
