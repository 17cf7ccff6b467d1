package dev.workgate.retry;

import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.io.TempDir;

/** The retry manager contract on a SQLite file store, one new file per test. */
class SqliteRetryManagerTest extends RetryManagerContractTest {

  @TempDir Path dir;

  @Override
  protected WorkOrderStore createStore(Clock clock) {
    return Stores.sqlite(dir.resolve("workgate.db"), SqliteOptions.builder().clock(clock).build());
  }
}
