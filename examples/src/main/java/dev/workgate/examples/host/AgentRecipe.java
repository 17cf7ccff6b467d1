package dev.workgate.examples.host;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderView;
import dev.workgate.examples.host.DemoPlan.Outcome;
import dev.workgate.execution.ProcessSpec;
import dev.workgate.retry.ErrorClassifier;
import java.util.Locale;

/**
 * The process-sandbox recipe of the demo's agent runs: a shell script that behaves like a coding
 * agent. It prints a line per step (the sandbox captures it to {@code stdout.log}), sleeps between
 * steps, reports its progress and a checkpoint (the step done) after each step through the
 * sandbox's report file ({@code WORKGATE_REPORT_FILE}), and on a retry resumes after the step its
 * last checkpoint names ({@code WORKGATE_CHECKPOINT_FILE}). It ends as the work order's scripted
 * {@link Outcome} says for this attempt: exit 0 with a result line, exit {@value #EXIT_TRANSIENT}
 * after step 2 (a rate-limited model API, classified {@code NETWORK_ERROR}, retried from step 3),
 * exit {@value #EXIT_FATAL} (an impossible task, {@code AGENT_FATAL_ERROR}, not retried), or a wait
 * far past any timeout, which the execution manager ends by killing the process tree. Stateless and
 * thread-safe.
 */
final class AgentRecipe {
  /** {@code EX_TEMPFAIL} of sysexits.h: try again later. */
  static final int EXIT_TRANSIENT = 75;

  /** {@code EX_DATAERR} of sysexits.h: the input is wrong; trying again cannot help. */
  static final int EXIT_FATAL = 65;

  static final String SCRIPT =
      """
      report() { [ -n "$WORKGATE_REPORT_FILE" ] && printf '%s\\n' "$1" >> "$WORKGATE_REPORT_FILE"; }
      i=1
      if [ -n "$WORKGATE_CHECKPOINT_FILE" ]; then
        done=$(sed -n 's/.*"step":\\([0-9]*\\).*/\\1/p' "$WORKGATE_CHECKPOINT_FILE")
        i=$((done + 1))
        echo "agent: resuming $REPO after step $done (from the checkpoint of an earlier attempt)"
      else
        echo "agent: cloning $REPO"
      fi
      while [ "$i" -le "$STEPS" ]; do
        sleep "$STEP_SECONDS"
        case $i in
          1) what="reading the code" ;;
          2) what="planning the change" ;;
          3) what="editing files" ;;
          *) what="running the tests" ;;
        esac
        echo "step $i/$STEPS: $what"
        pct=$((i * 100 / STEPS))
        report "$(printf '{"progress":%d.%02d,"message":"step %d/%d: %s"}' \\
          $((pct / 100)) $((pct % 100)) "$i" "$STEPS" "$what")"
        report "{\\"checkpoint\\":{\\"step\\":$i}}"
        if [ "$OUTCOME" = TRANSIENT ] && [ "$i" -eq 2 ]; then
          echo "agent: the model API answered 429 (rate limited)" >&2; exit 75
        fi
        i=$((i + 1))
      done
      case "$OUTCOME" in
        FATAL) echo "agent: cannot $TASK: the repository is archived" >&2; exit 65 ;;
        HANG) echo "agent: waiting for a tool that never answers"; sleep 3600 ;;
      esac
      echo "agent: opened a pull request on $REPO: $TASK"
      """;

  private AgentRecipe() {}

  /**
   * The error classifier of the agent sandboxes: the scripts' exit codes as error codes.
   *
   * @return the classifier
   */
  static ErrorClassifier classifier() {
    return ErrorClassifier.builder()
        .exitCode(EXIT_TRANSIENT, ErrorCodes.NETWORK_ERROR)
        .exitCode(EXIT_FATAL, ErrorCodes.AGENT_FATAL_ERROR)
        .build();
  }

  /**
   * The process spec of one attempt.
   *
   * @param order the work order, its attempt already counted
   * @return the spec
   */
  static ProcessSpec spec(WorkOrderView order) {
    JsonNode p = order.payload();
    Outcome outcome = Outcome.valueOf(p.path("outcome").asText("OK"));
    String ending =
        switch (outcome) {
          case FLAKY -> order.attempt() == 1 ? "TRANSIENT" : "OK";
          case HANG -> order.attempt() == 1 ? "HANG" : "OK";
          case FATAL -> "FATAL";
          case OK -> "OK";
        };
    return ProcessSpec.builder()
        .shell(SCRIPT)
        .inheritEnv("PATH")
        .env("REPO", p.path("repo").asText())
        .env("TASK", p.path("task").asText())
        .env("STEPS", Integer.toString(p.path("steps").asInt(3)))
        .env(
            "STEP_SECONDS",
            String.format(Locale.ROOT, "%.3f", p.path("stepMillis").asInt(500) / 1000.0))
        .env("OUTCOME", ending)
        .build();
  }
}
