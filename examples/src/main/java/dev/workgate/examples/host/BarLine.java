package dev.workgate.examples.host;

import dev.workgate.admin.Formats;
import dev.workgate.core.WorkOrderState;
import java.util.ArrayList;
import java.util.List;

/**
 * The progress bar's line at a given width. The parts a person reads first survive longest: the
 * counts by state stay while the label, the elapsed time and the percentage go and the counts'
 * words shorten; the bar itself shrinks down to a few cells and goes last. The line is padded with
 * spaces to exactly the width, so that a redraw covers the one before. Stateless.
 */
final class BarLine {
  /** The bar's cells at most: wider says nothing more. */
  static final int MAX_BAR = 40;

  /** The bar's cells at least while it is shown with full counts. */
  static final int MIN_BAR = 10;

  /** The bar's cells at least in the narrowest layout that keeps it. */
  static final int MIN_NARROW_BAR = 4;

  private static final String LABEL = "work orders ";
  private static final char[] EIGHTHS = {' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'};

  private BarLine() {}

  /** How the counts are written, from the longest to the shortest. */
  private enum Counts {
    FULL,
    SHORT,
    NO_SLOTS,
    TINY
  }

  /** One way to lay out the line: which parts it has and the least room its bar needs. */
  private record Layout(
      boolean label, boolean percent, boolean elapsed, Counts counts, int minBar) {}

  private static final List<Layout> LAYOUTS =
      List.of(
          new Layout(true, true, true, Counts.FULL, MIN_BAR),
          new Layout(false, true, true, Counts.FULL, MIN_BAR),
          new Layout(false, true, true, Counts.SHORT, MIN_BAR),
          new Layout(false, true, false, Counts.SHORT, MIN_BAR),
          new Layout(false, false, false, Counts.NO_SLOTS, MIN_BAR),
          new Layout(false, false, false, Counts.TINY, MIN_NARROW_BAR),
          new Layout(false, false, false, Counts.TINY, 0));

  /**
   * The line for the progress at the width.
   *
   * @param p where the run is
   * @param width the columns the line may take, at least 1
   * @return the line, exactly {@code width} columns wide (cut at the end only when even the
   *     shortest layout does not fit)
   */
  static String render(ProgressDisplay.Progress p, int width) {
    for (Layout layout : LAYOUTS) {
      String least = join(layout, p, layout.minBar() == 0 ? "" : bar(p, layout.minBar()));
      int room = width - width(least);
      if (room >= 0) {
        if (layout.minBar() == 0) {
          return pad(least, width);
        }
        int cells = Math.min(MAX_BAR, layout.minBar() + room);
        return pad(join(layout, p, bar(p, cells)), width);
      }
    }
    String shortest = join(LAYOUTS.get(LAYOUTS.size() - 1), p, "");
    return shortest.substring(0, Math.max(0, width));
  }

  /** Columns a line takes: one per code point (the demo writes no wide characters). */
  static int width(String s) {
    return s.codePointCount(0, s.length());
  }

  private static String join(Layout layout, ProgressDisplay.Progress p, String bar) {
    List<String> parts = new ArrayList<>();
    StringBuilder head = new StringBuilder();
    if (layout.label()) {
      head.append(LABEL);
    }
    if (layout.percent()) {
      head.append(String.format("%3d%%", percent(p)));
    }
    if (head.length() > 0) {
      parts.add(head.toString().strip());
    }
    if (!bar.isEmpty()) {
      parts.add(bar);
    }
    parts.add(p.done() + "/" + p.total());
    if (layout.elapsed()) {
      parts.add(Formats.duration(p.elapsed()));
    }
    parts.add(counts(layout.counts(), p));
    return String.join(" ", parts);
  }

  private static String counts(Counts style, ProgressDisplay.Progress p) {
    long waiting = p.count(WorkOrderState.PENDING);
    long retry = p.count(WorkOrderState.WAITING_RETRY);
    long ok = p.count(WorkOrderState.COMPLETED);
    long failed = p.count(WorkOrderState.FAILED);
    long running = p.preparing() + p.running();
    long recovering = p.recovering();
    switch (style) {
      case FULL:
        return String.format(
            "slots %d/%d · running %d%s · waiting %d · retry %d · ok %d · failed %d",
            p.activeSlots(),
            p.maxSlots(),
            running,
            recovering == 0 ? "" : " · recovering " + recovering,
            waiting,
            retry,
            ok,
            failed);
      case SHORT:
        return String.format(
            "slots %d/%d run %d%s wait %d retry %d ok %d fail %d",
            p.activeSlots(),
            p.maxSlots(),
            running,
            recovering == 0 ? "" : " recov " + recovering,
            waiting,
            retry,
            ok,
            failed);
      case NO_SLOTS:
        return String.format(
            "run %d%s wait %d retry %d ok %d fail %d",
            running, recovering == 0 ? "" : " recov " + recovering, waiting, retry, ok, failed);
      default:
        return String.format(
            "r%d%s w%d rt%d ok%d f%d",
            running, recovering == 0 ? "" : " rc" + recovering, waiting, retry, ok, failed);
    }
  }

  private static long percent(ProgressDisplay.Progress p) {
    return p.total() <= 0 ? 100 : Math.min(100, p.done() * 100 / p.total());
  }

  /** {@code │████▌ │}: {@code cells} cells between two borders, in eighths of a cell. */
  static String bar(ProgressDisplay.Progress p, int cells) {
    long eighths =
        p.total() <= 0 ? cells * 8L : Math.min(cells * 8L, p.done() * cells * 8L / p.total());
    StringBuilder b = new StringBuilder(cells + 2).append('│');
    b.append("█".repeat((int) (eighths / 8)));
    if (eighths / 8 < cells) {
      b.append(EIGHTHS[(int) (eighths % 8)]);
      b.append(" ".repeat(cells - (int) (eighths / 8) - 1));
    }
    return b.append('│').toString();
  }

  private static String pad(String line, int width) {
    return line + " ".repeat(Math.max(0, width - width(line)));
  }
}
