package dev.workgate.core.internal.jdbc;

import dev.workgate.core.internal.jdbc.JdbcTestKit.RawTables;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.time.Clock;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * {@link JdbcRebuildProjectionProperties} on PostgreSQL: a new schema per try, so fewer tries than
 * on SQLite. Skipped when PostgreSQL is not reachable (failed under CI).
 */
@AddLifecycleHook(PostgresTestDatabase.SkipUnlessReachable.class)
class PostgresRebuildProjectionProperties extends JdbcRebuildProjectionProperties {

  @Property(tries = 20)
  void verify_reports_exactly_the_damaged_rows_and_repair_restores_the_fold(
      @ForAll("histories") History history, @ForAll("damages") List<Damage> damages) {
    checkRebuild(history, damages);
  }

  @Override
  Database openDatabase() {
    PostgresTestDatabase db = new PostgresTestDatabase().start();
    return new Database() {
      @Override
      public WorkOrderStore open(Clock clock) {
        return Stores.postgres(db.dataSource(), db.options(clock).build());
      }

      @Override
      public RawTables raw() {
        return JdbcTestKit.postgres(db);
      }

      @Override
      public void close() {
        db.close();
      }
    };
  }
}
