package dev.workgate.observability;

import dev.workgate.core.internal.jdbc.PostgresTestDatabase;
import dev.workgate.core.store.WorkOrderStore;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link QuarantinedRowTest} on PostgreSQL. */
class PostgresQuarantinedRowTest extends QuarantinedRowTest {

  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  @Override
  WorkOrderStore openStore() {
    return db.openStore(clock);
  }

  @Override
  void damage(String sql) {
    db.execute(sql.replace("{events}", db.table("workgate_events")));
  }
}
