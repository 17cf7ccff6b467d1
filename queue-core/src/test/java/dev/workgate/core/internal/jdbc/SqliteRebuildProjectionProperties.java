package dev.workgate.core.internal.jdbc;

import dev.workgate.core.internal.jdbc.JdbcTestKit.RawTables;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** {@link JdbcRebuildProjectionProperties} on SQLite: a new file in a temporary folder per try. */
class SqliteRebuildProjectionProperties extends JdbcRebuildProjectionProperties {

  @Property(tries = 40)
  void verify_reports_exactly_the_damaged_rows_and_repair_restores_the_fold(
      @ForAll("histories") History history, @ForAll("damages") List<Damage> damages) {
    checkRebuild(history, damages);
  }

  @Override
  Database openDatabase() {
    Path dir;
    try {
      dir = Files.createTempDirectory("workgate-rebuild-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path file = dir.resolve("workgate.db");
    return new Database() {
      @Override
      public WorkOrderStore open(Clock clock) {
        return Stores.sqlite(file, SqliteOptions.builder().clock(clock).build());
      }

      @Override
      public RawTables raw() {
        return JdbcTestKit.sqlite(file);
      }

      @Override
      public void close() {
        try (Stream<Path> files = Files.walk(dir)) {
          for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
            Files.deleteIfExists(p);
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    };
  }
}
