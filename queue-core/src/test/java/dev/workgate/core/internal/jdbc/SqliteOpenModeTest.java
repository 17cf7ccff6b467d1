package dev.workgate.core.internal.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link OpenMode#EXISTING} and {@link OpenMode#READ_ONLY} on SQLite: they never create or change a
 * file that is not a Workgate store, READ_ONLY reads a read-only copy and refuses every write.
 */
class SqliteOpenModeTest {
  @TempDir Path dir;

  private Path readOnlyDir;

  @AfterEach
  void makeWritableAgain() throws IOException {
    if (readOnlyDir != null) {
      Files.setPosixFilePermissions(readOnlyDir, PosixFilePermissions.fromString("rwxr-xr-x"));
      try (Stream<Path> files = Files.list(readOnlyDir)) {
        for (Path f : files.toList()) {
          Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        }
      }
    }
  }

  private static SqliteOptions options(OpenMode mode) {
    return SqliteOptions.builder().openMode(mode).build();
  }

  private Path workgateStore(Path file) {
    try (WorkOrderStore store = Stores.sqlite(file)) {
      submit(store);
    }
    return file;
  }

  private static WorkOrderId submit(WorkOrderStore store) {
    WorkOrderId id = WorkOrderId.random();
    store.append(
        id,
        ExpectedVersion.none(),
        List.of(
            WorkOrderEvent.Submitted.of(
                WorkOrderSpec.builder("agent-run").payload(Map.of("n", 1)).build())));
    return id;
  }

  /** The file's bytes and which files lie in its directory, to compare before and after. */
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
      st.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)");
      st.execute("INSERT INTO customers (name) VALUES ('acme')");
    }
    return file;
  }

  @ParameterizedTest
  @EnumSource(
      value = OpenMode.class,
      names = {"EXISTING", "READ_ONLY"})
  void a_missing_file_is_refused_and_not_created(OpenMode mode) {
    Path file = dir.resolve("missing/workgate.db");

    assertThatThrownBy(() -> Stores.sqlite(file, options(mode)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("no SQLite file at " + file)
        .hasMessageContaining("never creates a store");
    assertThat(file.getParent()).doesNotExist();
  }

  @ParameterizedTest
  @EnumSource(
      value = OpenMode.class,
      names = {"EXISTING", "READ_ONLY"})
  void another_applications_file_is_refused_and_left_unchanged(OpenMode mode) throws Exception {
    Path file = foreignFile();
    String before = fingerprint(file);

    assertThatThrownBy(() -> Stores.sqlite(file, options(mode)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("is not a Workgate store with table prefix 'workgate_'")
        .hasMessageContaining("customers, invoices");
    assertThat(fingerprint(file)).isEqualTo(before);
  }

  @ParameterizedTest
  @EnumSource(
      value = OpenMode.class,
      names = {"EXISTING", "READ_ONLY"})
  void an_empty_file_is_refused_and_left_empty(OpenMode mode) throws Exception {
    Path file = Files.createFile(dir.resolve("empty.db"));
    String before = fingerprint(file);

    assertThatThrownBy(() -> Stores.sqlite(file, options(mode)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("the file " + file + " is empty (0 bytes)")
        .hasMessageContaining("not a Workgate store");
    assertThat(fingerprint(file)).isEqualTo(before);
  }

  @Test
  void a_file_that_is_not_sqlite_is_refused() throws Exception {
    Path file = Files.writeString(dir.resolve("notes.db"), "not a database at all\n");
    String before = fingerprint(file);

    assertThatThrownBy(() -> Stores.sqlite(file, options(OpenMode.READ_ONLY)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("is not a SQLite database");
    assertThat(fingerprint(file)).isEqualTo(before);
  }

  @ParameterizedTest
  @EnumSource(
      value = OpenMode.class,
      names = {"EXISTING", "READ_ONLY"})
  void a_wrong_table_prefix_is_refused_naming_the_prefix_there(OpenMode mode) throws Exception {
    Path file = workgateStore(dir.resolve("workgate.db"));
    String before = fingerprint(file);

    assertThatThrownBy(
            () ->
                Stores.sqlite(
                    file, SqliteOptions.builder().tablePrefix("wg_").openMode(mode).build()))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("not a Workgate store with table prefix 'wg_'")
        .hasMessageContaining("under the table prefix 'workgate_'");
    assertThat(fingerprint(file)).isEqualTo(before);
  }

  @ParameterizedTest
  @EnumSource(
      value = OpenMode.class,
      names = {"EXISTING", "READ_ONLY"})
  void a_newer_schema_version_is_refused_and_left_unchanged(OpenMode mode) throws Exception {
    Path file = workgateStore(dir.resolve("workgate.db"));
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = c.createStatement()) {
      st.execute("UPDATE workgate_meta SET value = '999' WHERE key = 'schema_version'");
    }
    String before = fingerprint(file);

    assertThatThrownBy(() -> Stores.sqlite(file, options(mode)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("schema version 999");
    assertThat(fingerprint(file)).isEqualTo(before);
  }

  @ParameterizedTest
  @EnumSource(
      value = OpenMode.class,
      names = {"EXISTING", "READ_ONLY"})
  void an_older_schema_version_is_refused_and_left_for_a_node_to_upgrade(OpenMode mode)
      throws Exception {
    Path file = workgateStore(dir.resolve("workgate.db"));
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = c.createStatement()) {
      // What schema version 3 left: no index of resubmissions, nothing version 5 adds.
      JdbcTestKit.sqlite(file).makeVersion4();
      st.execute("DROP INDEX workgate_wo_resubmitted");
      st.execute("UPDATE workgate_meta SET value = '3' WHERE key = 'schema_version'");
    }
    String before = fingerprint(file);

    assertThatThrownBy(() -> Stores.sqlite(file, options(mode)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("holds Workgate schema version 3")
        .hasMessageContaining("reads version " + SqlDialect.SCHEMA_VERSION)
        .hasMessageContaining("Start a node on it once");
    assertThat(fingerprint(file)).isEqualTo(before);

    try (WorkOrderStore node = Stores.sqlite(file)) {
      submit(node);
    }
    try (WorkOrderStore store = Stores.sqlite(file, options(mode));
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT (SELECT value FROM workgate_meta WHERE key = 'schema_version'),"
                    + " (SELECT count(*) FROM sqlite_master WHERE name = 'workgate_wo_resubmitted'),"
                    + " (SELECT count(*) FROM sqlite_master WHERE name = 'workgate_dependencies')")) {
      assertThat(store.query(WorkOrderQuery.builder().build()).items()).hasSize(2);
      rs.next();
      assertThat(rs.getString(1)).isEqualTo(String.valueOf(SqlDialect.SCHEMA_VERSION));
      assertThat(rs.getInt(2)).as("index of resubmissions").isEqualTo(1);
      assertThat(rs.getInt(3)).as("dependency table").isEqualTo(1);
    }
  }

  @Test
  void existing_reads_and_writes_a_store_that_is_there() {
    Path file = workgateStore(dir.resolve("workgate.db"));

    try (WorkOrderStore store = Stores.sqlite(file, options(OpenMode.EXISTING))) {
      submit(store);
      assertThat(store.query(WorkOrderQuery.builder().build()).items()).hasSize(2);
    }
  }

  @Test
  void read_only_reads_a_read_only_copy_in_a_read_only_directory_and_changes_nothing()
      throws Exception {
    readOnlyDir = Files.createDirectory(dir.resolve("copy"));
    Path file = workgateStore(readOnlyDir.resolve("workgate.db"));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
    Files.setPosixFilePermissions(readOnlyDir, PosixFilePermissions.fromString("r-xr-xr-x"));
    String before = fingerprint(file);

    try (WorkOrderStore store = Stores.sqlite(file, options(OpenMode.READ_ONLY))) {
      assertThat(store.query(WorkOrderQuery.builder().build()).items()).hasSize(1);
      assertThat(store.counts().queues()).contains("default");
      assertThat(store.rebuildProjection(RebuildMode.VERIFY).mismatches()).isEmpty();
    }

    // Tests run as root, where permissions do not stop writes: the bytes and the directory's
    // listing (no -wal, no -shm) show that nothing was written.
    assertThat(fingerprint(file)).isEqualTo(before);
  }

  @Test
  void read_only_reads_a_store_that_a_writer_has_open() {
    Path file = dir.resolve("workgate.db");
    try (WorkOrderStore writer = Stores.sqlite(file)) {
      submit(writer);
      try (WorkOrderStore reader = Stores.sqlite(file, options(OpenMode.READ_ONLY))) {
        assertThat(reader.query(WorkOrderQuery.builder().build()).items()).hasSize(1);
        submit(writer);
        assertThat(reader.query(WorkOrderQuery.builder().build()).items()).hasSize(2);
      }
    }
  }

  @Test
  void read_only_refuses_every_write_before_touching_the_file() throws Exception {
    Path file = workgateStore(dir.resolve("workgate.db"));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
    String before = fingerprint(file);

    try (WorkOrderStore store = Stores.sqlite(file, options(OpenMode.READ_ONLY))) {
      List<Runnable> writes =
          List.of(
              () -> submit(store),
              () ->
                  store.claim(
                      new ClaimRequest(
                          "default",
                          "node",
                          1,
                          Capacity.unlimited(),
                          Instant.now(),
                          Duration.ofMinutes(1))),
              () -> store.renewLease(WorkOrderId.random(), "node", 1, Instant.now()),
              () -> store.deleteTerminalBefore(Instant.now(), 10),
              () -> store.rebuildProjection(RebuildMode.REPAIR));
      for (Runnable write : writes) {
        assertThatThrownBy(write::run)
            .isInstanceOf(StoreException.class)
            .hasMessageContaining("opened read-only (OpenMode.READ_ONLY)")
            .hasMessageContaining(file.toString());
      }
    }
    assertThat(fingerprint(file)).isEqualTo(before);
  }

  @Test
  void existing_refuses_a_read_only_file() throws Exception {
    Path file = workgateStore(dir.resolve("workgate.db"));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));

    assertThatThrownBy(() -> Stores.sqlite(file, options(OpenMode.EXISTING)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("is read-only; OpenMode.EXISTING writes to it");
  }

  @Test
  void existing_never_upgrades_nor_switches_the_journal_mode() throws Exception {
    Path file = dir.resolve("rollback.db");
    try (WorkOrderStore store = Stores.sqlite(file)) {
      submit(store);
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = c.createStatement()) {
      st.executeQuery("PRAGMA journal_mode = DELETE").close();
    }

    try (WorkOrderStore store = Stores.sqlite(file, options(OpenMode.EXISTING))) {
      submit(store);
    }

    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = c.createStatement();
        var rs = st.executeQuery("PRAGMA journal_mode")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualToIgnoringCase("delete");
    }
  }

  @Test
  void a_backup_of_a_read_only_copy_is_a_store_with_the_same_work_orders_and_the_copy_is_unchanged()
      throws Exception {
    readOnlyDir = Files.createDirectory(dir.resolve("ro"));
    Path file = workgateStore(readOnlyDir.resolve("workgate.db"));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
    Files.setPosixFilePermissions(readOnlyDir, PosixFilePermissions.fromString("r-xr-xr-x"));
    String before = fingerprint(file);
    Path backup = dir.resolve("backup.db");

    Stores.backupSqlite(file, backup, SqliteOptions.defaults());

    assertThat(fingerprint(file)).isEqualTo(before);
    try (WorkOrderStore copy = Stores.sqlite(backup, options(OpenMode.READ_ONLY))) {
      assertThat(copy.query(WorkOrderQuery.builder().build()).items()).hasSize(1);
    }
  }

  @Test
  void a_backup_of_another_applications_file_is_refused_and_writes_nothing() throws Exception {
    Path file = foreignFile();
    String before = fingerprint(file);
    Path backup = dir.resolve("backup.db");

    assertThatThrownBy(() -> Stores.backupSqlite(file, backup, SqliteOptions.defaults()))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("not a Workgate store");
    assertThat(fingerprint(file)).isEqualTo(before);
    assertThat(backup).doesNotExist();
  }

  @Test
  void a_backup_never_overwrites_a_file() throws Exception {
    Path file = workgateStore(dir.resolve("workgate.db"));
    Path backup = Files.writeString(dir.resolve("backup.db"), "keep me");

    assertThatThrownBy(() -> Stores.backupSqlite(file, backup, SqliteOptions.defaults()))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("refusing to overwrite");
    assertThat(Files.readString(backup)).isEqualTo("keep me");
  }
}
