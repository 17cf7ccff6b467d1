package dev.workgate.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.store.Capacity;
import dev.workgate.core.store.ClaimRequest;
import dev.workgate.core.store.ExpectedVersion;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The README's embedding example, compiled and run; and the README shows exactly this code. */
class ReadmeExampleTest {

  private static final Path README = Path.of("..", "README.md");
  private static final Path THIS_FILE =
      Path.of("src", "test", "java", "dev", "workgate", "core", "ReadmeExampleTest.java");

  @Test
  void readme_example_runs_a_work_order_to_completion() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream original = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      example();
    } finally {
      System.setOut(original);
      deleteDataDirectory();
    }
    assertThat(out.toString(StandardCharsets.UTF_8).trim()).isEqualTo("COMPLETED");
  }

  @Test
  void every_line_of_the_readme_example_is_in_this_test() throws IOException {
    String readme = Files.readString(README);
    int start = readme.indexOf("```java\n");
    assertThat(start).as("README has a java example").isNotNegative();
    String block = readme.substring(start + 8, readme.indexOf("```", start + 8));
    String source = Files.readString(THIS_FILE);
    for (String line : block.lines().map(String::strip).filter(l -> !l.isEmpty()).toList()) {
      assertThat(source).as("README line in ReadmeExampleTest").contains(line);
    }
  }

  private static void deleteDataDirectory() throws IOException {
    Path data = Path.of("workgate-data");
    if (Files.exists(data)) {
      try (var files = Files.list(data)) {
        for (Path f : files.toList()) {
          Files.delete(f);
        }
      }
      Files.delete(data);
    }
  }

  private static void example() {
    // The README's example, verbatim.
    // spotless:off
    try (WorkOrderStore store = Stores.sqlite(Path.of("workgate-data", "workgate.db"))) {
      WorkOrderId id = WorkOrderId.random();
      WorkOrderSpec spec = WorkOrderSpec.builder("agent-run")
          .payload(Map.of("repo", "acme/api", "task", "fix the flaky test"))
          .priority(5).resources(ResourceRequest.of(1, 4096)).build();
      store.append(id, ExpectedVersion.none(), List.of(WorkOrderEvent.Submitted.of(spec)));
      List<WorkOrderView> claimed = store.claim(new ClaimRequest(
          "default", "node-1", 8, Capacity.of(2, 8192), Instant.now(), Duration.ofSeconds(30)));
      store.append(id, ExpectedVersion.exactly(2), List.of(new WorkOrderEvent.Started("sandbox-1")));
      store.append(id, ExpectedVersion.exactly(3), List.of(new WorkOrderEvent.Completed(null)));
      System.out.println(store.find(id).orElseThrow().state()); // COMPLETED
      assertThat(claimed).extracting(WorkOrderView::id).containsExactly(id);
    }
    // spotless:on
  }
}
