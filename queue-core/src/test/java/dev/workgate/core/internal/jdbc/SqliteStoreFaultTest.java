package dev.workgate.core.internal.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.workgate.core.WorkOrderId;
import dev.workgate.core.internal.jdbc.JdbcTestKit.RawTables;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JDBC fault suite on SQLite, and the faults of a file: one that cannot be written, one whose
 * directory cannot be created.
 *
 * <p>A file deleted while the store has it open: on Linux the open descriptor keeps working on the
 * unlinked inode, so the store checks before each group of writes and refuses to write into a file
 * no one could open again. A file made read-only while open is not tested: the open descriptor
 * keeps its write access, so there is no failure with a defined moment to assert.
 */
class SqliteStoreFaultTest extends JdbcStoreFaultTest {

  @TempDir Path dir;

  private Path file() {
    return dir.resolve("workgate.db");
  }

  @Override
  WorkOrderStore openStore() {
    return Stores.sqlite(file(), SqliteOptions.builder().clock(clock).build());
  }

  @Override
  RawTables raw() {
    return JdbcTestKit.sqlite(file());
  }

  @Test
  void a_read_only_file_is_refused_when_opening_with_a_message_that_says_so() throws Exception {
    WorkOrderStore store = open();
    WorkOrderId id = submit(store);
    store.close();
    byte[] before = Files.readAllBytes(file());
    makeReadOnly(file());
    try {
      StoreException e = catchThrowableOfType(StoreException.class, this::open);

      assertThat(e).as("StoreException").isNotNull();
      assertThat(e.getMessage().toLowerCase(Locale.ROOT)).containsAnyOf("read-only", "readonly");
      assertThat(e.getMessage()).contains(file().toString());
      assertThat(Files.readAllBytes(file())).isEqualTo(before);
    } finally {
      makeWritable(file());
    }
    assertThat(open().find(id)).isPresent();
  }

  @Test
  void a_path_whose_parent_is_a_regular_file_is_refused_naming_the_path() throws IOException {
    Path blocker = Files.writeString(dir.resolve("not-a-directory"), "x");
    Path file = blocker.resolve("workgate.db");

    StoreException e =
        catchThrowableOfType(
            StoreException.class,
            () -> track(Stores.sqlite(file, SqliteOptions.builder().clock(clock).build())));

    assertThat(e).as("StoreException").isNotNull();
    assertThat(e.getMessage()).contains(blocker.toString());
    assertThat(Files.readString(blocker)).isEqualTo("x");
  }

  @Test
  void a_file_deleted_while_open_refuses_writes_and_keeps_serving_reads() throws IOException {
    WorkOrderStore store = track(openStore());
    WorkOrderId before = submit(store);

    Files.delete(file());

    assertThatThrownBy(() -> submit(store))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("was deleted while the store was open")
        .hasMessageContaining(file().toString());
    assertThat(store.find(before)).as("reads still see the open file").isPresent();
    assertThat(file()).doesNotExist();
  }

  @Test
  void missing_directories_of_the_path_are_created() {
    Path file = dir.resolve("a/b/c/workgate.db");

    WorkOrderStore store = track(Stores.sqlite(file, SqliteOptions.builder().clock(clock).build()));
    WorkOrderId id = submit(store);

    assertThat(store.find(id)).isPresent();
    assertThat(file).isRegularFile();
  }

  /**
   * Takes write permission away. Root writes files whatever their mode, so for root the file is
   * also made immutable ({@code chattr +i}); the test is skipped where neither works.
   */
  private static void makeReadOnly(Path file) throws Exception {
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
    if (Files.isWritable(file)) {
      boolean immutable = run("chattr", "+i", file.toString());
      Assumptions.assumeTrue(
          immutable && !Files.isWritable(file),
          "cannot make " + file + " read-only: running as root and chattr +i is not available");
    }
  }

  private static void makeWritable(Path file) throws Exception {
    run("chattr", "-i", file.toString());
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
  }

  private static boolean run(String... command) throws Exception {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      return false;
    }
    p.getInputStream().readAllBytes();
    return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
  }
}
