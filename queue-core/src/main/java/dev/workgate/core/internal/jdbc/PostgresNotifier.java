package dev.workgate.core.internal.jdbc;

import dev.workgate.spi.ListenerRegistry;
import java.lang.reflect.Array;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hears other nodes' {@code NOTIFY}s on one connection held for the store's lifetime and passes
 * them to the store's listeners. Uses the PostgreSQL JDBC driver's {@code PGConnection} by
 * reflection, so that the driver stays the host's choice; with another driver it logs once that
 * only this node's own writes notify, and polling covers the rest. A broken connection is replaced
 * after a pause that doubles up to 30 s.
 */
final class PostgresNotifier {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresNotifier.class);
  private static final int POLL_MILLIS = 500;

  private final DataSource dataSource;
  private final PostgresSessions sessions;
  private final String channel;
  private final String instanceId;
  private final ListenerRegistry listeners;
  private final Thread thread;
  private volatile boolean closed;

  PostgresNotifier(
      DataSource dataSource,
      PostgresSessions sessions,
      String channel,
      String instanceId,
      ListenerRegistry listeners) {
    this.dataSource = dataSource;
    this.sessions = sessions;
    this.channel = channel;
    this.instanceId = instanceId;
    this.listeners = listeners;
    this.thread = new Thread(this::loop, "workgate-postgres-listener[" + channel + "]");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  private void loop() {
    long pauseMillis = 500;
    while (!closed) {
      try (Connection c = dataSource.getConnection()) {
        // Never in a transaction itself, but the connection goes back to the pool for the writer.
        sessions.prepare(c);
        c.setAutoCommit(true);
        Method getNotifications = notificationsMethod(c);
        if (getNotifications == null) {
          return;
        }
        Object pg = c.unwrap(getNotifications.getDeclaringClass());
        try (Statement st = c.createStatement()) {
          st.execute("LISTEN " + channel);
        }
        pauseMillis = 500;
        Method getParameter =
            getNotifications.getReturnType().getComponentType().getMethod("getParameter");
        try {
          while (!closed) {
            Object notifications = getNotifications.invoke(pg, POLL_MILLIS);
            deliver(notifications, getParameter);
          }
        } finally {
          // The connection goes back to the host's pool: it must not stay subscribed.
          unlisten(c);
        }
      } catch (SQLException | ReflectiveOperationException | RuntimeException e) {
        if (closed) {
          return;
        }
        Throwable cause = e instanceof InvocationTargetException i ? i.getCause() : e;
        LOG.warn(
            "listening for notifications on channel {} failed ({}); retrying in {} ms",
            channel,
            cause.toString(),
            pauseMillis);
        sleep(pauseMillis);
        pauseMillis = Math.min(pauseMillis * 2, 30_000);
      }
    }
  }

  private static void unlisten(Connection c) {
    try (Statement st = c.createStatement()) {
      st.execute("UNLISTEN *");
    } catch (SQLException e) {
      // A broken connection is not returned to the pool for reuse.
    }
  }

  private static Method notificationsMethod(Connection c) throws SQLException {
    try {
      Class<?> pgConnection =
          Class.forName("org.postgresql.PGConnection", false, c.getClass().getClassLoader());
      if (!c.isWrapperFor(pgConnection)) {
        throw new ClassNotFoundException("connection does not wrap a PGConnection");
      }
      return pgConnection.getMethod("getNotifications", int.class);
    } catch (ClassNotFoundException | NoSuchMethodException e) {
      LOG.info(
          "the JDBC driver offers no PostgreSQL notifications ({}); other nodes' submissions are"
              + " seen by polling only",
          e.getMessage());
      return null;
    }
  }

  private void deliver(Object notifications, Method getParameter)
      throws ReflectiveOperationException {
    if (notifications == null) {
      return;
    }
    Set<String> queues = new LinkedHashSet<>();
    for (int i = 0; i < Array.getLength(notifications); i++) {
      Object n = Array.get(notifications, i);
      String payload = (String) getParameter.invoke(n);
      String[] parts = payload.split("\n");
      if (parts.length > 1 && !parts[0].equals(instanceId)) {
        queues.addAll(Arrays.asList(parts).subList(1, parts.length));
      }
    }
    listeners.fire(queues);
  }

  private void sleep(long millis) {
    synchronized (this) {
      try {
        if (!closed) {
          wait(millis);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  void close() {
    closed = true;
    synchronized (this) {
      notifyAll();
    }
    // The loop sees the flag within one poll (POLL_MILLIS), unsubscribes and closes its
    // connection.
    try {
      thread.join(5_000 + POLL_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
