package dev.workgate.core.internal.jdbc;

import dev.workgate.core.store.PostgresOptions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Sets the store's session limits ({@code idle_in_transaction_session_timeout}, {@code
 * lock_timeout}) once per physical PostgreSQL connection, so that they cost no round trip per
 * transaction. Pools hand out a new wrapper per checkout; the physical connection under it is found
 * through {@link Connection#unwrap} (pgjdbc's {@code PGConnection}, else {@link Connection}) and
 * remembered, weakly, once configured: a connection the pool closes is forgotten with it. A
 * connection that cannot be unwrapped is configured on every checkout. The settings are session
 * settings ({@code set_config(…, false)}) made outside any transaction, so that no rollback undoes
 * them; a pool that resets sessions ({@code DISCARD ALL}) undoes them without the store knowing,
 * which is why such hosts set them on the role instead (docs/storage.md). Thread-safe.
 */
final class PostgresSessions {
  static final String IDLE_IN_TRANSACTION = "idle_in_transaction_session_timeout";
  static final String LOCK_TIMEOUT = "lock_timeout";

  private final String idleMillis;
  private final String lockMillis;
  private final String sql;
  private final Set<Object> configured =
      Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));
  private volatile Class<?> pgConnection;
  private volatile boolean pgConnectionLooked;

  /**
   * The limits to set; a zero duration leaves that setting alone.
   *
   * @param idleInTransaction {@code idle_in_transaction_session_timeout}
   * @param lock {@code lock_timeout}
   */
  PostgresSessions(Duration idleInTransaction, Duration lock) {
    this.idleMillis =
        idleInTransaction.isZero() ? null : Long.toString(idleInTransaction.toMillis());
    this.lockMillis = lock.isZero() ? null : Long.toString(lock.toMillis());
    StringBuilder select = new StringBuilder();
    if (idleMillis != null) {
      select.append("set_config('" + IDLE_IN_TRANSACTION + "', ?, false)");
    }
    if (lockMillis != null) {
      select
          .append(select.length() == 0 ? "" : ", ")
          .append("set_config('" + LOCK_TIMEOUT + "', ?, false)");
    }
    this.sql = select.length() == 0 ? null : "SELECT " + select;
  }

  static PostgresSessions of(PostgresOptions options) {
    return new PostgresSessions(options.idleInTransactionTimeout(), options.lockTimeout());
  }

  /**
   * Sets the limits on the connection's session unless they are set already. Call it right after
   * taking the connection from the data source, before starting a transaction on it.
   *
   * @param c a connection just taken from the data source
   * @throws SQLException if the server refuses or does not answer
   */
  void prepare(Connection c) throws SQLException {
    if (sql == null) {
      return;
    }
    Object physical = physical(c);
    if (configured.contains(physical)) {
      return;
    }
    boolean auto = c.getAutoCommit();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int n = 1;
      if (idleMillis != null) {
        ps.setString(n++, idleMillis);
      }
      if (lockMillis != null) {
        ps.setString(n, lockMillis);
      }
      ps.executeQuery().close();
    }
    if (!auto) {
      // Outside autocommit the settings are part of a transaction: commit them on their own, so
      // that the rollback of a later write cannot undo them.
      c.commit();
    }
    configured.add(physical);
  }

  private Object physical(Connection c) throws SQLException {
    Class<?> pg = pgConnectionClass(c);
    if (pg != null && c.isWrapperFor(pg)) {
      return c.unwrap(pg);
    }
    if (c.isWrapperFor(Connection.class)) {
      return c.unwrap(Connection.class);
    }
    return c;
  }

  private Class<?> pgConnectionClass(Connection c) {
    if (!pgConnectionLooked) {
      try {
        pgConnection =
            Class.forName("org.postgresql.PGConnection", false, c.getClass().getClassLoader());
      } catch (ClassNotFoundException | LinkageError e) {
        pgConnection = null;
      }
      pgConnectionLooked = true;
    }
    return pgConnection;
  }
}
