package dev.workgate.examples.host;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.WorkContext;
import dev.workgate.WorkHandler;
import dev.workgate.WorkResult;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.examples.host.DemoPlan.Outcome;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;

/**
 * The demo's in-process work: a code review that reads a pull request in a few steps, writes its
 * notes to the attempt's private working directory and returns a verdict. It reports its progress
 * after each step and records a checkpoint (the steps done and their notes), so that a retry goes
 * on from the last step done instead of starting over. A {@code FLAKY} work order's first attempt
 * loses its connection to the code host after its first step (an {@link IOException}, which the
 * runtime classifies as a retryable {@code NETWORK_ERROR}); its retry resumes at step 2. Between
 * steps it waits as real work waits on I/O, and it stops when its cancellation is requested or its
 * thread is interrupted (the runtime does both on a timeout or a cancel). Stateless and
 * thread-safe.
 */
final class ReviewHandler implements WorkHandler {

  /** What a review has done so far: its checkpoint. */
  record Done(int steps, String notes) {}

  @Override
  public WorkResult handle(WorkContext context) throws Exception {
    JsonNode p = context.payload();
    int steps = p.path("steps").asInt(2);
    long stepMillis = p.path("stepMillis").asLong(500);
    int files = p.path("files").asInt(1);
    Done done = context.lastCheckpoint(Done.class).orElse(new Done(0, ""));
    StringBuilder notes = new StringBuilder(done.notes());
    if (done.steps() > 0) {
      notes.append("resumed at step ").append(done.steps() + 1).append(" from a checkpoint\n");
    }
    for (int step = done.steps() + 1; step <= steps; step++) {
      if (context.cancellationRequested()) {
        return WorkResult.fatalFailure(ErrorCodes.CANCELLED, "review stopped at step " + step);
      }
      Thread.sleep(stepMillis); // the simulated wait for the code host
      if (step == 2
          && context.attempt() == 1
          && Outcome.valueOf(p.path("outcome").asText("OK")) == Outcome.FLAKY) {
        throw new IOException("the code host reset the connection while sending the diff");
      }
      notes.append("step ").append(step).append('/').append(steps).append(": read ");
      notes.append(Math.max(1, files * step / steps)).append(" files\n");
      context.checkpoint(new Done(step, notes.toString()));
      context.progress(step / (double) steps, "read " + step + " of " + steps + " parts");
    }
    Files.writeString(context.workDir().resolve("review.txt"), notes, StandardCharsets.UTF_8);
    int comments = files % 5;
    return WorkResult.ok(
        Map.of(
            "pullRequest",
            p.path("pullRequest").asInt(),
            "verdict",
            comments == 0 ? "approve" : "request changes",
            "comments",
            comments,
            "resumedFromCheckpoint",
            done.steps() > 0));
  }
}
