package dev.workgate.examples.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/** Text output helpers: aligned tables, instants to the millisecond, short durations. */
final class Formats {
  private Formats() {}

  /** An instant in ISO-8601, UTC, to the millisecond. */
  static String instant(Instant t) {
    return t.truncatedTo(ChronoUnit.MILLIS).toString();
  }

  /**
   * A duration for a person: {@code 850ms}, {@code 12.4s}, {@code 3m05s}, {@code 2h07m}, {@code
   * 3d04h}.
   */
  static String duration(Duration d) {
    long ms = d.toMillis();
    if (ms < 1_000) {
      return ms + "ms";
    }
    if (ms < 60_000) {
      return String.format("%d.%ds", ms / 1000, (ms % 1000) / 100);
    }
    long s = d.toSeconds();
    if (s < 3600) {
      return String.format("%dm%02ds", s / 60, s % 60);
    }
    if (s < 86_400) {
      return String.format("%dh%02dm", s / 3600, (s % 3600) / 60);
    }
    return String.format("%dd%02dh", s / 86_400, (s % 86_400) / 3600);
  }

  /** Columns padded to their widest cell; those marked numeric are right-aligned. */
  static final class Table {
    private final List<String[]> rows = new ArrayList<>();
    private final boolean[] numeric;

    Table(boolean[] numeric, String... header) {
      this.numeric = numeric.clone();
      rows.add(header);
    }

    void add(Object... cells) {
      String[] row = new String[cells.length];
      for (int i = 0; i < cells.length; i++) {
        row[i] = String.valueOf(cells[i]);
      }
      rows.add(row);
    }

    List<String> lines() {
      int columns = rows.get(0).length;
      int[] width = new int[columns];
      for (String[] row : rows) {
        for (int i = 0; i < columns; i++) {
          width[i] = Math.max(width[i], row[i].length());
        }
      }
      List<String> out = new ArrayList<>();
      for (String[] row : rows) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < columns; i++) {
          if (i > 0) {
            line.append("  ");
          }
          String pad = " ".repeat(width[i] - row[i].length());
          if (numeric[i]) {
            line.append(pad).append(row[i]);
          } else if (i < columns - 1) {
            line.append(row[i]).append(pad);
          } else {
            line.append(row[i]);
          }
        }
        out.add(line.toString());
      }
      return out;
    }
  }
}
