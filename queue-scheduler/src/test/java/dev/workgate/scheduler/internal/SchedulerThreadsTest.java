package dev.workgate.scheduler.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.scheduler.MemoryProbe;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.spi.ExpectedVersion;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The loop on its own thread: it wakes on a submit, on a slot release and on a store notification,
 * not on its poll interval (an hour here, so a test that waited for it would time out).
 */
class SchedulerThreadsTest {
  static final Duration NEVER = Duration.ofHours(1);
  static final long GB = 1L << 30;

  WorkOrderStore store;
  List<ClaimedWork> dispatched;
  Scheduler scheduler;
  volatile Thread loop;
  ExecutorService executor;

  @BeforeEach
  void open() {
    store = Stores.inMemory();
    dispatched = new CopyOnWriteArrayList<>();
    executor = Executors.newSingleThreadExecutor();
  }

  @AfterEach
  void close() {
    if (scheduler != null) {
      scheduler.close();
    }
    executor.shutdownNow();
    store.close();
  }

  Scheduler start(int slots) {
    MemoryProbe plenty = () -> new MemoryReading(16 * GB, 12 * GB, "test");
    scheduler =
        Scheduler.builder(store, dispatched::add)
            .config(SchedulerConfig.builder().nodeId("node-1").pollInterval(NEVER).build())
            .resources(
                new ResourceMonitor(
                    ResourceConfig.builder().maxConcurrent(slots).build(),
                    plenty,
                    java.time.Clock.systemUTC()))
            .threadFactory(
                r -> {
                  Thread t = new Thread(r, "test-scheduler-loop");
                  t.setDaemon(true);
                  loop = t;
                  return t;
                })
            .build();
    scheduler.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> scheduler.stats().turns() >= 1);
    return scheduler;
  }

  @Test
  void a_submit_is_dispatched_without_waiting_for_the_poll_interval() {
    Scheduler s = start(2);

    WorkOrderId id = s.submit(WorkOrderSpec.builder("job").build());

    await().atMost(Duration.ofSeconds(10)).until(() -> dispatched.size() == 1);
    assertThat(dispatched.get(0).id()).isEqualTo(id);
    assertThat(s.isRunning()).isTrue();
  }

  @Test
  void a_released_slot_starts_the_next_waiting_work_order_at_once() {
    Scheduler s = start(1);
    s.submit(WorkOrderSpec.builder("job").build());
    WorkOrderId second = s.submit(WorkOrderSpec.builder("job").build());
    await().atMost(Duration.ofSeconds(10)).until(() -> dispatched.size() == 1);

    dispatched.get(0).release();

    await().atMost(Duration.ofSeconds(10)).until(() -> dispatched.size() == 2);
    assertThat(dispatched.get(1).id()).isEqualTo(second);
  }

  @Test
  void work_appended_straight_to_the_store_wakes_the_loop_through_its_notification() {
    start(1);
    WorkOrderId id = WorkOrderId.random();

    store.append(
        id,
        ExpectedVersion.none(),
        List.of(WorkOrderEvent.Submitted.of(WorkOrderSpec.builder("job").build())));

    await().atMost(Duration.ofSeconds(10)).until(() -> dispatched.size() == 1);
    assertThat(dispatched.get(0).id()).isEqualTo(id);
  }

  @Test
  void stop_ends_the_loop_thread_and_a_stopped_scheduler_claims_nothing() {
    Scheduler s = start(2);
    s.stop();
    assertThat(s.isRunning()).isFalse();
    assertThat(loop.isAlive()).isFalse();
    long turns = s.stats().turns();

    s.submit(WorkOrderSpec.builder("job").build());

    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(2))
        .until(() -> dispatched.isEmpty() && s.stats().turns() == turns);
    assertThat(store.counts().byState("default")).containsEntry(WorkOrderState.PENDING, 1L);
  }

  @Test
  void many_submitters_and_a_completing_executor_run_every_work_order_once() throws Exception {
    start(3);
    List<WorkOrderId> completed = new CopyOnWriteArrayList<>();
    scheduler.close();
    scheduler =
        Scheduler.builder(
                store,
                work ->
                    executor.execute(
                        () -> {
                          complete(work);
                          completed.add(work.id());
                        }))
            .config(SchedulerConfig.builder().nodeId("node-2").pollInterval(NEVER).build())
            .resources(
                new ResourceMonitor(
                    ResourceConfig.builder().maxConcurrent(3).build(),
                    () -> new MemoryReading(16 * GB, 12 * GB, "test"),
                    java.time.Clock.systemUTC()))
            .build();
    scheduler.start();
    int threads = 4;
    int each = 50;
    List<Thread> submitters = new ArrayList<>();
    List<WorkOrderId> submitted = new CopyOnWriteArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread thread =
          new Thread(
              () -> {
                for (int i = 0; i < each; i++) {
                  submitted.add(scheduler.submit(WorkOrderSpec.builder("job").build()));
                }
              });
      submitters.add(thread);
      thread.start();
    }
    for (Thread thread : submitters) {
      thread.join(30_000);
    }

    await().atMost(Duration.ofSeconds(30)).until(() -> completed.size() == threads * each);
    assertThat(completed).containsExactlyInAnyOrderElementsOf(submitted);
    assertThat(store.counts().byState("default")).containsEntry(WorkOrderState.COMPLETED, 200L);
  }

  private void complete(ClaimedWork work) {
    WorkOrderView claimed = work.view();
    store.append(
        claimed.id(),
        ExpectedVersion.exactly(claimed.version()),
        List.of(new WorkOrderEvent.Started("sandbox"), new WorkOrderEvent.Completed(null)));
    work.release();
  }
}
