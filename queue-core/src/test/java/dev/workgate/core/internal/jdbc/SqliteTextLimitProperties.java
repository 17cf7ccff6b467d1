package dev.workgate.core.internal.jdbc;

import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.TextLimitProperties;
import dev.workgate.core.store.WorkOrderStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** {@link TextLimitProperties} on SQLite: one database file for all tries. */
class SqliteTextLimitProperties extends TextLimitProperties {
  private Path dir;

  @Property(tries = 40)
  void accepted_text_reads_back_equal_and_refused_text_changes_nothing(@ForAll("cases") Case c) {
    check(c);
  }

  @Override
  protected WorkOrderStore openStore(Clock clock) {
    try {
      dir = Files.createTempDirectory("workgate-limits-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Stores.sqlite(dir.resolve("workgate.db"), SqliteOptions.builder().clock(clock).build());
  }

  @Override
  protected void closeDatabase() {
    if (dir != null) {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
