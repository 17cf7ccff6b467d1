package dev.workgate.core.internal.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.ExpectedVersion;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SQLite store's files are private from their first moment: the data directory it creates 0700,
 * the database file 0600 (and so SQLite's -wal, -shm and -journal beside it), backups 0600; an
 * existing file is left as it is, with one warning when others may read it.
 */
class SqliteFilePermissionsTest {
  @TempDir Path tmp;

  @BeforeEach
  void requirePosix() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        tmp.getFileSystem().supportedFileAttributeViews().contains("posix"),
        "file permissions are POSIX only");
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  private static Path sibling(Path file, String suffix) {
    return file.resolveSibling(file.getFileName() + suffix);
  }

  private static void submit(WorkOrderStore store) {
    store.append(
        WorkOrderId.random(),
        ExpectedVersion.none(),
        List.of(
            WorkOrderEvent.Submitted.of(
                WorkOrderSpec.builder("agent-run").payload(Map.of("n", 1)).build())));
  }

  /** Runs the action with System.err captured (slf4j-simple logs there). */
  private static String stderrOf(Runnable action) {
    PrintStream before = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      action.run();
    } finally {
      System.setErr(before);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void a_new_store_creates_its_directories_0700_and_its_files_0600() throws Exception {
    Path dir = tmp.resolve("data").resolve("node-1");
    Path file = dir.resolve("workgate.db");

    try (WorkOrderStore store = Stores.sqlite(file)) {
      submit(store);
      assertThat(mode(tmp.resolve("data"))).isEqualTo("rwx------");
      assertThat(mode(dir)).isEqualTo("rwx------");
      assertThat(mode(file)).isEqualTo("rw-------");
      assertThat(mode(sibling(file, "-wal"))).isEqualTo("rw-------");
      assertThat(mode(sibling(file, "-shm"))).isEqualTo("rw-------");
    }
  }

  @Test
  void an_existing_directory_keeps_its_mode() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("shared"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-x---"));

    try (WorkOrderStore store = Stores.sqlite(dir.resolve("workgate.db"))) {
      submit(store);
    }

    assertThat(mode(dir)).isEqualTo("rwxr-x---");
    assertThat(mode(dir.resolve("workgate.db"))).isEqualTo("rw-------");
  }

  @Test
  void sqlite_gives_a_rollback_journal_the_database_files_mode() throws Exception {
    Path file = tmp.resolve("workgate.db");
    Stores.sqlite(file).close();

    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = c.createStatement()) {
      st.execute("PRAGMA journal_mode = PERSIST");
      st.execute("CREATE TABLE journal_probe (x INTEGER)");
      st.execute("INSERT INTO journal_probe VALUES (1)");
    }

    assertThat(sibling(file, "-journal")).exists();
    assertThat(mode(sibling(file, "-journal"))).isEqualTo("rw-------");
  }

  @Test
  void a_backup_is_created_0600_and_is_a_store() throws Exception {
    Path file = tmp.resolve("workgate.db");
    try (WorkOrderStore store = Stores.sqlite(file)) {
      submit(store);
    }
    // Even from a source others may read, the copy is private.
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    Path backup = tmp.resolve("backup.db");

    Stores.backupSqlite(file, backup, SqliteOptions.defaults());

    assertThat(mode(backup)).isEqualTo("rw-------");
    try (WorkOrderStore copy =
        Stores.sqlite(backup, SqliteOptions.builder().openMode(OpenMode.READ_ONLY).build())) {
      assertThat(copy.counts().total()).isEqualTo(1);
    }
  }

  @Test
  void an_existing_file_others_may_read_is_left_as_it_is_with_one_warning() throws Exception {
    Path file = tmp.resolve("workgate.db");
    Stores.sqlite(file).close();
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

    String log = stderrOf(() -> Stores.sqlite(file).close());

    List<String> warnings = log.lines().filter(l -> l.contains("WARN")).toList();
    assertThat(warnings).hasSize(1);
    assertThat(warnings.get(0)).contains(file.toString()).contains("rw-r--r--");
    assertThat(mode(file)).isEqualTo("rw-r--r--");
  }

  @Test
  void a_private_file_opens_without_a_warning() throws Exception {
    Path file = tmp.resolve("workgate.db");
    Stores.sqlite(file).close();

    String log =
        stderrOf(
            () ->
                Stores.sqlite(file, SqliteOptions.builder().openMode(OpenMode.EXISTING).build())
                    .close());

    assertThat(log.lines().filter(l -> l.contains("WARN"))).isEmpty();
  }
}
