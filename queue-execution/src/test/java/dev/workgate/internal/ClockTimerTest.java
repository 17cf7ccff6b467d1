package dev.workgate.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.testing.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class ClockTimerTest {
  private final MutableClock clock = MutableClock.create();
  private final ClockTimer timer = new ClockTimer(clock);
  private final List<String> ran = new ArrayList<>();

  @Test
  void a_task_runs_when_the_clock_reaches_its_time_never_earlier_in_due_order() throws Exception {
    timer.schedule(() -> ran.add("b"), 2, TimeUnit.SECONDS);
    ScheduledFuture<String> a = timer.schedule(() -> "a", 1, TimeUnit.SECONDS);
    timer.schedule(() -> ran.add("b2"), 2, TimeUnit.SECONDS);

    clock.advance(Duration.ofMillis(999));
    timer.fireDue();
    assertThat(a.isDone()).isFalse();
    assertThat(a.getDelay(TimeUnit.MILLISECONDS)).isEqualTo(1);

    clock.advance(Duration.ofSeconds(5));
    timer.fireDue();
    assertThat(a.get()).isEqualTo("a");
    assertThat(ran).containsExactly("b", "b2");
    assertThat(timer.pending()).isZero();
  }

  @Test
  void nextDue_is_the_earliest_waiting_task_and_empty_when_none_waits() {
    assertThat(timer.nextDue()).isEmpty();
    java.time.Instant start = clock.instant();
    ScheduledFuture<?> late = timer.schedule(() -> ran.add("late"), 5, TimeUnit.SECONDS);
    timer.schedule(() -> ran.add("early"), 2, TimeUnit.SECONDS);
    assertThat(timer.nextDue()).contains(start.plusSeconds(2));

    clock.advance(Duration.ofSeconds(2));
    timer.fireDue();
    assertThat(ran).containsExactly("early");
    assertThat(timer.nextDue()).contains(start.plusSeconds(5));

    late.cancel(false);
    assertThat(timer.nextDue()).isEmpty();
  }

  @Test
  void periodic_tasks_run_again_at_a_fixed_rate_or_after_a_fixed_delay() {
    timer.scheduleAtFixedRate(() -> ran.add("rate"), 1, 2, TimeUnit.SECONDS);
    ScheduledFuture<?> delay =
        timer.scheduleWithFixedDelay(
            () -> {
              ran.add("delay");
              clock.advance(Duration.ofSeconds(1)); // the run itself takes a second
            },
            1,
            3,
            TimeUnit.SECONDS);

    clock.advance(Duration.ofSeconds(1));
    timer.fireDue(); // t=1: rate (next at 3), delay (runs to t=2, next at 5)
    clock.set(clock.instant().plusSeconds(1));
    timer.fireDue(); // t=3: rate (next at 5)
    clock.set(clock.instant().plusSeconds(2));
    // t=5: both are due; the delay task was scheduled again first (at t=2), so it runs first
    timer.fireDue();
    assertThat(ran).containsExactly("rate", "delay", "rate", "delay", "rate");

    assertThat(delay.cancel(false)).isTrue();
    assertThat(delay.isCancelled()).isTrue();
    assertThat(timer.pending()).isEqualTo(1);
  }

  @Test
  void a_periodic_task_that_throws_runs_no_more_and_its_future_holds_the_failure() {
    ScheduledFuture<?> f =
        timer.scheduleAtFixedRate(
            () -> {
              ran.add("x");
              throw new IllegalStateException("boom");
            },
            0,
            1,
            TimeUnit.SECONDS);
    timer.fireDue();
    clock.advance(Duration.ofSeconds(5));
    timer.fireDue();

    assertThat(ran).containsExactly("x");
    assertThatThrownBy(f::get).isInstanceOf(ExecutionException.class).hasRootCauseMessage("boom");
  }

  @Test
  void cancel_shutdown_and_bad_input() throws Exception {
    ScheduledFuture<?> f = timer.schedule(() -> ran.add("never"), 1, TimeUnit.SECONDS);
    assertThatThrownBy(() -> f.get(1, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
    assertThat(f.cancel(false)).isTrue();
    assertThat(f.cancel(false)).isFalse();
    assertThatThrownBy(() -> timer.scheduleAtFixedRate(() -> {}, 0, 0, TimeUnit.SECONDS))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("positive period, got 0");

    timer.execute(() -> ran.add("now"));
    timer.schedule(() -> ran.add("dropped"), 1, TimeUnit.SECONDS);
    assertThat(timer.shutdownNow()).hasSize(1);
    clock.advance(Duration.ofSeconds(5));
    timer.fireDue();
    assertThat(ran).containsExactly("now");
    assertThat(timer.isTerminated()).isTrue();
    assertThatThrownBy(() -> timer.schedule(() -> {}, 1, TimeUnit.SECONDS))
        .isInstanceOf(RejectedExecutionException.class);
  }
}
