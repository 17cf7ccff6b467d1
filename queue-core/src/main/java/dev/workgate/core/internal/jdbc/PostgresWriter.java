package dev.workgate.core.internal.jdbc;

import dev.workgate.core.store.StoreException;
import dev.workgate.spi.ListenerRegistry;
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
 * PostgreSQL writes: one transaction per call on a connection of the host's pool, except that
 * concurrent appends of this store share transactions ({@link #writeShared}, the store's group
 * commit: see {@link GroupCommit}); claims, lease renewals and the other writes run in transactions
 * of their own, concurrently, beside them. A transaction that lost a race (deadlock, serialization
 * failure, a concurrent insert of the same key) is run again, up to {@link #ATTEMPTS} times; the
 * next try sees the winner and reports a version or idempotency conflict. Before committing, one
 * {@code NOTIFY} per transaction tells other nodes which queues got claimable work.
 *
 * <p>Every connection gets the store's session limits first ({@link PostgresSessions}), once per
 * physical connection. Every transaction then plans the store's statements once per connection
 * ({@link #GENERIC_PLANS}). A write that waited longer than {@code lock_timeout} for a row fails,
 * nothing written, and is not run again here: the caller's next turn tries again, by when the
 * server has ended a cut-off holder's session ({@code idle_in_transaction_session_timeout}).
 *
 * <p>Thread-safe.
 */
final class PostgresWriter implements Work.Writer {
  static final int ATTEMPTS = 5;

  /** The most requests of many callers' shared writes (appends) in one transaction. */
  static final int MAX_SHARED_REQUESTS = 512;

  private static final Logger LOG = LoggerFactory.getLogger(PostgresWriter.class);

  /** Room left in a NOTIFY payload (limit 8000 bytes) for queue names. */
  private static final int PAYLOAD_BYTES = 7000;

  private final DataSource dataSource;
  private final SqlDialect.Postgres dialect;
  private final Clock clock;
  private final ListenerRegistry listeners;
  private final String instanceId;
  private final PostgresSessions sessions;
  private final GroupCommit groups = new GroupCommit(this::write, MAX_SHARED_REQUESTS);

  PostgresWriter(
      DataSource dataSource,
      PostgresSessions sessions,
      SqlDialect.Postgres dialect,
      Clock clock,
      ListenerRegistry listeners,
      String instanceId) {
    this.dataSource = dataSource;
    this.sessions = sessions;
    this.dialect = dialect;
    this.clock = clock;
    this.listeners = listeners;
    this.instanceId = instanceId;
  }

  @Override
  public <T> T write(String what, Work.Write<T> work) {
    for (int attempt = 1; ; attempt++) {
      boolean committing = false;
      boolean first = attempt == 1;
      Work.Context ctx =
          new Work.Context(clock.instant()) {
            @Override
            long[] positions(Connection c, int n) throws SQLException {
              return nextPositions(c, n);
            }

            @Override
            boolean newStreamsUnread() {
              // A submit's row is not read first: a row that exists (or is inserted by another
              // writer meanwhile) fails the insert with a unique violation, and the next try reads
              // every row and reports the conflict.
              return first;
            }
          };
      T result = null;
      boolean committed = false;
      try (Connection c = dataSource.getConnection()) {
        sessions.prepare(c);
        c.setAutoCommit(false);
        try {
          genericPlans(c);
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
          throw failure(what, committing, e);
        }
      }
      listeners.fire(ctx.claimable);
      return result;
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Callers that arrive while another group of this work is being written wait for it, then go
   * in the next transaction together ({@link GroupCommit}); a lone caller writes at once. A
   * combined transaction that lost a race is run again whole, as {@link #write} does.
   */
  @Override
  public <Q, R> List<R> writeShared(String what, Work.Shared<Q, R> work, List<Q> requests) {
    return groups.write(what, work, requests);
  }

  /** How many callers of shared writes wait for the one in progress; for tests. */
  int queued() {
    return groups.queued();
  }

  /** SQLStates of the session limits: a lock wait cut short, a session ended while idle. */
  static final String LOCK_NOT_AVAILABLE = "55P03";

  static final String IDLE_IN_TRANSACTION_TIMEOUT = "25P03";

  /**
   * Run first in every write transaction (PostgreSQL 12 and later): the store's prepared statements
   * use their generic plan instead of being planned again on every execution, and never a parallel
   * one.
   *
   * <p>The server's own choice ({@code plan_cache_mode = auto}) compares the generic plan's cost
   * with that of plans made for the values at hand, and for the store's statements the generic plan
   * always looks dearer: it assumes ten elements in an array parameter and a tenth of the table for
   * a {@code LIMIT} parameter, where the store passes a handful. So without this every statement
   * was planned on every call, and planning cost the server as much as running them
   * (pg_stat_statements over a 20,000-job drain: 4.2 s planning against 4.3 s executing). The
   * generic plans are the ones a custom plan would pick (the claim index, the primary key, the
   * stream index), and the server makes them again when the tables' statistics change.
   *
   * <p>A tenth of a large table is also where the planner starts to hand a scan to parallel
   * workers: with a million pending work orders the generic plan of the claim's candidate read was
   * a parallel index scan with two workers started for every claim, to read twenty rows. The
   * store's statements each touch a handful of rows, so its transactions plan none ({@code
   * max_parallel_workers_per_gather = 0}).
   *
   * <p>{@code set_config(…, true)} is {@code SET LOCAL}: both settings end with the transaction, so
   * the host's own use of its pooled connections keeps its planner settings.
   */
  static final String GENERIC_PLANS =
      "SELECT set_config('plan_cache_mode', 'force_generic_plan', true),"
          + " set_config('max_parallel_workers_per_gather', '0', true)";

  /** Whether the server knows {@code plan_cache_mode} (12 and later); null until first looked. */
  private volatile Boolean planCacheMode;

  private void genericPlans(Connection c) throws SQLException {
    Boolean known = planCacheMode;
    if (known == null) {
      known = c.getMetaData().getDatabaseMajorVersion() >= 12;
      planCacheMode = known;
    }
    if (known) {
      try (PreparedStatement ps = c.prepareStatement(GENERIC_PLANS)) {
        ps.executeQuery().close();
      }
    }
  }

  private StoreException failure(String what, boolean committing, SQLException e) {
    String state = e.getSQLState();
    String outcome;
    if (LOCK_NOT_AVAILABLE.equals(state)) {
      outcome =
          " failed, nothing was written: it waited longer than lock_timeout for a row that another"
              + " transaction holds (another node busy with it, or cut off until the server ends its"
              + " session); the next try may find it free: ";
    } else if (IDLE_IN_TRANSACTION_TIMEOUT.equals(state)) {
      // The server rolled the transaction back before ending the session, commit or not.
      outcome =
          " failed, nothing was written: the server ended the session because it stayed idle"
              + " inside the transaction longer than idle_in_transaction_session_timeout (this node"
              + " stalled or lost the database): ";
    } else if (committing) {
      outcome =
          " failed during commit; the outcome is unknown (it may or may not have been written): ";
    } else {
      outcome = " failed, nothing was written: ";
    }
    return new StoreException(
        what + " on the " + dialect.describe() + outcome + SqlErrors.describe(e), e);
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
