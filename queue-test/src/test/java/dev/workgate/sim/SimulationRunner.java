package dev.workgate.sim;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs seeds, and on a failure shrinks the scenario (fewer work orders, fewer nodes) while the same
 * seed still fails, then prints the seed, the smallest failing scenario and its trace, with the
 * property that replays it.
 */
final class SimulationRunner {
  /** Totals over the seeds run. */
  record Totals(
      int seeds,
      long steps,
      long workOrders,
      long attempts,
      long crashes,
      long shutdowns,
      long clockJumps,
      long cancels,
      long storeFaults,
      long pressureSpells,
      long partitions,
      long dependents,
      long batches,
      long checkpoints,
      long staleCheckpoints,
      long pauses,
      long resubmits,
      long batchEndsTold,
      long batchEndsUntold,
      long virtualSeconds) {
    @Override
    public String toString() {
      return seeds
          + " seeds, "
          + steps
          + " steps, "
          + workOrders
          + " work orders, "
          + attempts
          + " attempts; faults: "
          + crashes
          + " crashes, "
          + shutdowns
          + " shutdowns, "
          + clockJumps
          + " clock jumps, "
          + cancels
          + " cancels, "
          + storeFaults
          + " store write failures, "
          + pressureSpells
          + " memory-pressure spells, "
          + partitions
          + " partitions, "
          + pauses
          + " queue pauses, "
          + resubmits
          + " resubmissions by hand; "
          + dependents
          + " dependents, "
          + batches
          + " batches ("
          + batchEndsTold
          + " ends told, "
          + batchEndsUntold
          + " last ends never told), "
          + checkpoints
          + " checkpoints ("
          + staleCheckpoints
          + " refused as stale); "
          + virtualSeconds / 3600
          + " h of virtual time";
    }
  }

  private SimulationRunner() {}

  static Totals run(long firstSeed, int count, PrintStream out) {
    return run(firstSeed, count, out, c -> c);
  }

  /** Runs seeds, each with the default config of its seed changed by {@code variant}. */
  static Totals run(
      long firstSeed,
      int count,
      PrintStream out,
      java.util.function.UnaryOperator<Simulation.Config> variant) {
    long steps = 0;
    long workOrders = 0;
    long attempts = 0;
    long crashes = 0;
    long shutdowns = 0;
    long jumps = 0;
    long cancels = 0;
    long storeFaults = 0;
    long pressure = 0;
    long partitions = 0;
    long dependents = 0;
    long batches = 0;
    long checkpoints = 0;
    long stale = 0;
    long pauses = 0;
    long resubmits = 0;
    long batchEnds = 0;
    long untold = 0;
    long virtualSeconds = 0;
    for (long seed = firstSeed; seed < firstSeed + count; seed++) {
      Simulation.Config config = variant.apply(Simulation.Config.of(seed));
      Simulation.Outcome o;
      try {
        o = new Simulation(config).run();
      } catch (Simulation.Violation v) {
        Simulation.Violation smallest = shrink(v);
        report(smallest, v, out);
        throw smallest;
      }
      steps += o.steps();
      workOrders += config.workOrders();
      attempts += o.attempts();
      crashes += o.crashes();
      shutdowns += o.shutdowns();
      jumps += o.clockJumps();
      cancels += o.cancels();
      storeFaults += o.storeFaults();
      pressure += o.pressureSpells();
      partitions += o.partitions();
      dependents += o.dependents();
      batches += o.batches();
      checkpoints += o.checkpoints();
      stale += o.staleCheckpoints();
      pauses += o.pauses();
      resubmits += o.resubmits();
      batchEnds += o.batchEndsTold();
      untold += o.batchEndsUntold();
      virtualSeconds += o.virtualTime().toSeconds();
    }
    return new Totals(
        count,
        steps,
        workOrders,
        attempts,
        crashes,
        shutdowns,
        jumps,
        cancels,
        storeFaults,
        pressure,
        partitions,
        dependents,
        batches,
        checkpoints,
        stale,
        pauses,
        resubmits,
        batchEnds,
        untold,
        virtualSeconds);
  }

  /**
   * The smallest scenario of the same seed that still fails: fewer work orders and nodes, kept
   * while the trace to the failure gets shorter (or stays as short with a smaller scenario).
   */
  static Simulation.Violation shrink(Simulation.Violation first) {
    Simulation.Violation best = first;
    boolean progress = true;
    while (progress) {
      progress = false;
      Simulation.Config c = best.config;
      List<Simulation.Config> smaller = new ArrayList<>();
      for (int n : new int[] {c.workOrders() / 4, c.workOrders() / 2, c.workOrders() - 1}) {
        if (n >= 1 && n < c.workOrders()) {
          smaller.add(c.with(n, c.maxNodes()));
        }
      }
      if (c.maxNodes() > 1) {
        smaller.add(c.with(c.workOrders(), c.maxNodes() - 1));
      }
      for (Simulation.Config s : smaller) {
        try {
          new Simulation(s).run();
        } catch (Simulation.Violation v) {
          if (v.trace.size() <= best.trace.size()) {
            best = v;
            progress = true;
            break;
          }
        }
      }
    }
    return best;
  }

  static void report(Simulation.Violation smallest, Simulation.Violation first, PrintStream out) {
    out.println("SIMULATION FAILED: " + first.getMessage());
    out.println("  first seen with " + first.config + " (" + first.trace.size() + " trace lines)");
    out.println("  smallest failing scenario: " + smallest.config + ": " + smallest.getMessage());
    out.println(
        "  replay: mvn -pl queue-test -am test -Dtest=SimulationTest"
            + " -Dsurefire.failIfNoSpecifiedTests=false -Dworkgate.sim.seed="
            + smallest.config.seed()
            + " -Dworkgate.sim.workOrders="
            + smallest.config.workOrders()
            + " -Dworkgate.sim.maxNodes="
            + smallest.config.maxNodes()
            + (smallest.config.faults() ? "" : " -Dworkgate.sim.noFaults=true")
            + (smallest.config.scrambledIds() ? " -Dworkgate.sim.scrambledIds=true" : "")
            + (smallest.config.resubmittedDependencies()
                ? " -Dworkgate.sim.resubmittedDependencies=true"
                : ""));
    out.println("  trace of the smallest failing scenario:");
    List<String> t = smallest.trace;
    int from = Math.max(0, t.size() - 3000);
    if (from > 0) {
      out.println("    ... " + from + " earlier lines omitted");
    }
    for (String line : t.subList(from, t.size())) {
      out.println("    " + line);
    }
  }
}
