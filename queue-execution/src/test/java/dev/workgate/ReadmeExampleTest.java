package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** The README's embedding example, compiled and run; and the README shows exactly this code. */
class ReadmeExampleTest {

  private static final Path README = Path.of("..", "README.md");
  private static final Path THIS_FILE =
      Path.of("src", "test", "java", "dev", "workgate", "ReadmeExampleTest.java");

  @Test
  void readme_example_runs_a_work_order_to_completion() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream original = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      example();
    } finally {
      System.setOut(original);
      deleteDataDirectory();
    }
    assertThat(out.toString(StandardCharsets.UTF_8).trim()).isEqualTo("COMPLETED fixed acme/api");
  }

  @Test
  void every_line_of_the_readme_example_is_in_this_test() throws IOException {
    String readme = Files.readString(README);
    int start = readme.indexOf("```java\n");
    assertThat(start).as("README has a java example").isNotNegative();
    String block = readme.substring(start + 8, readme.indexOf("```", start + 8));
    assertThat(block.lines().count()).as("a ten-line example").isLessThanOrEqualTo(10);
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

  private static void example() throws TimeoutException {
    // The README's example, verbatim.
    // spotless:off
    try (WorkOrderStore store = Stores.sqlite(Path.of("workgate-data", "workgate.db"));
        Workgate workgate = Workgate.builder().store(store).maxConcurrent(2)
            .handler("agent-run", ctx -> WorkResult.ok("fixed " + ctx.payload().path("repo").asText()))
            .build()) {
      workgate.start();
      WorkOrderId id = workgate.submit(WorkOrderSpec.builder("agent-run")
          .payload(Map.of("repo", "acme/api", "task", "fix the flaky test")).build());
      WorkOrderView done = workgate.await(id, Duration.ofMinutes(1));
      System.out.println(done.state() + " " + done.result().orElseThrow().asText()); // COMPLETED fixed acme/api
    }
    // spotless:on
  }
}
