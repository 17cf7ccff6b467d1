package dev.workgate.admin;

import dev.workgate.core.store.PostgresOptions;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
import org.postgresql.ds.PGSimpleDataSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code workgate-admin}: inspects and changes the work orders of a Workgate store from a shell.
 *
 * <p>Every command opens the store named by {@code --store} (a SQLite file or a {@code
 * jdbc:postgresql://} URL), does its work and closes it ({@code serve} keeps it open until it is
 * stopped). It never creates a store: a missing SQLite file or a PostgreSQL schema without Workgate
 * tables is an error. Exit codes: 0 success, 1 a runtime error (an unknown work order, an
 * unreachable store), 2 a usage error, 3 {@code verify} found a projection that differs from the
 * log.
 */
@Command(
    name = "workgate-admin",
    mixinStandardHelpOptions = true,
    versionProvider = WorkgateAdmin.BuildVersion.class,
    description = "Inspects and changes the work orders of a Workgate store.",
    subcommands = {
      StatusCommand.class,
      ListCommand.class,
      ShowCommand.class,
      QueuesCommand.class,
      BatchCommand.class,
      CancelCommand.class,
      ResubmitCommand.class,
      PauseCommand.class,
      ResumeCommand.class,
      PurgeCommand.class,
      VerifyCommand.class,
      BackupCommand.class,
      ServeCommand.class
    })
public final class WorkgateAdmin implements Callable<Integer> {
  static final int EXIT_OK = 0;
  static final int EXIT_FAILURE = 1;
  static final int EXIT_USAGE = 2;
  static final int EXIT_MISMATCH = 3;

  /** Where a store is looked for when neither {@code --store} nor the environment names one. */
  static final String DEFAULT_STORE = "./workgate-data/workgate.db";

  private static final String POSTGRES_PREFIX = "jdbc:postgresql:";

  @Option(
      names = "--store",
      scope = ScopeType.INHERIT,
      paramLabel = "<sqlite-file | jdbc:postgresql://…>",
      defaultValue = "${env:WORKGATE_STORE:-" + DEFAULT_STORE + "}",
      description =
          "The store: a SQLite file (never created) or a PostgreSQL JDBC URL."
              + " Default: $WORKGATE_STORE, else "
              + DEFAULT_STORE
              + ".")
  String store;

  @Option(
      names = "--schema",
      scope = ScopeType.INHERIT,
      description = "PostgreSQL only: the schema of the Workgate tables. Default: public.")
  String schema;

  @Option(
      names = "--table-prefix",
      scope = ScopeType.INHERIT,
      defaultValue = "workgate_",
      description = "The prefix of the Workgate tables. Default: ${DEFAULT-VALUE}.")
  String tablePrefix;

  @Option(
      names = {"-v", "--verbose"},
      scope = ScopeType.INHERIT,
      description = "Print the stack trace of a runtime error.")
  boolean verbose;

  @Spec CommandSpec spec;

  private final Clock clock;
  private final ServeCommand.Lifetime lifetime;
  private final UnaryOperator<String> environment;

  /** The admin tool over the system clock, the process's environment and lifetime. */
  public WorkgateAdmin() {
    this(Clock.systemUTC(), ServeCommand.Lifetime.untilShutdown(), System::getenv);
  }

  /**
   * The admin tool with what tests replace.
   *
   * @param clock the clock
   * @param lifetime how long {@code serve} serves
   * @param environment the environment variables {@code serve} reads ({@code System::getenv})
   */
  WorkgateAdmin(Clock clock, ServeCommand.Lifetime lifetime, UnaryOperator<String> environment) {
    this.clock = clock;
    this.lifetime = lifetime;
    this.environment = environment;
  }

  /**
   * Runs one command and exits with its code.
   *
   * @param args the command line
   */
  public static void main(String... args) {
    System.exit(run(System.out, System.err, args));
  }

  /**
   * Runs one command, writing to the given streams.
   *
   * @param out where results go
   * @param err where errors go
   * @param args the command line
   * @return the exit code
   */
  static int run(PrintStream out, PrintStream err, String... args) {
    return run(Clock.systemUTC(), out, err, args);
  }

  static int run(Clock clock, PrintStream out, PrintStream err, String... args) {
    return run(
        new WorkgateAdmin(clock, ServeCommand.Lifetime.untilShutdown(), System::getenv),
        out,
        err,
        args);
  }

  static int run(WorkgateAdmin admin, PrintStream out, PrintStream err, String... args) {
    CommandLine cl = commandLine(admin, out, err);
    int code = cl.execute(args);
    cl.getOut().flush();
    cl.getErr().flush();
    return code;
  }

  static CommandLine commandLine(WorkgateAdmin admin, PrintStream out, PrintStream err) {
    CommandLine cl = new CommandLine(admin);
    cl.setOut(new PrintWriter(out, true, Charset.defaultCharset()));
    cl.setErr(new PrintWriter(err, true, Charset.defaultCharset()));
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          PrintWriter e = cmd.getErr();
          if (admin.verbose) {
            ex.printStackTrace(e);
          }
          e.println("workgate-admin: " + message(ex));
          e.flush();
          return ex instanceof CliException c ? c.exitCode() : EXIT_FAILURE;
        });
    cl.setParameterExceptionHandler(
        (ex, args) -> {
          CommandLine cmd = ex.getCommandLine();
          PrintWriter e = cmd.getErr();
          e.println(
              "workgate-admin: "
                  + ex.getMessage()
                  + " (see '"
                  + cmd.getCommandSpec().qualifiedName()
                  + " --help')");
          e.flush();
          return EXIT_USAGE;
        });
    return cl;
  }

  private static String message(Throwable ex) {
    String m = ex.getMessage();
    if (ex instanceof CliException || ex instanceof StoreException) {
      return m;
    }
    if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException) {
      return m == null ? ex.getClass().getSimpleName() : m;
    }
    return ex.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  /**
   * The version {@code -V} prints: the project version the build wrote into {@code
   * version.properties}.
   */
  static final class BuildVersion implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"workgate-admin " + version()};
    }

    /** The project version this jar was built from, {@code unknown} if the build left none. */
    static String version() {
      Properties p = new Properties();
      try (InputStream in = WorkgateAdmin.class.getResourceAsStream("version.properties")) {
        if (in != null) {
          p.load(in);
        }
      } catch (IOException e) {
        return "unknown";
      }
      String v = p.getProperty("version", "").trim();
      return v.isEmpty() || v.startsWith("${") ? "unknown" : v;
    }
  }

  @Override
  public Integer call() {
    throw new ParameterException(
        spec.commandLine(), "name a command: " + String.join(", ", spec.subcommands().keySet()));
  }

  Clock clock() {
    return clock;
  }

  ServeCommand.Lifetime lifetime() {
    return lifetime;
  }

  /** An environment variable, null if unset. */
  String environment(String name) {
    return environment.apply(name);
  }

  /**
   * The store as it may be shown: a SQLite file's absolute path, or a PostgreSQL URL without its
   * user information and parameters, where a password can stand, and with the schema if one is
   * given.
   */
  String displayLocation() {
    String location = location();
    if (!isPostgres(location)) {
      return sqliteFile(location).toAbsolutePath().normalize().toString();
    }
    return withoutSecrets(location) + (schema == null ? "" : " (schema " + schema + ")");
  }

  /** {@code jdbc:postgresql://user:pw@host:5432/db?password=pw} to {@code …//host:5432/db}. */
  static String withoutSecrets(String url) {
    int query = url.indexOf('?');
    String base = query < 0 ? url : url.substring(0, query);
    int hosts = base.indexOf("//");
    if (hosts >= 0) {
      int path = base.indexOf('/', hosts + 2);
      int at = base.lastIndexOf('@', path < 0 ? base.length() : path);
      if (at > hosts) {
        base = base.substring(0, hosts + 2) + base.substring(at + 1);
      }
    }
    return base;
  }

  /**
   * Opens the store that {@code --store} names, never creating one: read commands open it {@link
   * OpenMode#READ_ONLY} (so they work on a read-only copy and never write), commands that change
   * work orders {@link OpenMode#EXISTING}. Either way nothing is created, upgraded or switched to
   * another journal mode, and a file or schema that holds no Workgate store under the table prefix
   * is refused, unchanged.
   *
   * @param mode {@link OpenMode#READ_ONLY} or {@link OpenMode#EXISTING}
   * @return the open store; the caller closes it
   * @throws CliException if there is no store there or it cannot be opened
   */
  WorkOrderStore openStore(OpenMode mode) {
    if (mode == OpenMode.CREATE_IF_MISSING) {
      throw new IllegalArgumentException("workgate-admin never creates a store");
    }
    String location = location();
    if (isPostgres(location)) {
      return openPostgres(location, mode);
    }
    Path file = sqliteFile(location);
    SqliteOptions options;
    try {
      options =
          SqliteOptions.builder()
              .tablePrefix(tablePrefix)
              .openMode(mode)
              .readConnections(1)
              .build();
    } catch (IllegalArgumentException e) {
      throw new CliException(e.getMessage(), EXIT_USAGE);
    }
    return Stores.sqlite(file, options);
  }

  /** The trimmed {@code --store}, never empty. */
  String location() {
    String location = store.trim();
    if (location.isEmpty()) {
      throw new CliException("--store is empty: give a SQLite file or a jdbc:postgresql:// URL");
    }
    return location;
  }

  static boolean isPostgres(String location) {
    return location.startsWith(POSTGRES_PREFIX);
  }

  /**
   * The SQLite file that {@code --store} names, which must exist.
   *
   * @throws CliException if it names another JDBC URL, a missing file or a directory
   */
  Path sqliteFile(String location) {
    if (location.startsWith("jdbc:")) {
      throw new CliException(
          "unsupported store URL: only jdbc:postgresql:// URLs and SQLite file paths are stores");
    }
    if (schema != null) {
      throw new CliException("--schema applies to PostgreSQL stores only, not to a SQLite file");
    }
    Path file;
    try {
      file = Path.of(location);
    } catch (InvalidPathException e) {
      throw new CliException("--store is not a valid path: " + e.getMessage());
    }
    if (!Files.exists(file)) {
      throw new CliException(
          "no SQLite store at "
              + file.toAbsolutePath().normalize()
              + ": give --store or set WORKGATE_STORE (workgate-admin never creates a store)");
    }
    if (!Files.isRegularFile(file)) {
      throw new CliException("--store " + file + " is not a file");
    }
    return file;
  }

  String tablePrefix() {
    return tablePrefix;
  }

  private WorkOrderStore openPostgres(String url, OpenMode mode) {
    PostgresOptions options;
    try {
      PostgresOptions.Builder b =
          PostgresOptions.builder().tablePrefix(tablePrefix).notifications(false).openMode(mode);
      if (schema != null) {
        b.schema(schema);
      }
      options = b.build();
    } catch (IllegalArgumentException e) {
      throw new CliException(e.getMessage(), EXIT_USAGE);
    }
    PGSimpleDataSource ds = new PGSimpleDataSource();
    try {
      ds.setURL(url);
    } catch (RuntimeException e) {
      // The driver's message would repeat the URL, which may hold a password.
      throw new CliException("malformed PostgreSQL URL: expected jdbc:postgresql://host:port/db");
    }
    ds.setApplicationName("workgate-admin");
    ds.setConnectTimeout(10);
    ds.setSocketTimeout(300);
    if (mode == OpenMode.READ_ONLY) {
      // Every connection the store takes is read-only on the server's side, too.
      ds.setReadOnly(true);
      ds.setReadOnlyMode("always");
    }
    return Stores.postgres(ds, options);
  }
}
