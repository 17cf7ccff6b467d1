package dev.workgate.execution;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An {@link AttemptReports} for tests: keeps every report in the order it came, checks its
 * arguments as the interface says, and can be told to refuse checkpoints. Thread-safe.
 */
public final class RecordingReports implements AttemptReports {

  /** One call, in the order of all calls. */
  public sealed interface Report {}

  /** A {@link #progress} call. */
  public record Progress(double fraction, String message) implements Report {}

  /** A {@link #checkpoint} call that was accepted. */
  public record Checkpoint(JsonNode state) implements Report {}

  private final List<Report> reports = new CopyOnWriteArrayList<>();
  private final AtomicInteger checkpointCalls = new AtomicInteger();
  private final List<String> callers = new CopyOnWriteArrayList<>();
  private volatile JsonNode last;
  private volatile int maxCheckpointBytes = Integer.MAX_VALUE;
  private volatile RuntimeException refusal;

  /** Reports of an attempt that has no earlier checkpoint. */
  public RecordingReports() {}

  /**
   * Reports of an attempt that resumes from an earlier attempt's checkpoint.
   *
   * @param checkpoint what {@link #lastCheckpoint()} gives until a new checkpoint
   * @return the reports
   */
  public static RecordingReports resumingFrom(JsonNode checkpoint) {
    RecordingReports reports = new RecordingReports();
    reports.last = Objects.requireNonNull(checkpoint, "checkpoint");
    return reports;
  }

  /**
   * From now on {@link #checkpoint} throws this, as when the attempt lost its claim.
   *
   * @param failure what to throw
   * @return this
   */
  public RecordingReports refuseCheckpointsWith(RuntimeException failure) {
    this.refusal = Objects.requireNonNull(failure, "failure");
    return this;
  }

  /**
   * {@link #checkpoint} throws {@link IllegalArgumentException} for a state whose JSON is longer.
   *
   * @param bytes the limit
   * @return this
   */
  public RecordingReports maxCheckpointBytes(int bytes) {
    this.maxCheckpointBytes = bytes;
    return this;
  }

  @Override
  public void progress(double fraction, String message) {
    callers.add(Thread.currentThread().getName());
    Objects.requireNonNull(message, "message");
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new IllegalArgumentException("fraction must be between 0 and 1, got " + fraction);
    }
    reports.add(new Progress(fraction, message));
  }

  @Override
  public void checkpoint(JsonNode state) {
    Objects.requireNonNull(state, "state");
    checkpointCalls.incrementAndGet();
    callers.add(Thread.currentThread().getName());
    RuntimeException failure = refusal;
    if (failure != null) {
      throw failure;
    }
    if (state.toString().getBytes(StandardCharsets.UTF_8).length > maxCheckpointBytes) {
      throw new IllegalArgumentException("checkpoint larger than " + maxCheckpointBytes);
    }
    last = state;
    reports.add(new Checkpoint(state));
  }

  @Override
  public Optional<JsonNode> lastCheckpoint() {
    return Optional.ofNullable(last);
  }

  /** Every accepted report, in order. */
  public List<Report> reports() {
    return List.copyOf(reports);
  }

  /** The accepted progress reports, in order. */
  public List<Progress> progress() {
    return reports.stream().filter(Progress.class::isInstance).map(Progress.class::cast).toList();
  }

  /** The states of the accepted checkpoints, in order. */
  public List<JsonNode> checkpoints() {
    return reports.stream()
        .filter(Checkpoint.class::isInstance)
        .map(r -> ((Checkpoint) r).state())
        .toList();
  }

  /** The names of the threads that called {@link #progress} and {@link #checkpoint}, in order. */
  public List<String> callers() {
    return List.copyOf(callers);
  }

  /** How often {@link #checkpoint} was called, refused calls included. */
  public int checkpointCalls() {
    return checkpointCalls.get();
  }
}
