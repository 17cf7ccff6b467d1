package dev.workgate.execution.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.execution.ProcessSandboxProvider;
import dev.workgate.execution.ProcessSpec;
import dev.workgate.execution.RecordingReports;
import dev.workgate.execution.Sandbox;
import dev.workgate.execution.SandboxProvider.SandboxRequest;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Sandbox directories and files are private to the node's user, and so is the default root. */
@Timeout(60)
class PrivateSandboxFilesTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final long GB = 1L << 30;
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @TempDir Path dir;

  @BeforeEach
  void posixOnly() {
    assumeTrue(PrivateFiles.posix(dir), "the file system has POSIX permissions");
  }

  private static String mode(Path path) throws IOException {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void a_process_sandbox_is_created_0700_with_its_files_0600() throws Exception {
    Path root = dir.resolve("missing/processes");
    ProcessSandboxProvider provider =
        ProcessSandboxProvider.builder(
                root,
                order -> ProcessSpec.builder().command("true").workingSubdirectory("work").build())
            .clock(Clock.fixed(T0, java.time.ZoneOffset.UTC))
            .build();
    WorkOrderView claimed =
        dev.workgate.spi.WorkOrder.start(
                WorkOrderId.of("wo-1"),
                WorkOrderEvent.Submitted.of(WorkOrderSpec.builder("agent").build()),
                1,
                T0)
            .apply(new WorkOrderEvent.Claimed("node-a", T0.plusSeconds(60)), 2, T0);
    Sandbox sandbox =
        provider.create(new SandboxRequest(claimed, "node-a", new RecordingReports()));
    try {
      assertThat(sandbox.run().succeeded()).isTrue();

      assertThat(mode(root)).isEqualTo("rwx------");
      assertThat(mode(root.getParent())).as("missing parents too").isEqualTo("rwx------");
      assertThat(mode(sandbox.directory())).isEqualTo("rwx------");
      assertThat(mode(sandbox.directory().resolve("work"))).isEqualTo("rwx------");
      assertThat(mode(sandbox.directory().resolve(SandboxRecords.FILE))).isEqualTo("rw-------");
      assertThat(mode(sandbox.directory().resolve(ProcessSandboxProvider.STDOUT_FILE)))
          .isEqualTo("rw-------");
      assertThat(mode(sandbox.directory().resolve(ProcessSandboxProvider.STDERR_FILE)))
          .isEqualTo("rw-------");
    } finally {
      sandbox.destroy();
    }
  }

  @Test
  void an_in_process_working_directory_and_its_record_are_private() throws Exception {
    AtomicReference<String> seen = new AtomicReference<>();
    try (Workgate w =
        node()
            .sandboxRoot(dir.resolve("root"))
            .handler(
                "files",
                ctx -> {
                  Path work = ctx.workDir();
                  seen.set(
                      mode(work.getParent().getParent())
                          + " "
                          + mode(work.getParent())
                          + " "
                          + mode(work)
                          + " "
                          + mode(work.getParent().resolve(SandboxRecords.FILE)));
                  return WorkResult.ok();
                })
            .build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("files").build());
      assertThat(w.await(id, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    }
    assertThat(seen.get()).isEqualTo("rwx------ rwx------ rwx------ rw-------");
  }

  @Test
  void an_explicit_root_is_created_0700_when_missing_and_used_as_given() throws Exception {
    Path root = dir.resolve("a/b/sandboxes");
    try (Workgate w = node().sandboxRoot(root).handler("x", ctx -> WorkResult.ok()).build()) {
      assertThat(w.sandboxRoot()).isEqualTo(root.toAbsolutePath().normalize());
      assertThat(mode(root)).isEqualTo("rwx------");
      assertThat(mode(dir.resolve("a"))).isEqualTo("rwx------");
    }
    Path open = Files.createDirectory(dir.resolve("open"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (Workgate w = node().sandboxRoot(open).handler("x", ctx -> WorkResult.ok()).build()) {
      assertThat(w.sandboxRoot()).isEqualTo(open);
      assertThat(mode(open)).as("an existing root is the host's").isEqualTo("rwxr-xr-x");
    }
  }

  @Test
  void beside_a_store_file_the_default_root_is_that_file_dot_sandboxes() throws Exception {
    Path db = dir.resolve("data/workgate.db");
    Files.createDirectories(db.getParent());
    try (WorkOrderStore inner = Stores.inMemory();
        Workgate w =
            node().store(withLocalFile(inner, db)).handler("x", ctx -> WorkResult.ok()).build()) {
      Path expected = dir.resolve("data/workgate.db.sandboxes");
      assertThat(w.sandboxRoot()).isEqualTo(expected);
      assertThat(mode(expected)).isEqualTo("rwx------");
    }
  }

  @Test
  void a_node_over_a_sqlite_store_keeps_its_sandboxes_beside_the_database() throws Exception {
    Path db = dir.resolve("workgate-data/workgate.db");
    Files.createDirectories(db.getParent());
    try (WorkOrderStore sqlite = Stores.sqlite(db);
        Workgate w = node().store(sqlite).handler("x", ctx -> WorkResult.ok()).build()) {
      Path expected = dir.resolve("workgate-data/workgate.db.sandboxes");
      assertThat(w.sandboxRoot()).isEqualTo(expected);
      assertThat(mode(expected)).isEqualTo("rwx------");
    }
  }

  @Test
  void without_a_store_file_the_default_root_is_a_private_directory_of_user_and_node()
      throws Exception {
    String node = "private-" + UUID.randomUUID();
    Path expected = temporaryRoot(node);
    try (Workgate w = node().nodeId(node).handler("x", ctx -> WorkResult.ok()).build()) {
      assertThat(w.sandboxRoot()).isEqualTo(expected);
      assertThat(mode(expected)).isEqualTo("rwx------");
      assertThat(Files.getOwner(expected, LinkOption.NOFOLLOW_LINKS)).isEqualTo(me());
    }
    assertThat(expected).as("removed on close when empty").doesNotExist();
  }

  @Test
  void a_default_root_planted_with_an_open_mode_is_refused() throws Exception {
    String node = "planted-" + UUID.randomUUID();
    Path planted = Files.createDirectory(temporaryRoot(node));
    try {
      Files.setPosixFilePermissions(planted, PosixFilePermissions.fromString("rwxrwxrwx"));

      assertThatThrownBy(() -> node().nodeId(node).handler("x", ctx -> WorkResult.ok()).build())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(planted.toString())
          .hasMessageContaining("not private")
          .hasMessageContaining("0700")
          .hasMessageContaining("sandboxRoot");
    } finally {
      Files.deleteIfExists(planted);
    }
  }

  @Test
  void a_default_root_planted_as_a_symbolic_link_is_refused_and_not_followed() throws Exception {
    String node = "link-" + UUID.randomUUID();
    Path target = Files.createDirectory(dir.resolve("elsewhere"));
    Path link = Files.createSymbolicLink(temporaryRoot(node), target);
    try {
      assertThatThrownBy(() -> node().nodeId(node).handler("x", ctx -> WorkResult.ok()).build())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(link.toString())
          .hasMessageContaining("symbolic link");
      try (var entries = Files.list(target)) {
        assertThat(entries).as("nothing was created through the link").isEmpty();
      }
    } finally {
      Files.deleteIfExists(link);
    }
  }

  @Test
  void a_default_root_owned_by_another_user_is_refused() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "only root can give a file away");
    UserPrincipal nobody;
    try {
      nobody = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
    } catch (IOException e) {
      assumeTrue(false, "no user 'nobody' on this machine");
      return;
    }
    String node = "owned-" + UUID.randomUUID();
    Path planted = Files.createDirectory(temporaryRoot(node));
    try {
      Files.setPosixFilePermissions(planted, PosixFilePermissions.fromString("rwx------"));
      Files.setOwner(planted, nobody);

      assertThatThrownBy(() -> node().nodeId(node).handler("x", ctx -> WorkResult.ok()).build())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("owned by nobody");
    } finally {
      Files.deleteIfExists(planted);
    }
  }

  private static Path temporaryRoot(String node) {
    return Path.of(System.getProperty("java.io.tmpdir"))
        .toAbsolutePath()
        .normalize()
        .resolve("workgate-sandboxes-" + System.getProperty("user.name") + "-" + node);
  }

  private UserPrincipal me() throws IOException {
    return dir.getFileSystem()
        .getUserPrincipalLookupService()
        .lookupPrincipalByName(System.getProperty("user.name"));
  }

  private static Workgate.Builder node() {
    return Workgate.builder()
        .pollInterval(Duration.ofMillis(20))
        .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"));
  }

  /** A store that says it keeps its data in a local file, as a SQLite store does. */
  private static WorkOrderStore withLocalFile(WorkOrderStore inner, Path file) {
    return (WorkOrderStore)
        Proxy.newProxyInstance(
            WorkOrderStore.class.getClassLoader(),
            new Class<?>[] {WorkOrderStore.class},
            (proxy, method, args) -> {
              if (method.getName().equals("localFile") && method.getParameterCount() == 0) {
                return Optional.of(file);
              }
              try {
                return method.invoke(inner, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }
}
