package dev.workgate.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How commands open a store: read commands read-only, change commands only an existing store, and
 * none of them creates, upgrades or writes to what is not a Workgate store.
 */
class StoreOpeningTest {
  @TempDir Path dir;

  private Path readOnlyDir;

  @AfterEach
  void makeWritableAgain() throws IOException {
    if (readOnlyDir != null) {
      Files.setPosixFilePermissions(readOnlyDir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  /** The file's bytes and the names in its directory (so a new -wal or -shm shows). */
  private static String fingerprint(Path file) throws Exception {
    byte[] hash = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
    try (Stream<Path> files = Files.list(file.getParent())) {
      return HexFormat.of().formatHex(hash)
          + " "
          + files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private Path foreignFile() throws Exception {
    Path file = dir.resolve("other-app.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = c.createStatement()) {
      st.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
      st.execute("INSERT INTO customers (name) VALUES ('acme')");
    }
    return file;
  }

  @Test
  void another_applications_file_is_not_a_workgate_store_and_stays_unchanged() throws Exception {
    Path file = foreignFile();
    String before = fingerprint(file);

    for (List<String> command :
        List.of(
            List.of("status"),
            List.of("list"),
            List.of("verify"),
            List.of("cancel", WorkOrderId.random().toString()),
            List.of("purge", "--older-than", "30d"))) {
      CliRun r = run(file, command);
      assertThat(r.exit()).as(command + ": " + r.err()).isEqualTo(1);
      assertThat(r.err())
          .startsWith("workgate-admin: the SQLite file " + file)
          .contains("is not a Workgate store with table prefix 'workgate_'")
          .contains("customers");
      assertThat(r.out()).isEmpty();
    }
    assertThat(fingerprint(file)).isEqualTo(before);
  }

  @Test
  void an_empty_file_is_not_a_workgate_store_and_stays_empty() throws Exception {
    Path file = Files.createFile(dir.resolve("empty.db"));
    String before = fingerprint(file);

    for (String command : List.of("status", "list", "verify")) {
      CliRun r = run(file, List.of(command));
      assertThat(r.exit()).as(r.err()).isEqualTo(1);
      assertThat(r.err()).contains("the file " + file + " is empty (0 bytes)");
    }
    CliRun purge = run(file, List.of("purge", "--older-than", "1d"));
    assertThat(purge.exit()).isEqualTo(1);
    assertThat(purge.err()).contains("is empty (0 bytes)");
    assertThat(fingerprint(file)).isEqualTo(before);
  }

  @Test
  void a_mistyped_table_prefix_names_the_prefix_the_file_has() throws Exception {
    Path file = dir.resolve("workgate.db");
    try (WorkOrderStore store = Stores.sqlite(file)) {
      Fixtures.pending(store, "default", "agent-run");
    }
    String before = fingerprint(file);

    CliRun r = CliRun.run("--store", file.toString(), "--table-prefix", "workgat_", "status");

    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err())
        .contains(file.toString())
        .contains("is not a Workgate store with table prefix 'workgat_'")
        .contains("under the table prefix 'workgate_'");
    assertThat(fingerprint(file)).isEqualTo(before);
  }

  @Test
  void a_read_only_copy_serves_read_commands_and_refuses_changes() throws Exception {
    readOnlyDir = Files.createDirectory(dir.resolve("copy"));
    Path file = readOnlyDir.resolve("workgate.db");
    WorkOrderId pending;
    WorkOrderId failed;
    try (WorkOrderStore store = Stores.sqlite(file)) {
      pending = Fixtures.pending(store, "default", "agent-run");
      failed = Fixtures.failed(store, "default", Instant.parse("2030-01-01T00:00:00Z"));
    }
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
    Files.setPosixFilePermissions(readOnlyDir, PosixFilePermissions.fromString("r-xr-xr-x"));
    String before = fingerprint(file);

    for (List<String> command :
        List.of(
            List.of("status"),
            List.of("status", "--json"),
            List.of("list"),
            List.of("show", pending.toString()),
            List.of("verify"),
            List.of("backup", dir.resolve("backup.db").toString()))) {
      CliRun r = run(file, command);
      assertThat(r.exit()).as(command + ": " + r.err()).isZero();
      assertThat(r.err()).as(command.toString()).isEmpty();
    }
    assertThat(dir.resolve("backup.db")).isNotEmptyFile();

    for (List<String> command :
        List.of(
            List.of("cancel", pending.toString()),
            List.of("resubmit", failed.toString()),
            List.of("purge", "--older-than", "1d"))) {
      CliRun r = run(file, command);
      assertThat(r.exit()).as(command + ": " + r.err()).isEqualTo(1);
      assertThat(r.err())
          .as(command.toString())
          .contains("the SQLite file " + file + " is read-only");
    }
    // Tests run as root, where permissions stop no write: the bytes and the directory prove it.
    assertThat(fingerprint(file)).isEqualTo(before);
  }

  private static CliRun run(Path file, List<String> command) {
    String[] args =
        Stream.concat(Stream.of("--store", file.toString()), command.stream())
            .toArray(String[]::new);
    return CliRun.run(args);
  }
}
