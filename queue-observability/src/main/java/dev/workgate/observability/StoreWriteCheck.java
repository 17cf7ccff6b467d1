package dev.workgate.observability;

import dev.workgate.NodeView.StoreWrites;
import dev.workgate.core.internal.Text;
import dev.workgate.observability.SystemHealth.HealthIssue;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@value WorkgateHealth#STORE} component's judgement of the node's own writes ({@link
 * StoreWrites}): a run of failed writes is a warning, and critical from the threshold on, with what
 * to do for its cause. The ping only reads, so a full disk or a read-only database shows only here.
 * Reads the node's memory, not the store; for a full disk beside a local store file it also asks
 * the file system how much room is left. Stateless and thread-safe.
 */
final class StoreWriteCheck {
  private StoreWriteCheck() {}

  /**
   * Adds the writes' details and, while writes fail, one issue.
   *
   * @param writes the node's writes
   * @param file the store's local file, if it has one
   * @param threshold failed writes in a row from which the store is critical
   * @param now the check's time
   * @param details the component's details, added to
   * @param issues the component's issues, added to
   */
  static void judge(
      StoreWrites writes,
      Optional<Path> file,
      int threshold,
      Instant now,
      Map<String, Object> details,
      List<HealthIssue> issues) {
    details.put("writeFailuresInARow", writes.consecutiveFailures());
    details.put("writeFailures", writes.totalFailures());
    details.put("failedWritesThreshold", threshold);
    writes.lastSuccessAt().ifPresent(at -> details.put("lastWriteAt", at.toString()));
    Optional<StoreWrites.Failure> last = writes.lastFailure();
    last.ifPresent(
        f -> {
          details.put("lastWriteFailureAt", f.at().toString());
          details.put("lastWriteFailureCause", f.cause().tagValue());
          details.put("lastWriteFailure", f.detail());
        });
    if (!writes.failing() || last.isEmpty()) {
      return;
    }
    StoreWrites.Failure f = last.get();
    long inARow = writes.consecutiveFailures();
    String message =
        HealthText.plural(inARow, "store write")
            + " failed in a row (critical from "
            + HealthText.count(threshold)
            + "): "
            + f.cause().label()
            + " ("
            + f.detail()
            + "); the last "
            + ago(f.at(), now)
            + ", "
            + writes
                .lastSuccessAt()
                .map(at -> "the last successful write " + ago(at, now))
                .orElse("no successful write since the node started");
    String recommendation = recommendation(f, file, details);
    issues.add(
        inARow >= threshold
            ? HealthIssue.critical(WorkgateHealth.STORE, message, recommendation)
            : HealthIssue.warning(WorkgateHealth.STORE, message, recommendation));
  }

  private static String ago(Instant at, Instant now) {
    Duration d = Duration.between(at, now);
    return Text.duration(d.isNegative() ? Duration.ZERO : d) + " ago";
  }

  private static String recommendation(
      StoreWrites.Failure f, Optional<Path> file, Map<String, Object> details) {
    String resume = "; writes resume by themselves, without a restart (which would not help)";
    switch (f.cause()) {
      case DISK_FULL:
        if (file.isPresent()) {
          Path dir = directoryOf(file.get());
          return "free space on the file system that holds "
              + dir
              + room(dir, details)
              + " or grow the volume; SQLite needs room for its -wal file beside "
              + file.get().getFileName()
              + resume;
        }
        return "free space on the database server's data volume or grow it (the server's log"
            + " names the file it could not extend)"
            + resume;
      case READ_ONLY:
        if (f.detail().contains("OpenMode.READ_ONLY")) {
          return "the node was given a store opened OpenMode.READ_ONLY, which never writes: build"
              + " the node over a store opened OpenMode.CREATE_IF_MISSING or EXISTING";
        }
        if (file.isPresent()) {
          return "make "
              + file.get()
              + ", its -wal and -shm files and the directory "
              + directoryOf(file.get())
              + " writable by the node's user, and check that the file system is mounted"
              + " read-write (a kernel remounts a failing disk read-only: see dmesg)"
              + resume;
        }
        return "the database refuses writes: the node's connections reach a hot standby (after a"
            + " failover, pooled connections may still reach the old primary) or a database or"
            + " role with default_transaction_read_only on; point the DataSource at the primary"
            + " (PostgreSQL JDBC: targetServerType=primary), recycle the pool's connections, or"
            + " clear the setting"
            + resume;
      case UNREACHABLE:
        return "the database cannot be reached: check that it runs, the network to it and the"
            + " connection pool's size and timeouts; the ping in this component tells whether"
            + " reads reach it"
            + resume;
      default:
        return "look in the node's log for the failing writes' errors (the WARN lines of"
            + " dev.workgate.WriteTracker and of the scheduler and executions); the cause above"
            + " names the error's class and SQLState";
    }
  }

  private static Path directoryOf(Path file) {
    Path abs = file.toAbsolutePath();
    return abs.getParent() == null ? abs : abs.getParent();
  }

  /**
   * The device and the room left on it, as " (device X, N MiB free now)", also put in the details;
   * empty if the file system does not say.
   */
  private static String room(Path dir, Map<String, Object> details) {
    try {
      FileStore fs = Files.getFileStore(dir);
      long free = fs.getUsableSpace();
      details.put("diskDevice", fs.name());
      details.put("diskFreeBytes", free);
      return " (device "
          + fs.name()
          + ", "
          + HealthText.count(free / (1024 * 1024))
          + " MiB free now)";
    } catch (IOException | RuntimeException unknown) {
      return "";
    }
  }
}
