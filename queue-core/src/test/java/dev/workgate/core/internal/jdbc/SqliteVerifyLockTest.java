package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.RebuildReport;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A projection check on SQLite reads one snapshot without the write lock, and opening an existing
 * store takes no write lock: a node writing to the same file is never made to wait for either.
 */
class SqliteVerifyLockTest {
  private static final String QUEUE = "jobs";

  /** Short, so that a check or an open that waited for the lock would fail fast. */
  private static final Duration BUSY = Duration.ofMillis(300);

  @TempDir Path dir;

  private final MutableClock clock = MutableClock.create();
  private final List<WorkOrderStore> stores = new ArrayList<>();
  private final ExecutorService pool = Executors.newFixedThreadPool(2);

  @AfterEach
  void close() throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
    stores.forEach(WorkOrderStore::close);
  }

  private WorkOrderStore open(OpenMode mode, Duration busy) {
    WorkOrderStore store =
        Stores.sqlite(
            dir.resolve("workgate.db"),
            SqliteOptions.builder().clock(clock).busyTimeout(busy).openMode(mode).build());
    stores.add(store);
    return store;
  }

  private static void submit(WorkOrderStore store, int count) {
    for (int from = 0; from < count; from += 1_000) {
      List<AppendRequest> batch = new ArrayList<>();
      for (int i = from; i < Math.min(count, from + 1_000); i++) {
        batch.add(AppendRequest.of(newId(), ExpectedVersion.none(), submitted(QUEUE)));
      }
      store.appendAll(batch);
    }
  }

  /** Another connection holding SQLite's write lock, as another node's writer in a transaction. */
  private Connection holdWriteLock() throws Exception {
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("workgate.db"));
    try (Statement st = c.createStatement()) {
      st.execute("BEGIN IMMEDIATE");
    }
    return c;
  }

  private static void release(Connection lock) throws Exception {
    try (Statement st = lock.createStatement()) {
      st.execute("ROLLBACK");
    }
  }

  @Test
  void verify_reads_a_snapshot_while_another_connection_holds_the_write_lock() throws Exception {
    WorkOrderStore node = open(OpenMode.CREATE_IF_MISSING, BUSY);
    submit(node, 200);

    try (Connection lock = holdWriteLock()) {
      RebuildReport report = node.rebuildProjection(RebuildMode.VERIFY);

      assertThat(report.workOrders()).isEqualTo(200);
      assertThat(report.consistent()).isTrue();
      release(lock);
    }
  }

  @Test
  void opening_an_existing_store_takes_no_write_lock() throws Exception {
    open(OpenMode.CREATE_IF_MISSING, BUSY);

    try (Connection lock = holdWriteLock()) {
      WorkOrderStore existing = open(OpenMode.EXISTING, BUSY);
      WorkOrderStore readOnly = open(OpenMode.READ_ONLY, BUSY);

      assertThat(existing.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
      assertThat(readOnly.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
      release(lock);
    }
  }

  @Test
  void a_repair_rewrites_only_what_the_snapshot_found_and_reports_it() throws Exception {
    WorkOrderStore node = open(OpenMode.CREATE_IF_MISSING, BUSY);
    submit(node, 50);
    WorkOrderId damaged = node.claim(claim("n1", 1)).get(0).id();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("workgate.db"));
        Statement st = c.createStatement()) {
      st.executeUpdate(
          "UPDATE "
              + SqliteOptions.defaults().tablePrefix()
              + "work_orders SET state = 'PENDING' WHERE id = '"
              + damaged.value()
              + "'");
    }

    RebuildReport repair = node.rebuildProjection(RebuildMode.REPAIR);

    assertThat(repair.workOrders()).isEqualTo(50);
    assertThat(repair.repaired()).isTrue();
    assertThat(repair.mismatches())
        .singleElement()
        .satisfies(m -> assertThat(m.workOrderId()).isEqualTo(damaged));
    assertThat(node.rebuildProjection(RebuildMode.VERIFY).consistent()).isTrue();
  }

  /**
   * A node's submits and claims go on while another store instance verifies the same file. Prints
   * the check's duration and the writers' longest wait, for the storage notes.
   */
  @Test
  void a_node_writes_and_claims_while_another_instance_verifies_the_file() throws Exception {
    int size = Integer.getInteger("workgate.verifyLock.workOrders", 20_000);
    WorkOrderStore node = open(OpenMode.CREATE_IF_MISSING, Duration.ofSeconds(5));
    submit(node, size);
    WorkOrderStore admin = open(OpenMode.EXISTING, Duration.ofSeconds(5));

    long started = System.nanoTime();
    CompletableFuture<RebuildReport> verify =
        CompletableFuture.supplyAsync(() -> admin.rebuildProjection(RebuildMode.VERIFY), pool);
    List<Throwable> failures = new ArrayList<>();
    long maxNanos = 0;
    int writesDuringVerify = 0;
    int round = 0;
    while (!verify.isDone()) {
      long t0 = System.nanoTime();
      try {
        submit(node, 1);
        List<WorkOrderView> got = node.claim(claim("n" + round, 1));
        assertThat(got).hasSize(1);
      } catch (RuntimeException e) {
        failures.add(e);
      }
      maxNanos = Math.max(maxNanos, System.nanoTime() - t0);
      if (!verify.isDone()) {
        writesDuringVerify++;
      }
      round++;
    }
    RebuildReport report = verify.get(120, TimeUnit.SECONDS);
    long verifyMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

    System.out.printf(
        "verify of %d work orders took %d ms; %d submit+claim rounds ran during it, the longest"
            + " %d ms%n",
        report.workOrders(), verifyMillis, writesDuringVerify, maxNanos / 1_000_000);
    assertThat(failures).isEmpty();
    assertThat(report.workOrders()).isGreaterThanOrEqualTo(size);
    assertThat(writesDuringVerify).isPositive();
  }

  private ClaimRequest claim(String owner, int limit) {
    return new ClaimRequest(
        QUEUE, owner, limit, Capacity.unlimited(), clock.instant(), Duration.ofMinutes(5));
  }
}
