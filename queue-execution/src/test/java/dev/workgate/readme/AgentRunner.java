package dev.workgate.readme;

// The README's embedding example, verbatim: ReadmeExampleTest compares the two and runs it.
// spotless:off
import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

public final class AgentRunner {
  public static void main(String[] args) throws Exception {
    Path data = Path.of("agent-runner-data", "workgate.db"); // this application's own store
    try (WorkOrderStore store = Stores.sqlite(data);
        Workgate workgate = Workgate.builder().store(store)
            .nodeId("agent-runner-1") // stable across restarts, unique among a store's nodes
            .maxConcurrent(2)
            .handler("agent-run", ctx -> WorkResult.ok("fixed " + ctx.payload().path("repo").asText()))
            .build()) {
      workgate.start();
      WorkOrderId id = workgate.submit(WorkOrderSpec.builder("agent-run")
          .payload(Map.of("repo", "acme/api", "task", "fix the flaky test")).build());
      WorkOrderView done = workgate.await(id, Duration.ofMinutes(1));
      System.out.println(done.state() + " " + done.result().orElseThrow().asText()); // COMPLETED fixed acme/api
    }
  }
}
// spotless:on
