package dev.workgate.execution.internal;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;

/**
 * Creates sandbox directories and files readable by their owner alone: directories {@code 0700},
 * files {@code 0600}, set at creation (never created open and narrowed afterwards, which leaves a
 * window). On a file system without POSIX permissions they are created with its defaults. Stateless
 * and thread-safe.
 */
public final class PrivateFiles {
  public static final Set<PosixFilePermission> DIRECTORY =
      PosixFilePermissions.fromString("rwx------");
  public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

  private PrivateFiles() {}

  /** Whether the file system of a path has POSIX permissions. */
  public static boolean posix(Path path) {
    FileSystem fs = path.getFileSystem();
    return fs.supportedFileAttributeViews().contains("posix");
  }

  private static FileAttribute<?>[] directoryAttributes(Path path) {
    return posix(path)
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(DIRECTORY)}
        : new FileAttribute<?>[0];
  }

  private static FileAttribute<?>[] fileAttributes(Path path) {
    return posix(path)
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE)}
        : new FileAttribute<?>[0];
  }

  /**
   * Creates a directory {@code 0700}.
   *
   * @throws java.nio.file.FileAlreadyExistsException if it exists
   */
  public static Path createDirectory(Path dir) throws IOException {
    return Files.createDirectory(dir, directoryAttributes(dir));
  }

  /** Creates a directory and its missing parents, each one it creates {@code 0700}. */
  public static Path createDirectories(Path dir) throws IOException {
    return Files.createDirectories(dir, directoryAttributes(dir));
  }

  /**
   * Creates a new file {@code 0600} for writing.
   *
   * @throws java.nio.file.FileAlreadyExistsException if it exists
   */
  public static SeekableByteChannel createFile(Path file) throws IOException {
    return Files.newByteChannel(
        file,
        Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
        fileAttributes(file));
  }

  /**
   * What is wrong with a directory that should be private to this user, or null if nothing is: it
   * must be a directory itself (not a symbolic link, which another user may have planted to send
   * the sandboxes elsewhere), owned by this process's user, with mode {@code 0700}. On a file
   * system without POSIX permissions only the first is checked.
   */
  public static String notPrivate(Path dir) throws IOException {
    if (Files.isSymbolicLink(dir)) {
      return "it is a symbolic link";
    }
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return "it is not a directory";
    }
    if (!posix(dir)) {
      return null;
    }
    PosixFileAttributes attrs =
        Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    UserPrincipal me =
        dir.getFileSystem()
            .getUserPrincipalLookupService()
            .lookupPrincipalByName(System.getProperty("user.name"));
    if (!attrs.owner().equals(me)) {
      return "it is owned by " + attrs.owner().getName() + ", not by " + me.getName();
    }
    if (!attrs.permissions().equals(DIRECTORY)) {
      return "its mode is "
          + PosixFilePermissions.toString(attrs.permissions())
          + ", not rwx------ (0700)";
    }
    return null;
  }
}
