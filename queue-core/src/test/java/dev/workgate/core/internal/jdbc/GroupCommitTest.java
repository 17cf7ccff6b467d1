package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.cancelled;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.IdempotencyKeyConflictException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.WorkOrderFixtures;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The JDBC store's group commit, through its public {@code appendAll} from real threads: appends
 * that queue while a write is in progress go in one transaction, each caller gets its own events, a
 * refused request fails only its own caller, and any other failure reaches every caller of its
 * transaction and nobody else. Each store holds the first write at a point of its own ({@link
 * #holdWrites}) so that the others queue behind it.
 */
@Timeout(60)
abstract class GroupCommitTest {
  final ExecutorService threads = Executors.newCachedThreadPool();

  /** Opens a store of the kind under test. */
  abstract WorkOrderStore open();

  /** Raw access to the tables of the store under test. */
  abstract JdbcTestKit.RawTables raw();

  /**
   * Starts a write of {@code store} that is held inside its transaction until released, and waits
   * until it is held: writes made meanwhile queue behind it.
   */
  abstract Hold holdAWrite(WorkOrderStore store) throws Exception;

  /** How many appends wait behind the write in progress. */
  abstract int queued(WorkOrderStore store);

  /** How many transactions {@code store} has committed or tried to commit so far. */
  abstract long transactions(WorkOrderStore store);

  /** A write held in its transaction. */
  interface Hold {
    /** Lets the held write go on and commit. */
    void release() throws Exception;
  }

  @AfterEach
  void stopThreads() throws InterruptedException {
    threads.shutdownNow();
    threads.awaitTermination(10, TimeUnit.SECONDS);
  }

  static AppendRequest submit(WorkOrderId id) {
    return AppendRequest.of(id, ExpectedVersion.none(), submitted("q"));
  }

  /** Queues the given appends, one thread each, and waits until all of them are queued. */
  List<Future<List<RecordedEvent>>> queue(WorkOrderStore store, List<AppendRequest> queued) {
    List<Future<List<RecordedEvent>>> futures = new ArrayList<>();
    for (AppendRequest r : queued) {
      futures.add(threads.submit(() -> store.appendAll(List.of(r))));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> queued(store) == queued.size());
    return futures;
  }

  static Throwable failureOf(Future<?> future) throws Exception {
    try {
      future.get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("the append was written");
  }

  @Test
  void appends_that_queue_during_a_write_go_in_one_transaction_and_each_caller_gets_its_own_events()
      throws Exception {
    try (WorkOrderStore store = open()) {
      List<AppendRequest> queued = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        queued.add(submit(WorkOrderId.random()));
      }
      long before = transactions(store);
      Hold hold = holdAWrite(store);

      List<Future<List<RecordedEvent>>> futures = queue(store, queued);
      hold.release();

      List<Long> positions = new ArrayList<>();
      for (int i = 0; i < queued.size(); i++) {
        List<RecordedEvent> mine = futures.get(i).get(10, TimeUnit.SECONDS);
        assertThat(mine).singleElement().satisfies(e -> assertThat(e.version()).isEqualTo(1));
        assertThat(mine.get(0).workOrderId()).isEqualTo(queued.get(i).workOrderId());
        positions.add(mine.get(0).position());
      }
      assertThat(positions).doesNotHaveDuplicates();
      // The held write alone, then all ten together.
      assertThat(transactions(store) - before).isEqualTo(2);
      for (AppendRequest r : queued) {
        assertThat(store.readStream(r.workOrderId())).hasSize(1);
      }
    }
  }

  @Test
  void a_refused_request_fails_only_its_own_caller_and_the_others_are_written() throws Exception {
    try (WorkOrderStore store = open()) {
      WorkOrderId keyHolder = WorkOrderId.random();
      store.append(
          keyHolder,
          ExpectedVersion.none(),
          List.of(submitted(WorkOrderFixtures.spec("q").idempotencyKey("taken").build())));
      List<AppendRequest> queued = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        queued.add(submit(WorkOrderId.random()));
      }
      WorkOrderId wrong = WorkOrderId.random();
      queued.add(AppendRequest.of(wrong, ExpectedVersion.exactly(7), cancelled()));
      WorkOrderId duplicate = WorkOrderId.random();
      queued.add(
          AppendRequest.of(
              duplicate,
              ExpectedVersion.none(),
              submitted(WorkOrderFixtures.spec("q").idempotencyKey("taken").build())));
      Hold hold = holdAWrite(store);

      List<Future<List<RecordedEvent>>> futures = queue(store, queued);
      hold.release();

      for (int i = 0; i < 5; i++) {
        assertThat(futures.get(i).get(10, TimeUnit.SECONDS)).hasSize(1);
        assertThat(store.readStream(queued.get(i).workOrderId())).hasSize(1);
      }
      assertThat(failureOf(futures.get(5))).isInstanceOf(ConcurrencyException.class);
      assertThat(failureOf(futures.get(6))).isInstanceOf(IdempotencyKeyConflictException.class);
      assertThat(store.readStream(wrong)).isEmpty();
      assertThat(store.readStream(duplicate)).isEmpty();
      assertThat(store.findByIdempotencyKey("taken")).contains(keyHolder);
    }
  }

  /**
   * A request that fails for a reason other than a refusal (here an unreadable row) fails the
   * shared write of its transaction: every caller of it gets that failure, nothing of it is
   * written, and it is not run again one by one; the next write goes on as usual.
   */
  @Test
  void a_failure_that_is_no_refusal_reaches_every_caller_of_the_shared_write() throws Exception {
    WorkOrderId damaged = WorkOrderId.random();
    try (WorkOrderStore first = open()) {
      first.append(damaged, ExpectedVersion.none(), List.of(submitted("q")));
    }
    raw().update("UPDATE {events} SET data = '{not json' WHERE work_order_id = ?", damaged.value());
    try (WorkOrderStore store = open()) {
      List<AppendRequest> queued =
          List.of(
              submit(WorkOrderId.random()),
              AppendRequest.of(damaged, ExpectedVersion.any(), cancelled()));
      Hold hold = holdAWrite(store);

      List<Future<List<RecordedEvent>>> futures = queue(store, queued);
      hold.release();

      // The submit alone would have been written: it was not run again on its own.
      assertThat(failureOf(futures.get(0))).isInstanceOf(StoreException.class);
      assertThat(failureOf(futures.get(1))).isInstanceOf(StoreException.class);
      assertThat(store.readStream(queued.get(0).workOrderId())).isEmpty();
      WorkOrderId after = WorkOrderId.random();
      assertThat(store.appendAll(List.of(submit(after)))).hasSize(1);
      assertThat(store.readStream(after)).hasSize(1);
    }
  }
}
