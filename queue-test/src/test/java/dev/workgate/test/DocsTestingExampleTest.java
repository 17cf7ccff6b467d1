package dev.workgate.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/testing.md: its first Java block is {@code docs/InvoiceHandlerTest} verbatim and the one
 * under "Testing a store of your own" is {@code stores/InMemoryWorkOrderStoreConformanceTest}
 * verbatim (each runs as a test of its own), its dependency block names this build's version, and
 * the README links it.
 */
class DocsTestingExampleTest {
  private static final Path DOC = Path.of("..", "docs", "testing.md");
  private static final Path README = Path.of("..", "README.md");
  private static final Path ROOT_POM = Path.of("..", "pom.xml");
  private static final Path EXAMPLE =
      Path.of("src", "test", "java", "dev", "workgate", "test", "docs", "InvoiceHandlerTest.java");
  private static final Path STORE_EXAMPLE =
      Path.of("src/test/java/dev/workgate/test/stores/InMemoryWorkOrderStoreConformanceTest.java");

  @Test
  void the_java_block_is_the_example_test_verbatim() throws IOException {
    assertThat(block(Files.readString(DOC), "```java\n")).isEqualTo(betweenMarkers(EXAMPLE));
  }

  @Test
  void the_store_section_shows_the_in_memory_stores_conformance_test_verbatim() throws IOException {
    String doc = Files.readString(DOC);
    String heading = "## Testing a store of your own\n";
    assertThat(doc).contains(heading);
    String section = doc.substring(doc.indexOf(heading));
    assertThat(block(section, "```java\n")).isEqualTo(betweenMarkers(STORE_EXAMPLE));
  }

  @Test
  void the_dependency_block_names_this_builds_version_in_test_scope() throws IOException {
    String deps = block(Files.readString(DOC), "```xml\n");
    Matcher m =
        Pattern.compile(
                "<artifactId>queue-test</artifactId>\\s*<version>([^<]+)</version>\\s*"
                    + "<scope>test</scope>")
            .matcher(deps);
    assertThat(m.find()).as("docs/testing.md's dependency block names queue-test").isTrue();
    Matcher version =
        Pattern.compile("<version>([^<]+)</version>").matcher(Files.readString(ROOT_POM));
    assertThat(version.find()).isTrue();
    assertThat(m.group(1)).isEqualTo(version.group(1));
  }

  @Test
  void the_readme_links_it() throws IOException {
    assertThat(Files.readString(README)).contains("(docs/testing.md)");
  }

  private static String betweenMarkers(Path source) throws IOException {
    String text = Files.readString(source);
    String start = "// spotless:off\n";
    assertThat(text).as("%s has the markers", source).contains(start, "// spotless:on");
    int from = text.indexOf(start) + start.length();
    return text.substring(from, text.indexOf("// spotless:on", from));
  }

  private static String block(String markdown, String fence) {
    int start = markdown.indexOf(fence);
    assertThat(start).as("docs/testing.md has a block %s", fence.strip()).isNotNegative();
    int from = start + fence.length();
    return markdown.substring(from, markdown.indexOf("```", from));
  }
}
