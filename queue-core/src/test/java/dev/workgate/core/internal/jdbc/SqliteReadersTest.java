package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.ExpectedVersion;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In WAL mode, readers and the writer do not wait for each other: a long read does not hold up a
 * write, and a held write lock does not hold up reads.
 */
class SqliteReadersTest {

  @TempDir Path dir;

  private WorkOrderStore open(Path file) {
    return Stores.sqlite(file, SqliteOptions.builder().clock(MutableClock.create()).build());
  }

  private static long events(Statement st) throws SQLException {
    try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM workgate_events")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void a_read_transaction_left_open_does_not_hold_up_writes() throws Exception {
    Path file = dir.resolve("w.db");
    try (WorkOrderStore store = open(file);
        Connection reader = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = reader.createStatement()) {
      store.append(WorkOrderId.of("a"), ExpectedVersion.none(), List.of(submitted("q")));
      st.execute("BEGIN");
      assertThat(events(st)).isEqualTo(1);

      CompletableFuture<?> write =
          CompletableFuture.runAsync(
              () ->
                  store.append(
                      WorkOrderId.of("b"), ExpectedVersion.none(), List.of(submitted("q"))));
      write.get(30, TimeUnit.SECONDS);

      assertThat(events(st)).as("the open read keeps its snapshot").isEqualTo(1);
      st.execute("COMMIT");
      assertThat(events(st)).isEqualTo(2);
    }
  }

  @Test
  void reads_go_on_while_another_connection_holds_the_write_lock() throws Exception {
    Path file = dir.resolve("r.db");
    try (WorkOrderStore store = open(file);
        Connection writer = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = writer.createStatement()) {
      WorkOrderId id = WorkOrderId.of("a");
      store.append(id, ExpectedVersion.none(), List.of(submitted("q")));
      st.execute("BEGIN IMMEDIATE");
      st.execute("DELETE FROM workgate_events");
      try {
        CompletableFuture<Optional<?>> read = CompletableFuture.supplyAsync(() -> store.find(id));
        assertThat(read.get(30, TimeUnit.SECONDS))
            .as("the last committed state, not the uncommitted delete")
            .isPresent();
        assertThat(store.readStream(id)).hasSize(1);
      } finally {
        st.execute("ROLLBACK");
      }
    }
  }
}
