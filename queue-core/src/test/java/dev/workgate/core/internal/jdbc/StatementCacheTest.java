package dev.workgate.core.internal.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class StatementCacheTest {

  private static int one(Connection c, String sql, int param) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setInt(1, param);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  @Test
  void a_closed_statement_is_handed_out_again_with_fresh_parameters() throws SQLException {
    Connection real = DriverManager.getConnection("jdbc:sqlite::memory:");
    Connection c = StatementCache.wrap(real, 4);
    assertThat(one(c, "SELECT ? + 1", 1)).isEqualTo(2);
    assertThat(one(c, "SELECT ? + 1", 41)).isEqualTo(42);
    PreparedStatement first = c.prepareStatement("SELECT ? * 2");
    first.close();
    assertThat(first.isClosed()).as("a returned statement only looks open to the cache").isFalse();
    c.close();
    assertThat(real.isClosed()).isTrue();
  }

  @Test
  void the_least_recently_used_statement_is_closed_beyond_capacity() throws SQLException {
    Connection real = DriverManager.getConnection("jdbc:sqlite::memory:");
    Connection c = StatementCache.wrap(real, 2);
    for (int i = 0; i < 10; i++) {
      assertThat(one(c, "SELECT ? + " + i, 1)).isEqualTo(1 + i);
    }
    // The first statements were evicted and closed; preparing them again works.
    assertThat(one(c, "SELECT ? + 0", 5)).isEqualTo(5);
    c.close();
  }

  @Test
  void a_failed_execution_leaves_the_statement_usable() throws SQLException {
    Connection c = StatementCache.wrap(DriverManager.getConnection("jdbc:sqlite::memory:"), 4);
    try (var st = c.createStatement()) {
      st.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)");
    }
    String insert = "INSERT INTO t (k) VALUES (?)";
    try (PreparedStatement ps = c.prepareStatement(insert)) {
      ps.setInt(1, 1);
      ps.executeUpdate();
    }
    assertThatThrownBy(
            () -> {
              try (PreparedStatement ps = c.prepareStatement(insert)) {
                ps.setInt(1, 1);
                ps.executeUpdate();
              }
            })
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("UNIQUE");
    try (PreparedStatement ps = c.prepareStatement(insert)) {
      ps.setInt(1, 2);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    c.close();
  }
}
