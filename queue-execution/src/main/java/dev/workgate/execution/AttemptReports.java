package dev.workgate.execution;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;

/**
 * What a running attempt tells its owner besides its result: how far it got, and durable
 * checkpoints that the next attempt of the same work order resumes from. The execution that owns
 * the attempt hands one to its sandbox ({@link SandboxProvider.SandboxRequest#reports()}); an
 * in-process handler reaches the same through its {@code WorkContext}, a process sandbox through
 * the report file described in docs/execution.md, "Progress and checkpoints".
 *
 * <p>Implementations are safe for use from any thread.
 */
public interface AttemptReports {

  /** The longest progress message kept, in chars; a longer one is cut. */
  int MAX_PROGRESS_MESSAGE_LENGTH = dev.workgate.core.Progress.MAX_MESSAGE_LENGTH;

  /**
   * Reports how far the attempt got. Cheap: the latest report is kept in memory and written with
   * the attempt's next lease renewal, so calling it often costs nothing more than calling it once.
   *
   * @param fraction between 0 and 1
   * @param message for a person, may be empty; cut to {@link #MAX_PROGRESS_MESSAGE_LENGTH} chars
   * @throws IllegalArgumentException if the fraction is not between 0 and 1 (NaN included)
   * @throws NullPointerException if the message is null
   */
  void progress(double fraction, String message);

  /**
   * Records a checkpoint durably: a {@code Checkpointed} event in the work order's log, written
   * only while this attempt still holds its claim. Once this returns, the checkpoint survives any
   * crash and is what {@link #lastCheckpoint()} gives every later attempt, until a newer one.
   *
   * @param state the state to resume from, as JSON
   * @throws IllegalArgumentException if the state is larger than the checkpoint limit
   *     (dev.workgate.core.WorkOrderEvent.Checkpointed#MAX_BYTES) or is not storable JSON; nothing
   *     is written
   * @throws dev.workgate.core.WorkgateException if the attempt no longer holds its claim (it was
   *     reaped, released or cancelled): the checkpoint is refused, and the attempt should stop
   */
  void checkpoint(JsonNode state);

  /**
   * The latest checkpoint of the work order: this attempt's own latest, or else the one an earlier
   * attempt left.
   *
   * @return the checkpoint, or empty when none was recorded
   */
  Optional<JsonNode> lastCheckpoint();
}
