package dev.workgate.core.store.jdbc;

import dev.workgate.core.store.ListenerRegistry;
import dev.workgate.core.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL writes: one transaction per call on a connection of the host's pool. A transaction
 * that lost a race (deadlock, serialization failure, a concurrent insert of the same key) is run
 * again, up to {@link #ATTEMPTS} times; the next try sees the winner and reports a version or
 * idempotency conflict. Before committing, one {@code NOTIFY} per transaction tells other nodes
 * which queues got claimable work.
 */
final class PostgresWriter implements Work.Writer {
  static final int ATTEMPTS = 5;
  private static final Logger LOG = LoggerFactory.getLogger(PostgresWriter.class);

  /** Room left in a NOTIFY payload (limit 8000 bytes) for queue names. */
  private static final int PAYLOAD_BYTES = 7000;

  private final DataSource dataSource;
  private final SqlDialect.Postgres dialect;
  private final Clock clock;
  private final ListenerRegistry listeners;
  private final String instanceId;

  PostgresWriter(
      DataSource dataSource,
      SqlDialect.Postgres dialect,
      Clock clock,
      ListenerRegistry listeners,
      String instanceId) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.clock = clock;
    this.listeners = listeners;
    this.instanceId = instanceId;
  }

  @Override
  public <T> T write(String what, Work.Write<T> work) {
    for (int attempt = 1; ; attempt++) {
      boolean committing = false;
      Work.Context ctx =
          new Work.Context(clock.instant()) {
            @Override
            long[] positions(Connection c, int n) throws SQLException {
              return nextPositions(c, n);
            }
          };
      T result = null;
      boolean committed = false;
      try (Connection c = dataSource.getConnection()) {
        c.setAutoCommit(false);
        try {
          result = work.run(c, ctx);
          notifyOthers(c, ctx.claimable);
          committing = true;
          c.commit();
          committed = true;
        } catch (SQLException | RuntimeException | Error e) {
          rollbackQuietly(c, e);
          throw e;
        }
      } catch (SQLException e) {
        if (committed) {
          // Only giving the connection back failed; the write is in the database.
          LOG.warn("returning a connection after {} failed: {}", what, SqlErrors.describe(e));
        } else if (!committing && dialect.retryable(e) && attempt < ATTEMPTS) {
          continue;
        } else {
          throw new StoreException(
              what
                  + " on the "
                  + dialect.describe()
                  + (committing
                      ? " failed during commit; the outcome is unknown (it may or may not have been"
                          + " written): "
                      : " failed, nothing was written: ")
                  + SqlErrors.describe(e),
              e);
        }
      }
      listeners.fire(ctx.claimable);
      return result;
    }
  }

  private long[] nextPositions(Connection c, int n) throws SQLException {
    long[] p = new long[n];
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT nextval('" + dialect.sequence + "') FROM generate_series(1, ?) ORDER BY 1")) {
      ps.setInt(1, n);
      try (ResultSet rs = ps.executeQuery()) {
        int i = 0;
        while (rs.next()) {
          p[i++] = rs.getLong(1);
        }
      }
    }
    return p;
  }

  private void notifyOthers(Connection c, Set<String> queues) throws SQLException {
    if (queues.isEmpty()) {
      return;
    }
    List<String> payloads = new ArrayList<>();
    StringBuilder current = new StringBuilder(instanceId);
    for (String q : queues) {
      if (current.length() > instanceId.length()
          && (current + "\n" + q).getBytes(StandardCharsets.UTF_8).length > PAYLOAD_BYTES) {
        payloads.add(current.toString());
        current = new StringBuilder(instanceId);
      }
      current.append('\n').append(q);
    }
    payloads.add(current.toString());
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
      for (String payload : payloads) {
        ps.setString(1, dialect.channel());
        ps.setString(2, payload);
        ps.executeQuery().close();
      }
    }
  }

  private static void rollbackQuietly(Connection c, Throwable cause) {
    try {
      c.rollback();
    } catch (SQLException | RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  @Override
  public void close() {
    // The data source belongs to the host.
  }
}
