package dev.workgate.examples.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderState;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The bar's line at each width, event lines above it, and where the width comes from. */
class ProgressDisplayTest {

  /** 17 of 40 ended, 4 running on 4 slots, 12 waiting, one waiting for its retry. */
  private static ProgressDisplay.Progress midRun() {
    return new ProgressDisplay.Progress(
        Duration.ofMillis(12_400),
        17,
        40,
        Map.of(
            WorkOrderState.PENDING, 12L,
            WorkOrderState.RUNNING, 4L,
            WorkOrderState.WAITING_RETRY, 1L,
            WorkOrderState.COMPLETED, 15L,
            WorkOrderState.FAILED, 2L),
        0,
        4,
        4,
        4);
  }

  @ParameterizedTest
  @ValueSource(ints = {40, 60, 80, 120, 200})
  void the_line_fills_the_width_exactly_and_keeps_every_count_and_a_bar(int width) {
    String line = BarLine.render(midRun(), width);

    assertThat(BarLine.width(line)).isEqualTo(width);
    assertThat(line).contains("17/40").contains("│");
    // Every count is there, however short its word: running, waiting, retry, ok, failed.
    assertThat(line.replaceAll("[^0-9]+", " ").trim().split(" "))
        .contains("4", "12", "1", "15", "2");
    int cells = line.lastIndexOf('│') - line.indexOf('│') - 1;
    assertThat(cells).isBetween(BarLine.MIN_NARROW_BAR, BarLine.MAX_BAR);
  }

  @Test
  void wide_lines_have_every_part_and_narrow_ones_drop_them_by_priority() {
    assertThat(BarLine.render(midRun(), 200).strip())
        .startsWith("work orders  42% │")
        .contains("│ 17/40 12.4s slots 4/4 · running 4 · waiting 12 · retry 1 · ok 15 · failed 2");
    assertThat(BarLine.render(midRun(), 120))
        .contains("42% │")
        .contains("12.4s slots 4/4 · running 4 · waiting 12 · retry 1 · ok 15 · failed 2");
    assertThat(BarLine.render(midRun(), 80))
        .startsWith("42% │")
        .contains("│ 17/40 12.4s slots 4/4 run 4 wait 12 retry 1 ok 15 fail 2");
    assertThat(BarLine.render(midRun(), 60)).contains("│ 17/40 run 4 wait 12 retry 1 ok 15 fail 2");
    assertThat(BarLine.render(midRun(), 40)).contains("│ 17/40 r4 w12 rt1 ok15 f2");
    assertThat(BarLine.render(midRun(), 80).indexOf('│'))
        .as("at 80 columns the bar keeps at least %d cells", BarLine.MIN_BAR)
        .isLessThan(BarLine.render(midRun(), 80).lastIndexOf('│') - BarLine.MIN_BAR);
  }

  @Test
  void a_width_too_narrow_for_any_layout_cuts_the_shortest_one() {
    assertThat(BarLine.render(midRun(), 12)).isEqualTo("17/40 r4 w12");
    assertThat(BarLine.render(midRun(), 1)).hasSize(1);
  }

  @Test
  void the_bar_fills_in_eighths_of_a_cell() {
    ProgressDisplay.Progress p = midRun();
    assertThat(BarLine.bar(p, 10)).isEqualTo("│████▎     │"); // 17/40 of 10 cells = 4.25
    ProgressDisplay.Progress done =
        new ProgressDisplay.Progress(Duration.ZERO, 40, 40, Map.of(), 0, 0, 0, 4);
    assertThat(BarLine.bar(done, 10)).isEqualTo("│██████████│");
    ProgressDisplay.Progress none =
        new ProgressDisplay.Progress(Duration.ZERO, 0, 0, Map.of(), 0, 0, 0, 4);
    assertThat(BarLine.bar(none, 4)).isEqualTo("│████│");
  }

  @Test
  void work_left_running_by_an_earlier_run_shows_as_recovering_not_as_running() {
    // After a restart: the store still has 8 running, 4 of them this node's live attempts.
    ProgressDisplay.Progress p =
        new ProgressDisplay.Progress(
            Duration.ofSeconds(1),
            0,
            12,
            Map.of(WorkOrderState.RUNNING, 8L, WorkOrderState.PENDING, 4L),
            0,
            4,
            4,
            4);

    assertThat(p.recovering()).isEqualTo(4);
    assertThat(p.states()).contains("preparing 0 · running 4 · recovering 4 · retry 0");
    assertThat(BarLine.render(p, 200)).contains("running 4 · recovering 4 · waiting 4");
    assertThat(BarLine.render(p, 80)).contains("run 4 recov 4 wait 4");
    assertThat(midRun().states()).doesNotContain("recovering");
  }

  @ParameterizedTest
  @ValueSource(ints = {40, 80, 120})
  void an_event_line_replaces_the_bar_completely_and_leaves_no_blank_line(int width) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    ProgressDisplay.BarConsole console = new ProgressDisplay.BarConsole(err, () -> width);
    console.accept(BarLine.render(midRun(), console.getMaxRenderedLength()));

    console.above("[1.0s] wo-1 agent attempt 1 failed");
    console.above("[2.0s] short");
    console.accept(BarLine.render(midRun(), console.getMaxRenderedLength()));
    console.close();

    List<String> screen = Terminal.screen(bytes.toString(StandardCharsets.UTF_8), width);
    assertThat(screen)
        .containsExactly(
            "[1.0s] wo-1 agent attempt 1 failed",
            "[2.0s] short",
            BarLine.render(midRun(), width - 1).stripTrailing(),
            "");
  }

  @Test
  void the_width_is_measured_again_every_two_seconds_until_it_cannot_be_then_columns_or_80() {
    AtomicInteger measured = new AtomicInteger(100);
    AtomicInteger measurements = new AtomicInteger();
    AtomicLong nanos = new AtomicLong();
    TerminalWidth width =
        new TerminalWidth(
            "120",
            () -> {
              measurements.incrementAndGet();
              return measured.get();
            },
            nanos::get);

    assertThat(width.getAsInt()).isEqualTo(100);
    measured.set(-1);
    nanos.addAndGet(TerminalWidth.REMEASURE_NANOS - 1);
    assertThat(width.getAsInt()).isEqualTo(100);
    assertThat(measurements).hasValue(1);
    nanos.addAndGet(1);
    assertThat(width.getAsInt()).as("no terminal: COLUMNS").isEqualTo(120);
    assertThat(measurements).hasValue(2);
    measured.set(90);
    nanos.addAndGet(10 * TerminalWidth.REMEASURE_NANOS);
    assertThat(width.getAsInt()).as("once stty failed, it is not asked again").isEqualTo(120);
    assertThat(measurements).hasValue(2);
    assertThat(new TerminalWidth(null, () -> -1, nanos::get).getAsInt()).isEqualTo(80);
    assertThat(new TerminalWidth("abc", () -> 0, nanos::get).getAsInt()).isEqualTo(80);
  }

  /** What a terminal shows: carriage return, newline, and a wrap after the last column. */
  static final class Terminal {
    static List<String> screen(String output, int width) {
      List<StringBuilder> rows = new ArrayList<>(List.of(new StringBuilder()));
      int row = 0;
      int col = 0;
      boolean pendingWrap = false;
      for (int cp : output.codePoints().toArray()) {
        if (cp == '\r') {
          col = 0;
          pendingWrap = false;
        } else if (cp == '\n') {
          row++;
          col = 0;
          pendingWrap = false;
          if (rows.size() <= row) {
            rows.add(new StringBuilder());
          }
        } else {
          if (pendingWrap) {
            row++;
            col = 0;
            pendingWrap = false;
            if (rows.size() <= row) {
              rows.add(new StringBuilder());
            }
          }
          StringBuilder r = rows.get(row);
          while (r.codePointCount(0, r.length()) <= col) {
            r.append(' ');
          }
          int at = r.offsetByCodePoints(0, col);
          r.replace(at, r.offsetByCodePoints(at, 1), new String(Character.toChars(cp)));
          if (col == width - 1) {
            pendingWrap = true;
          } else {
            col++;
          }
        }
      }
      return rows.stream().map(r -> r.toString().stripTrailing()).toList();
    }
  }
}
