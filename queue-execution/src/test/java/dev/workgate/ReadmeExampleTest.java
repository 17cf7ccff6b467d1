package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.readme.AgentRunner;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The README's embedding example: its Java block is {@link AgentRunner} verbatim, it runs, and its
 * dependency block names the versions this build uses.
 */
class ReadmeExampleTest {

  private static final Path README = Path.of("..", "README.md");
  private static final Path ROOT_POM = Path.of("..", "pom.xml");
  private static final Path EXAMPLE =
      Path.of("src", "test", "java", "dev", "workgate", "readme", "AgentRunner.java");

  @Test
  void readme_example_runs_a_work_order_to_completion() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream original = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      AgentRunner.main(new String[0]);
    } finally {
      System.setOut(original);
      deleteRecursively(Path.of("agent-runner-data"));
    }
    assertThat(out.toString(StandardCharsets.UTF_8).trim()).isEqualTo("COMPLETED fixed acme/api");
  }

  @Test
  void the_readme_java_block_is_the_example_class_verbatim() throws IOException {
    String source = Files.readString(EXAMPLE);
    String start = "// spotless:off\n";
    int from = source.indexOf(start) + start.length();
    String verbatim = source.substring(from, source.indexOf("// spotless:on", from));
    assertThat(block(Files.readString(README), "```java\n")).isEqualTo(verbatim);
  }

  @Test
  void the_readme_dependency_block_names_this_builds_versions() throws IOException {
    String pom = Files.readString(ROOT_POM);
    String deps = block(Files.readString(README), "```xml\n");
    assertThat(version(deps, "queue-execution")).isEqualTo(tag(pom, "version"));
    assertThat(version(deps, "sqlite-jdbc")).isEqualTo(tag(pom, "sqlite-jdbc.version"));
    assertThat(version(deps, "slf4j-simple")).isEqualTo(tag(pom, "slf4j.version"));
  }

  private static String block(String markdown, String fence) {
    int start = markdown.indexOf(fence);
    assertThat(start).as("README has a block %s", fence.strip()).isNotNegative();
    int from = start + fence.length();
    return markdown.substring(from, markdown.indexOf("```", from));
  }

  /** The version that follows the artifact in a dependency block. */
  private static String version(String deps, String artifactId) {
    Matcher m =
        Pattern.compile(
                "<artifactId>"
                    + Pattern.quote(artifactId)
                    + "</artifactId>\\s*<version>([^<]+)</version>")
            .matcher(deps);
    assertThat(m.find()).as("README's dependency block names %s", artifactId).isTrue();
    return m.group(1);
  }

  /** The first element of that name in the root POM (its own version comes first). */
  private static String tag(String pom, String name) {
    Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(pom);
    assertThat(m.find()).as("root POM has <%s>", name).isTrue();
    return m.group(1);
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
