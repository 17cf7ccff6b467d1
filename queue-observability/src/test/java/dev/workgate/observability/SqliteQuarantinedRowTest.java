package dev.workgate.observability;

import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/** {@link QuarantinedRowTest} on SQLite. */
class SqliteQuarantinedRowTest extends QuarantinedRowTest {

  private Path file() {
    return dir.resolve("workgate.db");
  }

  @Override
  WorkOrderStore openStore() {
    return Stores.sqlite(file(), SqliteOptions.builder().clock(clock).build());
  }

  @Override
  void damage(String sql) {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file());
        Statement st = c.createStatement()) {
      st.setQueryTimeout(10);
      st.executeUpdate(sql.replace("{events}", "workgate_events"));
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
