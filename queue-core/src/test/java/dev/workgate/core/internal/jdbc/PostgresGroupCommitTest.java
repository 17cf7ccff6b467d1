package dev.workgate.core.internal.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Group commit on PostgreSQL, through the host's data source: an append is held in its commit, so
 * that appends queue for the next transaction; commits are counted, and may be made to fail.
 */
class PostgresGroupCommitTest extends GroupCommitTest {
  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  private final AtomicInteger commits = new AtomicInteger();
  private final AtomicReference<CountDownLatch> holdNext = new AtomicReference<>();
  private final CountDownLatch held = new CountDownLatch(1);
  private final AtomicReference<Throwable> failCommits = new AtomicReference<>();

  @Override
  WorkOrderStore open() {
    return Stores.postgres(hooked(db.dataSource()), db.options(Clock.systemUTC()).build());
  }

  @Override
  JdbcTestKit.RawTables raw() {
    return JdbcTestKit.postgres(db);
  }

  @Override
  Hold holdAWrite(WorkOrderStore store) throws Exception {
    CountDownLatch released = new CountDownLatch(1);
    holdNext.set(released);
    Future<List<RecordedEvent>> leader =
        threads.submit(() -> store.appendAll(List.of(submit(WorkOrderId.random()))));
    assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
    return () -> {
      released.countDown();
      assertThat(leader.get(10, TimeUnit.SECONDS)).hasSize(1);
    };
  }

  @Override
  int queued(WorkOrderStore store) {
    return ((PostgresWriter) ((JdbcWorkOrderStore) store).writer()).queued();
  }

  @Override
  long transactions(WorkOrderStore store) {
    return commits.get();
  }

  @Test
  void a_failed_commit_reaches_every_caller_of_its_transaction_and_is_not_retried_one_by_one()
      throws Exception {
    try (WorkOrderStore store = open()) {
      List<AppendRequest> queued =
          List.of(submit(WorkOrderId.random()), submit(WorkOrderId.random()));
      Hold hold = holdAWrite(store);
      List<Future<List<RecordedEvent>>> futures = queue(store, queued);
      int before = commits.get();
      failCommits.set(new SQLException("disk full", "58030"));
      hold.release();

      for (Future<List<RecordedEvent>> f : futures) {
        assertThat(failureOf(f))
            .isInstanceOf(StoreException.class)
            .hasMessageContaining("outcome is unknown")
            .hasMessageContaining("disk full");
      }
      // Counted since the held commit began: the two together, once.
      assertThat(commits.get() - before).isEqualTo(1);
      failCommits.set(null);
      for (AppendRequest r : queued) {
        assertThat(store.readStream(r.workOrderId())).isEmpty();
      }
    }
  }

  @Test
  void an_error_in_a_transaction_reaches_each_of_its_callers_and_leaves_nobody_waiting()
      throws Exception {
    try (WorkOrderStore store = open()) {
      List<AppendRequest> queued =
          List.of(submit(WorkOrderId.random()), submit(WorkOrderId.random()));
      Hold hold = holdAWrite(store);
      List<Future<List<RecordedEvent>>> futures = queue(store, queued);
      failCommits.set(new AssertionError("the store broke"));
      hold.release();

      for (Future<List<RecordedEvent>> f : futures) {
        assertThat(failureOf(f)).isInstanceOf(AssertionError.class).hasMessage("the store broke");
      }
      failCommits.set(null);
      assertThat(store.appendAll(List.of(submit(WorkOrderId.random())))).hasSize(1);
    }
  }

  /**
   * The host's pool, with every connection's {@code commit} counted; the next commit after {@link
   * #holdAWrite} waits until released, and commits after that throw what {@link #failCommits}
   * holds, if anything (nothing is committed then).
   */
  private DataSource hooked(DataSource pool) {
    ConnectionHook hook =
        (c, method, args) -> {
          if (method.equals("commit")) {
            commits.incrementAndGet();
            CountDownLatch release = holdNext.getAndSet(null);
            if (release != null) {
              held.countDown();
              if (!release.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test never released the commit");
              }
            } else if (failCommits.get() != null) {
              throw failCommits.get();
            }
          }
        };
    return hook.on(pool);
  }
}
