package dev.workgate.retry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.core.ErrorInfo;
import dev.workgate.core.ErrorInfo.ErrorCodes;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.core.testing.MutableClock;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.retry.internal.RetryDecision;
import dev.workgate.retry.internal.RetryManager;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Drives one work order through failures until it ends, with random policies, spec overrides and
 * errors: attempts never exceed the maximum, the end comes for the reason recorded, and no retry is
 * released before its time or later than the policy's cap allows.
 */
class RetryManagerProperties {

  @Property(tries = 300)
  void attempts_never_exceed_the_maximum_and_the_recorded_reason_is_why_it_ended(
      @ForAll("policies") RetryPolicy policy,
      @ForAll @IntRange(min = 0, max = 8) int specMaxAttempts,
      @ForAll @Size(min = 1, max = 12) List<@net.jqwik.api.From("errors") ErrorInfo> errors,
      @ForAll long seed) {
    MutableClock clock = MutableClock.create();
    try (WorkOrderStore store = Stores.inMemory(clock)) {
      RetryManager retries =
          RetryManager.builder(store)
              .defaultPolicy(policy)
              .clock(clock)
              .random(new SplittableRandom(seed))
              .build();
      RetryManagerTestKit kit = new RetryManagerTestKit(store, clock);
      WorkOrderSpec.Builder spec = kit.spec("default");
      if (specMaxAttempts > 0) {
        spec.maxAttempts(specMaxAttempts);
      }
      WorkOrderId id = kit.submit(spec.build());
      int max = specMaxAttempts > 0 ? specMaxAttempts : policy.maxAttempts();

      RetryDecision last = null;
      for (int i = 0; kit.view(id).state() != WorkOrderState.FAILED; i++) {
        ErrorInfo error = errors.get(i % errors.size());
        WorkOrderView claimed = kit.claim(id);
        WorkOrderView failing = i % 2 == 0 ? kit.start(claimed) : claimed;
        last = retries.recordFailure(failing, error);
        assertThat(last.attempt()).isEqualTo(i + 1).isLessThanOrEqualTo(max);
        assertThat(last.maxAttempts()).isEqualTo(max);
        if (last.willRetry()) {
          Instant due = last.retryAt().orElseThrow();
          assertThat(due)
              .isAfterOrEqualTo(last.decidedAt().minusNanos(999))
              .isBeforeOrEqualTo(last.decidedAt().plus(policy.maxDelay()));
          assertThat(retries.releaseDue(due.minusNanos(1_000), 10)).isZero();
          clock.set(due);
          assertThat(retries.releaseDue(due, 10)).isEqualTo(1);
        }
      }

      WorkOrderView failed = kit.view(id);
      assertThat(failed.attempt()).isLessThanOrEqualTo(max).isEqualTo(last.attempt());
      assertThat(kit.count(id, EventType.CLAIMED)).isEqualTo(failed.attempt());
      assertThat(kit.count(id, EventType.RETRY_RELEASED)).isEqualTo(failed.attempt() - 1);
      ErrorInfo lastError = errors.get((failed.attempt() - 1) % errors.size());
      boolean retryable = policy.retries(lastError.code(), lastError.retryable());
      if (retryable) {
        assertThat(failed.attempt()).isEqualTo(max);
        assertThat(last.reason()).isEqualTo("attempts exhausted: " + max + " of " + max);
      } else {
        assertThat(last.reason()).isEqualTo("not retryable: " + lastError.code());
      }
      assertThat(kit.lastFailure(id).decision()).isEqualTo(last.reason());
    }
  }

  @Provide
  Arbitrary<RetryPolicy> policies() {
    Arbitrary<Jitter> jitters =
        Arbitraries.oneOf(
            Arbitraries.just(Jitter.none()),
            Arbitraries.doubles().between(0, 1).map(Jitter::proportional),
            Arbitraries.just(Jitter.full()),
            Arbitraries.just(Jitter.equal()),
            Arbitraries.just(Jitter.decorrelated()));
    return Combinators.combine(
            Arbitraries.integers().between(1, 8),
            Arbitraries.longs().between(1, 60_000),
            Arbitraries.doubles().between(1, 10),
            Arbitraries.longs().between(0, 600_000),
            jitters,
            Arbitraries.of("", "QUOTA", "FLAKY"))
        .as(
            (attempts, baseMillis, multiplier, extraMillis, jitter, neverCode) -> {
              RetryPolicy.Builder b =
                  RetryPolicy.builder()
                      .maxAttempts(attempts)
                      .baseDelay(Duration.ofMillis(baseMillis))
                      .multiplier(multiplier)
                      .maxDelay(Duration.ofMillis(baseMillis + extraMillis))
                      .jitter(jitter);
              if (!neverCode.isEmpty()) {
                b.neverRetryOn(neverCode);
              }
              return b.build();
            });
  }

  @Provide
  Arbitrary<ErrorInfo> errors() {
    return Arbitraries.oneOf(
        Arbitraries.of(
                ErrorCodes.TIMEOUT,
                ErrorCodes.OOM_KILLED,
                ErrorCodes.NETWORK_ERROR,
                ErrorCodes.SANDBOX_CREATION_FAILED,
                ErrorCodes.LEASE_EXPIRED)
            .map(code -> ErrorInfo.retryable(code, "transient")),
        Arbitraries.of(ErrorCodes.AGENT_FATAL_ERROR, ErrorCodes.INVALID_WORK_ORDER)
            .map(code -> ErrorInfo.fatal(code, "final")),
        Combinators.combine(Arbitraries.of("QUOTA", "FLAKY"), Arbitraries.of(true, false))
            .as((code, retryable) -> new ErrorInfo(code, "host code", retryable)));
  }
}
