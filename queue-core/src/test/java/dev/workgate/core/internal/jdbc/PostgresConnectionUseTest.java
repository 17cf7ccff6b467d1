package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.claimed;
import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.spec;
import static dev.workgate.core.testing.WorkOrderFixtures.started;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.IdempotencyKeyConflictException;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import dev.workgate.spi.ExpectedVersion;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The PostgreSQL store borrows connections from the host's pool and gives every one back: after
 * calls that succeed, calls that are refused, calls that fail on a damaged row, and when it is
 * closed with a listener subscribed. A pool of two connections that the store leaked from would run
 * dry within these tests.
 */
class PostgresConnectionUseTest {

  private static final String QUEUE = "jobs";

  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  private final MutableClock clock = MutableClock.create();

  private HikariDataSource smallPool() {
    return db.dataSource(
        c -> {
          c.setMaximumPoolSize(2);
          c.setConnectionTimeout(2_000);
        });
  }

  @Test
  void every_call_gives_its_connection_back_whether_it_succeeds_or_fails() {
    HikariDataSource pool = smallPool();
    WorkOrderStore store = Stores.postgres(pool, db.options(clock).build());
    try {
      WorkOrderId id = newId();
      store.append(
          id,
          ExpectedVersion.none(),
          List.of(submitted(spec(QUEUE).idempotencyKey("taken").build())));
      WorkOrderId damaged = newId();
      store.append(damaged, ExpectedVersion.none(), List.of(submitted("damaged")));
      db.execute(
          "UPDATE "
              + db.table("workgate_events")
              + " SET data = '{not json' WHERE work_order_id = '"
              + damaged.value()
              + "'");

      for (int round = 0; round < 5; round++) {
        assertThatThrownBy(
                () -> store.append(id, ExpectedVersion.none(), List.of(submitted(QUEUE))))
            .isInstanceOf(ConcurrencyException.class);
        assertIdle(pool);
        assertThatThrownBy(() -> store.append(id, ExpectedVersion.any(), List.of(started())))
            .isInstanceOf(InvalidTransitionException.class);
        assertIdle(pool);
        assertThatThrownBy(
                () ->
                    store.append(
                        newId(),
                        ExpectedVersion.none(),
                        List.of(submitted(spec(QUEUE).idempotencyKey("taken").build()))))
            .isInstanceOf(IdempotencyKeyConflictException.class);
        assertIdle(pool);
        assertThatThrownBy(() -> store.readStream(damaged)).isInstanceOf(StoreException.class);
        assertIdle(pool);
        assertThatThrownBy(() -> store.find(damaged)).isInstanceOf(StoreException.class);
        assertIdle(pool);
        assertThat(store.rebuildProjection(RebuildMode.VERIFY).mismatches())
            .extracting(m -> m.workOrderId())
            .containsExactly(damaged);
        assertIdle(pool);
        assertThat(store.find(id)).isPresent();
        assertThat(store.counts().queues()).contains(QUEUE);
        assertThat(store.renewLease(id, "nobody", 1, clock.instant())).isFalse();
        assertIdle(pool);
      }
      List<?> claimedNow =
          store.claim(
              new ClaimRequest(
                  QUEUE,
                  "node-a",
                  1,
                  Capacity.unlimited(),
                  clock.instant(),
                  Duration.ofMinutes(1)));
      assertThat(claimedNow).hasSize(1);
      assertThat(
              store.append(
                  newId(),
                  ExpectedVersion.none(),
                  List.of(submitted(QUEUE), claimed("node-a", clock.instant().plusSeconds(9)))))
          .hasSize(2);
      assertIdle(pool);
    } finally {
      store.close();
    }
  }

  @Test
  void closing_a_store_with_a_listener_gives_the_listening_connection_back() {
    HikariDataSource pool = smallPool();
    WorkOrderStore store = Stores.postgres(pool, db.options(clock).build());
    store.subscribe(queues -> {});
    await("the listener holding a connection")
        .atMost(Duration.ofSeconds(30))
        .until(() -> pool.getHikariPoolMXBean().getActiveConnections() == 1);

    store.close();

    await("every connection back in the pool")
        .atMost(Duration.ofSeconds(30))
        .until(() -> pool.getHikariPoolMXBean().getActiveConnections() == 0);
    assertThat(pool.getHikariPoolMXBean().getTotalConnections()).isPositive();
  }

  private static void assertIdle(HikariDataSource pool) {
    assertThat(pool.getHikariPoolMXBean().getActiveConnections())
        .as("connections the store still holds")
        .isZero();
  }
}
