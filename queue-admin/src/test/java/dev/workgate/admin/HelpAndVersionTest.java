package dev.workgate.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Usage help and the version: clean output, and the version the build made. */
class HelpAndVersionTest {
  private static List<String> commands() {
    CommandLine cl = new CommandLine(new WorkgateAdmin());
    return new ArrayList<>(cl.getSubcommands().keySet());
  }

  @Test
  void help_of_the_tool_and_of_every_command_writes_nothing_to_stderr() {
    // picocli reports a description it cannot format (an unescaped %) on System.err itself, not
    // on the command line's error writer: watch both.
    ByteArrayOutputStream systemErr = new ByteArrayOutputStream();
    PrintStream saved = System.err;
    System.setErr(new PrintStream(systemErr, true, StandardCharsets.UTF_8));
    try {
      CliRun top = CliRun.run("--help");
      assertThat(top.exit()).isZero();
      assertThat(top.err()).isEmpty();
      List<String> commands = commands();
      assertThat(commands).contains("status", "list", "show", "verify", "serve");
      for (String command : commands) {
        CliRun r = CliRun.run(command, "--help");
        assertThat(r.exit()).as(command).isZero();
        assertThat(r.out()).as(command).contains("Usage: workgate-admin " + command);
        assertThat(r.err()).as(command).isEmpty();
      }
    } finally {
      System.setErr(saved);
    }
    assertThat(systemErr.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  @Test
  void version_is_the_projects_version() {
    String expected = System.getProperty("project.version");
    assertThat(expected).as("surefire passes project.version").isNotBlank();

    CliRun r = CliRun.run("-V");

    assertThat(r.exit()).isZero();
    assertThat(r.out().trim()).isEqualTo("workgate-admin " + expected);
  }
}
