package dev.workgate.admin;

import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.internal.Text;
import dev.workgate.observability.WorkOrderTimeline;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Text output helpers shared by the admin CLI and the demo host application: aligned tables,
 * instants to the millisecond, short durations and work-order timelines. Stateless and thread-safe.
 */
public final class Formats {
  private Formats() {}

  /** An instant in ISO-8601, UTC, to the millisecond. */
  public static String instant(Instant t) {
    return t.truncatedTo(ChronoUnit.MILLIS).toString();
  }

  /** An ISO-8601 duration ({@code PT20S}) or seconds to the millisecond ({@code 20.000 s}). */
  private static final Pattern DURATION =
      Pattern.compile(
          "\\bP(?:\\d+D)?T(?:\\d+H)?(?:\\d+M)?(?:\\d+(?:\\.\\d+)?S)?\\b|\\b(\\d+)\\.(\\d{3}) s\\b");

  /**
   * A duration as people read it: {@code 850ms}, {@code 20.0s}, {@code 3m05s}, {@code 2h07m}, the
   * form every output of the admin CLI and the demo host uses.
   *
   * @param d the duration
   * @return its text
   */
  public static String duration(java.time.Duration d) {
    return Text.duration(d);
  }

  /**
   * A text from elsewhere (a retry decision, a message) with its durations written as {@link
   * #duration} writes them, so that one output never mixes {@code PT20S}, {@code 20.000 s} and
   * {@code 20.0s}.
   *
   * @param text the text
   * @return the text with each duration rewritten
   */
  public static String durationsIn(String text) {
    Matcher m = DURATION.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      Duration d;
      try {
        d =
            m.group(1) != null
                ? Duration.ofMillis(Long.parseLong(m.group(1)) * 1000 + Long.parseLong(m.group(2)))
                : Duration.parse(m.group());
      } catch (RuntimeException e) {
        m.appendReplacement(out, Matcher.quoteReplacement(m.group()));
        continue;
      }
      m.appendReplacement(out, Matcher.quoteReplacement(duration(d)));
    }
    m.appendTail(out);
    return out.toString();
  }

  /**
   * A timeline as a table: each event, the states it left and entered, the attempt, the time since
   * the previous event and the facts a person looks for (never a payload).
   *
   * @param t the timeline
   * @return the table's lines, the header first
   */
  public static List<String> timelineLines(WorkOrderTimeline t) {
    Table table =
        new Table(
            new boolean[] {true, false, false, false, true, true, false},
            "#",
            "EVENT",
            "FROM",
            "TO",
            "ATTEMPT",
            "+PREVIOUS",
            "DETAIL");
    int n = 0;
    for (WorkOrderTimeline.Step s : t.steps()) {
      table.add(
          ++n,
          s.type().typeName(),
          s.from().map(Enum::name).orElse("-"),
          s.to(),
          s.attempt(),
          duration(s.sincePrevious()),
          detail(s.event().event()));
    }
    return table.lines();
  }

  /** The facts an event carries that a person looks for, never a payload. */
  public static String detail(WorkOrderEvent event) {
    if (event instanceof WorkOrderEvent.Submitted s) {
      List<String> facts = new ArrayList<>();
      if (s.resubmittedFrom() != null) {
        facts.add("resubmitted from " + s.resubmittedFrom());
      }
      if (s.batch() != null) {
        facts.add("batch " + s.batch());
      }
      if (!s.dependencies().isEmpty()) {
        facts.add("waits for " + plural(s.dependencies().size(), "work order"));
      }
      return String.join(", ", facts);
    } else if (event instanceof WorkOrderEvent.DependencyFailed f) {
      return f.reason();
    } else if (event instanceof WorkOrderEvent.Checkpointed c) {
      return "checkpoint of " + bytes(checkpointBytes(c.state()));
    } else if (event instanceof WorkOrderEvent.Claimed c) {
      return "by " + c.owner();
    } else if (event instanceof WorkOrderEvent.Started s) {
      return "sandbox " + s.sandboxId();
    } else if (event instanceof WorkOrderEvent.AttemptFailed f) {
      return f.error().code()
          + (f.retryAt() == null ? "" : ", retry at " + instant(f.retryAt()))
          + (f.decision() == null ? "" : " (" + durationsIn(f.decision()) + ")");
    } else if (event instanceof WorkOrderEvent.CancellationRequested c) {
      return "reason: " + c.reason();
    } else if (event instanceof WorkOrderEvent.Cancelled c) {
      return "reason: " + c.reason();
    }
    return "";
  }

  /**
   * Text someone wrote (a reason, an actor, a progress message) as one line of a terminal: every
   * control character (a line break, a tab, an escape sequence's ESC) becomes a space.
   *
   * @param text the text
   * @return it without control characters
   */
  public static String oneLine(String text) {
    StringBuilder b = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      b.append(Character.isISOControl(c) ? ' ' : c);
    }
    return b.toString();
  }

  /** {@code "1 work order"}, {@code "3 work orders"}. */
  public static String plural(long n, String noun) {
    return n + " " + noun + (n == 1 ? "" : "s");
  }

  /** {@code "1 byte"}, {@code "312 bytes"}. */
  public static String bytes(long n) {
    return plural(n, "byte");
  }

  /**
   * The size of a checkpoint as the store keeps it and its limit counts it: UTF-8 bytes of JSON.
   */
  public static int checkpointBytes(com.fasterxml.jackson.databind.JsonNode state) {
    return dev.workgate.spi.EventCodec.writeValue(state)
        .getBytes(java.nio.charset.StandardCharsets.UTF_8)
        .length;
  }

  /**
   * A progress fraction as a percentage: whole when it is one ({@code 45%}), else to a tenth
   * ({@code 45.6%}).
   *
   * @param fraction between 0 and 1
   * @return its text
   */
  public static String percent(double fraction) {
    String p = String.format(java.util.Locale.ROOT, "%.1f", fraction * 100);
    return (p.endsWith(".0") ? p.substring(0, p.length() - 2) : p) + "%";
  }

  /** Columns padded to their widest cell; those marked numeric are right-aligned. */
  public static final class Table {
    private final List<String[]> rows = new ArrayList<>();
    private final boolean[] numeric;

    public Table(boolean[] numeric, String... header) {
      this.numeric = numeric.clone();
      rows.add(header);
    }

    public void add(Object... cells) {
      String[] row = new String[cells.length];
      for (int i = 0; i < cells.length; i++) {
        row[i] = String.valueOf(cells[i]);
      }
      rows.add(row);
    }

    public List<String> lines() {
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
