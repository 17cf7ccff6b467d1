package dev.workgate.core.store.jdbc;

/** How hard the SQLite store pushes each commit to disk (SQLite's {@code synchronous} setting). */
public enum SqliteDurability {
  /**
   * Every commit is on disk before the call returns ({@code synchronous=FULL}): survives a crash of
   * the process and of the machine. The default.
   */
  FULL,
  /**
   * Commits survive a crash of the process; a power loss or kernel crash may lose the last commits,
   * never corrupting the file ({@code synchronous=NORMAL} in WAL mode). Faster.
   */
  NORMAL
}
