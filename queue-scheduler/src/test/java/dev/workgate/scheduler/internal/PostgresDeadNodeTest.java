package dev.workgate.scheduler.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.jdbc.PostgresTestDatabase;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.core.testing.WorkOrderFixtures;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.retry.internal.RetryManager;
import dev.workgate.scheduler.MemoryProbe;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Nodes that share one PostgreSQL schema, each through its own store and pool, when one of them
 * dies: the survivor reaps the dead node's expired lease by releasing the attempt (it costs no
 * attempt), runs the work order again and completes it, and the dead node's late write is refused.
 * Two live nodes whose reapers meet the same expired leases at once record each release once (the
 * loser's append is refused), and then claim each released work order once.
 *
 * <p>The nodes are driven by {@link Scheduler#runOnce()} on a shared {@link MutableClock}: no loop
 * threads, no sleeps; the race runs the two nodes' turns on two plain threads behind a barrier. A
 * node is dead from the moment the test stops calling its {@code runOnce()}.
 */
class PostgresDeadNodeTest {
  private static final Duration LEASE = Duration.ofSeconds(30);
  private static final Duration RENEW = Duration.ofSeconds(10);
  private static final Duration RETRY_DELAY = Duration.ofSeconds(1);
  private static final int MAX_RACE_ROUNDS = 5;
  private static final MemoryProbe PLENTY =
      () -> new MemoryReading(64L << 30, 48L << 30, "fixed test probe");

  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  private final MutableClock clock = MutableClock.create();
  private final List<WorkOrderStore> stores = new ArrayList<>();

  @AfterEach
  void closeStores() {
    stores.forEach(WorkOrderStore::close);
  }

  @Test
  void a_dead_nodes_work_is_reaped_by_the_survivor_run_again_there_and_the_late_write_refused() {
    Node a = node("node-a");
    Node b = node("node-b");
    WorkOrderId id = a.scheduler.submit(WorkOrderFixtures.spec("default").build());

    Instant claimedAt = clock.instant();
    a.scheduler.runOnce();
    ClaimedWork claimA = single(a.dispatcher.dispatched);
    assertThat(claimA.id()).isEqualTo(id);
    assertThat(claimA.attempt()).isEqualTo(1);
    WorkOrderView running = b.store.find(id).orElseThrow();
    assertThat(running.state()).isEqualTo(WorkOrderState.RUNNING);
    assertThat(running.leaseOwner()).contains("node-a");
    assertThat(running.leaseExpiresAt()).contains(claimedAt.plus(LEASE));

    // While A lives it renews, and B's turns leave its work alone.
    clock.advance(RENEW);
    a.scheduler.runOnce();
    Instant expiry = clock.instant().plus(LEASE);
    b.scheduler.runOnce();
    assertThat(b.store.find(id).orElseThrow().leaseExpiresAt()).contains(expiry);

    // A dies: no more turns. Up to the last moment of its lease, B still leaves the work alone.
    clock.set(expiry.minusMillis(1));
    b.scheduler.runOnce();
    assertThat(b.store.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.RUNNING);
    assertThat(b.scheduler.stats().reaped()).isZero();
    assertThat(b.dispatcher.dispatched).isEmpty();

    // The lease runs out: B releases it, once, without charging the attempt, and claims it again
    // in the same turn.
    clock.set(expiry);
    Instant reapedAt = clock.instant();
    b.scheduler.runOnce();
    assertThat(b.scheduler.stats().reaped()).isEqualTo(1);
    WorkOrderEvent.Released released = leaseExpiries(b.store, id).get(0);
    assertThat(released.code()).isEqualTo(ErrorCodes.LEASE_EXPIRED);
    assertThat(released.reason()).contains("node-a");
    ClaimedWork claimB = single(b.dispatcher.dispatched);
    assertThat(claimB.id()).isEqualTo(id);
    assertThat(claimB.attempt()).isEqualTo(2);
    WorkOrderView retried = a.store.find(id).orElseThrow();
    assertThat(retried.state()).isEqualTo(WorkOrderState.RUNNING);
    assertThat(retried.leaseOwner()).contains("node-b");
    assertThat(retried.leaseExpiresAt()).contains(reapedAt.plus(LEASE));
    assertThat(retried.releases()).isEqualTo(1);
    assertThat(retried.chargedAttempts()).isEqualTo(1);
    b.scheduler.runOnce();
    assertThat(leaseExpiries(b.store, id)).hasSize(1);
    assertThat(b.dispatcher.dispatched).hasSize(1);

    // B's run completes it.
    b.store.append(
        id,
        ExpectedVersion.exactly(b.dispatcher.startedVersion.get(id)),
        List.of(WorkOrderFixtures.completedWith(2)));
    assertThat(claimB.release()).isTrue();
    WorkOrderView done = b.store.find(id).orElseThrow();

    // The dead node wakes up and reports success under what it last saw: refused, nothing changes.
    long aSaw = a.dispatcher.startedVersion.get(id);
    assertThatThrownBy(
            () ->
                a.store.append(
                    id, ExpectedVersion.exactly(aSaw), List.of(WorkOrderFixtures.completedWith(1))))
        .isInstanceOf(ConcurrencyException.class);
    assertThat(a.store.renewLease(id, "node-a", 1, clock.instant().plus(LEASE))).isFalse();
    WorkOrderView after = a.store.find(id).orElseThrow();
    assertThat(after.state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(after.attempt()).isEqualTo(2);
    assertThat(after.version()).isEqualTo(done.version());
    assertThat(after.result()).contains(WorkOrderFixtures.completedWith(2).result());
    assertThat(types(a.store, id))
        .containsExactly(
            EventType.SUBMITTED,
            EventType.CLAIMED,
            EventType.STARTED,
            EventType.RELEASED,
            EventType.CLAIMED,
            EventType.STARTED,
            EventType.COMPLETED);
    assertThat(owners(a.store, id)).containsExactly("node-a", "node-b");

    // Should the dead node's loop ever turn again, it tells its runner the lease is gone and
    // leaves the work order alone.
    a.scheduler.runOnce();
    assertThat(a.dispatcher.leaseLost).containsExactly(claimA);
    assertThat(a.store.find(id).orElseThrow().version()).isEqualTo(done.version());
  }

  @Test
  void two_nodes_reaping_the_same_expired_leases_at_once_release_each_once_and_run_it_once()
      throws Exception {
    Node a = node("node-a");
    Node b = node("node-b");
    // Rounds of work held by node-c, a node that never ran a scheduler here and is gone, until
    // both reapers have met the same expired lease at least once (the loser's append is refused).
    List<WorkOrderId> ids = new ArrayList<>();
    int refused = 0;
    for (int round = 0; round < MAX_RACE_ROUNDS && refused == 0; round++) {
      List<WorkOrderId> held = heldByNodeC(a.store, 40, clock.instant().minusMillis(1));
      ids.addAll(held);
      long reapedBefore = a.scheduler.stats().reaped() + b.scheduler.stats().reaped();
      inParallel(a.scheduler, b.scheduler);
      refused = a.refusedFailures.get() + b.refusedFailures.get();
      assertThat(a.scheduler.stats().reaped() + b.scheduler.stats().reaped() - reapedBefore)
          .isEqualTo(held.size());
      for (WorkOrderId id : held) {
        assertThat(leaseExpiries(a.store, id)).as("lease expiries of %s", id).hasSize(1);
        assertThat(types(a.store, id))
            .startsWith(
                EventType.SUBMITTED, EventType.CLAIMED, EventType.STARTED, EventType.RELEASED);
      }
    }
    System.out.printf(
        "two reapers on one schema: %d of %d reaps refused because the other node was first%n",
        refused, ids.size());
    assertThat(refused).as("reaps refused because the other node reaped first").isPositive();

    // Released work orders are pending at once; both nodes claim (most in the reaping turns, the
    // rest now): each work order runs once more.
    inParallel(a.scheduler, b.scheduler);
    Set<WorkOrderId> claimedByA = ids(a.dispatcher.dispatched);
    Set<WorkOrderId> claimedByB = ids(b.dispatcher.dispatched);
    Set<WorkOrderId> claimedByBoth = new HashSet<>(claimedByA);
    claimedByBoth.retainAll(claimedByB); // one node may well claim them all
    assertThat(claimedByBoth).isEmpty();
    Set<WorkOrderId> all = new HashSet<>(claimedByA);
    all.addAll(claimedByB);
    assertThat(all).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(a.dispatcher.dispatched.size() + b.dispatcher.dispatched.size())
        .isEqualTo(ids.size());
    for (WorkOrderId id : ids) {
      assertThat(types(a.store, id))
          .containsExactly(
              EventType.SUBMITTED,
              EventType.CLAIMED,
              EventType.STARTED,
              EventType.RELEASED,
              EventType.CLAIMED,
              EventType.STARTED);
      assertThat(a.store.find(id).orElseThrow().attempt()).isEqualTo(2);
      assertThat(a.store.find(id).orElseThrow().chargedAttempts()).isEqualTo(1);
    }
  }

  /** Work orders claimed and started by node-c under a lease that ends at {@code expiry}. */
  private static List<WorkOrderId> heldByNodeC(WorkOrderStore store, int count, Instant expiry) {
    List<WorkOrderId> ids = new ArrayList<>();
    List<AppendRequest> held = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      WorkOrderId id = WorkOrderFixtures.newId();
      ids.add(id);
      held.add(
          new AppendRequest(
              id,
              ExpectedVersion.none(),
              List.of(
                  WorkOrderFixtures.submitted("default"),
                  WorkOrderFixtures.claimed("node-c", expiry),
                  WorkOrderFixtures.started())));
    }
    store.appendAll(held);
    return ids;
  }

  /** Runs one turn of each scheduler at the same moment, on two threads. */
  private static void inParallel(Scheduler first, Scheduler second) throws Exception {
    CyclicBarrier start = new CyclicBarrier(2);
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      List<Future<Instant>> turns = new ArrayList<>();
      for (Scheduler scheduler : List.of(first, second)) {
        turns.add(
            threads.submit(
                () -> {
                  start.await(30, TimeUnit.SECONDS);
                  return scheduler.runOnce();
                }));
      }
      for (Future<Instant> turn : turns) {
        turn.get(60, TimeUnit.SECONDS);
      }
    } finally {
      threads.shutdownNow();
    }
  }

  private Node node(String nodeId) {
    WorkOrderStore store = Stores.postgres(db.dataSource(nodeId), db.options(clock).build());
    stores.add(store);
    AtomicInteger refusedFailures = new AtomicInteger();
    RetryManager retries =
        RetryManager.builder(countingRefusals(store, refusedFailures))
            .clock(clock)
            .defaultPolicy(
                RetryPolicy.builder().baseDelay(RETRY_DELAY).jitter(Jitter.none()).build())
            .build();
    StartingDispatcher dispatcher = new StartingDispatcher(store, nodeId);
    Scheduler scheduler =
        Scheduler.builder(store, dispatcher)
            .config(
                SchedulerConfig.builder()
                    .nodeId(nodeId)
                    .leaseDuration(LEASE)
                    .renewInterval(RENEW)
                    .build())
            .resources(
                new ResourceMonitor(
                    ResourceConfig.builder().maxConcurrent(500).build(), PLENTY, clock))
            .retries(retries)
            .clock(clock)
            .build();
    return new Node(store, dispatcher, scheduler, refusedFailures);
  }

  /**
   * The store, counting the appends it refuses because the stream moved on: given to a node's retry
   * manager, it counts the reaps that lost to another reaper.
   */
  private static WorkOrderStore countingRefusals(WorkOrderStore store, AtomicInteger refused) {
    InvocationHandler handler =
        (proxy, method, args) -> {
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            if (e.getCause() instanceof ConcurrencyException) {
              refused.incrementAndGet();
            }
            throw e.getCause();
          }
        };
    return (WorkOrderStore)
        Proxy.newProxyInstance(
            WorkOrderStore.class.getClassLoader(), new Class<?>[] {WorkOrderStore.class}, handler);
  }

  private static ClaimedWork single(List<ClaimedWork> dispatched) {
    assertThat(dispatched).hasSize(1);
    return dispatched.get(0);
  }

  private static Set<WorkOrderId> ids(List<ClaimedWork> dispatched) {
    Set<WorkOrderId> ids = new HashSet<>();
    for (ClaimedWork work : dispatched) {
      ids.add(work.id());
    }
    return ids;
  }

  private static List<EventType> types(WorkOrderStore store, WorkOrderId id) {
    List<EventType> types = new ArrayList<>();
    for (RecordedEvent e : store.readStream(id)) {
      types.add(e.event().type());
    }
    return types;
  }

  private static List<String> owners(WorkOrderStore store, WorkOrderId id) {
    List<String> owners = new ArrayList<>();
    for (RecordedEvent e : store.readStream(id)) {
      if (e.event() instanceof WorkOrderEvent.Claimed) {
        owners.add(((WorkOrderEvent.Claimed) e.event()).owner());
      }
    }
    return owners;
  }

  private static List<WorkOrderEvent.Released> leaseExpiries(WorkOrderStore store, WorkOrderId id) {
    List<WorkOrderEvent.Released> releases = new ArrayList<>();
    for (RecordedEvent e : store.readStream(id)) {
      if (e.event() instanceof WorkOrderEvent.Released released
          && released.code().equals(ErrorCodes.LEASE_EXPIRED)) {
        releases.add(released);
      }
    }
    return releases;
  }

  private static final class Node {
    final WorkOrderStore store;
    final StartingDispatcher dispatcher;
    final Scheduler scheduler;
    final AtomicInteger refusedFailures;

    Node(
        WorkOrderStore store,
        StartingDispatcher dispatcher,
        Scheduler scheduler,
        AtomicInteger refusedFailures) {
      this.store = store;
      this.dispatcher = dispatcher;
      this.scheduler = scheduler;
      this.refusedFailures = refusedFailures;
    }
  }

  /**
   * Records each claim and "runs" it at once: appends {@code Started} under the claim's version and
   * remembers the version that left, which is what the node would complete under.
   */
  private static final class StartingDispatcher implements WorkDispatcher {
    final List<ClaimedWork> dispatched = new CopyOnWriteArrayList<>();
    final Map<WorkOrderId, Long> startedVersion = new ConcurrentHashMap<>();
    final List<ClaimedWork> leaseLost = new CopyOnWriteArrayList<>();
    private final WorkOrderStore store;
    private final String nodeId;

    StartingDispatcher(WorkOrderStore store, String nodeId) {
      this.store = store;
      this.nodeId = nodeId;
    }

    @Override
    public void dispatch(ClaimedWork work) {
      dispatched.add(work);
      List<RecordedEvent> started =
          store.append(
              work.id(),
              ExpectedVersion.exactly(work.view().version()),
              List.of(new WorkOrderEvent.Started("sandbox-" + nodeId + "-" + work.attempt())));
      startedVersion.put(work.id(), started.get(0).version());
    }

    @Override
    public void leaseLost(ClaimedWork work) {
      leaseLost.add(work);
    }
  }
}
