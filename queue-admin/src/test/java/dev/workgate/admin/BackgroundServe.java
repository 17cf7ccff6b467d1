package dev.workgate.admin;

import dev.workgate.observability.WorkgateHttpServer;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.awaitility.Awaitility;

/**
 * A {@code serve} run on a thread of its own, serving until the test stops it: the test's {@link
 * ServeCommand.Lifetime} in place of the process's.
 */
final class BackgroundServe implements ServeCommand.Lifetime, AutoCloseable {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final CountDownLatch serving = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);
  private final ExecutorService thread = Executors.newSingleThreadExecutor();
  private final Future<CliRun> run;
  private volatile WorkgateHttpServer server;

  private BackgroundServe(UnaryOperator<String> environment, String... args) {
    WorkgateAdmin admin = new WorkgateAdmin(Clock.systemUTC(), this, environment);
    run = thread.submit(() -> CliRun.run(admin, args));
  }

  /** Runs {@code workgate-admin <args>} with an empty environment. */
  static BackgroundServe start(String... args) {
    return start(name -> null, args);
  }

  static BackgroundServe start(UnaryOperator<String> environment, String... args) {
    return new BackgroundServe(environment, args);
  }

  @Override
  public void await(WorkgateHttpServer running, Runnable stop) throws InterruptedException {
    server = running;
    serving.countDown();
    if (!release.await(2, TimeUnit.MINUTES)) {
      throw new IllegalStateException("the test never stopped serve");
    }
  }

  /** Waits until it serves and gives its port; fails with the run if it ended instead. */
  int port() throws Exception {
    Awaitility.await().atMost(WAIT).until(() -> serving.getCount() == 0 || run.isDone());
    if (server == null) {
      throw new AssertionError("serve ended without serving: " + run.get());
    }
    return server.port();
  }

  /** Whether it ever reached serving. */
  boolean served() {
    return serving.getCount() == 0;
  }

  /** Stops serving and gives the run. */
  CliRun stop() throws InterruptedException, ExecutionException, TimeoutException {
    release.countDown();
    return run.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  /** The run of a command that ends by itself (an error before serving). */
  CliRun ended() throws InterruptedException, ExecutionException, TimeoutException {
    return run.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    release.countDown();
    thread.shutdownNow();
  }
}
