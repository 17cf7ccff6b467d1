package dev.workgate.core.internal.jdbc;

import dev.workgate.core.store.StoreException;
import dev.workgate.spi.ListenerRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SQLite's single writer: one thread and one connection. Writes from many threads queue up; the
 * thread takes all that are waiting (up to the group size) and runs them in one transaction, each
 * under its own savepoint so that one failing write leaves the others intact, then commits once.
 * One fsync then serves the whole group. A caller returns only after its group committed.
 *
 * <p>Log positions come from a counter in the meta table, read once per group, so positions never
 * repeat even when retention deleted the newest streams.
 */
final class SqliteWriter implements Work.Writer {
  private static final Logger LOG = LoggerFactory.getLogger(SqliteWriter.class);

  private final Connection connection;
  private final SqlDialect dialect;
  private final Path file;
  private final Clock clock;
  private final int maxGroupSize;
  private final ListenerRegistry listeners;
  private final LinkedBlockingQueue<Task<?>> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile boolean closed;

  SqliteWriter(
      Connection connection,
      SqlDialect dialect,
      Path file,
      Clock clock,
      int maxGroupSize,
      ListenerRegistry listeners) {
    this.connection = connection;
    this.dialect = dialect;
    this.file = file;
    this.clock = clock;
    this.maxGroupSize = maxGroupSize;
    this.listeners = listeners;
    this.thread = new Thread(this::loop, "workgate-sqlite-writer[" + file.getFileName() + "]");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  private static final class Task<T> {
    final String what;
    final Work.Write<T> work;
    final CompletableFuture<T> done = new CompletableFuture<>();
    T result;
    Throwable failure;
    Set<String> claimable = Set.of();

    Task(String what, Work.Write<T> work) {
      this.what = what;
      this.work = work;
    }

    void runIn(Connection c, Work.Context ctx) throws SQLException {
      result = work.run(c, ctx);
    }

    void complete() {
      if (failure == null) {
        done.complete(result);
      } else {
        done.completeExceptionally(failure);
      }
    }
  }

  private final Task<Void> stop = new Task<>("stop", (c, ctx) -> null);

  @Override
  public <T> T write(String what, Work.Write<T> work) {
    Task<T> task = new Task<>(what, work);
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("the SQLite work-order store is closed");
      }
      queue.add(task);
    }
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return task.done.get();
        } catch (InterruptedException e) {
          // The write is queued and will commit or fail; its caller must learn which.
          interrupted = true;
        } catch (ExecutionException e) {
          Throwable cause = e.getCause();
          if (cause instanceof RuntimeException r) {
            throw r;
          }
          if (cause instanceof Error err) {
            throw err;
          }
          throw new StoreException(what + " failed: " + cause, cause);
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void loop() {
    List<Task<?>> group = new ArrayList<>(maxGroupSize);
    while (true) {
      try {
        group.add(queue.take());
      } catch (InterruptedException e) {
        continue;
      }
      queue.drainTo(group, maxGroupSize - 1);
      boolean stopping = group.remove(stop);
      if (!group.isEmpty()) {
        try {
          runGroup(group);
        } catch (Throwable t) {
          // The writer must outlive any failure, or every later caller would wait forever.
          LOG.error("the SQLite writer failed a group of {} writes", group.size(), t);
          failAll(group, t, "the writer failed");
        }
      }
      group.clear();
      if (stopping) {
        // Anything queued after the stop marker was refused by write(); nothing is left.
        try {
          connection.close();
        } catch (SQLException e) {
          LOG.warn("closing the SQLite writer connection failed", e);
        }
        stop.done.complete(null);
        return;
      }
    }
  }

  private void runGroup(List<Task<?>> group) {
    try {
      if (!Files.exists(file)) {
        throw new StoreException(
            "the "
                + dialect.describe()
                + " was deleted while the store was open; refusing to write to a file no one can"
                + " open again. Close the store and restore the file or start a new one");
      }
      exec("BEGIN IMMEDIATE");
    } catch (SQLException | RuntimeException e) {
      failAll(group, e, "could not begin a transaction");
      return;
    }
    Set<String> claimable = new HashSet<>();
    try {
      long[] counter = {readCounter()};
      long startCounter = counter[0];
      for (Task<?> task : group) {
        long mark = counter[0];
        Work.Context ctx =
            new Work.Context(clock.instant()) {
              @Override
              long[] positions(Connection c, int n) {
                long[] p = new long[n];
                for (int i = 0; i < n; i++) {
                  p[i] = ++counter[0];
                }
                return p;
              }
            };
        exec("SAVEPOINT workgate_write");
        try {
          task.runIn(connection, ctx);
          exec("RELEASE workgate_write");
          task.claimable = ctx.claimable;
        } catch (SQLException | RuntimeException | Error e) {
          exec("ROLLBACK TO workgate_write");
          exec("RELEASE workgate_write");
          counter[0] = mark;
          task.failure = translate(task.what, e);
        }
      }
      if (counter[0] != startCounter) {
        writeCounter(counter[0]);
      }
      exec("COMMIT");
    } catch (SQLException | RuntimeException e) {
      try {
        exec("ROLLBACK");
      } catch (SQLException | RuntimeException rollback) {
        e.addSuppressed(rollback);
      }
      failAll(group, e, "the transaction failed and was rolled back");
      return;
    }
    for (Task<?> task : group) {
      if (task.failure == null) {
        claimable.addAll(task.claimable);
      }
      task.complete();
    }
    listeners.fire(claimable);
  }

  private void failAll(List<Task<?>> group, Throwable cause, String what) {
    for (Task<?> task : group) {
      if (task.done.isDone()) {
        continue;
      }
      if (task.failure == null) {
        task.failure =
            cause instanceof StoreException s
                ? s
                : new StoreException(
                    task.what
                        + " on the "
                        + dialect.describe()
                        + " failed, nothing was written: "
                        + what
                        + ": "
                        + SqlErrors.describe(cause),
                    cause);
      }
      task.complete();
    }
  }

  private Throwable translate(String what, Throwable e) {
    if (e instanceof RuntimeException || e instanceof Error) {
      return e;
    }
    return new StoreException(
        what
            + " on the "
            + dialect.describe()
            + " failed, nothing was written: "
            + SqlErrors.describe(e),
        e);
  }

  private long readCounter() throws SQLException {
    try (PreparedStatement ps =
        connection.prepareStatement("SELECT value FROM " + dialect.meta + " WHERE key = ?")) {
      ps.setString(1, JdbcWorkOrderStore.LAST_POSITION);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new StoreException(
              "the " + dialect.describe() + " is damaged: its meta table has no last_position");
        }
        return Long.parseLong(rs.getString(1));
      }
    }
  }

  private void writeCounter(long value) throws SQLException {
    try (PreparedStatement ps =
        connection.prepareStatement("UPDATE " + dialect.meta + " SET value = ? WHERE key = ?")) {
      ps.setString(1, Long.toString(value));
      ps.setString(2, JdbcWorkOrderStore.LAST_POSITION);
      ps.executeUpdate();
    }
  }

  private void exec(String sql) throws SQLException {
    try (Statement st = connection.createStatement()) {
      st.execute(sql);
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      queue.add(stop);
    }
    if (Thread.currentThread() != thread) {
      stop.done.join();
    }
  }
}
