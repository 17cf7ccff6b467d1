package dev.workgate.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackupCommandTest {
  @TempDir Path dir;
  Path db;
  WorkOrderId failed;

  @BeforeEach
  void prepare() {
    db = dir.resolve("workgate.db");
    try (WorkOrderStore store = Stores.sqlite(db)) {
      Fixtures.pending(store, "builds", "compile");
      failed = Fixtures.failed(store, "agents", Instant.now().plusSeconds(3600));
    }
  }

  @Test
  void backup_writes_a_copy_that_opens_as_a_store_with_the_same_work_orders() {
    Path copy = dir.resolve("copy.db");
    CliRun r = CliRun.run("--store", db.toString(), "backup", copy.toString());
    assertThat(r.exit()).isZero();
    assertThat(r.out()).startsWith("backed up " + db + " to " + copy + " (");
    try (WorkOrderStore store = Stores.sqlite(copy)) {
      assertThat(store.find(failed).orElseThrow().state()).isEqualTo(WorkOrderState.FAILED);
      assertThat(store.readStream(failed)).hasSize(4);
    }
    assertThat(CliRun.run("--store", copy.toString(), "verify").out())
        .startsWith("projection matches the log: 2 work orders, 5 events");
  }

  @Test
  void backup_never_overwrites_a_file() throws Exception {
    Path taken = dir.resolve("taken.db");
    Files.writeString(taken, "keep me");
    CliRun r = CliRun.run("--store", db.toString(), "backup", taken.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err())
        .isEqualTo(
            "workgate-admin: refusing to overwrite "
                + taken
                + ": give a new file"
                + System.lineSeparator());
    assertThat(Files.readString(taken)).isEqualTo("keep me");
  }

  @Test
  void backup_refuses_postgres_missing_stores_other_prefixes_and_missing_directories() {
    CliRun pg =
        CliRun.run(
            "--store", "jdbc:postgresql://db:5432/work", "backup", dir.resolve("x").toString());
    assertThat(pg.exit()).isEqualTo(1);
    assertThat(pg.err()).contains("backup copies SQLite stores only").contains("pg_dump");

    CliRun missing =
        CliRun.run(
            "--store", dir.resolve("none.db").toString(), "backup", dir.resolve("y").toString());
    assertThat(missing.exit()).isEqualTo(1);
    assertThat(missing.err()).contains("no SQLite store at");

    CliRun prefix =
        CliRun.run(
            "--store",
            db.toString(),
            "--table-prefix",
            "other_",
            "backup",
            dir.resolve("z").toString());
    assertThat(prefix.exit()).isEqualTo(1);
    assertThat(prefix.err())
        .contains("is not a Workgate store with table prefix 'other_'")
        .contains("under the table prefix 'workgate_'");
    assertThat(dir.resolve("z")).doesNotExist();

    CliRun noDir =
        CliRun.run("--store", db.toString(), "backup", dir.resolve("no/such/dir.db").toString());
    assertThat(noDir.exit()).isEqualTo(1);
    assertThat(noDir.err()).contains("does not exist");

    CliRun noArg = CliRun.run("--store", db.toString(), "backup");
    assertThat(noArg.exit()).isEqualTo(2);
  }
}
