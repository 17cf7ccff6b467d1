package dev.workgate.benchmarks.harness;

import dev.workgate.WorkgateClient;
import dev.workgate.benchmarks.peers.DbSchedulerContender;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.RebuildReport;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.WorkOrderStore;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * The end-to-end harness: runs the same no-op workloads on Workgate (in-memory, SQLite and
 * PostgreSQL stores), db-scheduler and JobRunr, one after another in one JVM, and prints Markdown
 * tables of work orders per second, submit → start latency, CPU per work order and Workgate's ratio
 * to each peer. Run it with {@code mvn -B -q -pl queue-benchmarks -am package -DskipTests
 * exec:exec@harness -Dharness.args="…"}; {@code --help} lists the options.
 *
 * <p>Shapes: <b>drain</b> fills a backlog of N jobs before the clock starts, then times the node
 * from start until its storage records all N finished; <b>steady</b> submits jobs one at a time at
 * a fixed rate into a running node and reports submit → start latency; <b>scaling</b> times the
 * first K jobs drained from a backlog of 10,000 and of 1,000,000; <b>memory</b> measures heap per
 * pending work order and the resident memory of an idle node.
 */
public final class Harness {
  private final Options o;

  /**
   * Measurements that did not finish by their deadline, and verifications that found a difference;
   * any makes the run exit with status 1.
   */
  private final List<String> problems = new ArrayList<>();

  private Harness(Options o) {
    this.o = o;
  }

  /**
   * Runs the harness.
   *
   * @param args the options; {@code --help} lists them
   * @throws Exception if a contender fails
   */
  public static void main(String[] args) throws Exception {
    Options o;
    try {
      o = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    if (o.help) {
      System.out.println(Options.HELP);
      return;
    }
    Harness h = new Harness(o);
    try {
      h.run();
    } catch (Exception | Error e) {
      // Exit here: a peer may have left non-daemon threads that would keep the JVM alive, and the
      // shutdown hooks then stop any node JVM still running.
      e.printStackTrace();
      System.err.println("the harness failed: " + e);
      System.exit(1);
    }
    for (String p : h.problems) {
      System.err.println("problem: " + p);
    }
    System.exit(h.problems.isEmpty() ? 0 : 1); // exit: peers may leave non-daemon threads behind
  }

  private void run() throws Exception {
    print("## Machine");
    print("");
    print(Machine.describe());
    print("");
    print("Commit measured: " + Machine.commit());
    print("");
    print(
        String.format(
            Locale.ROOT,
            "Workers %d; drain %,d jobs (in-memory stores %,d); steady %,d jobs at %d/s after %,d"
                + " warm-up; nodes: %d JVMs draining %,d jobs; rounds %d; shapes: %s;"
                + " contenders: %s",
            o.workers,
            o.durableJobs,
            o.memoryJobs,
            o.steadyJobs,
            o.steadyRate,
            o.steadyWarmup,
            o.nodes,
            o.nodesJobs > 0 ? o.nodesJobs : o.durableJobs,
            o.rounds,
            String.join(", ", o.shapes),
            String.join(", ", o.contenders)));
    print("");
    boolean pg = PostgresSchema.reachable();
    List<String> names = new ArrayList<>();
    for (String name : o.contenders) {
      if (name.endsWith("/postgres") && !pg) {
        if ("true".equals(System.getenv("CI"))) {
          throw new IllegalStateException(
              "PostgreSQL at " + PostgresSchema.URL + " is not reachable");
        }
        System.err.println(
            "skipping " + name + ": PostgreSQL at " + PostgresSchema.URL + " is not reachable");
        continue;
      }
      names.add(name);
    }
    if (o.shapes.contains("drain")) {
      drainTable(names);
    }
    if (o.shapes.contains("steady")) {
      steadyTable(names);
    }
    if (o.shapes.contains("scaling")) {
      scalingTable(names);
    }
    if (o.shapes.contains("memory")) {
      memoryTable();
    }
    if (o.shapes.contains("nodes")) {
      nodesTable(names);
    }
  }

  // ---------------------------------------------------------------- drain

  /** One drain's figures. */
  record Drain(
      String name,
      int jobs,
      int done,
      double seconds,
      long jvmNanos,
      long pgNanos,
      int runs,
      PostgresActivity.Counters pg,
      long differences) {
    double rate() {
      return done / seconds;
    }
  }

  /** Not verified: a peer, or Workgate's in-memory store. */
  static final long NOT_VERIFIED = -1;

  private void drainTable(List<String> names) throws Exception {
    Map<String, Drain> results = new LinkedHashMap<>();
    Map<String, Long> differences = new LinkedHashMap<>();
    for (String name : names) {
      int n = name.endsWith("/memory") ? o.memoryJobs : o.durableJobs;
      List<Drain> rounds = new ArrayList<>();
      for (int round = 0; round < o.rounds; round++) {
        Drain d = drain(name, n, n, true);
        progress(
            String.format(
                Locale.ROOT,
                "drain %s round %d: %,.0f/s%s",
                name,
                round + 1,
                d.rate(),
                d.differences == NOT_VERIFIED ? "" : ", verify: " + verdict(d.differences)));
        rounds.add(d);
        if (d.differences != NOT_VERIFIED) {
          differences.merge(name, d.differences, Long::sum);
        }
      }
      rounds.sort(java.util.Comparator.comparingDouble(Drain::rate));
      results.put(name, rounds.get((rounds.size() - 1) / 2)); // the median (the lower of two)
    }
    print("## Drain: a backlog of N no-op jobs, timed from start until all are recorded finished");
    print("");
    print(
        "| contender | jobs | seconds | jobs/s | JVM CPU µs/job | PostgreSQL CPU µs/job |"
            + " PostgreSQL rows written/job | PostgreSQL transactions/job | runs |"
            + " Workgate on the same storage ÷ this | verify |");
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for (Drain d : results.values()) {
      Drain ours = results.get("workgate/" + storage(d.name));
      print(
          String.format(
              Locale.ROOT,
              "| %s | %,d%s | %.2f | %,.0f | %s | %s | %s | %s | %,d | %s | %s |",
              d.name,
              d.jobs,
              d.done < d.jobs
                  ? String.format(Locale.ROOT, " (%,d done by the deadline)", d.done)
                  : "",
              d.seconds,
              d.rate(),
              perJob(d.jvmNanos, d.done),
              d.name.endsWith("/postgres") ? perJob(d.pgNanos, d.done) : "—",
              ratio(d.pg.rowsWritten(), d.done),
              ratio(d.pg.commits(), d.done),
              d.runs,
              ours == null || ours == d
                  ? "—"
                  : String.format(Locale.ROOT, "%.2f×", ours.rate() / d.rate()),
              differences.containsKey(d.name) ? verdict(differences.get(d.name)) : "—"));
    }
    print("");
    print(
        "The median of "
            + o.rounds
            + " round(s) per contender (the lower of two), each on new storage. runs counts"
            + " handler invocations: more than jobs means a job ran twice. PostgreSQL rows written"
            + " are inserts, updates and deletes of the benchmark database (pg_stat_database);"
            + " its transactions include read-only ones (every autocommit query). verify: after each round on a durable"
            + " store, off the clock, the store's own check (rebuildProjection in VERIFY mode)"
            + " that every projection row equals the fold of its work order's events, summed over"
            + " the rounds; any difference makes the run exit with status 1.");
    print("");
  }

  static String verdict(long differences) {
    return differences == 0
        ? "no difference"
        : String.format(Locale.ROOT, "%,d difference%s", differences, differences == 1 ? "" : "s");
  }

  private static String storage(String name) {
    return name.substring(name.indexOf('/') + 1);
  }

  private static String ratio(long count, int jobs) {
    return count < 0 || jobs == 0 ? "—" : String.format(Locale.ROOT, "%.2f", (double) count / jobs);
  }

  private static String perJob(long nanos, int jobs) {
    return nanos < 0 || jobs == 0 ? "—" : String.format(Locale.ROOT, "%.1f", nanos / 1000.0 / jobs);
  }

  /**
   * Fills {@code backlog} jobs, starts, and times until the first {@code timed} have finished; with
   * {@code verify}, then verifies a Workgate durable store (off the clock).
   */
  private Drain drain(String name, int backlog, int timed, boolean verify) throws Exception {
    Recorder recorder = new Recorder(backlog).install();
    Contender c = create(name);
    c.open(o.workers, recorder);
    try {
      for (int from = 0; from < backlog; from += 10_000) {
        c.submitBacklog(from, Math.min(10_000, backlog - from));
      }
      c.settle();
      quiesce();
      long deadline = System.nanoTime() + o.deadline.toNanos();
      boolean onPostgres = name.endsWith("/postgres");
      PostgresActivity.Counters activity0 =
          onPostgres ? PostgresActivity.read() : PostgresActivity.NONE;
      long cpu0 = Cpu.jvmNanos();
      long pg0 = Cpu.postgresNanos();
      long t0 = System.nanoTime();
      c.start();
      while (recorder.startedCount() < timed && System.nanoTime() < deadline) {
        LockSupport.parkNanos(200_000);
      }
      long done;
      while ((done = c.finished()) < timed && System.nanoTime() < deadline) {
        LockSupport.parkNanos(2_000_000);
      }
      long t1 = System.nanoTime();
      if (done < timed) {
        problems.add(
            String.format(Locale.ROOT, "%s drained %,d of %,d by the deadline", name, done, timed));
      }
      long cpu = Cpu.jvmNanos() - cpu0;
      long pg = Cpu.postgresNanos() - pg0;
      PostgresActivity.Counters activity =
          onPostgres && activity0 != PostgresActivity.NONE
              ? PostgresActivity.read().minus(activity0)
              : PostgresActivity.NONE;
      if (done >= timed) {
        long recorded = c.recordedFinished();
        if (recorded < timed) {
          problems.add(
              String.format(
                  Locale.ROOT,
                  "%s reported %,d finished, but its storage holds %,d",
                  name,
                  done,
                  recorded));
        }
      }
      long differences = NOT_VERIFIED;
      if (verify && c instanceof WorkgateContender w) {
        differences = verified(name, w.verify());
      }
      return new Drain(
          name,
          timed,
          (int) Math.min(done, timed),
          (t1 - t0) / 1e9,
          cpu0 < 0 ? -1 : cpu,
          pg0 < 0 ? -1 : pg,
          recorder.runs(),
          activity,
          differences);
    } finally {
      c.close();
    }
  }

  /**
   * The number of differences a verification found ({@link #NOT_VERIFIED} for none run); any
   * difference is a problem, and the first few are printed to stderr.
   */
  private long verified(String name, RebuildReport report) {
    if (report == null) {
      return NOT_VERIFIED;
    }
    List<RebuildReport.ProjectionMismatch> m = report.mismatches();
    if (!m.isEmpty()) {
      problems.add(
          String.format(
              Locale.ROOT,
              "%s: the store's verify found %s between its projection and its log (%,d work"
                  + " orders, %,d events)",
              name,
              verdict(m.size()),
              report.workOrders(),
              report.events()));
      for (RebuildReport.ProjectionMismatch x : m.subList(0, Math.min(10, m.size()))) {
        System.err.println("  " + name + " verify: " + x.workOrderId() + ": " + x.difference());
      }
    }
    return m.size();
  }

  // ---------------------------------------------------------------- steady

  /** One steady run's latencies, in nanoseconds. */
  record Steady(
      String name, int jobs, double achievedRate, long p50, long p99, long max, int late) {}

  private void steadyTable(List<String> names) throws Exception {
    List<Steady> results = new ArrayList<>();
    for (String name : names) {
      Steady s = steady(name);
      progress(String.format(Locale.ROOT, "steady %s: p50 %.2f ms", name, s.p50 / 1e6));
      results.add(s);
    }
    print(
        String.format(
            Locale.ROOT,
            "## Steady stream: one job at a time at %d/s into a running node; submit → start latency",
            o.steadyRate));
    print("");
    print(
        "| contender | jobs | achieved rate/s | p50 ms | p99 ms | max ms | not started by the deadline |");
    print("|---|---:|---:|---:|---:|---:|---:|");
    for (Steady s : results) {
      print(
          String.format(
              Locale.ROOT,
              "| %s | %,d | %,.0f | %.2f | %.2f | %.2f | %,d |",
              s.name,
              s.jobs,
              s.achievedRate,
              s.p50 / 1e6,
              s.p99 / 1e6,
              s.max / 1e6,
              s.late));
    }
    print("");
  }

  private Steady steady(String name) throws Exception {
    int total = o.steadyWarmup + o.steadyJobs;
    Recorder recorder = new Recorder(total).install();
    Contender c = create(name);
    c.open(o.workers, recorder);
    try {
      c.settle();
      c.start();
      quiesce();
      long period = 1_000_000_000L / o.steadyRate;
      long t0 = System.nanoTime();
      long measuredFrom = 0;
      for (int i = 0; i < total; i++) {
        long at = t0 + i * period;
        long wait;
        while ((wait = at - System.nanoTime()) > 0) {
          LockSupport.parkNanos(wait);
        }
        if (i == o.steadyWarmup) {
          measuredFrom = System.nanoTime();
        }
        recorder.submitting(i);
        c.submitOne(i);
      }
      double achieved = o.steadyJobs / ((System.nanoTime() - measuredFrom) / 1e9);
      long deadline =
          System.nanoTime() + Math.min(o.deadline.toNanos(), Duration.ofSeconds(60).toNanos());
      while (recorder.startedCount() < total && System.nanoTime() < deadline) {
        LockSupport.parkNanos(1_000_000);
      }
      long[] l = recorder.latencies(o.steadyWarmup, total);
      int late = o.steadyJobs - l.length;
      if (late > 0) {
        problems.add(String.format(Locale.ROOT, "%s left %,d steady jobs unstarted", name, late));
      }
      return new Steady(
          name,
          o.steadyJobs,
          achieved,
          percentile(l, 0.50),
          percentile(l, 0.99),
          l.length == 0 ? 0 : l[l.length - 1],
          late);
    } finally {
      c.close();
    }
  }

  static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  // ---------------------------------------------------------------- scaling

  private void scalingTable(List<String> names) throws Exception {
    print(
        String.format(
            Locale.ROOT,
            "## Backlog scaling: the first %,d jobs drained from a backlog of %,d and of %,d",
            o.scalingTimed,
            o.scalingSmall,
            o.scalingLarge));
    print("");
    print(
        String.format(
            Locale.ROOT,
            "| contender | jobs/s at %,d waiting | jobs/s at %,d waiting | large ÷ small |",
            o.scalingSmall,
            o.scalingLarge));
    print("|---|---:|---:|---:|");
    for (String name : names) {
      if (!name.startsWith("workgate/")) {
        continue;
      }
      drain(
          name,
          o.scalingSmall,
          Math.min(o.scalingTimed, o.scalingSmall),
          false); // warm-up, not shown
      Drain small = drain(name, o.scalingSmall, Math.min(o.scalingTimed, o.scalingSmall), false);
      progress(String.format(Locale.ROOT, "scaling %s small: %,.0f/s", name, small.rate()));
      Drain large = drain(name, o.scalingLarge, Math.min(o.scalingTimed, o.scalingLarge), false);
      progress(String.format(Locale.ROOT, "scaling %s large: %,.0f/s", name, large.rate()));
      print(
          String.format(
              Locale.ROOT,
              "| %s | %,.0f | %,.0f | %.2f |",
              name,
              small.rate(),
              large.rate(),
              large.rate() / small.rate()));
    }
    print("");
  }

  // ---------------------------------------------------------------- memory

  private void memoryTable() throws Exception {
    print("## Memory");
    print("");
    print("| measure | value |");
    print("|---|---:|");
    long perJob = MemoryProbe.heapPerPendingWorkOrder(o.memoryPending);
    print(
        String.format(
            Locale.ROOT,
            "| heap per pending work order, in-memory store, %,d pending (spec and payload included) | %,d bytes |",
            o.memoryPending,
            perJob));
    MemoryProbe.Idle idle = MemoryProbe.idleNode();
    print(
        String.format(
            Locale.ROOT,
            "| resident memory of an idle node (SQLite store, own JVM, %s) | %,d MiB (heap used %,d MiB) |",
            idle.jvmFlags(),
            idle.rssKb() / 1024,
            idle.heapUsedKb() / 1024));
    print("");
  }

  // ---------------------------------------------------------------- nodes

  /** The contenders the multi-node shape runs, each as a fleet of node JVMs. */
  static final List<String> MULTI_NODE = List.of("workgate/postgres", "db-scheduler/postgres");

  /** How often the harness reads the finished count while nodes drain. */
  static final Duration NODES_POLL = Duration.ofMillis(10);

  /** One multi-node drain's figures; CPU and runs are summed over the node JVMs. */
  record Multi(
      String name,
      int nodes,
      int jobs,
      int done,
      double seconds,
      long jvmNanos,
      long pgNanos,
      long runs,
      PostgresActivity.Counters pg,
      long differences) {
    double rate() {
      return done / seconds;
    }
  }

  private void nodesTable(List<String> names) throws Exception {
    List<String> sides = names.stream().filter(MULTI_NODE::contains).toList();
    if (sides.isEmpty()) {
      System.err.println(
          "skipping nodes: it runs "
              + String.join(" and ", MULTI_NODE)
              + ", and neither is among the contenders that can run");
      return;
    }
    int n = o.nodesJobs > 0 ? o.nodesJobs : o.durableJobs;
    Map<String, Multi> results = new LinkedHashMap<>();
    Map<String, Long> differences = new LinkedHashMap<>();
    for (String name : sides) {
      List<Multi> rounds = new ArrayList<>();
      for (int round = 0; round < o.rounds; round++) {
        Multi m = multiNode(name, n);
        progress(
            String.format(
                Locale.ROOT,
                "nodes %s ×%d round %d: %,.0f/s%s",
                name,
                o.nodes,
                round + 1,
                m.rate(),
                m.differences == NOT_VERIFIED ? "" : ", verify: " + verdict(m.differences)));
        rounds.add(m);
        if (m.differences != NOT_VERIFIED) {
          differences.merge(name, m.differences, Long::sum);
        }
      }
      rounds.sort(java.util.Comparator.comparingDouble(Multi::rate));
      results.put(name, rounds.get((rounds.size() - 1) / 2)); // the median (the lower of two)
    }
    print(
        String.format(
            Locale.ROOT,
            "## Nodes: %d nodes, each in its own JVM with %d workers, sharing one PostgreSQL"
                + " store and draining one backlog of N no-op jobs",
            o.nodes,
            o.workers));
    print("");
    print(
        "| contender | nodes | jobs | seconds | jobs/s | JVM CPU µs/job (all nodes) |"
            + " PostgreSQL CPU µs/job | PostgreSQL rows written/job |"
            + " PostgreSQL transactions/job | runs | Workgate ÷ this | verify |");
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    Multi ours = results.get("workgate/postgres");
    for (Multi m : results.values()) {
      print(
          String.format(
              Locale.ROOT,
              "| %s | %d | %,d%s | %.2f | %,.0f | %s | %s | %s | %s | %,d | %s | %s |",
              m.name,
              m.nodes,
              m.jobs,
              m.done < m.jobs
                  ? String.format(Locale.ROOT, " (%,d done by the deadline)", m.done)
                  : "",
              m.seconds,
              m.rate(),
              perJob(m.jvmNanos, m.done),
              perJob(m.pgNanos, m.done),
              ratio(m.pg.rowsWritten(), m.done),
              ratio(m.pg.commits(), m.done),
              m.runs,
              ours == null || ours == m
                  ? "—"
                  : String.format(Locale.ROOT, "%.2f×", ours.rate() / m.rate()),
              differences.containsKey(m.name) ? verdict(differences.get(m.name)) : "—"));
    }
    print("");
    print(
        "The median of "
            + o.rounds
            + " round(s) per contender (the lower of two), each on a new schema. The backlog is"
            + " written and ANALYZEd by the harness before the nodes start; every node is a JVM of"
            + " its own (this JVM's java and class path, default flags) with its own pool of "
            + PostgresSchema.POOL_SIZE
            + " connections, configured as the single-node contender; the clock runs from"
            + " sending go to every node until the storage records all N finished (Workgate:"
            + " COMPLETED in counts(); db-scheduler: rows left in scheduled_tasks, read every "
            + NODES_POLL.toMillis()
            + " ms). JVM CPU is the node JVMs' process CPU time from go to the end, summed;"
            + " runs are handler invocations summed over the nodes: more than jobs means a job"
            + " ran twice. verify as in the drain table.");
    print("");
  }

  /** One round: a new schema, the backlog, a fleet of nodes, the drain, the figures. */
  private Multi multiNode(String name, int n) throws Exception {
    boolean ours = name.startsWith("workgate/");
    String kind = ours ? "workgate" : "db-scheduler";
    PostgresSchema schema =
        PostgresSchema.create(ours ? "workgate" : "dbsched", PostgresSchema.POOL_SIZE);
    WorkOrderStore store = null;
    NodeFleet fleet = null;
    try {
      java.util.function.LongSupplier finished;
      if (ours) {
        WorkOrderStore s = WorkgateContender.postgresStore(schema);
        store = s;
        try (WorkgateClient client = WorkgateClient.over(s)) {
          WorkgateContender.submitBacklog(client::submitAll, 0, n);
        }
        finished = () -> s.counts().count(WorkOrderState.COMPLETED);
      } else {
        try (Connection c = schema.dataSource().getConnection();
            Statement st = c.createStatement()) {
          st.execute(DbSchedulerContender.DDL);
        }
        var task = DbSchedulerContender.task(new Recorder(0));
        DbSchedulerContender.scheduleBacklog(
            DbSchedulerContender.client(schema.dataSource(), task), task, 0, n);
        finished = () -> n - rows(schema);
      }
      schema.analyze();
      long spawned = System.nanoTime();
      fleet =
          NodeFleet.start(
              kind, schema.name(), o.nodes, o.workers, n, System.nanoTime() + o.deadline.toNanos());
      progress(
          String.format(
              Locale.ROOT,
              "nodes %s: %d node JVMs ready in %.1f s",
              name,
              o.nodes,
              (System.nanoTime() - spawned) / 1e9));
      quiesce();
      PostgresActivity.Counters activity0 = PostgresActivity.read();
      long pg0 = Cpu.postgresNanos();
      long deadline = System.nanoTime() + o.deadline.toNanos();
      long t0 = System.nanoTime();
      fleet.go();
      long done;
      while ((done = finished.getAsLong()) < n && System.nanoTime() < deadline) {
        int exited = fleet.firstExited();
        if (exited != 0) {
          fleet.failed();
          throw new IllegalStateException(
              String.format(
                  Locale.ROOT,
                  "%s node %d of %d exited during the drain, %,d of %,d finished (the nodes' stderr"
                      + " is above)",
                  name,
                  exited,
                  o.nodes,
                  done,
                  n));
        }
        LockSupport.parkNanos(NODES_POLL.toNanos());
      }
      long t1 = System.nanoTime();
      long pg = Cpu.postgresNanos() - pg0; // before the nodes close their pools
      List<NodeFleet.Mark> marks = fleet.mark(System.nanoTime() + Duration.ofSeconds(60).toNanos());
      if (done < n) {
        fleet.failed();
        problems.add(
            String.format(
                Locale.ROOT,
                "%s on %d nodes drained %,d of %,d by the deadline",
                name,
                o.nodes,
                done,
                n));
      }
      PostgresActivity.Counters activity =
          activity0 == PostgresActivity.NONE
              ? PostgresActivity.NONE
              : PostgresActivity.read().minus(activity0);
      long cpu = 0;
      long runs = 0;
      for (NodeFleet.Mark m : marks) {
        cpu = cpu < 0 || m.cpuNanos() < 0 ? -1 : cpu + m.cpuNanos();
        runs += m.runs();
      }
      long stopping = System.nanoTime();
      fleet.close();
      progress(
          String.format(
              Locale.ROOT,
              "nodes %s: %d node JVMs stopped in %.1f s",
              name,
              o.nodes,
              (System.nanoTime() - stopping) / 1e9));
      if (fleet.closedBadly()) {
        problems.add(name + " on " + o.nodes + " nodes: a node did not stop cleanly (see above)");
      }
      long differences =
          ours
              ? verified(
                  name + " on " + o.nodes + " nodes", store.rebuildProjection(RebuildMode.VERIFY))
              : NOT_VERIFIED;
      return new Multi(
          name,
          o.nodes,
          n,
          (int) Math.min(done, n),
          (t1 - t0) / 1e9,
          cpu,
          pg0 < 0 ? -1 : pg,
          runs,
          activity,
          differences);
    } catch (Exception | Error e) {
      if (fleet != null) {
        fleet.failed();
      }
      throw e;
    } finally {
      try {
        if (fleet != null) {
          fleet.close(); // idempotent for children already stopped
        }
        if (store != null) {
          store.close();
        }
      } finally {
        schema.close();
      }
    }
  }

  /** Rows left in db-scheduler's table: executions not finished yet. */
  private static long rows(PostgresSchema schema) {
    try (Connection c = schema.dataSource().getConnection();
        Statement st = c.createStatement();
        ResultSet r = st.executeQuery("SELECT count(*) FROM scheduled_tasks")) {
      r.next();
      return r.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot count db-scheduler's rows: " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- helpers

  private static void quiesce() {
    System.gc();
    LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
  }

  private void print(String line) {
    System.out.println(line);
    System.out.flush();
  }

  private static void progress(String line) {
    System.err.println("  " + line);
  }

  static Contender create(String name) {
    Supplier<Contender> s = Contenders.ALL.get(name);
    if (s == null) {
      throw new IllegalArgumentException(
          "unknown contender '" + name + "'; known: " + Contenders.ALL.keySet());
    }
    return s.get();
  }
}
