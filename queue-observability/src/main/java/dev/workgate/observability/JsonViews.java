package dev.workgate.observability;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.BatchStatus;
import dev.workgate.NodeView;
import dev.workgate.QueueStats;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.Progress;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.scheduler.SchedulerStats;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The JSON documents the HTTP endpoint serves: views, events, timelines and stats. Built field by
 * field, so what leaves the process is exactly what is listed here: payloads, environment and
 * anything else a work order carries that may be secret are never rendered. Times are ISO-8601
 * strings, durations are seconds as decimal numbers.
 */
final class JsonViews {
  static final ObjectMapper MAPPER = new ObjectMapper();

  /** How many dependencies a list item names. */
  static final int LIST_DEPENDENCIES = 20;

  private JsonViews() {}

  static ObjectNode error(String message) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("error", message);
    return n;
  }

  /**
   * A work order's view, as a list shows it: at most {@value #LIST_DEPENDENCIES} of its
   * dependencies (a fan-in may wait for thousands), with {@code dependencyCount} saying how many it
   * has.
   */
  static ObjectNode view(WorkOrderView v) {
    return view(v, LIST_DEPENDENCIES);
  }

  /**
   * A work order's view.
   *
   * @param maxDependencies how many of its dependencies to name, in order
   */
  static ObjectNode view(WorkOrderView v, int maxDependencies) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("id", v.id().value());
    n.put("queue", v.queue());
    n.put("type", v.type());
    n.put("state", v.state().name());
    n.put("attempt", v.attempt());
    n.put("priority", v.priority());
    n.put("version", v.version());
    time(n, "submittedAt", v.submittedAt());
    time(n, "updatedAt", v.updatedAt());
    time(n, "availableAt", v.availableAt());
    v.nextAttemptAt().ifPresent(t -> time(n, "nextAttemptAt", t));
    v.leaseOwner().ifPresent(o -> n.put("leaseOwner", o));
    v.leaseExpiresAt().ifPresent(t -> time(n, "leaseExpiresAt", t));
    v.lastError().ifPresent(e -> n.set("lastError", error(e)));
    v.cancellationRequested().ifPresent(r -> n.put("cancellationRequested", r));
    v.resubmittedFrom().ifPresent(id -> n.put("resubmittedFrom", id.value()));
    v.batch().ifPresent(b -> n.put("batch", b.value()));
    WorkOrderSpec spec = v.spec();
    List<WorkOrderId> dependencies = v.dependencies();
    ArrayNode deps = n.putArray("dependencies");
    dependencies.stream().limit(maxDependencies).forEach(d -> deps.add(d.value()));
    if (!dependencies.isEmpty()) {
      n.put("dependencyCount", dependencies.size());
      n.put("onDependencyFailure", spec.onDependencyFailure().name());
    }
    v.progress().ifPresent(p -> n.set("progress", progress(p)));
    spec.maxAttempts().ifPresent(a -> n.put("maxAttempts", a));
    spec.timeout().ifPresent(t -> seconds(n, "timeoutSeconds", t));
    spec.resources()
        .ifPresent(
            r -> {
              ObjectNode res = n.putObject("resources");
              res.put("slots", r.slots());
              res.put("memoryMb", r.memoryMb());
            });
    if (!spec.labels().isEmpty()) {
      ObjectNode labels = n.putObject("labels");
      spec.labels().forEach(labels::put);
    }
    // The output may be as sensitive as the input: say whether there is one, never what it is.
    n.put("hasResult", v.result().filter(r -> !r.isNull()).isPresent());
    return n;
  }

  /** How far an attempt got: {@code fraction} (0..1), {@code message}, {@code reportedAt}. */
  static ObjectNode progress(Progress p) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("fraction", p.fraction());
    n.put("message", p.message());
    time(n, "reportedAt", p.reportedAt());
    return n;
  }

  /**
   * A pause or resume of a queue: {@code queue}, {@code kind}, {@code at}, {@code actor}, {@code
   * reason}.
   */
  static ObjectNode queueAction(QueueAction a) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("queue", a.queue());
    n.put("kind", a.kind().name());
    time(n, "at", a.at());
    n.put("actor", a.actor());
    n.put("reason", a.reason());
    return n;
  }

  /**
   * A batch's status: its work orders as it stands, those resubmitted, counts by state (every
   * state), and whether it has ended and completed.
   */
  static ObjectNode batch(BatchStatus b) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("id", b.id().value());
    n.put("workOrders", b.workOrders());
    n.put("resubmitted", b.resubmitted());
    n.put("submitted", b.submitted());
    ObjectNode counts = n.putObject("counts");
    for (WorkOrderState s : WorkOrderState.values()) {
      counts.put(s.name(), b.counts().get(s));
    }
    n.put("ended", b.ended());
    n.put("completed", b.completed());
    return n;
  }

  static ObjectNode error(ErrorInfo e) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("code", e.code());
    n.put("message", e.message());
    n.put("retryable", e.retryable());
    return n;
  }

  /** An event with the facts it carries, except a submission's payload. */
  static ObjectNode event(RecordedEvent e) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("position", e.position());
    n.put("workOrderId", e.workOrderId().value());
    n.put("version", e.version());
    n.put("type", e.event().type().typeName());
    time(n, "recordedAt", e.recordedAt());
    WorkOrderEvent event = e.event();
    if (event instanceof WorkOrderEvent.Submitted s) {
      n.put("queue", s.spec().queue());
      n.put("workType", s.spec().type());
      n.put("priority", s.spec().priority());
      if (s.resubmittedFrom() != null) {
        n.put("resubmittedFrom", s.resubmittedFrom().value());
      }
      if (s.batch() != null) {
        n.put("batch", s.batch().value());
      }
      if (!s.dependencies().isEmpty()) {
        n.put("dependencyCount", s.dependencies().size());
      }
    } else if (event instanceof WorkOrderEvent.Claimed c) {
      n.put("owner", c.owner());
      time(n, "leaseExpiresAt", c.leaseExpiresAt());
    } else if (event instanceof WorkOrderEvent.Started s) {
      n.put("sandboxId", s.sandboxId());
    } else if (event instanceof WorkOrderEvent.Completed c) {
      n.put("hasResult", c.result() != null && !c.result().isNull());
    } else if (event instanceof WorkOrderEvent.AttemptFailed f) {
      n.set("error", error(f.error()));
      if (f.retryAt() != null) {
        time(n, "retryAt", f.retryAt());
      }
      if (f.decision() != null) {
        n.put("decision", f.decision());
      }
    } else if (event instanceof WorkOrderEvent.CancellationRequested c) {
      n.put("reason", c.reason());
    } else if (event instanceof WorkOrderEvent.Cancelled c) {
      n.put("reason", c.reason());
    } else if (event instanceof WorkOrderEvent.DependencyFailed f) {
      n.put("dependency", f.dependency().value());
      n.put("dependencyState", f.dependencyState().name());
    } else if (event instanceof WorkOrderEvent.Checkpointed c) {
      // The checkpoint itself may be as sensitive as a payload: only which attempt recorded it.
      n.put("checkpointAttempt", c.attempt());
    } else if (event instanceof WorkOrderEvent.Released r) {
      n.put("code", r.code());
      n.put("reason", r.reason());
    }
    return n;
  }

  static ObjectNode timeline(WorkOrderTimeline t) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("workOrderId", t.workOrderId().value());
    n.put("state", t.state().name());
    seconds(n, "totalSeconds", t.total());
    ObjectNode in = n.putObject("secondsInState");
    for (WorkOrderState s : WorkOrderState.values()) {
      Duration d = t.timeIn(s);
      if (!d.isZero()) {
        seconds(in, s.name(), d);
      }
    }
    ArrayNode steps = n.putArray("steps");
    for (WorkOrderTimeline.Step s : t.steps()) {
      ObjectNode step = event(s.event());
      step.put("from", s.from().map(Enum::name).orElse(null));
      step.put("to", s.to().name());
      step.put("attempt", s.attempt());
      seconds(step, "sincePreviousSeconds", s.sincePrevious());
      seconds(step, "sinceSubmittedSeconds", s.sinceSubmitted());
      steps.add(step);
    }
    return n;
  }

  /**
   * The stats of a store without a node: the counts by queue and state and their totals, and when
   * they were read. Nothing a node would add (slots, pressure, executions, the scheduler) is
   * rendered, not even as zeros: without a node it is not known.
   */
  static ObjectNode storeStats(QueueCounts counts, Instant now) {
    ObjectNode n = MAPPER.createObjectNode();
    counts(n, counts);
    time(n, "at", now);
    return n;
  }

  /** {@code queues} (sorted by name, every state) and {@code totals}. */
  private static void counts(ObjectNode n, QueueCounts counts) {
    ObjectNode byQueue = n.putObject("queues");
    for (String queue : counts.queues()) {
      ObjectNode states = byQueue.putObject(queue);
      for (WorkOrderState s : WorkOrderState.values()) {
        states.put(s.name(), counts.count(queue, s));
      }
    }
    ObjectNode total = n.putObject("totals");
    for (WorkOrderState s : WorkOrderState.values()) {
      total.put(s.name(), counts.count(s));
    }
  }

  static ObjectNode stats(QueueStats stats, Instant now) {
    ObjectNode n = MAPPER.createObjectNode();
    counts(n, stats.counts());
    n.put("activeSlots", stats.activeSlots());
    n.put("maxSlots", stats.maxSlots());
    n.put("pressure", stats.pressure().name());
    ArrayNode executions = n.putArray("executions");
    for (NodeView.ActiveExecution e : stats.executions()) {
      ObjectNode x = executions.addObject();
      x.put("workOrderId", e.workOrderId().value());
      x.put("attempt", e.attempt());
      x.put("queue", e.queue());
      x.put("status", e.status().name());
      e.sandboxId().ifPresent(id -> x.put("sandboxId", id));
      x.put("slots", e.slotsHeld());
      x.put("memoryMb", e.memoryMbHeld());
      time(x, "claimedAt", e.claimedAt());
      e.startedAt().ifPresent(t -> time(x, "startedAt", t));
      seconds(x, "timeoutSeconds", e.timeout());
    }
    SchedulerStats s = stats.scheduler();
    ObjectNode sch = n.putObject("scheduler");
    sch.put("nodeId", s.nodeId());
    sch.put("running", s.running());
    ObjectNode depth = sch.putObject("queueDepth");
    s.queueDepth().forEach(depth::put);
    sch.put("activeWork", s.activeWork());
    optionalTime(sch, "lastClaimAt", s.lastClaimAt());
    optionalTime(sch, "lastHeartbeat", s.lastHeartbeat());
    seconds(sch, "heartbeatAgeSeconds", s.heartbeatAge());
    sch.put("turns", s.turns());
    sch.put("claimed", s.claimed());
    sch.put("reaped", s.reaped());
    time(n, "at", now);
    return n;
  }

  static void time(ObjectNode n, String field, Instant t) {
    n.put(field, t.toString());
  }

  private static void optionalTime(ObjectNode n, String field, Optional<Instant> t) {
    t.ifPresent(v -> time(n, field, v));
  }

  static void seconds(ObjectNode n, String field, Duration d) {
    n.put(field, d.getSeconds() + d.getNano() / 1e9);
  }
}
