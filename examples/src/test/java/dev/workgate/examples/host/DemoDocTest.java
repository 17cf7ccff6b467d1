package dev.workgate.examples.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** docs/configuration.md's table of the demo's settings says what the program does. */
class DemoDocTest {

  @Test
  void every_option_is_documented_with_its_variable_and_default() throws IOException {
    String doc =
        Files.readString(Path.of("..", "docs", "configuration.md"), StandardCharsets.UTF_8);
    String section = doc.substring(doc.indexOf("## The demo host application"));
    Map<String, String> rows = new LinkedHashMap<>();
    for (String line : section.split("\n")) {
      if (line.startsWith("| `--")) {
        String flag = line.substring(3, line.indexOf('`', 3)).split(" ")[0];
        rows.put(flag, line);
      }
    }
    PrintStream quiet =
        new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
    CommandLine cl = new CommandLine(new WorkgateDemo(quiet, quiet, Clock.systemUTC(), false));
    int documented = 0;
    for (OptionSpec o : cl.getCommandSpec().options()) {
      if (o.usageHelp() || o.versionHelp()) {
        continue;
      }
      String row = rows.get(o.longestName());
      assertThat(row).as("a row for " + o.longestName()).isNotNull();
      String[] cells = row.split(" \\| ");
      assertThat(cells[1]).contains("`" + WorkgateDemo.EnvDefaults.variable(o) + "`");
      String dflt = o.defaultValue();
      if (dflt == null) {
        assertThat(cells[2]).isIn(o.arity().max() == 0 ? "off" : "random");
      } else {
        assertThat(cells[2].replace("`", "")).isEqualTo(dflt);
      }
      documented++;
    }
    assertThat(rows).hasSize(documented);
  }
}
