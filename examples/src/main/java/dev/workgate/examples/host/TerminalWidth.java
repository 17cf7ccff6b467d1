package dev.workgate.examples.host;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * The terminal's width in columns, for the progress bar: {@code stty size} on {@code /dev/tty},
 * measured again at most every {@link #REMEASURE_NANOS} (so the bar follows a resized window), else
 * the {@code COLUMNS} variable, else {@value #DEFAULT}. Nothing here touches signals (see {@link
 * ProgressDisplay.Bar} for why that matters). Thread-safe.
 */
final class TerminalWidth implements IntSupplier {
  /** The width when none can be found: the classic terminal's. */
  static final int DEFAULT = 80;

  /** Narrower than this is taken for a misreading (an IDE console may say 0 or 1). */
  static final int MIN = 20;

  /** How long a measurement holds: a resize shows within two seconds. */
  static final long REMEASURE_NANOS = TimeUnit.SECONDS.toNanos(2);

  private final String columns;
  private final IntSupplier measure;
  private final LongSupplier nanoTime;
  private int width = -1;
  private long measuredAt;
  private boolean measuring = true;

  /**
   * The width of the terminal on {@code /dev/tty}.
   *
   * @param columns the {@code COLUMNS} variable, or null
   */
  TerminalWidth(String columns) {
    this(columns, TerminalWidth::stty, System::nanoTime);
  }

  TerminalWidth(String columns, IntSupplier measure, LongSupplier nanoTime) {
    this.columns = columns;
    this.measure = measure;
    this.nanoTime = nanoTime;
  }

  @Override
  public synchronized int getAsInt() {
    long now = nanoTime.getAsLong();
    if (width < 0 || (measuring && now - measuredAt >= REMEASURE_NANOS)) {
      measuredAt = now;
      int measured = measure.getAsInt();
      // No terminal to ask (or no stty): the environment's width from then on, without forking a
      // process every few seconds for the rest of the run.
      measuring = measured >= MIN;
      width = measuring ? measured : fromColumns();
    }
    return width;
  }

  private int fromColumns() {
    try {
      int n = columns == null ? -1 : Integer.parseInt(columns.trim());
      return n >= MIN ? n : DEFAULT;
    } catch (NumberFormatException e) {
      return DEFAULT;
    }
  }

  /** {@code stty size < /dev/tty}: "rows columns"; -1 when there is no terminal or no stty. */
  static int stty() {
    File tty = new File("/dev/tty");
    if (!tty.exists()) {
      return -1;
    }
    try {
      Process p =
          new ProcessBuilder("stty", "size")
              .redirectInput(tty)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      // stty's answer is a few bytes, so waiting before reading cannot fill the pipe.
      if (!p.waitFor(2, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        p.getInputStream().close();
        return -1;
      }
      String out;
      try (InputStream in = p.getInputStream()) {
        out = new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim();
      }
      String[] parts = out.split("\\s+");
      return parts.length == 2 ? Integer.parseInt(parts[1]) : -1;
    } catch (IOException | NumberFormatException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}
