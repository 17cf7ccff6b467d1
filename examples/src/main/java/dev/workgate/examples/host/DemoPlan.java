package dev.workgate.examples.host;

import dev.workgate.core.BatchId;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * The mix of work orders the demo submits: agent runs (OS processes) and code reviews (in-process),
 * with mixed priorities and resource requests, and a scripted outcome per work order: success, a
 * transient failure on the first attempt, a first attempt that outlives its timeout, or a fatal
 * error. The first three work orders are always a transient failure, a timeout and a fatal error
 * (when that many are asked for), so every run shows each path; the rest are drawn from the seeded
 * random source.
 */
final class DemoPlan {
  static final String AGENT_TYPE = "agent-run";
  static final String REVIEW_TYPE = "code-review";
  static final String AGENT_QUEUE = "agents";
  static final String REVIEW_QUEUE = "reviews";

  /** How an attempt of a work order ends. */
  enum Outcome {
    /** Every attempt succeeds. */
    OK,
    /** The first attempt fails with a transient error; the retry succeeds. */
    FLAKY,
    /** The first attempt hangs past its timeout and is killed; the retry succeeds. */
    HANG,
    /** Every attempt fails with an error that no retry can fix. */
    FATAL
  }

  private static final String[] REPOS = {
    "acme/api", "acme/web", "acme/billing", "acme/search", "acme/mobile", "acme/infra"
  };
  private static final String[] TASKS = {
    "fix the flaky test",
    "upgrade the logging library",
    "add input validation",
    "remove dead code",
    "speed up the slow query",
    "write the missing tests"
  };

  private DemoPlan() {}

  /**
   * The specs to submit.
   *
   * @param count how many
   * @param random the seeded source of the mix
   * @param fast whether the scripted work takes tenths of a second instead of seconds
   * @return the specs, in submission order
   */
  static List<WorkOrderSpec> specs(int count, RandomGenerator random, boolean fast) {
    List<WorkOrderSpec> specs = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      Outcome forced =
          i == 0 ? Outcome.FLAKY : i == 1 ? Outcome.HANG : i == 2 ? Outcome.FATAL : null;
      boolean agent = forced != null || random.nextInt(100) < 60;
      specs.add(agent ? agent(i, forced, random, fast) : review(i, random, fast));
    }
    return specs;
  }

  private static WorkOrderSpec agent(int i, Outcome forced, RandomGenerator random, boolean fast) {
    Outcome outcome = forced;
    if (outcome == null) {
      int roll = random.nextInt(100);
      outcome =
          roll < 60
              ? Outcome.OK
              : roll < 80 ? Outcome.FLAKY : roll < 90 ? Outcome.HANG : Outcome.FATAL;
    }
    int size = random.nextInt(10);
    ResourceRequest resources =
        size < 2
            ? ResourceRequest.of(2, 1024)
            : size < 9 ? ResourceRequest.of(1, 512) : ResourceRequest.of(1, 256);
    return WorkOrderSpec.builder(AGENT_TYPE)
        .queue(AGENT_QUEUE)
        .priority(priority(random))
        .resources(resources)
        .label("demo", "agent")
        .payload(
            Map.of(
                "repo",
                REPOS[random.nextInt(REPOS.length)],
                "task",
                TASKS[random.nextInt(TASKS.length)],
                "steps",
                3 + random.nextInt(4),
                "stepMillis",
                stepMillis(random, fast),
                "outcome",
                outcome.name()))
        .build();
  }

  private static WorkOrderSpec review(int i, RandomGenerator random, boolean fast) {
    Outcome outcome = random.nextInt(100) < 25 ? Outcome.FLAKY : Outcome.OK;
    return WorkOrderSpec.builder(REVIEW_TYPE)
        .queue(REVIEW_QUEUE)
        .priority(priority(random))
        .resources(ResourceRequest.of(1, 128))
        .label("demo", "review")
        .payload(
            Map.of(
                "pullRequest", 1000 + i,
                "files", 2 + random.nextInt(20),
                "steps", 2 + random.nextInt(3),
                "stepMillis", stepMillis(random, fast),
                "outcome", outcome.name()))
        .build();
  }

  /** How many work orders the chain holds: a plan, three implementations, a review. */
  static final int CHAIN_SIZE = 5;

  /** The fewest work orders a run asks for that include the chain. */
  static final int CHAIN_FROM = 10;

  /** The repository the chain works on. */
  static final String CHAIN_REPO = "acme/checkout";

  /**
   * The first link of the chain: an agent run that plans a change across services.
   *
   * @param fast whether the scripted work takes tenths of a second
   * @return the spec
   */
  static WorkOrderSpec chainPlan(boolean fast) {
    return chainAgent("plan the move to the new payment API", Outcome.OK, fast).build();
  }

  /**
   * The fan-out: three agent runs, each after the plan, submitted as one batch. The second fails
   * with a transient error after its second step and resumes from its checkpoint on the retry.
   *
   * @param plan the plan they run after
   * @param fast whether the scripted work takes tenths of a second
   * @return the specs
   */
  static List<WorkOrderSpec> chainImplementations(WorkOrderId plan, boolean fast) {
    String[] parts = {"the API client", "the webhook handler", "the refund flow"};
    List<WorkOrderSpec> specs = new ArrayList<>();
    for (int i = 0; i < parts.length; i++) {
      specs.add(
          chainAgent("implement " + parts[i], i == 1 ? Outcome.FLAKY : Outcome.OK, fast)
              .after(plan)
              .build());
    }
    return specs;
  }

  /**
   * The fan-in: a review that waits for the whole batch of implementations.
   *
   * @param implementations the batch
   * @param fast whether the scripted work takes tenths of a second
   * @return the spec
   */
  static WorkOrderSpec chainReview(BatchId implementations, boolean fast) {
    return WorkOrderSpec.builder(REVIEW_TYPE)
        .queue(REVIEW_QUEUE)
        .resources(ResourceRequest.of(1, 128))
        .label("demo", "chain")
        .afterBatch(implementations)
        .payload(
            Map.of(
                "pullRequest", 2000,
                "files", 12,
                "steps", 3,
                "stepMillis", fast ? 40 : 600,
                "outcome", Outcome.OK.name()))
        .build();
  }

  private static WorkOrderSpec.Builder chainAgent(String task, Outcome outcome, boolean fast) {
    return WorkOrderSpec.builder(AGENT_TYPE)
        .queue(AGENT_QUEUE)
        .priority(10)
        .resources(ResourceRequest.of(1, 512))
        .label("demo", "chain")
        .payload(
            Map.of(
                "repo",
                CHAIN_REPO,
                "task",
                task,
                "steps",
                4,
                "stepMillis",
                fast ? 40 : 600,
                "outcome",
                outcome.name()));
  }

  /** Most work at 0, some at 5, a few urgent at 10: higher runs first. */
  private static int priority(RandomGenerator random) {
    int roll = random.nextInt(10);
    return roll < 6 ? 0 : roll < 9 ? 5 : 10;
  }

  private static int stepMillis(RandomGenerator random, boolean fast) {
    return fast ? 30 + random.nextInt(50) : 400 + random.nextInt(800);
  }
}
