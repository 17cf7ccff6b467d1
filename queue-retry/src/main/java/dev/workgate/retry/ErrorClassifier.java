package dev.workgate.retry;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.internal.Text;
import java.io.IOException;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * Turns what went wrong (an error code, an exception, a process exit code) into an {@link
 * ErrorInfo}: a code and whether another attempt may help. Total: every input gets a code, {@link
 * ErrorCodes#UNKNOWN_ERROR} when nothing else matches. Immutable and thread-safe.
 *
 * <p>Defaults ({@link #defaults()}):
 *
 * <ul>
 *   <li>codes {@code SANDBOX_CREATION_FAILED, TIMEOUT, OOM_KILLED, NETWORK_ERROR, LEASE_EXPIRED,
 *       NODE_SHUTDOWN, UNKNOWN_ERROR} retry; {@code INVALID_WORK_ORDER, AGENT_FATAL_ERROR,
 *       CANCELLED} do not; a code the classifier does not know retries (see {@link
 *       Builder#unknownCodesRetryable});
 *   <li>exceptions: Jackson's {@link JsonProcessingException} (a payload that does not parse) is
 *       {@code INVALID_WORK_ORDER}; any other {@link IOException} is {@code NETWORK_ERROR} (an
 *       {@link java.io.UncheckedIOException} is classified by the {@code IOException} it wraps);
 *       {@link TimeoutException} is {@code TIMEOUT}; {@link OutOfMemoryError} is {@code
 *       OOM_KILLED}; anything else is {@code UNKNOWN_ERROR};
 *   <li>exit codes: 137 (killed by SIGKILL, which is what the kernel's OOM killer sends) is {@code
 *       OOM_KILLED}; any other is {@code UNKNOWN_ERROR}.
 * </ul>
 *
 * <p>An exception maps through the most specific class registered for it or its superclasses. When
 * neither it nor its superclasses are registered, its causes are tried in turn, so a {@code
 * RuntimeException} that wraps an {@code IOException} is a {@code NETWORK_ERROR}. Pure wrappers
 * ({@code UncheckedIOException}, {@code ExecutionException}, {@code CompletionException}, {@code
 * InvocationTargetException}, {@code UndeclaredThrowableException}) are skipped to what they wrap,
 * unless a host maps them itself.
 */
public final class ErrorClassifier {

  /** How many causes of an exception are looked at, at most. */
  static final int MAX_CAUSE_DEPTH = 32;

  /** The longest message an {@link ErrorInfo} made from an exception or exit code has, in chars. */
  public static final int MAX_MESSAGE_LENGTH = 2_000;

  /**
   * Exceptions that only carry another one across an API boundary; they are classified by what they
   * wrap unless a host maps them themselves.
   */
  private static final Set<Class<?>> WRAPPERS =
      Set.of(
          java.io.UncheckedIOException.class,
          java.util.concurrent.ExecutionException.class,
          java.util.concurrent.CompletionException.class,
          java.lang.reflect.InvocationTargetException.class,
          java.lang.reflect.UndeclaredThrowableException.class);

  private static final ErrorClassifier DEFAULTS = builder().build();

  private final Map<String, Boolean> codes;
  private final Map<Class<? extends Throwable>, String> exceptions;
  private final Map<Integer, String> exitCodes;
  private final boolean unknownCodesRetryable;

  private ErrorClassifier(Builder b) {
    this.codes = Map.copyOf(b.codes);
    this.exceptions = Map.copyOf(b.exceptions);
    this.exitCodes = Map.copyOf(b.exitCodes);
    this.unknownCodesRetryable = b.unknownCodesRetryable;
  }

  /**
   * The default classifier described above.
   *
   * @return the classifier
   */
  public static ErrorClassifier defaults() {
    return DEFAULTS;
  }

  /**
   * A builder that starts from the defaults; add a host's codes and mappings to it.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Whether a code is retryable: as registered, else {@link Builder#unknownCodesRetryable}.
   *
   * @param code the error code
   * @return whether another attempt may help
   */
  public boolean isRetryable(String code) {
    Objects.requireNonNull(code, "code");
    Boolean known = codes.get(code);
    return known == null ? unknownCodesRetryable : known;
  }

  /**
   * The codes this classifier knows and their retryability.
   *
   * @return an immutable map
   */
  public Map<String, Boolean> knownCodes() {
    return codes;
  }

  /**
   * An error with the code's retryability.
   *
   * @param code the error code
   * @param message a description for a person
   * @return the error
   * @throws IllegalArgumentException if the code is not a valid name or the message is null
   */
  public ErrorInfo classify(String code, String message) {
    Text.requireName(code, "error code");
    return new ErrorInfo(code, message, isRetryable(code));
  }

  /**
   * The error an exception stands for, with its type and message (never its stack trace) as the
   * message, at most {@link #MAX_MESSAGE_LENGTH} chars.
   *
   * @param failure what was thrown
   * @return the error
   */
  public ErrorInfo classify(Throwable failure) {
    Objects.requireNonNull(failure, "failure");
    return classify(codeOf(failure), describe(failure));
  }

  /**
   * The error a process exit code stands for.
   *
   * @param exitCode the exit code
   * @param detail what else is known (e.g. the tail of stderr), may be empty
   * @return the error; its message starts with {@code "exit code N"}
   */
  public ErrorInfo classifyExitCode(int exitCode, String detail) {
    Objects.requireNonNull(detail, "detail");
    String code = exitCodes.getOrDefault(exitCode, ErrorCodes.UNKNOWN_ERROR);
    String message =
        detail.isEmpty() ? "exit code " + exitCode : "exit code " + exitCode + ": " + detail;
    return classify(code, truncate(message));
  }

  private String codeOf(Throwable failure) {
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    Throwable t = failure;
    for (int depth = 0; t != null && depth < MAX_CAUSE_DEPTH && seen.add(t); depth++) {
      if (WRAPPERS.contains(t.getClass())
          && t.getCause() != null
          && !exceptions.containsKey(t.getClass())) {
        t = t.getCause(); // says nothing of its own: classify what it wraps
        continue;
      }
      for (Class<?> c = t.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
        String code = exceptions.get(c);
        if (code != null) {
          return code;
        }
      }
      try {
        t = t.getCause();
      } catch (RuntimeException broken) {
        break;
      }
    }
    return ErrorCodes.UNKNOWN_ERROR;
  }

  private static String describe(Throwable failure) {
    String message;
    try {
      message = failure.getMessage();
    } catch (RuntimeException e) {
      message = "(message unavailable: " + e.getClass().getName() + ")";
    }
    String type = failure.getClass().getName();
    return truncate(message == null || message.isEmpty() ? type : type + ": " + message);
  }

  private static String truncate(String message) {
    if (message.length() <= MAX_MESSAGE_LENGTH) {
      return message;
    }
    int end = MAX_MESSAGE_LENGTH - 1;
    if (Character.isHighSurrogate(message.charAt(end - 1))) {
      end--; // do not split a surrogate pair
    }
    return message.substring(0, end) + "…";
  }

  @Override
  public String toString() {
    return "ErrorClassifier{codes="
        + codes
        + ", exceptions="
        + exceptions.size()
        + ", exitCodes="
        + exitCodes
        + ", unknownCodesRetryable="
        + unknownCodesRetryable
        + "}";
  }

  /**
   * Builds an {@link ErrorClassifier}, starting from the defaults. A later mapping for the same
   * code, exception class or exit code replaces the earlier one. Setters reject bad values with an
   * {@link IllegalArgumentException} naming the setting. Not thread-safe.
   */
  public static final class Builder {
    private final Map<String, Boolean> codes = new LinkedHashMap<>();
    private final Map<Class<? extends Throwable>, String> exceptions = new LinkedHashMap<>();
    private final Map<Integer, String> exitCodes = new LinkedHashMap<>();
    private boolean unknownCodesRetryable = true;

    private Builder() {
      for (String code : ErrorCodes.RETRYABLE_BY_DEFAULT) {
        codes.put(code, true);
      }
      for (String code : ErrorCodes.FATAL_BY_DEFAULT) {
        codes.put(code, false);
      }
      exceptions.put(JsonProcessingException.class, ErrorCodes.INVALID_WORK_ORDER);
      exceptions.put(IOException.class, ErrorCodes.NETWORK_ERROR);
      exceptions.put(TimeoutException.class, ErrorCodes.TIMEOUT);
      exceptions.put(OutOfMemoryError.class, ErrorCodes.OOM_KILLED);
      exitCodes.put(137, ErrorCodes.OOM_KILLED);
    }

    /**
     * Registers a code and whether it retries.
     *
     * @param code the error code
     * @param retryable whether another attempt may help
     * @return this builder
     */
    public Builder code(String code, boolean retryable) {
      codes.put(Text.requireName(code, "classifier code"), retryable);
      return this;
    }

    /**
     * Maps an exception class, and its subclasses unless they are mapped themselves, to a code.
     *
     * @param type the exception class
     * @param code the error code
     * @return this builder
     */
    public Builder exception(Class<? extends Throwable> type, String code) {
      Objects.requireNonNull(type, "classifier exception type must not be null");
      exceptions.put(type, Text.requireName(code, "classifier exception code"));
      return this;
    }

    /**
     * Maps a process exit code to an error code.
     *
     * @param exitCode the exit code; 0 is success and cannot be mapped
     * @param code the error code
     * @return this builder
     */
    public Builder exitCode(int exitCode, String code) {
      if (exitCode == 0) {
        throw new IllegalArgumentException(
            "classifier exitCode 0 means success and cannot be mapped");
      }
      exitCodes.put(exitCode, Text.requireName(code, "classifier exit-code code"));
      return this;
    }

    /**
     * Whether codes that were not registered retry. Default true: a surprise failure gets the
     * bounded retries of its policy, as most job queues do; set false to fail unknown codes at
     * once.
     *
     * @param retryable whether unknown codes retry
     * @return this builder
     */
    public Builder unknownCodesRetryable(boolean retryable) {
      this.unknownCodesRetryable = retryable;
      return this;
    }

    /**
     * Builds the classifier.
     *
     * @return the classifier
     */
    public ErrorClassifier build() {
      return new ErrorClassifier(this);
    }
  }
}
