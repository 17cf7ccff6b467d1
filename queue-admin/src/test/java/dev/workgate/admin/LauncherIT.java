package dev.workgate.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/workgate-admin} as an operator runs it: a separate process over the packaged jar (the
 * failsafe plugin runs this after {@code package}, so the jar exists).
 */
class LauncherIT {
  private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
  private static final Path LAUNCHER = ROOT.resolve("bin/workgate-admin");

  @TempDir Path dir;

  @Test
  void status_json_prints_only_parseable_json_on_stdout() throws Exception {
    Path db = dir.resolve("a store with spaces.db");
    try (WorkOrderStore store = Stores.sqlite(db)) {
      Fixtures.pending(store, "default", "agent-run");
      Fixtures.completed(store, "default", Instant.parse("2030-01-01T00:00:00Z"));
    }

    Result r = launch("--store", db.toString(), "status", "--json");

    assertThat(r.exit()).as(r.err()).isZero();
    JsonNode json = new ObjectMapper().readTree(r.out());
    assertThat(json.path("total").asLong()).as(r.out()).isEqualTo(2);
    assertThat(r.out().trim()).startsWith("{").endsWith("}");
    assertThat(r.out()).doesNotContain("\u001b");
  }

  @Test
  void help_exits_zero_and_writes_nothing_to_stderr() throws Exception {
    Result r = launch("--help");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("Usage: workgate-admin");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void a_symlink_to_the_launcher_finds_the_repository() throws Exception {
    Path link = Files.createSymbolicLink(dir.resolve("wa"), LAUNCHER);

    Result r = run(List.of(link.toString(), "-V"));
    Files.delete(link);

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out().trim()).isEqualTo("workgate-admin " + System.getProperty("project.version"));
  }

  private Result launch(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(LAUNCHER.toString());
    command.addAll(List.of(args));
    return run(command);
  }

  private Result run(List<String> command) throws IOException, InterruptedException {
    Path out = dir.resolve("stdout");
    Path err = dir.resolve("stderr");
    Process p =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("launcher finished").isTrue();
    return new Result(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  private record Result(int exit, String out, String err) {}
}
