package dev.workgate.admin;

import dev.workgate.core.store.OpenMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
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
 * transaction up to that snapshot. It first opens the store read-only, which refuses a file that
 * holds no Workgate store, then copies through a read-only JDBC connection of its own: the store
 * has no backup operation.
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

  private static final int SQLITE_OPEN_READONLY = 0x01;
  private static final int SQLITE_OPEN_URI = 0x40;

  /**
   * The source opened read-only; as immutable when no write-ahead log lies beside it and the file
   * or its directory is read-only, so that reading it creates no -wal or -shm file there (the same
   * rule as the store's {@code OpenMode.READ_ONLY}).
   */
  static String sourceUri(Path source) {
    Path file = source.toAbsolutePath().normalize();
    Path dir = file.getParent();
    boolean live =
        Files.exists(file.resolveSibling(file.getFileName() + "-wal"))
            || Files.exists(file.resolveSibling(file.getFileName() + "-shm"));
    boolean readOnly =
        !Files.isWritable(file)
            || !Files.isWritable(dir)
            || WorkgateAdmin.noOneMayWrite(file)
            || WorkgateAdmin.noOneMayWrite(dir);
    return file.toUri() + (!live && readOnly ? "?immutable=1" : "?mode=ro");
  }

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
    // The store's own check refuses what is not a Workgate store, and leaves it unchanged.
    admin.openStore(OpenMode.READ_ONLY).close();
    Properties readOnly = new Properties();
    readOnly.setProperty("open_mode", Integer.toString(SQLITE_OPEN_READONLY | SQLITE_OPEN_URI));
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + sourceUri(source), readOnly)) {
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA busy_timeout = 10000");
      }
      try (PreparedStatement ps = c.prepareStatement("VACUUM INTO ?")) {
        ps.setString(1, target.toString());
        ps.execute();
      }
    } catch (SQLException e) {
      throw new CliException("backup of " + source + " failed: " + e.getMessage());
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
