package dev.workgate.observability;

import java.util.List;

/**
 * Every meter {@link WorkgateMetrics} registers: its name, type, base unit, tag keys, description
 * and source, in one place. {@code docs/metrics.md} lists the same table, and a test keeps the two
 * equal.
 *
 * <p>Names are dot.case, noun then measurement, as Micrometer wants them; each registry renders
 * them in its own convention ({@link #prometheusName()} is the Prometheus rendering). Durations are
 * in seconds. Tags are few and bounded: user-chosen values ({@code queue}, {@code error.code}) are
 * capped per {@link WorkgateMetrics} instance, the rest are fixed sets (see {@link Tags}).
 *
 * <p>Counters and timers count what <em>this node</em> stores (its submissions, claims, executions
 * and the cancellations and retry releases it appends); gauges marked "store" read the whole store,
 * so in a cluster every node reports the same values for them.
 *
 * <p>{@link #source()} says what a meter needs: {@link Source#NODE} meters read a running node (its
 * events or its memory), {@link Source#STORE} meters read the store alone. A binding over a store
 * without a node ({@link WorkgateMetrics#ofStore}) registers exactly the {@link Source#STORE} ones.
 *
 * <p>Immutable and thread-safe.
 */
public enum WorkgateMeter {
  /** Work orders submitted through this node, by queue. */
  WORK_ORDERS_SUBMITTED(
      "workgate.work.orders.submitted",
      Type.COUNTER,
      null,
      List.of(Tags.QUEUE),
      "Work orders submitted through this node",
      Source.NODE),

  /**
   * State changes this node stored, by the state before ({@code NEW} for a submission) and after.
   * Events that change no state ({@code CancellationRequested}) are not counted.
   */
  WORK_ORDERS_TRANSITIONS(
      "workgate.work.orders.transitions",
      Type.COUNTER,
      null,
      List.of(Tags.FROM, Tags.TO),
      "State changes this node stored; from is NEW for a submission",
      Source.NODE),

  /** Work orders this node completed, by queue. */
  WORK_ORDERS_COMPLETED(
      "workgate.work.orders.completed",
      Type.COUNTER,
      null,
      List.of(Tags.QUEUE),
      "Work orders completed on this node",
      Source.NODE),

  /** Work orders that failed for good on this node, by queue and the last attempt's error code. */
  WORK_ORDERS_FAILED(
      "workgate.work.orders.failed",
      Type.COUNTER,
      null,
      List.of(Tags.QUEUE, Tags.ERROR_CODE),
      "Work orders that failed for good on this node, by the final attempt's error code",
      Source.NODE),

  /**
   * Every failed attempt this node recorded, by queue, error code and outcome: {@code retry} when
   * another attempt is scheduled, {@code final} when the work order failed for good.
   */
  ATTEMPTS_FAILED(
      "workgate.attempts.failed",
      Type.COUNTER,
      null,
      List.of(Tags.QUEUE, Tags.ERROR_CODE, Tags.OUTCOME),
      "Failed attempts recorded on this node; outcome retry or final",
      Source.NODE),

  /** Work orders this node released from WAITING_RETRY back to PENDING, by queue. */
  RETRIES_RELEASED(
      "workgate.retries.released",
      Type.COUNTER,
      null,
      List.of(Tags.QUEUE),
      "Retries released to PENDING by this node",
      Source.NODE),

  /**
   * Attempts this node gave back without charging them ({@code Released}): its own work stopped by
   * a shutdown past the grace or by self-fencing, and leases of dead nodes it reaped; by queue and
   * the release's code.
   */
  ATTEMPTS_RELEASED(
      "workgate.attempts.released",
      Type.COUNTER,
      null,
      List.of(Tags.QUEUE, Tags.ERROR_CODE),
      "Attempts released back to PENDING by this node without being charged, by release code",
      Source.NODE),

  /**
   * Pending work orders that no live node could ever run (more slots or memory than any node
   * offers), as this node's last heartbeat found them among the oldest of each queue it serves.
   */
  WORK_ORDERS_UNRUNNABLE(
      "workgate.work.orders.unrunnable",
      Type.GAUGE,
      null,
      List.of(),
      "Pending work orders no live node could ever run, found by this node's last heartbeat",
      Source.NODE),

  /** Work orders cancelled by this node (waiting ones, and executions it owned), by queue. */
  WORK_ORDERS_CANCELLED(
      "workgate.work.orders.cancelled",
      Type.COUNTER,
      null,
      List.of(Tags.QUEUE),
      "Work orders cancelled on this node",
      Source.NODE),

  /**
   * Expired leases this node's scheduler reaped: attempts presumed dead because their owner stopped
   * renewing them (a crashed or partitioned node).
   */
  SCHEDULER_LEASES_REAPED(
      "workgate.scheduler.leases.reaped",
      Type.COUNTER,
      null,
      List.of(),
      "Expired leases reaped by this node's scheduler",
      Source.NODE),

  /**
   * Steps of this node's scheduler turns that threw (a claim from one queue, reaping, renewing,
   * releasing retries, a next-turn query); the turn went on with the next step.
   */
  SCHEDULER_TURN_STEP_FAILURES(
      "workgate.scheduler.turn.step.failures",
      Type.COUNTER,
      null,
      List.of(),
      "Steps of this node's scheduler turns that failed; the turn went on",
      Source.NODE),

  /**
   * Writes of this node to the store (appends, claims, lease renewals, retention deletes) that
   * failed because the store failed, by {@link Tags#CAUSE cause}. Refusals (a version conflict, a
   * rejected transition) are not counted: the store answered them.
   */
  STORE_WRITE_FAILURES(
      "workgate.store.write.failures",
      Type.COUNTER,
      null,
      List.of(Tags.CAUSE),
      "Store writes of this node that failed, by cause",
      Source.NODE),

  /** Store: work orders by queue and state, in the whole store. */
  WORK_ORDERS(
      "workgate.work.orders",
      Type.GAUGE,
      null,
      List.of(Tags.QUEUE, Tags.STATE),
      "Work orders in the store by queue and state",
      Source.STORE),

  /**
   * Store: how long the oldest-submitted claimable PENDING work orders of a queue have waited, the
   * longest among the first few (see {@link WorkgateMetrics}); 0 when none waits.
   */
  WORK_ORDERS_OLDEST_PENDING_AGE(
      "workgate.work.orders.oldest.pending.age",
      Type.GAUGE,
      "seconds",
      List.of(Tags.QUEUE),
      "Longest claimable wait among the oldest-submitted PENDING work orders of a queue",
      Source.STORE),

  /** Store: work orders in WAITING_RETRY, over all queues. */
  RETRIES_PENDING(
      "workgate.retries.pending",
      Type.GAUGE,
      null,
      List.of(),
      "Work orders waiting for a retry, in the store",
      Source.STORE),

  /** Seconds since the store-backed gauges were last read from the store successfully. */
  STORE_READINGS_AGE(
      "workgate.store.readings.age",
      Type.GAUGE,
      "seconds",
      List.of(),
      "Age of the values the store-backed gauges report",
      Source.STORE),

  /**
   * Unreadable rows (events that do not decode, projection rows that make no view) the store
   * instance of this process met and quarantined, each once: see {@code docs/storage.md}.
   */
  STORE_ROWS_QUARANTINED(
      "workgate.store.rows.quarantined",
      Type.COUNTER,
      null,
      List.of(),
      "Unreadable store rows this process quarantined, each counted once",
      Source.STORE),

  /** Slots held by this node's executions. */
  SLOTS_ACTIVE(
      "workgate.slots.active",
      Type.GAUGE,
      null,
      List.of(),
      "Slots in use on this node",
      Source.NODE),

  /** This node's slot limit. */
  SLOTS_MAX("workgate.slots.max", Type.GAUGE, null, List.of(), "Slots this node has", Source.NODE),

  /** This node's memory pressure: 0 NONE, 1 WARNING (half the slots), 2 CRITICAL (no claims). */
  MEMORY_PRESSURE(
      "workgate.memory.pressure",
      Type.GAUGE,
      null,
      List.of(),
      "Memory pressure level: 0 none, 1 warning, 2 critical",
      Source.NODE),

  /**
   * Seconds since this node's scheduler loop last began a turn; 0 before the first turn. A loop
   * that runs begins one at least every poll interval.
   */
  SCHEDULER_HEARTBEAT_AGE(
      "workgate.scheduler.heartbeat.age",
      Type.GAUGE,
      "seconds",
      List.of(),
      "Time since the scheduler loop last began a turn",
      Source.NODE),

  /** This node's executions by status: PREPARING, RUNNING, CLEANUP. */
  EXECUTIONS_ACTIVE(
      "workgate.executions.active",
      Type.GAUGE,
      null,
      List.of(Tags.STATUS),
      "Executions on this node by status",
      Source.NODE),

  /** Seconds since the longest-preparing execution on this node was claimed; 0 when none is. */
  EXECUTIONS_PREPARING_OLDEST_AGE(
      "workgate.executions.preparing.oldest.age",
      Type.GAUGE,
      "seconds",
      List.of(),
      "Time since the oldest execution still preparing was claimed",
      Source.NODE),

  /**
   * Writes of this node to the store that failed since the last one that succeeded; 0 once a write
   * succeeds. Health turns the store critical from its failed-writes threshold (3 by default).
   */
  STORE_WRITE_FAILURES_CONSECUTIVE(
      "workgate.store.write.failures.consecutive",
      Type.GAUGE,
      null,
      List.of(),
      "Store writes of this node that failed since the last one that succeeded",
      Source.NODE),

  /** From becoming claimable to being claimed by this node, by queue. */
  WORK_ORDERS_WAIT(
      "workgate.work.orders.wait",
      Type.TIMER,
      "seconds",
      List.of(Tags.QUEUE),
      "Time from claimable to claimed",
      Source.NODE),

  /**
   * From {@code Started} to the attempt's outcome on this node, by queue and outcome ({@code
   * completed}, {@code retry}, {@code failed}, {@code cancelled}).
   */
  WORK_ORDERS_EXECUTION(
      "workgate.work.orders.execution",
      Type.TIMER,
      "seconds",
      List.of(Tags.QUEUE, Tags.OUTCOME),
      "Time from start to the attempt's outcome",
      Source.NODE),

  /**
   * From submission to the terminal state, for work orders that ended on this node, by queue and
   * outcome ({@code completed}, {@code failed}, {@code cancelled}).
   */
  WORK_ORDERS_END_TO_END(
      "workgate.work.orders.end.to.end",
      Type.TIMER,
      "seconds",
      List.of(Tags.QUEUE, Tags.OUTCOME),
      "Time from submission to the terminal state",
      Source.NODE);

  /** The kinds of meter, as a monitoring system sees them. */
  public enum Type {
    /** A monotonic count (a Micrometer {@code Counter} or {@code FunctionCounter}). */
    COUNTER,
    /** A value that goes up and down, read when the registry is scraped. */
    GAUGE,
    /** A Micrometer {@code Timer} with a percentile histogram (Prometheus: a histogram). */
    TIMER
  }

  /** What a meter reads, and so which bindings register it. */
  public enum Source {
    /**
     * A running node: its transition listener (counters, timers) or its memory (slots, pressure,
     * executions, the scheduler loop). Registered by a binding over a node only.
     */
    NODE,
    /**
     * The store alone, through the cached store readings. Registered by every binding, including
     * one over a store without a node.
     */
    STORE
  }

  /** Tag keys, and the fixed values some tags take. Constants only. */
  public static final class Tags {
    /** The queue; capped, see {@link WorkgateMetrics.Builder#maxQueueTags(int)}. */
    public static final String QUEUE = "queue";

    /** A {@link dev.workgate.core.WorkOrderState} name. */
    public static final String STATE = "state";

    /** The state before a transition: a state name, or {@link #NEW}. */
    public static final String FROM = "from";

    /** The state after a transition. */
    public static final String TO = "to";

    /** How an attempt or a work order ended; see the values below. */
    public static final String OUTCOME = "outcome";

    /** An error code; capped, see {@link WorkgateMetrics.Builder#maxErrorCodeTags(int)}. */
    public static final String ERROR_CODE = "error.code";

    /** An execution's status: {@code PREPARING}, {@code RUNNING} or {@code CLEANUP}. */
    public static final String STATUS = "status";

    /**
     * Why a store write failed: {@code disk_full}, {@code read_only}, {@code unreachable} or {@code
     * other} (the tag values of {@link dev.workgate.WriteFailureCause}).
     */
    public static final String CAUSE = "cause";

    /** The {@code from} of a submission, which has no state before it. */
    public static final String NEW = "NEW";

    /** The value every capped tag falls back to once its cap of distinct values is reached. */
    public static final String OTHER = "other";

    /** Outcome: completed. */
    public static final String COMPLETED = "completed";

    /** Outcome: failed for good. */
    public static final String FAILED = "failed";

    /** Outcome: cancelled. */
    public static final String CANCELLED = "cancelled";

    /** Outcome of a failed attempt (and of its execution) after which another attempt follows. */
    public static final String RETRY = "retry";

    /** Outcome of a failed attempt after which the work order failed for good. */
    public static final String FINAL = "final";

    private Tags() {}
  }

  private final String meterName;
  private final Type type;
  private final String baseUnit;
  private final List<String> tagKeys;
  private final String description;
  private final Source source;

  WorkgateMeter(
      String meterName,
      Type type,
      String baseUnit,
      List<String> tagKeys,
      String description,
      Source source) {
    this.meterName = meterName;
    this.type = type;
    this.baseUnit = baseUnit;
    this.tagKeys = tagKeys;
    this.description = description;
    this.source = source;
  }

  /**
   * The Micrometer name.
   *
   * @return e.g. {@code workgate.work.orders.submitted}
   */
  public String meterName() {
    return meterName;
  }

  /**
   * The kind of meter.
   *
   * @return the type
   */
  public Type type() {
    return type;
  }

  /**
   * The base unit given to Micrometer.
   *
   * @return {@code seconds}, or null for a plain count
   */
  public String baseUnit() {
    return baseUnit;
  }

  /**
   * The tag keys every series of this meter carries.
   *
   * @return an immutable list, empty for a meter without tags
   */
  public List<String> tagKeys() {
    return tagKeys;
  }

  /**
   * The description registered with the meter.
   *
   * @return one line for a person
   */
  public String description() {
    return description;
  }

  /**
   * What the meter reads: a running node, or the store alone.
   *
   * @return {@link Source#STORE} for the meters a binding over a store without a node registers
   */
  public Source source() {
    return source;
  }

  /**
   * The name of the metric family in a Prometheus scrape: dots become underscores, the base unit is
   * appended, and counters end in {@code _total}. A timer's family has the series {@code _bucket},
   * {@code _count} and {@code _sum}, and a gauge {@code <name>_max} beside it.
   *
   * @return e.g. {@code workgate_work_orders_submitted_total}
   */
  public String prometheusName() {
    String name = meterName.replace('.', '_');
    if (baseUnit != null) {
      name += "_" + baseUnit;
    }
    return type == Type.COUNTER ? name + "_total" : name;
  }

  /**
   * The Prometheus label for a tag key: dots become underscores.
   *
   * @param tagKey a key from {@link Tags}
   * @return e.g. {@code error_code}
   */
  public static String prometheusLabel(String tagKey) {
    return tagKey.replace('.', '_');
  }
}
