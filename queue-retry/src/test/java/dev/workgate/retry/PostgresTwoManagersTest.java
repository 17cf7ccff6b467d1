package dev.workgate.retry;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.jdbc.PostgresTestDatabase;
import dev.workgate.core.store.StoreView.LogPage;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.core.testing.WorkOrderFixtures;
import dev.workgate.retry.internal.RetryManager;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.time.Instant;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two nodes, each with its own store, pool and retry manager, release the same due retries from one
 * PostgreSQL database at the same time: every retry is released exactly once.
 */
class PostgresTwoManagersTest {
  private static final int WORK_ORDERS = 1_500;

  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  @Test
  void two_managers_on_one_database_release_each_due_retry_exactly_once() throws Exception {
    MutableClock clock = MutableClock.create();
    HikariDataSource poolA = db.dataSource("node-a");
    HikariDataSource poolB = db.dataSource("node-b");
    try (WorkOrderStore a = Stores.postgres(poolA, db.options(clock).build());
        WorkOrderStore b = Stores.postgres(poolB, db.options(clock).build())) {
      List<WorkOrderId> ids = waitingRetries(a, clock.instant());
      Instant now = clock.instant().plusSeconds(1);
      RetryManagerContractTest.RecordingListener heardA =
          new RetryManagerContractTest.RecordingListener();
      RetryManagerContractTest.RecordingListener heardB =
          new RetryManagerContractTest.RecordingListener();
      RetryManager managerA =
          RetryManager.builder(a).clock(clock).batchSize(50).listener(heardA).build();
      RetryManager managerB =
          RetryManager.builder(b).clock(clock).batchSize(50).listener(heardB).build();

      int threadsPerNode = 2;
      CyclicBarrier start = new CyclicBarrier(threadsPerNode * 2);
      ExecutorService pool = Executors.newFixedThreadPool(threadsPerNode * 2);
      int total = 0;
      try {
        List<Future<Integer>> results = new ArrayList<>();
        for (int t = 0; t < threadsPerNode; t++) {
          results.add(pool.submit(releaser(managerA, a, now, start)));
          results.add(pool.submit(releaser(managerB, b, now, start)));
        }
        for (Future<Integer> result : results) {
          total += result.get(120, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }

      System.out.printf(
          "two managers released %d and %d of %d due retries%n",
          managerA.stats().released(), managerB.stats().released(), WORK_ORDERS);
      assertThat(total).isEqualTo(WORK_ORDERS);
      assertThat(managerA.stats().released() + managerB.stats().released()).isEqualTo(WORK_ORDERS);
      assertThat(heardA.released.size() + heardB.released.size()).isEqualTo(WORK_ORDERS);
      Map<WorkOrderId, Integer> releases = releasesInLog(a);
      assertThat(releases).hasSize(WORK_ORDERS);
      assertThat(releases.values()).containsOnly(1);
      assertThat(releases.keySet()).containsExactlyInAnyOrderElementsOf(ids);
      for (WorkOrderId id :
          List.of(ids.get(0), ids.get(WORK_ORDERS / 2), ids.get(WORK_ORDERS - 1))) {
        assertThat(b.find(id).map(WorkOrderView::state)).contains(WorkOrderState.PENDING);
      }
      assertThat(managerA.nextDueTime()).isEmpty();
    }
  }

  private static Callable<Integer> releaser(
      RetryManager manager, WorkOrderStore store, Instant now, CyclicBarrier start) {
    return () -> {
      start.await(30, TimeUnit.SECONDS);
      int mine = 0;
      while (!store.dueRetries(now, 1).isEmpty()) {
        mine += manager.releaseDue(now, 120);
      }
      return mine;
    };
  }

  /** Puts work orders straight into WAITING_RETRY, due at {@code now}, in batches. */
  private static List<WorkOrderId> waitingRetries(WorkOrderStore store, Instant now) {
    List<WorkOrderId> ids = new ArrayList<>();
    List<AppendRequest> batch = new ArrayList<>();
    for (int i = 0; i < WORK_ORDERS; i++) {
      WorkOrderId id = WorkOrderFixtures.newId();
      ids.add(id);
      batch.add(
          new AppendRequest(
              id,
              ExpectedVersion.none(),
              List.of(
                  WorkOrderFixtures.submitted("default"),
                  WorkOrderFixtures.claimed("node-dead", now.plusSeconds(60)),
                  WorkOrderEvent.AttemptFailed.retryAt(
                      ErrorInfo.retryable(ErrorCodes.NETWORK_ERROR, "reset"),
                      now.plusNanos(1_000L * (i % 500)),
                      "retry"))));
      if (batch.size() == 250) {
        store.appendAll(batch);
        batch.clear();
      }
    }
    if (!batch.isEmpty()) {
      store.appendAll(batch);
    }
    return ids;
  }

  private static Map<WorkOrderId, Integer> releasesInLog(WorkOrderStore store) {
    Map<WorkOrderId, Integer> releases = new HashMap<>();
    long after = 0;
    while (true) {
      LogPage page = store.readLog(after, 1_000);
      if (page.events().isEmpty()) {
        return releases;
      }
      for (RecordedEvent e : page.events()) {
        if (e.event().type() == EventType.RETRY_RELEASED) {
          releases.merge(e.workOrderId(), 1, Integer::sum);
        }
        after = e.position();
      }
    }
  }
}
