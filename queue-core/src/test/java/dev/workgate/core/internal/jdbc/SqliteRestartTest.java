package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.completedWith;
import static dev.workgate.core.testing.WorkOrderFixtures.failedForGood;
import static dev.workgate.core.testing.WorkOrderFixtures.failedWithRetry;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.spec;
import static dev.workgate.core.testing.WorkOrderFixtures.started;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.core.testing.ViewSnapshot;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SQLite store closed and opened again on the same file answers every read exactly as before:
 * work orders in every state, leases, retries, results and idempotency keys survive the restart; a
 * close while threads append keeps every append it acknowledged.
 */
class SqliteRestartTest {

  private static final String QUEUE = "jobs";
  private static final String OTHER = "other";
  private static final Duration LEASE = Duration.ofSeconds(30);

  @TempDir Path dir;

  private final MutableClock clock = MutableClock.create();

  private WorkOrderStore open() {
    return Stores.sqlite(dir.resolve("workgate.db"), SqliteOptions.builder().clock(clock).build());
  }

  @Test
  void a_reopened_store_reads_the_same_as_before_it_was_closed() {
    List<WorkOrderId> ids = new ArrayList<>();
    Instant retryAt = clock.instant().plusSeconds(90);
    Map<String, Object> before;
    WorkOrderStore store = open();
    try {
      for (int i = 0; i < 12; i++) {
        WorkOrderId id = newId();
        store.append(
            id,
            ExpectedVersion.none(),
            List.of(
                submitted(
                    spec(i % 3 == 0 ? OTHER : QUEUE)
                        .priority(i % 4)
                        .resources(ResourceRequest.of(1 + i % 2, 256L * i))
                        .idempotencyKey("key-" + i)
                        .label("n", Integer.toString(i))
                        .payload(Map.of("n", i, "name", "work order " + i))
                        .build())));
        ids.add(id);
        clock.advance(Duration.ofMillis(7));
      }
      WorkOrderId delayed = newId();
      store.append(
          delayed,
          ExpectedVersion.none(),
          List.of(submitted(spec(QUEUE).notBefore(clock.instant().plusSeconds(600)).build())));
      ids.add(delayed);

      clock.advance(Duration.ofSeconds(1));
      List<WorkOrderView> claimed = claim(store, QUEUE, 6);
      List<WorkOrderView> claimedOther = claim(store, OTHER, 2);
      assertThat(claimed).hasSize(6);
      assertThat(claimedOther).hasSize(2);
      clock.advance(Duration.ofMillis(250));
      // claimed[0]: failed with a retry; [1]: failed for good; [2], [3]: completed; [4]: running;
      // [5]: claimed with its lease renewed; other[0]: lease left to run out; other[1]: completed.
      append(store, claimed.get(0), started(), failedWithRetry(retryAt));
      append(store, claimed.get(1), started(), failedForGood());
      append(store, claimed.get(2), started(), completedWith(2));
      append(store, claimed.get(3), started(), completedWith(3));
      append(store, claimed.get(4), started());
      assertThat(
              store.renewLease(
                  claimed.get(5).id(),
                  "node-a",
                  claimed.get(5).attempt(),
                  clock.instant().plus(Duration.ofMinutes(10))))
          .isTrue();
      append(store, claimedOther.get(1), started(), completedWith(11));
      clock.advance(Duration.ofMillis(1));

      before = observe(store, ids, retryAt);
    } finally {
      store.close();
    }

    WorkOrderStore reopened = open();
    try {
      Map<String, Object> after = observe(reopened, ids, retryAt);

      assertThat(after).containsExactlyEntriesOf(before);
      // The reads are not all empty: the restart had something to keep.
      @SuppressWarnings("unchecked")
      Map<WorkOrderId, Optional<ViewSnapshot>> views =
          (Map<WorkOrderId, Optional<ViewSnapshot>>) after.get("find");
      assertThat(views.values())
          .extracting(v -> v.orElseThrow().state())
          .contains(
              WorkOrderState.PENDING,
              WorkOrderState.PREPARING,
              WorkOrderState.RUNNING,
              WorkOrderState.WAITING_RETRY,
              WorkOrderState.COMPLETED,
              WorkOrderState.FAILED);
      assertThat((List<?>) after.get("expiredLeases")).isNotEmpty();
      assertThat((List<?>) after.get("dueRetries")).hasSize(1);
      assertThat(after.get("nextRetryAt")).isEqualTo(Optional.of(retryAt));

      // The reopened store goes on where the old one stopped.
      List<WorkOrderView> more = claim(reopened, QUEUE, 100);
      assertThat(more).extracting(WorkOrderView::state).containsOnly(WorkOrderState.PREPARING);
      assertThat(more).isNotEmpty();
    } finally {
      reopened.close();
    }
  }

  private List<WorkOrderView> claim(WorkOrderStore store, String queue, int limit) {
    return store.claim(
        new ClaimRequest(queue, "node-a", limit, Capacity.unlimited(), clock.instant(), LEASE));
  }

  private static void append(
      WorkOrderStore store, WorkOrderView v, dev.workgate.core.WorkOrderEvent... events) {
    store.append(v.id(), ExpectedVersion.exactly(v.version()), List.of(events));
  }

  /** Every read of the SPI, by name, in a form that compares by value. */
  private Map<String, Object> observe(WorkOrderStore store, List<WorkOrderId> ids, Instant retry) {
    Map<String, Object> seen = new LinkedHashMap<>();
    Map<WorkOrderId, Optional<ViewSnapshot>> views = new LinkedHashMap<>();
    Map<WorkOrderId, List<RecordedEvent>> streams = new LinkedHashMap<>();
    for (WorkOrderId id : ids) {
      views.put(id, store.find(id).map(ViewSnapshot::of));
      streams.put(id, store.readStream(id));
    }
    seen.put("find", views);
    seen.put("readStream", streams);
    seen.put("readLog", JdbcTestKit.wholeLog(store));
    seen.put("readLog page", store.readLog(3, 5));
    seen.put(
        "query",
        snapshots(
            store.query(WorkOrderQuery.builder().limit(WorkOrderQuery.MAX_LIMIT).build()).items()));
    seen.put(
        "query by queue and state",
        snapshots(
            store
                .query(
                    WorkOrderQuery.builder()
                        .queue(QUEUE)
                        .states(WorkOrderState.PENDING, WorkOrderState.COMPLETED)
                        .build())
                .items()));
    seen.put("counts", store.counts());
    Instant late = clock.instant().plus(Duration.ofHours(1));
    seen.put("expiredLeases", snapshots(store.expiredLeases(late, 100)));
    seen.put("expiredLeases now", snapshots(store.expiredLeases(clock.instant(), 100)));
    seen.put("dueRetries", snapshots(store.dueRetries(retry, 100)));
    seen.put("dueRetries early", snapshots(store.dueRetries(retry.minusMillis(1), 100)));
    seen.put("nextRetryAt", store.nextRetryAt());
    seen.put("nextAvailableAt", store.nextAvailableAt(QUEUE, clock.instant()));
    Map<String, Optional<WorkOrderId>> keys = new LinkedHashMap<>();
    for (int i = 0; i < 13; i++) {
      keys.put("key-" + i, store.findByIdempotencyKey("key-" + i));
    }
    seen.put("findByIdempotencyKey", keys);
    return seen;
  }

  private static List<ViewSnapshot> snapshots(List<? extends WorkOrderView> views) {
    return views.stream().map(ViewSnapshot::of).toList();
  }

  @Test
  void closing_while_threads_append_keeps_every_acknowledged_append_and_nothing_refused()
      throws Exception {
    WorkOrderStore store = open();
    int threads = 6;
    List<WorkOrderId> acknowledged = new CopyOnWriteArrayList<>();
    Map<WorkOrderId, RuntimeException> refused = new ConcurrentHashMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<?>> writers = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        writers.add(
            pool.submit(
                () -> {
                  while (true) {
                    WorkOrderId id = newId();
                    try {
                      store.append(id, ExpectedVersion.none(), List.of(submitted(QUEUE)));
                      acknowledged.add(id);
                    } catch (RuntimeException e) {
                      refused.put(id, e);
                      return;
                    }
                  }
                }));
      }
      await("appends acknowledged before the close")
          .atMost(Duration.ofSeconds(30))
          .until(() -> acknowledged.size() >= 200);

      store.close();

      for (Future<?> w : writers) {
        w.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }

    assertThat(refused).hasSize(threads);
    assertThat(refused.values())
        .allSatisfy(
            e -> assertThat(e).isInstanceOfAny(IllegalStateException.class, StoreException.class));
    WorkOrderStore reopened = open();
    try {
      for (WorkOrderId id : acknowledged) {
        assertThat(reopened.find(id)).as("acknowledged %s", id).isPresent();
      }
      for (Map.Entry<WorkOrderId, RuntimeException> r : refused.entrySet()) {
        String message = String.valueOf(r.getValue().getMessage());
        if (!message.contains("unknown")) {
          assertThat(reopened.readStream(r.getKey()))
              .as("refused %s (%s)", r.getKey(), message)
              .isEmpty();
        }
      }
      assertThat(JdbcTestKit.wholeLog(reopened).size())
          .isBetween(acknowledged.size(), acknowledged.size() + threads);
      assertThat(reopened.rebuildProjection(RebuildMode.VERIFY).mismatches()).isEmpty();
    } finally {
      reopened.close();
    }
  }
}
