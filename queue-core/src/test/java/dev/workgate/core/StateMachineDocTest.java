package dev.workgate.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderState.TransitionTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/state-machine.md shows the transition table the code has, row for row. */
class StateMachineDocTest {

  @Test
  void every_transition_of_the_table_is_documented() throws IOException {
    String doc = Files.readString(Path.of("..", "docs", "state-machine.md"));
    long documentedRows =
        doc.lines()
            .filter(l -> l.matches("\\| [A-Z_()a-z ]+ \\| [A-Za-z() ]+ \\| [A-Z_]+ \\|"))
            .count();
    for (TransitionTable.Transition t : TransitionTable.transitions()) {
      String row =
          "| "
              + (t.from() == null ? "(none)" : t.from())
              + " | "
              + label(t.trigger())
              + " | "
              + t.to()
              + " |";
      assertThat(doc).as("docs/state-machine.md row").contains(row);
    }
    assertThat(documentedRows).isEqualTo(TransitionTable.transitions().size());
  }

  @Test
  void every_error_code_is_documented() throws IOException {
    String doc = Files.readString(Path.of("..", "docs", "state-machine.md"));
    for (String code : ErrorCodes.RETRYABLE_BY_DEFAULT) {
      assertThat(doc).contains("| `" + code + "` | yes |");
    }
    for (String code : ErrorCodes.FATAL_BY_DEFAULT) {
      assertThat(doc).contains("| `" + code + "` | no |");
    }
  }

  private static String label(TransitionTable.Trigger trigger) {
    return switch (trigger) {
      case ATTEMPT_FAILED_WITH_RETRY -> "AttemptFailed (with retryAt)";
      case ATTEMPT_FAILED_FINAL -> "AttemptFailed (no retryAt)";
      case SUBMITTED_BLOCKED -> "Submitted (with dependencies)";
      default -> trigger.eventType().typeName();
    };
  }
}
