package dev.workgate.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * Deterministic simulation of the whole engine (see {@link Simulation}): {@code workgate.sim.seeds}
 * seeds (default 1,000) from {@code workgate.sim.firstSeed} (default 1), or one seed with {@code
 * -Dworkgate.sim.seed=N}, which also prints that run's trace.
 */
class SimulationTest {

  @Test
  void every_seed_keeps_the_invariants_and_ends_every_work_order() {
    Long one = Long.getLong("workgate.sim.seed");
    if (one != null) {
      Simulation.Config config =
          new Simulation.Config(
              one,
              Integer.getInteger("workgate.sim.workOrders", Simulation.Config.of(one).workOrders()),
              Integer.getInteger("workgate.sim.maxNodes", Simulation.Config.of(one).maxNodes()),
              !Boolean.getBoolean("workgate.sim.noFaults"),
              false,
              Boolean.getBoolean("workgate.sim.scrambledIds"),
              Boolean.getBoolean("workgate.sim.resubmittedDependencies"));
      try {
        Simulation.Outcome o = new Simulation(config).run();
        o.trace().forEach(System.out::println);
        System.out.println(config + ": " + o.steps() + " steps, " + o.virtualTime() + " virtual");
      } catch (Simulation.Violation v) {
        SimulationRunner.report(v, v, System.out);
        throw v;
      }
      return;
    }
    long first = Long.getLong("workgate.sim.firstSeed", 1L);
    int count = Integer.getInteger("workgate.sim.seeds", 1000);
    long started = System.nanoTime();
    SimulationRunner.Totals totals = SimulationRunner.run(first, count, System.out);
    System.out.printf(
        "simulation: seeds %d..%d: %s; %.1f s%n",
        first, first + count - 1, totals, (System.nanoTime() - started) / 1e9);
    assertThat(totals.seeds()).isEqualTo(count);
  }

  @Test
  void the_same_seed_replays_the_same_run() {
    for (long seed : new long[] {7, 42, 1234}) {
      Simulation.Outcome a = new Simulation(Simulation.Config.of(seed)).run();
      Simulation.Outcome b = new Simulation(Simulation.Config.of(seed)).run();
      assertThat(b.trace()).as("seed %d", seed).isEqualTo(a.trace());
      assertThat(a.trace()).hasSizeGreaterThan(50);
    }
  }

  @Test
  void faults_are_injected_and_every_path_is_taken() {
    SimulationRunner.Totals totals = SimulationRunner.run(1000, 20, System.out);
    assertThat(totals.crashes()).isPositive();
    assertThat(totals.shutdowns()).isPositive();
    assertThat(totals.clockJumps()).isPositive();
    assertThat(totals.cancels()).isPositive();
    assertThat(totals.storeFaults()).isPositive();
    assertThat(totals.pressureSpells()).isPositive();
    assertThat(totals.partitions()).isPositive();
    assertThat(totals.dependents()).isPositive();
    assertThat(totals.batches()).isPositive();
    assertThat(totals.batchEndsTold()).isPositive();
    assertThat(totals.checkpoints()).isPositive();
    assertThat(totals.staleCheckpoints()).isPositive();
    assertThat(totals.pauses()).isPositive();
    assertThat(totals.resubmits()).isPositive();
    assertThat(totals.attempts()).isGreaterThan(totals.workOrders());
  }

  @Test
  void seeds_with_ids_in_no_order_keep_the_invariants() {
    SimulationRunner.Totals totals =
        SimulationRunner.run(1, 300, System.out, Simulation.Config::scrambled);
    assertThat(totals.resubmits()).isPositive();
  }

  @Test
  void no_dependent_is_cancelled_for_a_dependency_already_resubmitted() {
    SimulationRunner.Totals totals =
        SimulationRunner.run(
            1, 1000, System.out, Simulation.Config::checkingResubmittedDependencies);
    assertThat(totals.resubmits()).isPositive();
  }

  @Test
  void a_leaked_sandbox_is_caught_and_shrunk() {
    Simulation.Config config = new Simulation.Config(5, 12, 2, false, true, false, false);
    assertThatThrownBy(() -> new Simulation(config).run())
        .isInstanceOf(Simulation.Violation.class)
        .hasMessageContaining("outlived its execution");
    Simulation.Violation first = catchViolation(config);
    Simulation.Violation smallest = SimulationRunner.shrink(first);
    assertThat(smallest.config.workOrders()).isLessThan(config.workOrders());
    assertThat(smallest.trace.size()).isLessThanOrEqualTo(first.trace.size());
    assertThat(smallest.getMessage()).contains("outlived its execution");
  }

  private static Simulation.Violation catchViolation(Simulation.Config config) {
    try {
      new Simulation(config).run();
    } catch (Simulation.Violation v) {
      return v;
    }
    throw new AssertionError("no violation");
  }
}
