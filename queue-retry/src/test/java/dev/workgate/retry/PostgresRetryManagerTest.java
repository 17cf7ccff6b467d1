package dev.workgate.retry;

import dev.workgate.core.internal.jdbc.PostgresTestDatabase;
import dev.workgate.core.store.WorkOrderStore;
import java.time.Clock;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The retry manager contract on the PostgreSQL store, one schema per test. Skipped when PostgreSQL
 * is unreachable, failed instead when {@code CI=true}.
 */
class PostgresRetryManagerTest extends RetryManagerContractTest {

  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  @Override
  protected WorkOrderStore createStore(Clock clock) {
    return db.openStore(clock);
  }
}
