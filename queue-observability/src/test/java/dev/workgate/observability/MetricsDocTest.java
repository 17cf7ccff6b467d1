package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.NodeView;
import dev.workgate.core.WorkOrderState;
import dev.workgate.observability.WorkgateMetrics.WorkgateMeter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code docs/metrics.md} lists exactly the meters {@link WorkgateMeter} defines, and the defaults.
 */
class MetricsDocTest {
  static final String METER_TABLE_HEADER =
      "| meter | Prometheus | type | unit | tags | source | description |";

  private static String doc;

  @BeforeAll
  static void read() throws IOException {
    doc = Files.readString(Path.of("..", "docs", "metrics.md"));
  }

  /** One row of the meter table, as written. */
  record Row(
      String name,
      String prometheus,
      String type,
      String unit,
      String tags,
      String source,
      String description) {}

  static List<Row> meterTable() {
    int start = doc.indexOf(METER_TABLE_HEADER);
    assertThat(start).as("the meter table's header").isNotNegative();
    List<String> lines = doc.substring(start).lines().skip(2).collect(Collectors.toList());
    List<Row> rows = new ArrayList<>();
    for (String line : lines) {
      if (!line.startsWith("|")) {
        break;
      }
      String[] cells = line.substring(1, line.length() - 1).split("\\|", -1);
      assertThat(cells).as(line).hasSize(7);
      rows.add(
          new Row(
              unquote(cells[0]),
              unquote(cells[1]),
              cells[2].trim(),
              cells[3].trim(),
              cells[4].trim(),
              cells[5].trim(),
              cells[6].trim()));
    }
    return rows;
  }

  static Row expected(WorkgateMeter m) {
    String tags =
        m.tagKeys().isEmpty()
            ? "—"
            : m.tagKeys().stream().map(k -> "`" + k + "`").collect(Collectors.joining(", "));
    return new Row(
        m.meterName(),
        m.prometheusName(),
        m.type().name().toLowerCase(Locale.ROOT),
        m.baseUnit() == null ? "—" : m.baseUnit(),
        tags,
        m.source().name().toLowerCase(Locale.ROOT),
        m.description());
  }

  private static String unquote(String cell) {
    String c = cell.trim();
    assertThat(c).as("a code cell").startsWith("`").endsWith("`");
    return c.substring(1, c.length() - 1);
  }

  @Test
  void the_meter_table_is_the_catalogue_row_for_row() {
    List<Row> expected = new ArrayList<>();
    for (WorkgateMeter m : WorkgateMeter.values()) {
      expected.add(expected(m));
    }
    assertThat(meterTable()).containsExactlyElementsOf(expected);
  }

  @Test
  void the_store_alone_section_lists_the_store_meters() {
    int start = doc.indexOf("## Over a store alone");
    assertThat(start).as("the section on a store alone").isNotNegative();
    String section = doc.substring(start, doc.indexOf("\n## ", start + 1));
    List<String> listed =
        section
            .lines()
            .filter(l -> l.startsWith("- `"))
            .map(l -> l.substring(3, l.indexOf('`', 3)))
            .collect(Collectors.toList());
    List<String> store = new ArrayList<>();
    for (WorkgateMeter m : WorkgateMeter.values()) {
      if (m.source() == WorkgateMeter.Source.STORE) {
        store.add(m.meterName());
      }
    }
    assertThat(listed).containsExactlyElementsOf(store);
  }

  @Test
  void names_are_dot_case_and_every_meter_has_a_description() {
    for (WorkgateMeter m : WorkgateMeter.values()) {
      assertThat(m.meterName()).as(m.name()).matches("workgate(\\.[a-z]+)+");
      assertThat(m.description()).as(m.name()).isNotBlank();
      assertThat(m.tagKeys())
          .as(m.name())
          .isSubsetOf(
              WorkgateMeter.Tags.QUEUE,
              WorkgateMeter.Tags.STATE,
              WorkgateMeter.Tags.FROM,
              WorkgateMeter.Tags.TO,
              WorkgateMeter.Tags.OUTCOME,
              WorkgateMeter.Tags.ERROR_CODE,
              WorkgateMeter.Tags.STATUS,
              WorkgateMeter.Tags.CAUSE);
    }
  }

  @Test
  void the_documented_tag_values_are_the_states_and_statuses_of_the_code() {
    String states =
        Arrays.stream(WorkOrderState.values())
            .map(s -> "`" + s.name() + "`")
            .collect(Collectors.joining(", "));
    assertThat(doc).contains("| `state`, `to` | " + states + " |");
    String statuses =
        Arrays.stream(NodeView.ExecutionStatus.values())
            .map(s -> "`" + s.name() + "`")
            .collect(Collectors.joining(", "));
    assertThat(doc).contains("| `status` | " + statuses + " (");
  }

  @Test
  void the_documented_defaults_and_bounds_are_the_code() {
    assertThat(WorkgateMetrics.DEFAULT_STORE_CACHE_TTL).isEqualTo(Duration.ofSeconds(1));
    assertThat(doc).contains("| `storeCacheTtl` | 1 s |");
    assertThat(WorkgateMetrics.DEFAULT_MAX_QUEUE_TAGS).isEqualTo(100);
    assertThat(doc).contains("| `maxQueueTags` | 100 |");
    assertThat(WorkgateMetrics.DEFAULT_MAX_ERROR_CODE_TAGS).isEqualTo(50);
    assertThat(doc).contains("| `maxErrorCodeTags` | 50 |");

    assertThat(StoreReadings.OLDEST_PENDING_SAMPLE).isEqualTo(10);
    assertThat(doc).contains("its first ten PENDING work orders");
    assertThat(StoreReadings.OVERFLOW_QUEUES_READ).isEqualTo(10);
    assertThat(doc).contains("the ten of them with the most pending work are read");
    assertThat(StoreReadings.WARN_INTERVAL).isEqualTo(Duration.ofMinutes(1));
    assertThat(doc).contains("logs at WARN at most once a\nminute");

    assertThat(WorkgateMetrics.HISTOGRAM_MIN).isEqualTo(Duration.ofMillis(10));
    assertThat(WorkgateMetrics.HISTOGRAM_MAX).isEqualTo(Duration.ofHours(1));
    assertThat(WorkgateMetrics.END_TO_END_HISTOGRAM_MAX).isEqualTo(Duration.ofHours(6));
    assertThat(doc)
        .contains(
            "86 buckets per series for wait and execution\n(10 ms to 1 h) and 98 for end to end (10 ms to 6 h)");

    assertThat(WorkgateMetrics.STARTS_PER_SLOT).isEqualTo(4);
    assertThat(WorkgateMetrics.MIN_STARTS_BOUND).isEqualTo(64);
    assertThat(doc).contains("more than four entries per slot (at least 64)");
  }
}
