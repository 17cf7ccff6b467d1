package dev.workgate.retry;

import static dev.workgate.core.testing.BenchmarkData.ids;
import static dev.workgate.core.testing.BenchmarkData.submissions;
import static dev.workgate.core.testing.BenchmarkData.summary;

import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.jdbc.PostgresTestDatabase;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.retry.internal.RetryManager;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What retries cost, printed as figures (never asserted: the machine is shared): the delay
 * computation per strategy, recording failed attempts ({@code recordFailure}: decide and append one
 * by one, as executions end), and releasing due retries ({@code releaseDue} in batches of 100) on
 * the in-memory, SQLite (FULL) and PostgreSQL stores.
 *
 * <p>Run with {@code mvn -Pbenchmarks -pl queue-core,queue-retry test
 * -Dtest=RetryThroughputBenchmark}; size with {@code -Dworkgate.bench.retry.workOrders=N} (default
 * 5,000) and {@code -Dworkgate.bench.rounds=R} (default 3; the first round is a warm-up, the median
 * of the others is reported). Every round starts from a new, empty store.
 */
@Tag("benchmark")
class RetryThroughputBenchmark {
  private static final int WORK_ORDERS =
      Integer.getInteger("workgate.bench.retry.workOrders", 5_000);
  private static final int ROUNDS = Math.max(2, Integer.getInteger("workgate.bench.rounds", 3));
  private static final ErrorInfo TIMEOUT = ErrorInfo.retryable(ErrorCodes.TIMEOUT, "too slow");

  @TempDir Path dir;

  @Test
  void delay_computation() {
    int calls = 200_000;
    for (Jitter jitter :
        List.of(
            Jitter.none(),
            Jitter.proportional(0.1),
            Jitter.full(),
            Jitter.equal(),
            Jitter.decorrelated())) {
      RetryPolicy policy = RetryPolicy.builder().maxAttempts(10).jitter(jitter).build();
      SplittableRandom random = new SplittableRandom(1);
      double[] rates = new double[ROUNDS];
      long sink = 0;
      for (int round = 0; round < ROUNDS; round++) {
        long start = System.nanoTime();
        for (int i = 0; i < calls; i++) {
          sink += policy.delayBeforeAttempt(2 + i % 9, random).toNanos();
        }
        rates[round] = calls / ((System.nanoTime() - start) / 1e9);
      }
      print(
          "delayBeforeAttempt, attempts 2-10, " + jitter,
          summary(rates, "calls/s", calls).replace("work orders", "calls per round"));
      if (sink == 42) {
        System.out.println();
      }
    }
  }

  @Test
  void in_memory() {
    measure("in-memory", clock -> Stores.inMemory(clock), () -> {});
  }

  @Test
  void sqlite_full() throws Exception {
    List<Path> files = new ArrayList<>();
    measure(
        "SQLite FULL",
        clock -> {
          Path file = dir.resolve("retry-" + files.size() + ".db");
          files.add(file);
          return Stores.sqlite(file, SqliteOptions.builder().clock(clock).build());
        },
        () -> {});
    for (Path file : files) {
      Files.deleteIfExists(file);
    }
  }

  @Test
  void postgres() {
    List<PostgresTestDatabase> databases = new ArrayList<>();
    try {
      measure(
          "PostgreSQL",
          clock -> {
            PostgresTestDatabase db = new PostgresTestDatabase().start();
            databases.add(db);
            return db.openStore(clock);
          },
          // As a database in service has: statistics, so plans are not made for empty tables.
          () -> {
            PostgresTestDatabase db = databases.get(databases.size() - 1);
            db.execute("ANALYZE " + db.table("workgate_work_orders"));
            db.execute("ANALYZE " + db.table("workgate_events"));
          });
    } finally {
      databases.forEach(PostgresTestDatabase::close);
    }
  }

  private void measure(
      String name, Function<MutableClock, WorkOrderStore> open, Runnable afterSetUp) {
    double[] recorded = new double[ROUNDS];
    double[] released = new double[ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
      MutableClock clock = MutableClock.create();
      try (WorkOrderStore store = open.apply(clock)) {
        List<WorkOrderView> running = running(store, clock.instant());
        afterSetUp.run();
        RetryManager retries =
            RetryManager.builder(store).clock(clock).random(new SplittableRandom(round)).build();

        long start = System.nanoTime();
        for (WorkOrderView view : running) {
          retries.recordFailure(view, TIMEOUT);
        }
        recorded[round] = running.size() / ((System.nanoTime() - start) / 1e9);

        Instant due = clock.advance(RetryPolicy.DEFAULT_MAX_DELAY);
        start = System.nanoTime();
        int n = retries.releaseDue(due, Integer.MAX_VALUE);
        released[round] = n / ((System.nanoTime() - start) / 1e9);
        if (n != running.size()) {
          throw new AssertionError("released " + n + " of " + running.size());
        }
      }
    }
    print(name + ", recordFailure one by one", summary(recorded, "failures/s", WORK_ORDERS));
    print(name + ", releaseDue in batches of 100", summary(released, "releases/s", WORK_ORDERS));
  }

  /** Submits, claims and starts every work order in batches, outside the timed part. */
  private static List<WorkOrderView> running(WorkOrderStore store, Instant now) {
    List<WorkOrderId> ids = ids(WORK_ORDERS);
    List<WorkOrderEvent.Submitted> submissions = submissions(WORK_ORDERS);
    List<AppendRequest> batch = new ArrayList<>();
    for (int i = 0; i < WORK_ORDERS; i++) {
      batch.add(
          new AppendRequest(
              ids.get(i),
              ExpectedVersion.none(),
              List.of(
                  submissions.get(i),
                  new WorkOrderEvent.Claimed("node-1", now.plus(Duration.ofHours(1))),
                  new WorkOrderEvent.Started("sandbox"))));
      if (batch.size() == 200 || i == WORK_ORDERS - 1) {
        store.appendAll(batch);
        batch.clear();
      }
    }
    List<WorkOrderView> views = new ArrayList<>(WORK_ORDERS);
    for (WorkOrderId id : ids) {
      views.add(store.find(id).orElseThrow());
    }
    return views;
  }

  private static void print(String what, String figures) {
    System.out.printf(Locale.ROOT, "%-58s %s%n", what, figures);
  }
}
