package dev.workgate.core.internal.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group commit on SQLite: the writer thread is held by a write of the test's own inside its
 * transaction, so that appends queue for the writer's next group.
 */
class SqliteGroupCommitTest extends GroupCommitTest {
  @TempDir Path dir;

  private Path file() {
    return dir.resolve("workgate.db");
  }

  @Override
  WorkOrderStore open() {
    return Stores.sqlite(file(), SqliteOptions.builder().build());
  }

  @Override
  JdbcTestKit.RawTables raw() {
    return JdbcTestKit.sqlite(file());
  }

  private static SqliteWriter writer(WorkOrderStore store) {
    return (SqliteWriter) ((JdbcWorkOrderStore) store).writer();
  }

  @Override
  Hold holdAWrite(WorkOrderStore store) throws Exception {
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch released = new CountDownLatch(1);
    Future<?> write =
        threads.submit(
            () ->
                writer(store)
                    .write(
                        "hold",
                        (c, ctx) -> {
                          held.countDown();
                          try {
                            released.await();
                          } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException("interrupted while held", e);
                          }
                          return null;
                        }));
    assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
    return () -> {
      released.countDown();
      write.get(10, TimeUnit.SECONDS);
    };
  }

  @Override
  int queued(WorkOrderStore store) {
    return writer(store).queued();
  }

  @Override
  long transactions(WorkOrderStore store) {
    return writer(store).commits();
  }

  @Test
  void a_group_that_cannot_be_written_fails_every_caller_queued_for_it() throws Exception {
    try (WorkOrderStore store = open()) {
      List<AppendRequest> queued =
          List.of(submit(WorkOrderId.random()), submit(WorkOrderId.random()));
      Hold hold = holdAWrite(store);

      List<Future<List<RecordedEvent>>> futures = queue(store, queued);
      Files.delete(file());
      hold.release();

      for (Future<List<RecordedEvent>> f : futures) {
        assertThat(failureOf(f)).isInstanceOf(StoreException.class).hasMessageContaining("deleted");
      }
    }
  }

  /**
   * An {@link Error} in a shared run reaches each caller of that run and no other write of the
   * group; the writer goes on.
   */
  @Test
  void an_error_in_a_shared_run_reaches_each_of_its_callers_and_leaves_nobody_waiting()
      throws Exception {
    try (WorkOrderStore store = open()) {
      SqliteWriter writer = writer(store);
      Work.Shared<String, String> breaks =
          new Work.Shared<>() {
            @Override
            public List<String> run(Connection c, Work.Context ctx, List<String> requests) {
              if (requests.size() > 1) {
                throw new AssertionError("the store broke");
              }
              return requests;
            }

            @Override
            public int results(String request) {
              return 1;
            }
          };
      Hold hold = holdAWrite(store);
      // Queued one after another: "a" and "b" follow each other in the group, then an append.
      List<Future<List<String>>> shared = new ArrayList<>();
      for (String r : List.of("a", "b")) {
        shared.add(threads.submit(() -> writer.writeShared("broken", breaks, List.of(r))));
        int n = shared.size();
        await().atMost(Duration.ofSeconds(10)).until(() -> writer.queued() == n);
      }
      WorkOrderId other = WorkOrderId.random();
      Future<List<RecordedEvent>> append =
          threads.submit(() -> store.appendAll(List.of(submit(other))));
      await().atMost(Duration.ofSeconds(10)).until(() -> writer.queued() == 3);
      hold.release();

      for (Future<List<String>> f : shared) {
        assertThat(failureOf(f)).isInstanceOf(AssertionError.class).hasMessage("the store broke");
      }
      assertThat(append.get(10, TimeUnit.SECONDS)).hasSize(1);
      assertThat(writer.writeShared("alone", breaks, List.of("c"))).containsExactly("c");
      assertThat(store.readStream(other)).hasSize(1);
    }
  }
}
