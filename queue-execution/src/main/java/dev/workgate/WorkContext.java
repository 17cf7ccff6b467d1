package dev.workgate;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.core.WorkOrderId;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * What a {@link WorkHandler} knows about the attempt it runs. One context per attempt; safe to use
 * from the handler's thread and from threads it starts.
 */
public interface WorkContext {

  /**
   * The work order.
   *
   * @return its id
   */
  WorkOrderId id();

  /**
   * The attempt: 1 for the first execution, 2 for the first retry, …
   *
   * @return at least 1
   */
  int attempt();

  /**
   * The attempt's fencing token: a number that rises with every claim of this work order, on any
   * node, across attempts, reaps and releases (the version of the work order's {@code Claimed}
   * event for this attempt). Pass it to an external system along with a side effect, and let that
   * system refuse a token lower than the highest it has seen for the work order: a write from an
   * attempt that was superseded (its node cut off, its lease reaped, the work order claimed again)
   * is then rejected instead of applied twice. The token does not stop a stale attempt from
   * running; it lets the systems it writes to tell that it is stale. See docs/execution.md,
   * "Fencing tokens".
   *
   * @return a positive number, the same for the whole attempt
   */
  long fencingToken();

  /**
   * The work order's type.
   *
   * @return the type
   */
  String type();

  /**
   * The payload as JSON.
   *
   * @return a copy of the payload
   */
  JsonNode payload();

  /**
   * The payload read as a type.
   *
   * @param <T> the type
   * @param type the class to read into
   * @return the payload
   * @throws IllegalArgumentException if the payload does not fit the type (the runtime records it
   *     as {@code INVALID_WORK_ORDER}, which is not retried)
   */
  <T> T payload(Class<T> type);

  /**
   * The work order's labels.
   *
   * @return an immutable map
   */
  Map<String, String> labels();

  /**
   * A private working directory for this attempt, deleted when the attempt's sandbox is destroyed.
   *
   * @return the directory, which exists
   */
  Path workDir();

  /**
   * Whether the work order was cancelled or its attempt timed out: the handler should stop soon.
   * The handler's thread is also interrupted.
   *
   * @return true once the attempt should stop
   */
  boolean cancellationRequested();

  /**
   * Records a durable checkpoint: state to resume from. It is a {@code Checkpointed} event in the
   * work order's log, appended only while this attempt still holds its claim; once this returns it
   * survives any crash, and every later attempt of the work order (a retry, or the attempt after a
   * node died or shut down) reads it from {@link #lastCheckpoint()}. Each call replaces the last.
   *
   * <pre>{@code
   * int from = context.lastCheckpoint(Progress.class).map(p -> p.done).orElse(0);
   * for (int i = from; i < repos.size(); i++) {
   *   migrate(repos.get(i));
   *   context.checkpoint(new Progress(i + 1));
   *   context.progress((i + 1) / (double) repos.size(), repos.get(i));
   * }
   * }</pre>
   *
   * @param state any value Jackson can serialise, or a {@link JsonNode}; at most {@link
   *     dev.workgate.core.WorkOrderEvent.Checkpointed#MAX_BYTES} bytes as JSON
   * @throws IllegalArgumentException if the state is null, cannot be serialised or is too large;
   *     nothing is written
   * @throws dev.workgate.core.StaleAttemptException if this attempt no longer holds the work order
   *     (reaped, released, cancelled): the handler should stop
   */
  void checkpoint(Object state);

  /**
   * The latest checkpoint of the work order: this attempt's latest, or the one an earlier attempt
   * left.
   *
   * @return a copy of the checkpoint, or empty when none was recorded
   */
  Optional<JsonNode> lastCheckpoint();

  /**
   * The latest checkpoint read as a type.
   *
   * @param <T> the type
   * @param type the class to read into
   * @return the checkpoint, or empty when none was recorded
   * @throws IllegalArgumentException if the checkpoint does not fit the type
   */
  default <T> Optional<T> lastCheckpoint(Class<T> type) {
    return lastCheckpoint().map(json -> dev.workgate.internal.Checkpoints.read(json, type, id()));
  }

  /**
   * Reports how far the attempt got: shown in the work order's view, the HTTP API, the admin CLI,
   * the console and a gauge. Cheap: the latest report is written with the attempt's next lease
   * renewal, so any number of calls between two renewals cost one write, and the view may lag by up
   * to one renewal interval.
   *
   * @param fraction between 0 and 1
   * @param message for a person, may be empty; cut to {@link
   *     dev.workgate.core.Progress#MAX_MESSAGE_LENGTH} chars
   * @throws IllegalArgumentException if the fraction is not between 0 and 1
   * @throws NullPointerException if the message is null
   */
  void progress(double fraction, String message);
}
