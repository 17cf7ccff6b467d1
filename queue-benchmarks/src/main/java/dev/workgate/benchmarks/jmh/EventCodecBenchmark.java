package dev.workgate.benchmarks.jmh;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.spi.EventCodec;
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
 * The event codec, as the stores use it: {@link EventCodec#encode} of an event to its type, schema
 * version and JSON data, and {@link EventCodec#decode} back (which validates every field). Two
 * events: a Submitted whose spec has a small JSON payload ({@code {"repo":"acme/api","issue":7}})
 * and a Completed with a small result. Each figure is events per second.
 *
 * <p>The events and their encoded forms are built once per trial. The state is {@link
 * Scope#Benchmark}: one instance shared by every benchmark thread, which is safe because the events
 * are immutable and the codec is stateless.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class EventCodecBenchmark {

  WorkOrderEvent.Submitted submitted;
  EventCodec.EncodedEvent submittedEncoded;
  WorkOrderEvent.Completed completed;
  EventCodec.EncodedEvent completedEncoded;

  /** Builds the events and encodes them once, checking that they decode to themselves. */
  @Setup
  public void setUp() {
    submitted = WorkOrders.submission(7, WorkOrders.QUEUE);
    submittedEncoded = EventCodec.encode(submitted);
    ObjectNode result = JsonNodeFactory.instance.objectNode();
    result.put("exitCode", 0);
    result.put("summary", "tests pass");
    completed = new WorkOrderEvent.Completed(result);
    completedEncoded = EventCodec.encode(completed);
    if (!EventCodec.decode(submittedEncoded).equals(submitted)
        || !EventCodec.decode(completedEncoded).equals(completed)) {
      throw new IllegalStateException("an event does not survive encode and decode");
    }
  }

  /**
   * Encodes the Submitted event.
   *
   * @return its stored form
   */
  @Benchmark
  public EventCodec.EncodedEvent encodeSubmitted() {
    return EventCodec.encode(submitted);
  }

  /**
   * Decodes the Submitted event.
   *
   * @return the event
   */
  @Benchmark
  public WorkOrderEvent decodeSubmitted() {
    return EventCodec.decode(submittedEncoded);
  }

  /**
   * Encodes the Completed event.
   *
   * @return its stored form
   */
  @Benchmark
  public EventCodec.EncodedEvent encodeCompleted() {
    return EventCodec.encode(completed);
  }

  /**
   * Decodes the Completed event.
   *
   * @return the event
   */
  @Benchmark
  public WorkOrderEvent decodeCompleted() {
    return EventCodec.decode(completedEncoded);
  }
}
