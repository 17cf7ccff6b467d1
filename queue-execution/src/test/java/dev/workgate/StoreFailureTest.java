package dev.workgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.StoreException;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A store that cannot record an attempt's outcome (a full disk, a lost database). */
class StoreFailureTest {
  @TempDir Path dir;

  @Test
  void an_outcome_the_store_refuses_is_discarded_and_the_work_order_recovers_through_its_lease()
      throws Exception {
    AtomicBoolean refuseOutcomes = new AtomicBoolean(true);
    AtomicInteger refused = new AtomicInteger();
    WorkOrderStore real = Stores.inMemory();
    WorkOrderStore store =
        (WorkOrderStore)
            Proxy.newProxyInstance(
                WorkOrderStore.class.getClassLoader(),
                new Class<?>[] {WorkOrderStore.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("appendAll")
                      && refuseOutcomes.get()
                      && outcomes((List<?>) args[0])) {
                    refused.incrementAndGet();
                    throw new StoreException("disk full (test)");
                  }
                  try {
                    return method.invoke(real, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    List<Throwable> uncaught = new CopyOnWriteArrayList<>();
    Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler((t, e) -> uncaught.add(e));
    try (Workgate w =
        Workgate.builder()
            .store(store)
            .sandboxRoot(dir)
            .pollInterval(Duration.ofMillis(50))
            .leaseDuration(Duration.ofSeconds(1))
            .handler("job", ctx -> WorkResult.ok("done"))
            .build()) {
      w.start();
      WorkOrderId id = w.submit(WorkOrderSpec.builder("job").build());

      // Completed was refused, then the failure that replaced it.
      await().atMost(Duration.ofSeconds(10)).until(() -> refused.get() >= 2);
      assertThat(w.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.RUNNING);
      refuseOutcomes.set(false);

      WorkOrderState end = w.await(id, Duration.ofSeconds(20)).state();
      assertThat(end).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(w.find(id).orElseThrow().attempt()).isEqualTo(2);
      assertThat(w.history(id))
          .anySatisfy(
              e ->
                  assertThat(e.event())
                      .isInstanceOfSatisfying(
                          WorkOrderEvent.Released.class,
                          r -> assertThat(r.code()).isEqualTo(ErrorCodes.LEASE_EXPIRED)));
      assertThat(w.stats().activeSlots()).isZero();
    } finally {
      Thread.setDefaultUncaughtExceptionHandler(previous);
    }
    assertThat(uncaught).isEmpty();
  }

  private static boolean outcomes(List<?> requests) {
    for (Object r : requests) {
      for (WorkOrderEvent e : ((AppendRequest) r).events()) {
        if (e instanceof WorkOrderEvent.Completed || e instanceof WorkOrderEvent.AttemptFailed) {
          return true;
        }
      }
    }
    return false;
  }
}
