package dev.workgate.execution.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.core.WorkOrderId;
import dev.workgate.execution.SandboxProvider.SandboxRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The record file every sandbox directory holds ({@value #FILE}): which work order, attempt and
 * node it belongs to, plus provider details (such as a process id), so that the orphan reaper can
 * tell after a crash whose sandbox it is. Written atomically (temporary file, then rename), mode
 * {@code 0600} where the file system has POSIX permissions. Stateless and thread-safe.
 */
public final class SandboxRecords {
  private static final Logger LOG = LoggerFactory.getLogger(SandboxRecords.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The record file's name inside a sandbox directory. */
  public static final String FILE = "workgate-sandbox.json";

  private SandboxRecords() {}

  /** A record with the provider's details. */
  public record Entry(SandboxRecord record, Path directory, Map<String, String> details) {}

  /**
   * Writes a sandbox's record file.
   *
   * @param directory the sandbox directory, which exists
   * @param record what it belongs to
   * @param details provider details, e.g. {@code pid}
   * @throws UncheckedIOException if it cannot be written
   */
  public static void write(Path directory, SandboxRecord record, Map<String, String> details) {
    ObjectNode node = JSON.createObjectNode();
    node.put("sandboxId", record.sandboxId());
    node.put("workOrderId", record.workOrderId().value());
    node.put("attempt", record.attempt());
    node.put("nodeId", record.nodeId());
    node.put("createdAt", record.createdAt().toString());
    ObjectNode extra = node.putObject("details");
    details.forEach(extra::put);
    Path target = directory.resolve(FILE);
    Path temp = directory.resolve(FILE + ".tmp");
    try {
      Files.deleteIfExists(temp); // left by a crash between writing and renaming
      try (var out = PrivateFiles.createFile(temp)) {
        out.write(java.nio.ByteBuffer.wrap(JSON.writeValueAsBytes(node)));
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the sandbox record " + target, e);
    }
  }

  /**
   * Reads a sandbox directory's record.
   *
   * @param directory the directory
   * @return the entry, empty if there is no readable record
   */
  public static Optional<Entry> read(Path directory) {
    Path file = directory.resolve(FILE);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      JsonNode node = JSON.readTree(file.toFile());
      SandboxRecord record =
          new SandboxRecord(
              node.path("sandboxId").asText(),
              WorkOrderId.of(node.path("workOrderId").asText()),
              node.path("attempt").asInt(),
              node.path("nodeId").asText(),
              Instant.parse(node.path("createdAt").asText()));
      Map<String, String> details = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : node.path("details").properties()) {
        details.put(e.getKey(), e.getValue().asText());
      }
      return Optional.of(new Entry(record, directory, Map.copyOf(details)));
    } catch (IOException | RuntimeException e) {
      LOG.warn("unreadable sandbox record {}: {}", file, e.toString());
      return Optional.empty();
    }
  }

  /**
   * The records of every sandbox directory directly under a root, including directories that lost
   * their record (see {@link SandboxRecord#UNKNOWN_NODE}).
   *
   * @param root the provider's sandbox root; a missing root has none
   * @return the entries
   */
  public static List<Entry> list(Path root) {
    List<Entry> entries = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return entries;
    }
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, Files::isDirectory)) {
      for (Path dir : dirs) {
        read(dir).or(() -> unrecorded(dir)).ifPresent(entries::add);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the sandbox root " + root, e);
    }
    return entries;
  }

  /**
   * A sandbox directory without a readable record, which a crash leaves between creating the
   * directory and writing its record, or between deleting the record and the directory: its name
   * gives the work order and attempt, the node is unknown, and it has no details.
   */
  private static Optional<Entry> unrecorded(Path dir) {
    return SandboxPaths.parse(dir.getFileName().toString())
        .map(
            a ->
                new Entry(
                    new SandboxRecord(
                        dir.getFileName().toString(),
                        a.id(),
                        a.attempt(),
                        SandboxRecord.UNKNOWN_NODE,
                        modified(dir)),
                    dir,
                    Map.of()));
  }

  /** The node that created a sandbox, for log lines. */
  public static String creator(SandboxRecord record) {
    return record.nodeKnown() ? record.nodeId() : "unknown, its record was lost";
  }

  private static Instant modified(Path dir) {
    try {
      return Files.getLastModifiedTime(dir).toInstant();
    } catch (IOException gone) {
      return Instant.EPOCH;
    }
  }

  /**
   * Deletes a directory tree, following no symbolic links out of it. Idempotent.
   *
   * @param directory the directory
   * @throws UncheckedIOException if something cannot be deleted
   */
  public static void deleteTree(Path directory) {
    if (!Files.exists(directory, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (var paths = Files.walk(directory)) {
      List<Path> all = new ArrayList<>(paths.toList());
      java.util.Collections.reverse(all);
      for (Path p : all) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete sandbox directory " + directory, e);
    }
  }
}
