package dev.workgate.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.jdbc.PostgresTestDatabase;
import dev.workgate.core.store.StoreView.LogPage;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderQuery.Page;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many nodes: three child JVMs ({@link NodeChild}) on one PostgreSQL schema share {@value
 * #DEFAULT_WORK_ORDERS} work orders (system property {@value #WORK_ORDERS_PROPERTY}); one is killed
 * with SIGKILL when about half of them have ended. The other two must finish everything. Then the
 * store and the {@code executions} table are read directly: every work order completed exactly
 * once, an execution recorded twice only where the store shows the first attempt reaped with {@code
 * LEASE_EXPIRED}, everything the dead node held recovered by a survivor on a later attempt, and the
 * survivors stop cleanly when told to.
 */
@Tag("slow")
@EnabledOnOs(OS.LINUX)
class ManyNodesTest {
  static final String WORK_ORDERS_PROPERTY = "workgate.nodes.workOrders";
  static final int DEFAULT_WORK_ORDERS = 100_000;
  static final int WORK_ORDERS = Integer.getInteger(WORK_ORDERS_PROPERTY, DEFAULT_WORK_ORDERS);
  static final List<String> NODES = List.of("node-1", "node-2", "node-3");
  static final String VICTIM = "node-2";
  static final int SUBMIT_BATCH = 1_000;
  static final int PAGE = 10_000;

  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();
  @TempDir Path dir;

  /**
   * Freezes the victim; true if, frozen, it holds work (then it stays frozen until killed), else it
   * is let go on.
   */
  private static boolean frozenHoldingWork(Process victim, WorkOrderStore store) throws Exception {
    signal(victim, "STOP");
    // A commit the node sent before it froze is processed by the server all the same.
    Thread.sleep(100);
    if (!heldBy(store, VICTIM).isEmpty()) {
      return true;
    }
    signal(victim, "CONT");
    return false;
  }

  private static void signal(Process process, String signal) throws Exception {
    Process kill =
        new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
            .redirectErrorStream(true)
            .start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).as("kill -" + signal).isZero();
  }

  @Test
  void three_nodes_complete_every_work_order_once_and_the_survivors_recover_a_killed_ones_work()
      throws Exception {
    String executions = db.table("executions");
    Map<String, Process> nodes = new TreeMap<>();
    try (WorkOrderStore store = db.openStore(Clock.systemUTC())) {
      db.execute(
          "CREATE TABLE "
              + executions
              + " (work_order_id text NOT NULL, attempt int NOT NULL, node_id text NOT NULL,"
              + " completed boolean NOT NULL DEFAULT false,"
              + " executed_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
              + " PRIMARY KEY (work_order_id, attempt))");
      db.execute(
          "CREATE UNIQUE INDEX executions_one_completion ON "
              + executions
              + " (work_order_id) WHERE completed");

      long submitStart = System.nanoTime();
      submit(store, WORK_ORDERS);
      Duration submitTime = Duration.ofNanos(System.nanoTime() - submitStart);

      long start = System.nanoTime();
      for (String node : NODES) {
        nodes.put(node, startNode(node));
      }
      for (String node : NODES) {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> Files.readString(stdout(node)).contains(NodeChild.READY));
      }

      // Midway: kill one node, wait until the server has let go of its connections (a commit it
      // sent just before dying has landed or never will), then see what it held.
      await()
          .atMost(timeout())
          .pollInterval(Duration.ofMillis(200))
          .until(() -> terminal(store) >= WORK_ORDERS / 2);
      // Kill it while it holds work. Its work orders take milliseconds, so what a read sees it
      // holding may be done before a kill lands: freeze it (SIGSTOP) first, let what it already
      // sent land, and kill it only if it still holds work; otherwise let it go on and try again.
      Process victim = nodes.get(VICTIM);
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> frozenHoldingWork(victim, store));
      victim.destroyForcibly();
      assertThat(victim.waitFor(30, TimeUnit.SECONDS)).isTrue();
      long killedAt = System.nanoTime();
      long terminalAtKill = terminal(store);
      try (Connection c = db.adminConnection()) {
        await().atMost(Duration.ofSeconds(30)).until(() -> backends(c, VICTIM) == 0);
      }
      Map<WorkOrderId, Integer> held = heldBy(store, VICTIM);
      Duration heldReadAfterKill = Duration.ofNanos(System.nanoTime() - killedAt);

      await()
          .atMost(timeout())
          .pollInterval(Duration.ofMillis(500))
          .until(() -> terminal(store) == WORK_ORDERS);
      Duration wall = Duration.ofNanos(System.nanoTime() - start);

      // The survivors stop when told to, and their JVMs exit on their own.
      Map<String, Integer> exits = new TreeMap<>();
      for (Map.Entry<String, Process> node : nodes.entrySet()) {
        if (!node.getKey().equals(VICTIM)) {
          tellToStop(node.getValue());
        }
      }
      for (Map.Entry<String, Process> node : nodes.entrySet()) {
        if (!node.getKey().equals(VICTIM)) {
          exits.put(node.getKey(), exitCode(node.getKey(), node.getValue()));
        }
      }

      History history = History.read(store);
      List<Execution> rows = executions(executions);
      Map<String, Long> perNode =
          history.byId.values().stream()
              .filter(h -> h.completedEvents > 0)
              .collect(
                  Collectors.groupingBy(
                      h -> h.owner(h.completedAttempt), TreeMap::new, Collectors.counting()));
      Map<WorkOrderState, Long> counts = new TreeMap<>();
      store.counts().byState("default").forEach((state, n) -> counts.merge(state, n, Long::sum));
      counts.values().removeIf(n -> n == 0);
      List<String> duplicateLines = new ArrayList<>();
      for (String node : NODES) {
        for (String line : Files.readAllLines(stderr(node))) {
          if (line.startsWith(NodeChild.DUPLICATE) || line.startsWith(NodeChild.MISSING)) {
            duplicateLines.add(node + ": " + line);
          }
        }
      }

      System.out.printf(
          "many nodes: %d work orders (submitted in %d ms), wall time %.1f s, %.0f work orders/s;"
              + " killed %s with %d of them ended, it held %d (read %d ms after the kill);"
              + " completions by node %s; recovered from %s: %d; duplicates found: %d;"
              + " states %s; failed attempts %s; survivors exited %s%n",
          WORK_ORDERS,
          submitTime.toMillis(),
          wall.toMillis() / 1000.0,
          WORK_ORDERS / (wall.toMillis() / 1000.0),
          VICTIM,
          terminalAtKill,
          held.size(),
          heldReadAfterKill.toMillis(),
          perNode,
          VICTIM,
          held.keySet().stream().filter(id -> history.recovered(id, held.get(id))).count(),
          duplicateLines.size(),
          counts,
          history.failureCodes(),
          exits);

      // 1. Every work order ended, and every one completed (the handlers never fail).
      assertThat(history.byId).hasSize(WORK_ORDERS);
      assertThat(counts).containsOnlyKeys(WorkOrderState.COMPLETED);
      assertThat(counts.get(WorkOrderState.COMPLETED)).isEqualTo(WORK_ORDERS);

      // 2. Completed once, recorded as completed once; a second execution only after a reaped
      // attempt; every row's node is the one that claimed that attempt.
      assertThat(duplicateLines).as("duplicate or missing rows the nodes ran into").isEmpty();
      assertThat(history.problems()).as("work orders whose history is not one clean run").isEmpty();
      assertThat(rowProblems(rows, history))
          .as("execution rows the store does not explain")
          .isEmpty();

      // 3. The dead node's work came back: reaped as LEASE_EXPIRED, completed by a survivor
      // later; and no one else's lease expired.
      assertThat(held).as("the node was killed holding work").isNotEmpty();
      assertThat(held.keySet().stream().filter(id -> !history.recovered(id, held.get(id))))
          .as("work the dead node held and no survivor completed after its lease")
          .isEmpty();
      assertThat(history.leaseExpired())
          .as("work orders with a LEASE_EXPIRED attempt are those the dead node held")
          .isEqualTo(held.keySet());

      // 4. The survivors exited by themselves, with no engine stack trace in their logs.
      assertThat(exits)
          .as("survivors' exit codes")
          .containsOnly(Map.entry("node-1", 0), Map.entry("node-3", 0));
      for (String node : NODES) {
        if (!node.equals(VICTIM)) {
          assertThat(summary(node)).contains("duplicates=0", "missing=0");
          assertThat(unexpectedLogLines(node))
              .as("stack traces or errors in %s's log", node)
              .isEmpty();
        }
      }
    } finally {
      for (Process p : nodes.values()) {
        if (p.isAlive()) {
          p.destroyForcibly();
          p.waitFor(30, TimeUnit.SECONDS);
        }
      }
    }
  }

  /** Up front and in batches: one transaction per thousand {@code Submitted} events. */
  private static void submit(WorkOrderStore store, int count) {
    List<AppendRequest> batch = new ArrayList<>(SUBMIT_BATCH);
    for (int i = 0; i < count; i++) {
      WorkOrderSpec spec = WorkOrderSpec.builder(NodeChild.TYPE).payload(i).build();
      batch.add(
          AppendRequest.of(
              WorkOrderId.random(), ExpectedVersion.none(), WorkOrderEvent.Submitted.of(spec)));
      if (batch.size() == SUBMIT_BATCH || i == count - 1) {
        store.appendAll(batch);
        batch.clear();
      }
    }
  }

  private static Duration timeout() {
    return Duration.ofSeconds(120 + WORK_ORDERS / 25);
  }

  private static long terminal(WorkOrderStore store) {
    Map<WorkOrderState, Long> counts = store.counts().byState("default");
    return counts.entrySet().stream()
        .filter(e -> e.getKey().isTerminal())
        .mapToLong(Map.Entry::getValue)
        .sum();
  }

  /** Work orders claimed or running under the node's lease, with the attempt it held. */
  private static Map<WorkOrderId, Integer> heldBy(WorkOrderStore store, String node) {
    Map<WorkOrderId, Integer> held = new HashMap<>();
    long cursor = 0;
    while (true) {
      Page<WorkOrderView> page =
          store.query(
              WorkOrderQuery.builder()
                  .states(WorkOrderState.PREPARING, WorkOrderState.RUNNING)
                  .after(cursor)
                  .limit(PAGE)
                  .build());
      for (WorkOrderView v : page.items()) {
        if (v.leaseOwner().filter(node::equals).isPresent()) {
          held.put(v.id(), v.attempt());
        }
      }
      if (!page.hasNext()) {
        return held;
      }
      cursor = page.nextCursor().getAsLong();
    }
  }

  private static int backends(Connection c, String applicationName) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?")) {
      ps.setString(1, applicationName);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  private Process startNode(String node) throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    return new ProcessBuilder(
            java.toString(),
            "-Xmx512m",
            "-cp",
            System.getProperty("java.class.path"),
            NodeChild.class.getName(),
            PostgresTestDatabase.url(),
            db.schema(),
            node,
            dir.resolve("sandboxes-" + node).toString())
        .redirectOutput(stdout(node).toFile())
        .redirectError(stderr(node).toFile())
        .start();
  }

  /** Kept after the run, under the module's target directory, for a person to read. */
  private Path logs() throws IOException {
    return Files.createDirectories(Path.of("target", "many-nodes", db.schema()));
  }

  private Path stdout(String node) throws IOException {
    return logs().resolve(node + ".out");
  }

  private Path stderr(String node) throws IOException {
    return logs().resolve(node + ".err");
  }

  private static void tellToStop(Process p) throws IOException {
    OutputStream in = p.getOutputStream();
    in.write("stop\n".getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  /** The exit code, or a thread dump in the failure if the JVM does not exit on its own. */
  private int exitCode(String node, Process p) throws Exception {
    if (p.waitFor(60, TimeUnit.SECONDS)) {
      return p.exitValue();
    }
    Path jstack = Path.of(System.getProperty("java.home"), "bin", "jstack");
    String dump = "";
    if (Files.isExecutable(jstack)) {
      Process d = new ProcessBuilder(jstack.toString(), Long.toString(p.pid())).start();
      dump = new String(d.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      d.waitFor(30, TimeUnit.SECONDS);
    }
    p.destroyForcibly();
    throw new AssertionError(node + " did not exit within 60 s of being told to stop:\n" + dump);
  }

  private String summary(String node) throws IOException {
    return Files.readAllLines(stdout(node)).stream()
        .filter(l -> l.startsWith(NodeChild.SUMMARY))
        .findFirst()
        .orElse("no summary from " + node);
  }

  /** Stack-trace lines and ERROR lines; WARN lines are printed for the record. */
  private List<String> unexpectedLogLines(String node) throws IOException {
    List<String> unexpected = new ArrayList<>();
    for (String line : Files.readAllLines(stderr(node))) {
      boolean trace = line.startsWith("\tat ") || line.startsWith("Caused by:");
      if (trace || line.contains(" ERROR ")) {
        unexpected.add(line);
      } else if (line.contains(" WARN ")) {
        System.out.println(node + " warned: " + line);
      }
    }
    return unexpected.size() > 40 ? unexpected.subList(0, 40) : unexpected;
  }

  record Execution(String workOrderId, int attempt, String nodeId, boolean completed) {}

  private List<Execution> executions(String table) throws SQLException {
    List<Execution> rows = new ArrayList<>();
    try (Connection c = db.adminConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT work_order_id, attempt, node_id, completed FROM " + table)) {
      while (rs.next()) {
        rows.add(new Execution(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getBoolean(4)));
      }
    }
    return rows;
  }

  /**
   * Checks the table against the store: each row's attempt was claimed by its node; a row for an
   * attempt that did not complete only where that attempt was reaped; one completed row per work
   * order, for its completed attempt, except that the dead node may have died between storing
   * {@code Completed} and marking its row.
   */
  private static List<String> rowProblems(List<Execution> rows, History history) {
    List<String> problems = new ArrayList<>();
    Map<String, List<Execution>> byId =
        rows.stream().collect(Collectors.groupingBy(Execution::workOrderId));
    for (Map.Entry<WorkOrderId, WorkOrderHistory> e : history.byId.entrySet()) {
      WorkOrderHistory h = e.getValue();
      List<Execution> mine = byId.getOrDefault(e.getKey().value(), List.of());
      long completedRows = mine.stream().filter(Execution::completed).count();
      if (completedRows > 1) {
        problems.add(e.getKey() + " has " + completedRows + " completed rows: " + mine);
      }
      for (Execution x : mine) {
        if (x.attempt() < 1 || x.attempt() > h.owners.size()) {
          problems.add(e.getKey() + " has a row for attempt " + x.attempt() + " never claimed");
        } else if (!x.nodeId().equals(h.owner(x.attempt()))) {
          problems.add(
              e.getKey()
                  + " attempt "
                  + x.attempt()
                  + " ran on "
                  + x.nodeId()
                  + " but was"
                  + " claimed by "
                  + h.owner(x.attempt()));
        } else if (x.attempt() != h.completedAttempt
            && !ErrorCodes.LEASE_EXPIRED.equals(h.failures.get(x.attempt()))) {
          problems.add(
              e.getKey()
                  + " ran attempt "
                  + x.attempt()
                  + " which neither completed nor was"
                  + " reaped: "
                  + h.failures.get(x.attempt()));
        } else if (x.attempt() != h.completedAttempt && x.completed()) {
          problems.add(e.getKey() + " marked the reaped attempt " + x.attempt() + " completed");
        }
      }
      boolean completedRow =
          mine.stream().anyMatch(x -> x.attempt() == h.completedAttempt && x.completed());
      boolean executedRow = mine.stream().anyMatch(x -> x.attempt() == h.completedAttempt);
      if (h.completedEvents == 1
          && !(completedRow || (executedRow && VICTIM.equals(h.owner(h.completedAttempt))))) {
        problems.add(e.getKey() + " completed attempt " + h.completedAttempt + " without a row");
      }
      if (problems.size() > 40) {
        break;
      }
    }
    return problems;
  }

  /** What the log says about one work order: who claimed each attempt and how attempts ended. */
  static final class WorkOrderHistory {
    final List<String> owners = new ArrayList<>(2);
    final Map<Integer, String> failures = new HashMap<>(2);
    final List<String> events = new ArrayList<>(6);
    int completedEvents;
    int completedAttempt;
    int terminalEvents;

    String owner(int attempt) {
      return attempt >= 1 && attempt <= owners.size() ? owners.get(attempt - 1) : "?";
    }
  }

  /** The whole log, folded per work order. */
  static final class History {
    final Map<WorkOrderId, WorkOrderHistory> byId = new HashMap<>();

    static History read(WorkOrderStore store) {
      History history = new History();
      long after = 0;
      while (true) {
        LogPage page = store.readLog(after, PAGE);
        if (page.events().isEmpty()) {
          return history;
        }
        for (RecordedEvent e : page.events()) {
          history.add(e);
        }
        after = page.lastPosition();
      }
    }

    private void add(RecordedEvent e) {
      WorkOrderHistory h = byId.computeIfAbsent(e.workOrderId(), id -> new WorkOrderHistory());
      WorkOrderEvent event = e.event();
      h.events.add(e.recordedAt() + " " + event);
      if (event instanceof WorkOrderEvent.Claimed c) {
        h.owners.add(c.owner());
      } else if (event instanceof WorkOrderEvent.Released r) {
        // A reaped lease gives the attempt back (no attempt charged), with its code.
        h.failures.put(h.owners.size(), r.code());
      } else if (event instanceof WorkOrderEvent.AttemptFailed f) {
        h.failures.put(h.owners.size(), f.error().code());
        if (f.retryAt() == null) {
          h.terminalEvents++;
        }
      } else if (event instanceof WorkOrderEvent.Completed) {
        h.completedEvents++;
        h.completedAttempt = h.owners.size();
        h.terminalEvents++;
      } else if (event instanceof WorkOrderEvent.Cancelled) {
        h.terminalEvents++;
      }
    }

    /** Reaped with LEASE_EXPIRED at the attempt the dead node held, completed by a survivor. */
    boolean recovered(WorkOrderId id, int heldAttempt) {
      WorkOrderHistory h = byId.get(id);
      return h != null
          && ErrorCodes.LEASE_EXPIRED.equals(h.failures.get(heldAttempt))
          && h.completedEvents == 1
          && h.completedAttempt > heldAttempt
          && !VICTIM.equals(h.owner(h.completedAttempt));
    }

    Map<String, Long> failureCodes() {
      return byId.values().stream()
          .flatMap(h -> h.failures.values().stream())
          .collect(Collectors.groupingBy(code -> code, TreeMap::new, Collectors.counting()));
    }

    Set<WorkOrderId> leaseExpired() {
      return byId.entrySet().stream()
          .filter(e -> e.getValue().failures.containsValue(ErrorCodes.LEASE_EXPIRED))
          .map(Map.Entry::getKey)
          .collect(Collectors.toSet());
    }

    List<String> problems() {
      List<String> problems = new ArrayList<>();
      for (Map.Entry<WorkOrderId, WorkOrderHistory> e : byId.entrySet()) {
        WorkOrderHistory h = e.getValue();
        if (h.completedEvents != 1 || h.terminalEvents != 1) {
          problems.add(
              e.getKey()
                  + ": "
                  + h.completedEvents
                  + " Completed, "
                  + h.terminalEvents
                  + " terminal events, attempts by "
                  + h.owners
                  + ", failures "
                  + h.failures);
        }
        for (Map.Entry<Integer, String> f : h.failures.entrySet()) {
          if (!ErrorCodes.LEASE_EXPIRED.equals(f.getValue())) {
            problems.add(e.getKey() + ": attempt " + f.getKey() + " failed with " + f.getValue());
          } else if (!VICTIM.equals(h.owner(f.getKey()))) {
            problems.add(
                e.getKey()
                    + ": attempt "
                    + f.getKey()
                    + " of "
                    + h.owner(f.getKey())
                    + ", a survivor, was reaped: "
                    + h.events);
          }
        }
        if (problems.size() > 40) {
          break;
        }
      }
      return problems;
    }
  }
}
