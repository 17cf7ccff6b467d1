package dev.workgate.test.docs;

// The example of docs/testing.md, verbatim between the markers (DocsTestingExampleTest checks it).
// spotless:off
import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.retry.RetryPolicy.Jitter;
import dev.workgate.retry.RetryPolicy;
import dev.workgate.test.ManualWorkgate;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class InvoiceHandlerTest {
  AtomicInteger calls = new AtomicInteger();
  ManualWorkgate node;

  ManualWorkgate node() {
    node = ManualWorkgate.of(Workgate.builder()
        .retryPolicy(RetryPolicy.builder().maxAttempts(2)
            .baseDelay(Duration.ofSeconds(30)).jitter(Jitter.none()).build())
        .handler("invoice", ctx -> {
          if (calls.incrementAndGet() == 1 && ctx.payload(String.class).equals("flaky")) {
            return WorkResult.retryableFailure("UPSTREAM_DOWN", "try again");
          }
          if (ctx.payload(String.class).equals("slow")) {
            node.advance(Duration.ofMinutes(2)); // "takes" two minutes
          }
          return WorkResult.ok("sent " + ctx.payload(String.class));
        }));
    return node;
  }

  @Test
  void sends_the_invoice() {
    try (ManualWorkgate node = node()) {
      WorkOrderId id = node.submit(WorkOrderSpec.builder("invoice").payload("acme").build());
      assertThat(node.runDue()).isEqualTo(1);
      assertThat(node.find(id).orElseThrow().result().orElseThrow().asText())
          .isEqualTo("sent acme");
    }
  }

  @Test
  void retries_after_the_backoff() {
    try (ManualWorkgate node = node()) {
      WorkOrderId id = node.submit(WorkOrderSpec.builder("invoice").payload("flaky").build());
      assertThat(node.runDue()).isEqualTo(1);                  // fails once
      node.advance(Duration.ofSeconds(29));
      assertThat(node.runDue()).isZero();                       // still backing off
      node.advance(Duration.ofSeconds(1));
      assertThat(node.runDue()).isEqualTo(1);                   // the retry
      assertThat(node.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.COMPLETED);
    }
  }

  @Test
  void a_slow_invoice_times_out_and_fails_after_its_last_attempt() {
    try (ManualWorkgate node = node()) {
      WorkOrderId id = node.submit(WorkOrderSpec.builder("invoice").payload("slow")
          .timeout(Duration.ofMinutes(1)).build());
      assertThat(node.runDue()).isEqualTo(1);
      assertThat(node.find(id).orElseThrow().lastError().orElseThrow().code())
          .isEqualTo("TIMEOUT");
      node.advance(Duration.ofSeconds(30));
      assertThat(node.runDue()).isEqualTo(1);                   // times out again
      assertThat(node.find(id).orElseThrow().state()).isEqualTo(WorkOrderState.FAILED);
    }
  }
}
// spotless:on
