package dev.workgate.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Text;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.observability.WorkOrderTimeline;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code show}: one work order's view, its timeline and its last error; never its payload. */
@Command(
    name = "show",
    mixinStandardHelpOptions = true,
    description =
        "Shows a work order (without its payload), its timeline (each event with the state it"
            + " left and entered, the attempt and the time since the previous event) and its last"
            + " error with the attempt it ended (for a completed work order: the error of an"
            + " earlier attempt).")
final class ShowCommand implements Callable<Integer> {
  /** Results longer than this are cut in text output; --json prints them whole. */
  static final int MAX_RESULT_CHARS = 200;

  @ParentCommand WorkgateAdmin admin;
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "<id>",
      converter = Converters.Id.class,
      description = "The work order.")
  WorkOrderId id;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Override
  public Integer call() {
    Optional<WorkOrderView> found;
    List<RecordedEvent> stream;
    try (WorkOrderStore store = admin.openStore(OpenMode.READ_ONLY)) {
      found = store.find(id);
      stream = found.isPresent() ? store.readStream(id) : List.of();
    }
    WorkOrderView v = found.orElseThrow(() -> new CliException("no work order " + id));
    Optional<WorkOrderTimeline> timeline = WorkOrderTimeline.of(stream);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectNode root = StatusCommand.JSON.createObjectNode();
      ObjectNode view = view(v);
      if (view.get("lastError") instanceof ObjectNode err) {
        err.put("attempt", timeline.map(ShowCommand::lastFailedAttempt).orElse(v.attempt()));
      }
      root.set("workOrder", view);
      timeline.ifPresent(t -> root.set("timeline", timeline(t)));
      out.println(root.toPrettyString());
      return WorkgateAdmin.EXIT_OK;
    }
    field(out, "id", v.id());
    field(out, "queue", v.queue());
    field(out, "type", v.type());
    field(out, "state", v.state());
    field(
        out,
        "attempt",
        v.attempt() + v.maxAttempts().stream().mapToObj(m -> " of " + m).findFirst().orElse(""));
    field(out, "priority", v.priority());
    field(out, "version", v.version());
    field(out, "submitted", Formats.instant(v.submittedAt()));
    field(out, "updated", Formats.instant(v.updatedAt()));
    v.resubmittedFrom().ifPresent(from -> field(out, "resubmitted from", from));
    v.leaseOwner()
        .ifPresent(
            owner ->
                field(
                    out,
                    "lease",
                    owner
                        + v.leaseExpiresAt().map(t -> " until " + Formats.instant(t)).orElse("")));
    v.nextAttemptAt().ifPresent(t -> field(out, "next attempt", Formats.instant(t)));
    v.cancellationRequested().ifPresent(r -> field(out, "cancel requested", r));
    if (!v.labels().isEmpty()) {
      field(out, "labels", v.labels());
    }
    v.result().ifPresent(r -> field(out, "result", cut(r.toString())));
    int errorAttempt = timeline.map(ShowCommand::lastFailedAttempt).orElse(v.attempt());
    if (v.state() == WorkOrderState.COMPLETED) {
      // The view keeps the last error of an earlier attempt; printed as "last error" it would
      // read as the cause of a failure that did not happen.
      v.lastError()
          .ifPresent(
              e ->
                  field(
                      out,
                      "earlier error",
                      error(e)
                          + " (attempt "
                          + errorAttempt
                          + ", before the attempt that completed)"));
    } else {
      field(
          out,
          "last error",
          v.lastError().map(e -> error(e) + " (attempt " + errorAttempt + ")").orElse("none"));
    }
    timeline.ifPresent(
        t -> {
          out.println();
          out.println("timeline (" + Text.duration(t.total()) + " in all)");
          Formats.timelineLines(t).forEach(line -> out.println("  " + line));
        });
    return WorkgateAdmin.EXIT_OK;
  }

  /** The attempt whose failure the view's last error comes from: that of the last AttemptFailed. */
  private static int lastFailedAttempt(WorkOrderTimeline t) {
    int attempt = 0;
    for (WorkOrderTimeline.Step s : t.steps()) {
      if (s.event().event() instanceof WorkOrderEvent.AttemptFailed) {
        attempt = s.attempt();
      }
    }
    return attempt;
  }

  /** A duration as the HTTP endpoint's JSON gives it: seconds as a decimal number. */
  static void seconds(ObjectNode n, String field, Duration d) {
    n.put(field, d.getSeconds() + d.getNano() / 1e9);
  }

  private static void field(PrintWriter out, String name, Object value) {
    out.printf("%-17s %s%n", name, value);
  }

  private static String cut(String s) {
    return s.length() <= MAX_RESULT_CHARS ? s : s.substring(0, MAX_RESULT_CHARS) + "… (--json)";
  }

  private static String error(ErrorInfo e) {
    return e.code() + (e.retryable() ? " (retryable)" : "") + ": " + e.message();
  }

  static ObjectNode view(WorkOrderView v) {
    ObjectNode n = StatusCommand.JSON.createObjectNode();
    n.put("id", v.id().value());
    n.put("queue", v.queue());
    n.put("type", v.type());
    n.put("state", v.state().name());
    n.put("attempt", v.attempt());
    v.maxAttempts().ifPresent(m -> n.put("maxAttempts", m));
    n.put("priority", v.priority());
    n.put("version", v.version());
    n.put("submittedAt", v.submittedAt().toString());
    n.put("updatedAt", v.updatedAt().toString());
    n.put("availableAt", v.availableAt().toString());
    v.spec().timeout().ifPresent(t -> seconds(n, "timeoutSeconds", t));
    v.resubmittedFrom().ifPresent(from -> n.put("resubmittedFrom", from.value()));
    v.leaseOwner().ifPresent(o -> n.put("leaseOwner", o));
    v.leaseExpiresAt().ifPresent(t -> n.put("leaseExpiresAt", t.toString()));
    v.nextAttemptAt().ifPresent(t -> n.put("nextAttemptAt", t.toString()));
    v.cancellationRequested().ifPresent(r -> n.put("cancellationRequested", r));
    if (!v.labels().isEmpty()) {
      ObjectNode labels = n.putObject("labels");
      v.labels().forEach(labels::put);
    }
    v.lastError()
        .ifPresent(
            e -> {
              ObjectNode err = n.putObject("lastError");
              err.put("code", e.code());
              err.put("message", e.message());
              err.put("retryable", e.retryable());
            });
    v.result().ifPresent(r -> n.set("result", r));
    return n;
  }

  private static ObjectNode timeline(WorkOrderTimeline t) {
    ObjectNode n = StatusCommand.JSON.createObjectNode();
    n.put("state", t.state().name());
    seconds(n, "totalSeconds", t.total());
    ArrayNode steps = n.putArray("steps");
    for (WorkOrderTimeline.Step s : t.steps()) {
      ObjectNode step = steps.addObject();
      step.put("version", s.event().version());
      step.put("type", s.type().typeName());
      step.put("recordedAt", s.at().toString());
      step.put("from", s.from().map(Enum::name).orElse(null));
      step.put("to", s.to().name());
      step.put("attempt", s.attempt());
      seconds(step, "sincePreviousSeconds", s.sincePrevious());
      seconds(step, "sinceSubmittedSeconds", s.sinceSubmitted());
      String detail = Formats.detail(s.event().event());
      if (!detail.isEmpty()) {
        step.put("detail", detail);
      }
    }
    return n;
  }
}
