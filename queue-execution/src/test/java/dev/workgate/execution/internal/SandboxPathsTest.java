package dev.workgate.execution.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.WorkOrderId;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SandboxPathsTest {
  private static final Path ROOT = Path.of("/var/lib/workgate/sandboxes");

  @ParameterizedTest
  @ValueSource(
      strings = {
        "../../etc/passwd",
        "..",
        "a/b/c",
        "/absolute",
        "..\\windows",
        "spaces and ; shell $(rm -rf /)",
        "ünïcödé-ид-工作-🚀",
        "....",
        "-rf"
      })
  void hostile_ids_give_a_plain_name_directly_inside_the_root(String value) {
    String name = SandboxPaths.name(WorkOrderId.of(value), 1);

    assertThat(name).matches("[A-Za-z0-9_-]+-a1-[0-9a-f]{12}");
    assertThat(SandboxPaths.inside(ROOT, name).getParent()).isEqualTo(ROOT);
  }

  @Test
  void a_very_long_id_gives_a_name_of_bounded_length() {
    String value = "x".repeat(WorkOrderId.MAX_LENGTH);

    String name = SandboxPaths.name(WorkOrderId.of(value), 12);

    assertThat(name).startsWith("x".repeat(64) + "-a12-").hasSize(64 + "-a12-".length() + 12);
  }

  @Test
  void ids_that_read_the_same_once_sanitised_still_get_distinct_names() {
    List<String> lookalikes = List.of("a/b", "a_b", "a.b", "a b", "a\\b", "a:b", "a🚀b");
    Set<String> names = new HashSet<>();
    for (String id : lookalikes) {
      names.add(SandboxPaths.name(WorkOrderId.of(id), 1));
    }

    assertThat(names).hasSize(lookalikes.size());
  }

  @Test
  void attempts_of_one_work_order_get_distinct_names() {
    WorkOrderId id = WorkOrderId.of("wo-1");

    assertThat(SandboxPaths.name(id, 1)).isNotEqualTo(SandboxPaths.name(id, 2));
    assertThat(SandboxPaths.name(id, 1)).isEqualTo(SandboxPaths.name(id, 1));
  }

  @Property(tries = 500)
  void any_id_stays_inside_the_root(@ForAll("ids") String value, @ForAll("attempts") int attempt) {
    String name = SandboxPaths.name(WorkOrderId.of(value), attempt);

    assertThat(name).matches("[A-Za-z0-9_-]+-a" + attempt + "-[0-9a-f]{12}");
    assertThat(SandboxPaths.inside(ROOT, name).getParent()).isEqualTo(ROOT);
  }

  @Property(tries = 500)
  void distinct_ids_get_distinct_names(@ForAll("ids") String a, @ForAll("ids") String b) {
    if (a.equals(b)) {
      return;
    }
    assertThat(SandboxPaths.name(WorkOrderId.of(a), 1))
        .isNotEqualTo(SandboxPaths.name(WorkOrderId.of(b), 1));
  }

  @Provide
  Arbitrary<String> ids() {
    Arbitrary<String> any =
        Arbitraries.strings()
            .all()
            .ofMinLength(1)
            .ofMaxLength(WorkOrderId.MAX_LENGTH)
            .filter(s -> !s.isBlank() && s.chars().noneMatch(Character::isISOControl));
    Arbitrary<String> pathy =
        Arbitraries.of("..", "/", ".", "a", "é", "\\", "-", "_")
            .list()
            .ofMinSize(1)
            .ofMaxSize(40)
            .map(parts -> String.join("", parts))
            .filter(s -> !s.isBlank());
    return Arbitraries.oneOf(any, pathy)
        .filter(s -> s.length() <= WorkOrderId.MAX_LENGTH && !s.isBlank());
  }

  @Provide
  Arbitrary<Integer> attempts() {
    return Arbitraries.integers().between(1, 1_000);
  }

  @ParameterizedTest
  @ValueSource(strings = {"../x", "..", ".", "a/../../x", "/etc", "a/../..", ""})
  void inside_refuses_names_that_leave_the_root(String name) {
    assertThatThrownBy(() -> SandboxPaths.inside(ROOT, name))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("would leave the sandbox root");
  }

  @Test
  void a_name_gives_back_its_work_order_and_attempt_when_the_id_was_kept_as_it_is() {
    WorkOrderId id = WorkOrderId.random();

    assertThat(SandboxPaths.parse(SandboxPaths.name(id, 3)))
        .contains(new SandboxPaths.Attempt(id, 3));
    assertThat(SandboxPaths.parse(SandboxPaths.name(WorkOrderId.of("wo-a2-x"), 12)))
        .contains(new SandboxPaths.Attempt(WorkOrderId.of("wo-a2-x"), 12));
  }

  @Test
  void names_that_name_never_makes_or_that_lost_their_id_give_nothing_back() {
    String name = SandboxPaths.name(WorkOrderId.of("wo-1"), 1);

    assertThat(SandboxPaths.parse(SandboxPaths.name(WorkOrderId.of("a/b"), 1))).isEmpty();
    assertThat(SandboxPaths.parse(name.replace("-a1-", "-a2-"))).isEmpty(); // hash mismatch
    assertThat(SandboxPaths.parse("keep-me")).isEmpty();
    assertThat(SandboxPaths.parse("wo-1-a0-000000000000")).isEmpty();
    assertThat(SandboxPaths.parse("wo-1-a99999999999-000000000000")).isEmpty();
  }

  @Test
  void inside_accepts_names_below_the_root() {
    assertThat(SandboxPaths.inside(ROOT, "a/b")).isEqualTo(ROOT.resolve("a/b"));
    assertThat(SandboxPaths.inside(ROOT, "a/../b")).isEqualTo(ROOT.resolve("b"));
    assertThat(SandboxPaths.inside(Path.of("relative/root"), "x"))
        .isEqualTo(Path.of("relative/root").toAbsolutePath().normalize().resolve("x"));
  }
}
