package dev.workgate.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServeCommandTest {
  static final String TOKEN = "serve-token-0123456789abcdef";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<BackgroundServe> runs = new ArrayList<>();
  private Path db;
  private WorkOrderId pending;
  private WorkOrderId running;

  @BeforeEach
  void prepare() {
    db = dir.resolve("workgate.db");
    try (WorkOrderStore store = Stores.sqlite(db)) {
      pending = Fixtures.pending(store, "builds", "compile");
      running = Fixtures.running(store, "builds", Instant.now().plus(1, ChronoUnit.HOURS));
      Fixtures.completed(store, "agents", Instant.now().plus(1, ChronoUnit.HOURS));
    }
  }

  @AfterEach
  void stopAll() {
    runs.forEach(BackgroundServe::close);
  }

  private BackgroundServe serve(String... args) {
    return serveWith(name -> null, args);
  }

  private BackgroundServe serveWith(
      java.util.function.UnaryOperator<String> environment, String... args) {
    List<String> all = new ArrayList<>(List.of("--store", db.toString(), "serve"));
    all.addAll(List.of(args));
    BackgroundServe run = BackgroundServe.start(environment, all.toArray(String[]::new));
    runs.add(run);
    return run;
  }

  private HttpResponse<String> get(int port, String path, String token) throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET();
    if (token != null) {
      r.header("Authorization", "Bearer " + token);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(int port, String path, String token) throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .POST(HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      r.header("Authorization", "Bearer " + token);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void assertOneErrorLine(CliRun r, int exit) {
    assertThat(r.exit()).isEqualTo(exit);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines()).hasSize(1);
    assertThat(r.err()).startsWith("workgate-admin: ").doesNotContain("\tat ");
  }

  @Test
  void without_a_token_serves_a_read_only_file_and_leaves_it_unchanged() throws Exception {
    Files.setPosixFilePermissions(db, PosixFilePermissions.fromString("r--r--r--"));
    byte[] before = Files.readAllBytes(db);
    BackgroundServe run = serve("--port", "0");
    int port = run.port();

    assertThat(get(port, "/api/queue/stats", null).statusCode()).isEqualTo(200);
    assertThat(get(port, "/api/work-orders/" + pending.value(), null).statusCode()).isEqualTo(200);
    assertThat(run.stop().exit()).isZero();

    // Root ignores permissions: the bytes, and no -wal or -shm beside the file, show no write.
    assertThat(Files.readAllBytes(db)).isEqualTo(before);
    assertThat(db.resolveSibling("workgate.db-wal")).doesNotExist();
    assertThat(db.resolveSibling("workgate.db-shm")).doesNotExist();
  }

  @Test
  void serves_the_stats_and_work_orders_of_a_sqlite_store_until_stopped() throws Exception {
    BackgroundServe run = serve("--port", "0");
    int port = run.port();

    JsonNode stats = JSON.readTree(get(port, "/api/queue/stats", null).body());
    assertThat(stats.get("queues").get("builds").get("PENDING").asLong()).isEqualTo(1);
    assertThat(stats.get("queues").get("builds").get("RUNNING").asLong()).isEqualTo(1);
    assertThat(stats.get("totals").get("COMPLETED").asLong()).isEqualTo(1);
    assertThat(stats.has("scheduler")).isFalse();
    HttpResponse<String> view = get(port, "/api/work-orders/" + running.value(), null);
    assertThat(view.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(view.body()).get("state").asText()).isEqualTo("RUNNING");
    assertThat(get(port, "/health/ready", null).statusCode()).isEqualTo(200);
    assertThat(get(port, "/metrics", null).body())
        .contains("workgate_work_orders{queue=\"builds\",state=\"PENDING\"} 1.0")
        .doesNotContain("workgate_slots_max");
    // Without a token nothing changes a work order.
    assertThat(post(port, "/api/work-orders/" + pending.value() + "/cancel", null).statusCode())
        .isEqualTo(403);

    CliRun r = run.stop();

    assertThat(r.exit()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(r.out())
        .isEqualTo(
            "serving "
                + db.toAbsolutePath().normalize()
                + " at http://127.0.0.1:"
                + port
                + "/ (Ctrl-C stops)"
                + System.lineSeparator());
    assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), port).close())
        .isInstanceOf(ConnectException.class);
  }

  @Test
  void a_token_from_the_environment_guards_the_routes_and_allows_cancel() throws Exception {
    BackgroundServe run =
        serveWith(name -> name.equals(ServeCommand.TOKEN_ENV) ? TOKEN : null, "--port", "0");
    int port = run.port();

    assertThat(get(port, "/api/queue/stats", null).statusCode()).isEqualTo(401);
    assertThat(get(port, "/api/queue/stats", TOKEN).statusCode()).isEqualTo(200);
    HttpResponse<String> cancel =
        post(port, "/api/work-orders/" + pending.value() + "/cancel", TOKEN);
    assertThat(cancel.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(cancel.body()).get("outcome").asText()).isEqualTo("CANCELLED");
    HttpResponse<String> request =
        post(port, "/api/work-orders/" + running.value() + "/cancel", TOKEN);
    assertThat(JSON.readTree(request.body()).get("outcome").asText())
        .isEqualTo("CANCELLATION_REQUESTED");
    assertThat(run.stop().exit()).isZero();

    try (WorkOrderStore store = Stores.sqlite(db)) {
      assertThat(store.find(pending).orElseThrow().state()).isEqualTo(WorkOrderState.CANCELLED);
      assertThat(store.find(running).orElseThrow().cancellationRequested())
          .contains("cancelled over HTTP");
    }
  }

  @Test
  void a_token_file_is_read_and_trimmed() throws Exception {
    Path file = dir.resolve("token");
    Files.writeString(file, "  " + TOKEN + "\n");
    BackgroundServe run = serve("--port", "0", "--token-file", file.toString());
    int port = run.port();

    assertThat(get(port, "/api/queue/stats", TOKEN).statusCode()).isEqualTo(200);
    assertThat(get(port, "/api/queue/stats", null).statusCode()).isEqualTo(401);
    assertThat(run.stop().out()).doesNotContain(TOKEN);
  }

  @Test
  void a_non_loopback_bind_without_a_token_is_a_usage_error_and_serves_nothing() throws Exception {
    BackgroundServe run = serve("--bind", "0.0.0.0", "--port", "0");

    CliRun r = run.ended();

    assertOneErrorLine(r, 2);
    assertThat(r.err())
        .contains("refusing to serve on 0.0.0.0 without a token")
        .contains("--token-file")
        .contains(ServeCommand.TOKEN_ENV);
    assertThat(run.served()).isFalse();
  }

  @Test
  void a_missing_short_or_malformed_token_file_is_a_usage_error_that_never_shows_the_token()
      throws Exception {
    CliRun missing = serve("--token-file", dir.resolve("nope").toString()).ended();
    assertOneErrorLine(missing, 2);
    assertThat(missing.err()).contains("--token-file").contains("cannot be read");

    Path shortFile = dir.resolve("short");
    Files.writeString(shortFile, "tiny-secret\n");
    CliRun tooShort = serve("--token-file", shortFile.toString()).ended();
    assertOneErrorLine(tooShort, 2);
    assertThat(tooShort.err()).contains("has 11 characters; at least 16").doesNotContain("tiny");

    Path spaced = dir.resolve("spaced");
    Files.writeString(spaced, "secret with spaces inside it");
    BackgroundServe bad = serve("--port", "0", "--token-file", spaced.toString());
    CliRun malformed = bad.ended();
    assertOneErrorLine(malformed, 2);
    assertThat(malformed.err()).contains("printable ASCII").doesNotContain("secret");
    assertThat(bad.served()).isFalse();

    CliRun emptyEnv = serveWith(name -> name.equals(ServeCommand.TOKEN_ENV) ? " " : null).ended();
    assertOneErrorLine(emptyEnv, 2);
    assertThat(emptyEnv.err()).contains("$" + ServeCommand.TOKEN_ENV + " has 0 characters");
  }

  @Test
  void a_port_in_use_is_one_line_and_exit_1() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      BackgroundServe run = serve("--port", Integer.toString(taken.getLocalPort()));

      CliRun r = run.ended();

      assertOneErrorLine(r, 1);
      assertThat(r.err()).contains("cannot listen on 127.0.0.1:" + taken.getLocalPort());
      assertThat(run.served()).isFalse();
    }
  }

  @Test
  void bad_ports_and_thread_counts_are_usage_errors() throws Exception {
    assertOneErrorLine(serve("--port", "70000").ended(), 2);
    assertOneErrorLine(serve("--threads", "0").ended(), 2);
    assertOneErrorLine(serve("--bind", "no-such-host.invalid").ended(), 2);
  }

  @Test
  void a_missing_store_is_one_line_and_serves_nothing() throws Exception {
    BackgroundServe run =
        BackgroundServe.start("--store", dir.resolve("missing.db").toString(), "serve");
    runs.add(run);

    CliRun r = run.ended();

    assertOneErrorLine(r, 1);
    assertThat(r.err()).contains("no SQLite store at");
    assertThat(Files.exists(dir.resolve("missing.db"))).isFalse();
  }

  @Test
  void postgres_urls_are_shown_without_user_information_or_parameters() {
    assertThat(
            WorkgateAdmin.withoutSecrets(
                "jdbc:postgresql://db.internal:5432/work?user=ops&password=hunter2"))
        .isEqualTo("jdbc:postgresql://db.internal:5432/work");
    assertThat(WorkgateAdmin.withoutSecrets("jdbc:postgresql://ops:hunter2@db:5432/work"))
        .isEqualTo("jdbc:postgresql://db:5432/work");
    assertThat(WorkgateAdmin.withoutSecrets("jdbc:postgresql://a:5432,b:5433/work"))
        .isEqualTo("jdbc:postgresql://a:5432,b:5433/work");
    assertThat(WorkgateAdmin.withoutSecrets("jdbc:postgresql:work?password=x"))
        .isEqualTo("jdbc:postgresql:work");
  }
}
