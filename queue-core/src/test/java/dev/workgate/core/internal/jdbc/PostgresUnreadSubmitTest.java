package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.claimed;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * On PostgreSQL a submit (an append that expects no stream) does not read its row first: a row that
 * exists fails the insert, and the writer's next try reads it and refuses the submit as a conflict,
 * changing nothing; the others of the same batch or group are written.
 */
class PostgresUnreadSubmitTest {
  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  private final MutableClock clock = MutableClock.create();
  private final ExecutorService executor = Executors.newFixedThreadPool(8);
  private final AtomicInteger rowReads = new AtomicInteger();

  @AfterEach
  void stop() {
    executor.shutdownNow();
  }

  /** The pool, counting the statements that read and lock projection rows for an append. */
  private DataSource counting(DataSource pool) {
    ConnectionHook hook =
        (c, method, args) -> {
          if (method.equals("prepareStatement")
              && String.valueOf(args[0]).contains(" ORDER BY p.id COLLATE")) {
            rowReads.incrementAndGet();
          }
        };
    return hook.on(pool);
  }

  private WorkOrderStore open() {
    return Stores.postgres(counting(db.dataSource()), db.options(clock).build());
  }

  private static AppendRequest submit(WorkOrderId id, String queue) {
    return AppendRequest.of(id, ExpectedVersion.none(), submitted(queue));
  }

  @Test
  void a_submit_reads_no_row_and_a_later_append_does() {
    try (WorkOrderStore store = open()) {
      WorkOrderId id = newId();
      store.appendAll(List.of(submit(id, "q"), submit(newId(), "q")));
      assertThat(rowReads).hasValue(0);
      store.append(
          id,
          ExpectedVersion.exactly(1),
          List.of(claimed("node-1", clock.instant().plusSeconds(60))));
      assertThat(rowReads).hasValue(1);
    }
  }

  @Test
  void a_submit_of_an_existing_work_order_is_a_conflict_and_changes_nothing() {
    try (WorkOrderStore store = open()) {
      WorkOrderId id = newId();
      store.append(id, ExpectedVersion.none(), List.of(submitted("first")));
      WorkOrderId other = newId();
      assertThatThrownBy(() -> store.appendAll(List.of(submit(other, "q"), submit(id, "second"))))
          .isInstanceOf(ConcurrencyException.class)
          .hasMessageContaining(id.value());
      assertThat(store.readStream(id)).hasSize(1);
      assertThat(store.find(id).orElseThrow().spec().queue()).isEqualTo("first");
      assertThat(store.find(other)).isEmpty();
      assertThat(store.readStream(other)).isEmpty();
      // Read on the try after the unique violation, not before it.
      assertThat(rowReads).hasValue(1);
    }
  }

  @Test
  void of_threads_submitting_the_same_new_work_orders_exactly_one_wins_each() throws Exception {
    try (WorkOrderStore store = open()) {
      List<WorkOrderId> ids = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        ids.add(newId());
      }
      int threads = 6;
      CyclicBarrier start = new CyclicBarrier(threads);
      List<Future<int[]>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        results.add(
            executor.submit(
                () -> {
                  start.await(10, TimeUnit.SECONDS);
                  int won = 0;
                  int lost = 0;
                  for (WorkOrderId id : ids) {
                    try {
                      List<RecordedEvent> written = store.appendAll(List.of(submit(id, "q")));
                      assertThat(written).hasSize(1);
                      won++;
                    } catch (ConcurrencyException e) {
                      lost++;
                    }
                  }
                  return new int[] {won, lost};
                }));
      }
      int won = 0;
      int lost = 0;
      for (Future<int[]> f : results) {
        int[] r = f.get(60, TimeUnit.SECONDS);
        won += r[0];
        lost += r[1];
      }
      assertThat(won).isEqualTo(ids.size());
      assertThat(lost).isEqualTo(ids.size() * (threads - 1));
      for (WorkOrderId id : ids) {
        assertThat(store.readStream(id)).hasSize(1);
      }
    }
  }
}
