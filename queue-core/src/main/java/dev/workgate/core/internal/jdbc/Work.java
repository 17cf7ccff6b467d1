package dev.workgate.core.internal.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.Set;

/** The units of work the JDBC store hands to its writer and reader. */
final class Work {
  private Work() {}

  /** Work inside a write transaction. It may throw; then nothing it wrote is kept. */
  @FunctionalInterface
  interface Write<T> {
    T run(Connection c, Context ctx) throws SQLException;
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
  }
}
