package dev.workgate.core.internal.jdbc;

import java.sql.BatchUpdateException;
import java.sql.SQLException;

/**
 * Messages for database failures that are safe to show and log: the database's primary message and
 * SQLState only. Drivers add the failed statement with its bound values (a batch) or the values of
 * a violated key ({@code Detail: Key (…)=(…)}); those can hold payload text, error messages or
 * keys, so they stay in the exception's cause and out of its message.
 */
final class SqlErrors {
  private SqlErrors() {}

  static String describe(Throwable t) {
    if (!(t instanceof SQLException e)) {
      return String.valueOf(t.getMessage());
    }
    SQLException inner = e;
    while (inner instanceof BatchUpdateException && inner.getNextException() != null) {
      inner = inner.getNextException();
    }
    if (inner instanceof BatchUpdateException) {
      return "a batched statement failed (SQLState " + inner.getSQLState() + ")";
    }
    String message = inner.getMessage() == null ? "" : inner.getMessage();
    int newline = message.indexOf('\n');
    String first = (newline < 0 ? message : message.substring(0, newline)).strip();
    return inner.getSQLState() == null ? first : first + " (SQLState " + inner.getSQLState() + ")";
  }
}
