package dev.workgate.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ProcessSpecTest {

  @Test
  void defaults_are_the_documented_limits_and_an_empty_environment() {
    ProcessSpec spec = ProcessSpec.builder().command("agent", "--task", "x").build();

    assertThat(spec.command()).containsExactly("agent", "--task", "x");
    assertThat(spec.shell()).isFalse();
    assertThat(spec.env()).isEmpty();
    assertThat(spec.inheritEnv()).isEmpty();
    assertThat(spec.secretNames()).isEmpty();
    assertThat(spec.workingSubdirectory()).isEmpty();
    assertThat(spec.outputLimitBytes()).isEqualTo(10L * 1024 * 1024);
    assertThat(spec.tailBytes()).isEqualTo(4096);
    assertThat(spec.memoryLimitMb()).isEqualTo(OptionalLong.empty());
  }

  @Test
  void a_shell_spec_runs_bin_sh_with_the_script() {
    ProcessSpec spec = ProcessSpec.builder().shell("echo $HOME | wc -c").build();

    assertThat(spec.shell()).isTrue();
    assertThat(spec.command()).containsExactly("/bin/sh", "-c", "echo $HOME | wc -c");
  }

  @Test
  void the_command_is_copied_so_later_changes_to_the_callers_list_do_not_leak_in() {
    List<String> argv = new ArrayList<>(List.of("git", "clone"));
    ProcessSpec spec = ProcessSpec.builder().command(argv).build();
    argv.add("--evil");

    assertThat(spec.command()).containsExactly("git", "clone");
    assertThatThrownBy(() -> spec.command().add("x"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void build_needs_exactly_one_of_command_and_shell() {
    assertThatThrownBy(() -> ProcessSpec.builder().build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("command or a shell script");
    assertThatThrownBy(() -> ProcessSpec.builder().command("ls").shell("ls").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("either a command or a shell script");
  }

  @Test
  void setters_reject_bad_values_naming_the_setting_and_the_value() {
    ProcessSpec.Builder b = ProcessSpec.builder();

    assertRejected(() -> b.outputLimitBytes(-1), "outputLimitBytes", "-1");
    assertRejected(() -> b.outputLimitBytes((1L << 40) + 1), "outputLimitBytes", "1099511627777");
    assertRejected(() -> b.tailBytes(-5), "tailBytes", "-5");
    assertRejected(() -> b.tailBytes(1024 * 1024 + 1), "tailBytes", "1048577");
    assertRejected(() -> b.memoryLimitMb(0), "memoryLimitMb", "0");
    assertRejected(() -> b.command(List.of()), "command", "[]");
    assertRejected(() -> b.command(" "), "command executable", "' '");
    assertRejected(() -> b.command("ls", "a\0b"), "command argument 1", "NUL");
    assertRejected(() -> b.shell(" "), "shell script", "' '");
    assertRejected(() -> b.env("1ABC", "x"), "env name", "'1ABC'");
    assertRejected(() -> b.env("A=B", "x"), "env name", "'A=B'");
    assertRejected(() -> b.env("OK", "a\0b"), "env OK", "a");
    assertRejected(() -> b.inheritEnv("HOME", "BAD-NAME"), "inheritEnv name", "'BAD-NAME'");
    assertRejected(() -> b.secret("has space", "x"), "secret name", "'has space'");
    assertRejected(() -> b.workingSubdirectory("../outside"), "workingSubdirectory", "../outside");
    assertRejected(() -> b.workingSubdirectory("/etc"), "workingSubdirectory", "'/etc'");
    assertRejected(
        () -> b.workingSubdirectory("a/../../x"), "workingSubdirectory 'a/../../x'", "leave");
    assertRejected(() -> b.workingSubdirectory("."), "workingSubdirectory '.'", "leave");
  }

  @Test
  void the_sandbox_marker_cannot_be_set_or_inherited() {
    String marker = ProcessSandboxProvider.SANDBOX_ENV;

    assertRejected(() -> ProcessSpec.builder().env(marker, "x"), "env name " + marker, "reserved");
    assertRejected(() -> ProcessSpec.builder().inheritEnv(marker), "inheritEnv", "reserved");
  }

  @Test
  void the_fencing_token_variable_cannot_be_set_or_inherited() {
    String token = ProcessSandboxProvider.FENCING_TOKEN_ENV;

    assertRejected(() -> ProcessSpec.builder().env(token, "99"), "env name " + token, "reserved");
    assertRejected(() -> ProcessSpec.builder().inheritEnv(token), "inheritEnv", "reserved");
  }

  @Test
  void a_secret_value_that_does_not_fit_on_one_line_is_rejected_without_showing_it() {
    assertThatThrownBy(() -> ProcessSpec.builder().secret("TOKEN", "abc\nINJECTED=1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("secret TOKEN")
        .hasMessageNotContaining("abc")
        .hasMessageNotContaining("INJECTED");
  }

  @Test
  void a_secret_may_not_also_be_an_environment_variable() {
    assertThatThrownBy(
            () -> ProcessSpec.builder().command("x").env("TOKEN", "a").secret("TOKEN", "b").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("secret TOKEN is also an environment variable");
    assertThatThrownBy(
            () ->
                ProcessSpec.builder().command("x").inheritEnv("TOKEN").secret("TOKEN", "b").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("secret TOKEN");
  }

  @Test
  void to_string_masks_secret_values_and_shows_the_rest() {
    ProcessSpec spec =
        ProcessSpec.builder()
            .command("agent")
            .env("MODE", "fast")
            .inheritEnv("PATH")
            .secret("API_TOKEN", "sk-very-secret")
            .memoryLimitMb(512)
            .build();

    assertThat(spec.toString())
        .doesNotContain("sk-very-secret")
        .contains("API_TOKEN=***", "MODE=fast", "PATH", "[agent]", "memoryLimitMb=512");
    assertThat(spec.secretNames()).containsExactly("API_TOKEN");
  }

  @Test
  void later_values_replace_earlier_ones_and_secrets_keep_their_order() {
    ProcessSpec spec =
        ProcessSpec.builder()
            .command("a")
            .command("b", "c")
            .env("X", "1")
            .env("X", "2")
            .secret("S2", "x")
            .secret("S1", "y")
            .build();

    assertThat(spec.command()).containsExactly("b", "c");
    assertThat(spec.env()).containsExactly(java.util.Map.entry("X", "2"));
    assertThat(spec.secretNames()).containsExactly("S2", "S1");
    assertThat(spec.secrets()).containsEntry("S2", "x").containsEntry("S1", "y");
  }

  @Test
  void specs_with_the_same_settings_are_equal() {
    ProcessSpec a = ProcessSpec.builder().command("x").secret("S", "1").tailBytes(10).build();
    ProcessSpec b = ProcessSpec.builder().command("x").secret("S", "1").tailBytes(10).build();
    ProcessSpec c = ProcessSpec.builder().command("x").secret("S", "2").tailBytes(10).build();

    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b).isNotEqualTo(c);
  }

  private static void assertRejected(Runnable setter, String... parts) {
    assertThatThrownBy(setter::run)
        .isInstanceOf(IllegalArgumentException.class)
        .satisfies(e -> assertThat(e.getMessage()).contains(parts));
  }
}
