package dev.workgate.admin;

import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code backup}: a consistent copy of a SQLite store with {@code VACUUM INTO}.
 *
 * <p>It reads one snapshot of the database, so writers in other processes go on meanwhile (in WAL
 * mode readers never block them), and it writes a compact file that holds every committed
 * transaction up to that snapshot ({@link Stores#backupSqlite}, which refuses a file that holds no
 * Workgate store and only reads the source).
 */
@Command(
    name = "backup",
    mixinStandardHelpOptions = true,
    description = {
      "Copies a SQLite store into a new file with VACUUM INTO: one consistent snapshot, taken"
          + " while other processes keep writing. The copy is a Workgate store (--store <file>).",
      "PostgreSQL stores are backed up with pg_dump, not with this command."
    })
final class BackupCommand implements Callable<Integer> {
  @ParentCommand WorkgateAdmin admin;
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "<file>", description = "The new file; must not exist.")
  Path target;

  @Override
  public Integer call() {
    String location = admin.location();
    if (WorkgateAdmin.isPostgres(location)) {
      throw new CliException(
          "backup copies SQLite stores only; back up a PostgreSQL store with pg_dump"
              + " (pg_dump --schema=<schema> --format=custom …), or a managed database's snapshots");
    }
    Path source = admin.sqliteFile(location);
    if (Files.exists(target)) {
      throw new CliException("refusing to overwrite " + target + ": give a new file");
    }
    Path parent = target.toAbsolutePath().getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw new CliException("directory " + parent + " does not exist");
    }
    try {
      Stores.backupSqlite(
          source, target, SqliteOptions.builder().tablePrefix(admin.tablePrefix()).build());
    } catch (IllegalArgumentException e) {
      throw new CliException(e.getMessage(), WorkgateAdmin.EXIT_USAGE);
    }
    long bytes;
    try {
      bytes = Files.size(target);
    } catch (java.io.IOException e) {
      throw new CliException("backup written but unreadable: " + e.getMessage());
    }
    spec.commandLine()
        .getOut()
        .println("backed up " + source + " to " + target + " (" + bytes + " bytes)");
    return WorkgateAdmin.EXIT_OK;
  }
}
