package dev.workgate.examples.host;

import dev.workgate.admin.Formats;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.observability.WorkOrderTimeline;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The demo's closing summary, read back from the store: work orders by final state and type,
 * attempts and failures by error code, queue waits and run times, the work orders that failed for
 * good, and the timeline of one that failed and then succeeded on retry.
 */
final class DemoReport {
  private final Map<WorkOrderState, Integer> byState = new EnumMap<>(WorkOrderState.class);
  private final Map<String, int[]> byType = new TreeMap<>();
  private final Map<String, Integer> failuresByCode = new TreeMap<>();
  private final List<Duration> waits = new ArrayList<>();
  private final List<Duration> runs = new ArrayList<>();
  private final List<WorkOrderView> failed = new ArrayList<>();
  private int attempts;
  private WorkOrderTimeline recovered;
  private int recoveredScore = -1;

  private DemoReport() {}

  /**
   * Reads the tracked work orders' views and streams.
   *
   * @param store the store
   * @param ids the work orders
   * @return the report
   */
  static DemoReport read(WorkOrderStore store, Collection<WorkOrderId> ids) {
    DemoReport r = new DemoReport();
    for (WorkOrderId id : ids) {
      Optional<WorkOrderView> view = store.find(id);
      if (view.isPresent()) {
        r.add(view.get(), store.readStream(id));
      }
    }
    return r;
  }

  private void add(WorkOrderView v, List<RecordedEvent> stream) {
    byState.merge(v.state(), 1, Integer::sum);
    int[] t = byType.computeIfAbsent(v.type(), k -> new int[2]);
    t[0]++;
    if (v.state() == WorkOrderState.COMPLETED) {
      t[1]++;
    }
    if (v.state() == WorkOrderState.FAILED) {
      failed.add(v);
    }
    attempts += v.attempt();
    Instant available = null;
    Instant started = null;
    int failures = 0;
    for (RecordedEvent e : stream) {
      WorkOrderEvent ev = e.event();
      if (ev instanceof WorkOrderEvent.Submitted || ev instanceof WorkOrderEvent.RetryReleased) {
        available = e.recordedAt();
      } else if (ev instanceof WorkOrderEvent.Claimed && available != null) {
        waits.add(nonNegative(Duration.between(available, e.recordedAt())));
      } else if (ev instanceof WorkOrderEvent.Started) {
        started = e.recordedAt();
      } else if (ev instanceof WorkOrderEvent.AttemptFailed f) {
        failuresByCode.merge(f.error().code(), 1, Integer::sum);
        failures++;
        if (started != null) {
          runs.add(nonNegative(Duration.between(started, e.recordedAt())));
        }
        started = null;
      } else if (ev instanceof WorkOrderEvent.Completed && started != null) {
        runs.add(nonNegative(Duration.between(started, e.recordedAt())));
      }
    }
    if (v.state() == WorkOrderState.COMPLETED && failures > 0) {
      // Prefer an agent run, and one whose first attempt hit its timeout: the richest timeline.
      int score =
          (v.type().equals(DemoPlan.AGENT_TYPE) ? 2 : 0)
              + (v.lastError().map(e -> e.code().equals("TIMEOUT")).orElse(false) ? 1 : 0);
      if (score > recoveredScore) {
        WorkOrderTimeline.of(stream).ifPresent(tl -> recovered = tl);
        recoveredScore = score;
      }
    }
  }

  /**
   * A work order that failed and then completed, if any.
   *
   * @return its timeline
   */
  Optional<WorkOrderTimeline> recovered() {
    return Optional.ofNullable(recovered);
  }

  int count(WorkOrderState state) {
    return byState.getOrDefault(state, 0);
  }

  int total() {
    return byState.values().stream().mapToInt(Integer::intValue).sum();
  }

  /**
   * Prints the summary.
   *
   * @param out where
   * @param elapsed the run's wall time
   * @param maxSlots the node's slots
   */
  void print(PrintStream out, Duration elapsed, int maxSlots) {
    int total = total();
    out.println();
    out.printf(
        "Summary: %d work orders ended in %s on %d slots (%.2f per second)%n",
        total,
        Formats.duration(elapsed),
        maxSlots,
        elapsed.isZero() ? 0.0 : total * 1000.0 / elapsed.toMillis());
    out.printf(
        "  by state:  completed %d · failed %d · cancelled %d · not ended %d%n",
        count(WorkOrderState.COMPLETED),
        count(WorkOrderState.FAILED),
        count(WorkOrderState.CANCELLED),
        total
            - count(WorkOrderState.COMPLETED)
            - count(WorkOrderState.FAILED)
            - count(WorkOrderState.CANCELLED));
    StringBuilder types = new StringBuilder();
    byType.forEach(
        (type, n) ->
            types
                .append(types.length() == 0 ? "" : " · ")
                .append(type)
                .append(' ')
                .append(n[1])
                .append('/')
                .append(n[0])
                .append(" completed"));
    out.println("  by type:   " + types);
    StringBuilder codes = new StringBuilder();
    failuresByCode.forEach(
        (code, n) ->
            codes.append(codes.length() == 0 ? "" : ", ").append(code).append(' ').append(n));
    out.printf(
        "  attempts:  %d for %d work orders; failed attempts: %s%n",
        attempts, total, codes.length() == 0 ? "none" : codes);
    out.printf(
        "  waits:     claimable to claimed p50 %s, max %s · attempts ran p50 %s, max %s%n",
        Formats.duration(percentile(waits, 50)),
        Formats.duration(percentile(waits, 100)),
        Formats.duration(percentile(runs, 50)),
        Formats.duration(percentile(runs, 100)));
    if (!failed.isEmpty()) {
      out.println("  failed for good (no retry could help, or attempts ran out):");
      failed.sort(Comparator.comparing(WorkOrderView::submittedAt));
      for (WorkOrderView v : failed) {
        out.printf(
            "    %s %s after %d attempt%s: %s%n",
            v.id(),
            v.type(),
            v.attempt(),
            v.attempt() == 1 ? "" : "s",
            v.lastError().map(e -> e.code() + " " + e.message()).orElse("no error recorded"));
      }
    }
    recovered()
        .ifPresent(
            t -> {
              out.println();
              out.printf(
                  "Work order %s failed and then succeeded on retry (%s in all):%n",
                  t.workOrderId(), Formats.duration(t.total()));
              Formats.timelineLines(t).forEach(line -> out.println("  " + line));
            });
  }

  static Duration percentile(List<Duration> values, int p) {
    if (values.isEmpty()) {
      return Duration.ZERO;
    }
    List<Duration> sorted = new ArrayList<>(values);
    sorted.sort(null);
    int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
  }

  private static Duration nonNegative(Duration d) {
    return d.isNegative() ? Duration.ZERO : d;
  }
}
