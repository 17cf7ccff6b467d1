package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runtime gives work that lost its lease, or could not renew it, half the self-fence margin to
 * stop: it is dead before its lease expires even when the kill grace is longer.
 */
class SelfFenceWiringTest {
  @TempDir Path dir;

  private Workgate.Builder node() {
    return Workgate.builder().sandboxRoot(dir).handler("job", ctx -> WorkResult.ok());
  }

  @Test
  void by_default_the_lease_lost_grace_is_half_the_default_margin() {
    try (Workgate w = node().build()) {
      assertThat(NodeParts.schedulerConfig(w).selfFenceMargin()).isEqualTo(Duration.ofSeconds(15));
      assertThat(w.node().killGrace()).isEqualTo(Duration.ofSeconds(10));
      assertThat(w.node().leaseLostGrace()).isEqualTo(Duration.ofMillis(7_500));
    }
  }

  @Test
  void a_short_lease_and_margin_shorten_the_lease_lost_grace_but_not_the_kill_grace() {
    try (Workgate w =
        node()
            .leaseDuration(Duration.ofSeconds(6))
            .selfFenceMargin(Duration.ofSeconds(2))
            .killGrace(Duration.ofSeconds(30))
            .build()) {
      assertThat(w.node().leaseLostGrace()).isEqualTo(Duration.ofSeconds(1));
      assertThat(w.node().killGrace()).isEqualTo(Duration.ofSeconds(30));
    }
  }

  @Test
  void a_kill_grace_shorter_than_half_the_margin_is_used_as_it_is() {
    try (Workgate w = node().killGrace(Duration.ofMillis(200)).build()) {
      assertThat(w.node().leaseLostGrace()).isEqualTo(Duration.ofMillis(200));
    }
  }

  @Test
  void a_margin_that_leaves_no_room_for_a_renewal_is_refused() {
    assertThatThrownBy(
            () ->
                node()
                    .leaseDuration(Duration.ofSeconds(6))
                    .selfFenceMargin(Duration.ofSeconds(5))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("selfFenceMargin");
  }
}
