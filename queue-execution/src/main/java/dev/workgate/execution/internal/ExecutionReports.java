package dev.workgate.execution.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.core.Progress;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderView;
import dev.workgate.execution.AttemptReports;
import dev.workgate.scheduler.internal.ClaimedWork;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;

/**
 * One attempt's {@link AttemptReports}: progress goes to the claim, for the lease renewal to write;
 * checkpoints are appended at once under the attempt's fencing, and the version each leaves is what
 * the attempt's next own event (a later checkpoint, its completion) is appended under.
 *
 * <p>Thread-safe: checkpoints are appended one at a time.
 */
final class ExecutionReports implements AttemptReports {
  private final ClaimedWork work;
  private final OutcomeRecorder recorder;
  private final Clock clock;
  private JsonNode last; // guarded by this
  private long version; // guarded by this; 0 until the attempt's Started is known

  ExecutionReports(ClaimedWork work, OutcomeRecorder recorder, Clock clock) {
    this.work = work;
    this.recorder = recorder;
    this.clock = clock;
    this.last = work.view().checkpoint().orElse(null);
  }

  /** The attempt's Started left this version. */
  synchronized void started(long startedVersion) {
    version = startedVersion;
  }

  /** The version the attempt's last own event left: its Started or its latest checkpoint. */
  synchronized long version() {
    return version;
  }

  @Override
  public void progress(double fraction, String message) {
    work.reportProgress(new Progress(fraction, message, clock.instant()));
  }

  /**
   * {@inheritDoc}
   *
   * <p>A handler asked to stop (its thread interrupted) may still record where it got to while it
   * holds the work order: the interrupt is set aside for the store calls, which would give up at
   * once on an interrupted thread, and set again before this returns or throws.
   */
  @Override
  public synchronized void checkpoint(JsonNode state) {
    Objects.requireNonNull(state, "checkpoint state");
    WorkOrderView claimed = work.view();
    WorkOrderEvent.Checkpointed event = new WorkOrderEvent.Checkpointed(claimed.attempt(), state);
    boolean interrupted = Thread.interrupted();
    try {
      version = recorder.checkpoint(claimed, version, event);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    last = event.state();
  }

  @Override
  public synchronized Optional<JsonNode> lastCheckpoint() {
    return Optional.ofNullable(last).map(JsonNode::deepCopy);
  }
}
