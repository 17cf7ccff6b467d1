package dev.workgate.core.internal.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two nodes (store instances, each on its own pool) claim from one PostgreSQL schema with several
 * threads each until nothing is left: every work order is claimed exactly once, which the log shows
 * as exactly one Claimed event per work order.
 */
class PostgresTwoNodeClaimTest {

  private static final int WORK_ORDERS = 10_000;
  private static final int THREADS_PER_NODE = 3;
  private static final String QUEUE = "jobs";

  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  @Test
  void two_nodes_claiming_at_once_claim_every_work_order_exactly_once() throws Exception {
    MutableClock clock = MutableClock.create();
    List<WorkOrderStore> nodes =
        List.of(
            Stores.postgres(db.dataSource(), db.options(clock).build()),
            Stores.postgres(db.dataSource(), db.options(clock).build()));
    ExecutorService pool = Executors.newFixedThreadPool(nodes.size() * THREADS_PER_NODE);
    try {
      List<WorkOrderId> submitted = JdbcTestKit.submitMany(nodes.get(0), QUEUE, WORK_ORDERS, 500);
      CyclicBarrier start = new CyclicBarrier(nodes.size() * THREADS_PER_NODE);
      List<Future<List<WorkOrderView>>> claimers = new ArrayList<>();
      for (int n = 0; n < nodes.size(); n++) {
        WorkOrderStore node = nodes.get(n);
        for (int t = 0; t < THREADS_PER_NODE; t++) {
          String owner = "node-" + n + "-thread-" + t;
          claimers.add(
              pool.submit(
                  (Callable<List<WorkOrderView>>)
                      () -> {
                        start.await(60, TimeUnit.SECONDS);
                        List<WorkOrderView> mine = new ArrayList<>();
                        while (true) {
                          List<WorkOrderView> got =
                              node.claim(
                                  new ClaimRequest(
                                      QUEUE,
                                      owner,
                                      100,
                                      Capacity.unlimited(),
                                      clock.instant(),
                                      Duration.ofMinutes(5)));
                          if (got.isEmpty()) {
                            return mine;
                          }
                          mine.addAll(got);
                        }
                      }));
        }
      }
      List<WorkOrderView> claimed = new ArrayList<>();
      Map<String, Integer> perNode = new HashMap<>();
      for (Future<List<WorkOrderView>> f : claimers) {
        List<WorkOrderView> mine = f.get(120, TimeUnit.SECONDS);
        claimed.addAll(mine);
        for (WorkOrderView v : mine) {
          perNode.merge(v.leaseOwner().orElseThrow().substring(0, 6), 1, Integer::sum);
        }
      }

      assertThat(claimed).hasSize(WORK_ORDERS);
      assertThat(claimed).extracting(WorkOrderView::id).doesNotHaveDuplicates();
      assertThat(claimed).extracting(WorkOrderView::state).containsOnly(WorkOrderState.PREPARING);
      Map<WorkOrderId, Integer> claimsInLog = new HashMap<>();
      Set<WorkOrderId> inLog = new HashSet<>();
      for (RecordedEvent r : JdbcTestKit.wholeLog(nodes.get(1))) {
        inLog.add(r.workOrderId());
        if (r.event().type() == EventType.CLAIMED) {
          claimsInLog.merge(r.workOrderId(), 1, Integer::sum);
          String owner = ((WorkOrderEvent.Claimed) r.event()).owner();
          assertThat(owner).startsWith("node-");
        }
      }
      assertThat(inLog).containsExactlyInAnyOrderElementsOf(submitted);
      assertThat(claimsInLog).hasSize(WORK_ORDERS);
      assertThat(claimsInLog.values()).containsOnly(1);
      assertThat(nodes.get(0).counts().count(QUEUE, WorkOrderState.PENDING)).isZero();
      assertThat(nodes.get(1).counts().count(QUEUE, WorkOrderState.PREPARING))
          .isEqualTo(WORK_ORDERS);
      System.out.printf("[two nodes] claims per node: %s%n", perNode);
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
      nodes.forEach(WorkOrderStore::close);
    }
  }

  /**
   * A claim locks only the rows it takes: while node A's claim of one work order is in its
   * transaction (held there by a SHARE lock on the projection that its update waits for), node B's
   * claim of one still finds one of the nine others instead of skipping them all.
   */
  @Test
  void a_claim_in_progress_on_one_node_leaves_the_work_orders_it_does_not_take_to_another()
      throws Exception {
    MutableClock clock = MutableClock.create();
    String appA = "wgt-node-a-" + db.schema();
    String appB = "wgt-node-b-" + db.schema();
    WorkOrderStore a = Stores.postgres(db.dataSource(appA), db.options(clock).build());
    WorkOrderStore b = Stores.postgres(db.dataSource(appB), db.options(clock).build());
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      JdbcTestKit.submitMany(a, QUEUE, 10, 10);
      Callable<List<WorkOrderView>> claimA = () -> a.claim(claimOne("node-a", clock));
      Callable<List<WorkOrderView>> claimB = () -> b.claim(claimOne("node-b", clock));
      Future<List<WorkOrderView>> byA;
      Future<List<WorkOrderView>> byB;
      try (Connection admin = db.adminConnection();
          Connection watcher = db.adminConnection()) {
        admin.setAutoCommit(false);
        try (Statement st = admin.createStatement()) {
          st.execute("LOCK TABLE " + db.table("workgate_work_orders") + " IN SHARE MODE");
        }
        try {
          byA = pool.submit(claimA);
          await("node a's claim waiting in its transaction")
              .atMost(Duration.ofSeconds(30))
              .until(() -> !PostgresTestDatabase.waitingOnLock(watcher, appA).isEmpty());
          byB = pool.submit(claimB);
          Future<List<WorkOrderView>> b0 = byB;
          await("node b's claim returning or waiting in its transaction")
              .atMost(Duration.ofSeconds(30))
              .until(
                  () ->
                      b0.isDone() || !PostgresTestDatabase.waitingOnLock(watcher, appB).isEmpty());
        } finally {
          admin.rollback();
        }
      }
      List<WorkOrderView> gotA = byA.get(30, TimeUnit.SECONDS);
      List<WorkOrderView> gotB = byB.get(30, TimeUnit.SECONDS);

      assertThat(gotA).hasSize(1);
      assertThat(gotB).as("node b's claim of one while node a claims one of ten").hasSize(1);
      assertThat(gotB.get(0).id()).isNotEqualTo(gotA.get(0).id());
      assertThat(a.counts().count(QUEUE, WorkOrderState.PENDING)).isEqualTo(8);
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
      a.close();
      b.close();
    }
  }

  private static ClaimRequest claimOne(String owner, MutableClock clock) {
    return new ClaimRequest(
        QUEUE, owner, 1, Capacity.unlimited(), clock.instant(), Duration.ofMinutes(5));
  }
}
