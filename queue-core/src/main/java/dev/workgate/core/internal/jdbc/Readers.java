package dev.workgate.core.internal.jdbc;

import dev.workgate.core.store.StoreException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/** The JDBC store's readers. */
final class Readers {
  private Readers() {}

  static StoreException failure(String what, SqlDialect dialect, SQLException e) {
    return new StoreException(
        what + " on the " + dialect.describe() + " failed: " + SqlErrors.describe(e), e);
  }

  /** SQLite: a fixed set of connections; in WAL mode they read while the writer writes. */
  static final class Sqlite implements Work.Reader {
    private final ArrayBlockingQueue<Connection> idle;
    private final List<Connection> all;
    private final SqlDialect dialect;
    private volatile boolean closed;

    Sqlite(List<Connection> connections, SqlDialect dialect) {
      this.idle = new ArrayBlockingQueue<>(connections.size(), false, connections);
      this.all = new ArrayList<>(connections);
      this.dialect = dialect;
    }

    @Override
    public <T> T read(String what, Work.Read<T> work) {
      Connection c = null;
      try {
        // Poll rather than wait for good: close() may have taken every connection already.
        while (c == null) {
          if (closed) {
            throw new IllegalStateException("the SQLite work-order store is closed");
          }
          c = idle.poll(50, TimeUnit.MILLISECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StoreException(what + " was interrupted while waiting for a connection", e);
      }
      try {
        if (closed) {
          throw new IllegalStateException("the SQLite work-order store is closed");
        }
        return work.run(c);
      } catch (SQLException e) {
        throw failure(what, dialect, e);
      } finally {
        idle.add(c);
      }
    }

    @Override
    public void close() {
      closed = true;
      // Take every connection back before closing it, so that no read is cut off mid-way.
      for (int i = 0; i < all.size(); i++) {
        try {
          Connection c = idle.take();
          c.close();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (SQLException e) {
          // closing a read connection cannot lose data
        }
      }
    }
  }

  /** Opens a connection. */
  interface Opener {
    Connection open() throws SQLException;
  }

  /**
   * A connection of its own per read, opened for it and closed after: for a long read (a projection
   * check) that must neither hold the writer's connection nor keep a pooled read connection from
   * the store's other readers.
   */
  static final class Opening implements Work.Reader {
    private final Opener opener;
    private final SqlDialect dialect;

    Opening(Opener opener, SqlDialect dialect) {
      this.opener = opener;
      this.dialect = dialect;
    }

    @Override
    public <T> T read(String what, Work.Read<T> work) {
      try (Connection c = opener.open()) {
        return work.run(c);
      } catch (SQLException e) {
        throw failure(what, dialect, e);
      }
    }

    @Override
    public void close() {
      // Nothing stays open between reads.
    }
  }

  /**
   * PostgreSQL: a connection of the host's pool per read, with the store's session limits ({@link
   * PostgresSessions}); for a store opened read-only, each read runs in a read-only transaction,
   * which the server refuses to let write.
   */
  static final class Pooled implements Work.Reader {
    private final DataSource dataSource;
    private final PostgresSessions sessions;
    private final SqlDialect dialect;
    private final boolean readOnly;

    Pooled(DataSource dataSource, PostgresSessions sessions, SqlDialect dialect, boolean readOnly) {
      this.dataSource = dataSource;
      this.sessions = sessions;
      this.dialect = dialect;
      this.readOnly = readOnly;
    }

    @Override
    public <T> T read(String what, Work.Read<T> work) {
      try (Connection c = dataSource.getConnection()) {
        sessions.prepare(c);
        if (!readOnly) {
          if (!c.getAutoCommit()) {
            c.setAutoCommit(true);
          }
          return work.run(c);
        }
        c.setAutoCommit(false);
        c.setReadOnly(true);
        SQLException failed = null;
        try {
          return work.run(c);
        } catch (SQLException e) {
          failed = e;
          throw e;
        } finally {
          // Back to the pool as it came; a failure here never hides the read's own.
          try {
            c.rollback();
            c.setReadOnly(false);
            c.setAutoCommit(true);
          } catch (SQLException e) {
            if (failed == null) {
              throw e;
            }
            failed.addSuppressed(e);
          }
        }
      } catch (SQLException e) {
        throw failure(what, dialect, e);
      }
    }

    @Override
    public void close() {
      // The data source belongs to the host.
    }
  }
}
