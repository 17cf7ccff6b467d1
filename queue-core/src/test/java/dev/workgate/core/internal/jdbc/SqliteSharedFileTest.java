package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.claimed;
import static dev.workgate.core.testing.WorkOrderFixtures.completed;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.started;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two SQLite store instances on one file, as two processes sharing a database would have them: each
 * has its own writer, and SQLite's file lock and busy timeout put their transactions in turn.
 * Writing and claiming at once, they lose nothing and duplicate nothing.
 */
class SqliteSharedFileTest {

  private static final String QUEUE = "jobs";
  private static final int THREADS_PER_STORE = 3;

  @TempDir Path dir;

  private final MutableClock clock = MutableClock.create();
  private List<WorkOrderStore> stores;
  private ExecutorService pool;

  @BeforeEach
  void open() {
    stores = List.of(open("workgate.db"), open("workgate.db"));
    pool = Executors.newFixedThreadPool(stores.size() * THREADS_PER_STORE);
  }

  private WorkOrderStore open(String name) {
    return Stores.sqlite(dir.resolve(name), SqliteOptions.builder().clock(clock).build());
  }

  @AfterEach
  void close() throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
    stores.forEach(WorkOrderStore::close);
  }

  @Test
  void two_stores_appending_at_once_keep_positions_unique_and_streams_whole() throws Exception {
    int perThread = 20;
    List<List<WorkOrderId>> owned =
        onAllThreads(
            (store, owner) -> {
              List<WorkOrderId> ids = new ArrayList<>();
              for (int i = 0; i < perThread; i++) {
                WorkOrderId id = newId();
                ids.add(id);
                store.append(id, ExpectedVersion.none(), List.of(submitted(QUEUE)));
                store.append(
                    id,
                    ExpectedVersion.exactly(1),
                    List.of(claimed(owner, clock.instant().plusSeconds(60))));
                store.append(id, ExpectedVersion.exactly(2), List.of(started(), completed()));
              }
              return ids;
            });

    List<WorkOrderId> all = owned.stream().flatMap(List::stream).toList();
    for (WorkOrderStore store : stores) {
      List<RecordedEvent> log = JdbcTestKit.wholeLog(store);
      assertThat(log).hasSize(all.size() * 4);
      assertThat(log).extracting(RecordedEvent::position).isSorted().doesNotHaveDuplicates();
      Map<WorkOrderId, List<Long>> versions = new HashMap<>();
      for (RecordedEvent r : log) {
        versions.computeIfAbsent(r.workOrderId(), k -> new ArrayList<>()).add(r.version());
      }
      assertThat(versions).containsOnlyKeys(all);
      assertThat(versions.values()).allSatisfy(v -> assertThat(v).containsExactly(1L, 2L, 3L, 4L));
      assertThat(store.rebuildProjection(RebuildMode.VERIFY).mismatches()).isEmpty();
    }
  }

  @Test
  void two_stores_claiming_at_once_claim_every_work_order_exactly_once() throws Exception {
    List<WorkOrderId> submitted = JdbcTestKit.submitMany(stores.get(0), QUEUE, 2_000, 250);

    List<List<WorkOrderView>> claims =
        onAllThreads(
            (store, owner) -> {
              List<WorkOrderView> mine = new ArrayList<>();
              while (true) {
                List<WorkOrderView> got =
                    store.claim(
                        new ClaimRequest(
                            QUEUE,
                            owner,
                            50,
                            Capacity.unlimited(),
                            clock.instant(),
                            Duration.ofMinutes(5)));
                if (got.isEmpty()) {
                  return mine;
                }
                mine.addAll(got);
              }
            });

    List<WorkOrderId> claimed =
        claims.stream().flatMap(List::stream).map(WorkOrderView::id).toList();
    assertThat(claimed).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(submitted);
    Map<WorkOrderId, Integer> claimsInLog = new HashMap<>();
    for (RecordedEvent r : JdbcTestKit.wholeLog(stores.get(1))) {
      if (r.event().type() == EventType.CLAIMED) {
        claimsInLog.merge(r.workOrderId(), 1, Integer::sum);
      }
    }
    assertThat(claimsInLog).hasSize(submitted.size());
    assertThat(claimsInLog.values()).containsOnly(1);
  }

  @FunctionalInterface
  private interface Work<T> {
    T run(WorkOrderStore store, String owner) throws Exception;
  }

  /** Runs the work on every thread of both stores at once; returns the results. */
  private <T> List<T> onAllThreads(Work<T> work) throws Exception {
    CyclicBarrier start = new CyclicBarrier(stores.size() * THREADS_PER_STORE);
    List<Future<T>> futures = new ArrayList<>();
    for (int s = 0; s < stores.size(); s++) {
      WorkOrderStore store = stores.get(s);
      for (int t = 0; t < THREADS_PER_STORE; t++) {
        String owner = "store-" + s + "-thread-" + t;
        futures.add(
            pool.submit(
                (Callable<T>)
                    () -> {
                      start.await(60, TimeUnit.SECONDS);
                      return work.run(store, owner);
                    }));
      }
    }
    List<T> results = new ArrayList<>();
    for (Future<T> f : futures) {
      results.add(f.get(120, TimeUnit.SECONDS));
    }
    return results;
  }
}
