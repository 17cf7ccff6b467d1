package dev.workgate.execution;

import dev.workgate.core.WorkOrderId;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Names and paths for sandboxes built from work-order data, which cannot escape the sandbox root: a
 * name keeps only {@code [A-Za-z0-9_-]} of the id, at most 64 characters, plus a hash of the whole
 * id, so that distinct ids never share a directory and no id reaches outside the root. Stateless.
 */
public final class SandboxPaths {
  private static final int MAX_READABLE = 64;

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

  private static String hash(String value) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
