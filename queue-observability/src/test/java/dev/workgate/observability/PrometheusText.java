package dev.workgate.observability;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * A parsed Prometheus text exposition: the sample lines {@code name{label="value",...} value
 * [timestamp]}, comments skipped. Just enough of the format for the tests, strictly parsed: a line
 * it cannot read fails the test.
 */
final class PrometheusText {

  /** One sample line. */
  record Sample(String name, Map<String, String> labels, double value) {
    boolean has(String label, String value) {
      return value.equals(labels.get(label));
    }
  }

  private final List<Sample> samples;

  private PrometheusText(List<Sample> samples) {
    this.samples = samples;
  }

  static PrometheusText parse(String text) {
    List<Sample> samples = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      samples.add(parseLine(line));
    }
    return new PrometheusText(samples);
  }

  private static Sample parseLine(String line) {
    int i = 0;
    while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
      i++;
    }
    String name = line.substring(0, i);
    if (!name.matches("[a-zA-Z_:][a-zA-Z0-9_:]*")) {
      throw new IllegalArgumentException("bad metric name in: " + line);
    }
    Map<String, String> labels = new LinkedHashMap<>();
    if (i < line.length() && line.charAt(i) == '{') {
      i++;
      while (line.charAt(i) != '}') {
        int eq = line.indexOf('=', i);
        String label = line.substring(i, eq);
        if (line.charAt(eq + 1) != '"') {
          throw new IllegalArgumentException("label value not quoted in: " + line);
        }
        StringBuilder value = new StringBuilder();
        int j = eq + 2;
        while (line.charAt(j) != '"') {
          char c = line.charAt(j);
          if (c == '\\') {
            char next = line.charAt(++j);
            value.append(next == 'n' ? '\n' : next);
          } else {
            value.append(c);
          }
          j++;
        }
        labels.put(label, value.toString());
        i = j + 1;
        if (line.charAt(i) == ',') {
          i++;
        }
      }
      i++;
    }
    String[] rest = line.substring(i).trim().split(" ");
    return new Sample(name, Map.copyOf(labels), parseValue(rest[0]));
  }

  private static double parseValue(String v) {
    switch (v) {
      case "+Inf":
        return Double.POSITIVE_INFINITY;
      case "-Inf":
        return Double.NEGATIVE_INFINITY;
      case "NaN":
        return Double.NaN;
      default:
        return Double.parseDouble(v);
    }
  }

  List<Sample> samples(String name) {
    List<Sample> found = new ArrayList<>();
    for (Sample s : samples) {
      if (s.name().equals(name)) {
        found.add(s);
      }
    }
    return found;
  }

  Set<String> names() {
    Set<String> names = new TreeSet<>();
    samples.forEach(s -> names.add(s.name()));
    return names;
  }

  /** The sum of a metric's samples whose labels include all the given pairs (0 if none). */
  double sum(String name, String... labelPairs) {
    Predicate<Sample> match = matcher(labelPairs);
    double sum = 0;
    for (Sample s : samples(name)) {
      if (match.test(s)) {
        sum += s.value();
      }
    }
    return sum;
  }

  /** The one sample with exactly these labels (order free); fails if absent. */
  double value(String name, String... labelPairs) {
    Map<String, String> wanted = new LinkedHashMap<>();
    for (int i = 0; i < labelPairs.length; i += 2) {
      wanted.put(labelPairs[i], labelPairs[i + 1]);
    }
    for (Sample s : samples(name)) {
      if (s.labels().equals(wanted)) {
        return s.value();
      }
    }
    throw new AssertionError("no sample " + name + wanted + " in " + samples(name));
  }

  /** The distinct values of a label over a metric's samples. */
  Set<String> labelValues(String name, String label) {
    Set<String> values = new TreeSet<>();
    for (Sample s : samples(name)) {
      String v = s.labels().get(label);
      if (v != null) {
        values.add(v);
      }
    }
    return values;
  }

  private static Predicate<Sample> matcher(String... labelPairs) {
    if (labelPairs.length % 2 != 0) {
      throw new IllegalArgumentException("label pairs come in twos");
    }
    return s -> {
      for (int i = 0; i < labelPairs.length; i += 2) {
        if (!s.has(labelPairs[i], labelPairs[i + 1])) {
          return false;
        }
      }
      return true;
    };
  }
}
