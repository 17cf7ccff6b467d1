package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.cancelled;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Many threads append to one JDBC store at once, each a submit of a new work order or a cancel
 * under a right or wrong version, so that the store's group commit puts many callers' appends in
 * one transaction: every caller sees what a store of its own would have told it, and the log holds
 * exactly the events of the callers that succeeded.
 */
class GroupCommitProperties {

  @Property(tries = 15)
  void on_sqlite_concurrent_callers_each_get_their_own_outcome(
      @ForAll @IntRange(min = 2, max = 8) int callers,
      @ForAll @IntRange(min = 1, max = 40) int appendsEach,
      @ForAll @IntRange(min = 0, max = 3) int wrongEvery)
      throws Exception {
    Path dir = Files.createTempDirectory("workgate-group-commit-");
    try (WorkOrderStore store =
        Stores.sqlite(dir.resolve("workgate.db"), SqliteOptions.builder().build())) {
      check(store, callers, appendsEach, wrongEvery);
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @Property(tries = 10)
  @AddLifecycleHook(PostgresTestDatabase.SkipUnlessReachable.class)
  void on_postgres_concurrent_callers_each_get_their_own_outcome(
      @ForAll @IntRange(min = 2, max = 8) int callers,
      @ForAll @IntRange(min = 1, max = 40) int appendsEach,
      @ForAll @IntRange(min = 0, max = 3) int wrongEvery)
      throws Exception {
    PostgresTestDatabase db = new PostgresTestDatabase().start();
    try (WorkOrderStore store = db.openStore(Clock.systemUTC())) {
      check(store, callers, appendsEach, wrongEvery);
    } finally {
      db.close();
    }
  }

  private static void check(WorkOrderStore store, int callers, int appendsEach, int wrongEvery)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try {
      Map<WorkOrderId, Long> written = new ConcurrentHashMap<>();
      AtomicInteger refusedWritten = new AtomicInteger();
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < callers; c++) {
        done.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < appendsEach; i++) {
                    WorkOrderId id = WorkOrderId.random();
                    List<RecordedEvent> sub =
                        store.appendAll(
                            List.of(AppendRequest.of(id, ExpectedVersion.none(), submitted("q"))));
                    assertThat(sub)
                        .singleElement()
                        .extracting(RecordedEvent::workOrderId)
                        .isEqualTo(id);
                    boolean wrong = wrongEvery > 0 && i % wrongEvery == 0;
                    try {
                      List<RecordedEvent> cancel =
                          store.appendAll(
                              List.of(
                                  AppendRequest.of(
                                      id, ExpectedVersion.exactly(wrong ? 5 : 1), cancelled())));
                      if (wrong) {
                        refusedWritten.incrementAndGet();
                      }
                      assertThat(cancel)
                          .singleElement()
                          .satisfies(e -> assertThat(e.version()).isEqualTo(2));
                      written.put(id, 2L);
                    } catch (ConcurrencyException e) {
                      assertThat(wrong).as("only a wrong version is refused").isTrue();
                      written.put(id, 1L);
                    }
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }

      assertThat(refusedWritten).hasValue(0);
      long total = 0;
      for (Map.Entry<WorkOrderId, Long> e : written.entrySet()) {
        assertThat(store.readStream(e.getKey())).hasSize(e.getValue().intValue());
        total += e.getValue();
      }
      assertThat(store.readLog(0, 100_000).events()).hasSize((int) total);
    } finally {
      pool.shutdownNow();
    }
  }
}
