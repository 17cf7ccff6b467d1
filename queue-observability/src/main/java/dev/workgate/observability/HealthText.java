package dev.workgate.observability;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** How health messages write durations, counts and failures. Stateless. */
final class HealthText {
  /** The longest part of an exception's message a health message quotes. */
  static final int MAX_QUOTED_MESSAGE = 200;

  /** How many classes of a cause chain a store failure names. */
  private static final int MAX_CAUSES = 3;

  private HealthText() {}

  /** {@code 1,204}. */
  static String count(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  /** {@code "1 execution"}, {@code "3 executions"}. */
  static String plural(long n, String noun) {
    return count(n) + " " + noun + (n == 1 ? "" : "s");
  }

  /**
   * A failure of the health code itself or of what it reads in memory: the exception's class and
   * the start of its message. Not for store failures, whose messages may hold secrets.
   */
  static String failure(Throwable e) {
    String message = e.getMessage();
    if (message == null || message.isBlank()) {
      return className(e);
    }
    return className(e) + ": " + cut(message.strip(), MAX_QUOTED_MESSAGE);
  }

  /**
   * A store failure by its exception classes only, e.g. {@code StoreException (caused by
   * PSQLException)}: a driver's message can hold the database URL, its user or a password.
   */
  static String classesOnly(Throwable e) {
    List<String> names = new ArrayList<>();
    Map<Throwable, Boolean> seen = new IdentityHashMap<>();
    for (Throwable t = e; t != null && seen.put(t, true) == null; t = t.getCause()) {
      String name = className(t);
      if (!names.contains(name)) {
        names.add(name);
      }
      if (names.size() == MAX_CAUSES) {
        break;
      }
    }
    String first = names.get(0);
    return names.size() == 1
        ? first
        : first
            + " (caused by "
            + String.join(", caused by ", names.subList(1, names.size()))
            + ")";
  }

  private static String className(Throwable t) {
    String name = t.getClass().getName();
    return name.substring(name.lastIndexOf('.') + 1);
  }

  static String cut(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max - 1) + "…";
  }
}
