package dev.workgate;

import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.execution.ProcessSandboxProvider;
import dev.workgate.execution.ProcessSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * The process {@link ProcessCrashTest} kills: a runtime on a SQLite file whose one work order runs
 * {@code sleep 600} in a process sandbox. Arguments: the database file, the sandbox root, the file
 * the sandbox writes its pid to, and the file this process writes the work order's id to.
 */
public final class CrashChild {
  private CrashChild() {}

  /**
   * Runs until killed.
   *
   * @param args database, sandbox root, pid file, id file
   * @throws Exception never in practice: the parent kills this process
   */
  public static void main(String[] args) throws Exception {
    Path db = Path.of(args[0]);
    Path root = Path.of(args[1]);
    Path pidFile = Path.of(args[2]);
    Path idFile = Path.of(args[3]);
    WorkOrderStore store = Stores.sqlite(db);
    Workgate workgate =
        ProcessCrashTest.runtime(store, root)
            .sandboxProvider(
                "sleeper",
                ProcessSandboxProvider.builder(
                        root.resolve("processes"),
                        view ->
                            ProcessSpec.builder()
                                .shell("echo $$ > '" + pidFile + "'; exec sleep 600")
                                .build())
                    .build())
            .build();
    workgate.start();
    var id = workgate.submit(WorkOrderSpec.builder("sleeper").build());
    Files.writeString(idFile, id.value());
    new CountDownLatch(1).await(); // until SIGKILL
    workgate.close();
  }

  static Duration lease() {
    return Duration.ofSeconds(2);
  }
}
