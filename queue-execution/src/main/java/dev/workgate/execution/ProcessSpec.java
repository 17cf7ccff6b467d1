package dev.workgate.execution;

import dev.workgate.execution.internal.SandboxPaths;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a {@link ProcessSandboxProvider} runs for one attempt: the command, its environment, its
 * secrets and its limits. A recipe builds one from the work order's payload. Immutable and
 * thread-safe.
 *
 * <ul>
 *   <li><b>Command.</b> An argument vector, executed directly and never through a shell, so that
 *       payload text cannot inject shell syntax. {@link Builder#shell(String)} runs {@code /bin/sh
 *       -c script} for recipes that really want a shell. A bare executable name is looked up on the
 *       {@code PATH} the spec gives the child, or on the JVM's {@code PATH} if it gives none.
 *   <li><b>Environment.</b> Cleared: the child sees only the variables set with {@link Builder#env}
 *       and those copied from this JVM with {@link Builder#inheritEnv} (not even {@code PATH} or
 *       {@code HOME} unless listed), plus {@value ProcessSandboxProvider#SANDBOX_ENV}, which marks
 *       the sandbox's processes so that they can be found and killed, and {@value
 *       ProcessSandboxProvider#FENCING_TOKEN_ENV}, the attempt's fencing token.
 *   <li><b>Secrets.</b> Written to the child's standard input, one {@code NAME=value} line each in
 *       the order given, after which standard input is closed. They are never put in the
 *       environment or on the command line (both readable by other processes of the same user
 *       through {@code /proc}), and {@link #toString()} masks them. Their values are replaced by
 *       {@code ***} in the process's output as it is read, before the file and the tail are cut, so
 *       neither the files nor the result nor a failure's message holds them.
 *   <li><b>Limits.</b> Each of stdout and stderr is written to a file up to {@link
 *       #outputLimitBytes()}; the result keeps the last {@link #tailBytes()} of each. An optional
 *       address-space limit ({@link #memoryLimitMb()}) is applied with {@code prlimit --as} where
 *       {@code prlimit} exists (util-linux); where it does not, the provider logs a warning once
 *       and runs the process without the limit.
 * </ul>
 *
 * <pre>{@code
 * ProcessSpec spec = ProcessSpec.builder()
 *     .command("agent", "--task", payload.path("task").asText())
 *     .inheritEnv("PATH", "HOME")
 *     .env("LANG", "C.UTF-8")
 *     .secret("API_TOKEN", token)
 *     .memoryLimitMb(4096)
 *     .build();
 * }</pre>
 */
public final class ProcessSpec {

  /**
   * Ten MiB per stream: enough for the log of a long agent run, small enough that a runaway process
   * cannot fill the disk.
   */
  public static final long DEFAULT_OUTPUT_LIMIT_BYTES = 10L * 1024 * 1024;

  /**
   * Four KiB of each stream in the result: the last lines, where errors usually are, without
   * bloating the event log.
   */
  public static final int DEFAULT_TAIL_BYTES = 4 * 1024;

  /** The largest output limit per stream: 1 TiB. */
  public static final long MAX_OUTPUT_LIMIT_BYTES = 1L << 40;

  /** The largest tail kept in a result: 1 MiB, since results are stored in the event log. */
  public static final int MAX_TAIL_BYTES = 1024 * 1024;

  /** The largest memory limit: 16 TiB, in MiB. */
  public static final long MAX_MEMORY_LIMIT_MB = 16L * 1024 * 1024;

  /** The shell {@link Builder#shell(String)} runs. */
  public static final String SHELL = "/bin/sh";

  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final String MASK = "***";

  private final List<String> command;
  private final boolean shell;
  private final Map<String, String> env;
  private final Set<String> inheritEnv;
  private final Map<String, String> secrets;
  private final String workingSubdirectory;
  private final long outputLimitBytes;
  private final int tailBytes;
  private final long memoryLimitMb;

  private ProcessSpec(Builder b) {
    this.shell = b.script != null;
    this.command = shell ? List.of(SHELL, "-c", b.script) : List.copyOf(b.command);
    this.env = Collections.unmodifiableMap(new LinkedHashMap<>(b.env));
    this.inheritEnv = Collections.unmodifiableSet(new LinkedHashSet<>(b.inheritEnv));
    this.secrets = Collections.unmodifiableMap(new LinkedHashMap<>(b.secrets));
    this.workingSubdirectory = b.workingSubdirectory;
    this.outputLimitBytes = b.outputLimitBytes;
    this.tailBytes = b.tailBytes;
    this.memoryLimitMb = b.memoryLimitMb;
  }

  /**
   * A builder with the default limits and no command.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The argument vector: the executable, then its arguments; {@code [/bin/sh, -c, script]} for a
   * shell spec.
   *
   * @return an immutable list of at least one element
   */
  public List<String> command() {
    return command;
  }

  /**
   * Whether the spec runs a shell script.
   *
   * @return true if built with {@link Builder#shell(String)}
   */
  public boolean shell() {
    return shell;
  }

  /**
   * The variables set explicitly, in the order set.
   *
   * @return an immutable map
   */
  public Map<String, String> env() {
    return env;
  }

  /**
   * The names of the variables copied from this JVM's environment when they are set there.
   *
   * @return an immutable set
   */
  public Set<String> inheritEnv() {
    return inheritEnv;
  }

  /**
   * The names of the secrets, in the order they are written to standard input. The values are not
   * public.
   *
   * @return an immutable set
   */
  public Set<String> secretNames() {
    return secrets.keySet();
  }

  /** The secrets with their values, for the sandbox that writes them. */
  Map<String, String> secrets() {
    return secrets;
  }

  /**
   * Where the process runs, relative to its sandbox directory.
   *
   * @return the relative path, or empty for the sandbox directory itself
   */
  public Optional<String> workingSubdirectory() {
    return Optional.ofNullable(workingSubdirectory);
  }

  /**
   * How many bytes of each of stdout and stderr are written to its file.
   *
   * @return from 0 to {@link #MAX_OUTPUT_LIMIT_BYTES}
   */
  public long outputLimitBytes() {
    return outputLimitBytes;
  }

  /**
   * How many bytes of the end of each of stdout and stderr the result keeps.
   *
   * @return from 0 to {@link #MAX_TAIL_BYTES}
   */
  public int tailBytes() {
    return tailBytes;
  }

  /**
   * The address-space limit of the process, in MiB.
   *
   * @return the limit, or empty for none
   */
  public OptionalLong memoryLimitMb() {
    return memoryLimitMb == 0 ? OptionalLong.empty() : OptionalLong.of(memoryLimitMb);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ProcessSpec p
        && p.command.equals(command)
        && p.shell == shell
        && p.env.equals(env)
        && p.inheritEnv.equals(inheritEnv)
        && p.secrets.equals(secrets)
        && Objects.equals(p.workingSubdirectory, workingSubdirectory)
        && p.outputLimitBytes == outputLimitBytes
        && p.tailBytes == tailBytes
        && p.memoryLimitMb == memoryLimitMb;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        command,
        shell,
        env,
        inheritEnv,
        secrets,
        workingSubdirectory,
        outputLimitBytes,
        tailBytes,
        memoryLimitMb);
  }

  /** Describes the spec with every secret value replaced by {@code ***}. */
  @Override
  public String toString() {
    List<String> masked = new ArrayList<>();
    secrets.keySet().forEach(name -> masked.add(name + "=" + MASK));
    return "ProcessSpec{command="
        + command
        + ", env="
        + env
        + ", inheritEnv="
        + inheritEnv
        + ", secrets="
        + masked
        + ", workingSubdirectory="
        + (workingSubdirectory == null ? "." : workingSubdirectory)
        + ", outputLimitBytes="
        + outputLimitBytes
        + ", tailBytes="
        + tailBytes
        + ", memoryLimitMb="
        + (memoryLimitMb == 0 ? "none" : memoryLimitMb)
        + "}";
  }

  /**
   * Builds a {@link ProcessSpec}. Setters reject a bad value at once with an {@link
   * IllegalArgumentException} that names the setting and the value (never a secret's value); {@link
   * #build()} rejects contradictory settings. Not thread-safe.
   */
  public static final class Builder {
    private List<String> command;
    private String script;
    private final Map<String, String> env = new LinkedHashMap<>();
    private final Set<String> inheritEnv = new LinkedHashSet<>();
    private final Map<String, String> secrets = new LinkedHashMap<>();
    private String workingSubdirectory;
    private long outputLimitBytes = DEFAULT_OUTPUT_LIMIT_BYTES;
    private int tailBytes = DEFAULT_TAIL_BYTES;
    private long memoryLimitMb;

    private Builder() {}

    /**
     * The program and its arguments, executed directly (no shell); replaces an earlier command.
     *
     * @param executable a bare name (looked up on the {@code PATH}) or a path
     * @param args the arguments, passed as they are
     * @return this builder
     */
    public Builder command(String executable, String... args) {
      Objects.requireNonNull(args, "command args must not be null");
      List<String> argv = new ArrayList<>(args.length + 1);
      argv.add(executable);
      argv.addAll(Arrays.asList(args));
      return command(argv);
    }

    /**
     * The argument vector, executable first, executed directly (no shell); replaces an earlier
     * command.
     *
     * @param argv at least the executable; no element null or containing a NUL character
     * @return this builder
     */
    public Builder command(List<String> argv) {
      Objects.requireNonNull(argv, "command must not be null");
      if (argv.isEmpty()) {
        throw new IllegalArgumentException("command must name an executable, got []");
      }
      for (int i = 0; i < argv.size(); i++) {
        String arg = argv.get(i);
        if (arg == null) {
          throw new IllegalArgumentException("command argument " + i + " must not be null");
        }
        if (arg.indexOf('\0') >= 0) {
          throw new IllegalArgumentException(
              "command argument " + i + " must not contain a NUL character");
        }
      }
      if (argv.get(0).isBlank()) {
        throw new IllegalArgumentException(
            "command executable must not be blank, got '" + argv.get(0) + "'");
      }
      this.command = List.copyOf(argv);
      return this;
    }

    /**
     * Runs {@code /bin/sh -c script} instead of a command. Only for recipes that need shell syntax;
     * never build the script from payload text.
     *
     * @param script the script; not blank, no NUL character
     * @return this builder
     */
    public Builder shell(String script) {
      if (script == null || script.isBlank() || script.indexOf('\0') >= 0) {
        throw new IllegalArgumentException(
            "shell script must be non-blank text without NUL characters, got "
                + (script == null ? "null" : "'" + script + "'"));
      }
      this.script = script;
      return this;
    }

    /**
     * Sets a variable of the child's environment; replaces an earlier value.
     *
     * @param name a portable name ({@code [A-Za-z_][A-Za-z0-9_]*}), neither {@value
     *     ProcessSandboxProvider#SANDBOX_ENV} nor {@value ProcessSandboxProvider#FENCING_TOKEN_ENV}
     * @param value any text without a NUL character
     * @return this builder
     */
    public Builder env(String name, String value) {
      requireVariableName(name, "env");
      if (value == null || value.indexOf('\0') >= 0) {
        throw new IllegalArgumentException(
            "env " + name + " must have a value without NUL characters, got " + value);
      }
      env.put(name, value);
      return this;
    }

    /**
     * Copies variables from this JVM's environment to the child's, when set here. Adds to earlier
     * calls; an {@link #env explicitly set} value wins.
     *
     * @param names portable names
     * @return this builder
     */
    public Builder inheritEnv(String... names) {
      Objects.requireNonNull(names, "inheritEnv names must not be null");
      for (String name : names) {
        requireVariableName(name, "inheritEnv");
      }
      inheritEnv.addAll(Arrays.asList(names));
      return this;
    }

    /**
     * A secret, written to the child's standard input as a line {@code NAME=value}; replaces an
     * earlier value of the same name.
     *
     * @param name a portable name
     * @param value the secret; no line break or NUL character (it must fit on one line)
     * @return this builder
     */
    public Builder secret(String name, String value) {
      requireVariableName(name, "secret");
      if (value == null
          || value.indexOf('\n') >= 0
          || value.indexOf('\r') >= 0
          || value.indexOf('\0') >= 0) {
        // The value is a secret: the message names the secret but never shows the value.
        throw new IllegalArgumentException(
            "secret "
                + name
                + " must have a value on one line without NUL characters (value not shown)");
      }
      secrets.put(name, value);
      return this;
    }

    /**
     * Runs the process in a directory below its sandbox directory, created with the sandbox.
     *
     * @param relative a relative path that stays inside the sandbox directory, e.g. {@code work}
     * @return this builder
     */
    public Builder workingSubdirectory(String relative) {
      if (relative == null
          || relative.isBlank()
          || relative.indexOf('\0') >= 0
          || Path.of(relative).isAbsolute()) {
        throw new IllegalArgumentException(
            "workingSubdirectory must be a relative path, got "
                + (relative == null ? "null" : "'" + relative + "'"));
      }
      try {
        // Checked against a stand-in root here, and against the real directory on creation.
        SandboxPaths.inside(Path.of("/sandbox"), relative);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "workingSubdirectory '" + relative + "' would leave the sandbox directory", e);
      }
      this.workingSubdirectory = relative;
      return this;
    }

    /**
     * How many bytes of each of stdout and stderr are written to its file; the rest is read and
     * discarded so that the process never blocks on a full pipe, and the file ends with {@code
     * [output truncated]}. Default {@link #DEFAULT_OUTPUT_LIMIT_BYTES}.
     *
     * @param bytes from 0 to {@link #MAX_OUTPUT_LIMIT_BYTES}
     * @return this builder
     */
    public Builder outputLimitBytes(long bytes) {
      if (bytes < 0 || bytes > MAX_OUTPUT_LIMIT_BYTES) {
        throw new IllegalArgumentException(
            "outputLimitBytes must be between 0 and " + MAX_OUTPUT_LIMIT_BYTES + ", got " + bytes);
      }
      this.outputLimitBytes = bytes;
      return this;
    }

    /**
     * How many bytes of the end of each stream the result keeps. Default {@link
     * #DEFAULT_TAIL_BYTES}.
     *
     * @param bytes from 0 to {@link #MAX_TAIL_BYTES}
     * @return this builder
     */
    public Builder tailBytes(int bytes) {
      if (bytes < 0 || bytes > MAX_TAIL_BYTES) {
        throw new IllegalArgumentException(
            "tailBytes must be between 0 and " + MAX_TAIL_BYTES + ", got " + bytes);
      }
      this.tailBytes = bytes;
      return this;
    }

    /**
     * Limits the process's address space ({@code RLIMIT_AS}, inherited by its children, each of
     * which gets the limit on its own) with {@code prlimit --as}. An allocation beyond it fails in
     * the process (e.g. {@code MemoryError}, {@code std::bad_alloc}); the process is not killed by
     * the kernel. Address space is not resident memory: runtimes that reserve large virtual ranges
     * (the JVM, Go, V8) need a generous limit. Without {@code prlimit} on this machine the limit is
     * not applied (a warning is logged once).
     *
     * @param mb from 1 to {@link #MAX_MEMORY_LIMIT_MB}
     * @return this builder
     */
    public Builder memoryLimitMb(long mb) {
      if (mb < 1 || mb > MAX_MEMORY_LIMIT_MB) {
        throw new IllegalArgumentException(
            "memoryLimitMb must be between 1 and " + MAX_MEMORY_LIMIT_MB + ", got " + mb);
      }
      this.memoryLimitMb = mb;
      return this;
    }

    /**
     * Builds the spec.
     *
     * @return the spec
     * @throws IllegalArgumentException if there is no command, both a command and a shell script,
     *     or a secret whose name is also an environment variable
     */
    public ProcessSpec build() {
      if (command == null && script == null) {
        throw new IllegalArgumentException("a process spec needs a command or a shell script");
      }
      if (command != null && script != null) {
        throw new IllegalArgumentException(
            "a process spec has either a command or a shell script, got command "
                + command
                + " and a shell script");
      }
      for (String name : secrets.keySet()) {
        if (env.containsKey(name) || inheritEnv.contains(name)) {
          throw new IllegalArgumentException(
              "secret "
                  + name
                  + " is also an environment variable; secrets never go into the environment");
        }
      }
      return new ProcessSpec(this);
    }

    private static void requireVariableName(String name, String setting) {
      if (name == null || !NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            setting
                + " name must match [A-Za-z_][A-Za-z0-9_]*, got "
                + (name == null ? "null" : "'" + name + "'"));
      }
      if (ProcessSandboxProvider.SANDBOX_ENV.equals(name)) {
        throw new IllegalArgumentException(
            setting + " name " + name + " is reserved for marking the sandbox's processes");
      }
      if (ProcessSandboxProvider.FENCING_TOKEN_ENV.equals(name)) {
        throw new IllegalArgumentException(
            setting + " name " + name + " is reserved for the attempt's fencing token");
      }
    }
  }
}
