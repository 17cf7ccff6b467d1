package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.NodeView.StoreWrites;
import dev.workgate.NodeView.WriteFailureCause;
import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StoreWritesTest {
  private static final String SECRET = "payload-secret-4711";

  private final MutableClock clock = MutableClock.create();
  private final WorkOrderStore inner = Stores.inMemory(clock);
  private final AtomicReference<RuntimeException> failWith = new AtomicReference<>();
  private final ObservedStore store =
      new ObservedStore(new Failing(inner, failWith), c -> {}, () -> true, clock, r -> {});

  @AfterEach
  void close() {
    inner.close();
  }

  /** Throws what the test sets from every write, and passes reads through. */
  private static final class Failing extends ForwardingStore {
    private final AtomicReference<RuntimeException> failWith;

    Failing(WorkOrderStore store, AtomicReference<RuntimeException> failWith) {
      super(store);
      this.failWith = failWith;
    }

    private void maybeFail() {
      RuntimeException e = failWith.get();
      if (e != null) {
        throw e;
      }
    }

    @Override
    public List<dev.workgate.core.RecordedEvent> appendAll(List<AppendRequest> requests) {
      maybeFail();
      return store.appendAll(requests);
    }

    @Override
    public List<WorkOrderView> claim(ClaimRequest request) {
      maybeFail();
      return store.claim(request);
    }

    @Override
    public List<dev.workgate.spi.Claim> claimRecorded(ClaimRequest request) {
      maybeFail();
      return store.claimRecorded(request);
    }

    @Override
    public boolean renewLease(
        WorkOrderId id,
        String owner,
        int attempt,
        Instant expiresAt,
        dev.workgate.core.Progress progress) {
      maybeFail();
      return store.renewLease(id, owner, attempt, expiresAt, progress);
    }
  }

  private static StoreException storeFailure(SQLException cause) {
    return new StoreException("append on the SQLite file failed: " + cause.getMessage(), cause);
  }

  private WorkOrderId submit() {
    WorkOrderId id = WorkOrderId.random();
    store.append(
        id,
        ExpectedVersion.none(),
        List.of(new WorkOrderEvent.Submitted(WorkOrderSpec.builder("job").build(), null)));
    return id;
  }

  private List<WorkOrderView> claim() {
    return store.claim(
        new ClaimRequest(
            WorkOrderSpec.DEFAULT_QUEUE,
            "node-a",
            1,
            Capacity.unlimited(),
            clock.instant(),
            Duration.ofSeconds(30)));
  }

  @Test
  void sqlite_full_is_disk_full_and_the_detail_names_the_code_but_not_the_message() {
    var c =
        WriteFailureClassifier.classify(
            storeFailure(
                new SQLException(
                    "[SQLITE_FULL] Insertion failed because database is full (database or disk"
                        + " is full) "
                        + SECRET)));

    assertThat(c.cause()).isEqualTo(WriteFailureCause.DISK_FULL);
    assertThat(c.detail()).isEqualTo("java.sql.SQLException, SQLITE_FULL");
    assertThat(c.detail()).doesNotContain(SECRET);
  }

  @Test
  void postgres_sqlstates_name_the_cause() {
    assertThat(
            WriteFailureClassifier.classify(
                    storeFailure(new SQLException("could not extend file " + SECRET, "53100")))
                .cause())
        .isEqualTo(WriteFailureCause.DISK_FULL);
    var readOnly =
        WriteFailureClassifier.classify(
            storeFailure(
                new SQLException("cannot execute INSERT in a read-only transaction", "25006")));
    assertThat(readOnly.cause()).isEqualTo(WriteFailureCause.READ_ONLY);
    assertThat(readOnly.detail()).isEqualTo("java.sql.SQLException, SQLState 25006");
    assertThat(
            WriteFailureClassifier.classify(
                    storeFailure(new SQLException("An I/O error occurred " + SECRET, "08006")))
                .cause())
        .isEqualTo(WriteFailureCause.UNREACHABLE);
    assertThat(
            WriteFailureClassifier.classify(
                    storeFailure(new SQLException("terminating connection", "57P01")))
                .cause())
        .isEqualTo(WriteFailureCause.UNREACHABLE);
  }

  @Test
  void sqlite_read_only_codes_and_phrases_are_read_only() {
    assertThat(
            WriteFailureClassifier.classify(
                    storeFailure(
                        new SQLException(
                            "[SQLITE_READONLY_DBMOVED] attempt to write a readonly database")))
                .cause())
        .isEqualTo(WriteFailureCause.READ_ONLY);
    assertThat(
            WriteFailureClassifier.classify(
                    new IllegalStateException(
                        "driver failed", new SQLException("attempt to write a readonly database")))
                .cause())
        .isEqualTo(WriteFailureCause.READ_ONLY);
    var opened =
        WriteFailureClassifier.classify(
            new StoreException(
                "append refused: the SQLite file x was opened read-only (OpenMode.READ_ONLY)"));
    assertThat(opened.cause()).isEqualTo(WriteFailureCause.READ_ONLY);
    assertThat(opened.detail()).contains("OpenMode.READ_ONLY").doesNotContain("SQLite file x");
  }

  @Test
  void operating_system_errors_and_pools_are_classified() {
    var enospc =
        WriteFailureClassifier.classify(
            new UncheckedIOException(
                new IOException("/data/" + SECRET + "/workgate.db-wal: No space left on device")));
    assertThat(enospc.cause()).isEqualTo(WriteFailureCause.DISK_FULL);
    assertThat(enospc.detail())
        .isEqualTo("java.io.IOException (No space left on device)")
        .doesNotContain(SECRET);
    assertThat(
            WriteFailureClassifier.classify(
                    storeFailure(
                        new SQLTransientConnectionException(
                            "pool - Connection is not available, request timed out after 30000ms")))
                .cause())
        .isEqualTo(WriteFailureCause.UNREACHABLE);
    assertThat(
            WriteFailureClassifier.classify(
                    new StoreException("claim failed", new ConnectException("Connection refused")))
                .cause())
        .isEqualTo(WriteFailureCause.UNREACHABLE);
  }

  @Test
  void an_unknown_database_error_is_other_and_named_by_class_and_sqlstate_only() {
    var other =
        WriteFailureClassifier.classify(
            storeFailure(new SQLException("relation \"" + SECRET + "\" does not exist", "42P01")));

    assertThat(other.cause()).isEqualTo(WriteFailureCause.OTHER);
    assertThat(other.detail()).isEqualTo("java.sql.SQLException, SQLState 42P01");
  }

  @Test
  void refusals_and_plain_bugs_are_not_failures_of_the_store() {
    assertThat(
            WriteFailureClassifier.classify(
                new ConcurrencyException(WorkOrderId.of("w"), "none", 3L)))
        .isNull();
    assertThat(WriteFailureClassifier.classify(new IllegalStateException("store is closed")))
        .isNull();
    assertThat(WriteFailureClassifier.classify(new IllegalArgumentException("bad limit"))).isNull();
    // A payload the JSON library cannot write is the caller's error, not the store's.
    assertThat(
            WriteFailureClassifier.classify(
                new IllegalArgumentException(
                    "payload is not serializable",
                    new com.fasterxml.jackson.databind.JsonMappingException(
                        null, "no serializer"))))
        .isNull();
    // A damaged row met on the way is reported by the quarantine, not as a failed write.
    assertThat(
            WriteFailureClassifier.classify(
                new dev.workgate.core.store.StoreException.UnreadableRowException(
                    "event does not decode",
                    "w",
                    3L,
                    new SQLException("[SQLITE_CORRUPT] database disk image is malformed"))))
        .isNull();
  }

  @Test
  void a_run_of_failed_writes_is_counted_dated_and_ended_by_a_write_that_changes_something() {
    WorkOrderId first = submit();
    Instant firstSuccess = clock.instant();
    assertThat(store.writes().lastSuccessAt()).contains(firstSuccess);
    assertThat(store.writes().failing()).isFalse();

    clock.advance(Duration.ofSeconds(5));
    failWith.set(storeFailure(new SQLException("[SQLITE_FULL] database or disk is full")));
    assertThatThrownBy(this::submit).isInstanceOf(StoreException.class);
    assertThatThrownBy(this::claim).isInstanceOf(StoreException.class);
    clock.advance(Duration.ofSeconds(1));
    failWith.set(storeFailure(new SQLException("cannot execute UPDATE", "25006")));
    assertThatThrownBy(() -> store.renewLease(first, "node-a", 1, clock.instant().plusSeconds(30)))
        .isInstanceOf(StoreException.class);

    StoreWrites failing = store.writes();
    assertThat(failing.consecutiveFailures()).isEqualTo(3);
    assertThat(failing.totalFailures()).isEqualTo(3);
    assertThat(failing.failuresByCause())
        .containsEntry(WriteFailureCause.DISK_FULL, 2L)
        .containsEntry(WriteFailureCause.READ_ONLY, 1L)
        .containsEntry(WriteFailureCause.UNREACHABLE, 0L)
        .containsEntry(WriteFailureCause.OTHER, 0L);
    assertThat(failing.lastFailure()).isPresent();
    assertThat(failing.lastFailure().get().cause()).isEqualTo(WriteFailureCause.READ_ONLY);
    assertThat(failing.lastFailure().get().at()).isEqualTo(clock.instant());
    assertThat(failing.lastSuccessAt()).contains(firstSuccess);

    failWith.set(null);
    clock.advance(Duration.ofSeconds(1));
    assertThat(claim()).hasSize(1); // a claim that took work wrote

    StoreWrites recovered = store.writes();
    assertThat(recovered.consecutiveFailures()).isZero();
    assertThat(recovered.totalFailures()).isEqualTo(3);
    assertThat(recovered.lastSuccessAt()).contains(clock.instant());
  }

  @Test
  void writes_that_change_nothing_and_refusals_neither_end_a_run_nor_count_as_failures() {
    WorkOrderId id = submit();
    failWith.set(storeFailure(new SQLException("[SQLITE_FULL] database or disk is full")));
    assertThatThrownBy(this::submit).isInstanceOf(StoreException.class);
    failWith.set(null);
    store.claim(
        new ClaimRequest(
            "empty-queue",
            "node-a",
            1,
            Capacity.unlimited(),
            clock.instant(),
            Duration.ofSeconds(30)));
    assertThat(store.renewLease(WorkOrderId.random(), "node-a", 1, clock.instant())).isFalse();
    // A version conflict is the store answering, not failing.
    assertThatThrownBy(
            () ->
                store.append(
                    id,
                    ExpectedVersion.none(),
                    List.of(
                        new WorkOrderEvent.Submitted(WorkOrderSpec.builder("job").build(), null))))
        .isInstanceOf(ConcurrencyException.class);

    assertThat(store.writes().consecutiveFailures()).isEqualTo(1);
    assertThat(store.writes().totalFailures()).isEqualTo(1);

    submit();
    assertThat(store.writes().consecutiveFailures()).isZero();
  }

  @Test
  void a_batch_is_classified_by_the_statement_that_failed_inside_it() {
    BatchUpdateException batch =
        new BatchUpdateException("Batch entry 3 INSERT ... " + SECRET, new int[0]);
    batch.setNextException(new SQLException("could not extend file", "53100"));

    var c = WriteFailureClassifier.classify(storeFailure(batch));

    assertThat(c.cause()).isEqualTo(WriteFailureCause.DISK_FULL);
    assertThat(c.detail()).isEqualTo("java.sql.SQLException, SQLState 53100");
  }

  @Test
  void failures_counted_on_many_threads_at_once_are_all_counted() throws Exception {
    WriteTracker tracker = new WriteTracker(clock);
    int threads = 8;
    int perThread = 2_000;
    RuntimeException full =
        storeFailure(new SQLException("[SQLITE_FULL] database or disk is full"));
    RuntimeException gone = storeFailure(new SQLException("connection lost", "08006"));
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        RuntimeException mine = t % 2 == 0 ? full : gone;
        done.add(
            pool.submit(
                () -> {
                  go.await();
                  for (int i = 0; i < perThread; i++) {
                    tracker.failed(mine);
                  }
                  return null;
                }));
      }
      go.countDown();
      for (Future<?> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    StoreWrites writes = tracker.snapshot();
    assertThat(writes.totalFailures()).isEqualTo((long) threads * perThread);
    assertThat(writes.consecutiveFailures()).isEqualTo((long) threads * perThread);
    assertThat(writes.failuresByCause())
        .containsEntry(WriteFailureCause.DISK_FULL, (long) threads / 2 * perThread)
        .containsEntry(WriteFailureCause.UNREACHABLE, (long) threads / 2 * perThread);

    tracker.succeeded();
    assertThat(tracker.snapshot().consecutiveFailures()).isZero();
    assertThat(tracker.snapshot().totalFailures()).isEqualTo((long) threads * perThread);
  }

  @Test
  void runs_of_failures_are_logged_without_the_database_message_and_at_most_once_a_minute() {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(WriteTracker.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    try {
      WriteTracker tracker = new WriteTracker(clock);
      RuntimeException full =
          storeFailure(new SQLException("[SQLITE_FULL] database or disk is full " + SECRET));
      tracker.failed(full);
      tracker.failed(full);
      tracker.succeeded();
      clock.advance(Duration.ofSeconds(10));
      tracker.failed(full); // a new run within the minute: counted, not logged
      tracker.succeeded();
      clock.advance(WriteTracker.LOG_INTERVAL);
      tracker.failed(full);

      List<String> logged =
          lines.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList();
      assertThat(logged).hasSize(3);
      assertThat(logged.get(0))
          .startsWith("WARN a store write failed: disk full (java.sql.SQLException, SQLITE_FULL)");
      assertThat(logged.get(1))
          .isEqualTo("INFO store writes succeed again after 2 failed write(s)");
      assertThat(logged.get(2)).startsWith("WARN a store write failed: disk full");
      assertThat(logged).noneMatch(line -> line.contains(SECRET));
      assertThat(tracker.snapshot().totalFailures()).isEqualTo(4);
    } finally {
      logger.detachAppender(lines);
    }
  }
}
