package dev.workgate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workgate.core.ErrorInfo;
import java.util.Objects;
import java.util.Optional;

/**
 * How one attempt of a work order ended, as a {@link WorkHandler} or a sandbox reports it: success
 * with an optional output, or a failure with an error code that says whether another attempt may
 * help. Immutable and thread-safe.
 */
public final class WorkResult {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final WorkResult OK = new WorkResult(null, null);

  private final JsonNode output;
  private final ErrorInfo error;

  private WorkResult(JsonNode output, ErrorInfo error) {
    this.output = output;
    this.error = error;
  }

  /**
   * Success without output.
   *
   * @return the result
   */
  public static WorkResult ok() {
    return OK;
  }

  /**
   * Success with an output, stored as the work order's result. An output larger than {@link
   * dev.workgate.core.internal.Text#MAX_VALUE_BYTES} as JSON cannot be stored: the attempt then
   * fails for good with {@code AGENT_FATAL_ERROR} and a message giving the size. Unpaired
   * surrogates in its strings are stored as U+FFFD.
   *
   * @param output any value Jackson can turn into JSON, or a {@link JsonNode}; null for none
   * @return the result
   * @throws IllegalArgumentException if Jackson cannot convert the output
   */
  public static WorkResult ok(Object output) {
    if (output == null) {
      return OK;
    }
    try {
      return new WorkResult(
          output instanceof JsonNode node ? node.deepCopy() : JSON.valueToTree(output), null);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "work result output of type "
              + output.getClass().getName()
              + " cannot be turned into JSON: "
              + e.getMessage(),
          e);
    }
  }

  /**
   * A failure that another attempt may fix; retried while the policy allows.
   *
   * @param code the error code, e.g. {@code NETWORK_ERROR}
   * @param message for a person; a message longer than {@link
   *     dev.workgate.core.internal.Text#MAX_ERROR_MESSAGE_LENGTH} is cut with a marker
   * @return the result
   */
  public static WorkResult retryableFailure(String code, String message) {
    return new WorkResult(null, ErrorInfo.retryable(code, message));
  }

  /**
   * A failure no further attempt will fix; the work order fails at once.
   *
   * @param code the error code, e.g. {@code AGENT_FATAL_ERROR}
   * @param message for a person; a message longer than {@link
   *     dev.workgate.core.internal.Text#MAX_ERROR_MESSAGE_LENGTH} is cut with a marker
   * @return the result
   */
  public static WorkResult fatalFailure(String code, String message) {
    return new WorkResult(null, ErrorInfo.fatal(code, message));
  }

  /**
   * A failure described by an error.
   *
   * @param error the error
   * @return the result
   */
  public static WorkResult failure(ErrorInfo error) {
    return new WorkResult(null, Objects.requireNonNull(error, "error"));
  }

  /**
   * Whether the attempt succeeded.
   *
   * @return true for {@link #ok()} results
   */
  public boolean succeeded() {
    return error == null;
  }

  /**
   * The output of a success.
   *
   * @return a copy of the output, empty for a failure or a success without output
   */
  public Optional<JsonNode> output() {
    return output == null ? Optional.empty() : Optional.of(output.deepCopy());
  }

  /**
   * The error of a failure.
   *
   * @return the error, empty for a success
   */
  public Optional<ErrorInfo> error() {
    return Optional.ofNullable(error);
  }

  @Override
  public String toString() {
    return error == null ? "WorkResult{ok}" : "WorkResult{" + error + "}";
  }
}
