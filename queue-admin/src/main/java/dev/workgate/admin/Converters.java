package dev.workgate.admin;

import dev.workgate.core.BatchId;
import dev.workgate.core.WorkOrderId;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses the CLI's typed arguments strictly: a bad value is a usage error naming the value. */
final class Converters {
  private Converters() {}

  /** A work order id as {@link WorkOrderId} accepts it. */
  static final class Id implements ITypeConverter<WorkOrderId> {
    @Override
    public WorkOrderId convert(String value) {
      try {
        return WorkOrderId.of(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** A batch id as {@link BatchId} accepts it. */
  static final class Batch implements ITypeConverter<BatchId> {
    @Override
    public BatchId convert(String value) {
      try {
        return BatchId.of(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** The most a retention age may be: a hundred years, far beyond any log, never an overflow. */
  static final long MAX_DAYS = 36_500;

  private static final Pattern AGE = Pattern.compile("([1-9][0-9]{0,8})([dhm])");

  /** An age such as {@code 7d}, {@code 12h} or {@code 30m}: a whole number and one unit. */
  static final class Age implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return age(value);
    }
  }

  static Duration age(String value) {
    Matcher m = AGE.matcher(value);
    if (!m.matches()) {
      throw new TypeConversionException(
          "malformed duration '"
              + value
              + "': use a whole number above zero and one unit, d, h or m (7d, 12h, 30m)");
    }
    long n = Long.parseLong(m.group(1));
    Duration d =
        switch (m.group(2)) {
          case "d" -> Duration.ofDays(n);
          case "h" -> Duration.ofHours(n);
          default -> Duration.ofMinutes(n);
        };
    if (d.compareTo(Duration.ofDays(MAX_DAYS)) > 0) {
      throw new TypeConversionException(
          "duration '" + value + "' is longer than " + MAX_DAYS + " days");
    }
    return d;
  }
}
