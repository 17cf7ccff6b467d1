package dev.workgate.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderEvent.EventType;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.ExpectedVersion;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChangeCommandsTest {
  @TempDir Path dir;
  Path db;
  WorkOrderId pending;
  WorkOrderId waiting;
  WorkOrderId running;
  WorkOrderId completed;
  WorkOrderId failed;
  WorkOrderId cancelled;

  @BeforeEach
  void prepare() {
    db = dir.resolve("workgate.db");
    Instant lease = Instant.now().plus(1, ChronoUnit.HOURS);
    try (WorkOrderStore store = Stores.sqlite(db)) {
      pending = Fixtures.pending(store, "builds", "compile");
      running = Fixtures.running(store, "builds", lease);
      completed = Fixtures.completed(store, "builds", lease);
      cancelled = Fixtures.cancelled(store, "agents");
      waiting = Fixtures.running(store, "builds", lease);
      store.append(
          waiting,
          ExpectedVersion.exactly(3),
          List.of(
              WorkOrderEvent.AttemptFailed.retryAt(
                  ErrorInfo.retryable("UNAVAILABLE", "registry down"),
                  Instant.now().plus(1, ChronoUnit.HOURS),
                  "retry 1 of 3")));
      failed = WorkOrderId.random();
      store.append(
          failed,
          ExpectedVersion.none(),
          List.of(
              WorkOrderEvent.Submitted.of(
                  WorkOrderSpec.builder("agent-run")
                      .queue("agents")
                      .payload(Map.of("repo", "acme/api"))
                      .label("team", "infra")
                      .idempotencyKey("nightly-42")
                      .build()),
              new WorkOrderEvent.Claimed("node-a", lease),
              new WorkOrderEvent.Started("sbx-9"),
              WorkOrderEvent.AttemptFailed.finalFailure(
                  new ErrorInfo("TIMEOUT", "ran past 1h", false), "not retryable")));
    }
  }

  private CliRun cli(String... args) {
    String[] all = Arrays.copyOf(new String[] {"--store", db.toString()}, 2 + args.length);
    System.arraycopy(args, 0, all, 2, args.length);
    return CliRun.run(all);
  }

  private WorkOrderView view(WorkOrderId id) {
    try (WorkOrderStore store = Stores.sqlite(db)) {
      return store.find(id).orElseThrow();
    }
  }

  private List<RecordedEvent> events(WorkOrderId id) {
    try (WorkOrderStore store = Stores.sqlite(db)) {
      return store.readStream(id);
    }
  }

  @Test
  void cancel_of_a_pending_work_order_cancels_it_with_the_reason() {
    CliRun r = cli("cancel", pending.value(), "--reason", "wrong branch");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo(pending + " cancelled (it was PENDING)" + System.lineSeparator());
    List<RecordedEvent> events = events(pending);
    assertThat(events).hasSize(2);
    assertThat(events.get(1).event()).isEqualTo(new WorkOrderEvent.Cancelled("wrong branch"));
    assertThat(view(pending).state()).isEqualTo(WorkOrderState.CANCELLED);
  }

  @Test
  void cancel_of_a_work_order_waiting_for_a_retry_cancels_it_with_the_default_reason() {
    CliRun r = cli("cancel", waiting.value());
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("cancelled (it was WAITING_RETRY)");
    assertThat(events(waiting).get(4).event())
        .isEqualTo(new WorkOrderEvent.Cancelled("cancelled with workgate-admin"));
  }

  @Test
  void cancel_of_a_running_work_order_records_a_request_for_its_owner_once() {
    CliRun r = cli("cancel", running.value(), "--reason", "stop it");
    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .startsWith("cancellation requested: " + running + " is RUNNING; node node-a stops it");
    WorkOrderView v = view(running);
    assertThat(v.state()).isEqualTo(WorkOrderState.RUNNING);
    assertThat(v.cancellationRequested()).contains("stop it");
    assertThat(events(running).get(3).event())
        .isEqualTo(new WorkOrderEvent.CancellationRequested("stop it"));

    CliRun again = cli("cancel", running.value());
    assertThat(again.exit()).isZero();
    assertThat(again.out()).contains("its cancellation was already requested (stop it)");
    assertThat(events(running)).hasSize(4);
  }

  @Test
  void cancel_of_an_ended_work_order_changes_nothing() {
    CliRun r = cli("cancel", completed.value());
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("had already ended (COMPLETED); nothing was changed");
    assertThat(events(completed)).hasSize(4);
  }

  @Test
  void cancel_rejects_unknown_ids_and_bad_reasons() {
    CliRun unknown = cli("cancel", "nope");
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err())
        .isEqualTo("workgate-admin: no work order nope" + System.lineSeparator());
    CliRun blank = cli("cancel", pending.value(), "--reason", " ");
    assertThat(blank.exit()).isEqualTo(2);
    assertThat(blank.err()).contains("--reason must be 1 to 500 characters");
    CliRun tooLong = cli("cancel", pending.value(), "--reason", "x".repeat(501));
    assertThat(tooLong.exit()).isEqualTo(2);
    CliRun missing = cli("cancel");
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(view(pending).state()).isEqualTo(WorkOrderState.PENDING);
  }

  @Test
  void resubmit_submits_the_spec_again_without_its_idempotency_key() {
    CliRun r = cli("resubmit", failed.value());
    assertThat(r.exit()).isZero();
    WorkOrderId fresh = WorkOrderId.of(r.out().strip());
    assertThat(r.err()).contains("resubmitted " + failed + " as " + fresh);
    WorkOrderView v = view(fresh);
    WorkOrderView old = view(failed);
    assertThat(v.state()).isEqualTo(WorkOrderState.PENDING);
    assertThat(v.resubmittedFrom()).contains(failed);
    assertThat(v.queue()).isEqualTo("agents");
    assertThat(v.type()).isEqualTo("agent-run");
    assertThat(v.payload()).isEqualTo(old.payload());
    assertThat(v.labels()).containsEntry("team", "infra");
    assertThat(v.idempotencyKey()).isEmpty();
    assertThat(old.state()).isEqualTo(WorkOrderState.FAILED);
    assertThat(events(fresh))
        .extracting(e -> e.event().type())
        .containsExactly(EventType.SUBMITTED);
  }

  @Test
  void resubmit_refuses_work_orders_that_did_not_fail_or_were_not_cancelled() {
    CliRun r = cli("resubmit", running.value());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err())
        .isEqualTo(
            "workgate-admin: only a FAILED or CANCELLED work order can be resubmitted; "
                + running
                + " is RUNNING"
                + System.lineSeparator());
    assertThat(cli("resubmit", "nope").err()).contains("no work order nope");
    assertThat(cli("resubmit").exit()).isEqualTo(2);
  }

  @Test
  void a_work_order_resubmitted_by_the_cli_runs_on_a_workgate() throws Exception {
    CliRun r = cli("resubmit", cancelled.value());
    assertThat(r.exit()).isZero();
    WorkOrderId fresh = WorkOrderId.of(r.out().strip());
    try (WorkOrderStore store = Stores.sqlite(db);
        Workgate workgate =
            Workgate.builder()
                .store(store)
                .maxConcurrent(1)
                .queues("agents")
                .handler("agent-run", ctx -> WorkResult.ok("ran again"))
                .handler("compile", ctx -> WorkResult.ok())
                .build()) {
      workgate.start();
      WorkOrderView done = workgate.await(fresh, Duration.ofSeconds(30));
      assertThat(done.state()).isEqualTo(WorkOrderState.COMPLETED);
      assertThat(done.result().orElseThrow().asText()).isEqualTo("ran again");
    }
  }
}
