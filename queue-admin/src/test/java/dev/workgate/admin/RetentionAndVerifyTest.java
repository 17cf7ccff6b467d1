package dev.workgate.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RetentionAndVerifyTest {
  static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
  static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  @TempDir Path dir;
  Path db;
  WorkOrderId oldCompleted;
  WorkOrderId oldFailed;
  WorkOrderId oldCancelled;
  WorkOrderId oldPending;
  WorkOrderId recentCompleted;

  @BeforeEach
  void prepare() {
    db = dir.resolve("workgate.db");
    Instant monthAgo = NOW.minus(30, ChronoUnit.DAYS);
    try (WorkOrderStore store =
        Stores.sqlite(
            db, SqliteOptions.builder().clock(Clock.fixed(monthAgo, ZoneOffset.UTC)).build())) {
      oldCompleted = Fixtures.completed(store, "builds", monthAgo.plusSeconds(60));
      oldFailed = Fixtures.failed(store, "builds", monthAgo.plusSeconds(60));
      oldCancelled = Fixtures.cancelled(store, "agents");
      oldPending = Fixtures.pending(store, "agents", "agent-run");
    }
    try (WorkOrderStore store =
        Stores.sqlite(
            db,
            SqliteOptions.builder()
                .clock(Clock.fixed(NOW.minus(1, ChronoUnit.DAYS), ZoneOffset.UTC))
                .build())) {
      recentCompleted = Fixtures.completed(store, "builds", NOW);
    }
  }

  private CliRun cli(String... args) {
    String[] all = Arrays.copyOf(new String[] {"--store", db.toString()}, 2 + args.length);
    System.arraycopy(args, 0, all, 2, args.length);
    return CliRun.run(CLOCK, all);
  }

  private boolean exists(WorkOrderId id) {
    try (WorkOrderStore store = Stores.sqlite(db)) {
      return store.find(id).isPresent();
    }
  }

  @Test
  void dry_run_counts_ended_work_orders_older_than_the_cutoff_and_deletes_nothing() {
    CliRun r = cli("purge", "--older-than", "7d", "--dry-run");
    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .isEqualTo(
            "would delete 3 ended work orders last updated before 2026-02-22T12:00:00Z"
                + System.lineSeparator());
    assertThat(exists(oldCompleted)).isTrue();
    assertThat(exists(oldFailed)).isTrue();
  }

  @Test
  void purge_deletes_old_ended_work_orders_in_batches_and_keeps_the_rest() {
    CliRun r = cli("purge", "--older-than", "7d", "--batch-size", "2");
    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .isEqualTo(
            "deleted 3 ended work orders last updated before 2026-02-22T12:00:00Z in 2 batches"
                + System.lineSeparator());
    assertThat(exists(oldCompleted)).isFalse();
    assertThat(exists(oldFailed)).isFalse();
    assertThat(exists(oldCancelled)).isFalse();
    assertThat(exists(oldPending)).isTrue();
    assertThat(exists(recentCompleted)).isTrue();

    CliRun hours = cli("purge", "--older-than", "12h");
    assertThat(hours.out()).startsWith("deleted 1 ended work orders");
    assertThat(exists(recentCompleted)).isFalse();
    assertThat(exists(oldPending)).isTrue();
  }

  @Test
  void purge_with_a_cutoff_before_everything_deletes_nothing() {
    CliRun r = cli("purge", "--older-than", "60d");
    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .startsWith("deleted 0 ended work orders")
        .endsWith("in 0 batches" + System.lineSeparator());
    assertThat(exists(oldCompleted)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"7", "7x", "0d", "-1d", "1.5h", "7 d", "d", "7D", "30s", "36501d", ""})
  void purge_rejects_malformed_durations(String age) {
    CliRun r = cli("purge", "--older-than", age);
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).startsWith("workgate-admin: ").contains("'" + age + "'").hasLineCount(1);
    assertThat(exists(oldCompleted)).isTrue();
  }

  @Test
  void purge_needs_an_age_and_a_sane_batch_size() {
    CliRun none = cli("purge");
    assertThat(none.exit()).isEqualTo(2);
    assertThat(none.err()).contains("Missing required option: '--older-than=<age>'");
    CliRun batch = cli("purge", "--older-than", "7d", "--batch-size", "0");
    assertThat(batch.exit()).isEqualTo(2);
    assertThat(batch.err()).contains("--batch-size must be between 1 and 10000, got 0");
    assertThat(exists(oldCompleted)).isTrue();
  }

  @Test
  void ages_parse_to_their_durations() {
    assertThat(Converters.age("7d")).isEqualTo(Duration.ofDays(7));
    assertThat(Converters.age("12h")).isEqualTo(Duration.ofHours(12));
    assertThat(Converters.age("30m")).isEqualTo(Duration.ofMinutes(30));
    assertThat(Converters.age("36500d")).isEqualTo(Duration.ofDays(36_500));
  }

  @Test
  void verify_reports_a_consistent_projection() {
    CliRun r = cli("verify");
    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .isEqualTo("projection matches the log: 5 work orders, 15 events" + System.lineSeparator());
  }

  @Test
  void verify_prints_each_difference_and_exits_3_without_repairing() throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        PreparedStatement ps =
            c.prepareStatement("UPDATE workgate_work_orders SET attempt = 7 WHERE id = ?")) {
      ps.setString(1, oldFailed.value());
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    CliRun r = cli("verify");
    assertThat(r.exit()).isEqualTo(3);
    assertThat(r.out().lines().toList())
        .containsExactly(
            oldFailed + ": attempt: row 7, log 1",
            "1 of 5 work orders differ from the log (15 events); the log is the truth: a program"
                + " can rewrite the rows with WorkOrderStore.rebuildProjection(RebuildMode.REPAIR)");
    try (WorkOrderStore store = Stores.sqlite(db)) {
      assertThat(store.find(oldFailed).orElseThrow().attempt()).isEqualTo(7);
      assertThat(store.find(oldFailed).orElseThrow().state()).isEqualTo(WorkOrderState.FAILED);
    }
  }
}
