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
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.observability.WorkOrderTimeline;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code show}: one work order's view, its progress, checkpoint, batch, dependencies and
 * dependents, its timeline and its last error; never its payload nor its checkpoint's content.
 */
@Command(
    name = "show",
    mixinStandardHelpOptions = true,
    description =
        "Shows a work order (without its payload), the progress it last reported, whether it has"
            + " a checkpoint (and its size, never its content), its batch, the work orders it"
            + " waits for and those that wait for it with their states, its timeline (each event"
            + " with the state it left and entered, the attempt and the time since the previous"
            + " event) and its last error with the attempt it ended (for a completed work order:"
            + " the error of an earlier attempt).")
final class ShowCommand implements Callable<Integer> {
  /** Results longer than this are cut in text output; --json prints them whole. */
  static final int MAX_RESULT_CHARS = 200;

  /**
   * The most dependencies, and dependents, listed with their states: each is one read of the store,
   * and a work order that waits for a large batch waits for thousands.
   */
  static final int MAX_LISTED = 50;

  /** A related work order and its state; empty when the store no longer holds it (purged). */
  record Related(WorkOrderId id, Optional<WorkOrderState> state) {}

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
    List<Related> dependencies = new ArrayList<>();
    List<WorkOrderId> dependentIds = List.of();
    List<Related> dependents = new ArrayList<>();
    Optional<QueueAction> queuePause = Optional.empty();
    try (WorkOrderStore store = admin.openStore(OpenMode.READ_ONLY)) {
      found = store.find(id);
      stream = found.isPresent() ? store.readStream(id) : List.of();
      if (found.isPresent()) {
        for (WorkOrderId d : limited(found.get().dependencies())) {
          dependencies.add(new Related(d, store.find(d).map(WorkOrderView::state)));
        }
        dependentIds = store.dependents(id);
        for (WorkOrderId d : limited(dependentIds)) {
          dependents.add(new Related(d, store.find(d).map(WorkOrderView::state)));
        }
        String queue = found.get().queue();
        queuePause = store.pausedQueues().stream().filter(p -> p.queue().equals(queue)).findFirst();
      }
    }
    WorkOrderView v = found.orElseThrow(() -> new CliException("no work order " + id));
    Optional<WorkOrderTimeline> timeline = WorkOrderTimeline.of(stream);
    OptionalInt checkpointAttempt = lastCheckpointAttempt(stream);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectNode root = StatusCommand.JSON.createObjectNode();
      ObjectNode view = view(v);
      if (view.get("lastError") instanceof ObjectNode err) {
        err.put("attempt", timeline.map(ShowCommand::lastFailedAttempt).orElse(v.attempt()));
      }
      if (view.get("checkpoint") instanceof ObjectNode cp) {
        checkpointAttempt.ifPresent(a -> cp.put("attempt", a));
      }
      root.set("workOrder", view);
      if (queuePause.isPresent()) {
        QueueAction p = queuePause.get();
        root.putObject("queuePaused")
            .put("at", p.at().toString())
            .put("by", p.actor())
            .put("reason", p.reason());
      } else {
        root.putNull("queuePaused");
      }
      root.set("dependencies", related(dependencies, v.dependencies().size()));
      root.set("dependents", related(dependents, dependentIds.size()));
      timeline.ifPresent(t -> root.set("timeline", timeline(t)));
      out.println(root.toPrettyString());
      return WorkgateAdmin.EXIT_OK;
    }
    field(out, "id", v.id());
    field(
        out,
        "queue",
        v.queue()
            + queuePause.map(p -> " (paused " + QueueActionCommands.describe(p) + ")").orElse(""));
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
    v.batch().ifPresent(b -> field(out, "batch", b));
    v.progress()
        .ifPresent(
            p ->
                field(
                    out,
                    "progress",
                    Formats.percent(p.fraction())
                        + " (reported "
                        + Formats.instant(p.reportedAt())
                        + ")"
                        + (p.message().isEmpty() ? "" : ": " + Formats.oneLine(p.message()))));
    field(
        out,
        "checkpoint",
        v.checkpoint()
            .map(
                c ->
                    Formats.bytes(Formats.checkpointBytes(c))
                        + checkpointAttempt.stream()
                            .mapToObj(a -> " (recorded by attempt " + a + ")")
                            .findFirst()
                            .orElse(""))
            .orElse("none"));
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
          v.lastError()
              .map(
                  e ->
                      error(e)
                          // A work order cancelled before it ran (a dependency failed) has no
                          // attempt the error ended.
                          + (errorAttempt == 0 ? "" : " (attempt " + errorAttempt + ")"))
              .orElse("none"));
    }
    if (!v.dependencies().isEmpty()) {
      field(
          out,
          "dependencies",
          "waits for "
              + Formats.plural(v.dependencies().size(), "work order")
              + " (on failure: "
              + v.spec().onDependencyFailure()
              + ")");
      relatedLines(dependencies, v.dependencies().size()).forEach(out::println);
    }
    if (!dependentIds.isEmpty()) {
      field(
          out,
          "dependents",
          Formats.plural(dependentIds.size(), "work order")
              + (dependentIds.size() == 1 ? " waits" : " wait")
              + " (or waited) for it");
      relatedLines(dependents, dependentIds.size()).forEach(out::println);
    }
    timeline.ifPresent(
        t -> {
          out.println();
          out.println("timeline (" + Text.duration(t.total()) + " in all)");
          Formats.timelineLines(t).forEach(line -> out.println("  " + line));
        });
    return WorkgateAdmin.EXIT_OK;
  }

  /** The first {@link #MAX_LISTED} of some ids. */
  private static List<WorkOrderId> limited(List<WorkOrderId> ids) {
    return ids.size() <= MAX_LISTED ? ids : ids.subList(0, MAX_LISTED);
  }

  /** The attempt that recorded the last checkpoint, if any. */
  private static OptionalInt lastCheckpointAttempt(List<RecordedEvent> stream) {
    OptionalInt attempt = OptionalInt.empty();
    for (RecordedEvent e : stream) {
      if (e.event() instanceof WorkOrderEvent.Checkpointed c) {
        attempt = OptionalInt.of(c.attempt());
      }
    }
    return attempt;
  }

  /** Related work orders as indented lines, id and state, with how many more there are. */
  private static List<String> relatedLines(List<Related> listed, int total) {
    Formats.Table table = new Formats.Table(new boolean[] {false, false}, "ID", "STATE");
    for (Related r : listed) {
      table.add(r.id(), r.state().map(Enum::name).orElse("(no longer in the store)"));
    }
    List<String> lines = new ArrayList<>();
    table.lines().stream().skip(1).forEach(l -> lines.add("  " + l));
    if (total > listed.size()) {
      lines.add("  … and " + (total - listed.size()) + " more");
    }
    return lines;
  }

  private static ObjectNode related(List<Related> listed, int total) {
    ObjectNode n = StatusCommand.JSON.createObjectNode();
    n.put("total", total);
    ArrayNode items = n.putArray("listed");
    for (Related r : listed) {
      ObjectNode item = items.addObject();
      item.put("id", r.id().value());
      item.put("state", r.state().map(Enum::name).orElse(null));
    }
    return n;
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
    v.batch().ifPresent(b -> n.put("batch", b.value()));
    if (!v.dependencies().isEmpty()) {
      n.put("onDependencyFailure", v.spec().onDependencyFailure().name());
    }
    v.progress()
        .ifPresent(
            p -> {
              ObjectNode progress = n.putObject("progress");
              progress.put("fraction", p.fraction());
              progress.put("message", p.message());
              progress.put("reportedAt", p.reportedAt().toString());
            });
    v.checkpoint()
        .ifPresent(c -> n.putObject("checkpoint").put("bytes", Formats.checkpointBytes(c)));
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
