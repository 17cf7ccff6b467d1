package dev.workgate.execution;

import dev.workgate.WorkResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where one attempt of a work order runs: a private directory and, for process sandboxes, a process
 * tree. It has exactly one owner, the execution that created it, which runs it once, may kill it,
 * and destroys it once. Implementations must allow {@link #kill} and {@link #destroy} from another
 * thread while {@link #run} blocks.
 */
public interface Sandbox {

  /**
   * A name for logs and the {@code Started} event, unique per provider.
   *
   * @return the id
   */
  String id();

  /**
   * The sandbox's private directory, inside its provider's root.
   *
   * @return the directory
   */
  Path directory();

  /**
   * Runs the work and blocks until it ends, however it ends.
   *
   * @return how the work ended; after a {@link #kill} the result may be anything and the owner
   *     records what it killed the work for instead
   * @throws Exception if the work failed in a way the sandbox could not turn into a result
   */
  WorkResult run() throws Exception;

  /**
   * Stops the work: asks it to stop (cancellation flag and interrupt, or SIGTERM to the whole
   * process tree), waits up to {@code grace}, then forces it (SIGKILL to what is left). Returns
   * once the work has stopped or could not be stopped further. Idempotent.
   *
   * @param grace how long the work may take to stop by itself
   */
  void kill(Duration grace);

  /**
   * Kills whatever is left at once and deletes the directory. Idempotent; never throws for a
   * sandbox that is already gone.
   */
  void destroy();

  /**
   * Completes once nothing of the work runs any more. A sandbox whose {@link #run} and {@link
   * #kill} return only when the work has stopped (a process sandbox, whose kill ends with SIGKILL)
   * keeps the default, an already completed stage. A sandbox that can give up on its work while the
   * work goes on (an in-process handler that ignores its interrupt, whose thread Java cannot stop)
   * completes it when the work really ends: until then its owner keeps the work's slot reserved, up
   * to a cap. Never completes exceptionally.
   *
   * @return a stage completed when the work has stopped
   */
  default CompletionStage<Void> whenStopped() {
    return CompletableFuture.completedFuture(null);
  }
}
