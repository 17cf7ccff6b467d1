package dev.workgate.execution;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workgate.core.WorkgateException;
import dev.workgate.execution.RecordingReports.Checkpoint;
import dev.workgate.execution.RecordingReports.Progress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The report file's lines, read on the test's thread: no process, no tailing thread. */
class ReportFileTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_LINE = 64;

  @TempDir Path dir;

  private Path file;
  private final RecordingReports reports = new RecordingReports();
  private ReportFile reader;
  private final ListAppender<ILoggingEvent> log = new ListAppender<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger(ReportFile.class);

  @BeforeEach
  void open() throws IOException {
    file = Files.createFile(dir.resolve("report.jsonl"));
    reader = ReportFile.open(file, "sb-1", reports, MAX_LINE);
    log.start();
    logger.addAppender(log);
  }

  @AfterEach
  void close() {
    reader.close();
    logger.detachAppender(log);
  }

  @Test
  void complete_lines_become_progress_and_checkpoints_in_order() throws IOException {
    append(
        "{\"progress\": 0.25, \"message\": \"cloned\"}\n"
            + "{\"checkpoint\": {\"step\": 1}}\n"
            + "{\"progress\": 1}\n"
            + "{\"checkpoint\": [1, \"two\"]}\n"
            + "{\"checkpoint\": null, \"other\": true}\n");

    reader.read();

    assertThat(reports.reports())
        .containsExactly(
            new Progress(0.25, "cloned"),
            new Checkpoint(json("{\"step\": 1}")),
            new Progress(1.0, ""),
            new Checkpoint(json("[1, \"two\"]")),
            new Checkpoint(json("null")));
    assertThat(reader.lines()).isEqualTo(5);
    assertThat(reader.badLines()).isZero();
  }

  @Test
  void a_partial_line_waits_for_its_newline() throws IOException {
    append("{\"progress\": 0.1}\n{\"progr");
    reader.read();
    assertThat(reports.progress()).containsExactly(new Progress(0.1, ""));

    append("ess\": 0.");
    reader.read();
    assertThat(reports.progress()).hasSize(1);

    append("2}\n");
    reader.read();
    assertThat(reports.progress()).containsExactly(new Progress(0.1, ""), new Progress(0.2, ""));
  }

  @Test
  void bad_lines_are_skipped_counted_and_logged_without_their_content() throws IOException {
    append(
        "not json sk-SECRET-1\n"
            + "{\"progress\": 2}\n"
            + "{\"progress\": NaN}\n"
            + "{\"progress\": \"0.5\"}\n"
            + "[\"sk-SECRET-2\"]\n"
            + "{\"message\": \"sk-SECRET-3\"}\n"
            + "{\"progress\": 0.5, \"checkpoint\": 1}\n"
            + "{\"progress\": 0.5, \"message\": 7}\n"
            + "{\"checkpoint\": 1} {\"checkpoint\": 2}\n"
            + "{\"checkpoint\": \"sk-SECRET-4"
            + "x".repeat(MAX_LINE)
            + "\"}\n"
            + "\n"
            + "  \r\n"
            + "{\"progress\": 0.75, \"message\": \"still read\"}\n"
            + "{\"checkpoint\": {\"after\": true}}\n");

    reader.read();

    assertThat(reports.reports())
        .containsExactly(
            new Progress(0.75, "still read"), new Checkpoint(json("{\"after\": true}")));
    assertThat(reader.badLines()).isEqualTo(10);
    assertThat(reader.lines()).isEqualTo(14);
    List<String> warnings =
        log.list.stream()
            .filter(e -> e.getLevel() == Level.WARN)
            .map(ILoggingEvent::getFormattedMessage)
            .toList();
    assertThat(warnings).hasSize(ReportFile.LOGGED_BAD_LINES);
    assertThat(warnings.get(0))
        .isEqualTo("process sandbox sb-1: report line 1 skipped: not one JSON value in UTF-8");
    assertThat(warnings.get(1)).contains("line 2", "not between 0 and 1");
    assertThat(warnings.get(4)).contains("line 5", "further bad lines are counted, not logged");
    assertThat(warnings).noneMatch(w -> w.contains("SECRET"));

    reader.close();

    assertThat(log.list.get(log.list.size() - 1).getFormattedMessage())
        .isEqualTo("process sandbox sb-1: 10 bad lines of its report file were skipped in all");
    assertThat(log.list).noneMatch(e -> e.getFormattedMessage().contains("SECRET"));
  }

  @Test
  void an_over_long_line_is_skipped_up_to_its_newline_across_reads() throws IOException {
    append("{\"checkpoint\": \"" + "y".repeat(MAX_LINE));
    reader.read();
    append("y".repeat(10 * MAX_LINE));
    reader.read();
    append("\"}\n{\"checkpoint\": \"ok\"}\n");
    reader.read();

    assertThat(reports.checkpoints()).containsExactly(json("\"ok\""));
    assertThat(reader.badLines()).isEqualTo(1);
  }

  @Test
  void a_line_of_exactly_the_limit_is_read() throws IOException {
    String prefix = "{\"checkpoint\": \"";
    String line = prefix + "z".repeat(MAX_LINE - prefix.length() - 2) + "\"}";
    assertThat(line.getBytes(StandardCharsets.UTF_8)).hasSize(MAX_LINE);

    append(line + "\n");
    reader.read();

    assertThat(reports.checkpoints()).hasSize(1);
  }

  @Test
  void lines_longer_than_a_read_chunk_are_put_together() throws IOException {
    ReportFile large = ReportFile.open(file, "sb-2", reports, 1 << 20);
    try {
      String value = "w".repeat(200_000);
      append("{\"checkpoint\": \"" + value + "\"}\n");

      large.read();

      assertThat(reports.checkpoints()).extracting(JsonNode::textValue).containsExactly(value);
    } finally {
      large.close();
    }
  }

  @Test
  void a_checkpoint_refused_as_too_large_is_skipped_and_reading_goes_on() throws IOException {
    reports.maxCheckpointBytes(10);
    append("{\"checkpoint\": \"far too large for ten bytes\"}\n{\"checkpoint\": 2}\n");

    reader.read();

    assertThat(reports.checkpoints()).containsExactly(json("2"));
    assertThat(reports.checkpointCalls()).isEqualTo(2);
    assertThat(reader.badLines()).isEqualTo(1);
    assertThat(reader.stopped()).isFalse();
  }

  @Test
  void a_checkpoint_refused_for_a_lost_claim_stops_all_further_reports() throws IOException {
    reports.refuseCheckpointsWith(new WorkgateException("the attempt no longer holds its claim"));
    append("{\"progress\": 0.1}\n{\"checkpoint\": 1}\n{\"progress\": 0.2}\n{\"checkpoint\": 2}\n");

    reader.read();
    append("{\"progress\": 0.3}\n");
    reader.read();

    assertThat(reports.reports()).containsExactly(new Progress(0.1, ""));
    assertThat(reports.checkpointCalls()).isEqualTo(1);
    assertThat(reader.stopped()).isTrue();
    assertThat(log.list)
        .anySatisfy(
            e ->
                assertThat(e.getFormattedMessage())
                    .contains("refused the checkpoint of report line 2")
                    .contains("the attempt no longer holds its claim"));
  }

  @Test
  void a_file_that_shrank_is_read_again_from_its_start() throws IOException {
    append("{\"progress\": 0.1}\n{\"progress\": 0.2}\n");
    reader.read();
    Files.writeString(file, "{\"progress\": 0.3}\n", StandardOpenOption.TRUNCATE_EXISTING);

    reader.read();

    assertThat(reports.progress()).extracting(Progress::fraction).containsExactly(0.1, 0.2, 0.3);
  }

  @Test
  void a_closed_reader_reads_nothing_and_names_a_last_line_without_its_newline()
      throws IOException {
    append("{\"progress\": 0.1}\n{\"progress\": 0.2}");
    reader.read();

    reader.close();
    append("\n{\"progress\": 0.3}\n");
    reader.read();

    assertThat(reports.progress()).containsExactly(new Progress(0.1, ""));
    assertThat(log.list)
        .extracting(ILoggingEvent::getFormattedMessage)
        .contains(
            "process sandbox sb-1: the last line of its report file (line 2) has no newline and"
                + " was not read");
  }

  private void append(String text) throws IOException {
    Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
  }

  private static JsonNode json(String text) throws IOException {
    return JSON.readTree(text);
  }
}
