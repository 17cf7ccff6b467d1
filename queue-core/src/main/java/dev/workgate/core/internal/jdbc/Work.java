package dev.workgate.core.internal.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The units of work the JDBC store hands to its writer and reader. */
final class Work {
  private Work() {}

  /** Work inside a write transaction. It may throw; then nothing it wrote is kept. */
  @FunctionalInterface
  interface Write<T> {
    T run(Connection c, Context ctx) throws SQLException;
  }

  /**
   * Work that one transaction may do for several callers at once: run over the requests of many
   * callers, one caller's after another's, it gives every request's results in the order of the
   * requests, {@link #results} of them per request, as if each caller's requests had been run alone
   * in that order. It may throw; then nothing it wrote is kept.
   */
  interface Shared<Q, R> {
    /** Runs the requests in the writer's transaction. */
    List<R> run(Connection c, Context ctx, List<Q> requests) throws SQLException;

    /** How many results a request gives when it succeeds. */
    int results(Q request);
  }

  /** Work on a read connection. */
  @FunctionalInterface
  interface Read<T> {
    T run(Connection c) throws SQLException;
  }

  /** Runs writes in transactions. */
  interface Writer {
    /**
     * Runs the work in a transaction and commits it.
     *
     * @param what a name for messages, e.g. "append"
     */
    <T> T write(String what, Write<T> work);

    /**
     * Runs one caller's requests of shared work, all or none, and commits them; this is where the
     * store's group commit lives. Concurrent callers of the same work may share one run of it in
     * one transaction; then a refusal of one request ({@link GroupCommit#refusal}) fails only its
     * own caller, whose requests run again on their own, and any other failure fails every caller
     * of that transaction.
     *
     * @param what a name for messages, e.g. "append"
     * @return the caller's own results, in the order of its requests
     */
    <Q, R> List<R> writeShared(String what, Shared<Q, R> work, List<Q> requests);

    void close();
  }

  /** Runs reads. */
  interface Reader {
    <T> T read(String what, Read<T> work);

    void close();
  }

  /** What a write transaction offers its work: the time, log positions, notifications. */
  abstract static class Context {
    /** When events of this write are recorded: the clock, to the microsecond. */
    final Instant now;

    /** Queues that have new claimable work once this write commits. */
    final Set<String> claimable = new HashSet<>();

    Context(Instant clockNow) {
      this.now = clockNow.truncatedTo(ChronoUnit.MICROS);
    }

    /** Takes {@code n} new log positions, rising. */
    abstract long[] positions(Connection c, int n) throws SQLException;

    /**
     * Whether appends may take the stream of a submit (a request that expects no stream and begins
     * with {@code Submitted}) as new without reading its row: true where a row that does exist
     * makes the write fail with a unique violation and the writer then runs the work again with
     * this false (the PostgreSQL writer's first try). False by default: every row is read.
     */
    boolean newStreamsUnread() {
      return false;
    }
  }
}
