package dev.workgate.core.internal.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.StoreView.LogPage;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.spi.Capacity;
import dev.workgate.spi.ClaimRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A pause on one node against claims on another, with real threads on PostgreSQL, where the
 * ordering rests on the queue's advisory lock (shared in a claim, exclusive in a pause): once
 * {@code recordQueueAction(PAUSE)} has returned on any node, the log gains no Claimed event of the
 * queue until it is resumed, while claims of another queue go on.
 *
 * <p>Sound however the threads interleave: a claim that held the queue's lock when the pause came
 * committed before the pause returned, so its Claimed event is in the log by the time the test
 * reads its head; a claim that came later sees the pause.
 */
class PostgresQueuePauseTest {

  private static final String QUEUE = "jobs";
  private static final String OTHER_QUEUE = "other";
  private static final int ROUNDS = 5;
  private static final int PER_QUEUE = 2_000;
  private static final long COMMIT_DELAY_MILLIS = 30;
  private static final long WAIT_SECONDS = 60;

  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  @Test
  void no_claim_of_a_queue_lands_in_the_log_after_a_pause_on_another_node_returned()
      throws Exception {
    MutableClock clock = MutableClock.create();
    // The claiming node commits slowly, so that a claim that read the queue as running is often
    // still open when the pause commits: without the queue's lock it would commit after the pause
    // returned, and the test would see its Claimed event after the head.
    ConnectionHook slowCommits =
        (c, method, args) -> {
          if (method.equals("commit")) {
            Thread.sleep(COMMIT_DELAY_MILLIS);
          }
        };
    WorkOrderStore claiming =
        Stores.postgres(slowCommits.on(db.dataSource()), db.options(clock).build());
    WorkOrderStore pausing = Stores.postgres(db.dataSource(), db.options(clock).build());
    Set<WorkOrderId> ofQueue =
        new HashSet<>(JdbcTestKit.submitMany(pausing, QUEUE, PER_QUEUE, 500));
    JdbcTestKit.submitMany(pausing, OTHER_QUEUE, PER_QUEUE, 500);
    AtomicBoolean stop = new AtomicBoolean();
    // Odd while the queue is paused: raised once a pause has returned, and again before a resume.
    AtomicLong epoch = new AtomicLong();
    AtomicLong callsWhilePaused = new AtomicLong();
    AtomicInteger claimedFromQueue = new AtomicInteger();
    AtomicInteger claimedFromOther = new AtomicInteger();
    List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());
    int threads = 4;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<?>> claimers = new ArrayList<>();
    for (int n = 0; n < threads; n++) {
      String queue = n == threads - 1 ? OTHER_QUEUE : QUEUE;
      String owner = "claimer-" + n;
      claimers.add(
          pool.submit(
              () -> {
                while (!stop.get()) {
                  long begun = epoch.get();
                  List<WorkOrderView> got =
                      claiming.claim(
                          new ClaimRequest(
                              queue,
                              owner,
                              2,
                              Capacity.unlimited(),
                              clock.instant(),
                              Duration.ofMinutes(5)));
                  (queue.equals(QUEUE) ? claimedFromQueue : claimedFromOther).addAndGet(got.size());
                  // A claim that ran wholly between a pause and the next resume takes nothing.
                  if (begun % 2 == 1 && epoch.get() == begun && queue.equals(QUEUE)) {
                    callsWhilePaused.incrementAndGet();
                    if (!got.isEmpty()) {
                      problems.add(owner + " claimed " + got + " from the paused queue");
                    }
                  }
                }
                return null;
              }));
    }
    try {
      for (int round = 0; round < ROUNDS; round++) {
        int before = claimedFromQueue.get();
        waitFor(() -> claimedFromQueue.get() >= before + 20, "claims go on in round " + round);
        // Read up to here first, so that the head after the pause takes one short read.
        long known = head(pausing, 0);

        assertThat(
                pausing.recordQueueAction(
                    new QueueAction(
                        QUEUE, QueueAction.Kind.PAUSE, clock.instant(), "ops", "round " + round)))
            .isTrue();
        long head = head(pausing, known);
        epoch.incrementAndGet();
        long calls = callsWhilePaused.get();
        int other = claimedFromOther.get();
        waitFor(
            () -> callsWhilePaused.get() >= calls + 30 && claimedFromOther.get() > other,
            "claims while paused in round " + round);

        List<RecordedEvent> claimsAfter =
            after(pausing, head).stream()
                .filter(r -> r.event() instanceof WorkOrderEvent.Claimed)
                .filter(r -> ofQueue.contains(r.workOrderId()))
                .toList();
        assertThat(claimsAfter)
            .as("claims of %s after the pause of round %d", QUEUE, round)
            .isEmpty();

        epoch.incrementAndGet();
        assertThat(
                pausing.recordQueueAction(
                    new QueueAction(QUEUE, QueueAction.Kind.RESUME, clock.instant(), "ops", "")))
            .isTrue();
      }
    } finally {
      stop.set(true);
      pool.shutdown();
      assertThat(pool.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
      for (Future<?> f : claimers) {
        f.get();
      }
      claiming.close();
      pausing.close();
    }
    assertThat(problems).isEmpty();
    assertThat(claimedFromQueue.get()).isLessThan(PER_QUEUE);
  }

  private static void waitFor(java.util.concurrent.Callable<Boolean> condition, String what) {
    await(what)
        .atMost(Duration.ofSeconds(WAIT_SECONDS))
        .pollInterval(Duration.ofMillis(1))
        .until(condition);
  }

  /** The position of the last event in the log now, reading on from a known one. */
  private static long head(WorkOrderStore store, long from) {
    long after = from;
    while (true) {
      LogPage page = store.readLog(after, 1000);
      if (page.events().isEmpty()) {
        return after;
      }
      after = page.lastPosition();
    }
  }

  private static List<RecordedEvent> after(WorkOrderStore store, long position) {
    List<RecordedEvent> out = new ArrayList<>();
    long after = position;
    while (true) {
      LogPage page = store.readLog(after, 1000);
      if (page.events().isEmpty()) {
        return out;
      }
      out.addAll(page.events());
      after = page.lastPosition();
    }
  }
}
