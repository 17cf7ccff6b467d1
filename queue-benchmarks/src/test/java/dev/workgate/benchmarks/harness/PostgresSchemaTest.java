package dev.workgate.benchmarks.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A benchmark schema is dropped when closed, and one left open (the harness stopped by Ctrl-C) is
 * dropped by the shutdown hook's {@link PostgresSchema#dropLeftovers}. Skips when the machine's
 * PostgreSQL is down, except under CI ({@code CI=true}), where it fails.
 */
class PostgresSchemaTest {

  @Test
  void a_schema_left_open_is_dropped_by_the_shutdown_hook_and_a_closed_one_by_close()
      throws Exception {
    boolean reachable = PostgresSchema.reachable();
    if (!reachable && "true".equals(System.getenv("CI"))) {
      fail("PostgreSQL at 127.0.0.1:5432 is not reachable");
    }
    Assumptions.assumeTrue(reachable, "PostgreSQL at 127.0.0.1:5432 is not reachable");

    PostgresSchema closed = PostgresSchema.create("test", 1);
    PostgresSchema left = PostgresSchema.create("test", 1);
    assertThat(exists(closed.name())).isTrue();
    assertThat(exists(left.name())).isTrue();

    closed.close();
    assertThat(exists(closed.name())).isFalse();
    assertThat(PostgresSchema.isLive(closed.name())).isFalse();
    assertThat(PostgresSchema.isLive(left.name())).isTrue();

    PostgresSchema.dropLeftovers();
    assertThat(exists(left.name())).isFalse();
    assertThat(PostgresSchema.isLive(left.name())).isFalse();
    left.close(); // closing after the hook dropped it is harmless
  }

  private static boolean exists(String schema) throws SQLException {
    try (Connection c = DriverManager.getConnection(PostgresSchema.URL, "postgres", "");
        PreparedStatement ps =
            c.prepareStatement("SELECT count(*) FROM pg_namespace WHERE nspname = ?")) {
      ps.setString(1, schema);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1) == 1;
      }
    }
  }
}
