package dev.workgate.benchmarks.jmh;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderState.TransitionTable;
import dev.workgate.spi.WorkOrder;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The state machine: one lookup in the {@link TransitionTable}, one {@link WorkOrder#apply} of a
 * Claimed event to a PENDING aggregate (the table lookup plus the new snapshot), and a {@link
 * WorkOrder#fold} of a whole successful life (Submitted, Claimed, Started, Completed). Each figure
 * is calls per second.
 *
 * <p>The events and the aggregate are built once per trial and only read while measuring. The state
 * is {@link Scope#Benchmark}: one instance shared by every benchmark thread, which is safe because
 * everything in it is immutable.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class StateMachineBenchmark {

  // Fields, not constants, so that the compiler cannot fold the lookups away.
  WorkOrderId id;
  WorkOrderState from;
  WorkOrderEvent.Claimed claimed;
  WorkOrder pending;
  RecordedEvent claimedRecord;
  List<RecordedEvent> lifecycle;

  /** Builds the events and the PENDING aggregate. */
  @Setup
  public void setUp() {
    id = WorkOrderId.random();
    from = WorkOrderState.PENDING;
    Instant t0 = Instant.parse("2025-01-01T00:00:00Z");
    claimed = new WorkOrderEvent.Claimed(WorkOrders.OWNER, t0.plus(WorkOrders.LEASE));
    ObjectNode result = JsonNodeFactory.instance.objectNode();
    result.put("exitCode", 0);
    result.put("summary", "tests pass");
    lifecycle =
        List.of(
            new RecordedEvent(1, id, 1, t0, WorkOrders.submission(7, WorkOrders.QUEUE)),
            new RecordedEvent(2, id, 2, t0.plusMillis(5), claimed),
            new RecordedEvent(3, id, 3, t0.plusMillis(9), new WorkOrderEvent.Started("sb-1")),
            new RecordedEvent(4, id, 4, t0.plusSeconds(60), new WorkOrderEvent.Completed(result)));
    pending = WorkOrder.start(lifecycle.get(0));
    claimedRecord = lifecycle.get(1);
    WorkOrder done = WorkOrder.fold(lifecycle);
    if (done.state() != WorkOrderState.COMPLETED) {
      throw new IllegalStateException("the lifecycle folds to " + done.state());
    }
  }

  /**
   * One transition table lookup: PENDING and Claimed.
   *
   * @return the next state (PREPARING)
   */
  @Benchmark
  public WorkOrderState transitionTableNext() {
    return TransitionTable.next(id, from, claimed);
  }

  /**
   * One event applied to an aggregate: Claimed to a PENDING work order.
   *
   * @return the PREPARING aggregate
   */
  @Benchmark
  public WorkOrder applyClaimed() {
    return pending.apply(claimedRecord);
  }

  /**
   * A whole successful life folded from its four events.
   *
   * @return the COMPLETED aggregate
   */
  @Benchmark
  public WorkOrder foldLifecycle() {
    return WorkOrder.fold(lifecycle);
  }
}
