package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.NodeView.WriteFailureCause;
import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.observability.SystemHealth.HealthStatus;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A real full disk: a SQLite store on a 4 MiB tmpfs that a filler file fills while a node works.
 * Mounting needs root; elsewhere the test is skipped with the reason.
 */
class FullDiskHealthTest extends HealthTestSupport {
  private static final int MAX_SUBMITS = 20_000;

  @Test
  void a_full_disk_turns_the_store_red_with_advice_and_it_recovers_once_space_is_freed()
      throws Exception {
    Path mount = dir.resolve("tmpfs");
    Files.createDirectories(mount);
    mountTmpfs(mount);
    try {
      runOnFullDisk(mount);
    } finally {
      unmount(mount);
    }
  }

  private void runOnFullDisk(Path mount) throws Exception {
    Path file = mount.resolve("workgate.db");
    Path filler = mount.resolve("filler");
    CountDownLatch release = latch();
    WorkOrderStore store = Stores.sqlite(file, SqliteOptions.builder().clock(clock).build());
    Workgate node = null;
    WorkgateHealth health = null;
    try {
      node =
          node()
              .store(store)
              .maxConcurrent(1)
              .handler(
                  "slow",
                  ctx -> {
                    release.await(30, TimeUnit.SECONDS);
                    return WorkResult.ok();
                  })
              .handler("job", ctx -> WorkResult.ok())
              .build();
      health = WorkgateHealth.builder(node).build();
      node.start();
      Workgate n = node;
      // The only slot is held, so the loop claims nothing while the disk is full.
      WorkOrderId slow = node.submit(WorkOrderSpec.builder("slow").build());
      eventually().until(() -> n.find(slow).orElseThrow().state() == WorkOrderState.RUNNING);
      assertThat(status(health.check(), WorkgateHealth.STORE)).isEqualTo(HealthStatus.HEALTHY);

      fill(filler);
      List<WorkOrderId> stored = new ArrayList<>();
      int failed = 0;
      for (int i = 0;
          i < MAX_SUBMITS && failed < WorkgateHealth.DEFAULT_FAILED_WRITES_THRESHOLD;
          i++) {
        try {
          stored.add(
              node.submit(WorkOrderSpec.builder("job").payload("x".repeat(512) + i).build()));
        } catch (StoreException full) {
          failed++;
        }
      }
      assertThat(failed)
          .as("submits failed on the full disk")
          .isEqualTo(WorkgateHealth.DEFAULT_FAILED_WRITES_THRESHOLD);

      SystemHealth red = health.check();
      assertThat(status(red, WorkgateHealth.STORE)).isEqualTo(HealthStatus.UNHEALTHY);
      HealthIssue issue = onlyIssue(red, WorkgateHealth.STORE);
      assertThat(issue.message()).contains("disk full").contains("SQLITE_FULL");
      assertThat(issue.recommendation())
          .contains("free space on the file system that holds " + mount.toAbsolutePath())
          .contains("device tmpfs")
          .contains("writes resume by themselves");
      assertThat(n.storeWrites().lastFailure().orElseThrow().cause())
          .isEqualTo(WriteFailureCause.DISK_FULL);
      assertThat(health.readiness().status()).isEqualTo(HealthStatus.UNHEALTHY);
      assertThat(health.liveness().status()).isEqualTo(HealthStatus.HEALTHY);

      Files.delete(filler);
      release.countDown();
      eventually().until(() -> n.find(slow).orElseThrow().state() == WorkOrderState.COMPLETED);
      WorkOrderId after = node.submit(WorkOrderSpec.builder("job").build());
      stored.add(after);
      Awaitility()
          .until(
              () ->
                  stored.stream()
                      .allMatch(
                          id -> n.find(id).orElseThrow().state() == WorkOrderState.COMPLETED));
      SystemHealth green = health.check();
      assertThat(status(green, WorkgateHealth.STORE)).isEqualTo(HealthStatus.HEALTHY);
      assertThat(health.readiness().status()).isNotEqualTo(HealthStatus.UNHEALTHY);
    } finally {
      release.countDown();
      if (health != null) {
        health.close();
      }
      if (node != null) {
        node.close();
      }
      store.close();
    }
  }

  private static org.awaitility.core.ConditionFactory Awaitility() {
    return org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(20));
  }

  /** Writes to the file until the file system has no room left. */
  private static void fill(Path filler) throws IOException {
    byte[] block = new byte[64 * 1024];
    try (OutputStream out = Files.newOutputStream(filler)) {
      while (true) {
        out.write(block);
      }
    } catch (IOException full) {
      if (!String.valueOf(full.getMessage()).contains("No space left on device")) {
        throw full;
      }
    }
    // The last, partial block may have left a few bytes; take them too.
    try (OutputStream out =
        Files.newOutputStream(filler, java.nio.file.StandardOpenOption.APPEND)) {
      while (true) {
        out.write(0);
        out.flush();
      }
    } catch (IOException full) {
      // full to the byte
    }
  }

  private static void mountTmpfs(Path mount) throws InterruptedException {
    Result r = run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mount.toString());
    Assumptions.assumeTrue(
        r.exit == 0,
        "a real full disk needs a small tmpfs, and mounting one needs root: `mount -t tmpfs` "
            + (r.exit < 0 ? "could not run" : "exited " + r.exit)
            + ": "
            + r.output.strip());
  }

  private static void unmount(Path mount) throws InterruptedException {
    Result r = run("umount", mount.toString());
    if (r.exit != 0) {
      // Something still holds a file open: detach it now, the kernel frees it when released.
      Result lazy = run("umount", "-l", mount.toString());
      assertThat(lazy.exit).as("umount -l " + mount + ": " + lazy.output).isZero();
    }
  }

  private record Result(int exit, String output) {}

  private static Result run(String... command) throws InterruptedException {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(-1, String.join(" ", command) + " did not end within 30 s");
      }
      return new Result(p.exitValue(), output);
    } catch (IOException e) {
      return new Result(-1, e.getMessage());
    }
  }
}
