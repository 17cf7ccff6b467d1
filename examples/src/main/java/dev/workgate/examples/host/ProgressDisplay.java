package dev.workgate.examples.host;

import dev.workgate.admin.Formats;
import dev.workgate.core.WorkOrderState;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Map;
import java.util.function.IntSupplier;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressState;

/**
 * How the demo shows its progress: a terminal progress bar with counts by state, fitted to the
 * terminal's width, and notable events as lines above it, lines for a log or CI (a status line when
 * the counts change, at most every two seconds, and a line per notable event), or nothing. Called
 * from the demo's thread and from transition listeners: implementations are thread-safe.
 */
interface ProgressDisplay extends AutoCloseable {

  /** How the progress is shown. */
  enum Mode {
    /** A bar on a terminal, lines otherwise. */
    AUTO,
    /** A progress bar redrawn in place. */
    BAR,
    /** Plain lines. */
    LINES,
    /** Nothing until the summary. */
    NONE
  }

  /**
   * The counts now.
   *
   * @param progress where the run is
   */
  void update(Progress progress);

  /**
   * Something worth a line: a failed attempt, a retry, a recovery.
   *
   * @param elapsed time since the demo started
   * @param text the event
   */
  void event(Duration elapsed, String text);

  @Override
  void close();

  /**
   * Where the run is.
   *
   * @param elapsed time since the demo started
   * @param done work orders ended
   * @param total work orders tracked
   * @param counts work orders by state, in the demo's queues
   * @param preparing this node's attempts creating their sandbox
   * @param running this node's attempts running (or recording their outcome)
   * @param activeSlots slots in use
   * @param maxSlots the node's slots
   */
  record Progress(
      Duration elapsed,
      long done,
      long total,
      Map<WorkOrderState, Long> counts,
      long preparing,
      long running,
      int activeSlots,
      int maxSlots) {

    long count(WorkOrderState state) {
      return counts.getOrDefault(state, 0L);
    }

    /**
     * Work orders the store has as preparing or running that are not this node's live attempts:
     * after a restart, those an earlier run left running, until their leases expire and the reaper
     * hands them back (or a race between the two readings, which never goes below zero). They are
     * shown apart, so that "running" never exceeds the slots.
     */
    long recovering() {
      return Math.max(
          0, count(WorkOrderState.PREPARING) + count(WorkOrderState.RUNNING) - preparing - running);
    }

    /** The counts by state that a person watches, short. */
    String states() {
      long recovering = recovering();
      return String.format(
          "pending %d · preparing %d · running %d%s · retry %d · completed %d · failed %d",
          count(WorkOrderState.PENDING),
          preparing,
          running,
          recovering == 0 ? "" : " · recovering " + recovering,
          count(WorkOrderState.WAITING_RETRY),
          count(WorkOrderState.COMPLETED),
          count(WorkOrderState.FAILED));
    }
  }

  /**
   * A display for the mode.
   *
   * @param mode the mode; {@code AUTO} picks {@code BAR} when {@code terminal}
   * @param terminal whether the output is a terminal
   * @param total the work orders tracked
   * @param err where the display writes
   * @return the display
   */
  static ProgressDisplay of(Mode mode, boolean terminal, long total, PrintStream err) {
    Mode m = mode == Mode.AUTO ? (terminal ? Mode.BAR : Mode.LINES) : mode;
    switch (m) {
      case BAR:
        return new Bar(total, err, new TerminalWidth(System.getenv("COLUMNS")));
      case LINES:
        return new Lines(err);
      default:
        return new ProgressDisplay() {
          @Override
          public void update(Progress progress) {}

          @Override
          public void event(Duration elapsed, String text) {}

          @Override
          public void close() {}
        };
    }
  }

  /**
   * The bar: done of total, the time it took and the counts, laid out by {@link BarLine} to the
   * terminal's width. Events are printed as lines above it.
   *
   * <p>progressbar draws it: its thread redraws the line every 200 ms (not only when a work order
   * ends, since the counts and the time change in between) and ends it on close. The library stays
   * (it keeps the drawing, its thread and its end right), but it is given a renderer (the layout of
   * {@link BarLine}) and a console of our own, and never its default console: that one asks JLine
   * for the terminal's width, and JLine's system terminal, built on first use (progressbar's {@code
   * TerminalUtils}), registers "native signals" (INT, QUIT, TSTP, CONT, WINCH), with progressbar's
   * settings the default action. That replaces the JVM's SIGINT handler: Ctrl-C then kills the JVM
   * at once, before any shutdown hook, so there is no graceful stop and running work stays RUNNING
   * until its lease expires. progressbar 0.10 cannot be handed a terminal built without those
   * signals, JLine has no system property that turns them off, and the dumb terminal a property can
   * select knows no width. So the width comes from {@link TerminalWidth}, and no JLine terminal is
   * ever built. {@code DemoInterruptTest} checks Ctrl-C under a real pseudo-terminal.
   */
  final class Bar implements ProgressDisplay {
    private final ProgressBar bar;
    private final BarConsole console;
    private volatile Progress latest;

    Bar(long total, PrintStream err, IntSupplier width) {
      this.console = new BarConsole(err, width);
      this.bar =
          new ProgressBarBuilder()
              .setTaskName("work orders")
              .setInitialMax(total)
              .setUpdateIntervalMillis(200)
              .continuousUpdate() // the counts and the time change while no work order ends
              .setRenderer((state, maxLength) -> BarLine.render(current(state), maxLength))
              .setConsumer(console)
              .build();
    }

    private Progress current(ProgressState state) {
      Progress p = latest;
      return p != null
          ? p
          : new Progress(
              state.getTotalElapsed(), state.getCurrent(), state.getMax(), Map.of(), 0, 0, 0, 0);
    }

    @Override
    public void update(Progress p) {
      latest = p;
      bar.maxHint(p.total());
      bar.stepTo(p.done());
    }

    @Override
    public void event(Duration elapsed, String text) {
      console.above("[" + Formats.duration(elapsed) + "] " + text);
    }

    @Override
    public void close() {
      bar.close();
    }
  }

  /**
   * Where the bar goes: a carriage return and the line, which {@link BarLine} pads to the full
   * width less one column, so that each draw overwrites the one before completely and never wraps.
   * A lock keeps event lines and redraws from interleaving.
   */
  final class BarConsole implements ProgressBarConsumer {
    private final PrintStream err;
    private final IntSupplier width;
    private String last = "";

    BarConsole(PrintStream err, IntSupplier width) {
      this.err = err;
      this.width = width;
    }

    /** The terminal's width less the last column: writing there makes some terminals wrap. */
    @Override
    public int getMaxRenderedLength() {
      return Math.max(1, width.getAsInt() - 1);
    }

    @Override
    public synchronized void accept(String rendered) {
      last = rendered;
      err.print("\r" + rendered);
      err.flush();
    }

    /**
     * An event line where the bar was, padded with spaces over what is left of the bar (spaces
     * rather than an erase-line escape, which not every console passes through), then the bar again
     * below it. A line shorter than the bar ends on the bar's row: no blank line follows.
     */
    synchronized void above(String line) {
      int pad = Math.min(getMaxRenderedLength(), BarLine.width(last)) - BarLine.width(line);
      err.print("\r" + line + " ".repeat(Math.max(0, pad)) + System.lineSeparator());
      if (!last.isEmpty()) {
        err.print("\r" + last);
      }
      err.flush();
    }

    @Override
    public synchronized void close() {
      err.println();
      err.flush();
    }
  }

  /** Lines: a status line when the counts change (every two seconds at most) and each event. */
  final class Lines implements ProgressDisplay {
    private static final Duration EVERY = Duration.ofSeconds(2);
    private final PrintStream err;
    private String lastStates = "";
    private Duration lastPrinted = Duration.ofDays(-1);

    Lines(PrintStream err) {
      this.err = err;
    }

    @Override
    public synchronized void update(Progress p) {
      String states = p.states();
      boolean ended = p.done() == p.total();
      if (states.equals(lastStates)
          || (!ended && p.elapsed().minus(lastPrinted).compareTo(EVERY) < 0)) {
        return;
      }
      lastStates = states;
      lastPrinted = p.elapsed();
      err.printf(
          "[%7s] %d/%d ended · slots %d/%d · %s%n",
          Formats.duration(p.elapsed()),
          p.done(),
          p.total(),
          p.activeSlots(),
          p.maxSlots(),
          states);
    }

    @Override
    public synchronized void event(Duration elapsed, String text) {
      err.printf("[%7s] %s%n", Formats.duration(elapsed), text);
    }

    @Override
    public synchronized void close() {
      err.flush();
    }
  }
}
