package dev.workgate.admin;

import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.observability.WorkgateHttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code serve}: the HTTP endpoint over the store alone ({@link
 * WorkgateHttpServer#builder(WorkOrderStore)}), until the process is interrupted.
 *
 * <p>The token never comes from the command line, where {@code ps} shows it to every user of the
 * machine: it is read from {@code --token-file} or from {@value #TOKEN_ENV}. Usage errors (a bad
 * port, an unreadable or short token, a non-loopback address without a token) are reported before
 * the store is opened, so nothing is started.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Serves the store over HTTP until interrupted (Ctrl-C): /metrics, /health/live,"
          + " /health/ready, /api/queue/stats, /api/work-orders/{id}[/timeline], /api/audit and"
          + " POST /api/work-orders/{id}/cancel, as a node's endpoint does, without a node.",
      "Without a node there are no slots, pressure, executions or scheduler in the stats and"
          + " only the store's gauges in /metrics; cancelling a running work order records a"
          + " request that its owner node acts on at its next lease renewal.",
      "Loopback only unless a token is given. The token is read from --token-file or from"
          + " $WORKGATE_HTTP_TOKEN, never from the command line; with a token every route but"
          + " the health probes needs 'Authorization: Bearer <token>', and cancel needs one.",
      "Without a token the store is opened read-only (a read-only copy serves too); with one,"
          + " as an existing store that cancel writes to. Neither ever creates a store."
    })
final class ServeCommand implements Callable<Integer> {
  /** The environment variable a token may come from when no file is given. */
  static final String TOKEN_ENV = "WORKGATE_HTTP_TOKEN";

  /** The most request threads: a few operators and scrapers, not a public web server. */
  static final int MAX_THREADS = 64;

  @ParentCommand WorkgateAdmin admin;
  @Spec CommandSpec spec;

  @Option(
      names = "--bind",
      paramLabel = "<address>",
      defaultValue = WorkgateHttpServer.DEFAULT_BIND_ADDRESS,
      description =
          "The address to listen on. Any but a loopback address needs a token."
              + " Default: ${DEFAULT-VALUE}.")
  String bind;

  @Option(
      names = "--port",
      paramLabel = "<port>",
      defaultValue = "" + WorkgateHttpServer.DEFAULT_PORT,
      description = "The port, 0 to 65535; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(
      names = "--token-file",
      paramLabel = "<file>",
      description =
          "A file holding the bearer token (at least "
              + WorkgateHttpServer.MIN_TOKEN_LENGTH
              + " printable characters; surrounding white space is ignored). Default: the"
              + " token in $"
              + TOKEN_ENV
              + ", else none.")
  Path tokenFile;

  @Option(
      names = "--threads",
      paramLabel = "<n>",
      defaultValue = "" + WorkgateHttpServer.DEFAULT_THREADS,
      description = "Request threads, 1 to " + MAX_THREADS + ". Default: ${DEFAULT-VALUE}.")
  int threads;

  @Override
  public Integer call() throws InterruptedException {
    if (port < 0 || port > 65_535) {
      throw usage("--port must be within 0..65535, got " + port);
    }
    if (threads < 1 || threads > MAX_THREADS) {
      throw usage("--threads must be within 1.." + MAX_THREADS + ", got " + threads);
    }
    String token = token();
    InetAddress address;
    try {
      address = InetAddress.getByName(bind);
    } catch (UnknownHostException e) {
      throw usage("--bind " + bind + " cannot be resolved");
    }
    if (token == null && !address.isLoopbackAddress()) {
      throw usage(
          "refusing to serve on "
              + bind
              + " without a token: anyone who can reach it could read work orders. Give"
              + " --token-file <file> or set "
              + TOKEN_ENV
              + ", or bind a loopback address such as 127.0.0.1");
    }
    String location = admin.displayLocation();
    // Cancel needs a token; without one nothing is written, so the store is opened read-only.
    WorkOrderStore store = admin.openStore(token == null ? OpenMode.READ_ONLY : OpenMode.EXISTING);
    WorkgateHttpServer server;
    try {
      WorkgateHttpServer.Builder b =
          WorkgateHttpServer.builder(store)
              .bindAddress(bind)
              .port(port)
              .threads(threads)
              .clock(admin.clock());
      if (token != null) {
        b.token(token);
      }
      server = b.build();
    } catch (IllegalArgumentException e) {
      store.close();
      throw usage(e.getMessage()); // the builder's messages never repeat the token
    } catch (UncheckedIOException e) {
      store.close();
      throw new CliException(e.getMessage()); // a port in use, an address not of this machine
    } catch (RuntimeException | Error e) {
      store.close();
      throw e;
    }
    AtomicBoolean stopped = new AtomicBoolean();
    Runnable stop =
        () -> {
          if (stopped.compareAndSet(false, true)) {
            try {
              server.close();
            } finally {
              store.close();
            }
          }
        };
    try {
      spec.commandLine()
          .getOut()
          .println(
              "serving " + location + " at " + url(address, server.port()) + " (Ctrl-C stops)");
      admin.lifetime().await(server, stop);
    } finally {
      stop.run();
    }
    return WorkgateAdmin.EXIT_OK;
  }

  /** The token from the file, else from the environment, trimmed; null if neither gives one. */
  private String token() {
    String token;
    String source;
    if (tokenFile != null) {
      source = "--token-file " + tokenFile;
      try {
        token = Files.readString(tokenFile, StandardCharsets.UTF_8);
      } catch (IOException | SecurityException e) {
        throw usage(source + " cannot be read (" + e.getClass().getSimpleName() + ")");
      }
    } else {
      token = admin.environment(TOKEN_ENV);
      if (token == null) {
        return null;
      }
      source = "$" + TOKEN_ENV;
    }
    token = token.strip();
    if (token.length() < WorkgateHttpServer.MIN_TOKEN_LENGTH) {
      throw usage(
          "the token in "
              + source
              + " has "
              + token.length()
              + " characters; at least "
              + WorkgateHttpServer.MIN_TOKEN_LENGTH
              + " are needed");
    }
    return token;
  }

  private static String url(InetAddress address, int port) {
    String host = address.getHostAddress();
    if (host.indexOf(':') >= 0) {
      int zone = host.indexOf('%');
      host = "[" + (zone < 0 ? host : host.substring(0, zone)) + "]";
    }
    return "http://" + host + ":" + port + "/";
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  /** How long {@code serve} serves once it has started. */
  @FunctionalInterface
  interface Lifetime {
    /**
     * Returns when serving should end; the command then runs {@code stop} (it may also be run
     * before, by whoever ends serving).
     *
     * @param server the running endpoint
     * @param stop closes the endpoint and the store; idempotent
     * @throws InterruptedException if the waiting thread is interrupted
     */
    void await(WorkgateHttpServer server, Runnable stop) throws InterruptedException;

    /**
     * Until the process is told to stop (Ctrl-C, SIGTERM): a shutdown hook closes the endpoint and
     * the store, and the JVM exits once it has. Never returns normally.
     *
     * @return the lifetime of the {@code workgate-admin} process
     */
    static Lifetime untilShutdown() {
      return (server, stop) -> {
        Runtime.getRuntime().addShutdownHook(new Thread(stop, "workgate-admin-serve-stop"));
        new CountDownLatch(1).await();
      };
    }
  }
}
