package dev.workgate.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.internal.jdbc.PostgresTestDatabase;
import dev.workgate.core.store.WorkOrderStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The CLI against a PostgreSQL store, each test in a schema of its own. */
class PostgresStoreTest {
  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  private CliRun cli(String... args) {
    String[] all =
        Arrays.copyOf(
            new String[] {"--store", PostgresTestDatabase.url(), "--schema", db.schema()},
            4 + args.length);
    System.arraycopy(args, 0, all, 4, args.length);
    return CliRun.run(all);
  }

  @Test
  void status_list_show_cancel_and_verify_work_on_postgres() {
    WorkOrderId pending;
    WorkOrderId failed;
    try (WorkOrderStore store = db.openStore(Clock.systemUTC())) {
      pending = Fixtures.pending(store, "builds", "compile");
      failed = Fixtures.failed(store, "agents", Instant.now().plus(1, ChronoUnit.HOURS));
    }
    CliRun status = cli("status");
    assertThat(status.exit()).isZero();
    assertThat(status.out().lines().toList().get(3).split("\\s+"))
        .containsExactly("TOTAL", "1", "0", "0", "0", "1", "0", "0", "0", "2");

    CliRun list = cli("list", "--state", "failed");
    assertThat(list.out().lines().skip(1).map(l -> l.split("\\s+")[0]))
        .containsExactly(failed.value());

    CliRun show = cli("show", failed.value());
    assertThat(show.out()).contains("last error        TIMEOUT: ran past 1h");

    CliRun cancel = cli("cancel", pending.value(), "--reason", "from the CLI");
    assertThat(cancel.out()).contains("cancelled (it was PENDING)");
    try (WorkOrderStore store = db.openStore(Clock.systemUTC())) {
      assertThat(store.find(pending).orElseThrow().state()).isEqualTo(WorkOrderState.CANCELLED);
    }

    CliRun resubmit = cli("resubmit", failed.value());
    assertThat(resubmit.exit()).isZero();
    CliRun verify = cli("verify");
    assertThat(verify.exit()).isZero();
    assertThat(verify.out()).startsWith("projection matches the log: 3 work orders");
  }

  @Test
  void pause_queues_and_resume_work_on_postgres() {
    try (WorkOrderStore store = db.openStore(Clock.systemUTC())) {
      Fixtures.pending(store, "builds", "compile");
    }
    CliRun pause = cli("pause", "builds", "--reason", "registry down", "--by", "ops-alice");
    assertThat(pause.exit()).as(pause.err()).isZero();
    assertThat(pause.out()).startsWith("paused queue 'builds' by ops-alice since ");
    assertThat(cli("pause", "builds", "--reason", "again").out())
        .contains("was already paused by ops-alice");

    CliRun queues = cli("queues");
    assertThat(queues.exit()).isZero();
    assertThat(queues.out().lines().toList().get(1).split("\\s+"))
        .startsWith("builds", "1", "0", "0")
        .contains("ops-alice", "registry", "down");
    try (WorkOrderStore store = db.openStore(Clock.systemUTC())) {
      assertThat(store.pausedQueues())
          .singleElement()
          .satisfies(p -> assertThat(p.actor()).isEqualTo("ops-alice"));
    }

    CliRun resume = cli("resume", "builds", "--by", "ops-bob");
    assertThat(resume.out()).startsWith("resumed queue 'builds' by ops-bob");
    assertThat(cli("resume", "builds").out()).contains("was not paused; nothing was changed");
    try (WorkOrderStore store = db.openStore(Clock.systemUTC())) {
      assertThat(store.pausedQueues()).isEmpty();
    }
  }

  @Test
  void a_role_that_may_only_read_runs_the_read_commands_and_is_refused_the_changes()
      throws Exception {
    WorkOrderId failed;
    try (WorkOrderStore store = db.openStore(Clock.systemUTC())) {
      Fixtures.pending(store, "builds", "compile");
      failed = Fixtures.failed(store, "agents", Instant.now().plus(1, ChronoUnit.HOURS));
    }
    String role = "wgt_cli_reader_" + Long.toHexString(System.nanoTime());
    db.execute("CREATE ROLE " + role + " LOGIN");
    try {
      db.execute("GRANT USAGE ON SCHEMA " + db.schema() + " TO " + role);
      db.execute("GRANT SELECT ON ALL TABLES IN SCHEMA " + db.schema() + " TO " + role);
      String url = PostgresTestDatabase.url().replace("user=postgres", "user=" + role);
      assertThat(url).contains("user=" + role);

      for (String[] read :
          new String[][] {
            {"status"},
            {"list", "--state", "failed"},
            {"show", failed.value()},
            {"queues"},
            {"verify"}
          }) {
        String[] args = new String[4 + read.length];
        args[0] = "--store";
        args[1] = url;
        args[2] = "--schema";
        args[3] = db.schema();
        System.arraycopy(read, 0, args, 4, read.length);
        CliRun r = CliRun.run(args);
        assertThat(r.exit()).as("%s: %s", read[0], r.err()).isZero();
      }
      CliRun resubmit =
          CliRun.run("--store", url, "--schema", db.schema(), "resubmit", failed.value());
      assertThat(resubmit.exit()).isEqualTo(1);
      assertThat(resubmit.err()).contains(role).contains("INSERT");
    } finally {
      db.execute("DROP OWNED BY " + role);
      db.execute("DROP ROLE " + role);
    }
  }

  @Test
  void serve_over_postgres_shows_the_store_without_its_password() throws Exception {
    WorkOrderId pending;
    try (WorkOrderStore store = db.openStore(Clock.systemUTC())) {
      pending = Fixtures.pending(store, "builds", "compile");
    }
    String url = PostgresTestDatabase.url();
    String withPassword = url + (url.contains("?") ? "&" : "?") + "password=hunter2-not-shown";
    try (BackgroundServe run =
        BackgroundServe.start(
            "--store", withPassword, "--schema", db.schema(), "serve", "--port", "0")) {
      int port = run.port();
      HttpResponse<String> view =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + port + "/api/work-orders/" + pending))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(view.statusCode()).isEqualTo(200);
      assertThat(view.body()).contains("\"state\":\"PENDING\"");

      CliRun r = run.stop();

      assertThat(r.exit()).isZero();
      assertThat(r.out())
          .startsWith("serving jdbc:postgresql://")
          .contains(" (schema " + db.schema() + ") at http://127.0.0.1:" + port + "/")
          .doesNotContain("hunter2")
          .doesNotContain("password");
      assertThat(r.err()).doesNotContain("hunter2");
    }
  }

  @Test
  void a_schema_without_workgate_tables_is_refused_and_left_empty() throws Exception {
    CliRun r = cli("status");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err())
        .startsWith(
            "workgate-admin: the PostgreSQL schema "
                + db.schema()
                + " is not a Workgate store with table prefix 'workgate_'")
        .contains("it holds no tables")
        .contains("Nothing was changed");
    CliRun cancel = cli("cancel", dev.workgate.core.WorkOrderId.random().toString());
    assertThat(cancel.exit()).isEqualTo(1);
    assertThat(cancel.err()).contains("is not a Workgate store with table prefix 'workgate_'");
    try (Connection c = db.adminConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = '"
                    + db.schema()
                    + "'")) {
      rs.next();
      assertThat(rs.getInt(1)).isZero();
    }
  }

  @Test
  void a_bad_schema_name_is_a_usage_error() {
    CliRun r = cli("status", "--schema", "Drop Table");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).startsWith("workgate-admin: ").contains("Drop Table");
  }
}
