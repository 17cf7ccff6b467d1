package dev.workgate;

import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.execution.internal.SandboxPaths;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a node's sandboxes live: the root the host set, or a default beside a store's file, or the
 * node's own directory under {@code java.io.tmpdir}, which the node removes on close once it is
 * empty.
 *
 * <p>Immutable once chosen, hence thread-safe; {@link #removeIfTemporary()} only deletes empty
 * directories and may run on any thread.
 */
final class SandboxRoot {
  private static final Logger LOG = LoggerFactory.getLogger(Workgate.class);

  private final Path path;

  /** The root is the node's own directory under java.io.tmpdir: removed on close when empty. */
  private final boolean temporary;

  private SandboxRoot(Path path, boolean temporary) {
    this.path = path;
    this.temporary = temporary;
  }

  /**
   * Chooses and prepares the root.
   *
   * @param configured the root the host set, or null
   * @param store the host's store, or null for the node's own in-memory one
   * @param nodeId the node's id, naming its default directory
   * @throws IllegalStateException if the root cannot be created, or the default one under {@code
   *     java.io.tmpdir} exists and is not private to this user
   */
  static SandboxRoot choose(Path configured, WorkOrderStore store, String nodeId) {
    Path path =
        configured != null
            ? SandboxPaths.preparedRoot(configured)
            : SandboxPaths.defaultRoot(
                store != null ? store.localFile() : Optional.empty(), nodeId);
    boolean temporary = configured == null && (store == null || store.localFile().isEmpty());
    return new SandboxRoot(path, temporary);
  }

  /** The root, which exists. */
  Path path() {
    return path;
  }

  /** Where in-process handlers get their work directories. */
  Path inProcess() {
    return path.resolve("in-process");
  }

  /**
   * On close: removes the root and its in-process directory if they are the node's own and empty.
   */
  void removeIfTemporary() {
    if (temporary) {
      removeIfEmpty(inProcess());
      removeIfEmpty(path);
    }
  }

  /**
   * Removes a directory of this node's under the temporary directory once nothing is left in it.
   */
  private static void removeIfEmpty(Path dir) {
    try {
      Files.deleteIfExists(dir);
    } catch (DirectoryNotEmptyException kept) {
      LOG.debug("sandbox directory {} is not empty: kept", dir);
    } catch (IOException e) {
      LOG.debug("cannot remove the sandbox directory {}: {}", dir, e.toString());
    }
  }
}
