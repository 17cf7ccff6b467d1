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
 * notes to the attempt's private working directory and returns a verdict. A {@code FLAKY} work
 * order's first attempt loses its connection to the code host (an {@link IOException}, which the
 * runtime classifies as a retryable {@code NETWORK_ERROR}). Between steps it waits as real work
 * waits on I/O, and it stops when its cancellation is requested or its thread is interrupted (the
 * runtime does both on a timeout or a cancel). Stateless and thread-safe.
 */
final class ReviewHandler implements WorkHandler {

  @Override
  public WorkResult handle(WorkContext context) throws Exception {
    JsonNode p = context.payload();
    int steps = p.path("steps").asInt(2);
    long stepMillis = p.path("stepMillis").asLong(500);
    int files = p.path("files").asInt(1);
    StringBuilder notes = new StringBuilder();
    for (int step = 1; step <= steps; step++) {
      if (context.cancellationRequested()) {
        return WorkResult.fatalFailure(ErrorCodes.CANCELLED, "review stopped at step " + step);
      }
      Thread.sleep(stepMillis); // the simulated wait for the code host
      notes.append("step ").append(step).append('/').append(steps).append(": read ");
      notes.append(Math.max(1, files * step / steps)).append(" files\n");
      if (step == 1
          && context.attempt() == 1
          && Outcome.valueOf(p.path("outcome").asText("OK")) == Outcome.FLAKY) {
        throw new IOException("the code host reset the connection while sending the diff");
      }
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
            comments));
  }
}
