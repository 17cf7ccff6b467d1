package dev.workgate.examples.host;

import dev.workgate.NodeView;
import dev.workgate.QueueStats;
import dev.workgate.TransitionListener.StateChange;
import dev.workgate.Workgate;
import dev.workgate.WorkgateClient;
import dev.workgate.admin.Formats;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderQuery.Page;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.execution.ProcessSandboxProvider;
import dev.workgate.observability.WorkgateHttpServer;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code workgate-demo}: a host application that embeds Workgate on its default, a SQLite file, and
 * runs agent-like work through it while you watch.
 *
 * <p>It registers a process-sandbox recipe ({@link AgentRecipe}: shell scripts that print progress,
 * take a few seconds, fail transiently with an exit code, hang past their timeout or fail for good)
 * and an in-process handler ({@link ReviewHandler}), submits a mix of work orders with mixed
 * priorities and resource requests ({@link DemoPlan}), shows live progress, serves the HTTP
 * endpoint on loopback, and ends with a summary and the timeline of a work order that failed and
 * then succeeded on retry. Work orders left unfinished by an earlier run (one stopped with Ctrl-C,
 * or killed) are picked up again and counted in. Every option can also be set by an environment
 * variable: {@code --max-concurrent} by {@code WORKGATE_MAX_CONCURRENT}, and so on; a flag wins.
 *
 * <p>Exit codes: 0 when every tracked work order ended, 1 on a runtime error or when the run made
 * no progress for too long, 2 on a usage error, 130 when interrupted.
 */
@Command(
    name = "workgate-demo",
    mixinStandardHelpOptions = true,
    version = "workgate-demo 0.1.0",
    sortOptions = false,
    description = {
      "Runs agent-like work orders through an embedded Workgate on a SQLite file and shows"
          + " their progress, then a summary and the timeline of one that failed and then"
          + " succeeded on retry.",
      "Every option can also be set by an environment variable: --max-concurrent by"
          + " WORKGATE_MAX_CONCURRENT, and so on; a flag wins."
    })
public final class WorkgateDemo implements Callable<Integer> {
  static final int EXIT_OK = 0;
  static final int EXIT_FAILURE = 1;
  static final int EXIT_USAGE = 2;
  static final int EXIT_INTERRUPTED = 130;

  /** The demo's node id: stable, so a restart recognises the sandboxes its previous life left. */
  static final String NODE_ID = "workgate-demo";

  static final String DEFAULT_DATA_DIR = "./workgate-data";

  @Option(
      names = "--work-orders",
      defaultValue = "40",
      description = "How many work orders to submit (0 to 100000). Default: ${DEFAULT-VALUE}.")
  int workOrders;

  @Option(
      names = "--max-concurrent",
      defaultValue = "4",
      description = "Slots: work orders running at once (1 to 64). Default: ${DEFAULT-VALUE}.")
  int maxConcurrent;

  @Option(
      names = "--memory-per-slot-mb",
      defaultValue = "256",
      description =
          "Memory charged per slot to work that declares none, in MiB. Default: ${DEFAULT-VALUE}.")
  long memoryPerSlotMb;

  @Option(
      names = "--execution-timeout",
      defaultValue = "20s",
      converter = DurationConverter.class,
      description = "How long one attempt may run before it is killed. Default: ${DEFAULT-VALUE}.")
  Duration executionTimeout;

  @Option(
      names = "--max-attempts",
      defaultValue = "3",
      description = "Attempts in all, the first included (1 to 20). Default: ${DEFAULT-VALUE}.")
  int maxAttempts;

  @Option(
      names = "--base-delay",
      defaultValue = "2s",
      converter = DurationConverter.class,
      description =
          "Delay before the first retry; it doubles per retry, with 10 %% jitter."
              + " Default: ${DEFAULT-VALUE}.")
  Duration baseDelay;

  @Option(
      names = "--poll-interval",
      defaultValue = "1s",
      converter = DurationConverter.class,
      description = "The scheduler's safety-net poll interval. Default: ${DEFAULT-VALUE}.")
  Duration pollInterval;

  @Option(
      names = "--stagger-delay",
      defaultValue = "200ms",
      converter = DurationConverter.class,
      description = "The least time between two starts. Default: ${DEFAULT-VALUE}.")
  Duration staggerDelay;

  @Option(
      names = "--data-dir",
      defaultValue = DEFAULT_DATA_DIR,
      description =
          "Where the SQLite file (workgate.db) and the sandboxes live. Default: ${DEFAULT-VALUE}.")
  Path dataDir;

  @Option(
      names = "--http-port",
      defaultValue = "9464",
      description =
          "The HTTP endpoint's port on 127.0.0.1; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
  int httpPort;

  @Option(names = "--no-http", description = "Serve no HTTP endpoint (and so no console).")
  boolean noHttp;

  @Option(
      names = "--stay",
      description =
          "After the summary, keep the node and its console up until Ctrl-C, to look around the"
              + " finished run, resubmit failed work and watch it run.")
  boolean stay;

  @Option(
      names = "--fast",
      description = "Scripted work takes tenths of a second instead of seconds (for CI).")
  boolean fast;

  @Option(
      names = "--seed",
      description = "The seed of the mix of work orders. Default: a random one, printed.")
  Long seed;

  @Option(
      names = "--progress",
      defaultValue = "auto",
      description =
          "How progress is shown: ${COMPLETION-CANDIDATES}. auto: a bar on a terminal, lines"
              + " otherwise. Default: ${DEFAULT-VALUE}.")
  ProgressDisplay.Mode progress;

  @Spec CommandSpec spec;

  private final PrintStream out;
  private final PrintStream err;
  private final Clock clock;
  private final boolean terminal;
  private final AtomicReference<Runnable> onStop = new AtomicReference<>();
  private volatile boolean interrupted;

  WorkgateDemo(PrintStream out, PrintStream err, Clock clock, boolean terminal) {
    this.out = out;
    this.err = err;
    this.clock = clock;
    this.terminal = terminal;
  }

  /**
   * Runs the demo and exits with its code. Ctrl-C stops it cleanly: running work is stopped and
   * recorded, and what did not end resumes on the next run.
   *
   * @param args the command line
   */
  public static void main(String... args) {
    WorkgateDemo demo =
        new WorkgateDemo(System.out, System.err, Clock.systemUTC(), System.console() != null);
    Thread main = Thread.currentThread();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  if (demo.stopFromHook()) {
                    try {
                      main.join(15_000);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }
                },
                "workgate-demo-shutdown"));
    int code = run(demo, System.getenv(), args);
    if (!demo.interrupted) {
      // During shutdown (Ctrl-C) System.exit would block; the hook waits for this thread instead.
      System.exit(code);
    }
  }

  /**
   * Runs the demo with the given environment.
   *
   * @param demo the demo
   * @param env the environment variables that may hold settings
   * @param args the command line
   * @return the exit code
   */
  static int run(WorkgateDemo demo, Map<String, String> env, String... args) {
    CommandLine cl = new CommandLine(demo);
    cl.setOut(new PrintWriter(demo.out, true, Charset.defaultCharset()));
    cl.setErr(new PrintWriter(demo.err, true, Charset.defaultCharset()));
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    EnvDefaults defaults = new EnvDefaults(env);
    cl.setDefaultValueProvider(defaults);
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          cmd.getErr().println("workgate-demo: " + message(ex));
          cmd.getErr().flush();
          return EXIT_FAILURE;
        });
    cl.setParameterExceptionHandler(
        (ex, a) -> {
          String from = "";
          if (ex.getArgSpec() instanceof OptionSpec o && defaults.usedFor(o)) {
            from = " (from " + EnvDefaults.variable(o) + ")";
          }
          cl.getErr().println("workgate-demo: " + ex.getMessage() + from + " (see --help)");
          cl.getErr().flush();
          return EXIT_USAGE;
        });
    int code = cl.execute(args);
    cl.getOut().flush();
    cl.getErr().flush();
    return code;
  }

  private static String message(Throwable ex) {
    String m = ex.getMessage();
    if (ex instanceof IllegalArgumentException
        || ex instanceof IllegalStateException
        || ex instanceof UncheckedIOException) {
      return m == null ? ex.getClass().getSimpleName() : m;
    }
    return ex.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  /** Asks a running demo to stop; true if it was running. */
  boolean stopFromHook() {
    Runnable stop = onStop.get();
    if (stop == null) {
      return false;
    }
    interrupted = true;
    stop.run();
    return true;
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    validate();
    long usedSeed = seed != null ? seed : new Random().nextLong();
    Path db = dataDir.resolve("workgate.db");
    Files.createDirectories(dataDir);
    boolean existed = Files.exists(db);
    RetryPolicy retries =
        RetryPolicy.builder()
            .maxAttempts(maxAttempts)
            .baseDelay(baseDelay)
            .multiplier(2)
            .maxDelay(baseDelay.multipliedBy(8))
            .jitter(Jitter.proportional(0.1))
            .build();
    try (WorkOrderStore store = Stores.sqlite(db);
        Workgate workgate =
            Workgate.builder()
                .store(store)
                .nodeId(NODE_ID)
                .queues(DemoPlan.AGENT_QUEUE, DemoPlan.REVIEW_QUEUE)
                .maxConcurrent(maxConcurrent)
                .memoryPerSlotMb(memoryPerSlotMb)
                .defaultTimeout(executionTimeout)
                .killGrace(Duration.ofSeconds(2))
                .retryPolicy(retries)
                .pollInterval(pollInterval)
                .staggerDelay(staggerDelay)
                .sandboxRoot(sandboxRoot(dataDir))
                .handler(DemoPlan.REVIEW_TYPE, new ReviewHandler())
                .sandboxProvider(
                    DemoPlan.AGENT_TYPE,
                    ProcessSandboxProvider.builder(agentSandboxRoot(dataDir), AgentRecipe::spec)
                        .classifier(AgentRecipe.classifier())
                        .build())
                .build()) {
      Set<WorkOrderId> tracked = new LinkedHashSet<>(unfinished(store));
      out.printf(
          "Workgate demo: %s store %s, %d slots, %d MiB per slot, timeout %s, %d attempts,"
              + " seed %d%n",
          existed ? "existing" : "new",
          db.toAbsolutePath().normalize(),
          maxConcurrent,
          memoryPerSlotMb,
          Formats.duration(executionTimeout),
          maxAttempts,
          usedSeed);
      if (!tracked.isEmpty()) {
        out.printf(
            "Resuming %d work orders an earlier run left unfinished: nothing is lost on restart.%n",
            tracked.size());
      }
      WorkgateHttpServer http = noHttp ? null : startHttp(workgate);
      try {
        int code = drive(workgate, store, tracked, usedSeed);
        if (stay && code == EXIT_OK) {
          // The node still runs: what is resubmitted from the console now runs too.
          if (http != null) {
            stayUntilStopped(http);
          }
          workgate.shutdown(Duration.ofSeconds(5));
        }
        return code;
      } finally {
        if (http != null) {
          http.close();
        }
      }
    }
  }

  /**
   * The runtime's sandbox root: the runtime puts its in-process sandboxes in {@code in-process}
   * under it, so they end up in {@code <data dir>/sandboxes/in-process}.
   */
  static Path sandboxRoot(Path dataDir) {
    return dataDir.resolve("sandboxes");
  }

  /** The process sandboxes' root, beside the in-process ones. */
  static Path agentSandboxRoot(Path dataDir) {
    return sandboxRoot(dataDir).resolve("agents");
  }

  private int drive(Workgate workgate, WorkOrderStore store, Set<WorkOrderId> tracked, long seed)
      throws InterruptedException {
    Instant started = clock.instant();
    boolean withChain = workOrders >= DemoPlan.CHAIN_FROM;
    List<WorkOrderSpec> specs =
        DemoPlan.specs(
            withChain ? workOrders - DemoPlan.CHAIN_SIZE : workOrders, new Random(seed), fast);
    List<WorkOrderId> chain = new ArrayList<>();
    ProgressDisplay display =
        ProgressDisplay.of(
            progress,
            terminal,
            tracked.size() + specs.size() + (withChain ? DemoPlan.CHAIN_SIZE : 0),
            err);
    var subscription =
        workgate.onTransition(
            change -> {
              String line = describe(change);
              if (line != null) {
                display.event(elapsed(started), line);
              }
            });
    Object lock = new Object();
    onStop.set(
        () -> {
          synchronized (lock) {
            lock.notifyAll();
          }
        });
    try {
      workgate.start();
      if (withChain) {
        // A chain: a plan, three implementations after it (one batch), a review after them all.
        WorkOrderId plan = workgate.submit(DemoPlan.chainPlan(fast));
        WorkgateClient.Batch implementations =
            workgate.submitBatch(DemoPlan.chainImplementations(plan, fast));
        WorkOrderId review = workgate.submit(DemoPlan.chainReview(implementations.id(), fast));
        chain.add(plan);
        chain.addAll(implementations.workOrders());
        chain.add(review);
        tracked.addAll(chain);
      }
      for (WorkOrderSpec spec : specs) {
        tracked.add(workgate.submit(spec));
      }
      Map<WorkOrderState, Long> baseline = null;
      long lastDone = -1;
      Instant lastChange = clock.instant();
      Duration stallLimit = stallLimit();
      while (true) {
        QueueStats stats = workgate.stats();
        Map<WorkOrderState, Long> counts = demoCounts(stats);
        if (baseline == null) {
          baseline = terminalBaseline(store, tracked, counts);
        }
        long done = 0;
        for (WorkOrderState s : WorkOrderState.values()) {
          if (s.isTerminal()) {
            done += counts.getOrDefault(s, 0L) - baseline.getOrDefault(s, 0L);
          }
        }
        display.update(progress(stats, elapsed(started), done, tracked.size(), counts, baseline));
        if (done >= tracked.size() && allEnded(store, tracked)) {
          break;
        }
        if (done != lastDone) {
          lastDone = done;
          lastChange = clock.instant();
        } else if (Duration.between(lastChange, clock.instant()).compareTo(stallLimit) > 0) {
          display.close();
          err.printf(
              "workgate-demo: no work order ended for %s; giving up (workgate-admin status"
                  + " shows where they are)%n",
              Formats.duration(stallLimit));
          return EXIT_FAILURE;
        }
        synchronized (lock) {
          if (interrupted) {
            break;
          }
          lock.wait(250);
        }
      }
    } finally {
      subscription.close();
      onStop.set(null);
      display.close();
    }
    if (interrupted) {
      workgate.shutdown(Duration.ofSeconds(5));
      long left = tracked.stream().filter(id -> !ended(store, id)).count();
      err.printf("%nInterrupted: %d work orders did not end; the next run resumes them.%n", left);
      return EXIT_INTERRUPTED;
    }
    Duration elapsed = elapsed(started);
    if (!stay) {
      workgate.shutdown(Duration.ofSeconds(5));
    }
    DemoReport report = DemoReport.read(store, tracked);
    report.print(out, elapsed, maxConcurrent);
    if (!chain.isEmpty()) {
      printChain(store, chain);
    }
    String id = report.recovered().map(t -> t.workOrderId().value()).orElse("<id>");
    Path db = dataDir.resolve("workgate.db");
    String storeOption =
        db.normalize().equals(Path.of(DEFAULT_DATA_DIR, "workgate.db").normalize())
            ? ""
            : " --store " + db;
    out.println();
    out.println("Look further with the admin CLI, from the repository's root:");
    for (String command : List.of("status", "show " + id, "serve")) {
      out.println("  bin/workgate-admin" + storeOption + " " + command);
    }
    return EXIT_OK;
  }

  /**
   * The chain as it ran: each link's state, when it started relative to the plan, and how many
   * attempts it took, with the checkpoint a retried link resumed from.
   */
  private void printChain(WorkOrderStore store, List<WorkOrderId> chain) {
    out.println();
    out.println("Chain (plan -> implement x3 -> review, one batch fanned out and in again):");
    String[] names = {"plan", "implement 1", "implement 2", "implement 3", "review"};
    for (int i = 0; i < chain.size() && i < names.length; i++) {
      WorkOrderView v = store.find(chain.get(i)).orElse(null);
      if (v == null) {
        continue;
      }
      String resumed = "";
      if (v.attempt() > 1) {
        // The checkpoint the last attempt resumed from: the latest one an earlier attempt wrote.
        for (RecordedEvent r : store.readStream(v.id())) {
          if (r.event() instanceof WorkOrderEvent.Checkpointed cp && cp.attempt() < v.attempt()) {
            resumed = ", attempt " + v.attempt() + " resumed from checkpoint " + cp.state();
          }
        }
      }
      String waited = v.dependencies().isEmpty() ? "" : ", after " + v.dependencies().size();
      out.printf(
          "  %-12s %s  %s, %d attempt%s%s%s%n",
          names[i], v.id(), v.state(), v.attempt(), v.attempt() == 1 ? "" : "s", waited, resumed);
    }
  }

  /** A line for the events a person wants to see as they happen; null for the rest. */
  private static String describe(StateChange c) {
    String who = c.workOrderId() + " " + c.queue();
    WorkOrderEvent e = c.event().event();
    if (e instanceof WorkOrderEvent.AttemptFailed f) {
      String what = f.error().code();
      return c.to() == WorkOrderState.WAITING_RETRY
          ? String.format(
              "%s attempt %d failed: %s; retry in %s",
              who,
              c.attempt(),
              what,
              Formats.duration(
                  f.retryAt() == null
                      ? Duration.ZERO
                      : Duration.between(c.at(), f.retryAt()).abs()))
          : String.format("%s failed for good on attempt %d: %s", who, c.attempt(), what);
    }
    if (c.type() == EventType.COMPLETED && c.attempt() > 1) {
      return String.format("%s completed on attempt %d", who, c.attempt());
    }
    if (c.type() == EventType.CANCELLED) {
      return who + " cancelled";
    }
    if (c.type() == EventType.DEPENDENCIES_MET) {
      return who + " can start: everything it waited for completed";
    }
    if (e instanceof WorkOrderEvent.DependencyFailed d) {
      return who + " cancelled: " + d.reason();
    }
    return null;
  }

  /** Serves the console of the finished run until Ctrl-C. */
  private void stayUntilStopped(WorkgateHttpServer http) throws InterruptedException {
    java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
    onStop.set(stopped::countDown);
    try {
      out.printf(
          "%nStill serving the console at http://127.0.0.1:%d/ (the node runs what you resubmit);"
              + " Ctrl-C to stop.%n",
          http.port());
      out.flush();
      stopped.await();
    } finally {
      onStop.set(null);
    }
  }

  private WorkgateHttpServer startHttp(Workgate workgate) {
    try {
      // A token of this run: the console can then resubmit and cancel (changes always need one).
      byte[] random = new byte[24];
      new java.security.SecureRandom().nextBytes(random);
      String token = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(random);
      WorkgateHttpServer http =
          WorkgateHttpServer.builder(workgate).port(httpPort).token(token).build();
      String base = "http://127.0.0.1:" + http.port();
      out.printf(
          "Console: %s/ (token for this run: %s) · API: %s/api/openapi.json · %s/metrics ·"
              + " %s/health/ready%n",
          base, token, base, base, base);
      return http;
    } catch (UncheckedIOException e) {
      err.printf(
          "workgate-demo: %s; running without the HTTP endpoint (--http-port 0 picks a free"
              + " port)%n",
          e.getMessage());
      return null;
    }
  }

  private void validate() {
    require(workOrders >= 0 && workOrders <= 100_000, "--work-orders", "0 to 100000", workOrders);
    require(
        maxConcurrent >= 1 && maxConcurrent <= 64, "--max-concurrent", "1 to 64", maxConcurrent);
    require(
        memoryPerSlotMb >= 0 && memoryPerSlotMb <= 1L << 20,
        "--memory-per-slot-mb",
        "0 to 1048576",
        memoryPerSlotMb);
    require(maxAttempts >= 1 && maxAttempts <= 20, "--max-attempts", "1 to 20", maxAttempts);
    require(httpPort >= 0 && httpPort <= 65_535, "--http-port", "0 to 65535", httpPort);
    require(!baseDelay.isZero(), "--base-delay", "above zero", baseDelay);
    require(!pollInterval.isZero(), "--poll-interval", "above zero", pollInterval);
    require(!executionTimeout.isZero(), "--execution-timeout", "above zero", executionTimeout);
  }

  private void require(boolean ok, String option, String range, Object value) {
    if (!ok) {
      String shown = value instanceof Duration d ? Formats.duration(d) : String.valueOf(value);
      throw new ParameterException(
          spec.commandLine(),
          option + " must be " + range + ", got " + shown,
          spec.findOption(option),
          shown);
    }
  }

  /**
   * How long without any work order ending before the demo gives up: an attempt's timeout and kill
   * grace, twice, plus the longest retry delay, and never under two minutes.
   */
  private Duration stallLimit() {
    Duration d = executionTimeout.plusSeconds(2).multipliedBy(2).plus(baseDelay.multipliedBy(8));
    return d.compareTo(Duration.ofMinutes(2)) < 0 ? Duration.ofMinutes(2) : d;
  }

  private Duration elapsed(Instant since) {
    return Duration.between(since, clock.instant());
  }

  private static List<WorkOrderId> unfinished(WorkOrderStore store) {
    List<WorkOrderId> ids = new ArrayList<>();
    WorkOrderState[] open =
        Arrays.stream(WorkOrderState.values())
            .filter(s -> !s.isTerminal())
            .toArray(WorkOrderState[]::new);
    for (String queue : List.of(DemoPlan.AGENT_QUEUE, DemoPlan.REVIEW_QUEUE)) {
      long after = 0;
      while (true) {
        WorkOrderQuery.Builder q =
            WorkOrderQuery.builder().queue(queue).states(open).limit(WorkOrderQuery.MAX_LIMIT);
        if (after > 0) {
          q.after(after);
        }
        Page<WorkOrderView> page = store.query(q.build());
        page.items().forEach(v -> ids.add(v.id()));
        if (!page.hasNext()) {
          break;
        }
        after = page.nextCursor().getAsLong();
      }
    }
    return ids;
  }

  /**
   * The progress to show. Preparing and running are this node's live attempts, not the store's
   * counts: after a restart the store still has as running the work orders the earlier run left
   * running, until their leases expire; counted as running they would show more running than there
   * are slots. The display shows those apart ({@link ProgressDisplay.Progress#recovering()}).
   */
  static ProgressDisplay.Progress progress(
      QueueStats stats,
      Duration elapsed,
      long done,
      long total,
      Map<WorkOrderState, Long> counts,
      Map<WorkOrderState, Long> baseline) {
    long preparing = 0;
    long running = 0;
    for (NodeView.ActiveExecution e : stats.executions()) {
      if (!DemoPlan.AGENT_QUEUE.equals(e.queue()) && !DemoPlan.REVIEW_QUEUE.equals(e.queue())) {
        continue;
      }
      if (e.status() == NodeView.ExecutionStatus.PREPARING) {
        preparing++;
      } else {
        running++;
      }
    }
    return new ProgressDisplay.Progress(
        elapsed,
        done,
        total,
        relative(counts, baseline),
        preparing,
        running,
        stats.activeSlots(),
        stats.maxSlots());
  }

  private static Map<WorkOrderState, Long> demoCounts(QueueStats stats) {
    Map<WorkOrderState, Long> counts = new EnumMap<>(WorkOrderState.class);
    QueueCounts byQueue = stats.counts();
    for (String queue : List.of(DemoPlan.AGENT_QUEUE, DemoPlan.REVIEW_QUEUE)) {
      if (byQueue.queues().contains(queue)) {
        byQueue.byState(queue).forEach((s, n) -> counts.merge(s, n, Long::sum));
      }
    }
    return counts;
  }

  /**
   * The terminal counts that do not belong to this run: those in the store minus tracked work
   * orders that have already ended (a fast one can end before the first reading).
   */
  private static Map<WorkOrderState, Long> terminalBaseline(
      WorkOrderStore store, Set<WorkOrderId> tracked, Map<WorkOrderState, Long> counts) {
    Map<WorkOrderState, Long> baseline = new EnumMap<>(WorkOrderState.class);
    counts.forEach(
        (s, n) -> {
          if (s.isTerminal()) {
            baseline.put(s, n);
          }
        });
    for (WorkOrderId id : tracked) {
      store
          .find(id)
          .map(WorkOrderView::state)
          .filter(WorkOrderState::isTerminal)
          .ifPresent(s -> baseline.merge(s, -1L, Long::sum));
    }
    return baseline;
  }

  private static Map<WorkOrderState, Long> relative(
      Map<WorkOrderState, Long> counts, Map<WorkOrderState, Long> baseline) {
    Map<WorkOrderState, Long> r = new EnumMap<>(counts);
    baseline.forEach((s, n) -> r.merge(s, -n, Long::sum));
    return r;
  }

  private static boolean allEnded(WorkOrderStore store, Set<WorkOrderId> tracked) {
    for (WorkOrderId id : tracked) {
      if (!ended(store, id)) {
        return false;
      }
    }
    return true;
  }

  private static boolean ended(WorkOrderStore store, WorkOrderId id) {
    return store.find(id).map(v -> v.state().isTerminal()).orElse(true);
  }

  /** Reads an option's default from {@code WORKGATE_<OPTION>} when the variable is set. */
  static final class EnvDefaults implements IDefaultValueProvider {
    private final Map<String, String> env;
    private final Set<String> used = new LinkedHashSet<>();

    EnvDefaults(Map<String, String> env) {
      this.env = Map.copyOf(env);
    }

    static String variable(OptionSpec option) {
      return "WORKGATE_"
          + option.longestName().replaceFirst("^--", "").replace('-', '_').toUpperCase(Locale.ROOT);
    }

    @Override
    public String defaultValue(ArgSpec arg) {
      if (!(arg instanceof OptionSpec o) || o.usageHelp() || o.versionHelp()) {
        return null;
      }
      String value = env.get(variable(o));
      if (value == null || value.isBlank()) {
        return null;
      }
      used.add(variable(o));
      return value.trim();
    }

    boolean usedFor(OptionSpec option) {
      return used.contains(variable(option));
    }
  }

  /** A duration such as {@code 500ms}, {@code 20s}, {@code 2m} or {@code 1h}. */
  static final class DurationConverter implements ITypeConverter<Duration> {
    private static final Pattern FORMAT = Pattern.compile("([0-9]{1,9})(ms|s|m|h)");

    @Override
    public Duration convert(String value) {
      Matcher m = FORMAT.matcher(value.trim());
      if (!m.matches()) {
        throw new TypeConversionException(
            "malformed duration '"
                + value
                + "': use a whole number and ms, s, m or h (500ms, 20s)");
      }
      long n = Long.parseLong(m.group(1));
      switch (m.group(2)) {
        case "ms":
          return Duration.ofMillis(n);
        case "s":
          return Duration.ofSeconds(n);
        case "m":
          return Duration.ofMinutes(n);
        default:
          return Duration.ofHours(n);
      }
    }
  }
}
