package dev.workgate.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MutableClockTest {
  private static final Instant START = Instant.parse("2030-06-01T12:00:00Z");

  @Test
  void time_moves_only_when_advanced_or_set() {
    MutableClock clock = new MutableClock(START);
    assertThat(clock.instant()).isEqualTo(START);
    assertThat(clock.millis()).isEqualTo(START.toEpochMilli());
    assertThat(clock.getZone()).isEqualTo(ZoneOffset.UTC);

    clock.advance(Duration.ofMillis(1500));
    assertThat(clock.instant()).isEqualTo(START.plusMillis(1500));
    clock.advance(Duration.ZERO);
    assertThat(clock.instant()).isEqualTo(START.plusMillis(1500));

    clock.set(START.minusSeconds(60)); // set may go back
    assertThat(clock.instant()).isEqualTo(START.minusSeconds(60));
  }

  @Test
  void the_default_start_is_a_whole_second_in_utc() {
    MutableClock clock = new MutableClock();
    assertThat(clock.instant()).isEqualTo(MutableClock.DEFAULT_START);
    assertThat(clock.instant().getNano()).isZero();
  }

  @Test
  void a_clock_in_another_zone_shares_the_time() {
    MutableClock utc = new MutableClock(START);
    MutableClock paris = utc.withZone(ZoneId.of("Europe/Paris"));
    assertThat(paris.getZone()).isEqualTo(ZoneId.of("Europe/Paris"));

    paris.advance(Duration.ofHours(1));
    assertThat(utc.instant()).isEqualTo(START.plus(Duration.ofHours(1)));
    utc.set(START);
    assertThat(paris.instant()).isEqualTo(START);
  }

  @Test
  void listeners_run_after_each_change_on_the_moving_thread() {
    MutableClock clock = new MutableClock(START);
    List<Instant> seen = new ArrayList<>();
    Runnable listener = () -> seen.add(clock.instant());
    clock.withZone(ZoneId.of("Asia/Tokyo")).onChange(listener);

    clock.advance(Duration.ofSeconds(5));
    clock.set(START);
    clock.removeOnChange(listener);
    clock.advance(Duration.ofSeconds(1));

    assertThat(seen).containsExactly(START.plusSeconds(5), START);
  }

  @Test
  void bad_input_is_refused_naming_it() {
    MutableClock clock = new MutableClock(START);
    assertThatThrownBy(() -> clock.advance(Duration.ofNanos(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("advance")
        .hasMessageContaining("negative")
        .hasMessageContaining("PT-0.000000001S");
    assertThatThrownBy(() -> clock.advance(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("by");
    assertThatThrownBy(() -> clock.set(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("instant");
    assertThatThrownBy(() -> new MutableClock(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("start");
    assertThatThrownBy(() -> clock.withZone(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("zone");
    assertThat(clock.instant()).as("nothing moved").isEqualTo(START);
  }

  @Test
  void advances_from_many_threads_are_never_lost() throws Exception {
    MutableClock clock = new MutableClock(START);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 10_000; i++) {
                    clock.advance(Duration.ofMillis(1));
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(clock.instant()).isEqualTo(START.plusSeconds(40));
  }
}
