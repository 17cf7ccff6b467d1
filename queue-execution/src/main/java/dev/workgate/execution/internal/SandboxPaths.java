package dev.workgate.execution.internal;

import dev.workgate.core.WorkOrderId;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names and paths for sandboxes built from work-order data, which cannot escape the sandbox root: a
 * name keeps only {@code [A-Za-z0-9_-]} of the id, at most 64 characters, plus a hash of the whole
 * id, so that distinct ids never share a directory and no id reaches outside the root. Also where a
 * node's sandbox root is by default ({@link #defaultRoot}). Stateless.
 */
public final class SandboxPaths {
  private static final int MAX_READABLE = 64;
  private static final Pattern NAME = Pattern.compile("(.+)-a([1-9][0-9]{0,9})-([0-9a-f]{12})");

  private SandboxPaths() {}

  /**
   * The directory name for an attempt of a work order: {@code <safe id>-a<attempt>-<hash>}.
   *
   * @param id the work order
   * @param attempt the attempt
   * @return a name of safe characters only
   */
  public static String name(WorkOrderId id, int attempt) {
    Objects.requireNonNull(id, "id");
    String value = id.value();
    StringBuilder safe = new StringBuilder();
    for (int i = 0; i < value.length() && safe.length() < MAX_READABLE; i++) {
      char c = value.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '-'
              || c == '_';
      safe.append(ok ? c : '_');
    }
    return safe + "-a" + attempt + "-" + hash(value + "#" + attempt);
  }

  /**
   * The work order and attempt that a directory name stands for, when the name is exactly {@link
   * #name} of them: what the orphan reaper goes by when a crash left a sandbox directory without
   * its record. Names that {@link #name} had to shorten or rewrite cannot be traced back (empty),
   * nor can names it never makes.
   *
   * @param name a directory name
   * @return the work order and attempt, empty if the name is not one of a sandbox
   */
  public static Optional<Attempt> parse(String name) {
    Matcher m = NAME.matcher(name);
    if (!m.matches()) {
      return Optional.empty();
    }
    try {
      WorkOrderId id = WorkOrderId.of(m.group(1));
      int attempt = Integer.parseInt(m.group(2));
      return name(id, attempt).equals(name)
          ? Optional.of(new Attempt(id, attempt))
          : Optional.empty();
    } catch (IllegalArgumentException notOurs) { // includes NumberFormatException
      return Optional.empty();
    }
  }

  /** A work order's attempt, as a sandbox directory's name gives it. */
  public record Attempt(WorkOrderId id, int attempt) {}

  /**
   * A path inside a root, refusing any that would leave it.
   *
   * @param root the root directory
   * @param name a relative name
   * @return {@code root/name}, normalized
   * @throws IllegalArgumentException if the result is not strictly inside the root
   */
  public static Path inside(Path root, String name) {
    Path base = root.toAbsolutePath().normalize();
    Path resolved = base.resolve(name).normalize();
    if (!resolved.startsWith(base) || resolved.equals(base)) {
      throw new IllegalArgumentException(
          "sandbox path '" + name + "' would leave the sandbox root " + base);
    }
    return resolved;
  }

  /**
   * Makes sure a sandbox root the host named exists: created {@code 0700} (with any missing
   * parents) where the file system has POSIX permissions; an existing one is used as it is.
   *
   * @param root the root
   * @return the root, absolute and normalized
   * @throws IllegalStateException if it cannot be created or is not a directory
   */
  public static Path preparedRoot(Path root) {
    Path dir = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
    try {
      PrivateFiles.createDirectories(dir);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(
          "cannot create the sandbox root " + dir + ": " + e.getMessage(), e);
    }
    return dir;
  }

  /**
   * The sandbox root of a node that names none, created {@code 0700} when missing. When the store
   * is a local file (a SQLite database), the root is beside it, {@code <file>.sandboxes}, so that
   * it is as private as the data and on the same disk. Otherwise it is a directory of this user and
   * node under {@code java.io.tmpdir}, {@code workgate-sandboxes-<user>-<node>}, which must, if it
   * exists already, be a directory (not a symbolic link) owned by this user with mode {@code 0700}:
   * the temporary directory is shared, and a directory or link planted there by someone else would
   * otherwise receive the sandboxes.
   *
   * @param storeFile the store's local file, if it has one
   * @param nodeId the node
   * @return the root, which exists
   * @throws IllegalStateException if it cannot be created, or the temporary one exists and is not
   *     private to this user; the message names the path, what is wrong and what to do
   */
  public static Path defaultRoot(Optional<Path> storeFile, String nodeId) {
    Objects.requireNonNull(storeFile, "storeFile");
    Objects.requireNonNull(nodeId, "nodeId");
    if (storeFile.isPresent()) {
      Path file = storeFile.get().toAbsolutePath().normalize();
      return preparedRoot(file.resolveSibling(file.getFileName() + ".sandboxes"));
    }
    Path dir =
        Path.of(System.getProperty("java.io.tmpdir"))
            .toAbsolutePath()
            .normalize()
            .resolve(
                "workgate-sandboxes-"
                    + safe(System.getProperty("user.name", "user"))
                    + "-"
                    + safe(nodeId));
    try {
      try {
        PrivateFiles.createDirectory(dir);
        return dir;
      } catch (java.nio.file.FileAlreadyExistsException exists) {
        String wrong = PrivateFiles.notPrivate(dir);
        if (wrong != null) {
          throw new IllegalStateException(
              "the default sandbox root "
                  + dir
                  + " is not private to this user: "
                  + wrong
                  + ". Remove it if it is not yours, or set Workgate.Builder.sandboxRoot");
        }
        return dir;
      }
    } catch (java.io.IOException e) {
      throw new IllegalStateException(
          "cannot create the default sandbox root " + dir + ": " + e.getMessage(), e);
    }
  }

  /** A name part of safe characters only. */
  private static String safe(String text) {
    StringBuilder safe = new StringBuilder();
    for (int i = 0; i < text.length() && safe.length() < MAX_READABLE; i++) {
      char c = text.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '-'
              || c == '_'
              || c == '.';
      safe.append(ok ? c : '_');
    }
    return safe.length() == 0 || safe.charAt(0) == '.' ? "_" + safe : safe.toString();
  }

  /**
   * One digest per thread: looking SHA-256 up among the security providers cost more than hashing
   * (a name is made for every attempt, on the scheduler's thread and inside the claim).
   */
  private static final ThreadLocal<MessageDigest> SHA_256 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("SHA-256 is missing from this JVM", e);
            }
          });

  private static final HexFormat HEX = HexFormat.of();

  private static String hash(String value) {
    // digest() resets the digest, so the next call on this thread starts clean.
    byte[] digest = SHA_256.get().digest(value.getBytes(StandardCharsets.UTF_8));
    return HEX.formatHex(digest, 0, 6);
  }
}
