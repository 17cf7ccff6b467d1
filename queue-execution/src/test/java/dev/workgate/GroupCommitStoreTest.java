package dev.workgate;

import static dev.workgate.core.testing.WorkOrderFixtures.cancelled;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class GroupCommitStoreTest {
  private final WorkOrderStore memory = Stores.inMemory();
  private final ExecutorService threads = Executors.newCachedThreadPool();

  /** Counts appendAll calls; the first blocks until released; later ones may be made to fail. */
  private final AtomicInteger calls = new AtomicInteger();

  private final CountDownLatch firstReleased = new CountDownLatch(1);
  private volatile RuntimeException failLaterCalls;
  private volatile Error errorLaterCalls;

  private final WorkOrderStore gated =
      (WorkOrderStore)
          Proxy.newProxyInstance(
              WorkOrderStore.class.getClassLoader(),
              new Class<?>[] {WorkOrderStore.class},
              (InvocationHandler)
                  (proxy, method, args) -> {
                    if (method.getName().equals("appendAll")) {
                      int call = calls.incrementAndGet();
                      if (call == 1) {
                        firstReleased.await();
                      } else if (failLaterCalls != null) {
                        throw failLaterCalls;
                      } else if (errorLaterCalls != null) {
                        throw errorLaterCalls;
                      }
                    }
                    try {
                      return method.invoke(memory, args);
                    } catch (InvocationTargetException e) {
                      throw e.getCause();
                    }
                  });

  @AfterEach
  void close() throws InterruptedException {
    firstReleased.countDown();
    threads.shutdownNow();
    threads.awaitTermination(10, TimeUnit.SECONDS);
    memory.close();
  }

  private static AppendRequest submit(WorkOrderId id) {
    return AppendRequest.of(id, ExpectedVersion.none(), submitted("q"));
  }

  /** Starts a leader whose write blocks in the store, then queues the given appends behind it. */
  private List<Future<List<RecordedEvent>>> queueBehindABlockedLeader(
      GroupCommitStore store, List<AppendRequest> queued) {
    List<Future<List<RecordedEvent>>> futures = new ArrayList<>();
    futures.add(threads.submit(() -> store.appendAll(List.of(submit(WorkOrderId.random())))));
    await().atMost(Duration.ofSeconds(10)).until(() -> calls.get() == 1);
    for (AppendRequest r : queued) {
      futures.add(threads.submit(() -> store.appendAll(List.of(r))));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> store.queued() == queued.size());
    return futures;
  }

  @Test
  void appends_that_queue_during_a_write_go_in_one_call_and_each_caller_gets_its_own_events()
      throws Exception {
    GroupCommitStore store = new GroupCommitStore(gated);
    List<AppendRequest> queued = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      queued.add(submit(WorkOrderId.random()));
    }

    List<Future<List<RecordedEvent>>> futures = queueBehindABlockedLeader(store, queued);
    firstReleased.countDown();

    for (int i = 0; i < queued.size(); i++) {
      List<RecordedEvent> mine = futures.get(i + 1).get(10, TimeUnit.SECONDS);
      assertThat(mine).singleElement().satisfies(e -> assertThat(e.version()).isEqualTo(1));
      assertThat(mine.get(0).workOrderId()).isEqualTo(queued.get(i).workOrderId());
    }
    assertThat(calls).hasValue(2); // the leader alone, then all ten together
    assertThat(memory.readLog(0, 100).events()).hasSize(11);
  }

  @Test
  void a_refused_request_fails_only_its_own_caller_and_the_others_are_written() throws Exception {
    GroupCommitStore store = new GroupCommitStore(gated);
    List<AppendRequest> queued = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      queued.add(submit(WorkOrderId.random()));
    }
    WorkOrderId wrong = WorkOrderId.random();
    queued.add(AppendRequest.of(wrong, ExpectedVersion.exactly(7), cancelled()));

    List<Future<List<RecordedEvent>>> futures = queueBehindABlockedLeader(store, queued);
    firstReleased.countDown();

    for (int i = 0; i < 5; i++) {
      assertThat(futures.get(i + 1).get(10, TimeUnit.SECONDS)).hasSize(1);
    }
    try {
      futures.get(6).get(10, TimeUnit.SECONDS);
      throw new AssertionError("the append under a wrong version was written");
    } catch (java.util.concurrent.ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(ConcurrencyException.class);
    }
    assertThat(memory.readStream(wrong)).isEmpty();
    assertThat(memory.readLog(0, 100).events()).hasSize(6);
  }

  @Test
  void a_store_failure_reaches_every_caller_of_its_batch() throws Exception {
    GroupCommitStore store = new GroupCommitStore(gated);
    List<AppendRequest> queued =
        List.of(submit(WorkOrderId.random()), submit(WorkOrderId.random()));
    failLaterCalls = new StoreException("disk full");

    List<Future<List<RecordedEvent>>> futures = queueBehindABlockedLeader(store, queued);
    firstReleased.countDown();

    assertThat(futures.get(0).get(10, TimeUnit.SECONDS)).hasSize(1);
    for (int i = 1; i <= 2; i++) {
      try {
        futures.get(i).get(10, TimeUnit.SECONDS);
        throw new AssertionError("a failed batch reported success");
      } catch (java.util.concurrent.ExecutionException e) {
        assertThat(e.getCause()).isInstanceOf(StoreException.class).hasMessage("disk full");
      }
    }
    assertThat(calls).hasValue(2); // a failure that is not a refusal is not retried one by one
    assertThat(memory.readLog(0, 100).events()).hasSize(1);
  }

  @Test
  void an_error_in_a_batch_reaches_each_of_its_callers_and_leaves_nobody_waiting()
      throws Exception {
    GroupCommitStore store = new GroupCommitStore(gated);
    List<AppendRequest> queued =
        List.of(submit(WorkOrderId.random()), submit(WorkOrderId.random()));
    errorLaterCalls = new AssertionError("the store broke");

    List<Future<List<RecordedEvent>>> futures = queueBehindABlockedLeader(store, queued);
    firstReleased.countDown();

    for (int i = 1; i <= 2; i++) {
      try {
        futures.get(i).get(10, TimeUnit.SECONDS);
        throw new IllegalStateException("a broken batch reported success");
      } catch (java.util.concurrent.ExecutionException e) {
        assertThat(e.getCause()).isInstanceOf(AssertionError.class).hasMessage("the store broke");
      }
    }
    errorLaterCalls = null;
    assertThat(store.appendAll(List.of(submit(WorkOrderId.random())))).hasSize(1); // still works
  }

  /**
   * Many threads append at once, each a submit of a new work order or a cancel under a right or
   * wrong version: every caller sees what a store of its own would have told it, and the log holds
   * exactly the events of the callers that succeeded.
   */
  @Property(tries = 25)
  void concurrent_callers_each_get_their_own_outcome_and_the_log_holds_exactly_the_successes(
      @ForAll @IntRange(min = 2, max = 8) int callers,
      @ForAll @IntRange(min = 1, max = 40) int appendsEach,
      @ForAll @IntRange(min = 0, max = 3) int wrongEvery)
      throws Exception {
    try (WorkOrderStore base = Stores.inMemory()) {
      GroupCommitStore store = new GroupCommitStore(base);
      ExecutorService pool = Executors.newFixedThreadPool(callers);
      Map<WorkOrderId, Long> written = new ConcurrentHashMap<>();
      AtomicInteger refusedWritten = new AtomicInteger();
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < callers; c++) {
        done.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < appendsEach; i++) {
                    WorkOrderId id = WorkOrderId.random();
                    List<RecordedEvent> sub = store.appendAll(List.of(submit(id)));
                    assertThat(sub)
                        .singleElement()
                        .extracting(RecordedEvent::workOrderId)
                        .isEqualTo(id);
                    boolean wrong = wrongEvery > 0 && i % wrongEvery == 0;
                    try {
                      List<RecordedEvent> cancel =
                          store.appendAll(
                              List.of(
                                  AppendRequest.of(
                                      id, ExpectedVersion.exactly(wrong ? 5 : 1), cancelled())));
                      if (wrong) {
                        refusedWritten.incrementAndGet();
                      }
                      assertThat(cancel)
                          .singleElement()
                          .satisfies(e -> assertThat(e.version()).isEqualTo(2));
                      written.put(id, 2L);
                    } catch (ConcurrencyException e) {
                      assertThat(wrong).as("only a wrong version is refused").isTrue();
                      written.put(id, 1L);
                    }
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
      pool.shutdown();

      assertThat(refusedWritten).hasValue(0);
      long total = 0;
      for (Map.Entry<WorkOrderId, Long> e : written.entrySet()) {
        assertThat(base.readStream(e.getKey())).hasSize(e.getValue().intValue());
        total += e.getValue();
      }
      assertThat(base.readLog(0, 100_000).events()).hasSize((int) total);
    }
  }
}
