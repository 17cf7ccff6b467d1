package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.completed;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.zaxxer.hikari.HikariDataSource;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The PostgreSQL store's write transactions use generic plans and no parallel workers ({@link
 * PostgresWriter#GENERIC_PLANS}): its prepared statements are planned once per connection, not on
 * every call, and the settings end with each transaction, so the host's sessions keep their own.
 */
class PostgresGenericPlansTest {
  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  private final MutableClock clock = MutableClock.create();

  private static String one(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** Submits, claims and completes {@code rounds} batches of three work orders. */
  private void drain(WorkOrderStore store, int rounds) {
    for (int r = 0; r < rounds; r++) {
      List<AppendRequest> submits = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        submits.add(AppendRequest.of(newId(), ExpectedVersion.none(), submitted("q")));
      }
      store.appendAll(submits);
      List<WorkOrderView> claimed =
          store.claim(
              new ClaimRequest(
                      "q",
                      "node-1",
                      3,
                      Capacity.of(16, Long.MAX_VALUE),
                      clock.instant(),
                      Duration.ofMinutes(1))
                  .withStart(view -> Optional.of("sandbox-" + view.id().value())));
      assertThat(claimed).hasSize(3);
      List<AppendRequest> done = new ArrayList<>();
      for (WorkOrderView v : claimed) {
        done.add(AppendRequest.of(v.id(), ExpectedVersion.exactly(v.version()), completed()));
      }
      store.appendAll(done);
    }
  }

  @Test
  void a_claim_plans_generically_and_without_parallel_workers_and_the_session_keeps_its_own()
      throws Exception {
    HikariDataSource pool = db.dataSource(config -> config.setMaximumPoolSize(1));
    String before;
    try (Connection c = pool.getConnection()) {
      before = settings(c);
    }
    // What the claim's transaction has set when the store prepares its candidate read, read on the
    // same connection inside that transaction.
    List<String> seen = new ArrayList<>();
    ConnectionHook hook =
        (c, method, args) -> {
          if (method.equals("prepareStatement")
              && String.valueOf(args[0]).contains("ORDER BY p.priority DESC")) {
            seen.add(settings(c));
          }
        };
    DataSource watching = hook.on(pool);
    try (WorkOrderStore store = Stores.postgres(watching, db.options(clock).build())) {
      drain(store, 1);
    }
    assertThat(seen).containsExactly("force_generic_plan 0");
    try (Connection c = pool.getConnection()) {
      assertThat(settings(c)).isEqualTo(before).startsWith("auto ");
    }
  }

  private static String settings(Connection c) throws SQLException {
    return one(
        c,
        "SELECT current_setting('plan_cache_mode') || ' '"
            + " || current_setting('max_parallel_workers_per_gather')");
  }

  @Test
  void the_stores_statements_are_planned_once_per_connection_not_on_every_call() throws Exception {
    DataSource pool = db.dataSource(config -> config.setMaximumPoolSize(1));
    try (Connection c = pool.getConnection()) {
      assumeTrue(
          c.getMetaData().getDatabaseMajorVersion() >= 14,
          "pg_prepared_statements counts plans from PostgreSQL 14 on");
    }
    try (WorkOrderStore store = Stores.postgres(pool, db.options(clock).build())) {
      drain(store, 20);
      try (Connection same = pool.getConnection()) {
        // The statements the driver prepared on the server (after a few uses each), with their
        // plans counted since; the schema's creation (the meta table) ran before, in autocommit.
        List<String> custom = new ArrayList<>();
        long generic = 0;
        try (Statement st = same.createStatement();
            ResultSet rs =
                st.executeQuery(
                    "SELECT custom_plans, generic_plans, statement FROM pg_prepared_statements"
                        + " WHERE statement LIKE '%"
                        + db.schema()
                        + ".%' AND statement NOT LIKE '%workgate_meta%'")) {
          while (rs.next()) {
            generic += rs.getLong(2);
            if (rs.getLong(1) > 0) {
              custom.add(rs.getLong(1) + " custom plans: " + rs.getString(3));
            }
          }
        }
        assertThat(generic).as("generic plans used").isGreaterThan(100);
        assertThat(custom).as("statements planned for their values").isEmpty();
        // The setting was the transaction's own: the session is as the host left it.
        assertThat(one(same, "SHOW plan_cache_mode")).isEqualTo("auto");
      }
    }
  }
}
