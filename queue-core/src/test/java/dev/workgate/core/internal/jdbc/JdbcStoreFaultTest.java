package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.cancelled;
import static dev.workgate.core.testing.WorkOrderFixtures.claimed;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.spec;
import static dev.workgate.core.testing.WorkOrderFixtures.started;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.internal.jdbc.JdbcTestKit.RawTables;
import dev.workgate.core.store.EventQuery;
import dev.workgate.core.store.EventQuery.EventPage;
import dev.workgate.core.store.RebuildReport;
import dev.workgate.core.store.RebuildReport.ProjectionMismatch;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.StoreView.LogPage;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Faults that both JDBC dialects must report clearly: damaged event rows, a schema of another
 * version or without its meta table, and opening the same tables again. Subclasses add the faults
 * of their own database (a killed backend, a read-only file).
 *
 * <p>Damage is done with plain SQL from outside the store, as an operator's mistake or a bad disk
 * would do it.
 */
abstract class JdbcStoreFaultTest {

  static final String QUEUE = "jobs";

  final MutableClock clock = MutableClock.create();
  private final List<WorkOrderStore> opened = new ArrayList<>();

  /**
   * Opens a store on this test's database: every call opens the same tables.
   *
   * @return a new store instance stamping events with {@link #clock}
   */
  abstract WorkOrderStore openStore();

  /**
   * SQL access to this test's tables.
   *
   * @return the tables
   */
  abstract RawTables raw();

  /** Opens a store that is closed after the test. */
  final WorkOrderStore open() {
    return track(openStore());
  }

  /** Closes a store after the test. */
  final WorkOrderStore track(WorkOrderStore store) {
    opened.add(store);
    return store;
  }

  @AfterEach
  void closeStores() {
    for (WorkOrderStore store : opened) {
      store.close();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // schema

  @Test
  void a_new_database_records_the_current_schema_version_and_has_the_audit_indexes() {
    open();

    assertThat(raw().query("SELECT key, value FROM {meta} WHERE key = 'schema_version'"))
        .containsExactly(
            Map.of("key", "schema_version", "value", String.valueOf(SqlDialect.SCHEMA_VERSION)));
    assertThat(raw().indexExists("events_recorded")).as("events_recorded").isTrue();
    assertThat(raw().indexExists("events_type")).as("events_type").isTrue();
    assertThat(raw().indexExists("wo_resubmitted")).as("wo_resubmitted").isTrue();
  }

  @Test
  void a_version_1_store_is_upgraded_on_open_to_the_current_version_with_the_audit_indexes() {
    WorkOrderStore store = open();
    List<WorkOrderId> ids = JdbcTestKit.submitMany(store, QUEUE, 5, 5);
    store.close();
    makeVersion1(true);
    assertThat(raw().indexExists("events_recorded")).isFalse();
    assertThat(raw().indexExists("events_type")).isFalse();

    WorkOrderStore reopened = open();

    assertThat(schemaVersion()).isEqualTo(String.valueOf(SqlDialect.SCHEMA_VERSION));
    assertThat(raw().indexExists("events_recorded")).as("events_recorded").isTrue();
    assertThat(raw().indexExists("events_type")).as("events_type").isTrue();
    assertThat(JdbcTestKit.wholeLog(reopened))
        .extracting(RecordedEvent::workOrderId)
        .containsExactlyElementsOf(ids);
    WorkOrderId later = submit(reopened);
    assertThat(reopened.find(later)).isPresent();
    List<WorkOrderId> all = new ArrayList<>(ids);
    all.add(later);
    assertThat(reopened.queryEvents(EventQuery.builder().oldestFirst().build()).events())
        .extracting(RecordedEvent::workOrderId)
        .containsExactlyElementsOf(all);
    EventPage newest =
        reopened.queryEvents(EventQuery.builder().types(EventType.SUBMITTED).limit(2).build());
    assertThat(newest.events())
        .extracting(RecordedEvent::workOrderId)
        .containsExactly(later, ids.get(4));
    assertThat(
            reopened
                .queryEvents(
                    EventQuery.builder()
                        .types(EventType.SUBMITTED)
                        .after(newest.nextCursor().orElseThrow())
                        .build())
                .events())
        .extracting(RecordedEvent::workOrderId)
        .containsExactly(ids.get(3), ids.get(2), ids.get(1), ids.get(0));
    reopened.close();
    assertThat(open().find(ids.get(0))).as("opens again at the current version").isPresent();
    assertThat(schemaVersion()).isEqualTo(String.valueOf(SqlDialect.SCHEMA_VERSION));
  }

  @Test
  void a_version_1_store_with_an_audit_index_built_beforehand_is_upgraded() {
    open().close();
    makeVersion1(false);
    assertThat(raw().indexExists("events_recorded")).isTrue();
    assertThat(raw().indexExists("events_type")).isFalse();

    open();

    assertThat(schemaVersion()).isEqualTo(String.valueOf(SqlDialect.SCHEMA_VERSION));
    assertThat(raw().indexExists("events_recorded")).isTrue();
    assertThat(raw().indexExists("events_type")).isTrue();
  }

  @Test
  void a_version_2_store_is_upgraded_with_a_release_count_of_zero_and_a_node_table() {
    WorkOrderStore store = open();
    List<WorkOrderId> ids = JdbcTestKit.submitMany(store, QUEUE, 3, 3);
    store.claim(claim(1));
    store.close();
    makeVersion2();

    WorkOrderStore reopened = open();

    assertThat(schemaVersion()).isEqualTo(String.valueOf(SqlDialect.SCHEMA_VERSION));
    for (WorkOrderId id : ids) {
      assertThat(reopened.find(id).orElseThrow().releases()).isZero();
    }
    assertThat(reopened.nodes()).isEmpty();
    assertThat(reopened.rebuildProjection(RebuildMode.VERIFY).mismatches()).isEmpty();
  }

  @Test
  void a_version_3_store_is_upgraded_with_the_index_of_resubmissions_and_finds_them() {
    WorkOrderStore store = open();
    WorkOrderId failed = submit(store);
    store.append(failed, ExpectedVersion.exactly(1), List.of(cancelled()));
    List<WorkOrderId> again = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      WorkOrderId id = newId();
      store.append(
          id,
          ExpectedVersion.none(),
          List.of(new WorkOrderEvent.Submitted(spec(QUEUE).build(), failed)));
      again.add(id);
      submit(store);
    }
    store.close();
    makeVersion3();
    assertThat(raw().indexExists("wo_resubmitted")).isFalse();

    WorkOrderStore reopened = open();

    assertThat(schemaVersion()).isEqualTo(String.valueOf(SqlDialect.SCHEMA_VERSION));
    assertThat(SqlDialect.SCHEMA_VERSION).isEqualTo(4);
    assertThat(raw().indexExists("wo_resubmitted")).as("wo_resubmitted").isTrue();
    assertThat(reopened.query(WorkOrderQuery.builder().resubmittedFrom(failed).build()).items())
        .extracting(v -> v.id())
        .containsExactlyElementsOf(again);
    assertThat(reopened.rebuildProjection(RebuildMode.VERIFY).mismatches()).isEmpty();
    reopened.close();
    assertThat(open().find(failed)).as("opens again at the current version").isPresent();
  }

  @Test
  void a_version_3_store_with_the_index_of_resubmissions_built_beforehand_is_upgraded() {
    open().close();
    makeVersion3();
    raw()
        .update(
            // An index name is not qualified: it goes into its table's schema.
            "CREATE INDEX "
                + JdbcTestKit.PREFIX
                + "wo_resubmitted ON {work_orders} (resubmitted_from)"
                + " WHERE resubmitted_from IS NOT NULL");

    open();

    assertThat(schemaVersion()).isEqualTo(String.valueOf(SqlDialect.SCHEMA_VERSION));
    assertThat(raw().indexExists("wo_resubmitted")).isTrue();
  }

  @Test
  void a_damaged_version_3_store_is_refused_and_not_upgraded() {
    WorkOrderStore store = open();
    submit(store);
    store.close();
    makeVersion3();
    raw().update("DELETE FROM {meta} WHERE key = 'last_position'");

    StoreException e = catchThrowableOfType(StoreException.class, this::open);

    assertThat(e).as("StoreException").isNotNull();
    assertDamagedSchemaMessage(e);
    assertThat(schemaVersion()).isEqualTo("3");
    assertThat(raw().indexExists("wo_resubmitted")).isFalse();
  }

  @Test
  void a_damaged_version_1_store_is_refused_and_not_upgraded() {
    WorkOrderStore store = open();
    submit(store);
    store.close();
    makeVersion1(true);
    raw().update("DELETE FROM {meta} WHERE key = 'last_position'");

    StoreException e = catchThrowableOfType(StoreException.class, this::open);

    assertThat(e).as("StoreException").isNotNull();
    assertDamagedSchemaMessage(e);
    assertThat(schemaVersion()).isEqualTo("1");
    assertThat(raw().indexExists("events_recorded")).isFalse();
    assertThat(raw().indexExists("events_type")).isFalse();
  }

  @Test
  void opening_the_same_tables_again_keeps_them_and_their_contents() {
    WorkOrderStore first = open();
    WorkOrderId id = submit(first);
    first.close();

    WorkOrderStore second = open();
    WorkOrderStore third = open();

    assertThat(second.find(id)).map(v -> v.state()).contains(WorkOrderState.PENDING);
    WorkOrderId later = submit(third);
    assertThat(second.find(later)).isPresent();
    assertThat(JdbcTestKit.wholeLog(second))
        .extracting(RecordedEvent::workOrderId)
        .containsExactly(id, later);
    assertThat(raw().value("SELECT COUNT(*) FROM {meta} WHERE key = 'schema_version'"))
        .hasToString("1");
  }

  @Test
  void a_newer_schema_version_is_refused_naming_both_versions() {
    WorkOrderStore store = open();
    submit(store);
    store.close();
    String newer = String.valueOf(SqlDialect.SCHEMA_VERSION + 1);
    raw().update("UPDATE {meta} SET value = '" + newer + "' WHERE key = 'schema_version'");

    StoreException e = catchThrowableOfType(StoreException.class, this::open);

    assertThat(e).as("StoreException").isNotNull();
    assertThat(e.getMessage())
        .matches(standalone(newer))
        .matches(standalone(String.valueOf(SqlDialect.SCHEMA_VERSION)));
    assertThat(schemaVersion()).isEqualTo(newer);
    assertThat(raw().value("SELECT COUNT(*) FROM {events}")).hasToString("1");
  }

  @Test
  void tables_without_the_meta_table_are_refused_as_damaged() {
    WorkOrderStore store = open();
    submit(store);
    store.close();
    raw().update("DROP TABLE {meta}");

    StoreException e = catchThrowableOfType(StoreException.class, this::open);

    assertThat(e).as("StoreException").isNotNull();
    assertDamagedSchemaMessage(e);
    assertThat(raw().tableExists("meta")).as("meta table re-created").isFalse();
    assertThat(raw().value("SELECT COUNT(*) FROM {events}")).hasToString("1");
  }

  @Test
  void tables_without_the_schema_version_row_are_refused_as_damaged() {
    WorkOrderStore store = open();
    submit(store);
    store.close();
    raw().update("DELETE FROM {meta}");

    StoreException e = catchThrowableOfType(StoreException.class, this::open);

    assertThat(e).as("StoreException").isNotNull();
    assertDamagedSchemaMessage(e);
    assertThat(raw().value("SELECT COUNT(*) FROM {meta}")).hasToString("0");
  }

  // ---------------------------------------------------------------------------------------------
  // damaged event rows

  /**
   * Damage to one event row, as SET clauses of an UPDATE: invalid JSON, JSON without the fields, an
   * event type and a schema version this code does not know (written by a newer Workgate), and JSON
   * nested deeper than the reader accepts.
   */
  static List<String> damages() {
    int depth = 1100;
    return List.of(
        "data = '{not json'",
        "data = '{}'",
        "type = 'NoSuchEvent'",
        "schema_version = 99",
        "data = '{\"x\":" + "[".repeat(depth) + "]".repeat(depth) + "}'");
  }

  @ParameterizedTest
  @MethodSource("damages")
  void a_damaged_submitted_event_fails_only_reads_of_its_own_work_order(String damage) {
    WorkOrderStore store = open();
    Damaged d = damageFirstEvent(store, damage);

    assertNamesTheEvent(
        catchThrowableOfType(StoreException.class, () -> store.readStream(d.id)), d);
    assertNamesTheEvent(catchThrowableOfType(StoreException.class, () -> store.find(d.id)), d);
    assertNamesTheEvent(
        catchThrowableOfType(
            StoreException.class,
            () -> store.append(d.id, ExpectedVersion.any(), List.of(cancelled()))),
        d);

    // Everything else stays readable; reads of the whole log skip the one event.
    assertThat(store.readStream(d.other)).hasSize(1);
    assertThat(store.find(d.other)).isPresent();
    LogPage page = store.readLog(0, 1000);
    assertThat(page.events())
        .hasSize(12)
        .extracting(RecordedEvent::position)
        .doesNotContain(d.position);
    assertThat(page.events().get(11).workOrderId()).isEqualTo(d.other);
    assertThat(store.query(WorkOrderQuery.builder().build()).items())
        .hasSize(12)
        .extracting(v -> v.id())
        .doesNotContain(d.id)
        .contains(d.other);
    assertThat(store.quarantinedRows()).as("quarantined rows, each counted once").isEqualTo(1);
  }

  @ParameterizedTest
  @MethodSource("damages")
  void claims_skip_a_work_order_with_a_damaged_submitted_event_and_take_the_others(String damage) {
    WorkOrderStore store = open();
    Damaged d = damageFirstEvent(store, damage);

    List<WorkOrderId> claimed = new ArrayList<>();
    for (int round = 0; round < 3; round++) {
      store.claim(claim(5)).forEach(v -> claimed.add(v.id()));
    }

    assertThat(claimed).hasSize(12).doesNotContain(d.id).contains(d.other).doesNotHaveDuplicates();
    assertThat(store.claim(claim(5))).isEmpty();
    assertThat(store.quarantinedRows()).isEqualTo(1);
  }

  @Test
  void claims_on_a_second_node_skip_the_damaged_work_order_too() {
    WorkOrderStore first = open();
    Damaged d = damageFirstEvent(first, "data = '{not json'");
    WorkOrderStore second = open();

    assertThat(second.claim(claim(100))).hasSize(12).extracting(v -> v.id()).doesNotContain(d.id);
    assertThat(second.quarantinedRows()).isEqualTo(1);
    assertThat(first.claim(claim(100))).isEmpty();
  }

  @Test
  void a_page_that_ends_on_an_unreadable_event_continues_past_it() {
    WorkOrderStore store = open();
    Damaged d = damageFirstEvent(store, "type = 'NoSuchEvent'");

    // The damaged event is the 12th of the log: pages of 4 put it at the end of the third.
    List<RecordedEvent> log = new ArrayList<>();
    long after = 0;
    for (int i = 0; i < 10; i++) {
      LogPage page = store.readLog(after, 4);
      if (page.events().isEmpty() && page.lastPosition() == after) {
        break;
      }
      log.addAll(page.events());
      after = page.lastPosition();
    }
    assertThat(log).hasSize(12).extracting(RecordedEvent::workOrderId).doesNotContain(d.id);

    List<RecordedEvent> audit = new ArrayList<>();
    EventQuery.Builder query = EventQuery.builder().oldestFirst().limit(4);
    for (int i = 0; i < 10; i++) {
      EventPage page = store.queryEvents(query.build());
      audit.addAll(page.events());
      if (page.nextCursor().isEmpty()) {
        break;
      }
      query.after(page.nextCursor().get());
    }
    assertThat(audit)
        .extracting(RecordedEvent::position)
        .isEqualTo(log.stream().map(RecordedEvent::position).toList());
    assertThat(
            store
                .queryEvents(EventQuery.builder().types(EventType.SUBMITTED).limit(100).build())
                .events())
        .hasSize(12);
  }

  @Test
  void a_damaged_later_event_fails_reads_of_its_stream_and_is_skipped_by_reads_of_the_log() {
    WorkOrderStore store = open();
    List<WorkOrderId> before = JdbcTestKit.submitMany(store, QUEUE, 11, 11);
    WorkOrderId id = newId();
    List<RecordedEvent> recorded =
        store.append(
            id,
            ExpectedVersion.none(),
            List.of(
                submitted(QUEUE),
                claimed("node-a", clock.instant().plus(Duration.ofMinutes(1))),
                started()));
    long position = recorded.get(1).position();
    raw().update("UPDATE {events} SET data = '{not json' WHERE position = ?", position);
    Damaged d = new Damaged(id, position, before.get(0));

    assertNamesTheEvent(catchThrowableOfType(StoreException.class, () -> store.readStream(id)), d);
    assertThat(store.readLog(0, 1000).events())
        .hasSize(13)
        .extracting(RecordedEvent::position)
        .doesNotContain(position);
    assertThat(store.queryEvents(EventQuery.builder().limit(1000).build()).events()).hasSize(13);
    assertThat(store.readStream(before.get(3))).hasSize(1);
    assertThat(store.find(id)).as("the view needs only the Submitted event").isPresent();
    assertThat(store.claim(claim(100))).hasSize(11);
    assertThat(store.quarantinedRows()).isEqualTo(1);
  }

  @Test
  void rebuildProjection_reports_a_damaged_event_as_a_mismatch_and_checks_the_rest() {
    WorkOrderStore store = open();
    Damaged d = damageFirstEvent(store, "data = '{not json'");
    raw().update("UPDATE {work_orders} SET attempt = 7 WHERE id = ?", d.other.value());

    RebuildReport verified = store.rebuildProjection(RebuildMode.VERIFY);
    assertThat(verified.workOrders()).isEqualTo(13);
    assertThat(verified.mismatches())
        .extracting(ProjectionMismatch::workOrderId)
        .containsExactlyInAnyOrder(d.id, d.other);
    ProjectionMismatch unreadable =
        verified.mismatches().stream().filter(m -> m.workOrderId().equals(d.id)).findFirst().get();
    assertThat(unreadable.difference()).contains("position " + d.position, "cannot be read");

    RebuildReport repaired = store.rebuildProjection(RebuildMode.REPAIR);
    assertThat(repaired.repaired()).isTrue();
    assertThat(store.find(d.other).orElseThrow().attempt()).isZero();
    assertThat(store.rebuildProjection(RebuildMode.VERIFY).mismatches())
        .extracting(ProjectionMismatch::workOrderId)
        .containsExactly(d.id);
    assertThat(store.quarantinedRows()).isEqualTo(1);
  }

  @Test
  void a_damaged_projection_row_is_skipped_by_claims_until_a_repair_rewrites_it() {
    WorkOrderStore store = open();
    JdbcTestKit.submitMany(store, QUEUE, 3, 3);
    WorkOrderId victim = submit(store);
    raw().update("UPDATE {work_orders} SET result = '{not json' WHERE id = ?", victim.value());

    assertThatThrownBy(() -> store.find(victim)).isInstanceOf(StoreException.class);
    assertThat(store.quarantinedRows()).isEqualTo(1);
    assertThat(store.claim(claim(100))).hasSize(3).extracting(v -> v.id()).doesNotContain(victim);
    assertThat(store.claim(claim(100))).isEmpty();

    assertThat(store.rebuildProjection(RebuildMode.REPAIR).repaired()).isTrue();

    assertThat(store.claim(claim(100))).extracting(v -> v.id()).containsExactly(victim);
    assertThat(store.quarantinedRows()).as("a row met once stays counted").isEqualTo(1);
  }

  ClaimRequest claim(int limit) {
    return new ClaimRequest(
        QUEUE, "node-a", limit, Capacity.unlimited(), clock.instant(), Duration.ofMinutes(1));
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  /**
   * Makes the tables what schema version 1 left: the audit indexes dropped (or only {@code
   * events_type}, as if an operator had built {@code events_recorded} ahead of the upgrade) and
   * version 1 recorded.
   */
  void makeVersion1(boolean dropBothIndexes) {
    makeVersion2();
    if (dropBothIndexes) {
      raw().update("DROP INDEX {prefix}events_recorded");
    }
    raw().update("DROP INDEX {prefix}events_type");
    raw().update("UPDATE {meta} SET value = '1' WHERE key = 'schema_version'");
  }

  /**
   * Makes the tables what schema version 2 left: no releases column, no node table, no index of
   * resubmissions.
   */
  void makeVersion2() {
    makeVersion3();
    raw().update("ALTER TABLE {work_orders} DROP COLUMN releases");
    raw().update("DROP TABLE {prefix}nodes");
    raw().update("UPDATE {meta} SET value = '2' WHERE key = 'schema_version'");
  }

  /** Makes the tables what schema version 3 left: no index of resubmissions. */
  void makeVersion3() {
    raw().update("DROP INDEX {prefix}wo_resubmitted");
    raw().update("UPDATE {meta} SET value = '3' WHERE key = 'schema_version'");
  }

  /** The schema version the meta table records. */
  Object schemaVersion() {
    return raw().value("SELECT value FROM {meta} WHERE key = 'schema_version'");
  }

  WorkOrderId submit(WorkOrderStore store) {
    WorkOrderId id = newId();
    store.append(id, ExpectedVersion.none(), List.of(submitted(spec(QUEUE).priority(1).build())));
    return id;
  }

  /** A damaged event: its work order, its position, and a work order submitted after it. */
  record Damaged(WorkOrderId id, long position, WorkOrderId other) {}

  /**
   * Submits 11 work orders, then the victim and one more, and damages the victim's Submitted event,
   * so that its position has two digits.
   */
  private Damaged damageFirstEvent(WorkOrderStore store, String damage) {
    JdbcTestKit.submitMany(store, QUEUE, 11, 11);
    WorkOrderId id = submit(store);
    WorkOrderId other = submit(store);
    long position = store.readStream(id).get(0).position();
    int changed = raw().update("UPDATE {events} SET " + damage + " WHERE position = ?", position);
    assertThat(changed).as("rows damaged").isEqualTo(1);
    return new Damaged(id, position, other);
  }

  private static void assertNamesTheEvent(StoreException e, Damaged d) {
    assertThat(e).as("StoreException").isNotNull();
    assertThat(e.getMessage())
        .contains(d.id.value())
        .matches(Pattern.compile("(?is).*position\\W{0,3}" + d.position + "(?!\\d).*"));
  }

  /** Says that the tables are not a usable Workgate schema, and names the meta table. */
  private static void assertDamagedSchemaMessage(StoreException e) {
    assertThat(e.getMessage().toLowerCase(Locale.ROOT))
        .containsAnyOf(
            "damaged", "not a workgate", "not hold a usable workgate", "not created by workgate")
        .contains(JdbcTestKit.PREFIX + "meta");
  }

  /** A number that stands alone in a message, not part of a longer number or a word. */
  private static Pattern standalone(String number) {
    return Pattern.compile("(?s).*(?<![\\w.-])" + number + "(?![\\w-]|\\.\\d).*");
  }
}
