package dev.workgate.core.internal.jdbc;

import java.util.regex.Pattern;

/** Validation of the SQL identifiers a user may choose (schema, table prefix). */
public final class Names {
  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,39}");
  private static final Pattern PREFIX = Pattern.compile("([a-z_][a-z0-9_]{0,29})?");

  private Names() {}

  public static String schema(String schema) {
    if (schema == null || !IDENTIFIER.matcher(schema).matches()) {
      throw new IllegalArgumentException(
          "schema must be 1 to 40 characters of a-z, 0-9 and _, not starting with a digit, got: "
              + schema);
    }
    return schema;
  }

  public static String prefix(String prefix) {
    if (prefix == null || !PREFIX.matcher(prefix).matches()) {
      throw new IllegalArgumentException(
          "tablePrefix must be at most 30 characters of a-z, 0-9 and _, not starting with a digit,"
              + " got: "
              + prefix);
    }
    return prefix;
  }
}
