package dev.workgate.observability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.BatchStatus;
import dev.workgate.WorkgateClient;
import dev.workgate.WorkgateClient.Submission;
import dev.workgate.core.BatchId;
import dev.workgate.core.DependencyFailure;
import dev.workgate.core.QueueFullException;
import dev.workgate.core.ResourceRequest;
import dev.workgate.core.WorkDoesNotFitException;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Text;
import dev.workgate.core.store.EndedCount;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.StoreView.NodeStatus;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderQuery.CountBy;
import dev.workgate.core.store.WorkOrderQuery.Page;
import dev.workgate.observability.Routes.BadParameter;
import dev.workgate.observability.WorkgateHttpServer.Response;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The work-order routes an operator and the console use beyond reading one work order: list and
 * search, counts, failures by error code, throughput, nodes, the overview, submit (one, several, or
 * a batch), resubmit, bulk resubmit and cancel over a filter, a batch's status, and the queues with
 * their pauses. {@link Routes} checks the method, the token and the Host before calling here;
 * everything a client can get wrong in the parameters or the body is a 4xx naming it, and a refused
 * request changes nothing.
 *
 * <p>Payloads, results and checkpoints are never in a list, a count or a bulk answer; {@link
 * #workOrder} adds them only when asked for by name, and only for a caller that gave the token.
 *
 * <p>Thread-safe: between requests it keeps only the overview's last health report, in an atomic
 * reference (two requests at once may each make one; the later one is kept).
 */
final class ApiRoutes {
  /** The page size of a list when none is given. */
  static final int DEFAULT_PAGE = 50;

  /** The largest page of a list. */
  static final int MAX_PAGE = 500;

  /** The most work orders one batch submit may hold. */
  static final int MAX_BATCH = 1000;

  /** The most work orders one bulk action changes; the answer says if more matched. */
  static final int MAX_BULK = 1000;

  /** The longest body of one submit (its payload included). */
  static final int MAX_SUBMIT_BYTES = 256 * 1024;

  /** The longest body of a bulk action (a filter and a reason). */
  static final int MAX_BULK_BYTES = 8 * 1024;

  /**
   * How recent a node's heartbeat must be for {@code live}: two of the default 30 s leases, so a
   * node that renews on time is never shown as gone.
   */
  static final Duration NODE_LIVE_FOR = Duration.ofSeconds(60);

  /** The longest timeout a submit over HTTP may ask for: a year. */
  static final double MAX_TIMEOUT_SECONDS = 366.0 * 24 * 3600;

  /** How many queues, those with the most pending work first, the overview reads for its wait. */
  static final int OLDEST_QUEUES_READ = 20;

  /**
   * How long the overview shows the same health report. A report pings the store and reads its
   * counts, which the overview has just read for its own table; polled every 2 s by each open
   * console, it would double the overview's cost on the store for a summary that seconds do not
   * change. {@code /health/ready} and {@code /health/live} are never reused.
   */
  static final Duration HEALTH_REUSE = Duration.ofSeconds(10);

  /** How many later resubmissions a work order's view lists. */
  private static final int RESUBMISSIONS_SHOWN = 20;

  /** How many of the work orders that wait for one a work order's view names. */
  static final int DEPENDENTS_SHOWN = 1000;

  /**
   * How many of its dependencies, and of its dependents, a work order's view gives the state of (in
   * {@code relatedStates}): one store read each, on every poll of an open page.
   */
  static final int RELATED_STATES_SHOWN = 25;

  /** The most pauses and resumes one read of a queue's log returns. */
  static final int MAX_QUEUE_ACTIONS = 500;

  /** The most queue actions a read returns when no limit is given. */
  static final int DEFAULT_QUEUE_ACTIONS = 50;

  private static final Set<String> LIST_PARAMETERS = with("order", "limit", "cursor");
  private static final Set<String> SUBMIT_FIELDS =
      Set.of(
          "type",
          "queue",
          "payload",
          "priority",
          "idempotencyKey",
          "labels",
          "maxAttempts",
          "timeoutSeconds",
          "notBefore",
          "resources",
          "after",
          "afterBatches",
          "onDependencyFailure");
  private static final Set<WorkOrderState> RESUBMITTABLE =
      EnumSet.of(WorkOrderState.FAILED, WorkOrderState.CANCELLED);
  private static final Set<WorkOrderState> CANCELLABLE =
      EnumSet.of(
          WorkOrderState.BLOCKED,
          WorkOrderState.PENDING,
          WorkOrderState.WAITING_RETRY,
          WorkOrderState.PREPARING,
          WorkOrderState.RUNNING);

  private final Backend backend;
  private final Clock clock;
  private final WorkgateHealth health;
  private final AtomicReference<HealthReading> lastHealth = new AtomicReference<>();

  /** A health report as JSON and when it was made, by the endpoint's clock. */
  private record HealthReading(Instant at, JsonNode json) {}

  ApiRoutes(Backend backend, Clock clock, WorkgateHealth health) {
    this.backend = backend;
    this.clock = clock;
    this.health = health;
  }

  private static Set<String> with(String... more) {
    HashSet<String> s = new HashSet<>(WorkOrderFilter.PARAMETERS);
    s.addAll(List.of(more));
    return Set.copyOf(s);
  }

  // ---- reads --------------------------------------------------------------------------------

  /** {@code GET /api/work-orders}: a filtered page, newest first unless asked otherwise. */
  Response list(Map<String, List<String>> query) throws BadParameter {
    known(query, LIST_PARAMETERS);
    WorkOrderQuery.Builder q = WorkOrderFilter.fromQuery(query).query();
    String order = once(query, "order");
    if (order == null || order.equals("newest")) {
      q.order(WorkOrderQuery.Order.NEWEST_FIRST);
    } else if (order.equals("oldest")) {
      q.order(WorkOrderQuery.Order.OLDEST_FIRST);
    } else {
      throw new BadParameter("order", "order must be 'newest' or 'oldest'");
    }
    q.limit(wholeNumber(query, "limit", 1, MAX_PAGE, DEFAULT_PAGE));
    String cursor = once(query, "cursor");
    if (cursor != null) {
      long c;
      try {
        c = Long.parseLong(cursor);
      } catch (NumberFormatException e) {
        c = -1;
      }
      if (c < 1) {
        throw new BadParameter("cursor", "cursor must be a nextCursor this route returned");
      }
      q.after(c);
    }
    Page<WorkOrderView> page = backend.store().query(q.build());
    ObjectNode n = JsonViews.MAPPER.createObjectNode();
    ArrayNode items = n.putArray("items");
    page.items().forEach(v -> items.add(JsonViews.view(v)));
    page.nextCursor().ifPresent(c -> n.put("nextCursor", Long.toString(c)));
    return Response.json(200, n);
  }

  /** {@code GET /api/work-orders/counts}: counts by state for a filter. */
  Response counts(Map<String, List<String>> query) throws BadParameter {
    known(query, WorkOrderFilter.PARAMETERS);
    SortedMap<String, Long> counts =
        backend.store().count(WorkOrderFilter.fromQuery(query).query().build(), CountBy.STATE);
    ObjectNode n = JsonViews.MAPPER.createObjectNode();
    ObjectNode byState = n.putObject("counts");
    long total = 0;
    for (WorkOrderState s : WorkOrderState.values()) {
      long c = counts.getOrDefault(s.name(), 0L);
      byState.put(s.name(), c);
      total += c;
    }
    n.put("total", total);
    return Response.json(200, n);
  }

  /** {@code GET /api/failures}: FAILED work orders grouped by their last error's code. */
  Response failures(Map<String, List<String>> query) throws BadParameter {
    known(query, Set.of("queue", "type", "label", "from", "to"));
    WorkOrderFilter filter =
        WorkOrderFilter.fromQuery(query).withStates(EnumSet.of(WorkOrderState.FAILED));
    SortedMap<String, Long> groups =
        backend.store().count(filter.query().build(), CountBy.ERROR_CODE);
    List<Map.Entry<String, Long>> sorted = new ArrayList<>(groups.entrySet());
    sorted.sort(
        Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder())
            .thenComparing(Map.Entry.comparingByKey()));
    ObjectNode n = JsonViews.MAPPER.createObjectNode();
    ArrayNode out = n.putArray("groups");
    for (Map.Entry<String, Long> g : sorted) {
      ObjectNode o = out.addObject();
      o.put("errorCode", g.getKey());
      o.put("count", g.getValue());
    }
    return Response.json(200, n);
  }

  /** {@code GET /api/throughput?minutes=}: work orders that ended per minute. */
  Response throughput(Map<String, List<String>> query) throws BadParameter {
    known(query, Set.of("minutes"));
    int minutes = wholeNumber(query, "minutes", 1, 1440, 60);
    return Response.json(200, throughput(clock.instant(), minutes));
  }

  private ObjectNode throughput(Instant now, int minutes) {
    Instant to = now.truncatedTo(ChronoUnit.MINUTES).plus(Duration.ofMinutes(1));
    Instant from = to.minus(Duration.ofMinutes(minutes));
    List<EndedCount> buckets = backend.store().endedPerInterval(from, to, Duration.ofMinutes(1));
    ObjectNode n = JsonViews.MAPPER.createObjectNode();
    JsonViews.time(n, "from", from);
    JsonViews.time(n, "to", to);
    n.put("bucketSeconds", 60);
    ArrayNode out = n.putArray("buckets");
    for (EndedCount b : buckets) {
      ObjectNode o = out.addObject();
      JsonViews.time(o, "start", b.start());
      o.put("completed", b.completed());
      o.put("failed", b.failed());
      o.put("cancelled", b.cancelled());
    }
    return n;
  }

  /** {@code GET /api/nodes}: the node table. */
  Response nodes(Map<String, List<String>> query) throws BadParameter {
    known(query, Set.of());
    ObjectNode n = JsonViews.MAPPER.createObjectNode();
    n.set("nodes", nodes(clock.instant()));
    return Response.json(200, n);
  }

  private ArrayNode nodes(Instant now) {
    ArrayNode out = JsonViews.MAPPER.createArrayNode();
    List<NodeStatus> rows = new ArrayList<>(backend.store().nodes());
    rows.sort(Comparator.comparing(NodeStatus::id));
    for (NodeStatus s : rows) {
      ObjectNode o = out.addObject();
      o.put("id", s.id());
      o.put("slots", s.slots());
      o.put("slotsInUse", s.slotsInUse());
      o.put("memoryMb", s.memoryMb());
      o.put("memoryMbInUse", s.memoryMbInUse());
      o.put("pressure", s.pressure());
      o.put("version", s.version());
      JsonViews.time(o, "startedAt", s.startedAt());
      JsonViews.time(o, "lastHeartbeat", s.lastHeartbeat());
      Duration age = Duration.between(s.lastHeartbeat(), now);
      JsonViews.seconds(o, "heartbeatAgeSeconds", age.isNegative() ? Duration.ZERO : age);
      o.put("live", s.isLive(now, NODE_LIVE_FOR));
    }
    return out;
  }

  /**
   * {@code GET /api/overview}: what the console's first page shows, in one request: counts by queue
   * and state, the paused queues, the oldest pending work order and its wait, the last hour's
   * throughput, the nodes and the health report.
   */
  Response overview(Map<String, List<String>> query) throws BadParameter {
    known(query, Set.of());
    Instant now = clock.instant();
    ObjectNode n = JsonViews.MAPPER.createObjectNode();
    ObjectNode stats = backend.stats(now);
    ObjectNode counts = n.putObject("counts");
    counts.set("queues", stats.get("queues"));
    counts.set("totals", stats.get("totals"));
    if (stats.has("activeSlots")) {
      n.put("activeSlots", stats.get("activeSlots").asInt());
      n.put("maxSlots", stats.get("maxSlots").asInt());
      n.put("pressure", stats.get("pressure").asText());
    }
    oldestWaiting(stats.get("queues"), now)
        .ifPresent(
            v -> {
              ObjectNode o = n.putObject("oldestPending");
              o.put("id", v.id().value());
              o.put("queue", v.queue());
              o.put("type", v.type());
              JsonViews.time(o, "submittedAt", v.submittedAt());
              JsonViews.time(o, "availableAt", v.availableAt());
              JsonViews.seconds(o, "waitSeconds", Duration.between(v.availableAt(), now));
            });
    ArrayNode paused = n.putArray("pausedQueues");
    for (QueueAction pause : backend.client().pausedQueues()) {
      ObjectNode o = paused.addObject();
      o.put("queue", pause.queue());
      pause(o, pause);
    }
    n.set("throughput", throughput(now, 60));
    n.set("nodes", nodes(now));
    n.set("health", health(now));
    JsonViews.time(n, "at", now);
    return Response.json(200, n);
  }

  /**
   * The health report, made again once the last is {@link #HEALTH_REUSE} old (or from the future).
   */
  private JsonNode health(Instant now) {
    HealthReading last = lastHealth.get();
    if (last == null || now.isBefore(last.at()) || !now.isBefore(last.at().plus(HEALTH_REUSE))) {
      last = new HealthReading(now, HealthJson.toJson(health.check()));
      lastHealth.set(last);
    }
    return last.json();
  }

  /**
   * The PENDING work order that has waited longest since it could first be claimed: among the
   * {@value StoreReadings#OLDEST_PENDING_SAMPLE} oldest-submitted pending work orders of each of
   * the {@value #OLDEST_QUEUES_READ} queues with the most pending work, the one available earliest
   * and not after now (a work order held back by {@code notBefore} or waiting for its retry time is
   * not waiting for a slot). The same sample the {@code workgate_oldest_pending_seconds} gauge
   * reads.
   */
  private Optional<WorkOrderView> oldestWaiting(JsonNode queues, Instant now) {
    List<Map.Entry<String, Long>> pending = new ArrayList<>();
    for (Map.Entry<String, JsonNode> q : queues.properties()) {
      long n = q.getValue().path(WorkOrderState.PENDING.name()).asLong();
      if (n > 0) {
        pending.add(Map.entry(q.getKey(), n));
      }
    }
    pending.sort(Map.Entry.<String, Long>comparingByValue().reversed());
    WorkOrderView oldest = null;
    for (Map.Entry<String, Long> q :
        pending.subList(0, Math.min(pending.size(), OLDEST_QUEUES_READ))) {
      WorkOrderQuery query =
          WorkOrderQuery.builder()
              .queue(q.getKey())
              .states(WorkOrderState.PENDING)
              .limit(StoreReadings.OLDEST_PENDING_SAMPLE)
              .build();
      for (WorkOrderView v : backend.store().query(query).items()) {
        if (!v.availableAt().isAfter(now)
            && (oldest == null || v.availableAt().isBefore(oldest.availableAt()))) {
          oldest = v;
        }
      }
    }
    return Optional.ofNullable(oldest);
  }

  /**
   * {@code GET /api/work-orders/{id}}: the view with every dependency, the work orders that wait
   * for it ({@code dependents}), the work orders resubmitted from it, the states of the first
   * {@value #RELATED_STATES_SHOWN} dependencies and dependents, whether it has a checkpoint, and,
   * when asked for with {@code include=payload,result,checkpoint} by a caller that gave the token,
   * its payload, result and checkpoint.
   */
  Response workOrder(String rawId, Map<String, List<String>> query, boolean withToken)
      throws BadParameter {
    known(query, Set.of("include"));
    WorkOrderId id = id(rawId);
    boolean payload = false;
    boolean result = false;
    boolean checkpoint = false;
    String include = once(query, "include");
    if (include != null) {
      for (String part : include.split(",", -1)) {
        switch (part.trim()) {
          case "payload" -> payload = true;
          case "result" -> result = true;
          case "checkpoint" -> checkpoint = true;
          default ->
              throw new BadParameter(
                  "include",
                  "include names 'payload', 'result' and/or 'checkpoint', got '"
                      + Routes.shorten(part)
                      + "'");
        }
      }
      if (!withToken) {
        return Response.error(
            403,
            "payloads, results and checkpoints are served only to a caller with the token; start"
                + " the endpoint with a token to read them");
      }
    }
    Optional<WorkOrderView> found = backend.store().find(id);
    if (found.isEmpty()) {
      return Routes.notFound(id);
    }
    WorkOrderView v = found.get();
    ObjectNode n = JsonViews.view(v, Integer.MAX_VALUE);
    List<WorkOrderId> dependents = backend.store().dependents(id);
    ArrayNode dependentIds = n.putArray("dependents");
    dependents.stream().limit(DEPENDENTS_SHOWN).forEach(d -> dependentIds.add(d.value()));
    n.put("dependentCount", dependents.size());
    ObjectNode states = n.putObject("relatedStates");
    for (List<WorkOrderId> related : List.of(v.dependencies(), dependents)) {
      for (WorkOrderId r : related.subList(0, Math.min(related.size(), RELATED_STATES_SHOWN))) {
        backend.store().find(r).ifPresent(rv -> states.put(r.value(), rv.state().name()));
      }
    }
    ArrayNode as = n.putArray("resubmittedAs");
    backend
        .store()
        .query(WorkOrderQuery.builder().resubmittedFrom(id).limit(RESUBMISSIONS_SHOWN).build())
        .items()
        .forEach(r -> as.add(r.id().value()));
    Optional<JsonNode> saved = v.checkpoint().filter(c -> !c.isNull());
    n.put("hasCheckpoint", saved.isPresent());
    if (payload) {
      n.set("payload", v.spec().payload());
    }
    if (result) {
      n.set("result", v.result().orElse(JsonViews.MAPPER.nullNode()));
    }
    if (checkpoint) {
      n.set("checkpoint", saved.orElse(JsonViews.MAPPER.nullNode()));
    }
    return Response.json(200, n);
  }

  /**
   * {@code GET /api/batches/{id}}: where a batch stands; 404 for a batch the store does not hold.
   */
  Response batchStatus(String rawId) throws BadParameter {
    BatchId id;
    try {
      id = BatchId.of(rawId);
    } catch (IllegalArgumentException e) {
      throw new BadParameter("id", "'" + Routes.shorten(rawId) + "' is not a batch id");
    }
    BatchStatus status;
    try {
      status = backend.client().batch(id);
    } catch (IllegalArgumentException e) {
      return Response.error(404, "no batch " + id.value());
    }
    return Response.json(200, JsonViews.batch(status));
  }

  /**
   * {@code GET /api/queues}: every queue the store holds work orders of or has paused, by name: its
   * depth (waiting work: pending, retrying, blocked), its counts by state, and whether it is
   * paused, since when, by whom and why.
   */
  Response queues(Map<String, List<String>> query) throws BadParameter {
    known(query, Set.of());
    QueueCounts counts = backend.store().counts();
    Map<String, QueueAction> paused = new java.util.TreeMap<>();
    for (QueueAction a : backend.client().pausedQueues()) {
      paused.put(a.queue(), a);
    }
    SortedSet<String> names = new TreeSet<>(counts.queues());
    names.addAll(paused.keySet());
    ObjectNode n = JsonViews.MAPPER.createObjectNode();
    ArrayNode out = n.putArray("queues");
    for (String queue : names) {
      ObjectNode o = out.addObject();
      o.put("queue", queue);
      o.put("depth", counts.depth(queue));
      o.put("total", counts.total(queue));
      ObjectNode byState = o.putObject("counts");
      for (WorkOrderState s : WorkOrderState.values()) {
        byState.put(s.name(), counts.count(queue, s));
      }
      QueueAction pause = paused.get(queue);
      o.put("paused", pause != null);
      if (pause != null) {
        pause(o, pause);
      }
    }
    return Response.json(200, n);
  }

  private static void pause(ObjectNode o, QueueAction pause) {
    JsonViews.time(o, "pausedAt", pause.at());
    o.put("pausedBy", pause.actor());
    o.put("reason", pause.reason());
  }

  /**
   * {@code GET /api/queues/{queue}/actions?limit=}: the queue's pauses and resumes, newest first.
   */
  Response queueActions(String queue, Map<String, List<String>> query) throws BadParameter {
    known(query, Set.of("limit"));
    queueName(queue);
    int limit = wholeNumber(query, "limit", 1, MAX_QUEUE_ACTIONS, DEFAULT_QUEUE_ACTIONS);
    ObjectNode n = JsonViews.MAPPER.createObjectNode();
    n.put("queue", queue);
    ArrayNode out = n.putArray("actions");
    backend.client().queueActions(queue, limit).forEach(a -> out.add(JsonViews.queueAction(a)));
    return Response.json(200, n);
  }

  // ---- changes ------------------------------------------------------------------------------

  /** {@code POST /api/work-orders}: one work order; 201 if new, 200 if its key was held. */
  Response submit(HttpRequest request) throws BadParameter {
    JsonNode body = body(request, MAX_SUBMIT_BYTES);
    if (body == null) {
      return tooLarge(MAX_SUBMIT_BYTES);
    }
    WorkOrderSpec spec = spec(body, "");
    Submission s;
    try {
      s = backend.client().submitTracked(spec);
    } catch (IllegalArgumentException e) {
      return dependencyRefused(e, List.of(spec), false).orElseGet(() -> refused(e, false));
    } catch (RuntimeException e) {
      return refused(e, false);
    }
    ObjectNode n = JsonViews.MAPPER.createObjectNode();
    n.put("id", s.id().value());
    n.put("created", s.created());
    return Response.json(s.created() ? 201 : 200, n);
  }

  /**
   * {@code POST /api/work-orders/batch}: all of them in one atomic append, or none; with {@code
   * "asBatch": true} as one batch ({@link WorkgateClient#submitBatch}), answered with its id.
   */
  Response batch(HttpRequest request) throws BadParameter {
    JsonNode body = body(request, WorkgateHttpServer.MAX_BODY_BYTES);
    if (body == null) {
      return tooLarge(WorkgateHttpServer.MAX_BODY_BYTES);
    }
    onlyFields(body, Set.of("items", "asBatch"));
    JsonNode items = body.get("items");
    if (items == null || !items.isArray() || items.isEmpty()) {
      throw new BadParameter("items", "items must be a non-empty array of work orders");
    }
    if (items.size() > MAX_BATCH) {
      throw new BadParameter(
          "items", "a batch holds at most " + MAX_BATCH + " work orders, got " + items.size());
    }
    JsonNode asBatch = body.get("asBatch");
    if (asBatch != null && !asBatch.isNull() && !asBatch.isBoolean()) {
      throw new BadParameter("asBatch", "asBatch must be true or false");
    }
    List<WorkOrderSpec> specs = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      specs.add(spec(items.get(i), "items[" + i + "]."));
    }
    ObjectNode n = JsonViews.MAPPER.createObjectNode();
    if (asBatch != null && asBatch.asBoolean()) {
      WorkgateClient.Batch done;
      try {
        done = backend.client().submitBatch(specs);
      } catch (IllegalArgumentException e) {
        return dependencyRefused(e, specs, true).orElseGet(() -> refused(e, false));
      } catch (RuntimeException e) {
        return refused(e, false);
      }
      n.put("batch", done.id().value());
      ArrayNode ids = n.putArray("ids");
      done.workOrders().forEach(id -> ids.add(id.value()));
      return Response.json(201, n);
    }
    List<Submission> done;
    try {
      done = backend.client().submitAllTracked(specs);
    } catch (IllegalArgumentException e) {
      return dependencyRefused(e, specs, true).orElseGet(() -> refused(e, false));
    } catch (RuntimeException e) {
      return refused(e, false);
    }
    ArrayNode ids = n.putArray("ids");
    ArrayNode created = n.putArray("created");
    for (Submission s : done) {
      ids.add(s.id().value());
      created.add(s.created());
    }
    return Response.json(201, n);
  }

  /**
   * {@code POST /api/queues/{queue}/pause} and {@code /resume}: body {@code {"actor": "…",
   * "reason": "…"}}, {@code actor} required; answers whether the queue is paused now and whether
   * this call changed it (a second pause, or a resume of a queue that is not paused, changes
   * nothing).
   */
  Response pauseOrResume(HttpRequest request, String queue, boolean pause) throws BadParameter {
    JsonNode body = body(request, WorkgateHttpServer.MAX_SMALL_BODY_BYTES);
    if (body == null) {
      return tooLarge(WorkgateHttpServer.MAX_SMALL_BODY_BYTES);
    }
    onlyFields(body, Set.of("actor", "reason"));
    queueName(queue);
    JsonNode a = body.get("actor");
    if (a == null || !a.isTextual() || a.asText().isBlank()) {
      throw new BadParameter("actor", "actor must be given as a non-blank string: who does this");
    }
    if (a.asText().length() > Text.MAX_NAME_LENGTH) {
      throw new BadParameter(
          "actor", "actor must be at most " + Text.MAX_NAME_LENGTH + " characters");
    }
    String reason = Routes.reason(body.get("reason"), "");
    boolean changed;
    try {
      changed =
          pause
              ? backend.client().pauseQueue(queue, a.asText(), reason)
              : backend.client().resumeQueue(queue, a.asText(), reason);
    } catch (IllegalArgumentException e) {
      String m = e.getMessage() == null ? "" : e.getMessage();
      String field = m.startsWith("actor") ? "actor" : m.startsWith("reason") ? "reason" : "queue";
      throw new BadParameter(field, Routes.shorten(m, 300));
    }
    ObjectNode n = JsonViews.MAPPER.createObjectNode();
    n.put("queue", queue);
    n.put("paused", pause);
    n.put("changed", changed);
    return Response.json(200, n);
  }

  /** Checks a queue's name from a path, as the store's name rule does. */
  private static void queueName(String queue) throws BadParameter {
    try {
      Text.requireName(queue, "queue");
    } catch (IllegalArgumentException e) {
      throw new BadParameter("queue", Routes.shorten(e.getMessage(), 300));
    }
  }

  /**
   * {@code POST /api/work-orders/{id}/resubmit}: at most once per work order ({@link
   * WorkgateClient#resubmitOnce}); a repeat answers 200 with the first resubmission.
   */
  Response resubmit(String rawId) throws BadParameter {
    WorkOrderId id = id(rawId);
    Optional<WorkOrderView> old = backend.store().find(id);
    if (old.isEmpty()) {
      return Routes.notFound(id);
    }
    if (!RESUBMITTABLE.contains(old.get().state())) {
      return Response.error(
          409,
          "only a FAILED or CANCELLED work order can be resubmitted; "
              + id.value()
              + " is "
              + old.get().state());
    }
    Submission s;
    try {
      s = backend.client().resubmitOnce(id);
    } catch (RuntimeException e) {
      return refused(e, true);
    }
    ObjectNode n = JsonViews.MAPPER.createObjectNode();
    n.put("id", s.id().value());
    n.put("resubmittedFrom", id.value());
    n.put("created", s.created());
    return Response.json(s.created() ? 201 : 200, n);
  }

  /**
   * {@code POST /api/work-orders/bulk/resubmit}: every FAILED (or CANCELLED) match that nothing was
   * resubmitted from yet, once each, oldest first; one that another caller resubmits meanwhile is
   * refused, naming its resubmission.
   */
  Response bulkResubmit(HttpRequest request) throws BadParameter {
    JsonNode body = body(request, MAX_BULK_BYTES);
    if (body == null) {
      return tooLarge(MAX_BULK_BYTES);
    }
    onlyFields(body, Set.of("filter", "limit"));
    WorkOrderFilter filter = WorkOrderFilter.fromJson(body.get("filter"));
    if (filter.states().isEmpty()) {
      filter = filter.withStates(EnumSet.of(WorkOrderState.FAILED));
    } else if (!RESUBMITTABLE.containsAll(filter.states())) {
      throw new BadParameter("state", "bulk resubmit takes FAILED and CANCELLED work orders only");
    }
    // Those handled already are left out of the walk, so a second call goes on to the next ones
    // instead of meeting the same thousand again.
    filter = filter.notYetResubmitted();
    int limit = limit(body);
    Matches matches = matches(filter, limit);
    ArrayNode created = JsonViews.MAPPER.createArrayNode();
    ArrayNode refused = JsonViews.MAPPER.createArrayNode();
    for (WorkOrderId id : matches.ids) {
      try {
        Submission s = backend.client().resubmitOnce(id);
        if (s.created()) {
          ObjectNode o = created.addObject();
          o.put("from", id.value());
          o.put("id", s.id().value());
        } else {
          refusal(refused, id, "already resubmitted as " + s.id().value());
        }
      } catch (QueueFullException | IllegalArgumentException | IllegalStateException e) {
        refusal(refused, id, Routes.shorten(e.getMessage(), 300));
      }
    }
    ObjectNode n = JsonViews.MAPPER.createObjectNode();
    n.put("matched", matches.ids.size());
    n.put("changed", created.size());
    n.set("created", created);
    n.set("refused", refused);
    n.put("more", matches.more);
    return Response.json(200, n);
  }

  /** {@code POST /api/work-orders/bulk/cancel}: every match that has not ended. */
  Response bulkCancel(HttpRequest request) throws BadParameter {
    JsonNode body = body(request, MAX_BULK_BYTES);
    if (body == null) {
      return tooLarge(MAX_BULK_BYTES);
    }
    onlyFields(body, Set.of("filter", "limit", "reason"));
    WorkOrderFilter filter = WorkOrderFilter.fromJson(body.get("filter"));
    if (filter.states().isEmpty()) {
      filter = filter.withStates(CANCELLABLE);
    } else if (!CANCELLABLE.containsAll(filter.states())) {
      throw new BadParameter(
          "state",
          "bulk cancel takes BLOCKED, PENDING, WAITING_RETRY, PREPARING and RUNNING work orders"
              + " only");
    }
    String reason = Routes.reason(body.get("reason"), "cancelled over HTTP (bulk)");
    int limit = limit(body);
    Matches matches = matches(filter, limit);
    ArrayNode cancelled = JsonViews.MAPPER.createArrayNode();
    ArrayNode refused = JsonViews.MAPPER.createArrayNode();
    for (WorkOrderId id : matches.ids) {
      try {
        if (backend.cancel(id, reason).cancelled()) {
          cancelled.add(id.value());
        } else {
          refusal(refused, id, "it had already ended");
        }
      } catch (IllegalArgumentException e) {
        refusal(refused, id, "it no longer exists");
      } catch (IllegalStateException e) {
        refusal(refused, id, "it kept changing; try again");
      }
    }
    ObjectNode n = JsonViews.MAPPER.createObjectNode();
    n.put("matched", matches.ids.size());
    n.put("changed", cancelled.size());
    n.set("cancelled", cancelled);
    n.set("refused", refused);
    n.put("more", matches.more);
    return Response.json(200, n);
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** Up to {@code limit} matching ids, oldest first, and whether more matched. */
  private record Matches(List<WorkOrderId> ids, boolean more) {}

  private Matches matches(WorkOrderFilter filter, int limit) throws BadParameter {
    List<WorkOrderId> ids = new ArrayList<>();
    long cursor = 0;
    while (true) {
      WorkOrderQuery.Builder q =
          filter.query().order(WorkOrderQuery.Order.OLDEST_FIRST).limit(MAX_PAGE);
      if (cursor > 0) {
        q.after(cursor);
      }
      Page<WorkOrderView> page = backend.store().query(q.build());
      for (WorkOrderView v : page.items()) {
        if (ids.size() == limit) {
          return new Matches(ids, true);
        }
        ids.add(v.id());
      }
      if (page.nextCursor().isEmpty()) {
        return new Matches(ids, false);
      }
      cursor = page.nextCursor().getAsLong();
    }
  }

  private static void refusal(ArrayNode refused, WorkOrderId id, String reason) {
    ObjectNode o = refused.addObject();
    o.put("id", id.value());
    o.put("reason", reason);
  }

  private static int limit(JsonNode body) throws BadParameter {
    JsonNode l = body.get("limit");
    if (l == null || l.isNull()) {
      return MAX_BULK;
    }
    if (!l.canConvertToInt() || !l.isIntegralNumber() || l.asInt() < 1 || l.asInt() > MAX_BULK) {
      throw new BadParameter("limit", "limit must be a whole number within 1.." + MAX_BULK);
    }
    return l.asInt();
  }

  /**
   * A submit's or resubmit's refusal by the client, as the HTTP status that says it: a full queue
   * 429, work no node could run 422, a resubmitted work order deleted meanwhile 404, a state that
   * changed meanwhile (or a key that kept changing hands) 409.
   */
  private static Response refused(RuntimeException e, boolean resubmit) {
    if (e instanceof QueueFullException) {
      return Response.json(429, JsonViews.error(Routes.shorten(e.getMessage(), 300)));
    }
    if (e instanceof WorkDoesNotFitException) {
      return Response.error(422, Routes.shorten(e.getMessage(), 300));
    }
    if (e instanceof IllegalArgumentException) {
      return resubmit
          ? Response.error(404, Routes.shorten(e.getMessage(), 300))
          : Response.badParameter("body", Routes.shorten(e.getMessage(), 300));
    }
    if (e instanceof IllegalStateException) {
      return Response.error(409, Routes.shorten(e.getMessage(), 300));
    }
    throw e;
  }

  /**
   * A submit refused because a dependency it names does not exist: 422, naming the field (of the
   * item, in a batch) that names it. Empty for any other refusal.
   *
   * @param specs the specs submitted, in the order of the body's items
   * @param items whether the body was a batch's {@code items}
   */
  private static Optional<Response> dependencyRefused(
      IllegalArgumentException e, List<WorkOrderSpec> specs, boolean items) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    String field;
    if (m.startsWith("after: ")) {
      field = "after";
    } else if (m.startsWith("afterBatch: ") || m.startsWith("a work order may wait for at most")) {
      field = "afterBatches";
    } else {
      return Optional.empty();
    }
    int item = -1;
    for (int i = 0; i < specs.size() && item < 0; i++) {
      WorkOrderSpec spec = specs.get(i);
      if (field.equals("after")) {
        for (WorkOrderId d : spec.after()) {
          if (m.startsWith("after: work order " + d.value() + " ")) {
            item = i;
          }
        }
      } else {
        for (BatchId b : spec.afterBatches()) {
          if (m.startsWith("afterBatch: batch " + b.value() + " ")) {
            item = i;
          }
        }
        if (item < 0 && m.startsWith("a work order may wait") && !spec.afterBatches().isEmpty()) {
          item = i;
        }
      }
    }
    ObjectNode n = JsonViews.error(Routes.shorten(m, 300));
    n.put("parameter", items ? "items[" + Math.max(item, 0) + "]." + field : field);
    return Optional.of(Response.json(422, n));
  }

  private static Response tooLarge(int limit) {
    return Response.error(413, "request body larger than " + limit + " bytes");
  }

  private static WorkOrderId id(String raw) throws BadParameter {
    return Routes.parseId(raw)
        .orElseThrow(
            () -> new BadParameter("id", "'" + Routes.shorten(raw) + "' is not a work-order id"));
  }

  private static void known(Map<String, List<String>> query, Set<String> names)
      throws BadParameter {
    for (String name : query.keySet()) {
      if (!names.contains(name)) {
        throw new BadParameter(
            name,
            "unknown parameter '"
                + Routes.shorten(name)
                + "'; known: "
                + String.join(", ", new TreeSet<>(names)));
      }
    }
  }

  /** A parameter that may be given at most once, or null. */
  private static String once(Map<String, List<String>> query, String name) throws BadParameter {
    List<String> values = query.get(name);
    if (values != null && values.size() > 1) {
      throw new BadParameter(name, "parameter '" + name + "' given twice");
    }
    return values == null ? null : values.get(0);
  }

  private static int wholeNumber(
      Map<String, List<String>> query, String name, int min, int max, int dflt)
      throws BadParameter {
    String value = once(query, name);
    if (value == null) {
      return dflt;
    }
    int n;
    try {
      n = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new BadParameter(name, name + " must be a whole number");
    }
    if (n < min || n > max) {
      throw new BadParameter(name, name + " must be within " + min + ".." + max + ", got " + n);
    }
    return n;
  }

  /**
   * The body as one JSON object, or null if it was over {@code limit} bytes.
   *
   * @throws BadParameter if it is missing or not one JSON object
   */
  private static JsonNode body(HttpRequest request, int limit) throws BadParameter {
    byte[] bytes = request.body();
    if (bytes == null || bytes.length > limit) {
      return null;
    }
    if (bytes.length == 0) {
      throw new BadParameter("body", "the body must be a JSON object");
    }
    JsonNode json;
    try {
      json = Routes.STRICT_BODY.readTree(bytes);
    } catch (MismatchedInputException e) {
      throw new BadParameter("body", "the body must be one JSON object that names each field once");
    } catch (IOException e) {
      throw new BadParameter("body", "the body is not JSON");
    }
    if (json == null || !json.isObject()) {
      throw new BadParameter("body", "the body must be a JSON object");
    }
    return json;
  }

  private static void onlyFields(JsonNode json, Set<String> fields) throws BadParameter {
    for (var it = json.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!fields.contains(field)) {
        throw new BadParameter(
            field,
            "unknown field '"
                + Routes.shorten(field)
                + "'; known: "
                + String.join(", ", new TreeSet<>(fields)));
      }
    }
  }

  /**
   * A spec from a submit's JSON: {@code type} (required), {@code queue}, {@code payload}, {@code
   * priority}, {@code idempotencyKey}, {@code labels}, {@code maxAttempts}, {@code timeoutSeconds},
   * {@code notBefore}, {@code resources}, {@code after} (work-order ids), {@code afterBatches}
   * (batch ids), {@code onDependencyFailure} ({@code CANCEL} or {@code RUN}).
   *
   * @param prefix the field's path in the body, for messages ({@code items[3].})
   */
  static WorkOrderSpec spec(JsonNode json, String prefix) throws BadParameter {
    if (json == null || !json.isObject()) {
      throw new BadParameter(
          prefix.isEmpty() ? "body" : prefix.substring(0, prefix.length() - 1),
          "a work order must be a JSON object");
    }
    for (var it = json.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!SUBMIT_FIELDS.contains(field)) {
        throw new BadParameter(
            prefix + field,
            "unknown field '"
                + Routes.shorten(field)
                + "'; known: "
                + String.join(", ", new TreeSet<>(SUBMIT_FIELDS)));
      }
    }
    JsonNode type = json.get("type");
    if (type == null || !type.isTextual()) {
      throw new BadParameter(prefix + "type", "type must be given as a string");
    }
    WorkOrderSpec.Builder b = WorkOrderSpec.builder(type.asText());
    String queue = string(json, prefix, "queue");
    if (queue != null) {
      b.queue(queue);
    }
    if (json.has("payload")) {
      b.payload(json.get("payload"));
    }
    Integer priority = integer(json, prefix, "priority");
    if (priority != null) {
      b.priority(priority);
    }
    String key = string(json, prefix, "idempotencyKey");
    if (key != null) {
      b.idempotencyKey(key);
    }
    Integer maxAttempts = integer(json, prefix, "maxAttempts");
    if (maxAttempts != null) {
      b.maxAttempts(maxAttempts);
    }
    JsonNode timeout = json.get("timeoutSeconds");
    if (timeout != null && !timeout.isNull()) {
      // A number too large for a double (1e400) reads as infinity: refused with the rest.
      double seconds = timeout.isNumber() ? timeout.doubleValue() : Double.NaN;
      if (!(seconds > 0 && seconds <= MAX_TIMEOUT_SECONDS)) {
        throw new BadParameter(
            prefix + "timeoutSeconds",
            "timeoutSeconds must be a positive number of seconds, at most a year");
      }
      b.timeout(Duration.ofNanos(Math.max(1, Math.round(seconds * 1e9))));
    }
    Instant notBefore = Routes.instant(prefix + "notBefore", string(json, prefix, "notBefore"));
    if (notBefore != null) {
      b.notBefore(notBefore);
    }
    JsonNode labels = json.get("labels");
    if (labels != null && !labels.isNull()) {
      if (!labels.isObject()) {
        throw new BadParameter(prefix + "labels", "labels must be an object of key to string");
      }
      for (Map.Entry<String, JsonNode> e : labels.properties()) {
        if (!e.getValue().isTextual()) {
          throw new BadParameter(
              prefix + "labels",
              "label '" + Routes.shorten(e.getKey()) + "' must have a string value");
        }
        b.label(e.getKey(), e.getValue().asText());
      }
    }
    JsonNode after = json.get("after");
    if (after != null && !after.isNull()) {
      List<String> ids = strings(after, prefix + "after", WorkOrderSpec.MAX_DEPENDENCIES, "ids");
      WorkOrderId[] parsed = new WorkOrderId[ids.size()];
      for (int i = 0; i < ids.size(); i++) {
        int at = i;
        parsed[i] =
            Routes.parseId(ids.get(i))
                .orElseThrow(
                    () ->
                        new BadParameter(
                            prefix + "after",
                            "after["
                                + at
                                + "]: '"
                                + Routes.shorten(ids.get(at))
                                + "' is not a work-order id"));
      }
      b.after(parsed);
    }
    JsonNode afterBatches = json.get("afterBatches");
    if (afterBatches != null && !afterBatches.isNull()) {
      List<String> ids =
          strings(
              afterBatches,
              prefix + "afterBatches",
              WorkOrderSpec.MAX_BATCH_DEPENDENCIES,
              "batch ids");
      for (int i = 0; i < ids.size(); i++) {
        try {
          b.afterBatch(BatchId.of(ids.get(i)));
        } catch (IllegalArgumentException e) {
          throw new BadParameter(
              prefix + "afterBatches",
              "afterBatches[" + i + "]: '" + Routes.shorten(ids.get(i)) + "' is not a batch id");
        }
      }
    }
    String policy = string(json, prefix, "onDependencyFailure");
    if (policy != null) {
      try {
        b.onDependencyFailure(DependencyFailure.valueOf(policy));
      } catch (IllegalArgumentException e) {
        throw new BadParameter(
            prefix + "onDependencyFailure", "onDependencyFailure must be 'CANCEL' or 'RUN'");
      }
    }
    JsonNode resources = json.get("resources");
    if (resources != null && !resources.isNull()) {
      Integer slots =
          resources.isObject() ? integer(resources, prefix + "resources.", "slots") : null;
      JsonNode memory = resources.isObject() ? resources.get("memoryMb") : null;
      if (slots == null
          || resources.size() > 2
          || (memory != null && !(memory.isIntegralNumber() && memory.canConvertToLong()))) {
        throw new BadParameter(
            prefix + "resources",
            "resources must be {\"slots\": n, \"memoryMb\": m} with whole numbers");
      }
      try {
        b.resources(ResourceRequest.of(slots, memory == null ? 0 : memory.asLong()));
      } catch (IllegalArgumentException e) {
        throw new BadParameter(prefix + "resources", Routes.shorten(e.getMessage(), 300));
      }
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new BadParameter(prefix + field(e.getMessage()), Routes.shorten(e.getMessage(), 300));
    }
  }

  /** The spec field a builder's message is about: messages begin with the field's name. */
  private static String field(String message) {
    String m = message == null ? "" : message;
    for (String f :
        List.of(
            "type", "queue", "payload", "maxAttempts", "timeout", "idempotencyKey", "priority")) {
      if (m.startsWith(f)) {
        return f.equals("timeout") ? "timeoutSeconds" : f;
      }
    }
    return m.startsWith("label") || m.contains("labels") ? "labels" : "body";
  }

  /**
   * An array of at most {@code max} strings; the field is named in full ({@code items[2].after}).
   */
  private static List<String> strings(JsonNode v, String field, int max, String what)
      throws BadParameter {
    String name = field.substring(field.lastIndexOf('.') + 1);
    if (!v.isArray()) {
      throw new BadParameter(field, name + " must be an array of " + what);
    }
    if (v.size() > max) {
      throw new BadParameter(
          field, name + " holds at most " + max + " " + what + ", got " + v.size());
    }
    List<String> out = new ArrayList<>(v.size());
    for (JsonNode e : v) {
      if (!e.isTextual()) {
        throw new BadParameter(field, name + " must be an array of " + what);
      }
      out.add(e.asText());
    }
    return out;
  }

  private static String string(JsonNode json, String prefix, String field) throws BadParameter {
    JsonNode v = json.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw new BadParameter(prefix + field, field + " must be a string");
    }
    return v.asText();
  }

  private static Integer integer(JsonNode json, String prefix, String field) throws BadParameter {
    JsonNode v = json.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw new BadParameter(prefix + field, field + " must be a whole number");
    }
    return v.asInt();
  }
}
