package dev.workgate.core.internal.jdbc;

import dev.workgate.core.store.Stores;
import dev.workgate.core.store.TextLimitProperties;
import dev.workgate.core.store.WorkOrderStore;
import java.time.Clock;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * {@link TextLimitProperties} on PostgreSQL: one schema for all tries. Skipped when PostgreSQL is
 * not reachable (failed under CI).
 */
@AddLifecycleHook(PostgresTestDatabase.SkipUnlessReachable.class)
class PostgresTextLimitProperties extends TextLimitProperties {
  private PostgresTestDatabase db;

  @Property(tries = 30)
  void accepted_text_reads_back_equal_and_refused_text_changes_nothing(@ForAll("cases") Case c) {
    check(c);
  }

  @Override
  protected WorkOrderStore openStore(Clock clock) {
    db = new PostgresTestDatabase().start();
    return Stores.postgres(db.dataSource(), db.options(clock).build());
  }

  @Override
  protected void closeDatabase() {
    if (db != null) {
      db.close();
    }
  }
}
