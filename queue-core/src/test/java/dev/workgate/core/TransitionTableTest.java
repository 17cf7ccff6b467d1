package dev.workgate.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.WorkOrderState.TransitionTable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class TransitionTableTest {
  private static final WorkOrderId ID = WorkOrderId.of("wo-42");

  /** Every state (and "no events yet", as null) with every trigger. */
  static Stream<Arguments> everyStateAndTrigger() {
    List<WorkOrderState> froms = new ArrayList<>(Arrays.asList(WorkOrderState.values()));
    froms.add(0, null);
    return froms.stream()
        .flatMap(
            from ->
                Arrays.stream(TransitionTable.Trigger.values())
                    .map(trigger -> Arguments.of(from, trigger)));
  }

  @ParameterizedTest(name = "{0} + {1}")
  @MethodSource("everyStateAndTrigger")
  void every_state_and_event_pair_is_accepted_exactly_when_the_design_says_so(
      WorkOrderState from, TransitionTable.Trigger trigger) {
    WorkOrderEvent event = DesignTable.sample(trigger);
    assertThat(event.trigger()).isEqualTo(trigger);
    Optional<WorkOrderState> expected = DesignTable.next(from, event);

    assertThat(TransitionTable.accepts(from, event)).isEqualTo(expected.isPresent());
    if (expected.isPresent()) {
      assertThat(TransitionTable.next(ID, from, event)).isEqualTo(expected.get());
    } else {
      Set<String> valid = validEventsByDesign(from);
      assertThatThrownBy(() -> TransitionTable.next(ID, from, event))
          .isInstanceOfSatisfying(
              InvalidTransitionException.class,
              e -> {
                assertThat(e.workOrderId()).isEqualTo(ID);
                assertThat(e.state()).isEqualTo(from);
                assertThat(e.event()).isEqualTo(event.type().typeName());
                assertThat(e.validEvents()).isEqualTo(valid);
                assertThat(e.getMessage())
                    .contains("wo-42")
                    .contains(from == null ? "no events yet" : from.name())
                    .contains(event.type().typeName());
                if (valid.isEmpty()) {
                  assertThat(e.getMessage()).contains("none (terminal state)");
                } else {
                  valid.forEach(name -> assertThat(e.getMessage()).contains(name));
                }
              });
    }
  }

  @ParameterizedTest
  @EnumSource(WorkOrderState.class)
  void validEvents_lists_the_event_types_the_design_accepts(WorkOrderState state) {
    assertThat(TransitionTable.validEvents(state)).isEqualTo(validEventsByDesign(state));
  }

  @ParameterizedTest
  @EnumSource(
      value = WorkOrderState.class,
      names = {"COMPLETED", "FAILED", "CANCELLED"})
  void nothing_leaves_a_terminal_state(WorkOrderState terminal) {
    assertThat(terminal.isTerminal()).isTrue();
    assertThat(TransitionTable.validEvents(terminal)).isEmpty();
    for (TransitionTable.Trigger trigger : TransitionTable.Trigger.values()) {
      WorkOrderEvent event = DesignTable.sample(trigger);
      assertThat(TransitionTable.accepts(terminal, event)).as("%s", trigger).isFalse();
      assertThatThrownBy(() -> TransitionTable.next(ID, terminal, event))
          .isInstanceOf(InvalidTransitionException.class)
          .hasMessageContaining("none (terminal state)");
    }
  }

  @Test
  void only_completed_failed_and_cancelled_are_terminal_and_only_preparing_and_running_active() {
    assertThat(EnumSet.allOf(WorkOrderState.class).stream().filter(WorkOrderState::isTerminal))
        .containsExactlyInAnyOrder(
            WorkOrderState.COMPLETED, WorkOrderState.FAILED, WorkOrderState.CANCELLED);
    assertThat(EnumSet.allOf(WorkOrderState.class).stream().filter(WorkOrderState::isActive))
        .containsExactlyInAnyOrder(WorkOrderState.PREPARING, WorkOrderState.RUNNING);
  }

  @Test
  void transitions_lists_exactly_the_rows_of_the_design() {
    List<TransitionTable.Transition> expected = new ArrayList<>();
    everyStateAndTrigger()
        .forEach(
            args -> {
              WorkOrderState from = (WorkOrderState) args.get()[0];
              TransitionTable.Trigger trigger = (TransitionTable.Trigger) args.get()[1];
              DesignTable.next(from, DesignTable.sample(trigger))
                  .ifPresent(to -> expected.add(new TransitionTable.Transition(from, trigger, to)));
            });

    assertThat(TransitionTable.transitions()).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(TransitionTable.transitions()).doesNotHaveDuplicates();
  }

  @Test
  void every_trigger_belongs_to_its_event_type() {
    for (TransitionTable.Trigger trigger : TransitionTable.Trigger.values()) {
      assertThat(DesignTable.sample(trigger).type()).isEqualTo(trigger.eventType());
    }
  }

  private static Set<String> validEventsByDesign(WorkOrderState from) {
    Set<String> names = new LinkedHashSet<>();
    for (TransitionTable.Trigger trigger : TransitionTable.Trigger.values()) {
      WorkOrderEvent event = DesignTable.sample(trigger);
      if (DesignTable.next(from, event).isPresent()) {
        names.add(event.type().typeName());
      }
    }
    return names;
  }
}
