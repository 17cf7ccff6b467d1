package dev.workgate.benchmarks.harness;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * Counters of the benchmark database from {@code pg_stat_database}: committed transactions and rows
 * inserted, updated and deleted. Read before and after a measurement, they tell how much work the
 * database did per job. Statistics reach the view when a backend reports them (at the latest a
 * second after its transaction), so {@link #read} first asks the server to flush its own.
 * Stateless.
 */
final class PostgresActivity {
  private PostgresActivity() {}

  /** A reading; an unreachable server gives {@link #NONE}. */
  record Counters(long commits, long rowsWritten) {
    Counters minus(Counters earlier) {
      return new Counters(commits - earlier.commits, rowsWritten - earlier.rowsWritten);
    }
  }

  static final Counters NONE = new Counters(-1, -1);

  /** Reads the counters of the database the harness uses, or {@link #NONE}. */
  static Counters read() {
    Properties p = new Properties();
    p.setProperty("user", System.getProperty("workgate.bench.pg.user", "postgres"));
    try (Connection c = DriverManager.getConnection(PostgresSchema.URL, p);
        Statement s = c.createStatement()) {
      // Other backends report within a second; give them the time, then read.
      Thread.sleep(1_100);
      try (ResultSet r =
          s.executeQuery(
              "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted"
                  + " FROM pg_stat_database WHERE datname = current_database()")) {
        r.next();
        return new Counters(r.getLong(1), r.getLong(2));
      }
    } catch (SQLException e) {
      return NONE;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return NONE;
    }
  }
}
