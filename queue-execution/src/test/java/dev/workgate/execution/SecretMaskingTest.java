package dev.workgate.execution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** The masking of secrets in captured output: in the stream, across reads and at the tail's cut. */
class SecretMaskingTest {

  @Test
  void a_secret_straddling_the_tail_boundary_leaves_no_fragment() {
    String secret = "TOKEN-abcdefgh";
    Captured c = pump(List.of(secret), 16, 1 << 14, "x".repeat(10) + secret + "y".repeat(10));

    assertThat(c.tail).isEqualTo("xxx***" + "y".repeat(10));
    assertThat(c.file).isEqualTo("x".repeat(10) + "***" + "y".repeat(10));
  }

  @Test
  void a_tail_cut_inside_a_marker_drops_the_rest_of_the_marker() {
    Captured c = pump(List.of("TOKEN-abcdefgh"), 16, 1 << 14, "TOKEN-abcdefgh" + "y".repeat(14));

    assertThat(c.tail).isEqualTo("y".repeat(14));
  }

  @Test
  void a_secret_straddling_a_read_buffer_boundary_is_masked() {
    String secret = "split-across-reads";
    for (int read = 1; read <= secret.length() + 1; read++) {
      Captured c = pump(List.of(secret), 4096, read, "before " + secret + " after");

      assertThat(c.tail).as("reads of %d bytes", read).isEqualTo("before *** after");
      assertThat(c.file).as("reads of %d bytes", read).isEqualTo("before *** after");
    }
  }

  @Test
  void a_secret_with_another_as_its_prefix_is_masked_whole() {
    for (List<String> secrets : List.of(List.of("abc", "abcdef"), List.of("abcdef", "abc"))) {
      Captured c = pump(secrets, 4096, 4, "1 abcdef 2 abc 3 abcde");

      assertThat(c.tail).isEqualTo("1 *** 2 *** 3 ***de");
    }
  }

  @Test
  void a_repeated_secret_is_masked_each_time() {
    Captured c = pump(List.of("pass"), 4096, 3, "pass x passpass y pas");

    assertThat(c.tail).isEqualTo("*** x ****** y pas");
  }

  @Test
  void overlapping_secrets_become_one_marker_without_a_stray_part() {
    Captured c = pump(List.of("abcd", "cdef"), 4096, 2, "[abcdef] [cdefab] [abcd]");

    assertThat(c.tail).isEqualTo("[***] [***ab] [***]");
  }

  @Test
  void a_secret_with_multibyte_characters_is_masked_when_cut_inside_a_character() {
    String secret = "ключ-🔑-geheim";
    Captured c = pump(List.of(secret), 4096, 1, "é" + secret + "é");

    assertThat(c.tail).isEqualTo("é***é");
  }

  @Test
  void output_without_secrets_or_with_none_given_is_unchanged() {
    String text = "plain output\nwith ünïcödé and *** stars\n";

    assertThat(pump(List.of("absent"), 4096, 5, text).tail).isEqualTo(text);
    assertThat(pump(List.of(), 4096, 5, text).tail).isEqualTo(text);
    assertThat(pump(List.of(""), 4096, 5, text).tail).isEqualTo(text);
  }

  @Property(tries = 400)
  void no_secret_reaches_the_tail_or_the_file_and_reads_do_not_matter(
      @ForAll("outputs") Output output,
      @ForAll @IntRange(min = 1, max = 40) int readSize,
      @ForAll @IntRange(min = 0, max = 64) int tailBytes) {
    Captured c = pump(output.secrets, tailBytes, readSize, output.text);
    String whole = reference(output.text, output.secrets);

    assertThat(c.file).isEqualTo(whole);
    assertThat(whole).endsWith(c.tail);
    assertThat(c.tail.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(tailBytes);
    for (String secret : output.secrets) {
      assertThat(c.file).doesNotContain(secret);
      assertThat(c.tail).doesNotContain(secret);
    }
  }

  @Property(tries = 200)
  void text_without_secrets_is_unchanged(
      @ForAll("fillers") String text, @ForAll @IntRange(min = 1, max = 40) int readSize) {
    Captured c = pump(List.of("abc", "abcabc", "cab"), 1 << 16, readSize, text);

    assertThat(c.tail).isEqualTo(text);
    assertThat(c.file).isEqualTo(text);
  }

  /** Random text with secrets inserted at random places, from an alphabet the text lacks. */
  record Output(String text, List<String> secrets) {}

  @Provide
  Arbitrary<Output> outputs() {
    Arbitrary<String> secret =
        Arbitraries.strings().withChars("abcü").ofMinLength(1).ofMaxLength(8);
    Arbitrary<List<String>> secrets = secret.list().ofMinSize(1).ofMaxSize(4);
    Arbitrary<List<String>> pieces = fillers().list().ofMinSize(1).ofMaxSize(8);
    Arbitrary<List<Integer>> picks = Arbitraries.integers().between(0, 3).list().ofSize(8);
    return Combinators.combine(secrets, pieces, picks)
        .as(
            (s, p, k) -> {
              StringBuilder text = new StringBuilder();
              for (int i = 0; i < p.size(); i++) {
                text.append(p.get(i)).append(s.get(k.get(i) % s.size()));
              }
              return new Output(text.toString(), s);
            });
  }

  @Provide
  Arbitrary<String> fillers() {
    return Arbitraries.strings().withChars("xyz é\n*").ofMaxLength(30);
  }

  /** Masking of a whole text at once: each run of overlapping occurrences becomes one marker. */
  private static String reference(String text, List<String> secrets) {
    StringBuilder out = new StringBuilder();
    int maskLeft = 0;
    for (int i = 0; i < text.length(); i++) {
      int match = 0;
      for (String s : secrets) {
        if (!s.isEmpty() && text.startsWith(s, i)) {
          match = Math.max(match, s.length());
        }
      }
      if (maskLeft == 0 && match > 0) {
        out.append("***");
      }
      maskLeft = Math.max(maskLeft, match);
      if (maskLeft > 0) {
        maskLeft--;
      } else {
        out.append(text.charAt(i));
      }
    }
    return out.toString();
  }

  private record Captured(String tail, String file) {}

  private static Captured pump(List<String> secrets, int tailBytes, int readSize, String text) {
    ByteArrayOutputStream file = new ByteArrayOutputStream();
    CountDownLatch done = new CountDownLatch(1);
    ProcessSandbox.Pump pump =
        new ProcessSandbox.Pump(
            new ChunkedStream(text.getBytes(StandardCharsets.UTF_8), readSize),
            file,
            1 << 20,
            tailBytes,
            new SecretMasker(secrets),
            done);
    pump.run();
    assertThat(done.getCount()).isZero();
    return new Captured(pump.tail(), file.toString(StandardCharsets.UTF_8));
  }

  /** Hands out at most {@code readSize} bytes per read, as a pipe may. */
  private static final class ChunkedStream extends InputStream {
    private final byte[] bytes;
    private final int readSize;
    private int at;

    ChunkedStream(byte[] bytes, int readSize) {
      this.bytes = bytes;
      this.readSize = readSize;
    }

    @Override
    public int read() {
      return at < bytes.length ? bytes[at++] & 0xFF : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (at >= bytes.length) {
        return -1;
      }
      int n = Math.min(Math.min(len, readSize), bytes.length - at);
      System.arraycopy(bytes, at, b, off, n);
      at += n;
      return n;
    }
  }
}
