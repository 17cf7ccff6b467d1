package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.StoreView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A chain with a fan-out and a fan-in, on one node over a SQLite file: plan, then three implements
 * submitted as a batch that each wait for the plan, then a review that waits for the batch. The
 * second implement fails for good on its first run, which cancels the review; resubmitting it by
 * hand resubmits the review, which runs once all three implements (the resubmitted one among them)
 * have completed. {@link ChainsOnPostgresTest} runs the same chain on two nodes sharing PostgreSQL.
 */
@Timeout(120)
class ChainTest {
  static final Duration WAIT = Duration.ofSeconds(60);
  static final long GB = 1L << 30;

  @TempDir Path dir;

  /**
   * The handlers of the chain, shared by every node that runs it: the second implement fails
   * fatally the first time it runs, on whichever node.
   */
  static final class Handlers {
    final AtomicBoolean secondImplementFails = new AtomicBoolean(true);

    Workgate.Builder on(Workgate.Builder b) {
      return b.handler("plan", ctx -> WorkResult.ok("planned"))
          .handler(
              "implement",
              ctx -> {
                int n = ctx.payload(Integer.class);
                if (n == 2 && secondImplementFails.compareAndSet(true, false)) {
                  return WorkResult.fatalFailure(ErrorCodes.AGENT_FATAL_ERROR, "implement 2 broke");
                }
                return WorkResult.ok("implemented " + n);
              })
          .handler("review", ctx -> WorkResult.ok("reviewed"));
    }
  }

  static Workgate.Builder node(String id, WorkOrderStore store, Path root) {
    return Workgate.builder()
        .nodeId(id)
        .store(store)
        .sandboxRoot(root)
        .pollInterval(Duration.ofMillis(100))
        .retryPolicy(
            RetryPolicy.builder()
                .baseDelay(Duration.ofMillis(20))
                .maxDelay(Duration.ofMillis(100))
                .jitter(Jitter.none())
                .build())
        .memoryProbe(() -> new MemoryReading(64 * GB, 60 * GB, "test"));
  }

  /**
   * Runs the chain through {@code submitter} and resubmits through {@code resubmitter} (the same
   * client or another node's), checking every step against the store's log.
   */
  static void runChain(WorkgateClient submitter, WorkgateClient resubmitter, StoreView log)
      throws Exception {
    WorkOrderId plan = submitter.submit(WorkOrderSpec.builder("plan").build());
    WorkgateClient.Batch implement =
        submitter.submitBatch(
            List.of(
                WorkOrderSpec.builder("implement").payload(1).after(plan).build(),
                WorkOrderSpec.builder("implement").payload(2).after(plan).build(),
                WorkOrderSpec.builder("implement").payload(3).after(plan).build()));
    WorkOrderId review =
        submitter.submit(WorkOrderSpec.builder("review").afterBatch(implement.id()).build());
    WorkOrderId first = implement.workOrders().get(0);
    WorkOrderId second = implement.workOrders().get(1);
    WorkOrderId third = implement.workOrders().get(2);

    assertThat(submitter.find(review).orElseThrow().dependencies())
        .as("the review waits for the batch's work orders")
        .containsExactlyElementsOf(implement.workOrders());
    for (WorkOrderId i : implement.workOrders()) {
      assertThat(submitter.find(i).orElseThrow().dependencies()).containsExactly(plan);
      assertThat(submitter.find(i).orElseThrow().batch()).contains(implement.id());
    }

    // The second implement fails for good: the review is cancelled, the others complete.
    WorkOrderView cancelled = submitter.await(review, WAIT);
    assertThat(cancelled.state()).isEqualTo(WorkOrderState.CANCELLED);
    assertThat(cancelled.lastError().orElseThrow().code()).isEqualTo(ErrorCodes.DEPENDENCY_FAILED);
    assertThat(submitter.await(second, WAIT).state()).isEqualTo(WorkOrderState.FAILED);
    assertThat(submitter.await(first, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(submitter.await(third, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(
            submitter.history(review).stream()
                .map(e -> e.event())
                .filter(e -> e instanceof WorkOrderEvent.DependencyFailed)
                .toList())
        .containsExactly(new WorkOrderEvent.DependencyFailed(second, WorkOrderState.FAILED));
    assertThat(submitter.history(review))
        .noneMatch(e -> e.event() instanceof WorkOrderEvent.Claimed)
        .as("a cancelled dependent never ran");
    BatchStatus failedBatch = submitter.batch(implement.id());
    assertThat(failedBatch.ended()).isTrue();
    assertThat(failedBatch.completed()).isFalse();
    assertThat(failedBatch.counts().get(WorkOrderState.FAILED)).isEqualTo(1);
    assertThat(failedBatch.counts().get(WorkOrderState.COMPLETED)).isEqualTo(2);

    // Resubmitting the failed implement by hand resubmits the review, waiting for the new one.
    WorkOrderId secondAgain = resubmitter.resubmit(second);
    assertThat(submitter.await(secondAgain, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(submitter.find(secondAgain).orElseThrow().batch()).contains(implement.id());
    List<WorkOrderView> reviews =
        submitter.list(WorkOrderQuery.builder().resubmittedFrom(review).build()).items();
    assertThat(reviews).as("one review resubmitted from the cancelled one").hasSize(1);
    WorkOrderId reviewAgain = reviews.get(0).id();
    assertThat(reviews.get(0).resubmittedFrom()).contains(review);
    assertThat(reviews.get(0).dependencies()).containsExactlyInAnyOrder(first, secondAgain, third);
    WorkOrderView reviewed = submitter.await(reviewAgain, WAIT);
    assertThat(reviewed.state()).isEqualTo(WorkOrderState.COMPLETED);
    assertThat(reviewed.result().orElseThrow().asText()).isEqualTo("reviewed");

    // The review started only once every implement it waits for had completed.
    FlowLog events = FlowLog.read(log);
    long reviewStarted = events.position(reviewAgain, WorkOrderEvent.Started.class);
    long reviewUnblocked = events.position(reviewAgain, WorkOrderEvent.DependenciesMet.class);
    for (WorkOrderId i : List.of(first, secondAgain, third)) {
      long completed = events.position(i, WorkOrderEvent.Completed.class);
      assertThat(completed)
          .as("%s completed before the review was unblocked", i)
          .isLessThan(reviewUnblocked);
      assertThat(completed)
          .as("%s completed before the review started", i)
          .isLessThan(reviewStarted);
    }
    long planCompleted = events.position(plan, WorkOrderEvent.Completed.class);
    for (WorkOrderId i : List.of(first, second, third, secondAgain)) {
      assertThat(events.position(i, WorkOrderEvent.Started.class))
          .as("%s started after the plan completed", i)
          .isGreaterThan(planCompleted);
    }

    BatchStatus done = submitter.batch(implement.id());
    assertThat(done.ended()).isTrue();
    assertThat(done.completed()).isTrue();
    assertThat(done.workOrders()).isEqualTo(3);
    assertThat(done.resubmitted()).isEqualTo(1);
    assertThat(done.submitted()).isEqualTo(4);
    assertThat(submitter.dependents(second)).containsExactly(review);
    assertThat(submitter.dependents(secondAgain)).containsExactly(reviewAgain);
    assertThat(submitter.dependents(plan))
        .as("the resubmitted implement waits for the plan as the first one did")
        .containsExactly(first, second, third, secondAgain);
  }

  @Test
  void a_chain_with_a_fan_out_and_a_fan_in_runs_on_sqlite() throws Exception {
    Handlers handlers = new Handlers();
    try (WorkOrderStore store = Stores.sqlite(dir.resolve("workgate.db"));
        Workgate node =
            handlers.on(node("node-1", store, dir.resolve("sandboxes")).maxConcurrent(3)).build()) {
      node.start();

      runChain(node.client(), node.client(), node.store());
    }
  }

  @Test
  void a_dependent_waits_while_its_dependency_runs() throws Exception {
    AtomicBoolean release = new AtomicBoolean();
    try (WorkOrderStore store = Stores.sqlite(dir.resolve("workgate.db"));
        Workgate node =
            node("node-1", store, dir.resolve("sandboxes"))
                .maxConcurrent(2)
                .handler(
                    "slow",
                    ctx -> {
                      await().atMost(WAIT).untilTrue(release);
                      return WorkResult.ok();
                    })
                .handler("after", ctx -> WorkResult.ok())
                .build()) {
      node.start();
      WorkOrderId slow = node.submit(WorkOrderSpec.builder("slow").build());
      WorkOrderId after = node.submit(WorkOrderSpec.builder("after").after(slow).build());
      await().atMost(WAIT).until(() -> node.find(slow).orElseThrow().state().isActive());

      // A free slot, a poll interval many times over: the dependent still waits.
      await()
          .during(Duration.ofMillis(600))
          .atMost(Duration.ofSeconds(5))
          .until(() -> node.find(after).orElseThrow().state() == WorkOrderState.BLOCKED);
      assertThat(node.stats().counts().depth("default")).isEqualTo(1);
      release.set(true);

      assertThat(node.await(after, WAIT).state()).isEqualTo(WorkOrderState.COMPLETED);
      FlowLog events = FlowLog.read(node.store());
      assertThat(events.position(after, WorkOrderEvent.Claimed.class))
          .isGreaterThan(events.position(slow, WorkOrderEvent.Completed.class));
    }
  }
}
