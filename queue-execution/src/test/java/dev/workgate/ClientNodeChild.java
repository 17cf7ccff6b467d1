package dev.workgate;

import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The node of {@link WorkgateClientAcrossStoresTest}'s process test: a {@code Workgate} over a
 * SQLite file with a handler for {@code greet}, in a JVM of its own. It writes a ready file once
 * started, runs until it has completed one work order (or two minutes pass), then closes and exits
 * 0 (1 on the time limit). Arguments: the database file, the sandbox root, the ready file.
 */
public final class ClientNodeChild {
  private ClientNodeChild() {}

  /**
   * Runs the node until one work order completes.
   *
   * @param args database, sandbox root, ready file
   * @throws Exception if the node cannot start
   */
  public static void main(String[] args) throws Exception {
    Path db = Path.of(args[0]);
    Path root = Path.of(args[1]);
    Path ready = Path.of(args[2]);
    CountDownLatch completed = new CountDownLatch(1);
    boolean done;
    try (WorkOrderStore store = Stores.sqlite(db);
        Workgate node =
            Workgate.builder()
                .store(store)
                .nodeId("child-node")
                .sandboxRoot(root)
                .pollInterval(Duration.ofMillis(100))
                .memoryProbe(() -> new MemoryReading(64L << 30, 60L << 30, "test"))
                .handler(
                    "greet",
                    ctx -> WorkResult.ok("hello from a node: " + ctx.payload(String.class)))
                .build()) {
      node.onTransition(
          change -> {
            if (change.to() == WorkOrderState.COMPLETED) {
              completed.countDown();
            }
          });
      node.start();
      Files.writeString(ready, "started");
      done = completed.await(2, TimeUnit.MINUTES);
    }
    System.exit(done ? 0 : 1);
  }
}
