package dev.workgate.core.testing;

import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the store benchmarks share: work orders built before the clock starts, batched submission,
 * and the one way rates are summarised (median of the rounds after a warm-up).
 */
public final class BenchmarkData {
  private BenchmarkData() {}

  /**
   * New ids.
   *
   * @param n how many
   * @return {@code n} random ids
   */
  public static List<WorkOrderId> ids(int n) {
    List<WorkOrderId> ids = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ids.add(WorkOrderId.random());
    }
    return ids;
  }

  /**
   * Distinct specs with a small payload, as a host would submit them, in the default queue.
   *
   * @param n how many
   * @return their Submitted events
   */
  public static List<WorkOrderEvent.Submitted> submissions(int n) {
    List<WorkOrderEvent.Submitted> list = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      list.add(
          WorkOrderEvent.Submitted.of(
              WorkOrderSpec.builder("agent-run")
                  .payload(Map.of("repo", "acme/api", "issue", i))
                  .priority(i % 3)
                  .build()));
    }
    return list;
  }

  /**
   * Submits every work order, {@code batch} per {@code appendAll}.
   *
   * @param store the store
   * @param ids the ids, one per submission
   * @param submissions the submissions
   * @param batch requests per call
   */
  public static void submitInBatches(
      WorkOrderStore store,
      List<WorkOrderId> ids,
      List<WorkOrderEvent.Submitted> submissions,
      int batch) {
    List<AppendRequest> requests = new ArrayList<>(batch);
    for (int i = 0; i < submissions.size(); i++) {
      requests.add(AppendRequest.of(ids.get(i), ExpectedVersion.none(), submissions.get(i)));
      if (requests.size() == batch) {
        store.appendAll(requests);
        requests.clear();
      }
    }
    if (!requests.isEmpty()) {
      store.appendAll(requests);
    }
  }

  /**
   * The rates of the rounds after the first (a warm-up) as {@code median M unit (min a, max b; R
   * rounds after 1 warm-up, W work orders)}.
   *
   * @param rates one rate per round, the warm-up first
   * @param unit e.g. {@code events/s}
   * @param workOrders work orders per round
   * @return the summary
   */
  public static String summary(double[] rates, String unit, int workOrders) {
    double[] measured = Arrays.copyOfRange(rates, 1, rates.length);
    Arrays.sort(measured);
    int n = measured.length;
    double median = n % 2 == 1 ? measured[n / 2] : (measured[n / 2 - 1] + measured[n / 2]) / 2;
    return String.format(
        Locale.ROOT,
        "median %,12.0f %s (min %,.0f, max %,.0f; %d rounds after 1 warm-up, %,d work orders)",
        median,
        unit,
        measured[0],
        measured[n - 1],
        n,
        workOrders);
  }
}
