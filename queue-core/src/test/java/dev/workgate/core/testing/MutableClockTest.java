package dev.workgate.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MutableClockTest {

  @Test
  void starts_at_the_default_start_in_utc_and_stands_still() {
    MutableClock clock = MutableClock.create();

    assertThat(clock.instant()).isEqualTo(MutableClock.DEFAULT_START);
    assertThat(clock.instant()).isEqualTo(MutableClock.DEFAULT_START);
    assertThat(clock.millis()).isEqualTo(MutableClock.DEFAULT_START.toEpochMilli());
    assertThat(clock.getZone()).isEqualTo(ZoneOffset.UTC);
  }

  @Test
  void advance_and_set_move_the_time() {
    MutableClock clock = MutableClock.startingAt(Instant.parse("2030-06-01T12:00:00Z"));

    assertThat(clock.advance(Duration.ofMinutes(5))).isEqualTo("2030-06-01T12:05:00Z");
    assertThat(clock.instant()).isEqualTo("2030-06-01T12:05:00Z");
    clock.set(Instant.parse("2030-01-01T00:00:00Z"));
    assertThat(clock.instant()).isEqualTo("2030-01-01T00:00:00Z");
    clock.advance(Duration.ofSeconds(-1));
    assertThat(clock.instant()).isEqualTo("2029-12-31T23:59:59Z");
  }

  @Test
  void a_clock_in_another_zone_shares_the_time() {
    MutableClock clock = MutableClock.create();
    MutableClock paris = clock.withZone(ZoneId.of("Europe/Paris"));

    clock.advance(Duration.ofHours(1));

    assertThat(paris.getZone()).isEqualTo(ZoneId.of("Europe/Paris"));
    assertThat(paris.instant()).isEqualTo(MutableClock.DEFAULT_START.plusSeconds(3600));
  }

  @Test
  void concurrent_advances_are_not_lost() throws Exception {
    MutableClock clock = MutableClock.create();
    int threads = 8;
    int advancesPerThread = 10_000;
    CyclicBarrier start = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        futures.add(
            pool.submit(
                () -> {
                  start.await(30, TimeUnit.SECONDS);
                  for (int i = 0; i < advancesPerThread; i++) {
                    clock.advance(Duration.ofMillis(1));
                  }
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(clock.instant())
        .isEqualTo(MutableClock.DEFAULT_START.plusMillis((long) threads * advancesPerThread));
  }
}
