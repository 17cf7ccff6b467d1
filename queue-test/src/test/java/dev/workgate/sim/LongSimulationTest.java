package dev.workgate.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The long simulation ({@code -Pslow}): {@code workgate.sim.longSeeds} seeds (default 100,000) from
 * {@code workgate.sim.longFirstSeed} (default 1,000,000), past the default run's range.
 */
@Tag("slow")
class LongSimulationTest {

  @Test
  void a_hundred_thousand_seeds_keep_the_invariants() {
    long first = Long.getLong("workgate.sim.longFirstSeed", 1_000_000L);
    int count = Integer.getInteger("workgate.sim.longSeeds", 100_000);
    long started = System.nanoTime();
    SimulationRunner.Totals totals = SimulationRunner.run(first, count, System.out);
    System.out.printf(
        "long simulation: seeds %d..%d: %s; %.1f s%n",
        first, first + count - 1, totals, (System.nanoTime() - started) / 1e9);
    assertThat(totals.seeds()).isEqualTo(count);
  }
}
