package dev.workgate.examples.host;

import dev.workgate.admin.Formats;
import dev.workgate.core.WorkOrderState;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Map;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * How the demo shows its progress: a terminal progress bar with counts by state and the latest
 * notable event, lines for a log or CI (a status line when the counts change, at most every two
 * seconds, and a line per notable event), or nothing. Called from the demo's thread and from
 * transition listeners: implementations are thread-safe.
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
   * @param activeSlots slots in use
   * @param maxSlots the node's slots
   */
  record Progress(
      Duration elapsed,
      long done,
      long total,
      Map<WorkOrderState, Long> counts,
      int activeSlots,
      int maxSlots) {

    long count(WorkOrderState state) {
      return counts.getOrDefault(state, 0L);
    }

    /** The counts by state that a person watches, short. */
    String states() {
      return String.format(
          "pending %d · preparing %d · running %d · retry %d · completed %d · failed %d",
          count(WorkOrderState.PENDING),
          count(WorkOrderState.PREPARING),
          count(WorkOrderState.RUNNING),
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
        return new Bar(total, err);
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
   * The bar: done of total and the time it took, with the counts as its message. Events are printed
   * as lines above it: under the lock the bar's redraws also take, the line overwrites the bar, and
   * the bar is drawn again below it.
   */
  final class Bar implements ProgressDisplay {
    private final ProgressBar bar;
    private final LockedConsumer console;

    Bar(long total, PrintStream err) {
      this.console = new LockedConsumer(err);
      this.bar =
          new ProgressBarBuilder()
              .setTaskName("work orders")
              .setInitialMax(total)
              .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
              .setUpdateIntervalMillis(200)
              .setConsumer(console)
              .build();
    }

    @Override
    public void update(Progress p) {
      bar.maxHint(p.total());
      bar.stepTo(p.done());
      bar.setExtraMessage(
          String.format(
              " slots %d/%d · running %d · waiting %d · retry %d · ok %d · failed %d",
              p.activeSlots(),
              p.maxSlots(),
              p.count(WorkOrderState.PREPARING) + p.count(WorkOrderState.RUNNING),
              p.count(WorkOrderState.PENDING),
              p.count(WorkOrderState.WAITING_RETRY),
              p.count(WorkOrderState.COMPLETED),
              p.count(WorkOrderState.FAILED)));
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

  /** The library's console output, with a lock so that event lines and redraws never interleave. */
  final class LockedConsumer extends ConsoleProgressBarConsumer {
    private final PrintStream err;
    private String last = "";

    LockedConsumer(PrintStream err) {
      super(err);
      this.err = err;
    }

    @Override
    public synchronized void accept(String rendered) {
      last = rendered;
      super.accept(rendered);
    }

    synchronized void above(String line) {
      // Spaces rather than an erase-line escape, which not every console passes through.
      String pad = " ".repeat(Math.max(0, last.length() - line.length()));
      err.print("\r" + line + pad + System.lineSeparator());
      super.accept(last);
    }

    @Override
    public synchronized void close() {
      super.close();
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
