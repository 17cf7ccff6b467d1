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
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SQLite's single writer: one thread and one connection, and the store's group commit. Writes from
 * many threads queue up; the thread takes all that are waiting (up to the group size) and runs them
 * in one transaction, each under its own savepoint so that one failing write leaves the others
 * intact, then commits once. One fsync then serves the whole group. A caller returns only after its
 * group committed.
 *
 * <p>Shared writes ({@link #writeShared}: appends) that follow each other in a group run as one
 * call of their work under one savepoint, so that their rows are read and written in one go. If
 * that call is refused because of one request ({@link GroupCommit#refusal}), it is rolled back to
 * its savepoint and each caller's requests run again under a savepoint of their own, so that only
 * the caller at fault gets the exception; any other failure of the call is what each of its callers
 * gets. Either way the rest of the group commits.
 *
 * <p>Log positions come from a counter in the meta table, read once per group, so positions never
 * repeat even when retention deleted the newest streams.
 *
 * <p>Thread-safe: any thread may write; only the writer thread touches the connection.
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
  private final AtomicLong commits = new AtomicLong();

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

  private static class Task<T> {
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

  /** One caller's requests of shared work; its result is its own part of the shared results. */
  private static final class SharedTask<Q, R> extends Task<List<R>> {
    final Work.Shared<Q, R> shared;
    final List<Q> requests;

    SharedTask(String what, Work.Shared<Q, R> shared, List<Q> requests) {
      super(what, (c, ctx) -> shared.run(c, ctx, requests));
      this.shared = shared;
      this.requests = requests;
    }

    int resultCount() {
      int n = 0;
      for (Q q : requests) {
        n += shared.results(q);
      }
      return n;
    }
  }

  private final Task<Void> stop = new Task<>("stop", (c, ctx) -> null);

  @Override
  public <T> T write(String what, Work.Write<T> work) {
    return submit(new Task<>(what, work));
  }

  @Override
  public <Q, R> List<R> writeShared(String what, Work.Shared<Q, R> work, List<Q> requests) {
    return submit(new SharedTask<>(what, work, List.copyOf(requests)));
  }

  private <T> T submit(Task<T> task) {
    String what = task.what;
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
      int from = 0;
      while (from < group.size()) {
        int to = from + 1;
        if (group.get(from) instanceof SharedTask<?, ?> first) {
          while (to < group.size()
              && group.get(to) instanceof SharedTask<?, ?> next
              && next.shared == first.shared) {
            to++;
          }
        }
        List<Task<?>> run = group.subList(from, to);
        if (run.size() == 1 || !runShared(run, counter)) {
          for (Task<?> task : run) {
            runAlone(task, counter);
          }
        }
        from = to;
      }
      if (counter[0] != startCounter) {
        writeCounter(counter[0]);
      }
      exec("COMMIT");
      commits.incrementAndGet();
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

  /** A write's context in the group's transaction: positions from the group's counter. */
  private Work.Context context(long[] counter) {
    return new Work.Context(clock.instant()) {
      @Override
      long[] positions(Connection c, int n) {
        long[] p = new long[n];
        for (int i = 0; i < n; i++) {
          p[i] = ++counter[0];
        }
        return p;
      }
    };
  }

  /** Runs one write under a savepoint of its own; a failure rolls back only its own changes. */
  private void runAlone(Task<?> task, long[] counter) throws SQLException {
    long mark = counter[0];
    Work.Context ctx = context(counter);
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

  /**
   * Runs consecutive shared writes of one work as one call under one savepoint and gives each its
   * part of the results, or the call's failure to each of them.
   *
   * @return false if the call was refused because of one request: it is rolled back, and each write
   *     is to run alone
   */
  @SuppressWarnings("unchecked")
  private <Q, R> boolean runShared(List<Task<?>> run, long[] counter) throws SQLException {
    List<SharedTask<Q, R>> batch = new ArrayList<>(run.size());
    for (Task<?> task : run) {
      batch.add((SharedTask<Q, R>) task); // runGroup passes shared tasks of one work only
    }
    SharedTask<Q, R> first = batch.get(0);
    List<Q> all = new ArrayList<>();
    for (SharedTask<Q, R> task : batch) {
      all.addAll(task.requests);
    }
    long mark = counter[0];
    Work.Context ctx = context(counter);
    List<R> results;
    exec("SAVEPOINT workgate_write");
    try {
      results = first.shared.run(connection, ctx, all);
      exec("RELEASE workgate_write");
    } catch (SQLException | RuntimeException | Error e) {
      exec("ROLLBACK TO workgate_write");
      exec("RELEASE workgate_write");
      counter[0] = mark;
      if (GroupCommit.refusal(e)) {
        return false;
      }
      Throwable failure = translate(first.what, e);
      for (SharedTask<Q, R> task : batch) {
        task.failure = failure;
      }
      return true;
    }
    int at = 0;
    for (SharedTask<Q, R> task : batch) {
      int n = task.resultCount();
      task.result = List.copyOf(results.subList(at, at + n));
      at += n;
    }
    first.claimable = ctx.claimable;
    return true;
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

  /** How many writes wait for the writer thread; for tests. */
  int queued() {
    return queue.size();
  }

  /** How many transactions the writer committed; for tests. */
  long commits() {
    return commits.get();
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
