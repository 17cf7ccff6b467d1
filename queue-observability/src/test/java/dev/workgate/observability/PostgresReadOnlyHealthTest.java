package dev.workgate.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.workgate.NodeView.WriteFailureCause;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.internal.jdbc.PostgresTestDatabase;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.observability.SystemHealth.HealthIssue;
import dev.workgate.observability.SystemHealth.HealthStatus;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A PostgreSQL database that refuses writes, as a hot standby or {@code
 * default_transaction_read_only} does: every connection the store takes is set read-only for its
 * session ({@code SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY}) while the test says so,
 * which makes the server answer writes with SQLState 25006 without changing anything outside this
 * test's connections.
 */
class PostgresReadOnlyHealthTest extends HealthTestSupport {
  @RegisterExtension final PostgresTestDatabase db = new PostgresTestDatabase();

  private final AtomicBoolean readOnly = new AtomicBoolean();

  /** The pool, with each connection's session set read-only or read-write as the test says. */
  private DataSource switchable(HikariDataSource pool) {
    return (DataSource)
        Proxy.newProxyInstance(
            DataSource.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              Object result;
              try {
                result = method.invoke(pool, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
              if (method.getName().equals("getConnection")) {
                try (Statement s = ((Connection) result).createStatement()) {
                  s.execute(
                      "SET SESSION CHARACTERISTICS AS TRANSACTION "
                          + (readOnly.get() ? "READ ONLY" : "READ WRITE"));
                }
              }
              return result;
            });
  }

  @Test
  void a_read_only_database_turns_the_store_red_with_advice_and_it_recovers_once_writable() {
    WorkOrderStore store = Stores.postgres(switchable(db.dataSource()), db.options(clock).build());
    onCleanup(store);
    Workgate node = open(node().store(store).handler("job", ctx -> ok()));
    WorkgateHealth health = health(WorkgateHealth.builder(node));
    node.start();
    WorkOrderId first = node.submit(WorkOrderSpec.builder("job").build());
    eventually().until(() -> node.find(first).orElseThrow().state() == WorkOrderState.COMPLETED);

    readOnly.set(true);
    for (int i = 0; i < WorkgateHealth.DEFAULT_FAILED_WRITES_THRESHOLD; i++) {
      assertThatThrownBy(() -> node.submit(WorkOrderSpec.builder("job").build()))
          .isInstanceOf(StoreException.class);
    }

    SystemHealth red = health.check();
    assertThat(status(red, WorkgateHealth.STORE)).isEqualTo(HealthStatus.UNHEALTHY);
    HealthIssue issue = onlyIssue(red, WorkgateHealth.STORE);
    assertThat(issue.message()).contains("database is read-only").contains("SQLState 25006");
    assertThat(issue.recommendation())
        .contains("hot standby")
        .contains("default_transaction_read_only")
        .contains("writes resume by themselves");
    assertThat(node.storeWrites().lastFailure().orElseThrow().cause())
        .isEqualTo(WriteFailureCause.READ_ONLY);
    assertThat(health.readiness().status()).isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(health.liveness().status()).isEqualTo(HealthStatus.HEALTHY);

    readOnly.set(false);
    WorkOrderId after = node.submit(WorkOrderSpec.builder("job").build());
    eventually().until(() -> node.find(after).orElseThrow().state() == WorkOrderState.COMPLETED);
    assertThat(status(health.check(), WorkgateHealth.STORE)).isEqualTo(HealthStatus.HEALTHY);
    assertThat(status(health.readiness(), WorkgateHealth.STORE)).isEqualTo(HealthStatus.HEALTHY);
  }
}
