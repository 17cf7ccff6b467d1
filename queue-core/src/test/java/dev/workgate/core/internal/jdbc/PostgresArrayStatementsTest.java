package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.claimed;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.spec;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The PostgreSQL store writes batches as arrays, one per column ({@code unnest}, {@code = ANY}):
 * text that an array literal treats specially reads back unchanged, whatever column it went in
 * through, and a projection update that finds a row at another version still names the work order.
 */
class PostgresArrayStatementsTest {

  /** Text with a meaning in PostgreSQL's array literals: NULL, braces, quotes, commas, escapes. */
  private static final List<String> SPECIAL =
      List.of(
          "NULL",
          "null",
          " NULL ",
          "{a,b}",
          "{}",
          "\"quoted\"",
          "back\\slash",
          "\\\"",
          "a,b",
          " leading and trailing ",
          "ünïcödé ✓ 𝄞",
          "line\nbreak\ttab");

  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  private final MutableClock clock = MutableClock.create();
  private WorkOrderStore store;

  @BeforeEach
  void open() {
    store = db.openStore(clock);
  }

  @Test
  void text_that_array_literals_treat_specially_reads_back_equal_from_log_and_projection() {
    // One batch of submissions (events and new rows), one of claims and one of failures (events
    // and updated rows), each with every special text in idempotency keys, owners and messages.
    List<WorkOrderId> ids = new ArrayList<>();
    List<AppendRequest> submits = new ArrayList<>();
    for (String s : SPECIAL) {
      String key = printable(s);
      WorkOrderId id = newId();
      ids.add(id);
      submits.add(
          AppendRequest.of(
              id, ExpectedVersion.none(), submitted(spec("q " + key).idempotencyKey(key).build())));
    }
    store.appendAll(submits);
    List<AppendRequest> claims = new ArrayList<>();
    List<AppendRequest> failures = new ArrayList<>();
    for (int i = 0; i < SPECIAL.size(); i++) {
      String s = SPECIAL.get(i);
      claims.add(
          AppendRequest.of(
              ids.get(i),
              ExpectedVersion.exactly(1),
              claimed(printable(s), clock.instant().plusSeconds(60))));
      failures.add(
          AppendRequest.of(
              ids.get(i),
              ExpectedVersion.exactly(2),
              WorkOrderEvent.AttemptFailed.finalFailure(
                  ErrorInfo.fatal("E " + printable(s), s), s)));
    }
    store.appendAll(claims);
    List<RecordedEvent> failed = store.appendAll(failures);

    for (int i = 0; i < SPECIAL.size(); i++) {
      String s = SPECIAL.get(i);
      WorkOrderId id = ids.get(i);
      List<RecordedEvent> stream = store.readStream(id);
      assertThat(stream).hasSize(3);
      assertThat(stream.get(0).event()).isEqualTo(submits.get(i).events().get(0));
      assertThat(stream.get(1).event()).isEqualTo(claims.get(i).events().get(0));
      assertThat(stream.get(2)).isEqualTo(failed.get(i));
      WorkOrderView view = store.find(id).orElseThrow();
      assertThat(view.queue()).isEqualTo("q " + printable(s));
      assertThat(view.spec().idempotencyKey()).contains(printable(s));
      assertThat(view.lastError()).contains(ErrorInfo.fatal("E " + printable(s), s));
      assertThat(store.findByIdempotencyKey(printable(s))).contains(id);
    }
    assertThat(store.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
  }

  @Test
  void an_update_that_finds_a_row_at_another_version_names_the_work_order_and_writes_nothing()
      throws Exception {
    WorkOrderId first = newId();
    WorkOrderId second = newId();
    store.appendAll(
        List.of(
            AppendRequest.of(first, ExpectedVersion.none(), submitted("jobs")),
            AppendRequest.of(second, ExpectedVersion.none(), submitted("jobs"))));
    SqlDialect dialect = new SqlDialect.Postgres(db.schema(), JdbcTestKit.PREFIX);
    Tables tables = new Tables(dialect, false, 1 << 20);
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      Map<WorkOrderId, Tables.Current> rows = tables.load(c, Set.of(first, second), "");
      Row a = rows.get(first).row();
      Row b = rows.get(second).row();
      // The second row's expected version is not the one it has.
      assertThatThrownBy(
              () ->
                  tables.updateRows(
                      c,
                      List.of(withVersion(a, 2), withVersion(b, 2)),
                      List.of(a.version(), b.version() + 1)))
          .isInstanceOf(ConcurrencyException.class)
          .hasMessageContaining(second.value());
      c.rollback();
    }
    assertThat(store.find(first).orElseThrow().version()).isEqualTo(1);
    assertThat(store.find(second).orElseThrow().version()).isEqualTo(1);
  }

  /** Names, owners and keys refuse control characters; messages and reasons keep them. */
  private static String printable(String s) {
    return s.replaceAll("\\p{Cntrl}", " ");
  }

  private static Row withVersion(Row r, long version) {
    return new Row(
        r.id(),
        r.seq(),
        r.queue(),
        r.type(),
        r.state(),
        r.priority(),
        r.slots(),
        r.memoryMb(),
        r.attempt(),
        version,
        r.submittedAt(),
        r.updatedAt(),
        r.availableAt(),
        r.leaseOwner(),
        r.leaseExpiresAt(),
        r.nextAttemptAt(),
        r.idempotencyKey(),
        r.errorCode(),
        r.errorMessage(),
        r.errorRetryable(),
        r.result(),
        r.cancellationReason(),
        r.resubmittedFrom(),
        r.releases(),
        r.batchId(),
        r.checkpoint(),
        r.progress());
  }
}
