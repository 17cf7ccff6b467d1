package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.internal.jdbc.PostgresTestDatabase;
import dev.workgate.core.store.WorkOrderStore;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chain of {@link ChainTest} on two nodes, each over its own store instance on one PostgreSQL
 * schema: the plan, the implements and the review run on whichever node claims them, and each node
 * decides the blocked work that the other's work unblocked. Skipped when PostgreSQL is not
 * reachable, failed instead under CI.
 */
@Timeout(180)
class ChainsOnPostgresTest {
  @TempDir Path dir;
  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  @Test
  void a_chain_with_a_fan_out_and_a_fan_in_runs_on_two_postgres_nodes() throws Exception {
    ChainTest.Handlers handlers = new ChainTest.Handlers();
    try (WorkOrderStore storeA = db.openStore(Clock.systemUTC());
        WorkOrderStore storeB = db.openStore(Clock.systemUTC());
        Workgate a =
            handlers
                .on(ChainTest.node("node-a", storeA, dir.resolve("a")).maxConcurrent(2))
                .build();
        Workgate b =
            handlers
                .on(ChainTest.node("node-b", storeB, dir.resolve("b")).maxConcurrent(2))
                .build()) {
      a.start();
      b.start();

      // Submitted through one node, resubmitted by hand through the other.
      ChainTest.runChain(a.client(), b.client(), a.store());

      assertThat(handlers.secondImplementFails).isFalse();
    }
  }
}
