package dev.workgate.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.internal.Text;
import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;

/**
 * Classification is total: every throwable (deep, cyclic, with hostile messages), every exit code
 * and every set of host mappings gives a valid, bounded {@link ErrorInfo}.
 */
class ErrorClassifierProperties {

  /** The codes the default exception mappings can give. */
  private static final Set<String> DEFAULT_EXCEPTION_CODES =
      Set.of(
          ErrorCodes.INVALID_WORK_ORDER,
          ErrorCodes.NETWORK_ERROR,
          ErrorCodes.TIMEOUT,
          ErrorCodes.OOM_KILLED,
          ErrorCodes.UNKNOWN_ERROR);

  @Property(tries = 1000)
  void any_throwable_gives_a_valid_error_with_a_bounded_message(@ForAll("failures") Recipe recipe) {
    Throwable failure = recipe.build();
    Statistics.label("depth").collect(recipe.links().size() > ErrorClassifier.MAX_CAUSE_DEPTH);
    Statistics.label("cycle").collect(recipe.cycle());

    ErrorInfo info = ErrorClassifier.defaults().classify(failure);

    assertValid(info, ErrorClassifier.defaults());
    assertThat(info.code()).isIn(DEFAULT_EXCEPTION_CODES);
    assertThat(info.message()).startsWith(failure.getClass().getName());
    String own = messageOf(failure);
    String whole =
        own == null || own.isEmpty()
            ? failure.getClass().getName()
            : failure.getClass().getName() + ": " + own;
    if (whole.length() <= ErrorClassifier.MAX_MESSAGE_LENGTH) {
      assertThat(info.message()).isEqualTo(Text.storable(whole));
    } else {
      assertThat(info.message()).hasSize(ErrorClassifier.MAX_MESSAGE_LENGTH).endsWith("…");
    }
  }

  @Property(tries = 1000)
  void any_exit_code_gives_a_valid_error_with_a_bounded_message(
      @ForAll int exitCode, @ForAll("details") String detail) {
    ErrorInfo info = ErrorClassifier.defaults().classifyExitCode(exitCode, detail);

    assertValid(info, ErrorClassifier.defaults());
    assertThat(info.code())
        .isEqualTo(exitCode == 137 ? ErrorCodes.OOM_KILLED : ErrorCodes.UNKNOWN_ERROR);
    assertThat(info.message()).startsWith("exit code " + exitCode);
  }

  @Property(tries = 1000)
  void with_any_host_mappings_classification_stays_total(
      @ForAll("hostClassifiers") HostClassifier host,
      @ForAll("failures") Recipe recipe,
      @ForAll int exitCode,
      @ForAll("details") String detail) {
    ErrorClassifier classifier = host.build();
    Throwable failure = recipe.build();

    ErrorInfo fromFailure = classifier.classify(failure);
    ErrorInfo fromExit = classifier.classifyExitCode(exitCode, detail);

    assertValid(fromFailure, classifier);
    assertValid(fromExit, classifier);
    Map<Class<? extends Throwable>, String> exceptions = host.exceptionMappings();
    Set<String> exceptionCodes = new HashSet<>(exceptions.values());
    exceptionCodes.add(ErrorCodes.UNKNOWN_ERROR);
    assertThat(fromFailure.code()).isIn(exceptionCodes);
    String ownMapping = exceptions.get(failure.getClass());
    if (ownMapping != null) {
      assertThat(fromFailure.code()).as("the thrown class is mapped itself").isEqualTo(ownMapping);
    }
    assertThat(fromExit.code())
        .isEqualTo(host.exitMappings().getOrDefault(exitCode, ErrorCodes.UNKNOWN_ERROR));
    for (Map.Entry<String, Boolean> code : host.codeMappings().entrySet()) {
      assertThat(classifier.isRetryable(code.getKey())).isEqualTo(code.getValue());
    }
  }

  private static void assertValid(ErrorInfo info, ErrorClassifier classifier) {
    assertThat(info).isNotNull();
    assertThatCode(() -> Text.requireName(info.code(), "code")).doesNotThrowAnyException();
    assertThat(info.message())
        .isNotNull()
        .doesNotContain("\u0000")
        .hasSizeLessThanOrEqualTo(ErrorClassifier.MAX_MESSAGE_LENGTH);
    assertThat(info.retryable()).isEqualTo(classifier.isRetryable(info.code()));
  }

  private static String messageOf(Throwable failure) {
    try {
      return failure.getMessage();
    } catch (RuntimeException e) {
      return "(message unavailable: " + e.getClass().getName() + ")";
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Throwables

  /** The kinds of throwable a chain is made of; each takes a message and a cause (may be null). */
  enum Kind {
    IO((m, c) -> initCause(new IOException(m), c)),
    CONNECT((m, c) -> initCause(new ConnectException(m), c)),
    SOCKET_TIMEOUT((m, c) -> initCause(new SocketTimeoutException(m), c)),
    FILE_NOT_FOUND((m, c) -> initCause(new FileNotFoundException(m), c)),
    EOF((m, c) -> initCause(new EOFException(m), c)),
    CUSTOM_IO((m, c) -> initCause(new CustomIoFailure(m), c)),
    UNCHECKED_IO((m, c) -> new UncheckedIOException(m, new IOException(c))),
    JSON_PARSE((m, c) -> new JsonParseException((JsonParser) null, m, c)),
    TIMEOUT((m, c) -> initCause(new TimeoutException(m), c)),
    OUT_OF_MEMORY((m, c) -> initCause(new OutOfMemoryError(m), c)),
    RUNTIME((m, c) -> initCause(new RuntimeException(m), c)),
    ILLEGAL_STATE((m, c) -> initCause(new IllegalStateException(m), c)),
    CHECKED((m, c) -> initCause(new Exception(m), c)),
    ERROR((m, c) -> initCause(new Error(m), c)),
    THROWABLE((m, c) -> initCause(new Throwable(m), c)),
    CUSTOM_CHECKED((m, c) -> initCause(new CustomFailure(m), c)),
    CUSTOM_ERROR((m, c) -> initCause(new CustomError(m), c)),
    MESSAGE_THROWS((m, c) -> initCause(new MessageThrows(), c)),
    SELF_CAUSED((m, c) -> new SelfCaused(m));

    private final transient BiFunction<String, Throwable, Throwable> make;

    Kind(BiFunction<String, Throwable, Throwable> make) {
      this.make = make;
    }

    private static Throwable initCause(Throwable t, Throwable cause) {
      return cause == null ? t : t.initCause(cause);
    }
  }

  /** How the innermost throwable of a chain points back into it. */
  enum Cycle {
    /** It does not: the chain ends. */
    NONE,
    /** Its cause is set with {@link Throwable#initCause} to a throwable further out. */
    INIT_CAUSE,
    /** It overrides {@link Throwable#getCause} to return a throwable further out, or itself. */
    GET_CAUSE
  }

  /** One throwable in a chain. */
  record Link(Kind kind, String message) {
    @Override
    public String toString() {
      String shown =
          message == null
              ? "null"
              : message.length() > 40
                  ? "'" + message.substring(0, 40) + "…' (" + message.length() + " chars)"
                  : "'" + message + "'";
      return kind + "(" + shown + ")";
    }
  }

  /**
   * A chain of throwables, outermost first, and how its end loops back ({@code target} is an index
   * into the chain).
   */
  record Recipe(List<Link> links, Cycle cycle, int target) {

    Throwable build() {
      Throwable[] built = new Throwable[links.size()];
      Throwable cause = null;
      for (int i = links.size() - 1; i >= 0; i--) {
        Link link = links.get(i);
        boolean innermost = i == links.size() - 1;
        if (innermost && cycle == Cycle.INIT_CAUSE) {
          built[i] = new RuntimeException(link.message());
        } else if (innermost && cycle == Cycle.GET_CAUSE) {
          built[i] = new Loop(link.message());
        } else {
          built[i] = link.kind().make.apply(link.message(), cause);
        }
        cause = built[i];
      }
      Throwable innermost = built[built.length - 1];
      int to = Math.min(target, built.length - 1);
      if (cycle == Cycle.INIT_CAUSE && to < built.length - 1) {
        innermost.initCause(built[to]);
      } else if (cycle == Cycle.GET_CAUSE) {
        ((Loop) innermost).next = built[to];
      }
      return built[0];
    }
  }

  @Provide
  Arbitrary<Recipe> failures() {
    Arbitrary<Link> links =
        Combinators.combine(Arbitraries.of(Kind.class), messages()).as(Link::new);
    Arbitrary<List<Link>> chains =
        Arbitraries.oneOf(
            links.list().ofMinSize(1).ofMaxSize(4),
            links.list().ofMinSize(1).ofMaxSize(ErrorClassifier.MAX_CAUSE_DEPTH + 8),
            links.list().ofMinSize(ErrorClassifier.MAX_CAUSE_DEPTH).ofMaxSize(80));
    return Combinators.combine(
            chains, Arbitraries.of(Cycle.class), Arbitraries.integers().between(0, 80))
        .as(Recipe::new);
  }

  /** Messages: null, empty, ordinary, with NUL, with stack-trace-like text, and huge ones. */
  @Provide
  Arbitrary<String> messages() {
    return Arbitraries.frequencyOf(
            Tuple.of(5, details()),
            Tuple.of(1, Arbitraries.just("line one\n\tat com.example.Fake.method(Fake.java:1)")))
        .injectNull(0.15);
  }

  /** Texts that are never null: empty, any chars (NUL included), and longer than any limit. */
  @Provide
  Arbitrary<String> details() {
    return Arbitraries.frequencyOf(
        Tuple.of(1, Arbitraries.just("")),
        Tuple.of(4, Arbitraries.strings().ofMaxLength(30)),
        Tuple.of(
            2,
            Arbitraries.strings()
                .withChars('\u0000', 'a', '\uFFFF', '\uD800', ' ')
                .ofMaxLength(30)),
        Tuple.of(
            1,
            Arbitraries.integers()
                .between(
                    ErrorClassifier.MAX_MESSAGE_LENGTH - 40,
                    ErrorClassifier.MAX_MESSAGE_LENGTH + 40)
                .map(n -> "m".repeat(n - 1) + "\u0000")),
        Tuple.of(
            1, Arbitraries.integers().between(5_000, 200_000).map(n -> "\u0000x".repeat(n / 2))));
  }

  // ---------------------------------------------------------------------------------------------
  // Host mappings

  /** Exception classes a host might map: defaults, their relatives and the custom ones below. */
  private static final List<Class<? extends Throwable>> MAPPABLE =
      List.of(
          Throwable.class,
          Exception.class,
          Error.class,
          RuntimeException.class,
          IllegalStateException.class,
          IOException.class,
          SocketException.class,
          ConnectException.class,
          SocketTimeoutException.class,
          UncheckedIOException.class,
          JsonProcessingException.class,
          JsonParseException.class,
          TimeoutException.class,
          OutOfMemoryError.class,
          VirtualMachineError.class,
          CustomFailure.class,
          CustomError.class,
          CustomIoFailure.class,
          MessageThrows.class,
          SelfCaused.class,
          Loop.class);

  /**
   * A host's registrations, applied in order to {@link ErrorClassifier#builder()}.
   *
   * @param operations each one a code, an exception or an exit-code mapping
   * @param unknownCodesRetryable the setting of the same name
   */
  record HostClassifier(List<Mapping> operations, boolean unknownCodesRetryable) {

    ErrorClassifier build() {
      ErrorClassifier.Builder builder =
          ErrorClassifier.builder().unknownCodesRetryable(unknownCodesRetryable);
      for (Mapping m : operations) {
        if (m.exception() != null) {
          builder.exception(m.exception(), m.code());
        } else if (m.exitCode() != 0) {
          builder.exitCode(m.exitCode(), m.code());
        } else {
          builder.code(m.code(), m.retryable());
        }
      }
      return builder.build();
    }

    /** The exception mappings the classifier should hold: the defaults, then these in order. */
    Map<Class<? extends Throwable>, String> exceptionMappings() {
      Map<Class<? extends Throwable>, String> map = new LinkedHashMap<>();
      map.put(JsonProcessingException.class, ErrorCodes.INVALID_WORK_ORDER);
      map.put(IOException.class, ErrorCodes.NETWORK_ERROR);
      map.put(TimeoutException.class, ErrorCodes.TIMEOUT);
      map.put(OutOfMemoryError.class, ErrorCodes.OOM_KILLED);
      operations.stream()
          .filter(m -> m.exception() != null)
          .forEach(m -> map.put(m.exception(), m.code()));
      return map;
    }

    Map<Integer, String> exitMappings() {
      Map<Integer, String> map = new LinkedHashMap<>();
      map.put(137, ErrorCodes.OOM_KILLED);
      operations.stream()
          .filter(m -> m.exception() == null && m.exitCode() != 0)
          .forEach(m -> map.put(m.exitCode(), m.code()));
      return map;
    }

    Map<String, Boolean> codeMappings() {
      Map<String, Boolean> map = new LinkedHashMap<>();
      operations.stream()
          .filter(m -> m.exception() == null && m.exitCode() == 0)
          .forEach(m -> map.put(m.code(), m.retryable()));
      return map;
    }
  }

  /**
   * One registration: an exception mapping when {@code exception} is set, else an exit-code mapping
   * when {@code exitCode} is not 0, else a code's retryability.
   */
  record Mapping(
      Class<? extends Throwable> exception, int exitCode, String code, boolean retryable) {
    @Override
    public String toString() {
      if (exception != null) {
        return "exception(" + exception.getSimpleName() + ", " + code + ")";
      }
      return exitCode != 0
          ? "exitCode(" + exitCode + ", " + code + ")"
          : "code(" + code + ", " + retryable + ")";
    }
  }

  @Provide
  Arbitrary<HostClassifier> hostClassifiers() {
    Arbitrary<String> codes = codes();
    Arbitrary<Mapping> exceptions =
        Combinators.combine(Arbitraries.of(MAPPABLE), codes)
            .as((type, code) -> new Mapping(type, 0, code, false));
    Arbitrary<Mapping> exits =
        Combinators.combine(
                Arbitraries.oneOf(
                    Arbitraries.integers().filter(i -> i != 0),
                    Arbitraries.of(1, 2, 126, 127, 137, 139, 143, 255, -1)),
                codes)
            .as((exit, code) -> new Mapping(null, exit, code, false));
    Arbitrary<Mapping> retryability =
        Combinators.combine(codes, Arbitraries.of(true, false))
            .as((code, retryable) -> new Mapping(null, 0, code, retryable));
    return Combinators.combine(
            Arbitraries.oneOf(exceptions, exits, retryability).list().ofMaxSize(12),
            Arbitraries.of(true, false))
        .as(HostClassifier::new);
  }

  /** Valid code names: the built-in codes and arbitrary printable names up to the length limit. */
  private static Arbitrary<String> codes() {
    List<String> builtIn = new ArrayList<>(ErrorCodes.RETRYABLE_BY_DEFAULT);
    builtIn.addAll(ErrorCodes.FATAL_BY_DEFAULT);
    builtIn.sort(null);
    return Arbitraries.oneOf(
        Arbitraries.of(builtIn),
        Arbitraries.strings().withCharRange('A', 'Z').withChars('_').ofMinLength(1).ofMaxLength(20),
        Arbitraries.strings()
            .ofMinLength(1)
            .ofMaxLength(Text.MAX_NAME_LENGTH)
            .filter(s -> !s.isBlank() && s.chars().noneMatch(Character::isISOControl)));
  }

  // ---------------------------------------------------------------------------------------------
  // Custom throwables

  static final class CustomFailure extends Exception {
    private static final long serialVersionUID = 1L;

    CustomFailure(String message) {
      super(message);
    }
  }

  static final class CustomError extends Error {
    private static final long serialVersionUID = 1L;

    CustomError(String message) {
      super(message);
    }
  }

  static final class CustomIoFailure extends IOException {
    private static final long serialVersionUID = 1L;

    CustomIoFailure(String message) {
      super(message);
    }
  }

  /** A failure whose message cannot be computed. */
  static final class MessageThrows extends RuntimeException {
    private static final long serialVersionUID = 1L;

    @Override
    public String getMessage() {
      throw new IllegalStateException("getMessage failed");
    }

    @Override
    public String toString() {
      return getClass().getName();
    }
  }

  /** A failure that is its own cause. */
  static final class SelfCaused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SelfCaused(String message) {
      super(message);
    }

    @Override
    public synchronized Throwable getCause() {
      return this;
    }
  }

  /** A failure whose cause is whatever {@link #next} points to, set after construction. */
  static final class Loop extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private transient Throwable next;

    Loop(String message) {
      super(message);
    }

    @Override
    public synchronized Throwable getCause() {
      return next;
    }
  }
}
