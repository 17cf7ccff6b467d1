package dev.workgate.execution;

import java.util.List;

/**
 * Creates sandboxes for one kind of work and finds the ones a crash left behind. Implementations
 * must be thread-safe: executions create sandboxes concurrently, and the orphan reaper lists them
 * while executions run.
 */
public interface SandboxProvider {

  /**
   * Creates the sandbox for one attempt: its directory, and what the work needs before it can run.
   * A failure here is recorded as {@code SANDBOX_CREATION_FAILED} (retryable).
   *
   * @param request the work order and the owning node
   * @return the sandbox, not yet running
   * @throws Exception if it cannot be created; nothing may be left behind
   */
  Sandbox create(SandboxRequest request) throws Exception;

  /**
   * The sandboxes this provider finds on disk, live ones included.
   *
   * @return the records; empty if the provider keeps nothing on disk
   */
  List<SandboxRecord> list();

  /**
   * Destroys a sandbox found by {@link #list()} that no live execution owns: kills what still runs
   * in it and deletes it. Never called for a sandbox of a live execution. Idempotent.
   *
   * @param orphan the record
   */
  void destroyOrphan(SandboxRecord orphan);
}
