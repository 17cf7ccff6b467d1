package dev.workgate;

import dev.workgate.NodeView.WriteFailureCause;
import dev.workgate.core.WorkgateException;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.StoreException.UnreadableRowException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tells whether an exception from a store write is a failure of the store and, if so, its {@link
 * WriteFailureCause}, from the exception chain: SQLState, SQLite's result code name (sqlite-jdbc
 * puts it first in its messages, as {@code [SQLITE_FULL]}), the driver's exception class, and the
 * operating system's fixed error phrases. The detail it gives names only exception classes, codes
 * and those fixed phrases: a database's message can quote a statement's values, a key or a user.
 *
 * <p>A refusal (a version conflict, a rejected transition, a taken idempotency key, a full queue, a
 * bad argument, a closed store) is not a failure of the store: the store answered.
 */
final class WriteFailureClassifier {
  /** How far down a chain of causes to look; real chains are a handful deep. */
  private static final int MAX_DEPTH = 32;

  private static final Pattern SQLITE_CODE = Pattern.compile("^\\[(SQLITE_[A-Z_]+)]");

  private static final String NO_SPACE = "No space left on device";
  private static final String READ_ONLY_FS = "Read-only file system";

  private WriteFailureClassifier() {}

  /** A classified store failure. */
  record Classified(WriteFailureCause cause, String detail) {}

  /**
   * Classifies a write's exception.
   *
   * @param failure what the write threw
   * @return the cause and a safe detail, or null if it is not a failure of the store
   */
  static Classified classify(Throwable failure) {
    boolean storeFailure;
    if (failure instanceof UnreadableRowException) {
      return null; // a damaged row read on the way, not a write that failed
    } else if (failure instanceof StoreException || failure instanceof UncheckedIOException) {
      storeFailure = true;
    } else if (failure instanceof WorkgateException) {
      return null; // a refusal: the store answered
    } else {
      storeFailure = false; // unless the chain holds a database or I/O error
    }
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    List<Throwable> chain = new ArrayList<>();
    Throwable firstDatabaseError = null;
    for (Throwable t = failure; t != null && chain.size() < MAX_DEPTH && seen.add(t); t = next(t)) {
      chain.add(t);
      if (firstDatabaseError == null && databaseOrSystemError(t)) {
        firstDatabaseError = t;
        storeFailure = true;
      }
    }
    if (!storeFailure) {
      return null;
    }
    // The database's and the operating system's own errors first: wrappers repeat their messages.
    for (Throwable t : chain) {
      if (databaseOrSystemError(t)) {
        WriteFailureCause cause = causeOf(t);
        if (cause != null) {
          return new Classified(cause, describe(t));
        }
      }
    }
    Throwable named = firstDatabaseError != null ? firstDatabaseError : failure;
    for (Throwable t : chain) {
      if (t instanceof StoreException
          && t.getMessage() != null
          && t.getMessage().contains("OpenMode.READ_ONLY")) {
        return new Classified(
            WriteFailureCause.READ_ONLY,
            t.getClass().getName() + " (store opened OpenMode.READ_ONLY)");
      }
      if (!databaseOrSystemError(t)) {
        WriteFailureCause cause = causeOf(t);
        if (cause != null) {
          return new Classified(cause, describe(named));
        }
      }
    }
    return new Classified(WriteFailureCause.OTHER, describe(named));
  }

  /**
   * A database's error, or the operating system's as the JDK reports it (files, sockets). Other
   * {@link IOException}s, such as a JSON library's for a payload it cannot write, are the caller's.
   */
  private static boolean databaseOrSystemError(Throwable t) {
    return t instanceof SQLException
        || (t instanceof IOException && t.getClass().getName().startsWith("java."));
  }

  /** The next exception down the chain: a batch's inner exception first, then the cause. */
  private static Throwable next(Throwable t) {
    if (t instanceof SQLException s && s.getNextException() != null && t.getCause() == null) {
      return s.getNextException();
    }
    return t.getCause();
  }

  /** The cause one exception of the chain tells, or null if it tells none. */
  private static WriteFailureCause causeOf(Throwable t) {
    String message = t.getMessage() == null ? "" : t.getMessage();
    if (t instanceof SQLException s) {
      String state = s.getSQLState() == null ? "" : s.getSQLState();
      String sqliteCode = sqliteCode(message);
      if (state.equals("53100")) {
        return WriteFailureCause.DISK_FULL;
      }
      if (state.equals("25006")) {
        return WriteFailureCause.READ_ONLY;
      }
      if (state.startsWith("08")
          || state.equals("57P01")
          || state.equals("57P02")
          || state.equals("57P03")
          || t instanceof SQLTransientConnectionException
          || t instanceof SQLNonTransientConnectionException) {
        return WriteFailureCause.UNREACHABLE;
      }
      if (sqliteCode != null && sqliteCode.equals("SQLITE_FULL")) {
        return WriteFailureCause.DISK_FULL;
      }
      if (sqliteCode != null && sqliteCode.startsWith("SQLITE_READONLY")) {
        return WriteFailureCause.READ_ONLY;
      }
    }
    if (t instanceof ConnectException
        || t instanceof NoRouteToHostException
        || t instanceof SocketTimeoutException
        || t instanceof UnknownHostException) {
      return WriteFailureCause.UNREACHABLE;
    }
    return byPhrase(message);
  }

  /** The operating system's and the databases' fixed phrases, for drivers without codes. */
  private static WriteFailureCause byPhrase(String message) {
    String m = message.toLowerCase(Locale.ROOT);
    if (m.contains(NO_SPACE.toLowerCase(Locale.ROOT))
        || m.contains("database or disk is full")
        || m.contains("disk full")) {
      return WriteFailureCause.DISK_FULL;
    }
    if (m.contains(READ_ONLY_FS.toLowerCase(Locale.ROOT))
        || m.contains("attempt to write a readonly database")
        || m.contains("in a read-only transaction")) {
      return WriteFailureCause.READ_ONLY;
    }
    return null;
  }

  /**
   * The exception's class, its SQLState and vendor code, SQLite's result code name, and a fixed
   * phrase of the operating system if the message holds one; nothing else of the message.
   */
  static String describe(Throwable t) {
    StringBuilder out = new StringBuilder(t.getClass().getName());
    String message = t.getMessage() == null ? "" : t.getMessage();
    if (t instanceof SQLException s) {
      if (s.getSQLState() != null) {
        out.append(", SQLState ").append(s.getSQLState());
      }
      String sqliteCode = sqliteCode(message);
      if (sqliteCode != null) {
        out.append(", ").append(sqliteCode);
      } else if (s.getErrorCode() != 0) {
        out.append(", vendor code ").append(s.getErrorCode());
      }
    }
    if (message.contains(NO_SPACE)) {
      out.append(" (").append(NO_SPACE).append(')');
    } else if (message.contains(READ_ONLY_FS)) {
      out.append(" (").append(READ_ONLY_FS).append(')');
    }
    return out.toString();
  }

  private static String sqliteCode(String message) {
    Matcher m = SQLITE_CODE.matcher(message);
    return m.find() ? m.group(1) : null;
  }
}
