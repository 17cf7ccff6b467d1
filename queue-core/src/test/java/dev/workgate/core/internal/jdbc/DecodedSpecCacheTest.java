package dev.workgate.core.internal.jdbc;

import static dev.workgate.core.testing.WorkOrderFixtures.newId;
import static dev.workgate.core.testing.WorkOrderFixtures.spec;
import static dev.workgate.core.testing.WorkOrderFixtures.submitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.PostgresOptions;
import dev.workgate.core.store.SqliteOptions;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import dev.workgate.spi.ExpectedVersion;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decoded-spec cache of the JDBC stores is bounded by estimated bytes, not by count. */
class DecodedSpecCacheTest {
  private static final WorkOrderEvent EVENT = submitted("q");

  @TempDir Path dir;

  @Test
  void large_entries_keep_the_estimate_under_the_budget_evicting_the_least_recently_used() {
    long budget = 1024 * 1024;
    DecodedSpecCache cache = new DecodedSpecCache(budget);
    int chars = 100_000; // a 100 KB payload: 400,512 estimated bytes

    for (long position = 1; position <= 50; position++) {
      cache.put(position, EVENT, chars);
      assertThat(cache.bytes()).isLessThanOrEqualTo(budget);
    }

    assertThat(cache.size()).isEqualTo(2);
    assertThat(cache.bytes()).isEqualTo(2 * DecodedSpecCache.estimate(chars));
    assertThat(cache.evictions()).isEqualTo(48);
    assertThat(cache.get(50)).isSameAs(EVENT);
    assertThat(cache.get(49)).isSameAs(EVENT);
    assertThat(cache.get(1)).isNull();
  }

  @Test
  void a_recently_read_entry_outlives_one_written_after_it() {
    DecodedSpecCache cache = new DecodedSpecCache(3 * DecodedSpecCache.estimate(1_000));
    cache.put(1, EVENT, 1_000);
    cache.put(2, EVENT, 1_000);
    cache.put(3, EVENT, 1_000);

    assertThat(cache.get(1)).isSameAs(EVENT);
    cache.put(4, EVENT, 1_000);

    assertThat(cache.get(1)).isSameAs(EVENT);
    assertThat(cache.get(2)).isNull();
    assertThat(cache.get(3)).isSameAs(EVENT);
  }

  @Test
  void an_entry_larger_than_the_budget_and_a_zero_budget_cache_nothing() {
    DecodedSpecCache small = new DecodedSpecCache(DecodedSpecCache.estimate(10));
    small.put(1, EVENT, 10);
    small.put(2, EVENT, 11);

    assertThat(small.get(1)).isSameAs(EVENT);
    assertThat(small.get(2)).isNull();

    DecodedSpecCache none = new DecodedSpecCache(0);
    none.put(1, EVENT, 0);
    assertThat(none.size()).isZero();
    assertThat(none.bytes()).isZero();
  }

  @Test
  void the_budget_setting_rejects_what_is_out_of_range_naming_it() {
    assertThat(SqliteOptions.defaults().specCacheBytes())
        .isEqualTo(SqliteOptions.DEFAULT_SPEC_CACHE_BYTES)
        .isEqualTo(32L * 1024 * 1024);
    assertThat(PostgresOptions.defaults().specCacheBytes()).isEqualTo(32L * 1024 * 1024);
    assertThatThrownBy(() -> SqliteOptions.builder().specCacheBytes(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("specCacheBytes")
        .hasMessageContaining("-1");
    assertThatThrownBy(() -> PostgresOptions.builder().specCacheBytes((1L << 40) + 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("specCacheBytes");
  }

  @Test
  void reading_work_orders_with_100_kb_payloads_stays_within_the_store_budget() {
    long budget = 4L * 1024 * 1024;
    String big = "x".repeat(100_000);
    try (WorkOrderStore store =
        Stores.sqlite(
            dir.resolve("workgate.db"), SqliteOptions.builder().specCacheBytes(budget).build())) {
      List<WorkOrderId> ids = new ArrayList<>();
      List<AppendRequest> batch = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        WorkOrderId id = newId();
        ids.add(id);
        batch.add(
            AppendRequest.of(
                id,
                ExpectedVersion.none(),
                WorkOrderEvent.Submitted.of(
                    spec("q").payload(Map.of("blob", big, "i", i)).build())));
      }
      store.appendAll(batch);
      DecodedSpecCache cache = ((JdbcWorkOrderStore) store).specCache();

      for (int round = 0; round < 2; round++) {
        for (int i = 0; i < ids.size(); i++) {
          WorkOrderView view = store.find(ids.get(i)).orElseThrow();
          assertThat(view.payload().path("i").asInt()).isEqualTo(i);
          assertThat(cache.bytes()).isLessThanOrEqualTo(budget);
        }
      }

      assertThat(cache.size()).isBetween(1, (int) (budget / DecodedSpecCache.estimate(100_000)));
      assertThat(cache.evictions()).isPositive();
    }
  }
}
