package dev.workgate;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.core.WorkOrderId;
import java.nio.file.Path;
import java.util.Map;

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
}
