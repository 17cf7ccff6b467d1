package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.claimed;
import static dev.workgate.core.testing.WorkOrderFixtures.failedWithRetry;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.retryReleased;
import static dev.workgate.core.testing.WorkOrderFixtures.spec;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.Subscription;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.ExpectedVersion;
import dev.workgate.spi.WorkAvailableListener;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link WorkOrderStore#subscribe} of the JDBC stores: a listener hears the queues of work that
 * became claimable, after the commit; on PostgreSQL also when another node committed it.
 */
class JdbcSubscriptionTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  /** Records every call. */
  static final class Heard implements WorkAvailableListener {
    final List<Set<String>> calls = new CopyOnWriteArrayList<>();

    @Override
    public void workAvailable(Set<String> queues) {
      calls.add(Set.copyOf(queues));
    }

    boolean heard(String queue) {
      return calls.stream().anyMatch(c -> c.contains(queue));
    }

    void awaitQueue(String queue) {
      await("a notification for queue " + queue).atMost(WAIT).until(() -> heard(queue));
    }
  }

  static WorkOrderId submit(WorkOrderStore store, String queue) {
    WorkOrderId id = newId();
    store.append(id, ExpectedVersion.none(), List.of(submitted(queue)));
    return id;
  }

  @Nested
  class Sqlite {
    @TempDir Path dir;
    final MutableClock clock = MutableClock.create();
    WorkOrderStore store;

    WorkOrderStore open() {
      store =
          Stores.sqlite(dir.resolve("workgate.db"), SqliteOptions.builder().clock(clock).build());
      return store;
    }

    @AfterEach
    void close() {
      if (store != null) {
        store.close();
      }
    }

    @Test
    void a_submission_tells_the_listener_its_queue() {
      WorkOrderStore store = open();
      Heard heard = new Heard();
      store.subscribe(heard);

      submit(store, "jobs");

      heard.awaitQueue("jobs");
      assertThat(heard.calls).allSatisfy(c -> assertThat(c).containsOnly("jobs"));
    }

    @Test
    void a_released_retry_tells_the_listener_its_queue() {
      WorkOrderStore store = open();
      WorkOrderId id = newId();
      store.append(
          id,
          ExpectedVersion.none(),
          List.of(
              submitted("retries"),
              claimed("node-a", clock.instant().plusSeconds(30)),
              failedWithRetry(clock.instant().plusSeconds(5))));
      clock.advance(Duration.ofSeconds(5));
      Heard heard = new Heard();
      store.subscribe(heard);

      store.append(id, ExpectedVersion.exactly(3), List.of(retryReleased()));

      heard.awaitQueue("retries");
    }

    @Test
    void delayed_work_is_not_announced_until_it_is_claimable() {
      WorkOrderStore store = open();
      Heard heard = new Heard();
      store.subscribe(heard);

      store.append(
          newId(),
          ExpectedVersion.none(),
          List.of(submitted(spec("later").notBefore(clock.instant().plusSeconds(60)).build())));
      submit(store, "now");

      // Listeners are told in commit order: once "now" is heard, "later" would have been too.
      heard.awaitQueue("now");
      assertThat(heard.heard("later")).isFalse();
    }

    @Test
    void a_closed_subscription_hears_nothing_more() {
      WorkOrderStore store = open();
      Heard closed = new Heard();
      Subscription subscription = store.subscribe(closed);
      subscription.close();
      Heard open = new Heard();
      store.subscribe(open);

      submit(store, "first");
      submit(store, "second");

      open.awaitQueue("second");
      assertThat(open.heard("first")).isTrue();
      assertThat(closed.calls).isEmpty();
      subscription.close();
    }
  }

  @Nested
  class Postgres {
    @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();
    final MutableClock clock = MutableClock.create();
    final List<WorkOrderStore> stores = new CopyOnWriteArrayList<>();

    WorkOrderStore open() {
      WorkOrderStore store = Stores.postgres(db.dataSource(), db.options(clock).build());
      stores.add(store);
      return store;
    }

    @AfterEach
    void close() {
      stores.forEach(WorkOrderStore::close);
    }

    @Test
    void a_submission_tells_the_listener_of_the_same_store() {
      WorkOrderStore store = open();
      Heard heard = new Heard();
      store.subscribe(heard);

      submit(store, "jobs");

      heard.awaitQueue("jobs");
    }

    @Test
    void a_listener_hears_other_nodes_again_after_its_connection_was_terminated() throws Exception {
      String app = "wgt-listener-" + db.schema();
      WorkOrderStore a = open();
      WorkOrderStore b = Stores.postgres(db.dataSource(app), db.options(clock).build());
      stores.add(b);
      Heard heard = new Heard();
      b.subscribe(heard);
      awaitHearing(a, heard, "before-");

      int terminated;
      try (Connection c = db.adminConnection();
          PreparedStatement ps =
              c.prepareStatement(
                  "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
                      + " WHERE application_name = ? AND query LIKE 'LISTEN%'")) {
        ps.setString(1, app);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          terminated = rs.getInt(1);
        }
      }

      assertThat(terminated).as("listening backends terminated").isEqualTo(1);
      awaitHearing(a, heard, "after-");
    }

    /** Submits through one node to new queues until the listener has heard one of them. */
    private void awaitHearing(WorkOrderStore from, Heard heard, String prefix) {
      AtomicInteger n = new AtomicInteger();
      await("a listener hearing submissions to queues " + prefix + "*")
          .atMost(WAIT)
          .pollInterval(Duration.ofMillis(50))
          .until(
              () -> {
                submit(from, prefix + n.incrementAndGet());
                return heard.calls.stream()
                    .flatMap(Set::stream)
                    .anyMatch(q -> q.startsWith(prefix));
              });
    }

    @Test
    void a_submission_through_one_node_tells_the_listener_of_another() {
      WorkOrderStore a = open();
      WorkOrderStore b = open();
      Heard heard = new Heard();
      b.subscribe(heard);
      // The LISTEN of b may be set up in the background: submit until b hears, each time to a
      // new queue, and check that what b hears came from a.
      await("node b hearing a submission through node a")
          .atMost(WAIT)
          .pollInterval(Duration.ofMillis(50))
          .until(
              () -> {
                submit(a, "jobs-" + heard.calls.size());
                return !heard.calls.isEmpty();
              });

      submit(a, "from-a");

      heard.awaitQueue("from-a");
      assertThat(heard.calls)
          .allSatisfy(
              c -> assertThat(c).allSatisfy(q -> assertThat(q).matches("jobs-\\d+|from-a")));
    }
  }
}
